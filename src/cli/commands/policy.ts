// `kimg policy [FILE…|-]`: every container of Kubernetes manifests — its image, declared and
// effective imagePullPolicy and why, AlwaysPullImages (optional), validation errors, what the
// kubelet does with the image present or absent, and lint findings.
//
// Owns reading the inputs (files, `-` = standard input, read once) and the three renderings:
// text (default; colour only when io.color), JSON (`--json` / `-o json`: the library's
// ManifestReport as is) and YAML (`-o yaml`: the manifests as the API server would store them,
// comments and layout kept; problems go to stderr so stdout stays YAML).
// Exit codes: 0 clean (warnings allowed), 1 any error (validation, structure, invalid image),
// 2 unreadable input (missing file, YAML syntax) or bad options — one line per problem on
// stderr, never a stack trace.

import { readFile } from "node:fs/promises";
import {
  type ContainerReport,
  type DigestAlgorithm,
  errnoText,
  inspectManifests,
  isDigestAlgorithm,
  isKimgError,
  type KubeletActionDescription,
  loadManifests,
  type ManifestFile,
  type ManifestProblem,
  type ManifestReport,
  type SkippedObject,
  toYaml,
} from "../../index.ts";
import { type CliIO, EXIT } from "../io.ts";
import { type Painter, painter } from "../render/style.ts";

export interface PolicyCommandOptions {
  readonly alwaysPullImages?: boolean | undefined;
  readonly json?: boolean | undefined;
  readonly output?: "text" | "json" | "yaml" | undefined;
  readonly digestAlgorithms?: readonly string[] | undefined;
}

/** Name of standard input in messages. */
export const STDIN_SOURCE = "<stdin>";

async function readStream(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) {
    chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : (chunk as Buffer));
  }
  return Buffer.concat(chunks).toString("utf8");
}

export async function runPolicy(
  inputs: string[],
  opts: PolicyCommandOptions,
  io: CliIO,
): Promise<number> {
  const fail = (message: string): void => {
    io.stderr.write(`kimg: ${message.replace(/\s*\n\s*/g, " ")}\n`);
  };
  const output = opts.json === true ? "json" : (opts.output ?? "text");
  if (output !== "text" && output !== "json" && output !== "yaml") {
    fail(`-o: unknown output format ${JSON.stringify(output)} (one of text, json, yaml)`);
    return EXIT.UNREADABLE;
  }
  const digestAlgorithms: DigestAlgorithm[] = [];
  for (const a of opts.digestAlgorithms ?? []) {
    if (!isDigestAlgorithm(a)) {
      fail(`--digest-algorithms: unknown algorithm ${JSON.stringify(a)}`);
      return EXIT.UNREADABLE;
    }
    digestAlgorithms.push(a);
  }
  if (inputs.length === 0) {
    fail("no input: give manifest files, or - for standard input");
    return EXIT.UNREADABLE;
  }

  // Read and parse everything first. An unreadable input is reported, and the readable ones
  // are still reported on, as kubectl reports what it could read (issue 10 item 17); the exit
  // code says an input could not be read.
  let stdinText: string | undefined;
  const files: ManifestFile[] = [];
  let unreadable = 0;
  for (const input of inputs) {
    const source = input === "-" ? STDIN_SOURCE : input;
    let text: string;
    try {
      if (input === "-") {
        stdinText ??= await readStream(io.stdin);
        text = stdinText;
      } else {
        text = await readFile(input, "utf8");
      }
    } catch (e) {
      fail(`${source}: cannot read: ${errnoText(e)}`);
      unreadable++;
      continue;
    }
    try {
      files.push(loadManifests(text, source));
    } catch (e) {
      if (!isKimgError(e)) throw e;
      fail(e.message);
      unreadable++;
    }
  }
  if (files.length === 0) return EXIT.UNREADABLE;

  const report = inspectManifests(files, {
    alwaysPullImages: opts.alwaysPullImages === true,
    ...(opts.digestAlgorithms === undefined ? {} : { digestAlgorithms }),
  });
  const code = report.summary.errors > 0 ? EXIT.INVALID : EXIT.OK;

  if (output === "json") {
    io.stdout.write(`${reportJson(report)}\n`);
  } else if (output === "yaml") {
    io.stdout.write(toYaml(files, report));
    for (const line of errorLines(report)) io.stderr.write(`kimg: ${line}\n`);
  } else {
    io.stdout.write(renderReport(report, painter(io.color)));
  }
  return unreadable > 0 ? EXIT.UNREADABLE : code;
}

