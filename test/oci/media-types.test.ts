// Media types: containerd core/images/mediatypes.go predicates (IsIndexType, IsManifestType,
// IsLayerType, DiffCompression, IsNonDistributable), the resolver's Accept header, and the
// image-spec descriptor schema's media type pattern (schema/descriptor_test.go cases).

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  blobAccept,
  isConfigMediaType,
  isIndexMediaType,
  isLayerMediaType,
  isManifestMediaType,
  isNonDistributable,
  isSchema1MediaType,
  isValidMediaType,
  layerCompression,
  MANIFEST_ACCEPT,
  MANIFEST_ACCEPT_HEADER,
  normalizeContentType,
  REFUSED_MEDIA_TYPES,
} from "../../src/oci/index.ts";

describe("MANIFEST_ACCEPT", () => {
  it("is containerd's resolver Accept header, in order, without q-values", () => {
    assert.equal(
      MANIFEST_ACCEPT_HEADER,
      "application/vnd.docker.distribution.manifest.v2+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json, */*",
    );
    assert.equal(MANIFEST_ACCEPT.length, 5);
    assert.ok(!MANIFEST_ACCEPT.some(isSchema1MediaType), "never asks for schema 1");
  });

  it("blobAccept: the descriptor's type, then */* (containerd setMediaType)", () => {
    assert.equal(
      blobAccept("application/vnd.oci.image.layer.v1.tar+gzip"),
      "application/vnd.oci.image.layer.v1.tar+gzip, */*",
    );
    assert.equal(blobAccept(""), "*/*");
    assert.equal(blobAccept(undefined), "*/*");
  });
});

describe("kinds of media type", () => {
  const table: readonly [string, "index" | "manifest" | "config" | "layer" | "other"][] = [
    ["application/vnd.oci.image.index.v1+json", "index"],
    ["application/vnd.docker.distribution.manifest.list.v2+json", "index"],
    ["application/vnd.oci.image.manifest.v1+json", "manifest"],
    ["application/vnd.docker.distribution.manifest.v2+json", "manifest"],
    ["application/vnd.docker.distribution.manifest.v1+json", "other"],
    ["application/vnd.docker.distribution.manifest.v1+prettyjws", "other"],
    ["application/vnd.oci.image.config.v1+json", "config"],
    ["application/vnd.docker.container.image.v1+json", "config"],
    ["application/vnd.oci.image.layer.v1.tar", "layer"],
    ["application/vnd.oci.image.layer.v1.tar+gzip", "layer"],
    ["application/vnd.oci.image.layer.v1.tar+zstd", "layer"],
    ["application/vnd.oci.image.layer.v1.tar+gzip+encrypted", "layer"],
    ["application/vnd.oci.image.layer.nondistributable.v1.tar+gzip", "layer"],
    ["application/vnd.docker.image.rootfs.diff.tar", "layer"],
    ["application/vnd.docker.image.rootfs.diff.tar.gzip", "layer"],
    ["application/vnd.docker.image.rootfs.diff.tar.zstd", "layer"],
    ["application/vnd.docker.image.rootfs.foreign.diff.tar", "layer"],
    ["application/vnd.docker.image.rootfs.foreign.diff.tar.gzip", "layer"],
    ["application/vnd.docker.image.rootfs.diff.tar.gzip+encrypted", "layer"],
    ["application/vnd.erofs.layer.v1", "layer"],
    ["application/vnd.oci.empty.v1+json", "other"],
    ["application/vnd.in-toto+json", "other"],
    ["application/vnd.docker.image.rootfs.diff.tar.bz2", "other"],
    ["application/octet-stream", "other"],
    ["", "other"],
  ];
  for (const [mt, kind] of table) {
    it(`${mt || '""'} is ${kind}`, () => {
      assert.equal(isIndexMediaType(mt), kind === "index");
      assert.equal(isManifestMediaType(mt), kind === "manifest");
      assert.equal(isConfigMediaType(mt), kind === "config");
      assert.equal(isLayerMediaType(mt), kind === "layer");
    });
  }

  it("schema 1 is recognized and refused", () => {
    assert.deepEqual(REFUSED_MEDIA_TYPES, [
      "application/vnd.docker.distribution.manifest.v1+json",
      "application/vnd.docker.distribution.manifest.v1+prettyjws",
    ]);
    assert.ok(REFUSED_MEDIA_TYPES.every(isSchema1MediaType));
    assert.ok(!isSchema1MediaType("application/vnd.docker.distribution.manifest.v2+json"));
  });

  it("non-distributable: OCI nondistributable and Docker foreign layers", () => {
    assert.ok(isNonDistributable("application/vnd.oci.image.layer.nondistributable.v1.tar"));
    assert.ok(isNonDistributable("application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"));
    assert.ok(!isNonDistributable("application/vnd.oci.image.layer.v1.tar+gzip"));
    assert.ok(!isNonDistributable("application/vnd.docker.image.rootfs.diff.tar.gzip"));
  });
});

