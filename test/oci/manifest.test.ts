// parseManifest and parseManifestOrIndex: image-spec schema/manifest_test.go's cases (with
// kimg's documented differences), the media-type rules of document.ts (header versus body,
// containerd validateMediaType, CVE-2021-41190), schema 1 refusal, the size cap, and hostile
// documents.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  checkManifestSize,
  MAX_MANIFEST_BYTES,
  parseManifest,
  parseManifestOrIndex,
} from "../../src/oci/index.ts";
import {
  CONFIG_DIGEST,
  D2,
  DOCKER_CONFIG,
  DOCKER_LAYER_GZIP,
  DOCKER_LIST,
  DOCKER_MANIFEST,
  json,
  OCI_CONFIG,
  OCI_INDEX,
  OCI_LAYER_GZIP,
  OCI_MANIFEST,
  ociManifest,
  throwsKimg,
} from "./helpers.ts";

const SCHEMA1_REFUSAL = /^schema 1 manifests are not supported: /;
/** A path traversal of exactly sha256's hex length, so only the format check can catch it. */
const TRAVERSAL = `sha256:${"../".repeat(18)}etc/passwd`;

describe("parseManifest: image-spec manifest_test.go", () => {
  it("valid manifest with optional fields", () => {
    const m = parseManifest(json(ociManifest({ annotations: { key1: "value1", key2: "value2" } })));
    assert.equal(m.mediaType, OCI_MANIFEST);
    assert.equal(m.schemaVersion, 2);
    assert.equal(m.config.digest, CONFIG_DIGEST);
    assert.equal(m.layers.length, 3);
    assert.equal(m.layers[0]?.size, 675598);
    assert.deepEqual(m.annotations, { key1: "value1", key2: "value2" });
  });

  it("config.mediaType that does not match the pattern", () => {
    const doc = ociManifest({
      config: { mediaType: "invalid", size: 1470, digest: CONFIG_DIGEST },
    });
    throwsKimg(
      () => parseManifest(json(doc)),
      "INVALID_MANIFEST",
      'manifest.config.mediaType: invalid media type "invalid"',
    );
  });

  it("config.size that is a string", () => {
    const doc = ociManifest({
      config: { mediaType: OCI_CONFIG, size: "1470", digest: CONFIG_DIGEST },
    });
    throwsKimg(
      () => parseManifest(json(doc)),
      "INVALID_MANIFEST",
      "manifest.config.size: expected an integer, got string",
    );
  });

  it("layers[0].size that is a string", () => {
    const doc = ociManifest({
      layers: [{ mediaType: OCI_LAYER_GZIP, size: "675598", digest: D2 }],
    });
    throwsKimg(
      () => parseManifest(json(doc)),
      "INVALID_MANIFEST",
      "manifest.layers[0].size: expected an integer, got string",
    );
  });

  it("empty layers: accepted (the schema's minItems 1 is only a SHOULD in manifest.md)", () => {
    assert.deepEqual(parseManifest(json(ociManifest({ layers: [] }))).layers, []);
  });

  it("digest algorithms beyond go-digest's: refused (the schema admits them)", () => {
    const doc = ociManifest({
      config: { mediaType: OCI_CONFIG, size: 1470, digest: `sha256+b64:${CONFIG_DIGEST.slice(7)}` },
    });
    throwsKimg(
      () => parseManifest(json(doc)),
      "INVALID_MANIFEST",
      `manifest.config.digest: unsupported digest algorithm: "sha256+b64:${CONFIG_DIGEST.slice(7)}"`,
    );
  });

  it("subject with a valid descriptor", () => {
    const subject = { mediaType: OCI_MANIFEST, size: 1234, digest: D2 };
    assert.deepEqual(parseManifest(json(ociManifest({ subject }))).subject, subject);
  });

  it("subject that is not a descriptor", () => {
    throwsKimg(
      () => parseManifest(json(ociManifest({ subject: ".nope" }))),
      "INVALID_MANIFEST",
      "manifest.subject: expected an object, got string",
    );
  });

  it("artifact with a dedicated config and an unknown layer type", () => {
    const m = parseManifest(
      json(
        ociManifest({
          config: {
            mediaType: "application/vnd.example.config+json",
            size: 1470,
            digest: CONFIG_DIGEST,
          },
          layers: [{ mediaType: "application/vnd.example.data+type", size: 675598, digest: D2 }],
        }),
      ),
    );
    assert.equal(m.config.mediaType, "application/vnd.example.config+json");
  });

  it("artifact with the empty config and artifactType", () => {
    const m = parseManifest(
      json(
        ociManifest({
          artifactType: "application/vnd.example+type",
          config: {
            mediaType: "application/vnd.oci.empty.v1+json",
            size: 2,
            digest: "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",
          },
        }),
      ),
    );
    assert.equal(m.artifactType, "application/vnd.example+type");
    throwsKimg(
      () => parseManifest(json(ociManifest({ artifactType: "nope" }))),
      "INVALID_MANIFEST",
      'manifest.artifactType: invalid media type "nope"',
    );
  });
});

