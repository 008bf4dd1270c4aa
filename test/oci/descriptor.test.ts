// Descriptors: image-spec schema/descriptor_test.go's table (with kimg's documented
// differences), hostile values, and verifyContent's size-then-digest order.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { EMPTY_JSON_DESCRIPTOR, parseDescriptor, verifyContent } from "../../src/oci/index.ts";
import { throwsKimg } from "./helpers.ts";

const D = "sha256:5b0bcabd1ed22e9fb1310cf6c2dec7cdef19f0ad69efa1f392e94a4333501270";
const MT = "application/vnd.oci.image.manifest.v1+json";
const long = "1234567890".repeat(13).slice(0, 127);

interface Case {
  readonly name: string;
  readonly value: Record<string, unknown>;
  /** undefined: valid; else the expected message. */
  readonly error?: string;
}

// descriptor_test.go, in order. Where kimg differs from the schema, the case says why.
const CASES: readonly Case[] = [
  { name: "valid descriptor", value: { mediaType: MT, size: 7682, digest: D } },
  {
    name: "zero length blob",
    value: {
      mediaType: "application/octet-stream",
      size: 0,
      digest: "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    },
  },
  {
    name: "mediaType missing",
    value: { size: 7682, digest: D },
    error: "descriptor.mediaType: required",
  },
  {
    name: "mediaType without subtype",
    value: { mediaType: "application", size: 7682, digest: D },
    error: 'descriptor.mediaType: invalid media type "application"',
  },
  {
    name: "mediaType with an invalid first type character",
    value: { mediaType: ".foo/bar", size: 7682, digest: D },
    error: 'descriptor.mediaType: invalid media type ".foo/bar"',
  },
  {
    name: "mediaType with an invalid first subtype character",
    value: { mediaType: "foo/.bar", size: 7682, digest: D },
    error: 'descriptor.mediaType: invalid media type "foo/.bar"',
  },
  {
    name: "mediaType as long as possible",
    value: { mediaType: `${long}/${long}`, size: 7682, digest: D },
  },
  {
    name: "mediaType type too long",
    value: { mediaType: `${long}8/bar`, size: 7682, digest: D },
    error: `descriptor.mediaType: invalid media type "${`${long}8/bar`.slice(0, 79)}…`,
  },
  {
    name: "size missing",
    value: { mediaType: MT, digest: D },
    error: "descriptor.size: required",
  },
  {
    name: "size is a string",
    value: { mediaType: MT, size: "7682", digest: D },
    error: "descriptor.size: expected an integer, got string",
  },
  {
    name: "digest missing",
    value: { mediaType: MT, size: 7682 },
    error: "descriptor.digest: required",
  },
  {
    name: "digest without algorithm",
    value: { mediaType: MT, size: 7682, digest: `:${D.slice(7)}` },
    error: `descriptor.digest: invalid checksum digest format: ":${D.slice(7)}"`,
  },
  {
    name: "digest without hash",
    value: { mediaType: MT, size: 7682, digest: "sha256" },
    error: 'descriptor.digest: invalid checksum digest format: "sha256"',
  },
  {
    name: "digest with upper-case algorithm",
    value: { mediaType: MT, size: 7682, digest: `SHA256:${D.slice(7)}` },
    error: `descriptor.digest: invalid checksum digest format: "SHA256:${D.slice(7)}"`,
  },
  {
    name: "digest with upper-case hex",
    value: { mediaType: MT, size: 7682, digest: `sha256:${D.slice(7).toUpperCase()}` },
    error: `descriptor.digest: invalid checksum digest format: "sha256:${D.slice(7).toUpperCase()}"`,
  },
  {
    name: "valid URL",
    value: { mediaType: MT, size: 7682, digest: D, urls: ["https://example.com/foo"] },
  },
  {
    name: "URL that is not absolute",
    value: { mediaType: MT, size: 7682, digest: D, urls: ["value"] },
    error: 'descriptor.urls[0]: not an absolute URL: "value"',
  },
  { name: "artifactType", value: { mediaType: MT, artifactType: MT, size: 7682, digest: D } },
  {
    name: "artifactType with an invalid first subtype character",
    value: { mediaType: MT, artifactType: "foo/.bar", size: 7682, digest: D },
    error: 'descriptor.artifactType: invalid media type "foo/.bar"',
  },
  {
    name: "data with base64 content",
    value: {
      mediaType: "text/plain",
      size: 34,
      data: "aHR0cHM6Ly9naXRodWIuY29tL29wZW5jb250YWluZXJzCg==",
      digest: "sha256:2690af59371e9eca9453dc29882643f46e5ca47ec2862bd517b5e17351325153",
    },
  },
  {
    // The schema admits any algorithm (descriptor.md: implementations SHOULD let them pass);
    // go-digest and kimg do not: it could not verify the content.
    name: "alternate digest algorithm (refused by kimg)",
    value: {
      mediaType: "application/vnd.oci.image.config.v1+json",
      size: 1470,
      digest: `sha256+b64:${D.slice(7)}`,
    },
    error: `descriptor.digest: unsupported digest algorithm: "sha256+b64:${D.slice(7)}"`,
  },
  {
    name: "multihash digest (refused by kimg)",
    value: {
      mediaType: "application/vnd.oci.image.config.v1+json",
      size: 1470,
      digest: "multihash+base58:QmRZxt2b1FVZPNqd8hsiykDL3TdBDeTSPX9Kv46HmX4Gx8",
    },
    error:
      'descriptor.digest: unsupported digest algorithm: "multihash+base58:QmRZxt2b1FVZPNqd8hsiykDL3TdBDeTSPX9Kv46HmX4Gx8"',
  },
  {
    name: "repeated separators in the algorithm",
    value: {
      mediaType: "application/vnd.oci.image.config.v1+json",
      size: 1470,
      digest: `sha256+foo+-b:${D.slice(7)}`,
    },
    error: `descriptor.digest: invalid checksum digest format: "sha256+foo+-b:${D.slice(7)}"`,
  },
  {
    name: "data: invalid base64, missing padding",
    value: {
      mediaType: "text/plain",
      size: 34,
      data: "aHR0cHM6Ly9naXRodWIuY29tL29wZW5jb250YWluZXJzCg",
      digest: "sha256:2690af59371e9eca9453dc29882643f46e5ca47ec2862bd517b5e17351325153",
    },
    error: "descriptor.data: invalid base64",
  },
  {
    name: "negative size",
    value: { mediaType: MT, size: -7682, digest: D },
    error: "descriptor.size: expected an integer from 0 to 2^53-1, got -7682",
  },
  // kimg's own hostile cases
  {
    name: "fractional size",
    value: { mediaType: MT, size: 1.5, digest: D },
    error: "descriptor.size: expected an integer from 0 to 2^53-1, got 1.5",
  },
  {
    name: "size beyond 2^53-1",
    value: { mediaType: MT, size: 2 ** 53, digest: D },
    error: "descriptor.size: expected an integer from 0 to 2^53-1, got 9007199254740992",
  },
  {
    name: "digest that is a path",
    value: { mediaType: MT, size: 1, digest: "sha256:../../../../etc/passwd" },
    error: 'descriptor.digest: invalid checksum digest length: "sha256:../../../../etc/passwd"',
  },
  {
    name: "digest of the right length with a slash",
    value: { mediaType: MT, size: 1, digest: `sha256:${"a".repeat(30)}/../${"a".repeat(30)}` },
    error: `descriptor.digest: invalid checksum digest format: "sha256:${"a".repeat(30)}/../${"a".repeat(30)}"`,
  },
  {
    name: "digest of the wrong type",
    value: { mediaType: MT, size: 1, digest: 42 },
    error: "descriptor.digest: expected a string, got number",
  },
  {
    name: "mediaType with a header injection",
    value: { mediaType: "application/json\r\nAuthorization: x", size: 1, digest: D },
    error: 'descriptor.mediaType: invalid media type "application/json\\r\\nAuthorization: x"',
  },
  {
    name: "annotation that is not a string",
    value: { mediaType: MT, size: 1, digest: D, annotations: { a: 1 } },
    error: 'descriptor.annotations["a"]: expected a string, got number',
  },
  {
    name: "urls that is not an array",
    value: { mediaType: MT, size: 1, digest: D, urls: "https://x" },
    error: "descriptor.urls: expected an array, got string",
  },
  {
    name: "field name differing in case (Go would read it)",
    value: { mediaType: MT, size: 1, digest: D, Annotations: { a: "b" } },
    error:
      'descriptor: field "Annotations" differs from "annotations" only in case (Go decoders read it as "annotations")',
  },
  {
    name: "field name with a long s (Go folds ſ to s)",
    value: { mediaType: MT, size: 1, digest: D, ſize: 9 },
    error:
      'descriptor: field "ſize" differs from "size" only in case (Go decoders read it as "size")',
  },
  {
    name: "platform without os",
    value: { mediaType: MT, size: 1, digest: D, platform: { architecture: "amd64" } },
    error: "descriptor.platform.os: required",
  },
  {
    name: "platform with non-string features",
    value: {
      mediaType: MT,
      size: 1,
      digest: D,
      platform: { os: "linux", architecture: "amd64", "os.features": [1] },
    },
    error: "descriptor.platform.os.features[0]: expected a string, got number",
  },
];

describe("parseDescriptor: image-spec descriptor_test.go and hostile values", () => {
  for (const c of CASES) {
    it(c.name, () => {
      if (c.error === undefined) {
        const d = parseDescriptor(c.value);
        assert.equal(d.digest, c.value.digest);
        assert.equal(d.size, c.value.size);
        assert.equal(d.mediaType, c.value.mediaType);
      } else {
        throwsKimg(() => parseDescriptor(c.value), "INVALID_MANIFEST", c.error);
      }
    });
  }

  it("keeps known fields (platform in our spelling) and drops unknown ones", () => {
    const d = parseDescriptor({
      mediaType: MT,
      size: 1,
      digest: D,
      urls: ["https://example.com/a"],
      annotations: { "org.opencontainers.image.ref.name": "v1" },
      platform: {
        os: "windows",
        architecture: "amd64",
        "os.version": "10.0.20348.1",
        "os.features": ["win32k"],
        variant: "",
      },
      extra: true,
    });
    assert.deepEqual(d, {
      mediaType: MT,
      digest: D,
      size: 1,
      urls: ["https://example.com/a"],
      annotations: { "org.opencontainers.image.ref.name": "v1" },
      platform: {
        os: "windows",
        architecture: "amd64",
        osVersion: "10.0.20348.1",
        osFeatures: ["win32k"],
      },
    });
  });

  it("a __proto__ annotation stays data", () => {
    const d = parseDescriptor(
      JSON.parse(
        `{"mediaType":"${MT}","size":1,"digest":"${D}","annotations":{"__proto__":"x","a":"b"}}`,
      ),
    );
    assert.equal(Object.getPrototypeOf(d.annotations), Object.prototype);
    assert.equal(Object.getOwnPropertyDescriptor(d.annotations, "__proto__")?.value, "x");
    assert.equal(({} as Record<string, unknown>).x, undefined);
  });

  it("the path in messages can be chosen", () => {
    throwsKimg(
      () => parseDescriptor({}, "index.json manifests[3]"),
      "INVALID_MANIFEST",
      "index.json manifests[3].mediaType: required",
    );
    throwsKimg(
      () => parseDescriptor([]),
      "INVALID_MANIFEST",
      "descriptor: expected an object, got array",
    );
  });

  it("EMPTY_JSON_DESCRIPTOR is the image-spec's", () => {
    assert.deepEqual(parseDescriptor(EMPTY_JSON_DESCRIPTOR), EMPTY_JSON_DESCRIPTOR);
    assert.equal(atob(EMPTY_JSON_DESCRIPTOR.data ?? ""), "{}");
  });
});

describe("verifyContent", () => {
  const expected = { digest: D, size: 10 };

  it("passes when size and digest match", () => {
    verifyContent(expected, { digest: D, size: 10 });
  });

  it("checks the size first", () => {
    throwsKimg(
      () => verifyContent(expected, { digest: `sha256:${"0".repeat(64)}`, size: 0 }),
      "SIZE_MISMATCH",
      "content sha256:5b0bcabd1ed2: expected 10 bytes, got 0",
    );
  });

  it("then the digest", () => {
    throwsKimg(
      () => verifyContent(expected, { digest: `sha256:${"0".repeat(64)}`, size: 10 }),
      "DIGEST_MISMATCH",
      `unexpected digest sha256:${"0".repeat(64)}, expected ${D}`,
    );
  });
});
