// Tests for src/kubelet/gc-plan.ts (kubelet.md §8), ported from kubernetes
// pkg/kubelet/images/image_gc_manager_test.go: the cases about choosing and freeing (the
// detectImages bookkeeping and CRI plumbing belong to the I/O caller). Times are ms; the
// fake clocks of upstream's tests become explicit numbers.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  deleteUnusedImagesSteps,
  diskUsage,
  type GCAnswer,
  type GCImage,
  type GCStep,
  type ImageGCInput,
  type ImageGCResult,
  imageGCEnabled,
  imageGCSteps,
  imagesInEvictionOrder,
  planDeleteUnusedImages,
  planImageGC,
  validateImageGCPolicy,
} from "../../src/kubelet/index.ts";

const T0 = Date.UTC(2026, 10, 28, 0, 0, 0);
const MIN = 60_000;

/** upstream makeImage(id, size): detected at `firstDetected`, never used. */
function img(id: number, size: number, extra: Partial<GCImage> = {}): GCImage {
  return { id: `image-${id}`, size, firstDetected: T0, ...extra };
}

/** upstream getImagesAndFreeSpace via DeleteUnusedImages-style freeSpace(bytesToFree). */
function freeSpace(images: GCImage[], bytesToFree: number, now: number, minAgeMs = 0) {
  // freeSpace alone = the space phase with amountToFree forced: use a filesystem that needs
  // exactly bytesToFree (capacity 100·bytesToFree, available 0, low 99 → toFree = bytesToFree).
  const r = planImageGC({
    images,
    now,
    gcRunningSince: now,
    capacity: bytesToFree * 100,
    available: 0,
    highThresholdPercent: 100,
    lowThresholdPercent: 99,
    minAgeMs,
    maxAgeMs: 0,
  });
  assert.equal(r.amountToFree, bytesToFree);
  const removed = new Set(r.removals.map((x) => x.id));
  return { freed: r.freed, left: images.filter((i) => !removed.has(i.id)).length, result: r };
}

const POLICY = { highThresholdPercent: 90, lowThresholdPercent: 80, minAgeMs: 0, maxAgeMs: 0 };

