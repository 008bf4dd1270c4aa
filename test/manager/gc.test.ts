// runImageGC on a real small store: images built as OCI layouts (test/helpers/images.ts) and
// committed into an FsBlobStore through its ingest API, a store clock and a GC clock injected,
// and a configured capacity (available = capacity − the store's blob bytes), so usage is exact.

import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { encodePulledRecord, formatRecordTime } from "../../src/kubelet/pull-records.ts";
import {
  imageGCPolicyFromSettings,
  nodeImagesOf,
  parseByteSize,
  runImageGC,
  storeBlobBytes,
} from "../../src/manager/gc.ts";
import { FsBlobStore, ImageGCStateFile, PullRecordFiles } from "../../src/store/index.ts";
import { makeTempDir, removeTempDir } from "../helpers/cleanup.ts";
import { type BuiltImage, blobPath, buildImage } from "../helpers/images.ts";

const MIN = 60_000;
const HOUR = 60 * MIN;
const T0 = Date.parse("2026-01-01T00:00:00Z");
const POLICY = imageGCPolicyFromSettings({}); // 85 / 80 / 2m / 0s

let a: BuiltImage; // base layer shared with b
let b: BuiltImage;
let c: BuiltImage;
const dirs: string[] = [];

before(async () => {
  const base = { randomBytes: 40_000, gzipLevel: 0 };
  a = await buildImage({
    seed: "gc-shared",
    layers: [base, { randomBytes: 20_000, gzipLevel: 0 }],
  });
  b = await buildImage({
    seed: "gc-shared",
    layers: [base, { randomBytes: 25_000, gzipLevel: 0, path: "b.bin" }],
  });
  c = await buildImage({ seed: "gc-c", layers: [{ randomBytes: 60_000, gzipLevel: 0 }] });
  assert.equal(a.layers[0]?.digest, b.layers[0]?.digest, "a and b share their base layer");
});
after(() => {
  for (const d of [a?.layoutDir, b?.layoutDir, c?.layoutDir, ...dirs]) {
    if (d !== undefined) removeTempDir(d);
  }
});

interface Node {
  dir: string;
  store: FsBlobStore;
  clock: { now: number };
}

async function node(): Promise<Node> {
  const dir = makeTempDir("kimg-gc-");
  dirs.push(dir);
  const clock = { now: T0 };
  const store = await FsBlobStore.open(dir, { now: () => clock.now });
  return { dir, store, clock };
}

/** Commits the image's blobs and records it under `name`, pulled (and last used) at `at`. */
async function put(n: Node, img: BuiltImage, name: string, at: number): Promise<void> {
  n.clock.now = at;
  const blobs = [img.configDigest, ...img.layers.map((l) => l.digest), img.manifestDigest];
  for (const dg of blobs) {
    if ((await n.store.stat(dg)) !== undefined) continue;
    const data = await readFile(blobPath(img.layoutDir, dg));
    const w = await n.store.ingest({ digest: dg, size: data.byteLength });
    await w.write(data);
    await w.commit();
  }
  await n.store.putImage({
    name,
    target: {
      mediaType: img.manifestMediaType,
      digest: img.manifestDigest,
      size: img.manifestSize,
    },
    manifestDigest: img.manifestDigest,
    blobs,
    pulledAt: new Date(at),
  });
}

function imageBytes(img: BuiltImage): number {
  return img.configSize + img.manifestSize + img.layers.reduce((s, l) => s + l.size, 0);
}

/** runImageGC with the store's clock at the GC's time (blob ages are judged by it). */
function gc(n: Node, opts: Parameters<typeof runImageGC>[1] & { now: number }) {
  n.clock.now = opts.now;
  return runImageGC(n.store, opts);
}

async function names(n: Node): Promise<string[]> {
  return (await n.store.listImages()).map((r) => r.name);
}

/** A capacity at which the store's blobs use `percent`% (rounded so usage is exactly that). */
async function capacityFor(n: Node, percent: number): Promise<number> {
  return Math.ceil(((await storeBlobBytes(n.store)) * 100) / percent);
}