describe("parseManifest: the media type", () => {
  const oci = json(ociManifest());
  const docker = json({
    schemaVersion: 2,
    mediaType: DOCKER_MANIFEST,
    config: { mediaType: DOCKER_CONFIG, size: 1470, digest: CONFIG_DIGEST },
    layers: [{ mediaType: DOCKER_LAYER_GZIP, size: 10, digest: D2 }],
  });

  it("header and body agree", () => {
    assert.equal(parseManifest(oci, { mediaType: OCI_MANIFEST }).mediaType, OCI_MANIFEST);
    assert.equal(parseManifest(docker, { mediaType: DOCKER_MANIFEST }).mediaType, DOCKER_MANIFEST);
  });

  it("Content-Type parameters are ignored", () => {
    assert.equal(
      parseManifest(oci, { mediaType: `${OCI_MANIFEST}; charset=utf-8` }).mediaType,
      OCI_MANIFEST,
    );
  });

  it("a body mediaType that differs from the header is refused, even of the same kind", () => {
    // containerd accepts this one (it only rejects manifest-versus-index); the spec says SHOULD reject.
    throwsKimg(
      () => parseManifest(docker, { mediaType: OCI_MANIFEST }),
      "INVALID_MANIFEST",
      `manifest.mediaType: "${DOCKER_MANIFEST}" does not match the media type it was fetched as, "${OCI_MANIFEST}"`,
    );
    throwsKimg(
      () => parseManifest(json(ociManifest({ mediaType: OCI_INDEX })), { mediaType: OCI_MANIFEST }),
      "INVALID_MANIFEST",
      /does not match the media type it was fetched as/,
    );
  });

  it("without a header, the body's mediaType decides", () => {
    assert.equal(parseManifest(docker).mediaType, DOCKER_MANIFEST);
    assert.equal(
      parseManifest(docker, { mediaType: "application/json" }).mediaType,
      DOCKER_MANIFEST,
    );
    // containerd reads text/plain as schema 1 (a Red Hat registry quirk); kimg looks at the body.
    assert.equal(parseManifest(oci, { mediaType: "text/plain" }).mediaType, OCI_MANIFEST);
    assert.equal(
      parseManifest(oci, { mediaType: "application/octet-stream" }).mediaType,
      OCI_MANIFEST,
    );
  });

  it("without any mediaType, it is guessed like containers/image GuessMIMEType", () => {
    const { mediaType: _, ...bare } = ociManifest();
    assert.equal(parseManifest(json(bare)).mediaType, OCI_MANIFEST);
    const dockerBare = {
      ...bare,
      config: { mediaType: DOCKER_CONFIG, size: 1, digest: CONFIG_DIGEST },
    };
    assert.equal(parseManifest(json(dockerBare)).mediaType, DOCKER_MANIFEST);
    throwsKimg(
      () => parseManifest(json({ schemaVersion: 2 })),
      "INVALID_MANIFEST",
      "manifest: cannot tell a manifest from an index: no mediaType, manifests or config",
    );
  });

  it("an unknown media type, in the header or the body, is refused", () => {
    throwsKimg(
      () => parseManifest(oci, { mediaType: "application/vnd.example+json" }),
      "UNSUPPORTED_MEDIA_TYPE",
      'unsupported manifest media type "application/vnd.example+json"',
    );
    throwsKimg(
      () => parseManifest(oci, { mediaType: OCI_CONFIG }),
      "UNSUPPORTED_MEDIA_TYPE",
      `unsupported manifest media type "${OCI_CONFIG}"`,
    );
    throwsKimg(
      () => parseManifest(json(ociManifest({ mediaType: "application/vnd.example+json" }))),
      "UNSUPPORTED_MEDIA_TYPE",
      'unsupported manifest media type "application/vnd.example+json" (manifest.mediaType)',
    );
    throwsKimg(
      () => parseManifest(json(ociManifest({ mediaType: 7 }))),
      "INVALID_MANIFEST",
      "manifest.mediaType: expected a string, got number",
    );
  });

  it("an index is not a manifest", () => {
    const index = json({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [] });
    throwsKimg(
      () => parseManifest(index),
      "UNSUPPORTED_MEDIA_TYPE",
      `expected a manifest, got an index (${OCI_INDEX})`,
    );
    throwsKimg(
      () => parseManifest(index, { mediaType: DOCKER_LIST }),
      "INVALID_MANIFEST",
      /does not match/,
    );
  });
});

