// The OCI model against real images: the test harness (../helpers/images.ts) builds OCI and
// Docker multi-platform images with real gzip tar layers; each step of a pull's decisions is
// then taken with src/oci alone: parse the index, select the platform, verify and parse the
// manifest, parse the config, pair layers with diff_ids.

import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import {
  checkLayersMatchConfig,
  parseImageConfig,
  parseManifest,
  parseManifestOrIndex,
  parsePlatform,
  selectManifest,
  verifyContent,
} from "../../src/oci/index.ts";
import { removeTempDir } from "../helpers/cleanup.ts";
import { type BuiltIndex, buildIndex, PLATFORMS, sha256 } from "../helpers/images.ts";
import { throwsKimg } from "./helpers.ts";

const built: BuiltIndex[] = [];
after(() => {
  for (const b of built) removeTempDir(b.layoutDir);
});

for (const format of ["oci", "docker"] as const) {
  describe(`a ${format} multi-platform image`, () => {
    let idx: BuiltIndex | undefined;
    const image = async (): Promise<BuiltIndex> => {
      if (idx === undefined) {
        idx = await buildIndex({
          format,
          seed: `oci-model-${format}`,
          images: [
            {
              platform: PLATFORMS.linuxAmd64,
              layers: [{ files: [{ path: "a", content: "amd64" }] }],
            },
            {
              platform: PLATFORMS.linuxArm64,
              layers: [
                { files: [{ path: "etc/os-release", content: "ID=test\n" }] },
                { compression: "none", files: [{ path: "b", content: "arm64" }] },
              ],
            },
            {
              platform: PLATFORMS.linuxArmV7,
              layers: [{ files: [{ path: "c", content: "arm" }] }],
            },
          ],
        });
        built.push(idx);
      }
      return idx;
    };

    it("takes every pull decision with the pure model", async () => {
      const b = await image();
      // The index, as a tag resolves to it.
      const top = parseManifestOrIndex(b.index, {
        mediaType: b.indexMediaType,
        digest: b.indexDigest,
      });
      assert.equal(top.kind, "index");
      if (top.kind !== "index") return;
      verifyContent(
        { digest: b.indexDigest, size: b.indexSize },
        { digest: sha256(b.index), size: b.index.length },
      );

      // An arm64 host picks the arm64 entry.
      const desc = selectManifest(top.index, parsePlatform("linux/arm64"));
      const arm64 = b.images[1];
      assert.ok(arm64 !== undefined);
      assert.equal(desc.digest, arm64.manifestDigest);
      verifyContent(desc, { digest: sha256(arm64.manifest), size: arm64.manifest.length });

      // The manifest, fetched by the entry's digest and media type.
      const manifest = parseManifest(arm64.manifest, {
        mediaType: desc.mediaType,
        digest: desc.digest,
      });
      assert.equal(manifest.mediaType, arm64.manifestMediaType);
      verifyContent(manifest.config, { digest: sha256(arm64.config), size: arm64.config.length });

      // The config, and the layer ↔ diff_id pairs the unpacker will check.
      const config = parseImageConfig(arm64.config, {
        mediaType: manifest.config.mediaType,
        digest: manifest.config.digest,
      });
      assert.equal(config.architecture, "arm64");
      const pairs = checkLayersMatchConfig(manifest, config);
      assert.deepEqual(
        pairs.map((p) => [p.layer.digest, p.diffId]),
        arm64.layers.map((l) => [l.digest, l.diffId]),
      );
    });

    it("refuses the wrong body for a descriptor, and a platform the index lacks", async () => {
      const b = await image();
      const top = parseManifestOrIndex(b.index, { mediaType: b.indexMediaType });
      if (top.kind !== "index") return assert.fail("expected an index");
      // The index's bytes served where a manifest was expected.
      throwsKimg(
        () => parseManifest(b.index, { mediaType: top.index.manifests[0]?.mediaType ?? "" }),
        "INVALID_MANIFEST",
        /does not match the media type it was fetched as/,
      );
      // Bytes that do not hash to the descriptor's digest.
      const amd64 = b.images[0];
      const desc = top.index.manifests[0];
      assert.ok(amd64 !== undefined && desc !== undefined);
      const tampered = Buffer.from(
        amd64.manifest.toString("utf8").replace("schemaVersion", "schemaVersion "),
      );
      throwsKimg(
        () => verifyContent(desc, { digest: sha256(tampered), size: tampered.length }),
        "SIZE_MISMATCH",
      );
      throwsKimg(
        () => selectManifest(top.index, parsePlatform("linux/s390x"), { source: "test" }),
        "PLATFORM_NOT_FOUND",
        "no match for platform linux/s390x in test; available: linux/amd64, linux/arm64/v8, linux/arm/v7",
      );
    });
  });
}