describe("eviction order and freeSpace (image_gc_manager_test.go)", () => {
  it("TestDeleteUnusedImagesExemptSandboxImage", () => {
    const r = planDeleteUnusedImages({
      images: [
        { id: "registry.k8s.io/pause-amd64:latest", size: 1024, firstDetected: T0, pinned: true },
      ],
      now: T0 + MIN,
      minAgeMs: 0,
    });
    assert.deepEqual(r.removals, []);
    assert.equal(r.error, undefined);
  });

  it("TestDoNotDeletePinnedImage", () => {
    const images = [
      { id: "1", size: 1024, firstDetected: T0, pinned: true },
      { id: "2", size: 1024, firstDetected: T0 },
    ];
    const { freed, left } = freeSpace(images, 4096, T0);
    assert.equal(freed, 1024);
    assert.equal(left, 1);
  });

  it("TestDeleteUnPinnedImage", () => {
    const images = [
      { id: "1", size: 1024, firstDetected: T0, pinned: false },
      { id: "2", size: 1024, firstDetected: T0 },
    ];
    const { freed, left } = freeSpace(images, 2048, T0);
    assert.equal(freed, 2048);
    assert.equal(left, 0);
  });

  it("TestAllPinnedImages", () => {
    const images = [
      { id: "1", size: 1024, firstDetected: T0, pinned: true },
      { id: "2", size: 1024, firstDetected: T0, pinned: true },
    ];
    const { freed, left } = freeSpace(images, 2048, T0);
    assert.equal(freed, 0);
    assert.equal(left, 2);
  });

  it("TestFreeSpaceImagesInUseContainersAreIgnored", () => {
    const { freed, left } = freeSpace(
      [img(0, 1024), img(1, 2048, { inUse: true, lastUsed: T0 })],
      2048,
      T0,
    );
    assert.equal(freed, 1024);
    assert.equal(left, 1);
  });

  it("TestDeleteUnusedImagesRemoveAllUnusedImages", () => {
    const images = [img(0, 1024), img(1, 2048), img(2, 2048, { inUse: true, lastUsed: T0 })];
    const r = planDeleteUnusedImages({ images, now: T0, minAgeMs: 0 });
    assert.deepEqual(
      r.removals.map((x) => x.id),
      ["image-0", "image-1"],
    );
    assert.equal(r.freed, 3072);
    assert.equal(r.amountToFree, Number.POSITIVE_INFINITY);
    assert.equal(r.error, undefined);
  });

  it("TestDeleteUnusedImagesLimitByImageLiveTime", () => {
    const images = [img(0, 1024), img(1, 2048), img(2, 2048, { inUse: true, lastUsed: T0 })];
    // Just detected: not old enough.
    assert.deepEqual(planDeleteUnusedImages({ images, now: T0, minAgeMs: 3000 }).removals, []);
    assert.deepEqual(
      planDeleteUnusedImages({ images, now: T0 + 2999, minAgeMs: 3000 }).removals,
      [],
    );
    // 3 seconds later they are.
    assert.equal(
      planDeleteUnusedImages({ images, now: T0 + 3000, minAgeMs: 3000 }).removals.length,
      2,
    );
  });

  it("TestFreeSpaceRemoveByLeastRecentlyUsed", () => {
    // 1 was used more recently than 0; the delete time is one minute later.
    const images = [img(0, 1024, { lastUsed: T0 }), img(1, 2048, { lastUsed: T0 + 1 })];
    const { freed, left, result } = freeSpace(images, 1024, T0 + MIN);
    assert.equal(freed, 1024);
    assert.equal(left, 1);
    assert.deepEqual(result.removals, [{ id: "image-0", reason: "space", size: 1024 }]);
  });

  it("TestFreeSpaceTiesBrokenByDetectedTime", () => {
    // 0 detected first and in use until now; 1 detected later and never used → 1 goes first.
    const images = [
      img(0, 1024, { firstDetected: T0, lastUsed: T0 + 10 }),
      img(1, 2048, { firstDetected: T0 + 10 }),
    ];
    const { freed, left } = freeSpace(images, 1024, T0 + 20);
    assert.equal(freed, 2048);
    assert.equal(left, 1);
  });

  it("ties on lastUsed are broken by firstDetected; full ties keep input order", () => {
    const images: GCImage[] = [
      { id: "c", size: 1, firstDetected: T0 + 2, lastUsed: T0 + 5 },
      { id: "b", size: 1, firstDetected: T0 + 1, lastUsed: T0 + 5 },
      { id: "used", size: 1, firstDetected: T0, lastUsed: T0 + 9, inUse: true },
      { id: "never2", size: 1, firstDetected: T0 + 3 },
      { id: "never1", size: 1, firstDetected: T0 + 3 },
      { id: "a", size: 1, firstDetected: T0 + 9, lastUsed: T0 + 4 },
      { id: "pinned", size: 1, firstDetected: T0, pinned: true },
    ];
    assert.deepEqual(
      imagesInEvictionOrder(images).map((i) => i.id),
      ["never2", "never1", "a", "b", "c"],
    );
  });

  it("images used at or after the GC time are skipped (not a stop)", () => {
    const images = [
      img(0, 10, { lastUsed: T0 + 100 }),
      img(1, 10, { lastUsed: T0 + 50 }),
      img(2, 10, { lastUsed: T0 + 200 }),
    ];
    const { result } = freeSpace(images, 100, T0 + 100);
    assert.deepEqual(
      result.removals.map((r) => r.id),
      ["image-1"],
    );
  });
});

