// kimg images and kimg rmi as a crictl user expects them (issue 10 items 4, 10, 20), the built
// binary against a real Distribution registry: a name pinned by digest is its own row and says
// so; `images -q` prints one ID per image; `images REPO[:TAG]` filters; rmi takes several
// references and unambiguous ID prefixes, removes what it can and exits 3 naming what it could
// not; read-only commands never create a store.

import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { FsBlobStore } from "../../src/store/index.ts";
import { makeTempDir, removeTempDir } from "../helpers/cleanup.ts";
import { type BuiltImage, buildImage } from "../helpers/images.ts";
import { runKimg } from "../helpers/kimg-cli.ts";
import { type Registry, startRegistry } from "../helpers/registry.ts";
import { pushLayout } from "../helpers/skopeo.ts";

describe("kimg images and rmi", { timeout: 180_000 }, () => {
  let reg: Registry;
  let v1: BuiltImage;
  let v2: BuiltImage;
  const dirs: string[] = [];
  const tmp = (): string => {
    const d = makeTempDir("kimg-images-");
    dirs.push(d);
    return d;
  };

  before(async () => {
    reg = await startRegistry();
    v1 = await buildImage({ layers: [{ randomBytes: 3000 }], seed: "images-v1" });
    v2 = await buildImage({ layers: [{ randomBytes: 3000 }], seed: "images-v2" });
    await pushLayout(v1, "test/app:v1", reg);
    await pushLayout(v2, "test/app:v2", reg);
  });
  after(async () => {
    await reg?.stop();
    for (const d of [v1?.layoutDir, v2?.layoutDir, ...dirs]) if (d !== undefined) removeTempDir(d);
  });

  async function stocked(): Promise<string> {
    const store = tmp();
    const app = `${reg.host}/test/app`;
    for (const ref of [`${app}:v1`, `${app}:v2`, `${app}:v1@${v2.manifestDigest}`]) {
      const r = await runKimg(["pull", ref, "--store", store]);
      assert.equal(r.code, 0, r.stderr);
    }
    return store;
  }

  it("a name pinned by digest is its own row, and its TAG cell shows the pin", async () => {
    const store = await stocked();
    const r = await runKimg(["images", "--store", store]);
    assert.equal(r.code, 0, r.stderr);
    const rows = r.stdout.trim().split("\n").slice(1);
    assert.equal(rows.length, 3, r.stdout);
    const pinned = rows.filter((l) => l.includes(`v1@${v2.manifestDigest.slice(0, 19)}`));
    assert.equal(pinned.length, 1, r.stdout);
    assert.ok(pinned[0]?.includes(v2.manifestDigest.slice(0, 19)), "its DIGEST is v2's");
  });

  it("images -q: one ID per image; a REPOSITORY[:TAG] filter", async () => {
    const store = await stocked();
    const q = await runKimg(["images", "-q", "--store", store]);
    assert.equal(q.code, 0, q.stderr);
    assert.deepEqual(
      q.stdout.trim().split("\n").sort(),
      [v1.manifestDigest, v2.manifestDigest].sort(),
    );
    const f = await runKimg(["images", `${reg.host}/test/app:v2`, "--store", store]);
    assert.equal(f.stdout.trim().split("\n").length, 2, f.stdout); // header + the v2 row
    const repo = await runKimg(["images", "-q", `${reg.host}/test/app`, "--store", store]);
    assert.equal(repo.stdout.trim().split("\n").length, 2);
    const none = await runKimg(["images", "-q", `${reg.host}/test/other`, "--store", store]);
    assert.equal(none.code, 0);
    assert.equal(none.stdout, "");
  });

  it("rmi: several references and ID prefixes; what matches nothing is named, exit 3", async () => {
    const store = await stocked();
    // v2's ID prefix removes both names of v2 (crictl rmi ID).
    const prefix = v2.manifestDigest.slice("sha256:".length, "sha256:".length + 12);
    const r = await runKimg(["rmi", prefix, "nope:1", "nope:2", "--store", store]);
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stdout, /^Untagged: .*test\/app:v1@sha256:/m);
    assert.match(r.stdout, /^Untagged: .*test\/app:v2$/m);
    assert.match(r.stdout, new RegExp(`^Deleted: ${v2.manifestDigest}$`, "m"));
    assert.deepEqual(r.stderr.trim().split("\n"), [
      "kimg: No such image: nope:1",
      "kimg: No such image: nope:2",
    ]);
    const left = await (await FsBlobStore.open(store)).listImages();
    assert.deepEqual(
      left.map((x) => x.name),
      [`${reg.host}/test/app:v1`],
    );
    // v1's blobs are untouched, v2's gone.
    const s = await FsBlobStore.open(store);
    assert.notEqual(await s.stat(v1.layers[0]?.digest ?? ""), undefined);
    assert.equal(await s.stat(v2.layers[0]?.digest ?? ""), undefined);
    const two = await runKimg(["rmi", `${reg.host}/test/app:v1`, "--store", store]);
    assert.equal(two.code, 0, two.stderr);
  });

  it("read-only commands never create a store: 'no store at DIR', exit 2", async () => {
    const missing = join(tmp(), "typo");
    for (const args of [
      ["images"],
      ["inspect", "x"],
      ["rmi", "x"],
      ["prune"],
      ["gc"],
      ["ui", "--port", "0"],
    ]) {
      const r = await runKimg([...args, "--store", missing]);
      assert.equal(r.code, 2, `${args[0]}: ${r.stderr}`);
      assert.equal(r.stderr, `kimg: no store at ${missing}\n`);
      assert.equal(existsSync(missing), false, `${args[0]} created ${missing}`);
    }
  });
});
