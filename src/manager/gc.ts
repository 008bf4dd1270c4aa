// The kubelet's image garbage collection run on kimg's store (kubelet.md §8, §6.1): what
// pkg/kubelet/images/image_gc_manager.go (realImageGCManager: detectImages,
// imagesInEvictionOrder, GarbageCollect, freeOldImages, freeSpace, DeleteUnusedImages,
// runPostGCHooks) and pkg/kubelet/kubelet.go (StartGarbageCollection: the "disabled" rule and
// beganGC) do on a node, with the pure plan in src/kubelet/gc-plan.ts and the store's records.
//
// kimg's choices, where a node has a container runtime and kimg has a store:
// - Image identity: one GC image per image ID, and the ID is the record's manifest digest (the
//   CRI's image ID is containerd's config digest; kimg records are per manifest, and two
//   names of one manifest are one image to remove). Several names/tags of one image are one GC
//   image and are removed together (store.removeImages, as `kimg rmi` does — the CRI's
//   RemoveImage deletes content synchronously): every name, then the blobs they referenced that
//   no remaining image, foreign index entry or in-flight pull (a lease) needs. Blobs nothing
//   references from before are prune's business, so a dry run can count exactly what goes.
//   size = the largest record size among its names (the
//   records of one manifest differ only by an index blob).
// - firstDetected: persisted per ID in <store>/image_manager/gc-state.json (src/store/gc-state.ts)
//   so consecutive kimg runs behave like one node. An ID seen for the first time gets the
//   earliest pulledAt of its names, not "now": kimg is not a daemon that watches the image list
//   every 5 minutes, the record's pull time is when the node got the image, and "now" would
//   make every image look freshly pulled to each first `kimg gc` (minAge would protect it).
//   IDs no longer in the store are dropped from the state (detectImages does the same).
// - lastUsed: the latest lastUsed of its names (kimg pull/run update it when a container uses
//   the image); images in `inUse` get lastUsed = now (detectImages) and are never removed.
// - pinned: the CRI reports Image.pinned (the sandbox image); kimg takes a list of references.
// - gcRunningSince (the kubelet's beganGC, when its GC loop started): the first GC run on this
//   store, persisted; the age phase waits until it is more than imageMaximumGCAge ago.
// - The image filesystem: fs.statfs of the store directory (capacity = bsize·blocks,
//   available = bsize·bavail, what cadvisor reports), or a configured capacity: then
//   available = capacity − the bytes of every blob in the store.
// - PruneUnknownRecords (the KEP-2535 post-GC hook, pullmanager/image_pull_manager.go): run
//   where upstream runs it (after the space walk of GarbageCollect, when usage reached the high
//   threshold, and after DeleteUnusedImages; not after an age-only GC). It deletes pulled
//   records whose imageRef is not on the node and whose lastUpdatedTime precedes the GC start.
//   Upstream passes the images its walk left (which omits in-use and pinned images and those
//   after the walk stopped: their records would go too); kimg passes every image still in the
//   store (kubelet.md §6.1 "no longer on the node"), matching an imageRef by manifest digest,
//   index digest, name, or repo@digest.

import { statfs } from "node:fs/promises";
import { KimgError } from "../errors.ts";
import { aggregateMessage, formatGoDurationNs, parseGoDurationNs } from "../go/index.ts";
import {
  decodePulledRecord,
  deleteUnusedImagesSteps,
  diskUsage,
  FREE_DISK_SPACE_FAILED,
  type FsStats,
  type GCAnswer,
  type GCEvent,
  type GCImage,
  type GCReason,
  type GCStep,
  type ImageGCPolicy,
  type ImageGCResult,
  imageGCEnabled,
  imageGCSteps,
  shouldPruneRecord,
  validateImageGCPolicy,
  validateImageGCSettings,
} from "../kubelet/index.ts";
import {
  type FsBlobStore,
  ImageGCStateFile,
  type ImageRecord,
  normalizeImageName,
  PullRecordFiles,
} from "../store/index.ts";

const NS_PER_MS = 1_000_000n;

/** The kubelet's defaults (pkg/kubelet/apis/config/v1beta1/defaults.go; kubelet.md §5.5). */
export const DEFAULT_IMAGE_GC_POLICY: ImageGCPolicy = Object.freeze({
  highThresholdPercent: 85,
  lowThresholdPercent: 80,
  minAgeMs: 2 * 60_000,
  maxAgeMs: 0,
});

