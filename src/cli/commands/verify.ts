// kimg verify: an fsck of the store over digests, sizes and references (issue 10 items 2, 3),
// as `crane validate` and containerd's content verification do for one image: every blob is
// re-hashed against its name, every image's manifest must name only stored blobs, and
// kimg.json and index.json must parse. Thin: FsBlobStore.verify does the work.
//
// Exit codes: 0 when nothing is wrong; 6 (EXIT.VERIFY) when something is, without --repair.
// With --repair, like e2fsck's "errors corrected": 0 once every problem was dealt with —
// corrupt blobs deleted (the images that need them are listed to pull again), damaged
// metadata rebuilt — and 6 only when something could not be repaired (both kimg.json and
// index.json damaged: the image records are lost).

import { defaultStoreDir, FsBlobStore, type VerifyReport } from "../../pull-api.ts";
import { type CliIO, EXIT } from "../io.ts";
import { formatBytes } from "../render/bytes.ts";
import { safe, toJson } from "../render/safe.ts";

export interface VerifyFlags {
  readonly refs: readonly string[];
  readonly repair: boolean;
  readonly json: boolean;
  readonly store?: string | undefined;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly homedir: string;
}

export function renderVerify(r: VerifyReport, repair: boolean): string {
  const lines: string[] = [];
  for (const p of r.problems) {
    const users = p.images.length > 0 ? ` (used by ${p.images.join(", ")})` : "";
    const what =
      p.kind === "metadata"
        ? `damaged: ${p.detail}`
        : `${p.kind === "missing-blob" ? "missing" : "corrupt"}: ${p.detail}${users}`;
    lines.push(p.action !== undefined ? `${what}: ${p.action}` : what);
  }
  const checked = `${r.images} image(s), ${r.blobs} blob(s) (${formatBytes(r.bytes)}) checked`;
  if (r.ok) lines.push(`OK: ${checked}`);
  else if (!repair) {
    lines.push(`${r.problems.length} problem(s) found: ${checked}; run kimg verify --repair`);
  } else {
    lines.push(
      `${r.repaired ? "repaired" : "could not repair everything"}: ${r.problems.length} problem(s); ${checked}`,
    );
  }
  if (repair && r.pullAgain.length > 0) lines.push(`pull again: ${r.pullAgain.join(" ")}`);
  return lines.map(safe).join("\n");
}

export async function runVerify(f: VerifyFlags, io: CliIO): Promise<number> {
  const dir = f.store ?? defaultStoreDir(f.env, f.homedir);
  const store = FsBlobStore.openForVerify(dir);
  const report = await store.verify({
    repair: f.repair,
    ...(f.refs.length > 0 ? { names: f.refs } : {}),
  });
  io.stdout.write(f.json ? `${toJson(report, 2)}\n` : `${renderVerify(report, f.repair)}\n`);
  if (report.ok || (f.repair && report.repaired)) return EXIT.OK;
  return EXIT.VERIFY;
}
