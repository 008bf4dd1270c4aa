// rmi, gc and prune racing pulls (issue 10 item 1), against a real Distribution registry.
// Two images share their big layer. Each round stores Y, then pulls X (which reuses the shared
// layer and commits its own manifest, config and layer) while Y is removed: by rmi, by the
// kubelet's GC (DeleteUnusedImages), or by prune after Y was untagged with its blobs aged past
// the grace period. Before leases, the remover deleted the shared layer (or X's fresh manifest
// and config) between the pull's presence check and its putImage: "put image …: blob … is not
// in the store". Now no pull fails, X is whole, and fsck (re-hashing every blob) is clean.
// In process (many rounds, the store lock's in-process queue) and as separate kimg processes.

import assert from "node:assert/strict";
import { utimesSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import { runImageGC } from "../../src/manager/index.ts";
import { pull } from "../../src/pull/index.ts";
import { FsBlobStore } from "../../src/store/index.ts";
import { makeTempDir, removeTempDir } from "../helpers/cleanup.ts";
import { type BuiltImage, buildImage } from "../helpers/images.ts";
import { runKimg as kimg } from "../helpers/kimg-cli.ts";
import { type Registry, startRegistry } from "../helpers/registry.ts";
import { pushLayout } from "../helpers/skopeo.ts";

const HOUR = 60 * 60_000;

type Remover = "rmi" | "gc" | "prune";
const REMOVERS: readonly Remover[] = ["rmi", "gc", "prune"];

/** Every blob's mtime two hours back: past prune's grace period. */
async function ageBlobs(store: FsBlobStore): Promise<void> {
  const past = new Date(Date.now() - 2 * HOUR);
  for await (const b of store.list()) utimesSync(store.path(b.digest), past, past);
}

async function assertClean(store: FsBlobStore, x: BuiltImage): Promise<void> {
  const r = await store.fsck({ verifyBlobs: true });
  assert.deepEqual(r.missingBlobs, []);
  assert.deepEqual(r.corruptBlobs, []);
  for (const d of [x.manifestDigest, x.configDigest, ...x.layers.map((l) => l.digest)]) {
    assert.notEqual(await store.stat(d), undefined, `X's blob ${d} is stored`);
  }
}

describe("rmi, gc and prune racing pulls", { timeout: 300_000 }, () => {
  let reg: Registry;
  let x: BuiltImage;
  let y: BuiltImage;
  const dirs: string[] = [];
  let refX = "";
  let refY = "";

  before(async () => {
    reg = await startRegistry();
    // Same seed and spec for layer 0: one shared layer of 512 KiB.
    x = await buildImage({
      seed: "race",
      layers: [{ randomBytes: 512 * 1024 }, { randomBytes: 4000, path: "x.bin" }],
    });
    y = await buildImage({
      seed: "race",
      layers: [{ randomBytes: 512 * 1024 }, { randomBytes: 4000, path: "y.bin" }],
    });
    assert.equal(x.layers[0]?.digest, y.layers[0]?.digest);
    await pushLayout(x, "race/x:v1", reg);
    await pushLayout(y, "race/y:v1", reg);
    refX = `${reg.host}/race/x:v1`;
    refY = `${reg.host}/race/y:v1`;
  });
  after(async () => {
    await reg?.stop();
    for (const d of [x?.layoutDir, y?.layoutDir, ...dirs]) if (d !== undefined) removeTempDir(d);
  });

  const tmp = (): string => {
    const d = makeTempDir("kimg-gc-race-");
    dirs.push(d);
    return d;
  };

  for (const remover of REMOVERS) {
    it(`in process: ${remover} while X is pulled, 20 rounds`, async () => {
      const store = await FsBlobStore.open(tmp());
      for (let round = 0; round < 20; round++) {
        await pull(refY, { store });
        if (remover === "prune") {
          await store.removeImage(refY); // untagged earlier; its blobs are old leftovers
          await ageBlobs(store);
        }
        const remove = async (): Promise<void> => {
          // Let the pull get going: the window is between its presence check and putImage.
          await new Promise((r) => setTimeout(r, round % 4));
          if (remover === "rmi") await store.removeImages([refY]);
          else if (remover === "gc") {
            await runImageGC(store, {
              policy: {
                highThresholdPercent: 85,
                lowThresholdPercent: 80,
                minAgeMs: 0,
                maxAgeMs: 0,
              },
              mode: "delete-unused",
              inUse: [],
              pinned: [refX],
            });
          } else await store.prune({});
        };
        const [pulled] = await Promise.all([pull(refX, { store }), remove()]);
        assert.equal(pulled.digest, x.manifestDigest);
        await assertClean(store, x);
        await store.removeImages([refX, refY]);
      }
    });
  }

  for (const remover of REMOVERS) {
    it(`separate processes: kimg ${remover} while kimg pull runs, 6 rounds`, async () => {
      const dir = tmp();
      for (let round = 0; round < 6; round++) {
        const py = await kimg(["pull", refY, "--store", dir]);
        assert.equal(py.code, 0, py.stderr);
        let args: string[];
        if (remover === "rmi") args = ["rmi", refY];
        else if (remover === "gc") {
          args = ["gc", "--all-unused", "--min-age", "0s", "--pinned", refX];
        } else {
          const r = await kimg(["rmi", refY, "--store", dir]);
          assert.equal(r.code, 0, r.stderr);
          const px = await kimg(["pull", refY, "--store", dir]);
          assert.equal(px.code, 0, px.stderr);
          const store = await FsBlobStore.open(dir);
          await store.removeImage(refY);
          await ageBlobs(store);
          args = ["prune"];
        }
        const [p, rm] = await Promise.all([
          kimg(["pull", refX, "--store", dir]),
          kimg([...args, "--store", dir]),
        ]);
        assert.equal(p.code, 0, `pull failed: ${p.stderr}`);
        assert.equal(rm.code, 0, `${remover} failed: ${rm.stderr}`);
        const store = await FsBlobStore.open(dir);
        await assertClean(store, x);
        const done = await kimg(["rmi", refX, "--store", dir]);
        assert.equal(done.code, 0, done.stderr);
      }
    });
  }
});
