// kimg verify (issue 10 items 2, 3), the built binary on stores pulled from a real Distribution
// registry and then damaged by hand: a flipped byte in a layer (same size: only hashing finds
// it), a truncated layer (a pull refetches it), a damaged kimg.json or index.json. verify
// reports and exits 6; --repair deletes what is corrupt or rebuilds what it can and says what
// to pull again; unpack of a damaged layer names the digest instead of a tar error.

import assert from "node:assert/strict";
import { readdirSync, readFileSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { FsBlobStore } from "../../src/store/index.ts";
import { makeTempDir, removeTempDir } from "../helpers/cleanup.ts";
import { type BuiltImage, buildImage } from "../helpers/images.ts";
import { runKimg } from "../helpers/kimg-cli.ts";
import { type Registry, startRegistry } from "../helpers/registry.ts";
import { pushLayout } from "../helpers/skopeo.ts";

describe("kimg verify", { timeout: 180_000 }, () => {
  let reg: Registry;
  let img: BuiltImage;
  let ref = "";
  const dirs: string[] = [];
  const tmp = (): string => {
    const d = makeTempDir("kimg-verify-");
    dirs.push(d);
    return d;
  };

  before(async () => {
    reg = await startRegistry();
    img = await buildImage({
      layers: [{ randomBytes: 40_000 }, { randomBytes: 3000, path: "b.bin" }],
      seed: "verify",
    });
    await pushLayout(img, "test/verify:v1", reg);
    ref = `${reg.host}/test/verify:v1`;
  });
  after(async () => {
    await reg?.stop();
    for (const d of [img?.layoutDir, ...dirs]) if (d !== undefined) removeTempDir(d);
  });

  async function pulled(): Promise<{ store: string; layer: string; layerPath: string }> {
    const store = tmp();
    const r = await runKimg(["pull", ref, "--store", store]);
    assert.equal(r.code, 0, r.stderr);
    const layer = img.layers[0]?.digest ?? "";
    return { store, layer, layerPath: (await FsBlobStore.open(store)).path(layer) };
  }

  it("a healthy store: OK, exit 0; a missing store: exit 2", async () => {
    const { store } = await pulled();
    const r = await runKimg(["verify", "--store", store]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^OK: 1 image\(s\), 4 blob\(s\) \(.*\) checked$/m);
    const one = await runKimg(["verify", ref, "--store", store, "--json"]);
    assert.equal(one.code, 0, one.stderr);
    assert.equal(JSON.parse(one.stdout).ok, true);
    const none = await runKimg(["verify", "--store", join(store, "nope")]);
    assert.equal(none.code, 2);
    assert.equal(none.stderr, `kimg: no store at ${join(store, "nope")}\n`);
  });

  it("a flipped byte: found, exit 6; unpack names the digest; --repair deletes it; a pull refetches it", async () => {
    const { store, layer, layerPath } = await pulled();
    const bytes = readFileSync(layerPath);
    bytes[100] = (bytes[100] ?? 0) ^ 0xff;
    writeFileSync(layerPath, bytes);

    const v = await runKimg(["verify", "--store", store]);
    assert.equal(v.code, 6, v.stdout + v.stderr);
    assert.match(
      v.stdout,
      new RegExp(
        `^corrupt: blob ${layer}: content has digest sha256:[0-9a-f]{64} \\(\\d+ bytes\\) \\(used by ${ref.replace(/[.]/g, "\\.")}\\)$`,
        "m",
      ),
    );
    assert.match(v.stdout, /1 problem\(s\) found: .*; run kimg verify --repair$/m);

    const u = await runKimg(["unpack", ref, join(tmp(), "rootfs"), "--store", store]);
    assert.equal(u.code, 6, u.stderr);
    assert.match(
      u.stderr,
      new RegExp(`^kimg: layer ${layer} in the store is damaged: content has digest sha256:`),
    );
    assert.doesNotMatch(u.stderr, /tar/);

    const fix = await runKimg(["verify", "--repair", "--store", store]);
    assert.equal(fix.code, 0, fix.stdout + fix.stderr);
    assert.match(fix.stdout, /: deleted; pull the image again$/m);
    assert.match(fix.stdout, new RegExp(`^pull again: ${ref.replace(/[.]/g, "\\.")}$`, "m"));

    const p = await runKimg(["pull", ref, "--store", store]);
    assert.equal(p.code, 0, p.stderr);
    assert.match(p.stdout, /^Pulled /m);
    assert.equal((await runKimg(["verify", "--store", store])).code, 0);
  });

  it("a truncated layer: pull --policy Always fetches it again", async () => {
    const { store, layer, layerPath } = await pulled();
    truncateSync(layerPath, 10);
    const p = await runKimg(["pull", ref, "--policy", "Always", "--store", store]);
    assert.equal(p.code, 0, p.stderr);
    assert.doesNotMatch(p.stdout, /up to date/);
    assert.match(p.stdout, new RegExp(`${layer.slice(0, 19)}: downloading`));
    assert.equal((await runKimg(["verify", "--store", store])).code, 0);
  });

  it("a damaged kimg.json is rebuilt from index.json, a damaged index.json from kimg.json", async () => {
    const { store } = await pulled();
    const meta = join(store, "kimg.json");
    writeFileSync(meta, "{ not json");
    const images = await runKimg(["images", "--store", store]);
    assert.equal(images.code, 6);
    const v = await runKimg(["verify", "--store", store]);
    assert.equal(v.code, 6);
    assert.match(v.stdout, /^damaged: store: .*kimg\.json is not valid JSON$/m);
    const fix = await runKimg(["verify", "--repair", "--store", store]);
    assert.equal(fix.code, 0, fix.stdout + fix.stderr);
    assert.match(fix.stdout, /rebuilt from index\.json: 1 image\(s\)$/m);
    assert.ok(readdirSync(store).some((n) => n.startsWith("kimg.json.damaged-")));
    const after1 = await runKimg(["images", "--store", store]);
    assert.equal(after1.code, 0, after1.stderr);
    assert.match(after1.stdout, /test\/verify\s+v1\s+sha256:/);
    assert.equal((await runKimg(["verify", "--store", store])).code, 0);
    // The rebuilt record is the image: it unpacks.
    const u = await runKimg(["unpack", ref, join(tmp(), "rootfs"), "--store", store]);
    assert.equal(u.code, 0, u.stderr);

    writeFileSync(join(store, "index.json"), "[]");
    const fix2 = await runKimg(["verify", "--repair", "--store", store]);
    assert.equal(fix2.code, 0, fix2.stdout + fix2.stderr);
    assert.match(fix2.stdout, /index\.json.*rebuilt from kimg\.json/);
    const index = JSON.parse(readFileSync(join(store, "index.json"), "utf8"));
    assert.equal(index.manifests.length, 1);
    assert.equal(index.manifests[0].digest, img.manifestDigest);
  });

  it("both damaged: the records cannot be rebuilt, said, exit 6", async () => {
    const { store } = await pulled();
    writeFileSync(join(store, "kimg.json"), "{");
    writeFileSync(join(store, "index.json"), "{");
    const fix = await runKimg(["verify", "--repair", "--store", store]);
    assert.equal(fix.code, 6, fix.stdout + fix.stderr);
    assert.match(fix.stdout, /image records lost \(index\.json is damaged too\)/);
    assert.match(fix.stdout, /^could not repair everything/m);
    // The store opens again: the next pull records the image anew.
    const p = await runKimg(["pull", ref, "--store", store]);
    assert.equal(p.code, 0, p.stderr);
  });
});
