// kimg pin FILE…|DIR|-: every container image in Kubernetes manifests rewritten to
// `name:tag@sha256:…`, the seed's "use the image digest" advice made one step. Thin: the
// library's pinManifests resolves and plans; this reads the inputs, prints or writes the result.
//
// - Default: the pinned manifests on standard output, in input order (files joined by `---`),
//   and a line per changed, moved or failed container on standard error.
// - `-w`: each file replaced atomically (same directory, same mode), only once every image was
//   resolved, so a failure never leaves a file half-written.
// - `--diff`: a unified diff per changed file. `--check`: writes nothing; exit 1 when an image
//   is not pinned or its pin no longer matches its tag (for CI).
// - A failed resolution prints `file:line: …` and exits with the error's code (3 not found,
//   4 unauthorized, 5 network); the other images are still pinned, unless --fail-fast.

import { readdir, readFile, stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import {
  errnoText,
  findImageSites,
  joinManifestTexts,
  KimgError,
  loadManifests,
  type ManifestFile,
  type PinnedSite,
  type PinResult,
  parseNormalizedNamed,
  pinManifests,
  writeFileAtomic,
} from "../../index.ts";
import { positiveInteger } from "../flags.ts";
import { type CliIO, EXIT, exitCodeFor } from "../io.ts";
import { safe, toJson } from "../render/safe.ts";
import { credentialsOf, type RegistryFlags, registryOptionsOf } from "./pull.ts";

export interface PinFlags extends RegistryFlags {
  readonly json: boolean;
  readonly write: boolean;
  readonly diff: boolean;
  readonly check: boolean;
  readonly update: boolean;
  readonly failFast: boolean;
  readonly jobs?: string | undefined;
}

const STDIN = "<stdin>";
const MANIFEST_FILE = /\.(ya?ml|json)$/i;

/** The files of the inputs: a directory gives its .yaml/.yml/.json files, recursively, sorted. */
async function expand(inputs: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const input of inputs) {
    if (input === "-") {
      out.push(input);
      continue;
    }
    let st: Awaited<ReturnType<typeof stat>>;
    try {
      st = await stat(input);
    } catch (e) {
      throw new KimgError("INPUT_UNREADABLE", `${input}: cannot read: ${errnoText(e)}`);
    }
    if (!st.isDirectory()) {
      out.push(input);
      continue;
    }
    const entries = await readdir(input, { recursive: true, withFileTypes: true });
    const files = entries
      .filter((e) => e.isFile() && MANIFEST_FILE.test(e.name))
      .map((e) => join(e.parentPath, e.name))
      .sort();
    out.push(...files);
  }
  return out;
}

async function readStdin(io: CliIO): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of io.stdin)
    chunks.push(typeof c === "string" ? Buffer.from(c) : (c as Buffer));
  return Buffer.concat(chunks).toString("utf8");
}

export async function runPin(inputs: string[], f: PinFlags, io: CliIO): Promise<number> {
  const modes = [f.write, f.diff, f.check, f.json].filter(Boolean).length;
  if (modes > 1)
    throw new KimgError("INPUT_INVALID", "-w, --diff, --check and --json go one at a time");
  if (inputs.length === 0)
    throw new KimgError(
      "INPUT_INVALID",
      "no input: give manifest files, a directory, or - for standard input",
    );
  if (f.write && inputs.includes("-"))
    throw new KimgError(
      "INPUT_INVALID",
      "-w cannot write standard input back; drop -w to print the result",
    );
  const jobs = f.jobs === undefined ? undefined : positiveInteger(f.jobs, "--jobs");
  const opts = await registryOptionsOf(f); // flag errors before any request
  const paths = await expand(inputs);
  if (paths.length === 0)
    throw new KimgError("INPUT_INVALID", `no .yaml, .yml or .json files in ${inputs.join(" ")}`);
  const files: ManifestFile[] = [];
  for (const p of paths) {
    let text: string;
    try {
      text = p === "-" ? await readStdin(io) : await readFile(p, "utf8");
    } catch (e) {
      throw new KimgError("INPUT_UNREADABLE", `${p}: cannot read: ${errnoText(e)}`);
    }
    files.push(loadManifests(text, p === "-" ? STDIN : p));
  }
  // The node-style sources (--creds, --pull-secret, docker config, auth.json) come after the
  // Pods' own secrets. `--creds` is for one registry: it never goes to another host.
  const { chain } = await credentialsOf(`${credsHost(files, f)}/x`, f);
  const result = await pinManifests(files, {
    ...opts,
    keyring: chain,
    jobs,
    update: f.update,
    failFast: f.failFast,
  });

  if (f.json) {
    io.stdout.write(
      `${toJson({ sites: result.sites, resolutions: result.resolutions, summary: result.summary, files: result.files.map((x) => ({ source: x.source, changed: x.changed })) }, 2)}\n`,
    );
  } else {
    // One write: thousands of containers are thousands of lines.
    const lines: string[] = [];
    for (const s of result.sites) {
      const line = reportLine(s, f.check);
      if (line !== undefined) lines.push(`${safe(line)}\n`);
    }
    if (lines.length > 0) io.stderr.write(lines.join(""));
  }
  if (f.check) {
    const stale = result.summary.pinned + result.summary.moved + result.summary.updated;
    io.stderr.write(
      `kimg: ${result.summary.containers} images: ${stale === 0 ? "all pinned and current" : `${result.summary.pinned} not pinned, ${result.summary.moved} pinned to an old digest`}${result.summary.failed > 0 ? `, ${result.summary.failed} could not be resolved` : ""}\n`,
    );
    if (result.summary.failed > 0) return failureExit(result);
    return stale === 0 ? EXIT.OK : EXIT.INVALID;
  }
  if (f.write) {
    for (const [i, file] of result.files.entries()) {
      if (!file.changed) continue;
      const path = paths[i] ?? file.source;
      const mode = (await stat(path)).mode & 0o7777;
      await writeFileAtomic(dirname(path), path, file.text, { mode });
    }
    const n = result.files.filter((x) => x.changed).length;
    io.stderr.write(`kimg: ${n} of ${result.files.length} files written; ${summaryText(result)}\n`);
  } else if (f.diff) {
    const { createTwoFilesPatch } = await import("diff");
    for (const [i, file] of result.files.entries()) {
      if (!file.changed) continue;
      const before = files[i]?.text ?? "";
      io.stdout.write(
        createTwoFilesPatch(`a/${file.source}`, `b/${file.source}`, before, file.text, "", "", {
          context: 3,
        }).replace(/^=+\n/, ""),
      );
    }
  } else if (!f.json) {
    io.stdout.write(joinManifestTexts(result.files.map((x) => x.text)));
    io.stderr.write(`kimg: ${summaryText(result)}\n`);
  }
  return result.summary.failed > 0 ? failureExit(result) : EXIT.OK;
}