describe("GarbageCollect (image_gc_manager_test.go)", () => {
  it("TestGarbageCollectBelowLowThreshold: 40% usage, nothing to do", () => {
    const r = planImageGC({
      ...POLICY,
      images: [img(0, 450)],
      now: T0,
      gcRunningSince: T0,
      capacity: 1000,
      available: 600,
    });
    assert.deepEqual(r, { removals: [], usagePercent: 40, amountToFree: 0, freed: 0, events: [] });
  });

  it("TestGarbageCollectBelowSuccess: 95% usage and most of it gets freed", () => {
    const r = planImageGC({
      ...POLICY,
      images: [img(0, 450)],
      now: T0,
      gcRunningSince: T0,
      capacity: 1000,
      available: 50,
    });
    assert.equal(r.usagePercent, 95);
    assert.equal(r.amountToFree, 150);
    assert.equal(r.freed, 450);
    assert.deepEqual(r.removals, [{ id: "image-0", reason: "space", size: 450 }]);
    assert.equal(r.error, undefined);
    assert.deepEqual(r.events, []);
  });

  it("TestGarbageCollectNotEnoughFreed: FreeDiskSpaceFailed", () => {
    const r = planImageGC({
      ...POLICY,
      images: [img(0, 50)],
      now: T0,
      gcRunningSince: T0,
      capacity: 1000,
      available: 50,
    });
    const msg =
      "Failed to garbage collect required amount of images. Attempted to free 150 bytes, but only found 50 bytes eligible to free.";
    assert.equal(r.error, msg);
    assert.deepEqual(r.events, [{ type: "Warning", reason: "FreeDiskSpaceFailed", message: msg }]);
    assert.equal(r.freed, 50);
  });

  it("TestGarbageCollectImageNotOldEnough", () => {
    const images = [img(0, 1024), img(1, 2048, { inUse: true, lastUsed: T0 })];
    // one image is in use, the other not old enough
    assert.equal(freeSpace(images, 1024, T0, MIN).freed, 0);
    // move the clock by minAge: one image is collected
    const later = freeSpace(images, 1024, T0 + MIN, MIN);
    assert.equal(later.freed, 1024);
    assert.equal(later.left, 1);
  });

  it("TestGarbageCollectImageTooOld", () => {
    const policy = {
      highThresholdPercent: 90,
      lowThresholdPercent: 80,
      minAgeMs: 0,
      maxAgeMs: MIN,
    };
    // image 0 was just used by a pod; image 1 is in use
    const images = [img(0, 1024, { lastUsed: T0 }), img(1, 2048, { inUse: true, lastUsed: T0 })];
    const fs = { capacity: 1000, available: 1000 };
    // first round, GC just started: nothing collected by age
    assert.deepEqual(
      planImageGC({ ...policy, ...fs, images, now: T0, gcRunningSince: T0 }).removals,
      [],
    );
    // GC running exactly maxAge: still waiting (freeTime.Sub(beganGC) <= MaxAge)
    assert.deepEqual(
      planImageGC({ ...policy, ...fs, images, now: T0 + MIN, gcRunningSince: T0 }).removals,
      [],
    );
    // a millisecond past maxAge: image 0 is collected (reason age), the in-use one is not
    const r = planImageGC({ ...policy, ...fs, images, now: T0 + MIN + 1, gcRunningSince: T0 });
    assert.deepEqual(r.removals, [{ id: "image-0", reason: "age", size: 1024 }]);
    assert.equal(r.usagePercent, 0);
  });

  it("age phase: now − lastUsed must exceed maxAge; never-used images are the oldest; no minAge check", () => {
    const policy = {
      highThresholdPercent: 90,
      lowThresholdPercent: 80,
      minAgeMs: 10 * MIN,
      maxAgeMs: MIN,
    };
    const now = T0 + 100 * MIN;
    const images = [
      img(0, 1, { lastUsed: now - MIN }),
      img(1, 1, { lastUsed: now - MIN - 1 }),
      img(2, 1, { firstDetected: now }),
      img(3, 1, { lastUsed: now - 5 * MIN, pinned: true }),
    ];
    const r = planImageGC({
      ...policy,
      images,
      now,
      gcRunningSince: T0,
      capacity: 10,
      available: 10,
    });
    assert.deepEqual(
      r.removals.map((x) => `${x.id}:${x.reason}`),
      ["image-2:age", "image-1:age"],
    );
  });

  it("TestGarbageCollectImageMaxAgeDisabled", () => {
    const images = [img(0, 1024), img(1, 2048, { inUse: true, lastUsed: T0 })];
    const far = 8.64e15; // the largest time a JS number holds as a date
    const r = planImageGC({
      ...POLICY,
      images,
      now: far,
      gcRunningSince: T0,
      capacity: 1000,
      available: 1000,
    });
    assert.deepEqual(r.removals, []);
  });

  it("age removals happen before the space phase, which walks what is left", () => {
    const policy = {
      highThresholdPercent: 50,
      lowThresholdPercent: 40,
      minAgeMs: 0,
      maxAgeMs: 10 * MIN,
    };
    const now = T0 + 60 * MIN;
    const images = [
      img(0, 300, { lastUsed: now - 20 * MIN }),
      img(1, 200, { lastUsed: now - MIN }),
      img(2, 100, { lastUsed: now - 2 * MIN }),
    ];
    const r = planImageGC({
      ...policy,
      images,
      now,
      gcRunningSince: T0,
      capacity: 1000,
      available: 400,
    });
    // usage 60% ≥ 50 → toFree = 1000·60/100 − 400 = 200
    assert.equal(r.usagePercent, 60);
    assert.equal(r.amountToFree, 200);
    assert.deepEqual(r.removals, [
      { id: "image-0", reason: "age", size: 300 },
      { id: "image-2", reason: "space", size: 100 },
      { id: "image-1", reason: "space", size: 200 },
    ]);
    assert.equal(r.freed, 300);
  });

  it("TestValidateImageGCPolicy", () => {
    const cases: [number, number, string | undefined][] = [
      [2, 1, undefined],
      [-1, 0, "invalid HighThresholdPercent -1, must be in range [0-100]"],
      [101, 0, "invalid HighThresholdPercent 101, must be in range [0-100]"],
      [0, -1, "invalid LowThresholdPercent -1, must be in range [0-100]"],
      [100, 101, "invalid LowThresholdPercent 101, must be in range [0-100]"],
      [1, 2, "LowThresholdPercent 2 can not be higher than HighThresholdPercent 1"],
    ];
    for (const [high, low, want] of cases) {
      const policy = {
        highThresholdPercent: high,
        lowThresholdPercent: low,
        minAgeMs: 0,
        maxAgeMs: 0,
      };
      assert.deepEqual(validateImageGCPolicy(policy), want === undefined ? [] : [want]);
      if (want !== undefined) {
        assert.throws(
          () =>
            planImageGC({
              ...policy,
              images: [],
              now: T0,
              gcRunningSince: T0,
              capacity: 1,
              available: 1,
            }),
          {
            code: "INPUT_INVALID",
            message: want,
          },
        );
      }
    }
  });
});