// ---------------------------------------------------------------------------------------------
// Settings: thresholds and Go durations, validated with the kubelet's messages

export interface ImageGCSettings {
  /** imageGCHighThresholdPercent. */
  readonly high?: number | undefined;
  /** imageGCLowThresholdPercent. */
  readonly low?: number | undefined;
  /** imageMinimumGCAge, Go duration text (`2m`, `90s`, `1h30m`). */
  readonly minAge?: string | undefined;
  /** imageMaximumGCAge, Go duration text; `0s` disables the age phase. */
  readonly maxAge?: string | undefined;
}

function durationNs(text: string, what: string): bigint {
  try {
    return parseGoDurationNs(text);
  } catch (e) {
    throw new KimgError("INPUT_INVALID", `${what}: ${(e as Error).message}`);
  }
}

/**
 * The GC policy from settings over `base` (default: the kubelet's defaults), validated as the
 * kubelet validates its configuration (pkg/kubelet/apis/config/validation/validation.go, the
 * image GC rules; all errors aggregated like utilerrors.NewAggregate) and then as
 * NewImageGCManager does. Note the configuration rule is stricter than NewImageGCManager's:
 * low must be *less* than high. INPUT_INVALID with the kubelet's text.
 */
export function imageGCPolicyFromSettings(
  settings: ImageGCSettings,
  base: ImageGCPolicy = DEFAULT_IMAGE_GC_POLICY,
): ImageGCPolicy {
  const high = settings.high ?? base.highThresholdPercent;
  const low = settings.low ?? base.lowThresholdPercent;
  for (const [flag, v] of [
    ["imageGCHighThresholdPercent", high],
    ["imageGCLowThresholdPercent", low],
  ] as const) {
    if (!Number.isSafeInteger(v)) {
      throw new KimgError("INPUT_INVALID", `${flag} ${v} is not an integer`);
    }
  }
  const minNs =
    settings.minAge !== undefined
      ? durationNs(settings.minAge, "imageMinimumGCAge")
      : BigInt(Math.round(base.minAgeMs * 1e6));
  const maxNs =
    settings.maxAge !== undefined
      ? durationNs(settings.maxAge, "imageMaximumGCAge")
      : BigInt(Math.round(base.maxAgeMs * 1e6));
  const errs = validateImageGCSettings({
    highThresholdPercent: high,
    lowThresholdPercent: low,
    minAgeNs: minNs,
    maxAgeNs: maxNs,
  });
  if (errs.length > 0) throw new KimgError("INPUT_INVALID", aggregateMessage(errs));
  const policy: ImageGCPolicy = {
    highThresholdPercent: high,
    lowThresholdPercent: low,
    minAgeMs: Number(minNs / NS_PER_MS) + Number(minNs % NS_PER_MS) / 1e6,
    maxAgeMs: Number(maxNs / NS_PER_MS) + Number(maxNs % NS_PER_MS) / 1e6,
  };
  const more = validateImageGCPolicy(policy);
  if (more.length > 0) throw new KimgError("INPUT_INVALID", more[0] as string);
  if (policy.minAgeMs < 0) {
    // The kubelet does not check it (a negative minimum age makes every image old enough);
    // the planner refuses it, and so does kimg.
    throw new KimgError(
      "INPUT_INVALID",
      `imageMinimumGCAge ${formatGoDurationNs(minNs)} must not be negative`,
    );
  }
  return policy;
}

const QUANTITY = /^([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE]([+-]?[0-9]+))?\s*([A-Za-z]*)$/;

const SUFFIXES: ReadonlyMap<string, number> = new Map([
  ["", 1],
  ["B", 1],
  // Kubernetes binary SI (resource.Quantity) and the same with "B"/"iB".
  ["Ki", 2 ** 10],
  ["Mi", 2 ** 20],
  ["Gi", 2 ** 30],
  ["Ti", 2 ** 40],
  ["Pi", 2 ** 50],
  ["Ei", 2 ** 60],
  ["KiB", 2 ** 10],
  ["MiB", 2 ** 20],
  ["GiB", 2 ** 30],
  ["TiB", 2 ** 40],
  // Kubernetes decimal SI, and docker's kB/MB/GB/TB.
  ["k", 1e3],
  ["M", 1e6],
  ["G", 1e9],
  ["T", 1e12],
  ["P", 1e15],
  ["E", 1e18],
  ["kB", 1e3],
  ["KB", 1e3],
  ["MB", 1e6],
  ["GB", 1e9],
  ["TB", 1e12],
]);