/** JSON.stringify cannot print bigint (YAML integers beyond 2^53 are not; be safe). */
function jsonReplacer(_key: string, value: unknown): unknown {
  return typeof value === "bigint" ? value.toString() : value;
}

/**
 * The report as JSON. Without a replacer JSON.stringify takes its fast path (a replacer is
 * called for every key of every container); it throws only on a bigint, and then the replacer
 * writes the same text with bigints as strings.
 */
function reportJson(report: ManifestReport): string {
  try {
    return JSON.stringify(report, null, 2);
  } catch (e) {
    if (!(e instanceof TypeError)) throw e;
    return JSON.stringify(report, jsonReplacer, 2);
  }
}

/** One line per error or input problem, for stderr when stdout carries YAML. */
function errorLines(report: ManifestReport): string[] {
  const out: string[] = [];
  // Every problem with the input, warnings too: a WRITE_BACK warning says the YAML printed on
  // stdout differs from what the API server would store, so it must not go unseen.
  for (const p of report.problems) {
    const prefix = p.severity === "error" ? "" : `${p.severity}: `;
    out.push(`${p.source}:${p.line}: ${prefix}${p.message}`);
  }
  for (const c of report.containers) {
    for (const e of c.errors) out.push(`${c.source}:${c.line}: ${objectName(c)}: ${e.message}`);
    for (const f of c.findings) {
      if (f.severity === "error") out.push(`${c.source}:${c.line}: ${objectName(c)}: ${f.message}`);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Text rendering

function objectName(o: {
  kind: string;
  namespace: string | null;
  namespaceImplied?: boolean;
  name: string | null;
  generateName?: string | null;
}): string {
  const name = o.name ?? (o.generateName ? `${o.generateName}<generated>` : "<no name>");
  const ns =
    o.namespace === null ? "" : o.namespaceImplied ? `(${o.namespace})/` : `${o.namespace}/`;
  return `${o.kind} ${ns}${name}`;
}

function policyText(v: unknown): string {
  if (v === null || v === undefined) return "not set";
  if (typeof v === "string") return v === "" ? '""' : v;
  return `${JSON.stringify(v)} (${typeof v})`;
}

const ACTION_TEXT: Readonly<Record<KubeletActionDescription["action"], string>> = {
  pull: "pulls",
  "use-local": "uses the local image",
  ErrImageNeverPull: "fails: ErrImageNeverPull",
  InvalidImageName: "fails: InvalidImageName",
};

const LABEL_WIDTH = 17;

function row(paint: Painter, label: string, text: string): string {
  return `  ${paint("dim", label.padEnd(LABEL_WIDTH))}${text}\n`;
}

function kubeletText(paint: Painter, d: KubeletActionDescription): string {
  const style = d.action === "pull" || d.action === "use-local" ? "ok" : "error";
  return `${paint(style, ACTION_TEXT[d.action])} ${paint("dim", `(${d.event.type} ${d.event.reason}: ${d.event.message})`)}`;
}

function renderContainer(c: ContainerReport, paint: Painter): string {
  const where = c.itemPath === null ? c.fieldPath : `${c.itemPath}: ${c.fieldPath}`;
  const cname = c.containerName === null ? "" : ` (${c.containerName})`;
  let out = `${paint("bold", objectName(c))}  ${where}${cname}  ${paint("dim", `${c.source}:${c.line}`)}\n`;
  out += row(paint, "image", c.image === null ? paint("error", "(none)") : JSON.stringify(c.image));

  let policy: string;
  if (c.effectivePolicy === null) {
    policy = `${policyText(c.declaredPolicy)} → ${paint("error", "rejected")}: ${c.reason}`;
  } else if (c.defaulted) {
    policy = `${policyText(c.declaredPolicy)} → ${paint("bold", c.effectivePolicy)} (default: ${c.reason})`;
  } else {
    policy = `${paint("bold", c.effectivePolicy)} (as written)`;
  }
  out += row(paint, "imagePullPolicy", policy);
  if (c.admission !== null) {
    out += row(
      paint,
      "admission",
      c.admission.changed
        ? `AlwaysPullImages: ${policyText(c.admission.from)} → ${paint("bold", "Always")}`
        : "AlwaysPullImages: already Always",
    );
  }
  if (c.kubelet !== null) {
    out += row(paint, "image present", kubeletText(paint, c.kubelet.imagePresent));
    out += row(paint, "image absent", kubeletText(paint, c.kubelet.imageAbsent));
  }
  for (const e of c.errors) out += row(paint, "error", paint("error", e.message));
  for (const f of c.findings) {
    const style = f.severity === "error" ? "error" : f.severity === "warning" ? "warning" : "info";
    out += row(paint, f.severity, `${paint(style, f.code)}: ${f.message}`);
  }
  return out;
}

function renderProblem(p: ManifestProblem, paint: Painter): string {
  const what = p.kind === null ? "" : `${objectName({ ...p, kind: p.kind })}: `;
  const item = p.itemPath === null || p.kind === null ? "" : `${p.itemPath}: `;
  const sev = paint(p.severity === "error" ? "error" : "warning", p.severity);
  return `${paint("dim", `${p.source}:${p.line}:`)} ${sev}: ${what}${item}${p.message}\n`;
}

function renderSkipped(s: SkippedObject, paint: Painter): string {
  const item = s.itemPath === null ? "" : ` (${s.itemPath})`;
  return `${paint("dim", `${s.source}:${s.line}:`)} skipped ${s.kind} ${s.name ?? "<no name>"}${item}: ${s.reason}\n`;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

/** The text report: one block per container, then problems, skipped objects, notes, summary. */
export function renderReport(report: ManifestReport, paint: Painter): string {
  const blocks = report.containers.map((c) => renderContainer(c, paint));
  let out = blocks.join("\n");
  if (report.problems.length > 0) {
    out += `${out === "" ? "" : "\n"}${report.problems.map((p) => renderProblem(p, paint)).join("")}`;
  }
  if (report.skipped.length > 0) {
    out += `${out === "" ? "" : "\n"}${report.skipped.map((s) => renderSkipped(s, paint)).join("")}`;
  }
  if (report.notes.length > 0) {
    out += `${out === "" ? "" : "\n"}${report.notes.map((n) => `${paint("dim", "note:")} ${n}\n`).join("")}`;
  }
  const s = report.summary;
  const errors = paint(s.errors > 0 ? "error" : "ok", plural(s.errors, "error"));
  const warnings = paint(s.warnings > 0 ? "warning" : "ok", plural(s.warnings, "warning"));
  const extra = [
    `${plural(s.objects - s.skipped, "object")} checked`,
    s.skipped > 0 ? `${s.skipped} skipped` : "",
    s.admittedPods > 0 ? `AlwaysPullImages applied to ${plural(s.admittedPods, "Pod")}` : "",
  ].filter((x) => x !== "");
  out += `${out === "" ? "" : "\n"}${plural(s.containers, "container")}, ${errors}, ${warnings} (${extra.join(", ")})\n`;
  return out;
}
