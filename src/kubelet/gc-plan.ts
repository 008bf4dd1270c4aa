// The kubelet's image garbage collection, as a pure plan (kubelet.md §8). No I/O, no clock:
// the caller lists the images with their times (ms since the epoch), measures the image
// filesystem and removes what the plan names.
//
// Upstream sources (kubernetes/kubernetes), read for this file:
// - pkg/kubelet/images/image_gc_manager.go — NewImageGCManager (policy validation),
//   GarbageCollect, freeOldImages, DeleteUnusedImages, freeSpace, imagesInEvictionOrder,
//   byLastUsedAndDetected, ImageGarbageCollectedTotalReason{Age,Space}
// - pkg/kubelet/events/event.go — InvalidDiskCapacity, FreeDiskSpaceFailed
// - pkg/kubelet/images/image_gc_manager_test.go — ported in test/kubelet/gc-plan.test.ts
//
// Two ways to use it:
// - `planImageGC(input)` / `planDeleteUnusedImages(input)`: the whole plan, assuming every
//   removal succeeds and the filesystem numbers given are those after the age phase (a dry run
//   cannot measure them; upstream measures after removing old images).
// - `imageGCSteps(input)`: a generator that yields each removal (answer `undefined` when it
//   worked, or the error text) and, between the phases, a request for fresh filesystem numbers —
//   upstream's exact control flow, including what happens when removals fail.

import { KimgError } from "../errors.ts";
import { aggregateMessage, formatGoDurationNs } from "../go/index.ts";
import type { KubeletEvent } from "../policy/index.ts";

/** The kubelet's event type (src/kubelet/events.ts), under the name the GC API uses. */
export type GCEvent = KubeletEvent;

/** Event reasons (pkg/kubelet/events/event.go); recorded on the node. */
export const INVALID_DISK_CAPACITY = "InvalidDiskCapacity";
export const FREE_DISK_SPACE_FAILED = "FreeDiskSpaceFailed";

/** Go's math.MaxInt64, what DeleteUnusedImages asks freeSpace to free (printed in its errors). */
const MAX_INT64_TEXT = "9223372036854775807";

export interface GCImage {
  readonly id: string;
  /** Bytes. */
  readonly size: number;
  /** When the kubelet first saw the image (ms). */
  readonly firstDetected: number;
  /** When a container last used it (ms); undefined = never (Go's zero time: oldest of all). */
  readonly lastUsed?: number | undefined;
  /** Referenced by a container (running or not): never removed. */
  readonly inUse?: boolean | undefined;
  /** Pinned by the runtime (e.g. the sandbox image): never removed. */
  readonly pinned?: boolean | undefined;
}

export interface ImageGCPolicy {
  /** 0–100; usage at or above it triggers the space phase. Default 85. */
  readonly highThresholdPercent: number;
  /** 0–100, ≤ high; the space phase frees down to it. Default 80. */
  readonly lowThresholdPercent: number;
  /** imageMinimumGCAge in ms (default 2 min): younger images are kept by the space phase. */
  readonly minAgeMs: number;
  /** imageMaximumGCAge in ms; 0 (default) disables the age phase. */
  readonly maxAgeMs: number;
}

export interface FsStats {
  /** Bytes of the image filesystem. */
  readonly capacity: number;
  /** Bytes available (capped at capacity). */
  readonly available: number;
}

export interface ImageGCInput extends ImageGCPolicy {
  readonly images: readonly GCImage[];
  /** The GC's time ("freeTime"), ms. */
  readonly now: number;
  /** When the kubelet's GC loop began ("beganGC"), ms: the age phase waits until now − this > maxAge. */
  readonly gcRunningSince: number;
}

export type GCReason = "age" | "space";

export interface GCRemoval {
  readonly id: string;
  readonly reason: GCReason;
  readonly size: number;
}

