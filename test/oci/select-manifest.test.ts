// selectManifest / filterManifests: how a pull picks one entry of an index for a platform
// (containerd core/images/handlers.go FilterPlatforms + LimitManifests(…, 1), client/pull.go
// with platforms.Only), and the PLATFORM_NOT_FOUND message.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  type Descriptor,
  filterManifests,
  formatPlatform,
  hostPlatform,
  type Platform,
  parseImageIndex,
  parsePlatform,
  selectManifest,
} from "../../src/oci/index.ts";
import { json, OCI_INDEX, OCI_MANIFEST, ociIndex, throwsKimg } from "./helpers.ts";

const index = (platforms: readonly string[]) => parseImageIndex(json(ociIndex(platforms)));
const want = (s: string): Platform => parsePlatform(s);
const chosen = (d: Descriptor) =>
  d.platform === undefined ? "(none)" : formatPlatform(d.platform);

describe("selectManifest", () => {
  it("picks the exact platform", () => {
    const idx = index(["linux/amd64", "linux/arm64/v8", "linux/arm/v7", "linux/s390x"]);
    assert.equal(chosen(selectManifest(idx, want("linux/arm64"))), "linux/arm64/v8");
    assert.equal(chosen(selectManifest(idx, want("linux/s390x"))), "linux/s390x");
    assert.equal(chosen(selectManifest(idx, want("linux/arm/v7"))), "linux/arm/v7");
  });

  it("an arm64 host falls back to arm v8, v7, v6, v5, in that order", () => {
    const all = ["linux/arm/v5", "linux/arm/v6", "linux/arm/v7", "linux/arm/v8"];
    const host = want("linux/arm64");
    for (const expected of ["linux/arm/v8", "linux/arm/v7", "linux/arm/v6", "linux/arm/v5"]) {
      const offered = all.filter((p) => all.indexOf(p) <= all.indexOf(expected));
      assert.equal(chosen(selectManifest(index(offered), host)), expected, offered.join(","));
    }
    // …but never arm/v4, nor another architecture.
    throwsKimg(
      () => selectManifest(index(["linux/arm/v4", "linux/amd64"]), host),
      "PLATFORM_NOT_FOUND",
    );
  });

  it("amd64 variants: v3 wants v3, then v2, v1, then 386; v4 is never chosen", () => {
    const host = want("linux/amd64/v3");
    assert.equal(
      chosen(
        selectManifest(
          index(["linux/amd64", "linux/amd64/v2", "linux/amd64/v3", "linux/amd64/v4"]),
          host,
        ),
      ),
      "linux/amd64/v3",
    );
    assert.equal(
      chosen(selectManifest(index(["linux/amd64/v4", "linux/amd64", "linux/amd64/v2"]), host)),
      "linux/amd64/v2",
    );
    assert.equal(chosen(selectManifest(index(["linux/386", "linux/amd64/v4"]), host)), "linux/386");
    // A plain amd64 host takes a v1 image (v1 is the default) but no v2.
    assert.equal(
      chosen(selectManifest(index(["linux/amd64/v2", "linux/amd64/v1"]), want("linux/amd64"))),
      "linux/amd64/v1",
    );
  });

  it("with strict, no fallback", () => {
    throwsKimg(
      () => selectManifest(index(["linux/arm/v7"]), want("linux/arm64"), { strict: true }),
      "PLATFORM_NOT_FOUND",
    );
  });

  it("equal matches keep index order (stable sort)", () => {
    const idx = index(["linux/arm64", "linux/amd64", "linux/amd64"]);
    const first = idx.manifests[1];
    assert.equal(selectManifest(idx, want("linux/amd64")), first);
  });

  it("entries without a platform are kept, but ranked last", () => {
    const raw = ociIndex(["linux/arm64/v8", "linux/amd64"]);
    const noPlatform = {
      mediaType: OCI_MANIFEST,
      size: 7,
      digest: `sha256:${"e".repeat(64)}`,
    };
    const idx = parseImageIndex(json({ ...raw, manifests: [noPlatform, ...raw.manifests] }));
    assert.equal(chosen(selectManifest(idx, want("linux/amd64"))), "linux/amd64");
    assert.equal(chosen(selectManifest(idx, want("linux/s390x"))), "(none)");
    assert.deepEqual(filterManifests(idx, want("linux/amd64")).map(chosen), [
      "linux/amd64",
      "(none)",
    ]);
    // Several of each, interleaved: platform entries by preference, then the rest in order.
    const [arm64, amd64] = raw.manifests;
    const mixed = parseImageIndex(
      json({
        ...raw,
        manifests: [
          { ...noPlatform, size: 1 },
          { ...amd64, size: 2 },
          { ...noPlatform, size: 3 },
          { ...arm64, size: 4, platform: { os: "linux", architecture: "386" } },
          { ...noPlatform, size: 5 },
          { ...amd64, size: 6 },
        ],
      }),
    );
    assert.deepEqual(
      filterManifests(mixed, want("linux/amd64")).map((d) => d.size),
      [2, 6, 4, 1, 3, 5],
    );
  });

  it("prefers the entry with more matching os.features", () => {
    const raw = ociIndex(["linux/amd64", "linux/amd64"]);
    const [a, b] = raw.manifests;
    const withGpu = {
      ...b,
      platform: { os: "linux", architecture: "amd64", "os.features": ["gpu"] },
    };
    const idx = parseImageIndex(json({ ...raw, manifests: [a, withGpu] }));
    assert.equal(selectManifest(idx, want("linux(+gpu)/amd64")).platform?.osFeatures?.[0], "gpu");
    // A host without the feature cannot use the gpu image, and takes the plain one.
    assert.equal(selectManifest(idx, want("linux/amd64")).platform?.osFeatures, undefined);
  });

  it("an empty OS in an entry is the host's OS when hostOS is given (containerd: runtime.GOOS)", () => {
    const raw = ociIndex(["x/amd64"]);
    const [e] = raw.manifests;
    const idx = parseImageIndex(
      json({ ...raw, manifests: [{ ...e, platform: { os: "", architecture: "amd64" } }] }),
    );
    throwsKimg(() => selectManifest(idx, want("linux/amd64")), "PLATFORM_NOT_FOUND");
    assert.equal(selectManifest(idx, want("linux/amd64"), { hostOS: "linux" }).size, 1000);
  });

  it("normalizes both sides (aarch64, x86_64, armhf in the index)", () => {
    const idx = index(["linux/x86_64", "linux/aarch64", "linux/armhf"]);
    assert.equal(chosen(selectManifest(idx, want("linux/amd64"))), "linux/x86_64");
    assert.equal(chosen(selectManifest(idx, want("linux/arm64/v8"))), "linux/aarch64");
    assert.equal(chosen(selectManifest(idx, want("linux/arm/v7"))), "linux/armhf");
  });

  it("works on a bare descriptor list and with a host from hostPlatform", () => {
    const idx = index(["linux/amd64", "linux/arm64/v8"]);
    const host = hostPlatform({ os: "linux", architecture: "arm64", variant: "v8" });
    assert.equal(chosen(selectManifest(idx.manifests, host)), "linux/arm64/v8");
  });

  it("PLATFORM_NOT_FOUND names the wanted platform and what the index offers", () => {
    const idx = index(["linux/amd64", "linux/arm64/v8", "unknown/unknown", "linux/amd64"]);
    throwsKimg(
      () => selectManifest(idx, want("linux/s390x")),
      "PLATFORM_NOT_FOUND",
      "no match for platform linux/s390x in index; available: linux/amd64, linux/arm64/v8",
    );
    throwsKimg(
      () =>
        selectManifest(idx, want("windows(10.0.20348)/amd64"), {
          source: "docker.io/library/alpine:3.20",
        }),
      "PLATFORM_NOT_FOUND",
      "no match for platform windows(10.0.20348)/amd64 in docker.io/library/alpine:3.20; available: linux/amd64, linux/arm64/v8",
    );
    throwsKimg(
      () =>
        selectManifest(
          parseImageIndex(json({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [] })),
          want("linux/amd64"),
        ),
      "PLATFORM_NOT_FOUND",
      "no match for platform linux/amd64 in index; available: none",
    );
  });

  it("BuildKit attestation entries (unknown/unknown) are never chosen", () => {
    const idx = index(["unknown/unknown", "linux/amd64"]);
    assert.equal(chosen(selectManifest(idx, want("linux/amd64"))), "linux/amd64");
    throwsKimg(
      () => selectManifest(index(["unknown/unknown"]), want("linux/amd64")),
      "PLATFORM_NOT_FOUND",
    );
  });
});
