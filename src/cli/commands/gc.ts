// kimg gc: the kubelet's image garbage collection on the store (kubelet.md §8): removes images
// no container uses — by age (--max-age, once GC has run that long on this store) and, when the
// image filesystem's usage reaches --high percent, least recently used first until it is down
// to --low percent, never younger than --min-age, never --pinned ones. Thin: runImageGC in
// src/manager/gc.ts does the work; this parses flags and renders. With --node-config FILE a
// KubeletConfiguration's imageGCHighThresholdPercent, imageGCLowThresholdPercent,
// imageMinimumGCAge and imageMaximumGCAge apply (defaulted and validated as the kubelet does, by
// src/kubelet/config.ts); flags override them.
//
// Exit codes: 0 when GC ran, also when the kubelet would record a Warning event
// (FreeDiskSpaceFailed: not enough eligible images; InvalidDiskCapacity): those are warnings
// about the node, printed as `Warning <reason> <message>`, and the GC did all it could (the
// kubelet too only logs them and retries in 5 minutes). 1 when a flag's value is invalid
// (with the kubelet's configuration messages) or an image could not be removed.

import {
  defaultStoreDir,
  FsBlobStore,
  type ImageGCReport,
  imageGCPolicyFromSettings,
  loadKubeletConfigurationFile,
  parseByteSize,
  runImageGC,
} from "../../index.ts";
import { type CliIO, EXIT } from "../io.ts";
import { formatBytes } from "../render/bytes.ts";
import { safe, toJson } from "../render/safe.ts";

export interface GcFlags {
  readonly high?: string | undefined;
  readonly low?: string | undefined;
  readonly minAge?: string | undefined;
  readonly maxAge?: string | undefined;
  /** A KubeletConfiguration file: its imageGC* settings, overridden by the flags. */
  readonly nodeConfig?: string | undefined;
  readonly capacity?: string | undefined;
  readonly pinned: readonly string[];
  readonly allUnused: boolean;
  readonly dryRun: boolean;
  readonly json: boolean;
  readonly store?: string | undefined;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly homedir: string;
  /** The GC's clock (tests); default Date.now. */
  readonly now?: number | undefined;
}

class FlagError extends Error {}

function percent(flag: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!/^[+-]?[0-9]+$/.test(v.trim())) {
    throw new FlagError(`invalid value ${JSON.stringify(v)} for ${flag}: not an integer`);
  }
  return Number(v.trim());
}

/** `2026-11-28T01:02:03Z` (seconds are enough for people). */
function when(isoText: string): string {
  return isoText.replace(/\.\d{3}Z$/, "Z");
}

function usageText(u: ImageGCReport["before"]): string {
  return u.usagePercent === undefined ? "capacity 0" : `${u.usagePercent}%`;
}

/** The image GC policy of a KubeletConfiguration file (YAML or JSON), defaulted and validated. */
async function nodeConfigPolicy(path: string, io: CliIO) {
  const loaded = await loadKubeletConfigurationFile(path);
  for (const w of loaded.warnings) io.stderr.write(`kimg: ${path}: warning: ${w}\n`);
  const c = loaded.config;
  return {
    highThresholdPercent: c.imageGCHighThresholdPercent,
    lowThresholdPercent: c.imageGCLowThresholdPercent,
    minAgeMs: c.imageMinimumGCAgeMs,
    maxAgeMs: c.imageMaximumGCAgeMs,
  };
}

export async function runGc(f: GcFlags, io: CliIO): Promise<number> {
  let policy: ReturnType<typeof imageGCPolicyFromSettings>;
  let capacity: number | undefined;
  try {
    const base = f.nodeConfig === undefined ? undefined : await nodeConfigPolicy(f.nodeConfig, io);
    policy = imageGCPolicyFromSettings(
      {
        high: percent("--high", f.high),
        low: percent("--low", f.low),
        minAge: f.minAge,
        maxAge: f.maxAge,
      },
      base,
    );
    capacity = f.capacity === undefined ? undefined : parseByteSize(f.capacity);
  } catch (e) {
    const err = e as { name?: string; code?: string; message?: string };
    if (e instanceof FlagError || (err.name === "KimgError" && err.code === "INPUT_INVALID")) {
      io.stderr.write(`kimg: ${err.message}\n`);
      return EXIT.UNREADABLE;
    }
    throw e;
  }
  const store = await FsBlobStore.openExisting(f.store ?? defaultStoreDir(f.env, f.homedir));
  let report: ImageGCReport;
  try {
    report = await runImageGC(store, {
      policy,
      now: f.now,
      capacity,
      pinned: f.pinned,
      dryRun: f.dryRun,
      mode: f.allUnused ? "delete-unused" : "gc",
    });
  } catch (e) {
    const err = e as { name?: string; code?: string; message?: string };
    if (err.name === "KimgError" && err.code === "INPUT_INVALID") {
      io.stderr.write(`kimg: ${err.message}\n`);
      return EXIT.UNREADABLE;
    }
    throw e;
  }
  for (const p of report.unmatchedPinned) {
    io.stderr.write(`kimg: warning: --pinned ${safe(p)} matches no image in the store\n`);
  }
  const failed = report.failed.length > 0;
  if (f.json) {
    io.stdout.write(`${toJson(report, 2)}\n`);
    return failed ? EXIT.INVALID : EXIT.OK;
  }
  const out = (s: string): boolean => io.stdout.write(`${s}\n`);
  if (!report.enabled) {
    // pkg/kubelet/kubelet.go StartGarbageCollection's log line.
    out("ImageGCHighThresholdPercent is set 100 and ImageMaximumGCAge is 0, Disable image GC");
    return EXIT.OK;
  }
  const verb = report.dryRun ? "Would delete" : "Deleted";
  for (const r of report.removed) {
    out(
      `${verb}: ${r.names.join(", ")} (${formatBytes(r.size)}, reason: ${r.reason}, last used ${when(r.lastUsed)})`,
    );
  }
  if (report.agePhase === "waiting" && report.ageGCStartsAfter !== undefined) {
    out(
      `Age-based removal starts after ${when(report.ageGCStartsAfter)} (image GC first ran on this store at ${when(report.gcRunningSince ?? report.now)})`,
    );
  }
  const cap =
    report.capacitySource === "configured"
      ? `configured capacity ${formatBytes(report.before.capacity)}`
      : `${formatBytes(report.before.capacity)} filesystem`;
  out(
    `Image filesystem usage (${cap}): ${usageText(report.before)} before, ${usageText(report.after)} after${report.dryRun ? " (estimated)" : ""}; high threshold ${report.policy.highThresholdPercent}%, low ${report.policy.lowThresholdPercent}%`,
  );
  const n = report.removed.length;
  out(
    `${report.dryRun ? "Reclaimable" : "Reclaimed"} space: ${formatBytes(report.reclaimedBytes)} (${n} image${n === 1 ? "" : "s"}, ${report.deletedBlobs} blob${report.deletedBlobs === 1 ? "" : "s"})`,
  );
  if (report.prunedPullRecords > 0) {
    out(
      `${report.dryRun ? "Would prune" : "Pruned"} ${report.prunedPullRecords} pulled record${report.prunedPullRecords === 1 ? "" : "s"} of images no longer on the node`,
    );
  }
  for (const e of report.events) out(`${e.type} ${e.reason} ${e.message}`);
  for (const x of report.failed) {
    io.stderr.write(`kimg: failed to remove ${x.names.join(", ")}: ${x.error}\n`);
  }
  if (report.error !== undefined && failed) io.stderr.write(`kimg: ${report.error}\n`);
  return failed ? EXIT.INVALID : EXIT.OK;
}