export interface ImageGCResult {
  /** Removed images, in order (with `imageGCSteps`: the ones that worked). */
  readonly removals: GCRemoval[];
  /** `100 − floor(available·100 / capacity)`; undefined when the space phase did not run. */
  readonly usagePercent?: number;
  /** Bytes the space phase wanted to free (0 below the high threshold; +∞ for delete-unused). */
  readonly amountToFree: number;
  /** Bytes the space phase freed (the sizes of its removals). */
  readonly freed: number;
  /** Events the kubelet records on the node. */
  readonly events: GCEvent[];
  /** The error GarbageCollect / DeleteUnusedImages returns; undefined on success. */
  readonly error?: string;
}

export type GCStep =
  | {
      readonly kind: "remove";
      readonly id: string;
      readonly reason: GCReason;
      readonly size: number;
    }
  | { readonly kind: "measure" };

/** Answer to a step: for "remove", undefined (removed) or the error text; for "measure", the stats. */
export type GCAnswer = string | FsStats | undefined;

function invalid(message: string): KimgError {
  return new KimgError("INPUT_INVALID", message);
}

/** NewImageGCManager's policy validation, with its messages. */
export function validateImageGCPolicy(policy: ImageGCPolicy): string[] {
  const errs: string[] = [];
  const { highThresholdPercent: high, lowThresholdPercent: low } = policy;
  if (high < 0 || high > 100)
    errs.push(`invalid HighThresholdPercent ${high}, must be in range [0-100]`);
  else if (low < 0 || low > 100)
    errs.push(`invalid LowThresholdPercent ${low}, must be in range [0-100]`);
  else if (low > high)
    errs.push(`LowThresholdPercent ${low} can not be higher than HighThresholdPercent ${high}`);
  return errs;
}

/**
 * Whether the kubelet runs image GC at all: not when the high threshold is 100 and no
 * maximum age is set (kubelet.md §8; pkg/kubelet/kubelet.go StartGarbageCollection).
 */
export function imageGCEnabled(
  policy: Pick<ImageGCPolicy, "highThresholdPercent" | "maxAgeMs">,
): boolean {
  return !(policy.highThresholdPercent === 100 && policy.maxAgeMs === 0);
}

function checkInput(input: ImageGCInput): void {
  const errs = validateImageGCPolicy(input);
  if (errs.length > 0) throw invalid(errs[0] as string);
  for (const [k, v] of [
    ["highThresholdPercent", input.highThresholdPercent],
    ["lowThresholdPercent", input.lowThresholdPercent],
  ] as const) {
    if (!Number.isInteger(v)) throw invalid(`image GC: ${k} ${v} is not an integer`);
  }
  for (const [k, v] of [
    ["now", input.now],
    ["gcRunningSince", input.gcRunningSince],
    ["minAgeMs", input.minAgeMs],
    ["maxAgeMs", input.maxAgeMs],
  ] as const) {
    if (!Number.isFinite(v)) throw invalid(`image GC: ${k} ${v} is not a finite number`);
  }
  if (input.minAgeMs < 0 || input.maxAgeMs < 0)
    throw invalid("image GC: ages must not be negative");
  const seen = new Set<string>();
  for (const img of input.images) {
    if (seen.has(img.id)) throw invalid(`image GC: image ${img.id} is listed twice`);
    seen.add(img.id);
    if (!Number.isSafeInteger(img.size) || img.size < 0)
      throw invalid(`image GC: image ${img.id} has size ${img.size}`);
    if (!Number.isFinite(img.firstDetected))
      throw invalid(`image GC: image ${img.id} has no firstDetected time`);
    if (img.lastUsed !== undefined && !Number.isFinite(img.lastUsed)) {
      throw invalid(`image GC: image ${img.id} has lastUsed ${img.lastUsed}`);
    }
  }
}

function checkStats(stats: FsStats): void {
  if (!Number.isSafeInteger(stats.capacity) || stats.capacity < 0) {
    throw invalid(`image GC: capacity ${stats.capacity} is not a byte count`);
  }
  if (!Number.isSafeInteger(stats.available) || stats.available < 0) {
    throw invalid(`image GC: available ${stats.available} is not a byte count`);
  }
}

interface Candidate {
  readonly image: GCImage;
  readonly id: string;
  readonly size: number;
  readonly firstDetected: number;
  /** -Infinity when never used. */
  readonly lastUsed: number;
}