describe("ambiguous documents (CVE-2021-41190; containerd validateMediaType)", () => {
  const both = ociManifest({ manifests: [] });
  const { mediaType: _, ...bothBare } = both;

  it("a manifest with manifests is refused, whatever it is fetched as", () => {
    const msg = `manifest: rejecting ambiguous document: a manifest (${OCI_MANIFEST}) must not have "manifests"`;
    throwsKimg(() => parseManifest(json(both)), "INVALID_MANIFEST", msg);
    throwsKimg(
      () => parseManifest(json(both), { mediaType: OCI_MANIFEST }),
      "INVALID_MANIFEST",
      msg,
    );
    throwsKimg(() => parseManifestOrIndex(json(both)), "INVALID_MANIFEST", msg);
  });

  it("without mediaType it reads as an index, which must not have config or layers", () => {
    throwsKimg(
      () => parseManifestOrIndex(json(bothBare)),
      "INVALID_MANIFEST",
      `index: rejecting ambiguous document: an index (${OCI_INDEX}) must not have "config" or "layers"`,
    );
    throwsKimg(
      () => parseManifestOrIndex(json(bothBare), { mediaType: DOCKER_LIST }),
      "INVALID_MANIFEST",
      /ambiguous/,
    );
  });

  it("the key counts even when null or empty (json.RawMessage)", () => {
    throwsKimg(
      () => parseManifest(json(ociManifest({ manifests: null }))),
      "INVALID_MANIFEST",
      /ambiguous/,
    );
    const index = { schemaVersion: 2, mediaType: OCI_INDEX, manifests: [], layers: null };
    throwsKimg(
      () => parseManifestOrIndex(json(index)),
      "INVALID_MANIFEST",
      /must not have "layers"/,
    );
  });

  it("a key in another case counts too (Go matches keys case-insensitively)", () => {
    throwsKimg(
      () => parseManifest(json(ociManifest({ Manifests: [] }))),
      "INVALID_MANIFEST",
      'manifest: field "Manifests" differs from "manifests" only in case (Go decoders read it as "manifests")',
    );
    throwsKimg(
      () => parseManifest(json(ociManifest({ LAYERS: [] }))),
      "INVALID_MANIFEST",
      /"LAYERS" differs from "layers"/,
    );
    throwsKimg(
      () =>
        parseManifest(
          json(ociManifest({ "\u212aey": 1, annotations: {}, Annotations: { a: "b" } })),
        ),
      "INVALID_MANIFEST",
      /"Annotations" differs from "annotations"/,
    );
  });
});

