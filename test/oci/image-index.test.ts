// parseImageIndex: image-spec schema/imageindex_test.go's cases, Docker manifest lists, and
// index-specific hostile documents.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseImageIndex } from "../../src/oci/index.ts";
import {
  D1,
  D2,
  DOCKER_LIST,
  DOCKER_MANIFEST,
  json,
  OCI_INDEX,
  OCI_MANIFEST,
  throwsKimg,
} from "./helpers.ts";

const entry = (extra: Record<string, unknown> = {}) => ({
  mediaType: OCI_MANIFEST,
  size: 7143,
  digest: D1,
  platform: { architecture: "ppc64le", os: "linux" },
  ...extra,
});
const index = (manifests: unknown[], extra: Record<string, unknown> = {}) =>
  json({ schemaVersion: 2, mediaType: OCI_INDEX, manifests, ...extra });

describe("parseImageIndex: image-spec imageindex_test.go", () => {
  it("mediaType of an entry that does not match the pattern", () => {
    throwsKimg(
      () => parseImageIndex(index([entry({ mediaType: "invalid" })])),
      "INVALID_MANIFEST",
      'index.manifests[0].mediaType: invalid media type "invalid"',
    );
  });

  it("size of an entry that is a string", () => {
    throwsKimg(
      () => parseImageIndex(index([entry({ size: "7143" })])),
      "INVALID_MANIFEST",
      "index.manifests[0].size: expected an integer, got string",
    );
  });

  it("digest of an entry missing", () => {
    const { digest: _, ...noDigest } = entry();
    throwsKimg(
      () => parseImageIndex(index([noDigest])),
      "INVALID_MANIFEST",
      "index.manifests[0].digest: required",
    );
  });

  it("platform.architecture missing", () => {
    throwsKimg(
      () => parseImageIndex(index([entry({ platform: { os: "linux" } })])),
      "INVALID_MANIFEST",
      "index.manifests[0].platform.architecture: required",
    );
  });

  it("entry media type that is not a manifest type: kept (MUST NOT error), and empty ones refused", () => {
    const i = parseImageIndex(
      index([entry({ mediaType: "application/customized.manifest+json" })]),
    );
    assert.equal(i.manifests[0]?.mediaType, "application/customized.manifest+json");
    throwsKimg(
      () => parseImageIndex(index([entry({ mediaType: "" })])),
      "INVALID_MANIFEST",
      'index.manifests[0].mediaType: invalid media type ""',
    );
  });

  it("valid index with optional fields", () => {
    const i = parseImageIndex(
      index(
        [
          entry(),
          entry({
            digest: D2,
            platform: { architecture: "amd64", os: "linux", "os.features": ["sse4"] },
          }),
        ],
        { annotations: { "com.example.key1": "value1", "com.example.key2": "value2" } },
      ),
    );
    assert.equal(i.mediaType, OCI_INDEX);
    assert.equal(i.manifests.length, 2);
    assert.deepEqual(i.manifests[1]?.platform, {
      architecture: "amd64",
      os: "linux",
      osFeatures: ["sse4"],
    });
    assert.deepEqual(i.annotations, { "com.example.key1": "value1", "com.example.key2": "value2" });
  });

  it("valid index with required fields only; entries without platform", () => {
    const { platform: _, ...noPlatform } = entry();
    const i = parseImageIndex(json({ schemaVersion: 2, manifests: [noPlatform] }));
    assert.equal(i.manifests[0]?.platform, undefined);
  });

  it("artifactType and subject", () => {
    const i = parseImageIndex(
      index([entry()], {
        artifactType: "application/vnd.food.stand",
        subject: { mediaType: OCI_MANIFEST, size: 1234, digest: D2 },
      }),
    );
    assert.equal(i.artifactType, "application/vnd.food.stand");
    assert.equal(i.subject?.digest, D2);
    throwsKimg(
      () => parseImageIndex(index([entry()], { subject: ".nope" })),
      "INVALID_MANIFEST",
      "index.subject: expected an object, got string",
    );
  });
});

describe("parseImageIndex: formats and hostile documents", () => {
  it("a Docker manifest list", () => {
    const i = parseImageIndex(
      json({
        schemaVersion: 2,
        mediaType: DOCKER_LIST,
        manifests: [
          {
            mediaType: DOCKER_MANIFEST,
            size: 528,
            digest: D1,
            platform: { architecture: "arm", os: "linux", variant: "v7", features: ["sse4"] },
          },
        ],
      }),
      { mediaType: DOCKER_LIST },
    );
    assert.equal(i.mediaType, DOCKER_LIST);
    assert.deepEqual(i.manifests[0]?.platform, { architecture: "arm", os: "linux", variant: "v7" });
  });

  it("manifests missing, null, or not an array", () => {
    throwsKimg(
      () => parseImageIndex(json({ schemaVersion: 2, mediaType: OCI_INDEX })),
      "INVALID_MANIFEST",
      "index.manifests: required",
    );
    throwsKimg(
      () => parseImageIndex(index(null as unknown as unknown[])),
      "INVALID_MANIFEST",
      "index.manifests: required",
    );
    throwsKimg(
      () => parseImageIndex(json({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: {} })),
      "INVALID_MANIFEST",
      "index.manifests: expected an array, got object",
    );
  });

  it("an index with config or layers is ambiguous", () => {
    throwsKimg(
      () => parseImageIndex(index([entry()], { config: {} })),
      "INVALID_MANIFEST",
      `index: rejecting ambiguous document: an index (${OCI_INDEX}) must not have "config"`,
    );
  });

  it("a manifest is not an index", () => {
    throwsKimg(
      () =>
        parseImageIndex(
          json({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: {}, layers: [] }),
        ),
      "UNSUPPORTED_MEDIA_TYPE",
      `expected an index, got a manifest (${OCI_MANIFEST})`,
    );
  });

  it("a platform that is not an object, or with wrong field types", () => {
    throwsKimg(
      () => parseImageIndex(index([entry({ platform: "linux/amd64" })])),
      "INVALID_MANIFEST",
      "index.manifests[0].platform: expected an object, got string",
    );
    throwsKimg(
      () => parseImageIndex(index([entry({ platform: { os: "linux", architecture: 64 } })])),
      "INVALID_MANIFEST",
      "index.manifests[0].platform.architecture: expected a string, got number",
    );
    throwsKimg(
      () =>
        parseImageIndex(
          index([entry({ platform: { os: "linux", architecture: "amd64", OS: "windows" } })]),
        ),
      "INVALID_MANIFEST",
      'index.manifests[0].platform: field "OS" differs from "os" only in case (Go decoders read it as "os")',
    );
  });

  it("one bad entry fails the whole index (Go's decoder fails the same way on wrong types)", () => {
    throwsKimg(
      () => parseImageIndex(index([entry(), entry({ size: -1 })])),
      "INVALID_MANIFEST",
      "index.manifests[1].size: expected an integer from 0 to 2^53-1, got -1",
    );
  });
});