describe("the image filesystem numbers", () => {
  it("capacity 0: error and InvalidDiskCapacity, after the age phase", () => {
    const r = planImageGC({
      highThresholdPercent: 85,
      lowThresholdPercent: 80,
      minAgeMs: 0,
      maxAgeMs: MIN,
      images: [img(0, 5)],
      now: T0 + 10 * MIN,
      gcRunningSince: T0,
      capacity: 0,
      available: 0,
    });
    assert.equal(r.error, "invalid capacity 0 on image filesystem");
    assert.deepEqual(r.events, [
      {
        type: "Warning",
        reason: "InvalidDiskCapacity",
        message: "invalid capacity 0 on image filesystem",
      },
    ]);
    assert.deepEqual(r.removals, [{ id: "image-0", reason: "age", size: 5 }]);
    assert.equal(r.usagePercent, undefined);
  });

  it("usage% = 100 − floor(available·100/capacity), available capped at capacity", () => {
    assert.equal(diskUsage({ capacity: 1000, available: 151 }, 80).usagePercent, 85);
    assert.equal(diskUsage({ capacity: 1000, available: 150 }, 80).usagePercent, 85);
    assert.equal(diskUsage({ capacity: 1000, available: 149 }, 80).usagePercent, 86);
    assert.equal(diskUsage({ capacity: 3, available: 1 }, 80).usagePercent, 67);
    assert.deepEqual(diskUsage({ capacity: 1000, available: 5000 }, 80), {
      usagePercent: 0,
      amountToFree: -800,
      available: 1000,
    });
    assert.throws(() => diskUsage({ capacity: 0, available: 0 }, 80), {
      message: "invalid capacity 0 on image filesystem",
    });
  });

  it("amountToFree in exact integer bytes (Go int64 arithmetic)", () => {
    // capacity·(100−low)/100 truncates: 999·20/100 = 199 (19980/100 = 199.8)
    assert.equal(diskUsage({ capacity: 999, available: 0 }, 80).amountToFree, 199);
    // 9 PB: capacity·20 exceeds 2^53, BigInt keeps every byte
    const cap = 9_007_199_254_740_000;
    assert.equal(
      diskUsage({ capacity: cap, available: 1 }, 80).amountToFree,
      1_801_439_850_947_999,
    );
    const r = planImageGC({
      ...POLICY,
      images: [],
      now: T0,
      gcRunningSince: T0,
      capacity: cap,
      available: 1,
    });
    assert.equal(r.usagePercent, 100);
    assert.equal(r.amountToFree, 1_801_439_850_947_999);
    assert.match(
      r.error ?? "",
      /Attempted to free 1801439850947999 bytes, but only found 0 bytes eligible to free\.$/,
    );
  });

  it("at exactly the high threshold the space phase runs", () => {
    const r = planImageGC({
      ...POLICY,
      images: [img(0, 500)],
      now: T0,
      gcRunningSince: T0,
      capacity: 1000,
      available: 100,
    });
    assert.equal(r.usagePercent, 90);
    assert.equal(r.amountToFree, 100);
    assert.equal(r.freed, 500);
  });

  it("GC runs unless high is 100 and there is no maximum age", () => {
    assert.equal(imageGCEnabled({ highThresholdPercent: 100, maxAgeMs: 0 }), false);
    assert.equal(imageGCEnabled({ highThresholdPercent: 100, maxAgeMs: MIN }), true);
    assert.equal(imageGCEnabled({ highThresholdPercent: 85, maxAgeMs: 0 }), true);
  });
});