describe("schema 1 is refused", () => {
  const schema1 = {
    schemaVersion: 1,
    name: "library/hello",
    tag: "latest",
    architecture: "amd64",
    fsLayers: [{ blobSum: D2 }],
    history: [{ v1Compatibility: "{}" }],
  };

  for (const mt of [
    "application/vnd.docker.distribution.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v1+prettyjws",
  ]) {
    it(`by Content-Type ${mt}, before the body is read`, () => {
      throwsKimg(
        () => parseManifest("not even JSON", { mediaType: mt }),
        "UNSUPPORTED_MEDIA_TYPE",
        SCHEMA1_REFUSAL,
      );
    });
  }

  it("by its body: fsLayers, schemaVersion 1, or its mediaType", () => {
    throwsKimg(
      () => parseManifest(json(schema1)),
      "UNSUPPORTED_MEDIA_TYPE",
      `schema 1 manifests are not supported: the document has "fsLayers" (containerd 2.0 and kimg refuse them; rebuild the image as ${DOCKER_MANIFEST} or ${OCI_MANIFEST})`,
    );
    const { fsLayers: _, ...noLayers } = schema1;
    throwsKimg(() => parseManifest(json(noLayers)), "UNSUPPORTED_MEDIA_TYPE", /schemaVersion 1/);
    throwsKimg(
      () => parseManifest(json({ ...noLayers, signatures: [] })),
      "UNSUPPORTED_MEDIA_TYPE",
      /schemaVersion 1 \(application\/vnd.docker.distribution.manifest.v1\+prettyjws\)/,
    );
    throwsKimg(
      () =>
        parseManifest(
          json(ociManifest({ mediaType: "application/vnd.docker.distribution.manifest.v1+json" })),
        ),
      "UNSUPPORTED_MEDIA_TYPE",
      SCHEMA1_REFUSAL,
    );
  });

  it("even when it claims to be schema 2 in the header, or is sent as text/plain", () => {
    throwsKimg(
      () => parseManifest(json(schema1), { mediaType: DOCKER_MANIFEST }),
      "UNSUPPORTED_MEDIA_TYPE",
      SCHEMA1_REFUSAL,
    );
    throwsKimg(
      () => parseManifest(json(schema1), { mediaType: "text/plain" }),
      "UNSUPPORTED_MEDIA_TYPE",
      SCHEMA1_REFUSAL,
    );
  });
});

describe("hostile and malformed documents", () => {
  const cases: readonly [string, string | Uint8Array, string][] = [
    ["not JSON", "{", "manifest: invalid JSON: "],
    ["an array", "[]", "manifest: expected a JSON object, got array"],
    ["a string", '"x"', "manifest: expected a JSON object, got string"],
    ["null", "null", "manifest: expected a JSON object, got null"],
    ["invalid UTF-8", new Uint8Array([0x7b, 0xff, 0x7d]), "manifest: not valid UTF-8"],
    [
      "a byte-order mark (Go refuses it too)",
      new Uint8Array([0xef, 0xbb, 0xbf, ...new TextEncoder().encode(json(ociManifest()))]),
      "manifest: invalid JSON: ",
    ],
    [
      "schemaVersion missing",
      json({ ...ociManifest(), schemaVersion: undefined }),
      "manifest.schemaVersion: required",
    ],
    [
      "schemaVersion 3",
      json(ociManifest({ schemaVersion: 3 })),
      "manifest.schemaVersion: expected 2, got 3",
    ],
    [
      "schemaVersion as a string",
      json(ociManifest({ schemaVersion: "2" })),
      'manifest.schemaVersion: expected 2, got "2"',
    ],
    [
      "config missing",
      json({ ...ociManifest(), config: undefined, mediaType: OCI_MANIFEST }),
      "manifest.config: required",
    ],
    ["config null", json(ociManifest({ config: null })), "manifest.config: required"],
    ["layers missing", json({ ...ociManifest(), layers: undefined }), "manifest.layers: required"],
    [
      "layers an object",
      json(ociManifest({ layers: {} })),
      "manifest.layers: expected an array, got object",
    ],
    [
      "a layer that is a string",
      json(ociManifest({ layers: ["sha256:x"] })),
      "manifest.layers[0]: expected an object, got string",
    ],
    [
      "a negative layer size",
      json(ociManifest({ layers: [{ mediaType: OCI_LAYER_GZIP, size: -1, digest: D2 }] })),
      "manifest.layers[0].size: expected an integer from 0 to 2^53-1, got -1",
    ],
    [
      "a huge layer size",
      json(ociManifest({ layers: [{ mediaType: OCI_LAYER_GZIP, size: 1e20, digest: D2 }] })),
      "manifest.layers[0].size: expected an integer from 0 to 2^53-1, got 100000000000000000000",
    ],
    [
      "a digest with a slash, in the third layer",
      json(
        ociManifest({
          layers: [
            { mediaType: OCI_LAYER_GZIP, size: 1, digest: D2 },
            { mediaType: OCI_LAYER_GZIP, size: 1, digest: D2 },
            {
              mediaType: OCI_LAYER_GZIP,
              size: 1,
              digest: TRAVERSAL,
            },
          ],
        }),
      ),
      `manifest.layers[2].digest: invalid checksum digest format: "${TRAVERSAL}"`,
    ],
    [
      "annotations an array",
      json(ociManifest({ annotations: [] })),
      "manifest.annotations: expected an object, got array",
    ],
  ];
  for (const [name, input, message] of cases) {
    it(name, () => {
      const e = throwsKimg(() => parseManifest(input), "INVALID_MANIFEST");
      assert.ok(e.message.startsWith(message), `${e.message} starts with ${message}`);
    });
  }

  it("duplicate keys: the last wins, as in Go's encoding/json", () => {
    const text = json(ociManifest()).replace(
      '"schemaVersion":2',
      '"schemaVersion":1,"schemaVersion":2',
    );
    assert.ok(text.includes('"schemaVersion":1,'));
    assert.equal(parseManifest(text).schemaVersion, 2);
    const flipped = json(ociManifest()).replace(
      '"schemaVersion":2',
      '"schemaVersion":2,"schemaVersion":1',
    );
    throwsKimg(() => parseManifest(flipped), "UNSUPPORTED_MEDIA_TYPE", SCHEMA1_REFUSAL);
  });

  it("error messages start with the document's digest when given", () => {
    throwsKimg(
      () => parseManifest(json(ociManifest({ layers: {} })), { digest: D2 }),
      "INVALID_MANIFEST",
      `${D2}: manifest.layers: expected an array, got object`,
    );
  });

  it("unknown fields are ignored and not kept", () => {
    const m = parseManifest(json(ociManifest({ extra: { deep: [1, 2] } })));
    assert.equal(Object.hasOwn(m, "extra"), false);
  });

  it("bytes and text parse alike", () => {
    const text = json(ociManifest());
    assert.deepEqual(parseManifest(new TextEncoder().encode(text)), parseManifest(text));
  });
});