/**
 * imagesInEvictionOrder: images neither in use nor pinned, by lastUsed ascending, ties by
 * firstDetected ascending (never-used images first). Upstream sorts a slice built from a map
 * with the unstable sort.Sort, so full ties have no defined order; here they keep input order.
 */
export function imagesInEvictionOrder(images: readonly GCImage[]): GCImage[] {
  return candidatesOf(images).map((c) => c.image);
}

function candidatesOf(images: readonly GCImage[]): Candidate[] {
  const out: Candidate[] = [];
  for (const img of images) {
    if (img.inUse === true || img.pinned === true) continue;
    out.push({
      image: img,
      id: img.id,
      size: img.size,
      firstDetected: img.firstDetected,
      lastUsed: img.lastUsed ?? Number.NEGATIVE_INFINITY,
    });
  }
  // Array.prototype.sort is stable.
  return out.sort((a, b) =>
    a.lastUsed === b.lastUsed ? cmp(a.firstDetected, b.firstDetected) : cmp(a.lastUsed, b.lastUsed),
  );
}

function cmp(a: number, b: number): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * `usagePercent := 100 - int(available*100/capacity)` and
 * `amountToFree := capacity*int64(100-low)/100 - available`, in exact integer arithmetic
 * (int64 in Go; BigInt here, as doubles lose bytes above 2^53/100).
 */
export function diskUsage(
  stats: FsStats,
  lowThresholdPercent: number,
): { usagePercent: number; amountToFree: number; available: number } {
  const capacity = BigInt(stats.capacity);
  const available = BigInt(Math.min(stats.available, stats.capacity));
  if (capacity === 0n) throw invalid("invalid capacity 0 on image filesystem");
  const usagePercent = 100 - Number((available * 100n) / capacity);
  const amountToFree = Number((capacity * BigInt(100 - lowThresholdPercent)) / 100n - available);
  return { usagePercent, amountToFree, available: Number(available) };
}

/**
 * freeSpace: walks the candidates, skipping those used at or after `now` and those first
 * detected less than minAge ago; removal errors are collected and the walk goes on; stops once
 * `bytesToFree` bytes are freed. (Kubelets before the imagesInEvictionOrder refactor stopped
 * the walk at the first image used at or after `now`; current upstream `continue`s.)
 */
function* freeSpace(
  candidates: readonly Candidate[],
  bytesToFree: number,
  now: number,
  minAgeMs: number,
  removals: GCRemoval[],
): Generator<GCStep, { freed: number; error?: string }, GCAnswer> {
  const errors: string[] = [];
  let freed = 0;
  for (const img of candidates) {
    if (img.lastUsed >= now) continue;
    if (now - img.firstDetected < minAgeMs) continue;
    const answer = yield { kind: "remove", id: img.id, reason: "space", size: img.size };
    if (typeof answer === "string") {
      errors.push(answer);
      continue;
    }
    removals.push({ id: img.id, reason: "space", size: img.size });
    freed += img.size;
    if (freed >= bytesToFree) break;
  }
  if (errors.length > 0) {
    const wanted = bytesToFree === Number.POSITIVE_INFINITY ? MAX_INT64_TEXT : String(bytesToFree);
    return {
      freed,
      error: `wanted to free ${wanted} bytes, but freed ${freed} bytes space with errors in image deletion: ${aggregateMessage(errors)}`,
    };
  }
  return { freed };
}

/**
 * GarbageCollect, step by step. Yields `{kind: "remove"}` for each image to remove (answer
 * undefined on success or the error text) and one `{kind: "measure"}` after the age phase
 * (answer the image filesystem's {capacity, available}). Returns the result.
 */