/**
 * A byte size as people write one: Kubernetes quantities (`10Gi`, `500Mi`, `2G`, `1.5k`,
 * `1e9`) and docker-style `1.5GB`, `100MB`, `512B`. Fractions round up to whole bytes, as
 * resource.Quantity.Value() does. INPUT_INVALID for anything else.
 */
export function parseByteSize(text: string): number {
  const m = QUANTITY.exec(text.trim());
  const mult = m === null ? undefined : SUFFIXES.get(m[3] ?? "");
  if (m === null || mult === undefined) {
    throw new KimgError(
      "INPUT_INVALID",
      `invalid size "${text}": want a number of bytes with an optional suffix (Ki, Mi, Gi, Ti, k, M, G, T, kB, MB, GB, TB)`,
    );
  }
  const value = Number(m[1]) * 10 ** Number(m[2] ?? 0) * mult;
  // Round away float noise (1.1 × 1000 = 1100.0000000000002) before rounding fractions up.
  const bytes = Math.ceil(Math.round(value * 1e6) / 1e6);
  if (!Number.isSafeInteger(bytes) || bytes < 0) {
    throw new KimgError("INPUT_INVALID", `invalid size "${text}": out of range`);
  }
  return bytes;
}

// ---------------------------------------------------------------------------------------------
// Images as the GC manager sees them

export interface NodeImage {
  /** The image ID: the manifest digest. */
  readonly id: string;
  /** Every name (tag) of the image in the store, sorted. */
  readonly names: readonly string[];
  readonly size: number;
  readonly firstDetected: number;
  readonly lastUsed: number;
  readonly inUse: boolean;
  readonly pinned: boolean;
  readonly records: readonly ImageRecord[];
}

/** `docker.io/library/a:1` → `docker.io/library/a`; `x/y@sha256:…` → `x/y`. */
function repoOf(name: string): string {
  const at = name.indexOf("@");
  const base = at < 0 ? name : name.slice(0, at);
  const colon = base.lastIndexOf(":");
  return colon > base.lastIndexOf("/") ? base.slice(0, colon) : base;
}

/** Every string an image is known by: ID, other digests, names, repo@digest. */
function identitiesOf(records: readonly ImageRecord[]): Set<string> {
  const out = new Set<string>();
  for (const r of records) {
    const repo = repoOf(r.name);
    out.add(r.name);
    for (const d of [r.manifestDigest, r.indexDigest, r.target.digest]) {
      if (d === undefined) continue;
      out.add(d);
      out.add(`${repo}@${d}`);
    }
  }
  return out;
}

/** A reference as given by people (`nginx`, `reg/x:1`, `x@sha256:…`) or a bare image ID. */
function refKey(ref: string, what: string): string {
  if (/^sha(256|384|512):[0-9a-f]+$/.test(ref)) return ref;
  try {
    const n = normalizeImageName(ref);
    // normalizeImageName keeps `name:tag@digest`; the image's identity is repo@digest.
    const at = n.indexOf("@");
    return at < 0 ? n : `${repoOf(n.slice(0, at))}${n.slice(at)}`;
  } catch (e) {
    throw new KimgError("INPUT_INVALID", `${what} ${JSON.stringify(ref)}: ${(e as Error).message}`);
  }
}

function matcher(refs: Iterable<string>, what: string): (ids: Set<string>) => boolean {
  const keys = new Set<string>();
  for (const r of refs) {
    keys.add(r);
    keys.add(refKey(r, what));
  }
  return (ids) => {
    for (const k of keys) if (ids.has(k)) return true;
    return false;
  };
}

function timeOf(iso: string): number {
  const t = Date.parse(iso);
  return Number.isFinite(t) ? t : 0;
}

/**
 * detectImages over the store's records: one image per manifest digest, with firstDetected
 * from the saved state (or the earliest pulledAt), lastUsed, in-use and pinned flags.
 */
