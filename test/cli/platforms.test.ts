// Several platforms of one name (issue 10 item 5), the built binary against a real Distribution
// registry serving a three-platform index: presence is keyed by name and platform, so a
// platform that is not stored is not "already present" (and one the index lacks fails with
// PLATFORM_NOT_FOUND, exit 3); pulling a second platform keeps the first, as containerd does;
// unpack and gc see every stored platform.

import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { FsBlobStore } from "../../src/store/index.ts";
import { makeTempDir, removeTempDir } from "../helpers/cleanup.ts";
import { type BuiltIndex, buildIndex, PLATFORMS } from "../helpers/images.ts";
import { runKimg } from "../helpers/kimg-cli.ts";
import { type Registry, startRegistry } from "../helpers/registry.ts";
import { pushLayout } from "../helpers/skopeo.ts";

describe("several platforms of one name", { timeout: 180_000 }, () => {
  let reg: Registry;
  let idx: BuiltIndex;
  let ref = "";
  const dirs: string[] = [];

  before(async () => {
    reg = await startRegistry();
    idx = await buildIndex({
      images: [
        { platform: PLATFORMS.linuxAmd64, layers: [{ randomBytes: 700 }] },
        { platform: PLATFORMS.linuxArm64, layers: [{ randomBytes: 800 }] },
        {
          platform: { os: "linux", architecture: "arm", variant: "v7" },
          layers: [{ randomBytes: 900 }],
        },
      ],
      seed: "platforms",
    });
    await pushLayout(idx, "multi/plat:v1", reg, { all: true });
    ref = `${reg.host}/multi/plat:v1`;
  });
  after(async () => {
    await reg?.stop();
    for (const d of [idx?.layoutDir, ...dirs]) if (d !== undefined) removeTempDir(d);
  });

  it("presence is per platform, several platforms are kept, unpack picks the asked one", async () => {
    const store = makeTempDir("kimg-platforms-");
    dirs.push(store);
    const pull = (platform: string, ...extra: string[]) =>
      runKimg(["pull", ref, "--platform", platform, "--store", store, ...extra]);
    const v7 = await pull("linux/arm/v7");
    assert.equal(v7.code, 0, v7.stderr);

    // Not in the index: not "already present", and the index's own answer.
    const s390 = await pull("linux/s390x");
    assert.equal(s390.code, 3, s390.stdout + s390.stderr);
    assert.doesNotMatch(s390.stdout, /already present/);
    assert.match(s390.stderr, /no match for platform linux\/s390x in index of .*; available: /);
    // Never: present only for a stored platform.
    const never = await pull("linux/arm64", "--policy", "Never");
    assert.equal(never.code, 3, never.stdout + never.stderr);
    assert.match(never.stderr, /is not present with pull policy of Never/);
    const neverV7 = await pull("linux/arm/v7", "--policy", "Never");
    assert.equal(neverV7.code, 0, neverV7.stderr);
    assert.match(neverV7.stdout, /already present on machine/);

    // A second platform keeps the first.
    const arm64 = await pull("linux/arm64");
    assert.equal(arm64.code, 0, arm64.stderr);
    assert.match(arm64.stdout, /^Pulled /m);
    const again = await pull("linux/arm/v7", "--policy", "Never");
    assert.equal(again.code, 0, again.stderr);
    const rec = (await (await FsBlobStore.open(store)).listImages())[0];
    assert.deepEqual(
      rec?.manifests?.map((m) => m.manifestDigest).sort(),
      [idx.images[1]?.manifestDigest, idx.images[2]?.manifestDigest].sort(),
    );
    for (const img of [idx.images[1], idx.images[2]]) {
      for (const l of img?.layers ?? []) assert.ok(rec?.blobs.includes(l.digest));
    }

    // unpack: the asked platform's layers, without a pull.
    const u = await runKimg([
      "unpack",
      ref,
      join(store, "..", `${store.split("/").pop()}-rootfs`),
      "--platform",
      "linux/arm/v7",
      "--store",
      store,
      "--json",
    ]);
    dirs.push(join(store, "..", `${store.split("/").pop()}-rootfs`));
    assert.equal(u.code, 0, u.stderr);
    assert.equal(JSON.parse(u.stdout).digest, idx.images[2]?.manifestDigest);
    assert.equal((await runKimg(["verify", "--store", store])).code, 0);

    // rmi removes the name with every platform's blobs.
    const rm = await runKimg(["rmi", ref, "--store", store]);
    assert.equal(rm.code, 0, rm.stderr);
    const left: string[] = [];
    for await (const b of (await FsBlobStore.open(store)).list()) left.push(b.digest);
    assert.deepEqual(left, []);
  });
});