describe("layerCompression (containerd DiffCompression)", () => {
  const table: readonly [string, string | undefined][] = [
    ["application/vnd.oci.image.layer.v1.tar", "none"],
    ["application/vnd.oci.image.layer.v1.tar+gzip", "gzip"],
    ["application/vnd.oci.image.layer.v1.tar+zstd", "zstd"],
    ["application/vnd.oci.image.layer.v1.tar+gzip+encrypted", "gzip"],
    ["application/vnd.oci.image.layer.v1.tar+zstd+encrypted", "zstd"],
    ["application/vnd.oci.image.layer.v1.tar+encrypted", "none"],
    ["application/vnd.oci.image.layer.v1.tar+foo", "none"],
    ["application/vnd.oci.image.layer.nondistributable.v1.tar+gzip", "gzip"],
    ["application/vnd.oci.image.layer.nondistributable.v1.tar+zstd", "zstd"],
    ["application/vnd.oci.image.layer.nondistributable.v1.tar", "none"],
    // Docker's uncompressed types may be compressed anyway: sniff.
    ["application/vnd.docker.image.rootfs.diff.tar", "unknown"],
    ["application/vnd.docker.image.rootfs.foreign.diff.tar", "unknown"],
    ["application/vnd.docker.image.rootfs.diff.tar.gzip", "gzip"],
    ["application/vnd.docker.image.rootfs.foreign.diff.tar.gzip", "gzip"],
    ["application/vnd.docker.image.rootfs.diff.tar.zstd", "zstd"],
    // A wrapped Docker type: the wrapper handles it (containerd returns "").
    ["application/vnd.docker.image.rootfs.diff.tar.gzip+encrypted", "none"],
    ["application/vnd.erofs.layer.v1", undefined],
    ["application/vnd.oci.image.config.v1+json", undefined],
    ["application/octet-stream", undefined],
  ];
  for (const [mt, c] of table) {
    it(`${mt} → ${c}`, () => assert.equal(layerCompression(mt), c));
  }
});

describe("normalizeContentType", () => {
  it("drops parameters and surrounding spaces, nothing else", () => {
    assert.equal(
      normalizeContentType("application/vnd.oci.image.manifest.v1+json; charset=utf-8"),
      "application/vnd.oci.image.manifest.v1+json",
    );
    assert.equal(normalizeContentType("  application/json ;x"), "application/json");
    assert.equal(normalizeContentType(undefined), "");
    // containerd maps text/plain to schema 1 here; kimg decides from the body (document.ts).
    assert.equal(normalizeContentType("text/plain"), "text/plain");
    // No lower-casing: containerd compares exactly.
    assert.equal(normalizeContentType("Application/JSON"), "Application/JSON");
  });
});

describe("isValidMediaType (image-spec defs-descriptor.json; descriptor_test.go)", () => {
  const long = "1234567890".repeat(13).slice(0, 127);
  const table: readonly [string, boolean][] = [
    ["application/vnd.oci.image.manifest.v1+json", true],
    ["application/octet-stream", true],
    ["text/plain", true],
    ["application", false], // no subtype
    [".foo/bar", false], // invalid first type character
    ["foo/.bar", false], // invalid first subtype character
    [`${long}/${long}`, true], // as long as possible
    [`${long}8/bar`, false], // type too long
    [`foo/${long}8`, false], // subtype too long
    ["application/json\r\nX-Evil: 1", false], // header injection
    ["application/json, */*", false],
    ["", false],
  ];
  for (const [mt, ok] of table) {
    it(`${JSON.stringify(mt.length > 40 ? `${mt.slice(0, 40)}…` : mt)} ${ok ? "valid" : "invalid"}`, () => {
      assert.equal(isValidMediaType(mt), ok);
    });
  }
});
