// The store is an OCI image layout other tools read: an image written with FsBlobStore (its
// blobs through ingest, its tag through putImage) is found by skopeo (`oci:DIR:REF`) and
// umoci (`--image DIR:REF`) under its full normalized reference.

import assert from "node:assert/strict";
import { createReadStream } from "node:fs";
import { after, before, describe, it } from "node:test";
import { type BlobSource, FsBlobStore, writeBlob } from "../../src/store/index.ts";
import { makeTempDir, removeTempDir } from "../helpers/cleanup.ts";
import { run } from "../helpers/exec.ts";
import { blobPath, buildImage, buildIndex, MediaType, PLATFORMS } from "../helpers/images.ts";

/** Streams a blob from the helper's layout into the store. */
async function copyBlob(store: FsBlobStore, layout: string, digest: string, size: number) {
  await writeBlob(
    store,
    { digest, size },
    async (offset): Promise<BlobSource> => ({
      start: offset,
      body: createReadStream(blobPath(layout, digest), { start: offset }),
    }),
  );
}

describe("skopeo and umoci read the store", () => {
  let dir = "";
  const source = makeTempDir("store-src");
  before(() => {
    dir = makeTempDir("store-oci");
  });
  after(() => {
    removeTempDir(dir);
    removeTempDir(source);
  });

  it("finds an image by its full reference (manifest target)", async () => {
    const img = await buildImage({
      dir: source,
      ref: null,
      layers: [
        { files: [{ path: "etc/hello.txt", content: "hello from kimg\n" }] },
        { randomBytes: 4096 },
      ],
    });
    const store = await FsBlobStore.open(dir);
    await copyBlob(store, source, img.configDigest, img.configSize);
    for (const l of img.layers) await copyBlob(store, source, l.digest, l.size);
    await copyBlob(store, source, img.manifestDigest, img.manifestSize);
    const ref = "docker.io/library/kimgtest:1.0";
    await store.putImage({
      name: "kimgtest:1.0",
      target: {
        mediaType: img.manifestMediaType,
        digest: img.manifestDigest,
        size: img.manifestSize,
      },
      manifestDigest: img.manifestDigest,
      platform: img.platform,
      blobs: [img.configDigest, ...img.layers.map((l) => l.digest)],
    });

    const raw = await run("skopeo", ["inspect", "--raw", `oci:${dir}:${ref}`]);
    assert.equal(raw.stdout, img.manifest.toString("utf8"));
    const cfg = await run("skopeo", ["inspect", "--config", `oci:${dir}:${ref}`]);
    assert.equal(JSON.parse(cfg.stdout).architecture, "amd64");
    const stat = await run("umoci", ["stat", "--image", `${dir}:${ref}`]);
    for (const l of img.layers) assert.ok(stat.stdout.includes(l.digest), stat.stdout);
  });

  it("finds an image whose entry is an index (one platform present)", async () => {
    const built = await buildIndex({
      dir: source,
      ref: null,
      images: [
        { platform: PLATFORMS.linuxAmd64, layers: [{ files: [{ path: "a", content: "amd64" }] }] },
        { platform: PLATFORMS.linuxArm64, layers: [{ files: [{ path: "a", content: "arm64" }] }] },
      ],
    });
    const amd = built.images[0];
    assert.ok(amd);
    const store = await FsBlobStore.open(dir);
    await copyBlob(store, source, built.indexDigest, built.indexSize);
    await copyBlob(store, source, amd.manifestDigest, amd.manifestSize);
    await copyBlob(store, source, amd.configDigest, amd.configSize);
    for (const l of amd.layers) await copyBlob(store, source, l.digest, l.size);
    const ref = "registry.example:5000/team/multi:2";
    await store.putImage({
      name: ref,
      target: { mediaType: MediaType.ociIndex, digest: built.indexDigest, size: built.indexSize },
      manifestDigest: amd.manifestDigest,
      indexDigest: built.indexDigest,
      platform: amd.platform,
      blobs: [amd.configDigest, ...amd.layers.map((l) => l.digest)],
    });
    const raw = await run("skopeo", ["inspect", "--raw", `oci:${dir}:${ref}`]);
    assert.equal(raw.stdout, built.index.toString("utf8"));
    // skopeo picks the linux/amd64 manifest out of the index, as a puller would.
    const cfg = await run("skopeo", [
      "--override-os",
      "linux",
      "--override-arch",
      "amd64",
      "inspect",
      "--config",
      `oci:${dir}:${ref}`,
    ]);
    assert.equal(JSON.parse(cfg.stdout).architecture, "amd64");
    // The first image is still there: updates replaced nothing.
    await run("skopeo", ["inspect", "--raw", `oci:${dir}:docker.io/library/kimgtest:1.0`]);
  });
});
