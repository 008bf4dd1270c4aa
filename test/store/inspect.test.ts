// inspectImage() on a store filled without a registry: the blobs of images built by
// test/helpers/images.ts are committed straight into the store and recorded, as a pull
// would. Checks the diff_id pairing, Docker schema2 images, sharing across records, lookups,
// and damaged or missing content (the errors, never a wrong answer).

import assert from "node:assert/strict";
import { chmodSync, readFileSync, writeFileSync } from "node:fs";
import { after, describe, it } from "node:test";
import { isKimgError } from "../../src/errors.ts";
import { FsBlobStore, inspectImage, writeBlob } from "../../src/store/index.ts";
import { makeTempDir, removeTempDir } from "../helpers/cleanup.ts";
import { type BuiltImage, blobPath, buildImage, MediaType } from "../helpers/images.ts";

async function store(img: BuiltImage, s: FsBlobStore, name: string): Promise<void> {
  const descs = [
    { digest: img.manifestDigest, size: img.manifestSize, mediaType: img.manifestMediaType },
    { digest: img.configDigest, size: img.configSize, mediaType: "config" },
    ...img.layers,
  ];
  for (const d of descs) {
    const bytes = readFileSync(blobPath(img.layoutDir, d.digest));
    await writeBlob(s, d, async () => ({
      start: 0,
      body: (async function* () {
        yield bytes;
      })(),
    }));
  }
  await s.putImage({
    name,
    target: {
      mediaType: img.manifestMediaType,
      digest: img.manifestDigest,
      size: img.manifestSize,
    },
    manifestDigest: img.manifestDigest,
    blobs: descs.map((d) => d.digest),
  });
}

describe("inspectImage", { timeout: 60_000 }, () => {
  const dirs: string[] = [];
  after(() => {
    for (const d of dirs) removeTempDir(d);
  });
  const fresh = async () => {
    const d = makeTempDir("kimg-inspect-");
    dirs.push(d);
    return FsBlobStore.open(d);
  };

  it("Docker schema2: media types, diff_ids in order, sharing with the other record only", async () => {
    const a = await buildImage({
      layers: [{ randomBytes: 100 }, { randomBytes: 200 }],
      seed: "x",
      format: "docker",
    });
    const b = await buildImage({ layers: [{ randomBytes: 100 }], seed: "x", format: "docker" });
    dirs.push(a.layoutDir, b.layoutDir);
    const s = await fresh();
    await store(a, s, "example.com/a:1");
    await store(a, s, "example.com/a:same"); // a second name of the same image
    await store(b, s, "example.com/b:1");
    const i = await inspectImage(s, "example.com/a:1");
    assert.deepEqual(i.names, ["example.com/a:1", "example.com/a:same"]);
    assert.deepEqual(i.mediaTypes, {
      target: MediaType.dockerManifest,
      manifest: MediaType.dockerManifest,
      config: MediaType.dockerConfig,
    });
    assert.deepEqual(
      i.layers.map((l) => [l.digest, l.mediaType, l.diffId, l.sharedWith]),
      [
        [a.layers[0]?.digest, MediaType.dockerLayerGzip, a.layers[0]?.diffId, ["example.com/b:1"]],
        [a.layers[1]?.digest, MediaType.dockerLayerGzip, a.layers[1]?.diffId, []],
      ],
    );
    assert.equal(i.platform, "linux/amd64");
    assert.deepEqual(i.config, {
      env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
      cmd: ["/bin/sh"],
    });
    // Nothing changed by looking: lastUsed stays.
    const before = (await s.getImage("example.com/a:1"))?.lastUsed;
    await inspectImage(s, a.manifestDigest);
    assert.equal((await s.getImage("example.com/a:1"))?.lastUsed, before);
    await assert.rejects(
      inspectImage(s, "example.com/c:1"),
      (e: unknown) =>
        isKimgError(e) &&
        e.code === "IMAGE_NOT_FOUND" &&
        e.message === "No such image: example.com/c:1",
    );
  });

  it("a damaged config is a DIGEST_MISMATCH, a missing one BLOB_NOT_FOUND", async () => {
    const a = await buildImage({ layers: [{ randomBytes: 10 }], seed: "dmg" });
    dirs.push(a.layoutDir);
    const s = await fresh();
    await store(a, s, "example.com/a:1");
    const p = s.path(a.configDigest);
    chmodSync(p, 0o644);
    writeFileSync(p, Buffer.from(a.config.toString().replace("amd64", "arm64")));
    await assert.rejects(
      inspectImage(s, "example.com/a:1"),
      (e: unknown) => isKimgError(e) && e.code === "DIGEST_MISMATCH",
    );
    await s.delete(a.configDigest);
    await assert.rejects(
      inspectImage(s, "example.com/a:1"),
      (e: unknown) => isKimgError(e) && e.code === "BLOB_NOT_FOUND",
    );
  });
});