describe("runImageGC", { timeout: 120_000 }, () => {
  it("space: at or above the high threshold, removes least recently used images down to the low one; shared layers stay", async () => {
    const n = await node();
    await put(n, a, "reg.example/a:1", T0);
    await put(n, a, "reg.example/a:also", T0 + MIN); // a second name of image a
    await put(n, b, "reg.example/b:1", T0 + 2 * MIN);
    await put(n, c, "reg.example/c:1", T0 + 3 * MIN);
    await n.store.markImageUsed("reg.example/c:1", new Date(T0 + 10 * MIN));
    const capacity = await capacityFor(n, 90);
    const used = await storeBlobBytes(n.store);
    const now = T0 + HOUR;
    const r = await gc(n, { policy: POLICY, now, capacity });
    assert.equal(r.before.usagePercent, 90);
    // Eviction order: a (last used T0+1m via its newest name), b, c.
    const toFree = Math.floor((capacity * 20) / 100) - (capacity - used);
    assert.equal(r.amountToFree, toFree);
    assert.ok(imageBytes(a) >= toFree, "a alone is enough");
    assert.deepEqual(
      r.removed.map((x) => [x.names, x.reason, x.size]),
      [[["reg.example/a:1", "reg.example/a:also"], "space", imageBytes(a)]],
    );
    assert.equal(r.removed[0]?.lastUsed, new Date(T0 + MIN).toISOString());
    assert.equal(r.spaceFreed, imageBytes(a));
    assert.deepEqual(await names(n), ["reg.example/b:1", "reg.example/c:1"]);
    // a's own layer, config and manifest are gone; the base layer b uses is kept.
    const shared = a.layers[0]?.digest as string;
    assert.ok(existsSync(n.store.path(shared)));
    for (const dg of [a.layers[1]?.digest as string, a.configDigest, a.manifestDigest]) {
      assert.ok(!existsSync(n.store.path(dg)), dg);
    }
    assert.equal(r.reclaimedBytes, imageBytes(a) - (a.layers[0]?.size ?? 0));
    assert.equal(r.deletedBlobs, 3);
    assert.deepEqual(r.events, []);
    assert.equal(r.error, undefined);
    assert.ok((r.after.usagePercent as number) < 85);
  });

  it("below the high threshold nothing is removed", async () => {
    const n = await node();
    await put(n, a, "reg.example/a:1", T0);
    const capacity = await capacityFor(n, 84);
    const r = await gc(n, { policy: POLICY, now: T0 + HOUR, capacity });
    assert.equal(r.before.usagePercent, 84);
    assert.deepEqual(r.removed, []);
    assert.deepEqual(await names(n), ["reg.example/a:1"]);
  });

  it("min age: an image first detected less than imageMinimumGCAge ago is skipped", async () => {
    const n = await node();
    await put(n, a, "reg.example/a:1", T0); // least recently used, but pulled just now
    await put(n, c, "reg.example/c:1", T0 - HOUR);
    await n.store.markImageUsed("reg.example/c:1", new Date(T0 + 30_000));
    await n.store.markImageUsed("reg.example/a:1", new Date(T0));
    const capacity = await capacityFor(n, 95);
    const r = await gc(n, { policy: POLICY, now: T0 + MIN, capacity });
    assert.deepEqual(
      r.removed.map((x) => x.names[0]),
      ["reg.example/c:1"],
    );
    assert.deepEqual(await names(n), ["reg.example/a:1"]);
  });

  it("pinned and in-use images are never removed; FreeDiskSpaceFailed when too little is eligible", async () => {
    const n = await node();
    await put(n, a, "reg.example/a:1", T0);
    await put(n, b, "reg.example/b:1", T0);
    await put(n, c, "reg.example/c:1", T0);
    const capacity = await capacityFor(n, 99);
    const now = T0 + HOUR;
    const r = await gc(n, {
      policy: POLICY,
      now,
      capacity,
      pinned: ["reg.example/a:1"],
      inUse: [b.manifestDigest, "reg.example/c:1"],
    });
    assert.deepEqual(r.removed, []);
    assert.deepEqual(await names(n), ["reg.example/a:1", "reg.example/b:1", "reg.example/c:1"]);
    const toFree = r.amountToFree as number;
    assert.ok(toFree > 0);
    assert.deepEqual(r.events, [
      {
        type: "Warning",
        reason: "FreeDiskSpaceFailed",
        message: `Failed to garbage collect required amount of images. Attempted to free ${toFree} bytes, but only found 0 bytes eligible to free.`,
      },
    ]);
    assert.equal(r.error, r.events[0]?.message);
    // In-use images were used now (detectImages).
    const recs = await n.store.listImages();
    assert.equal(
      recs.find((x) => x.name === "reg.example/c:1")?.lastUsed,
      new Date(now).toISOString(),
    );
    assert.equal(
      recs.find((x) => x.name === "reg.example/a:1")?.lastUsed,
      new Date(T0).toISOString(),
    );

    // Pins by repo@digest and by image ID work too; no longer in use, b goes (a minute later:
    // an image used at the GC's own time is not eligible).
    const r2 = await gc(n, {
      policy: POLICY,
      now: now + MIN,
      capacity,
      pinned: [`reg.example/a@${a.manifestDigest}`, c.manifestDigest],
    });
    assert.deepEqual(
      r2.removed.map((x) => x.names[0]),
      ["reg.example/b:1"],
    );
  });

  it("age: waits until GC has run on the store for imageMaximumGCAge, then removes images unused that long", async () => {
    const n = await node();
    await put(n, a, "reg.example/a:1", T0 - 3 * HOUR);
    await put(n, c, "reg.example/c:1", T0 - 3 * HOUR);
    await n.store.markImageUsed("reg.example/c:1", new Date(T0 + 30 * MIN));
    const policy = imageGCPolicyFromSettings({ maxAge: "1h" });
    const capacity = await capacityFor(n, 10);
    const first = await gc(n, { policy, now: T0, capacity });
    assert.equal(first.agePhase, "waiting");
    assert.equal(first.gcRunningSince, new Date(T0).toISOString());
    assert.equal(first.ageGCStartsAfter, new Date(T0 + HOUR).toISOString());
    assert.deepEqual(first.removed, []);
    const second = await gc(n, { policy, now: T0 + HOUR + 1000, capacity });
    assert.equal(second.agePhase, "ran");
    assert.equal(second.gcRunningSince, new Date(T0).toISOString());
    assert.deepEqual(
      second.removed.map((x) => [x.names[0], x.reason]),
      [["reg.example/a:1", "age"]],
    );
    assert.deepEqual(await names(n), ["reg.example/c:1"]);
    assert.equal(second.prunedPullRecords, 0);
  });

  it("dry run reports the plan and changes nothing (records, blobs, GC state)", async () => {
    const n = await node();
    await put(n, a, "reg.example/a:1", T0);
    await put(n, c, "reg.example/c:1", T0 + MIN);
    const capacity = await capacityFor(n, 95);
    const kimgJson = readFileSync(join(n.dir, "kimg.json"), "utf8");
    const blobsBefore = await storeBlobBytes(n.store);
    const r = await gc(n, { policy: POLICY, now: T0 + HOUR, capacity, dryRun: true });
    assert.equal(r.dryRun, true);
    assert.deepEqual(
      r.removed.map((x) => x.names[0]),
      ["reg.example/a:1"],
    );
    assert.equal(r.reclaimedBytes, imageBytes(a));
    assert.equal(r.deletedBlobs, 4);
    assert.equal(r.after.available, r.before.available + imageBytes(a));
    assert.equal(readFileSync(join(n.dir, "kimg.json"), "utf8"), kimgJson);
    assert.equal(await storeBlobBytes(n.store), blobsBefore);
    assert.ok(!existsSync(new ImageGCStateFile(n.dir).path));
  });

  it("PruneUnknownRecords: pulled records of removed images go, others stay", async () => {
    const n = await node();
    await put(n, a, "reg.example/a:1", T0);
    await put(n, c, "reg.example/c:1", T0 + MIN);
    const records = new PullRecordFiles(n.dir);
    const now = T0 + HOUR;
    const rec = (imageRef: string, at: number) =>
      encodePulledRecord({
        lastUpdatedTime: formatRecordTime(at),
        imageRef,
        credentialMapping: { "reg.example/a": { nodePodsAccessible: true } },
      });
    await records.write("pulled", a.manifestDigest, rec(a.manifestDigest, T0));
    await records.write("pulled", c.manifestDigest, rec(c.manifestDigest, T0));
    await records.write("pulled", "sha256:gone", rec("sha256:gone", T0));
    await records.write("pulled", "sha256:fresh", rec("sha256:fresh", now + 1000));
    const capacity = await capacityFor(n, 95);
    const r = await gc(n, { policy: POLICY, now, capacity });
    assert.deepEqual(
      r.removed.map((x) => x.id),
      [a.manifestDigest],
    );
    assert.equal(r.prunedPullRecords, 2);
    assert.equal(await records.read("pulled", a.manifestDigest), undefined);
    assert.equal(await records.read("pulled", "sha256:gone"), undefined);
    assert.notEqual(await records.read("pulled", c.manifestDigest), undefined);
    assert.notEqual(await records.read("pulled", "sha256:fresh"), undefined);
  });

  it("firstDetected is persisted: a re-pull does not make an image young again", async () => {
    const n = await node();
    await put(n, a, "reg.example/a:1", T0);
    await put(n, c, "reg.example/c:1", T0);
    await n.store.markImageUsed("reg.example/c:1", new Date(T0 + 20 * MIN));
    const low = await capacityFor(n, 10);
    await gc(n, { policy: POLICY, now: T0 + 10 * MIN, capacity: low });
    const saved = await new ImageGCStateFile(n.dir).read();
    assert.deepEqual(
      [...saved.firstDetected.entries()].sort(),
      [
        [a.manifestDigest, T0],
        [c.manifestDigest, T0],
      ].sort(),
    );
    assert.equal(saved.gcRunningSince, T0 + 10 * MIN);

    // Pulled again (pulledAt and lastUsed move), then GC under pressure a minute later.
    const repull = T0 + 30 * MIN;
    await put(n, a, "reg.example/a:1", repull);
    await n.store.markImageUsed("reg.example/a:1", new Date(T0 + 5 * MIN));
    const high = await capacityFor(n, 95);
    const now = repull + MIN;
    // Without the saved state the image would be 1 minute old (minAge 2m keeps it)…
    const fresh = nodeImagesOf(await n.store.listImages(), new Map(), { now });
    assert.equal(fresh.find((i) => i.id === a.manifestDigest)?.firstDetected, repull);
    // …with it, it was detected at T0 and is removed.
    const r = await gc(n, { policy: POLICY, now, capacity: high });
    assert.deepEqual(
      r.removed.map((x) => [x.id, x.firstDetected]),
      [[a.manifestDigest, new Date(T0).toISOString()]],
    );
    // Vanished images leave the state.
    const after2 = await new ImageGCStateFile(n.dir).read();
    assert.deepEqual([...after2.firstDetected.keys()], [c.manifestDigest]);
  });

  it("delete-unused mode removes every unused image past minAge, regardless of usage", async () => {
    const n = await node();
    await put(n, a, "reg.example/a:1", T0);
    await put(n, b, "reg.example/b:1", T0);
    await put(n, c, "reg.example/c:1", T0 + HOUR);
    const r = await gc(n, {
      policy: POLICY,
      now: T0 + HOUR + MIN,
      capacity: 1e12,
      mode: "delete-unused",
      pinned: ["reg.example/b:1"],
    });
    assert.deepEqual(
      r.removed.map((x) => x.names[0]),
      ["reg.example/a:1"],
    );
    assert.deepEqual(await names(n), ["reg.example/b:1", "reg.example/c:1"]);
  });

  it("capacity 0: InvalidDiskCapacity", async () => {
    const n = await node();
    await put(n, a, "reg.example/a:1", T0);
    const r = await gc(n, { policy: POLICY, now: T0 + HOUR, capacity: 0 });
    assert.deepEqual(r.events, [
      {
        type: "Warning",
        reason: "InvalidDiskCapacity",
        message: "invalid capacity 0 on image filesystem",
      },
    ]);
    assert.deepEqual(r.removed, []);
  });

  it("statfs: without a configured capacity the store's filesystem is measured", async () => {
    const n = await node();
    const r = await gc(n, { policy: POLICY, now: T0 });
    assert.equal(r.capacitySource, "statfs");
    assert.ok(r.before.capacity > 0);
    assert.ok(r.before.available <= r.before.capacity);
  });
});

