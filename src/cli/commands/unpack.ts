// kimg unpack REF DIR: a stored image's root filesystem, written atomically into DIR. Thin: the
// library's unpackImage does the work (src/unpack/). When the store has no such image it is
// pulled first, by the reference's default pull policy, through `kimg pull`'s own code path
// (runPull: the same credentials, registries.conf and progress output; on --json the pull's
// progress goes to stderr so stdout stays one JSON document).

import { resolve } from "node:path";
import {
  checkUnpackParent,
  defaultStoreDir,
  FsBlobStore,
  isKimgError,
  KimgError,
  parseByteSize,
  type UnpackReport,
  unpackImage,
} from "../../index.ts";
import { type CliIO, EXIT } from "../io.ts";
import { formatBytes, formatDuration } from "../render/bytes.ts";
import { safe, toJson } from "../render/safe.ts";
import type { PullFlags } from "./pull.ts";

export interface UnpackFlags {
  readonly platform?: string | undefined;
  readonly store?: string | undefined;
  readonly force: boolean;
  /** `--max-size` as written (10Gi, 500MB…). */
  readonly maxSize?: string | undefined;
  /** `--max-files` as written. */
  readonly maxFiles?: string | undefined;
  /** `--allow-devices`, `--keep-setuid`, `--keep-privileged-xattrs` (src/unpack Privileges). */
  readonly allowDevices: boolean;
  readonly keepSetuid: boolean;
  readonly keepPrivilegedXattrs: boolean;
  readonly json: boolean;
  /** `--insecure-registry` (repeatable), for the pull of an absent image. */
  readonly insecureHosts: readonly string[];
  /** `--creds`, `--pull-secret`, `--registries-conf`: the pull's, as `kimg pull` takes them. */
  readonly creds?: string | undefined;
  readonly pullSecrets?: readonly string[] | undefined;
  readonly registriesConf?: string | undefined;
  readonly isTTY: boolean;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly homedir: string;
  /** Stops the unpack (SIGINT/SIGTERM): the temp directory is removed, DIR not created. */
  readonly signal?: AbortSignal | undefined;
}

function parseMaxFiles(s: string): number {
  const n = Number(s);
  if (!/^\d+$/.test(s.trim()) || !Number.isSafeInteger(n) || n < 1) {
    throw new KimgError("INPUT_INVALID", `--max-files must be a positive integer, got ${s}`);
  }
  return n;
}

export function renderUnpack(
  r: UnpackReport & { image: string; digest: string; platform: string },
  dir: string,
  ms: number,
): string {
  const lines = [
    `Unpacked ${r.image} (${r.platform}, ${r.digest}) into ${safe(dir)}: ${r.layers} layer${r.layers === 1 ? "" : "s"}, ${r.files} entries, ${formatBytes(r.bytes)} in ${formatDuration(ms)}${r.notes.length > 0 ? `, ${r.notes.length} note${r.notes.length === 1 ? "" : "s"}` : ""}`,
  ];
  for (const n of r.notes) lines.push(`note: ${safe(n)}`);
  return lines.join("\n");
}

export async function runUnpack(
  ref: string,
  dir: string,
  f: UnpackFlags,
  io: CliIO,
): Promise<number> {
  const started = Date.now();
  const limits = {
    ...(f.maxSize !== undefined ? { maxBytes: parseByteSize(f.maxSize) } : {}),
    ...(f.maxFiles !== undefined ? { maxFiles: parseMaxFiles(f.maxFiles) } : {}),
  };
  const storeDir = f.store ?? defaultStoreDir(f.env, f.homedir);
  const store = await FsBlobStore.open(storeDir);
  const opts = {
    force: f.force,
    allowDevices: f.allowDevices,
    keepSetuid: f.keepSetuid,
    keepPrivilegedXattrs: f.keepPrivilegedXattrs,
    limits,
    platform: f.platform,
    signal: f.signal,
  };
  // DIR's parent must exist: said before any pull (issue 10 item 11).
  await checkUnpackParent(dir);
  let report: Awaited<ReturnType<typeof unpackImage>>;
  try {
    report = await unpackImage(store, ref, dir, opts);
  } catch (e) {
    // Stored for another platform only: that platform is absent, pulled as any absent image.
    const otherPlatform = f.platform !== undefined && isKimgError(e, "PLATFORM_NOT_FOUND");
    if (!isKimgError(e, "IMAGE_NOT_FOUND") && !otherPlatform) throw e;
    // Absent: pull by the reference's default policy (IfNotPresent, or Always for :latest and
    // untagged references: either way a pull, since the image is not there).
    const { runPull } = await import("./pull.ts");
    const pullIO: CliIO = f.json ? { ...io, stdout: io.stderr } : io;
    const pf: PullFlags = {
      platform: f.platform,
      jobs: 3,
      store: storeDir,
      insecureHosts: f.insecureHosts,
      creds: f.creds,
      pullSecrets: f.pullSecrets,
      registriesConf: f.registriesConf,
      progress: f.json ? "plain" : "auto",
      isTTY: f.json ? false : f.isTTY,
      env: f.env,
      homedir: f.homedir,
    };
    // SIGINT/SIGTERM during the pull: nothing of DIR exists yet, the store keeps what it
    // committed (a later pull resumes); stop at once as `kimg pull` would.
    const interrupted = (): void => {
      io.stderr.write("kimg: interrupted\n");
      process.exit(130);
    };
    f.signal?.addEventListener("abort", interrupted, { once: true });
    let code: number;
    try {
      code = await runPull(ref, pf, pullIO);
    } finally {
      f.signal?.removeEventListener("abort", interrupted);
    }
    if (code !== EXIT.OK) return code;
    report = await unpackImage(store, ref, dir, opts);
  }
  if (f.json) io.stdout.write(`${toJson({ dir: resolve(dir), ...report }, 2)}\n`);
  else io.stdout.write(`${renderUnpack(report, dir, Date.now() - started)}\n`);
  return EXIT.OK;
}