/** Drives a step generator with a removal outcome per image id and a measurement. */
function drive(
  steps: Generator<GCStep, ImageGCResult, GCAnswer>,
  fail: Record<string, string>,
  stats?: { capacity: number; available: number },
): { result: ImageGCResult; asked: string[] } {
  const asked: string[] = [];
  let next = steps.next();
  while (next.done !== true) {
    const step = next.value;
    if (step.kind === "measure") {
      asked.push("measure");
      next = steps.next(stats);
    } else {
      asked.push(`${step.reason}:${step.id}`);
      next = steps.next(fail[step.id]);
    }
  }
  return { result: next.value, asked };
}

describe("imageGCSteps: upstream's control flow when removals fail", () => {
  const base: ImageGCInput = {
    highThresholdPercent: 50,
    lowThresholdPercent: 40,
    minAgeMs: 0,
    maxAgeMs: 10 * MIN,
    images: [],
    now: T0 + 60 * MIN,
    gcRunningSince: T0,
  };

  it("an age-phase failure ends GarbageCollect before measuring (freeOldImages' error)", () => {
    const images = [
      img(0, 1, { lastUsed: T0 }),
      img(1, 1, { lastUsed: T0 + 1 }),
      img(2, 1, { lastUsed: base.now }),
    ];
    const { result, asked } = drive(imageGCSteps({ ...base, images }), {
      "image-0": "image is in use by a container",
    });
    assert.deepEqual(asked, ["age:image-0", "age:image-1"]);
    assert.deepEqual(result.removals, [{ id: "image-1", reason: "age", size: 1 }]);
    assert.equal(
      result.error,
      "wanted to free images older than 10m0s, encountered errors in image deletion: image is in use by a container",
    );
  });

  it("the space phase measures after the age phase and keeps walking past failures", () => {
    const images = [
      img(0, 100, { lastUsed: T0 + 59 * MIN }),
      img(1, 100, { lastUsed: T0 + 59 * MIN + 1 }),
      img(2, 100, { lastUsed: T0 + 59 * MIN + 2 }),
    ];
    const { result, asked } = drive(
      imageGCSteps({ ...base, images }),
      { "image-0": "e1", "image-1": "e2" },
      { capacity: 1000, available: 450 },
    );
    // usage 55% → toFree 600 − 450 = 150
    assert.deepEqual(asked, ["measure", "space:image-0", "space:image-1", "space:image-2"]);
    assert.deepEqual(result.removals, [{ id: "image-2", reason: "space", size: 100 }]);
    assert.equal(
      result.error,
      "wanted to free 150 bytes, but freed 100 bytes space with errors in image deletion: [e1, e2]",
    );
    assert.deepEqual(
      result.events,
      [],
      "a deletion error is returned instead of FreeDiskSpaceFailed",
    );
  });

  it("failed age removals stay candidates for nothing else: GC stops", () => {
    const { asked } = drive(
      imageGCSteps({ ...base, images: [img(0, 1, { lastUsed: T0 })] }),
      { "image-0": "x" },
      { capacity: 1, available: 0 },
    );
    assert.deepEqual(asked, ["age:image-0"]);
  });

  it("DeleteUnusedImages: errors name math.MaxInt64", () => {
    const { result } = drive(
      deleteUnusedImagesSteps({ images: [img(0, 7), img(1, 3)], now: T0, minAgeMs: 0 }),
      { "image-1": "busy" },
    );
    assert.equal(result.freed, 7);
    assert.equal(
      result.error,
      "wanted to free 9223372036854775807 bytes, but freed 7 bytes space with errors in image deletion: busy",
    );
  });

  it("the measure step needs numbers", () => {
    assert.throws(() => drive(imageGCSteps({ ...base, maxAgeMs: 0 }), {}), {
      code: "INPUT_INVALID",
    });
  });
});