describe("imageGCPolicyFromSettings", () => {
  it("defaults are the kubelet's", () => {
    assert.deepEqual(POLICY, {
      highThresholdPercent: 85,
      lowThresholdPercent: 80,
      minAgeMs: 120_000,
      maxAgeMs: 0,
    });
    assert.deepEqual(imageGCPolicyFromSettings({ minAge: "90s", maxAge: "1h30m" }), {
      highThresholdPercent: 85,
      lowThresholdPercent: 80,
      minAgeMs: 90_000,
      maxAgeMs: 5_400_000,
    });
  });

  const cases: [Parameters<typeof imageGCPolicyFromSettings>[0], string][] = [
    [
      { high: 101 },
      "invalid configuration: imageGCHighThresholdPercent (--image-gc-high-threshold) 101 must be between 0 and 100, inclusive",
    ],
    [
      { low: 80, high: 80 },
      "invalid configuration: imageGCLowThresholdPercent (--image-gc-low-threshold) 80 must be less than imageGCHighThresholdPercent (--image-gc-high-threshold) 80",
    ],
    [
      { low: -1 },
      "invalid configuration: imageGCLowThresholdPercent (--image-gc-low-threshold) -1 must be between 0 and 100, inclusive",
    ],
    [{ maxAge: "-1ns" }, "invalid configuration: imageMaximumGCAge -1ns must not be negative"],
    [
      { maxAge: "1m" },
      "invalid configuration: imageMaximumGCAge 1m0s must be greater than imageMinimumGCAge 2m0s",
    ],
    [
      { minAge: "2 minutes" },
      'imageMinimumGCAge: time: unknown unit " minutes" in duration "2 minutes"',
    ],
    [
      { high: 101, low: 102 },
      "[invalid configuration: imageGCHighThresholdPercent (--image-gc-high-threshold) 101 must be between 0 and 100, inclusive, invalid configuration: imageGCLowThresholdPercent (--image-gc-low-threshold) 102 must be between 0 and 100, inclusive, invalid configuration: imageGCLowThresholdPercent (--image-gc-low-threshold) 102 must be less than imageGCHighThresholdPercent (--image-gc-high-threshold) 101]",
    ],
  ];
  for (const [settings, message] of cases) {
    it(`rejects ${JSON.stringify(settings)}`, () => {
      assert.throws(() => imageGCPolicyFromSettings(settings), { code: "INPUT_INVALID", message });
    });
  }
});

describe("parseByteSize", () => {
  const ok: [string, number][] = [
    ["0", 0],
    ["512", 512],
    ["512B", 512],
    ["10Gi", 10 * 2 ** 30],
    ["500Mi", 500 * 2 ** 20],
    ["1.5Ki", 1536],
    ["2G", 2e9],
    ["1.5GB", 1.5e9],
    ["100kB", 100_000],
    ["1e3", 1000],
    ["0.5", 1],
    ["1.1k", 1100],
  ];
  for (const [text, bytes] of ok) {
    it(`${text} = ${bytes}`, () => assert.equal(parseByteSize(text), bytes));
  }
  for (const bad of ["", "abc", "10XB", "-1Gi", "1.2.3G"]) {
    it(`rejects ${JSON.stringify(bad)}`, () =>
      assert.throws(() => parseByteSize(bad), { code: "INPUT_INVALID" }));
  }
});