export function nodeImagesOf(
  records: readonly ImageRecord[],
  firstDetected: ReadonlyMap<string, number>,
  opts: {
    now: number;
    inUse?: Iterable<string> | undefined;
    pinned?: Iterable<string> | undefined;
  },
): NodeImage[] {
  const byId = new Map<string, ImageRecord[]>();
  for (const r of records) {
    const list = byId.get(r.manifestDigest);
    if (list === undefined) byId.set(r.manifestDigest, [r]);
    else list.push(r);
  }
  const isInUse = matcher(opts.inUse ?? [], "in-use image");
  const isPinned = matcher(opts.pinned ?? [], "pinned image");
  const out: NodeImage[] = [];
  for (const [id, recs] of byId) {
    const ids = identitiesOf(recs);
    const inUse = isInUse(ids);
    out.push({
      id,
      names: recs.map((r) => r.name).sort(),
      size: Math.max(...recs.map((r) => r.size)),
      firstDetected: firstDetected.get(id) ?? Math.min(...recs.map((r) => timeOf(r.pulledAt))),
      lastUsed: inUse ? opts.now : Math.max(...recs.map((r) => timeOf(r.lastUsed))),
      inUse,
      pinned: isPinned(ids),
      records: recs,
    });
  }
  return out.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

// ---------------------------------------------------------------------------------------------
// The image filesystem

export interface ImageFsStats extends FsStats {
  readonly source: "statfs" | "configured";
  /**
   * With a configured capacity: the store's blob bytes, which may exceed the capacity (then
   * `available` is 0). A dry run subtracts what it would free from this, not from the clamped
   * `available`, or it would promise space a real run does not give (issue 10 item 9).
   */
  readonly used?: number;
}

/** Bytes of every committed blob in the store. */
export async function storeBlobBytes(store: FsBlobStore): Promise<number> {
  let n = 0;
  for await (const b of store.list()) n += b.size;
  return n;
}

/**
 * The image filesystem's capacity and available bytes: fs.statfs of the store directory, or
 * `capacity` with available = capacity − the store's blob bytes (never below 0).
 */
export async function imageFsStats(store: FsBlobStore, capacity?: number): Promise<ImageFsStats> {
  if (capacity !== undefined) {
    const used = await storeBlobBytes(store);
    return { capacity, available: Math.max(0, capacity - used), source: "configured", used };
  }
  const st = await statfs(store.root);
  return {
    capacity: Number(st.bsize) * Number(st.blocks),
    available: Number(st.bsize) * Number(st.bavail),
    source: "statfs",
  };
}

export interface DiskUsageReport {
  readonly capacity: number;
  readonly available: number;
  /** `100 − floor(available·100 / capacity)`; undefined when capacity is 0. */
  readonly usagePercent?: number;
}

function usageOf(stats: FsStats): DiskUsageReport {
  const available = Math.min(stats.available, stats.capacity);
  if (stats.capacity === 0) return { capacity: 0, available };
  return {
    capacity: stats.capacity,
    available,
    usagePercent: diskUsage(stats, 0).usagePercent,
  };
}

// ---------------------------------------------------------------------------------------------
// The run

export interface RunImageGCOptions {
  readonly policy: ImageGCPolicy;
  /** The GC's time (ms). Default: Date.now(). */
  readonly now?: number | undefined;
  /** Configured image filesystem capacity in bytes (instead of statfs). */
  readonly capacity?: number | undefined;
  /** Image IDs (manifest digests), names or repo@digest references used by containers. */
  readonly inUse?: Iterable<string> | undefined;
  /** References (or IDs) the runtime pins: never removed. */
  readonly pinned?: Iterable<string> | undefined;
  /** Say what would be removed; change nothing (not even the saved GC state). */
  readonly dryRun?: boolean | undefined;
  /** "gc" (GarbageCollect, default) or "delete-unused" (the eviction manager's DeleteUnusedImages). */
  readonly mode?: "gc" | "delete-unused" | undefined;
}

export interface GCImageOutcome {
  readonly id: string;
  readonly names: readonly string[];
  readonly size: number;
  readonly reason: GCReason;
  readonly firstDetected: string;
  readonly lastUsed: string;
}

export interface ImageGCReport {
  readonly dryRun: boolean;
  /** --pinned references that match no image in the store. */
  readonly unmatchedPinned: readonly string[];
  readonly mode: "gc" | "delete-unused";
  /** False when the kubelet would not run image GC at all (high 100 and no max age). */
  readonly enabled: boolean;
  readonly now: string;
  readonly policy: ImageGCPolicy;
  /** When GC first ran on this store (the kubelet's beganGC). */
  readonly gcRunningSince?: string;
  /** The age phase: off (max age 0), waiting (GC has not run for max age yet), or ran. */
  readonly agePhase: "off" | "waiting" | "ran";
  /** When the age phase starts, while it is waiting. */
  readonly ageGCStartsAfter?: string;
  readonly capacitySource: "statfs" | "configured";
  readonly before: DiskUsageReport;
  readonly after: DiskUsageReport;
  /** Images removed (or, dry run, that would be), in order. */
  readonly removed: readonly GCImageOutcome[];
  readonly failed: readonly { id: string; names: readonly string[]; error: string }[];
  /** Bytes the space phase wanted to free (undefined: it did not run or had no limit). */
  readonly amountToFree?: number;
  /** Sum of the sizes of the images the space phase removed. */
  readonly spaceFreed: number;
  /** Blob bytes deleted (or that would be): what the disk actually gets back. */
  readonly reclaimedBytes: number;
  readonly deletedBlobs: number;
  /** KEP-2535 pulled records deleted (or that would be) by PruneUnknownRecords. */
  readonly prunedPullRecords: number;
  /** Events the kubelet records on the node (FreeDiskSpaceFailed, InvalidDiskCapacity). */
  readonly events: readonly GCEvent[];
  /** The error GarbageCollect / DeleteUnusedImages returns. */
  readonly error?: string;
}

const iso = (ms: number): string => new Date(ms).toISOString();

/**
 * One image GC run on the store, as the kubelet's image GC manager does it (see the top of
 * this file). Removals go through the store; with `dryRun` nothing changes and the numbers
 * are what would happen (the blobs that would be freed are counted from the records).
 */
export async function runImageGC(
  store: FsBlobStore,
  opts: RunImageGCOptions,
): Promise<ImageGCReport> {
  const now = opts.now ?? Date.now();
  const dryRun = opts.dryRun === true;
  const mode = opts.mode ?? "gc";
  const { policy } = opts;
  const stateFile = new ImageGCStateFile(store.root);
  const saved = await stateFile.read();
  const records = await store.listImages();
  const images = nodeImagesOf(records, saved.firstDetected, {
    now,
    inUse: opts.inUse,
    pinned: opts.pinned,
  });
  const byId = new Map(images.map((i) => [i.id, i]));
  // A pinned reference that names no stored image protects nothing: said, not silently kept
  // (issue 10 item 9), since a typo there would let GC remove the image meant.
  const unmatchedPinned = [...(opts.pinned ?? [])].filter((p) => {
    const is = matcher([p], "pinned image");
    return !images.some((i) => is(identitiesOf(i.records)));
  });
  const enabled = mode === "delete-unused" || imageGCEnabled(policy);
  const gcRunningSince =
    mode === "gc" && enabled ? (saved.gcRunningSince ?? now) : saved.gcRunningSince;

  // In-use images were just used (detectImages sets lastUsed = now).
  if (!dryRun) {
    for (const img of images) {
      if (!img.inUse) continue;
      for (const n of img.names) await store.markImageUsed(n, new Date(now));
    }
  }

  const first = await imageFsStats(store, opts.capacity);
  const removedIds = new Set<string>();
  const removed: GCImageOutcome[] = [];
  const failed: { id: string; names: readonly string[]; error: string }[] = [];
  let reclaimedBytes = 0;
  let deletedBlobs = 0;

  /** Blob bytes that removing `removedIds` frees (blobs no other image uses). */
  const simulatedFree = async (): Promise<{ bytes: number; count: number }> => {
    const keep = new Set<string>();
    for (const r of records)
      if (!removedIds.has(r.manifestDigest)) for (const b of r.blobs) keep.add(b);
    const gone = new Set<string>();
    for (const r of records) {
      if (!removedIds.has(r.manifestDigest)) continue;
      for (const b of r.blobs) if (!keep.has(b)) gone.add(b);
    }
    let bytes = 0;
    for (const b of gone) bytes += (await store.stat(b))?.size ?? 0;
    return { bytes, count: gone.size };
  };
  const measure = async (): Promise<ImageFsStats> => {
    if (!dryRun) return imageFsStats(store, opts.capacity);
    const s = await imageFsStats(store, opts.capacity);
    const sim = await simulatedFree();
    if (s.used !== undefined) {
      return { ...s, available: Math.max(0, s.capacity - Math.max(0, s.used - sim.bytes)) };
    }
    return { ...s, available: Math.min(s.capacity, s.available + sim.bytes) };
  };

  const planInput: GCImage[] = images.map((i) => ({
    id: i.id,
    size: i.size,
    firstDetected: i.firstDetected,
    lastUsed: i.lastUsed,
    inUse: i.inUse,
    pinned: i.pinned,
  }));
  let result: ImageGCResult | undefined;
  if (enabled) {
    const steps: Generator<GCStep, ImageGCResult, GCAnswer> =
      mode === "delete-unused"
        ? deleteUnusedImagesSteps({ images: planInput, now, minAgeMs: policy.minAgeMs })
        : imageGCSteps({
            ...policy,
            images: planInput,
            now,
            gcRunningSince: gcRunningSince ?? now,
          });
    let next = steps.next();
    while (next.done !== true) {
      const step = next.value;
      if (step.kind === "measure") {
        const s = await measure();
        next = steps.next({ capacity: s.capacity, available: s.available });
        continue;
      }
      const img = byId.get(step.id) as NodeImage;
      let answer: string | undefined;
      if (!dryRun) {
        try {
          const r = await store.removeImages(img.names);
          reclaimedBytes += r.freedBytes;
          deletedBlobs += r.deleted.length;
        } catch (e) {
          answer = (e as Error).message;
          failed.push({ id: img.id, names: img.names, error: answer });
        }
      }
      if (answer === undefined) {
        removedIds.add(img.id);
        removed.push({
          id: img.id,
          names: img.names,
          size: img.size,
          reason: step.reason,
          firstDetected: iso(img.firstDetected),
          lastUsed: iso(img.lastUsed),
        });
      }
      next = steps.next(answer);
    }
    result = next.value;
  }
  if (dryRun) {
    const sim = await simulatedFree();
    reclaimedBytes = sim.bytes;
    deletedBlobs = sim.count;
  }

  // PruneUnknownRecords: where upstream runs the post-GC hooks.
  const spaceWalkRan =
    result !== undefined &&
    (mode === "delete-unused"
      ? result.error === undefined
      : result.usagePercent !== undefined &&
        result.usagePercent >= policy.highThresholdPercent &&
        (result.error === undefined ||
          result.events.some((e) => e.reason === FREE_DISK_SPACE_FAILED)));
  let prunedPullRecords = 0;
  if (spaceWalkRan) {
    const remaining = dryRun
      ? records.filter((r) => !removedIds.has(r.manifestDigest))
      : await store.listImages();
    const onNode = identitiesOf(remaining);
    const files = new PullRecordFiles(store.root);
    for (const f of await files.list("pulled")) {
      if (f.value === undefined) continue;
      let rec: ReturnType<typeof decodePulledRecord>;
      try {
        rec = decodePulledRecord(f.value);
      } catch {
        continue; // unreadable records are left alone (upstream: listed with errors, skipped)
      }
      if (!shouldPruneRecord(rec, onNode, now)) continue;
      if (!dryRun) await files.deleteFile(f.file);
      prunedPullRecords++;
    }
  }

  if (!dryRun) {
    const firstDetected = new Map<string, number>();
    for (const img of images)
      if (!removedIds.has(img.id)) firstDetected.set(img.id, img.firstDetected);
    await stateFile.write({ gcRunningSince, firstDetected });
  }

  // A dry run's "after" is the measurement plus the blobs that would be freed.
  const last = await measure();
  const agePhase =
    policy.maxAgeMs === 0 || mode === "delete-unused" || !enabled
      ? "off"
      : now - (gcRunningSince ?? now) > policy.maxAgeMs
        ? "ran"
        : "waiting";
  return {
    dryRun,
    mode,
    enabled,
    now: iso(now),
    policy,
    ...(gcRunningSince !== undefined ? { gcRunningSince: iso(gcRunningSince) } : {}),
    agePhase,
    ...(agePhase === "waiting"
      ? { ageGCStartsAfter: iso((gcRunningSince ?? now) + policy.maxAgeMs) }
      : {}),
    unmatchedPinned,
    capacitySource: first.source,
    before: usageOf(first),
    after: usageOf(last),
    removed,
    failed,
    ...(result !== undefined &&
    result.amountToFree > 0 &&
    result.amountToFree !== Number.POSITIVE_INFINITY
      ? { amountToFree: result.amountToFree }
      : {}),
    spaceFreed: result?.freed ?? 0,
    reclaimedBytes,
    deletedBlobs,
    prunedPullRecords,
    events: result?.events ?? [],
    ...(result?.error !== undefined ? { error: result.error } : {}),
  };
}
