// kimg prune: gives back the disk space nothing uses — blobs no image record references and
// partial downloads nobody will resume — like `docker image prune` ("Deleted: …",
// "Total reclaimed space: …"). Thin: the store's fsck (stale temp files, locks and ingests)
// and prune (unreferenced blobs) do the work.
//
// What is kept: blobs an image record, a foreign index.json entry or a live pull's lease
// (store/leases.ts; containerd's client/pull.go WithLease) references. The grace period on top:
// unreferenced blobs committed (or reused) within the store's pruneGraceMs (an hour) stay, for
// writers that hold no lease (an older kimg, skopeo copying into the layout). Partial
// downloads are removed after ingestMaxAgeMs (a day) without a write, so an interrupted pull
// can still resume overnight. `kimg rmi` deletes only the blobs of the images it removes.

import {
  defaultStoreDir,
  FsBlobStore,
  type IngestInfo,
  listIngests,
  STORE_DEFAULTS,
} from "../../index.ts";
import { type CliIO, EXIT } from "../io.ts";
import { formatBytes, formatDuration } from "../render/bytes.ts";
import { toJson } from "../render/safe.ts";

/** `1h`, `90m0s`: the grace period as people set it. */
function graceText(ms: number): string {
  return ms >= 3_600_000 && ms % 3_600_000 === 0 ? `${ms / 3_600_000}h` : formatDuration(ms);
}

export interface PruneFlags {
  readonly dryRun: boolean;
  readonly json: boolean;
  readonly store?: string | undefined;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly homedir: string;
}

export interface PruneOutcome {
  readonly dryRun: boolean;
  /** Blobs no image references, older than the grace period. */
  readonly deletedBlobs: readonly { readonly digest: string; readonly size: number }[];
  /** Partial downloads (ingests) removed: abandoned, unusable, or already committed. */
  readonly deletedPartials: readonly { readonly digest: string; readonly bytes: number }[];
  readonly reclaimedBytes: number;
  /** Unreferenced blobs kept because they are younger than the grace period. */
  readonly keptYoung: number;
  readonly graceMs: number;
  /** Partial downloads kept (resumable, recent, or in use). */
  readonly keptPartials: number;
}

export async function runPrune(f: PruneFlags, io: CliIO): Promise<number> {
  const store = await FsBlobStore.openExisting(f.store ?? defaultStoreDir(f.env, f.homedir));
  const before = await listIngests(store.root, STORE_DEFAULTS);
  const byDigest = new Map<string, IngestInfo>(before.map((x) => [x.digest, x]));
  let deletedPartials: { digest: string; bytes: number }[];
  let keptPartials: number;
  if (f.dryRun) {
    // fsck has no dry run: the same rules, read-only (a live writer keeps its ingest fresh).
    deletedPartials = before
      .filter((x) => x.stale)
      .map((x) => ({ digest: x.digest, bytes: x.bytes }));
    keptPartials = before.length - deletedPartials.length;
  } else {
    const fsck = await store.fsck();
    deletedPartials = fsck.removedIngests.map((d) => ({
      digest: d,
      bytes: byDigest.get(d)?.bytes ?? 0,
    }));
    keptPartials = fsck.keptIngests.length;
  }
  const report = await store.prune({ dryRun: f.dryRun });
  const deletedBlobs = report.deleted.map((b) => ({ digest: b.digest, size: b.size }));
  const outcome: PruneOutcome = {
    dryRun: f.dryRun,
    deletedBlobs,
    deletedPartials,
    reclaimedBytes: report.freedBytes + deletedPartials.reduce((n, p) => n + p.bytes, 0),
    keptYoung: report.keptYoung,
    graceMs: STORE_DEFAULTS.pruneGraceMs,
    keptPartials,
  };
  if (f.json) {
    io.stdout.write(`${toJson(outcome, 2)}\n`);
    return EXIT.OK;
  }
  const verb = f.dryRun ? "Would delete" : "Deleted";
  for (const b of deletedBlobs) io.stdout.write(`${verb}: ${b.digest}\n`);
  for (const p of deletedPartials) io.stdout.write(`${verb} partial download: ${p.digest}\n`);
  if (outcome.keptYoung > 0) {
    io.stdout.write(
      `Kept ${outcome.keptYoung} unreferenced blob${outcome.keptYoung === 1 ? "" : "s"} younger than ${graceText(outcome.graceMs)} (a pull may be recording them)\n`,
    );
  }
  io.stdout.write(
    `Total ${f.dryRun ? "reclaimable" : "reclaimed"} space: ${formatBytes(outcome.reclaimedBytes)}\n`,
  );
  return EXIT.OK;
}