describe("input validation", () => {
  const ok = { ...POLICY, now: T0, gcRunningSince: T0, capacity: 10, available: 5 };
  it("rejects duplicate ids, bad sizes and times", () => {
    assert.throws(() => planImageGC({ ...ok, images: [img(0, 1), img(0, 2)] }), /listed twice/);
    assert.throws(() => planImageGC({ ...ok, images: [img(0, -1)] }), /has size -1/);
    assert.throws(() => planImageGC({ ...ok, images: [img(0, 1.5)] }), /has size 1.5/);
    assert.throws(
      () => planImageGC({ ...ok, images: [img(0, 1, { firstDetected: Number.NaN })] }),
      /firstDetected/,
    );
    assert.throws(() => planImageGC({ ...ok, images: [], capacity: -1 }), /capacity -1/);
    assert.throws(() => planImageGC({ ...ok, images: [], now: Number.NaN }), /now NaN/);
  });
});

describe("a large node", () => {
  // Timing is measured by benchmarks, not asserted here; this checks 10,000 records plan right.
  it("10,000 image records: in-use and pinned kept, removals in eviction order", () => {
    const images: GCImage[] = Array.from({ length: 10_000 }, (_, i) => ({
      id: `sha256:${i.toString(16).padStart(64, "0")}`,
      size: 1_000_000 + (i % 977),
      firstDetected: T0 + ((i * 7919) % 10_000),
      lastUsed: i % 3 === 0 ? undefined : T0 + ((i * 104_729) % 1_000_000),
      inUse: i % 50 === 0,
      pinned: i % 333 === 0,
    }));
    const r = planImageGC({
      highThresholdPercent: 85,
      lowThresholdPercent: 80,
      minAgeMs: 2 * MIN,
      maxAgeMs: 0,
      images,
      now: T0 + 10_000_000,
      gcRunningSince: T0,
      capacity: 10_000_000_000_000,
      available: 100_000_000_000,
    });
    assert.ok(r.removals.length > 9000);
    const byId = new Map(images.map((im) => [im.id, im]));
    let prev = Number.NEGATIVE_INFINITY;
    for (const rm of r.removals) {
      const im = byId.get(rm.id);
      assert.ok(im !== undefined && !im.inUse && !im.pinned, rm.id);
      const used = im.lastUsed ?? Number.NEGATIVE_INFINITY;
      assert.ok(used >= prev, "lastUsed ascending");
      prev = used;
    }
  });
});