describe("the size cap", () => {
  it("MAX_MANIFEST_BYTES is 4 MiB", () => {
    assert.equal(MAX_MANIFEST_BYTES, 4 * 1024 * 1024);
  });

  it("accepts a manifest of exactly the cap and refuses one byte more", () => {
    const text = json(ociManifest());
    const atCap = text + " ".repeat(MAX_MANIFEST_BYTES - text.length);
    assert.equal(new TextEncoder().encode(atCap).length, MAX_MANIFEST_BYTES);
    assert.equal(parseManifest(atCap).layers.length, 3);
    throwsKimg(
      () => parseManifest(`${atCap} `),
      "MANIFEST_TOO_LARGE",
      `rejecting ${MAX_MANIFEST_BYTES + 1} byte manifest: larger than the ${MAX_MANIFEST_BYTES} byte limit`,
    );
  });

  it("counts UTF-8 bytes, and takes a custom cap", () => {
    const text = json(ociManifest({ annotations: { a: "é".repeat(100) } }));
    const bytes = new TextEncoder().encode(text).length;
    assert.ok(bytes > text.length);
    throwsKimg(
      () => parseManifest(text, { maxBytes: text.length }),
      "MANIFEST_TOO_LARGE",
      new RegExp(`^rejecting ${bytes} byte`),
    );
    assert.equal(parseManifest(text, { maxBytes: bytes }).layers.length, 3);
  });

  it("checkManifestSize checks a Content-Length before reading", () => {
    checkManifestSize(MAX_MANIFEST_BYTES);
    throwsKimg(() => checkManifestSize(MAX_MANIFEST_BYTES + 1), "MANIFEST_TOO_LARGE");
    throwsKimg(
      () => checkManifestSize(11, 10),
      "MANIFEST_TOO_LARGE",
      "rejecting 11 byte manifest: larger than the 10 byte limit",
    );
  });
});

describe("parseManifestOrIndex", () => {
  it("tells a manifest from an index", () => {
    const m = parseManifestOrIndex(json(ociManifest()));
    assert.equal(m.kind, "manifest");
    const i = parseManifestOrIndex(json({ schemaVersion: 2, manifests: [] }));
    assert.equal(i.kind, "index");
    if (i.kind === "index") assert.equal(i.index.mediaType, OCI_INDEX);
    const l = parseManifestOrIndex(json({ schemaVersion: 2, manifests: [] }), {
      mediaType: DOCKER_LIST,
    });
    assert.equal(l.kind === "index" && l.index.mediaType, DOCKER_LIST);
  });
});