/** The one registry of the images, for `--creds`; an error when they come from several. */
function credsHost(files: readonly ManifestFile[], f: PinFlags): string {
  if (f.creds === undefined) return "localhost";
  const hosts = new Set<string>();
  for (const site of findImageSites(files)) {
    try {
      hosts.add(parseNormalizedNamed(site.image).domain);
    } catch {
      // reported by the pin itself
    }
  }
  if (hosts.size > 1) {
    throw new KimgError(
      "INPUT_INVALID",
      `--creds: the images come from ${hosts.size} registries (${[...hosts].sort().join(", ")}); credentials are for one registry: put them in a --pull-secret file or a docker config`,
    );
  }
  return [...hosts][0] ?? "localhost";
}

/** The first failure's exit code (not found, unauthorized, network…). */
function failureExit(r: PinResult): number {
  const code = r.sites.find((s) => s.status === "failed")?.error?.code;
  if (code === undefined || code === "INTERNAL") return EXIT.INTERNAL;
  return exitCodeFor(code as Parameters<typeof exitCodeFor>[0]);
}

function summaryText(r: PinResult): string {
  const s = r.summary;
  const parts = [
    `${s.containers} containers`,
    `${r.resolutions} images resolved`,
    `${s.pinned} pinned`,
  ];
  if (s.updated > 0) parts.push(`${s.updated} re-pinned`);
  if (s.upToDate > 0) parts.push(`${s.upToDate} already pinned`);
  if (s.moved > 0) parts.push(`${s.moved} pinned to an old digest (--update re-pins)`);
  if (s.digestOnly > 0) parts.push(`${s.digestOnly} digest-only`);
  if (s.failed > 0) parts.push(`${s.failed} failed`);
  return parts.join(", ");
}

/** One line about a container that changed, moved, failed (or with --check, is not pinned). */
function reportLine(s: PinnedSite, check: boolean): string | undefined {
  const where = `${s.source}:${s.line}: ${s.kind} ${s.namespace}/${s.name ?? "?"} ${s.container ?? s.fieldPath}`;
  const policy = s.policy.changed
    ? `; pull policy ${s.policy.before} → ${s.policy.after} (${s.policy.reason})`
    : s.policy.after === null
      ? ""
      : `; pull policy stays ${s.policy.after}`;
  switch (s.status) {
    case "failed":
      return `${where}: ${s.image}: ${s.error?.message ?? "failed"}`;
    case "pinned":
      return check
        ? `${where}: ${s.image} is not pinned to a digest (tag now at ${s.digest})`
        : `${where}: ${s.image} → ${s.pinned}${policy}`;
    case "updated":
      return `${where}: ${s.image} → ${s.pinned}: the tag moved from ${s.previousDigest} to ${s.digest}`;
    case "moved":
      return `${where}: warning: ${s.image}: the tag now names ${s.digest}, not the pinned ${s.previousDigest} (--update re-pins)`;
    default:
      return undefined;
  }
}