export function* imageGCSteps(input: ImageGCInput): Generator<GCStep, ImageGCResult, GCAnswer> {
  checkInput(input);
  const { now } = input;
  const removals: GCRemoval[] = [];
  const events: GCEvent[] = [];
  let candidates = candidatesOf(input.images);

  // Phase 1, freeOldImages: only once the GC has run for longer than maxAge.
  if (input.maxAgeMs !== 0 && now - input.gcRunningSince > input.maxAgeMs) {
    const errors: string[] = [];
    const remaining: Candidate[] = [];
    for (const img of candidates) {
      if (now - img.lastUsed > input.maxAgeMs) {
        const answer = yield { kind: "remove", id: img.id, reason: "age", size: img.size };
        if (typeof answer === "string") {
          errors.push(answer);
          remaining.push(img);
        } else {
          removals.push({ id: img.id, reason: "age", size: img.size });
        }
        continue;
      }
      remaining.push(img);
    }
    if (errors.length > 0) {
      return {
        removals,
        amountToFree: 0,
        freed: 0,
        events,
        error: `wanted to free images older than ${formatGoDurationNs(BigInt(Math.round(input.maxAgeMs * 1_000_000)))}, encountered errors in image deletion: ${aggregateMessage(errors)}`,
      };
    }
    candidates = remaining;
  }

  // Phase 2, space.
  const answer = yield { kind: "measure" };
  if (answer === undefined || typeof answer === "string")
    throw invalid("image GC: the measure step needs {capacity, available}");
  checkStats(answer);
  if (answer.capacity === 0) {
    const error = "invalid capacity 0 on image filesystem";
    events.push({ type: "Warning", reason: INVALID_DISK_CAPACITY, message: error });
    return { removals, amountToFree: 0, freed: 0, events, error };
  }
  const { usagePercent, amountToFree } = diskUsage(answer, input.lowThresholdPercent);
  if (usagePercent < input.highThresholdPercent) {
    return { removals, usagePercent, amountToFree: 0, freed: 0, events };
  }
  const r = yield* freeSpace(candidates, amountToFree, now, input.minAgeMs, removals);
  if (r.error !== undefined) {
    return { removals, usagePercent, amountToFree, freed: r.freed, events, error: r.error };
  }
  if (r.freed < amountToFree) {
    const error = `Failed to garbage collect required amount of images. Attempted to free ${amountToFree} bytes, but only found ${r.freed} bytes eligible to free.`;
    events.push({ type: "Warning", reason: FREE_DISK_SPACE_FAILED, message: error });
    return { removals, usagePercent, amountToFree, freed: r.freed, events, error };
  }
  return { removals, usagePercent, amountToFree, freed: r.freed, events };
}

/**
 * DeleteUnusedImages (the eviction manager's), step by step: the space walk with
 * bytesToFree = +∞ (math.MaxInt64), still honouring minAge, in-use and pinned; no age phase,
 * no thresholds, no measuring.
 */
export function* deleteUnusedImagesSteps(
  input: Pick<ImageGCInput, "images" | "now" | "minAgeMs">,
): Generator<GCStep, ImageGCResult, GCAnswer> {
  checkInput({
    ...input,
    highThresholdPercent: 100,
    lowThresholdPercent: 0,
    maxAgeMs: 0,
    gcRunningSince: input.now,
  });
  const removals: GCRemoval[] = [];
  const r = yield* freeSpace(
    candidatesOf(input.images),
    Number.POSITIVE_INFINITY,
    input.now,
    input.minAgeMs,
    removals,
  );
  const base = { removals, amountToFree: Number.POSITIVE_INFINITY, freed: r.freed, events: [] };
  return r.error === undefined ? base : { ...base, error: r.error };
}

function runAll(steps: Generator<GCStep, ImageGCResult, GCAnswer>, stats?: FsStats): ImageGCResult {
  let next = steps.next();
  while (next.done !== true) {
    if (next.value.kind === "measure") {
      if (stats === undefined) throw invalid("image GC: capacity and available are required");
      next = steps.next(stats);
    } else {
      next = steps.next(undefined);
    }
  }
  return next.value;
}

/** The whole GarbageCollect plan, every removal assumed to succeed. */
export function planImageGC(input: ImageGCInput & FsStats): ImageGCResult {
  return runAll(imageGCSteps(input), { capacity: input.capacity, available: input.available });
}

/** The whole DeleteUnusedImages plan, every removal assumed to succeed. */
export function planDeleteUnusedImages(
  input: Pick<ImageGCInput, "images" | "now" | "minAgeMs">,
): ImageGCResult {
  return runAll(deleteUnusedImagesSteps(input));
}
