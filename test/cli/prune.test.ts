// kimg prune: the built binary on a store with a pulled image (from the harness's
// Distribution registry), an unreferenced blob older than the grace period, a young one, and
// partial downloads abandoned two days ago and written just now. --dry-run deletes nothing,
// --json reports exactly what went, the image stays whole, and a second run has nothing to do.

import assert from "node:assert/strict";
import { existsSync, utimesSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { FsBlobStore } from "../../src/store/index.ts";
import { makeTempDir, removeTempDir } from "../helpers/cleanup.ts";
import { type BuiltImage, buildImage } from "../helpers/images.ts";
import { runKimg } from "../helpers/kimg-cli.ts";
import { type Registry, startRegistry } from "../helpers/registry.ts";
import { pushLayout } from "../helpers/skopeo.ts";
import { blobBytes, descriptorOf } from "../store/fixtures.ts";

const kimg = (args: string[]) => runKimg(args);

const HOUR = 60 * 60_000;
const DAY = 24 * HOUR;

async function commit(store: FsBlobStore, data: Buffer): Promise<string> {
  const d = descriptorOf(data);
  const w = await store.ingest(d);
  await w.write(data);
  await w.commit();
  return d.digest;
}

describe("kimg prune", { timeout: 180_000 }, () => {
  let reg: Registry;
  let img: BuiltImage;
  const dirs: string[] = [];

  before(async () => {
    reg = await startRegistry();
    img = await buildImage({ layers: [{ randomBytes: 5000 }, { randomBytes: 60 }], seed: "prune" });
    await pushLayout(img, "test/prune:v1", reg);
  });
  after(async () => {
    await reg?.stop();
    for (const d of [img?.layoutDir, ...dirs]) if (d !== undefined) removeTempDir(d);
  });

  /** A store with the image pulled, plus garbage of every kind. */
  async function littered() {
    const dir = makeTempDir("kimg-cli-prune-");
    dirs.push(dir);
    const ref = `${reg.host}/test/prune:v1`;
    const r = await kimg(["pull", ref, "--store", dir]);
    assert.equal(r.code, 0, r.stderr);
    const store = await FsBlobStore.open(dir);
    const oldBlob = blobBytes("old", 12_345);
    const old = await commit(store, oldBlob);
    const twoHoursAgo = new Date(Date.now() - 2 * HOUR);
    utimesSync(store.path(old), twoHoursAgo, twoHoursAgo);
    const young = await commit(store, blobBytes("young", 777));
    // A partial download abandoned two days ago, and one being written now.
    const past = await FsBlobStore.open(dir, { now: () => Date.now() - 2 * DAY });
    const abandoned = descriptorOf(blobBytes("abandoned", 9000));
    const w1 = await past.ingest(abandoned);
    await w1.write(blobBytes("abandoned", 9000).subarray(0, 4000));
    await w1.close();
    const twoDaysAgo = new Date(Date.now() - 2 * DAY);
    const partial = join(dir, "ingest", `sha256-${abandoned.digest.slice(7)}`);
    utimesSync(join(partial, "data"), twoDaysAgo, twoDaysAgo);
    const recent = descriptorOf(blobBytes("recent", 9000));
    const w2 = await store.ingest(recent);
    await w2.write(blobBytes("recent", 9000).subarray(0, 100));
    await w2.close();
    return { dir, ref, store, old, young, abandoned: abandoned.digest, partial, recent };
  }

  it("--dry-run says what would go and deletes nothing", async () => {
    const s = await littered();
    const r = await kimg(["prune", "--dry-run", "--store", s.dir]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(
      r.stdout,
      [
        `Would delete: ${s.old}`,
        `Would delete partial download: ${s.abandoned}`,
        "Kept 1 unreferenced blob younger than 1h (a pull may be recording them)",
        "Total reclaimable space: 16.3 kB", // 12,345 + 4,000 bytes
        "",
      ].join("\n"),
    );
    assert.ok(existsSync(s.store.path(s.old)));
    assert.ok(existsSync(s.partial));
  });

  it("deletes unreferenced old blobs and abandoned partials; the image, young blobs and recent partials stay", async () => {
    const s = await littered();
    const r = await kimg(["prune", "--json", "--store", s.dir]);
    assert.equal(r.code, 0, r.stderr);
    const o = JSON.parse(r.stdout) as Record<string, unknown>;
    assert.deepEqual(o, {
      dryRun: false,
      deletedBlobs: [{ digest: s.old, size: 12_345 }],
      deletedPartials: [{ digest: s.abandoned, bytes: 4000 }],
      reclaimedBytes: 16_345,
      keptYoung: 1,
      graceMs: HOUR,
      keptPartials: 1,
    });
    assert.ok(!existsSync(s.store.path(s.old)));
    assert.ok(!existsSync(s.partial));
    assert.ok(existsSync(s.store.path(s.young)));
    assert.ok(existsSync(join(s.dir, "ingest", `sha256-${s.recent.digest.slice(7)}`)));
    for (const d of [img.manifestDigest, img.configDigest, ...img.layers.map((l) => l.digest)]) {
      assert.ok(existsSync(s.store.path(d)), d);
    }
    const i = await kimg(["inspect", s.ref, "--store", s.dir]);
    assert.equal(i.code, 0, i.stderr);

    // Nothing left to do but the young blob (kept) and the recent partial.
    const again = await kimg(["prune", "--store", s.dir]);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(
      again.stdout,
      "Kept 1 unreferenced blob younger than 1h (a pull may be recording them)\nTotal reclaimed space: 0 B\n",
    );
  });

  it("plain output: Deleted lines and the total, like docker image prune", async () => {
    const s = await littered();
    const r = await kimg(["prune", "--store", s.dir]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(
      r.stdout,
      [
        `Deleted: ${s.old}`,
        `Deleted partial download: ${s.abandoned}`,
        "Kept 1 unreferenced blob younger than 1h (a pull may be recording them)",
        "Total reclaimed space: 16.3 kB",
        "",
      ].join("\n"),
    );
    // Untagging makes the image's blobs unreferenced, but they are recent: prune keeps them
    // (rmi itself deletes them, without the grace period).
    const store = await FsBlobStore.open(s.dir);
    assert.equal(await store.removeImage(s.ref), true);
    const p = await kimg(["prune", "--json", "--store", s.dir]);
    const o = JSON.parse(p.stdout) as { deletedBlobs: unknown[]; keptYoung: number };
    assert.deepEqual(o.deletedBlobs, []);
    assert.equal(o.keptYoung, 1 + 2 + img.layers.length);
  });
});
