// Descriptors: the typed, validated form of image-spec descriptor.md (and of the `platform` of
// index entries, image-index.md), and the size-then-digest check of content against one.
// Pure: no I/O.
//
// Rules (image-spec schema/content-descriptor.json, defs-descriptor.json; specs-go/v1
// descriptor.go), with kimg's choices where they differ:
// - `mediaType`: required; must match the schema's RFC 6838 pattern. Unknown types are fine
//   (descriptor.md: "MUST NOT generate an error"). containerd does not check the pattern;
//   kimg does, because media types go into Accept headers.
// - `digest`: required; go-digest rules (see digest.ts): sha256/sha384/sha512 only, although
//   the schema's grammar admits any algorithm. containerd validates only when fetching; kimg
//   validates every descriptor of a document, so a digest never reaches a URL or path
//   unchecked (CVE-2024-3727).
// - `size`: required; an integer 0 ≤ size ≤ 2^53-1 (schema: int64 ≥ 0; Go takes negatives).
// - `urls`: absolute URLs (the schema's `format: uri`; Go does not check). `annotations`:
//   string → string. `data`: base64, standard alphabet, padded (Go's []byte; Go also skips
//   CR/LF, kimg does not). `artifactType`: a media type.
// - `platform`: `os` and `architecture` required strings (the schema's `required`; Go
//   defaults them to "" and containerd then normalizes "" to the host OS), `variant`,
//   `os.version` strings, `os.features` strings.
// - Field names differing only in case from these are rejected (validate.ts).
//
// Verification order (descriptor.md "Verification"): size first ("to reduce hash collision
// space"), then digest; messages in the style of containerd's content commit
// ("unexpected commit digest …, expected …").

import { KimgError } from "../errors.ts";
import { checkDigest } from "../ref/index.ts";
import { type Digest, shortDigest } from "./digest.ts";
import { isValidMediaType, MEDIA_TYPE_OCI_EMPTY } from "./media-types.ts";
import type { Platform } from "./platform.ts";
import {
  type Ctx,
  checkKeys,
  invalid,
  isObject,
  type JsonObject,
  makeCtx,
  opt,
  optString,
  optStringArray,
  optStringMap,
  reqString,
  show,
  typeName,
} from "./validate.ts";

export type Annotations = Readonly<Record<string, string>>;

/** An OCI content descriptor (image-spec descriptor.md). */
export interface Descriptor {
  readonly mediaType: string;
  readonly digest: Digest;
  readonly size: number;
  readonly urls?: readonly string[];
  readonly annotations?: Annotations;
  /** Embedded content, base64 (standard alphabet); must decode to the described bytes. */
  readonly data?: string;
  /** Only on index entries (image-index.md); a descriptor elsewhere rarely has one. */
  readonly platform?: Platform;
  readonly artifactType?: string;
}

/** The descriptor of the empty JSON object `{}` (image-spec specs-go DescriptorEmptyJSON). */
export const EMPTY_JSON_DESCRIPTOR: Descriptor = {
  mediaType: MEDIA_TYPE_OCI_EMPTY,
  digest: "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a" as Digest,
  size: 2,
  data: "e30=",
};

const DESCRIPTOR_KEYS: readonly string[] = [
  "mediaType",
  "digest",
  "size",
  "urls",
  "annotations",
  "data",
  "platform",
  "artifactType",
];

const PLATFORM_KEYS: readonly string[] = [
  "architecture",
  "os",
  "os.version",
  "os.features",
  "variant",
];

function mediaTypeField(obj: JsonObject, key: string, ctx: Ctx, path: string, required: boolean) {
  const v = required ? reqString(obj, key, ctx, path) : optString(obj, key, ctx, path);
  if (v !== undefined && !isValidMediaType(v)) {
    invalid(ctx, `${path}.${key}`, `invalid media type ${show(v)}`);
  }
  return v;
}

/** A JSON `size`: an integer 0…2^53-1. */
function sizeField(obj: JsonObject, ctx: Ctx, path: string): number {
  const v = obj.size;
  if (v === undefined || v === null) return invalid(ctx, `${path}.size`, "required");
  if (typeof v !== "number") {
    return invalid(ctx, `${path}.size`, `expected an integer, got ${typeName(v)}`);
  }
  if (!Number.isSafeInteger(v) || v < 0) {
    return invalid(ctx, `${path}.size`, `expected an integer from 0 to 2^53-1, got ${show(v)}`);
  }
  return v;
}

function digestField(obj: JsonObject, key: string, ctx: Ctx, path: string): Digest {
  const v = reqString(obj, key, ctx, path);
  const f = checkDigest(v);
  if (f !== undefined) invalid(ctx, `${path}.${key}`, `${f.message}: ${show(v)}`);
  return v as Digest; // validated just above
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Validates a JSON value as a platform object (image-index.md `platform`). */
export function platformFromJson(value: unknown, ctx: Ctx, path: string): Platform {
  if (!isObject(value)) return invalid(ctx, path, `expected an object, got ${typeName(value)}`);
  checkKeys(value, PLATFORM_KEYS, ctx, path);
  const os = reqString(value, "os", ctx, path);
  const architecture = reqString(value, "architecture", ctx, path);
  const variant = optString(value, "variant", ctx, path);
  const osVersion = optString(value, "os.version", ctx, path);
  const osFeatures = optStringArray(value, "os.features", ctx, path);
  return {
    os,
    architecture,
    ...opt("variant", variant === "" ? undefined : variant),
    ...opt("osVersion", osVersion === "" ? undefined : osVersion),
    ...opt("osFeatures", osFeatures?.length === 0 ? undefined : osFeatures),
  };
}

/** Validates a JSON value as a descriptor; `path` names it in messages. */
export function descriptorFromJson(value: unknown, ctx: Ctx, path: string): Descriptor {
  if (!isObject(value)) return invalid(ctx, path, `expected an object, got ${typeName(value)}`);
  checkKeys(value, DESCRIPTOR_KEYS, ctx, path);
  const mediaType = mediaTypeField(value, "mediaType", ctx, path, true) ?? "";
  const digest = digestField(value, "digest", ctx, path);
  const size = sizeField(value, ctx, path);
  const urls = optStringArray(value, "urls", ctx, path);
  urls?.forEach((u, i) => {
    // The schema's `format: uri`: an absolute URL (which scheme may be fetched is the
    // fetcher's business: only http and https, without credentials; CVE-2020-15157).
    if (!URL.canParse(u)) invalid(ctx, `${path}.urls[${i}]`, `not an absolute URL: ${show(u)}`);
  });
  const annotations = optStringMap(value, "annotations", ctx, path);
  const data = optString(value, "data", ctx, path);
  if (data !== undefined && !BASE64.test(data)) {
    invalid(ctx, `${path}.data`, "invalid base64");
  }
  const platform =
    value.platform === undefined || value.platform === null
      ? undefined
      : platformFromJson(value.platform, ctx, `${path}.platform`);
  const artifactType = mediaTypeField(value, "artifactType", ctx, path, false);
  return {
    mediaType,
    digest,
    size,
    ...opt("urls", urls),
    ...opt("annotations", annotations),
    ...opt("data", data === "" ? undefined : data),
    ...opt("platform", platform),
    ...opt("artifactType", artifactType === "" ? undefined : artifactType),
  };
}

/**
 * Validates one descriptor that is already parsed JSON (an entry of an OCI layout's
 * index.json, a descriptor from an API). Throws INVALID_MANIFEST naming the field:
 * `descriptor.size: expected an integer from 0 to 2^53-1, got -1`.
 */
export function parseDescriptor(value: unknown, path = "descriptor"): Descriptor {
  return descriptorFromJson(value, makeCtx("INVALID_MANIFEST", undefined), path);
}

/** Size and digest of some content: what a descriptor says, or what was measured. */
export interface ContentFacts {
  readonly size: number;
  readonly digest: string;
}

/**
 * Checks content against what named it: size first, then digest (descriptor.md
 * "Verification"). Throws SIZE_MISMATCH or DIGEST_MISMATCH; the caller must then drop the
 * bytes. Compare digests of the same algorithm: the caller hashes with the expected one.
 */
export function verifyContent(expected: ContentFacts, actual: ContentFacts): void {
  if (actual.size !== expected.size) {
    throw new KimgError(
      "SIZE_MISMATCH",
      `content ${shortDigest(expected.digest)}: expected ${expected.size} bytes, got ${actual.size}`,
    );
  }
  if (actual.digest !== expected.digest) {
    throw new KimgError(
      "DIGEST_MISMATCH",
      `unexpected digest ${actual.digest}, expected ${expected.digest}`,
    );
  }
}

/** The optional fields image manifests and indexes share (image-spec manifest.md, image-index.md). */
export interface SharedDocumentFields {
  readonly subject: Descriptor | undefined;
  readonly artifactType: string | undefined;
  readonly annotations: Annotations | undefined;
}

/**
 * Reads `subject`, `artifactType` and `annotations` of a manifest or index. An empty
 * `artifactType` counts as absent; any other value must be a valid media type.
 */
export function sharedDocumentFields(
  obj: JsonObject,
  ctx: Ctx,
  path: string,
): SharedDocumentFields {
  const subject =
    obj.subject === undefined || obj.subject === null
      ? undefined
      : descriptorFromJson(obj.subject, ctx, `${path}.subject`);
  const artifactType = optString(obj, "artifactType", ctx, path);
  if (artifactType !== undefined && artifactType !== "" && !isValidMediaType(artifactType)) {
    invalid(ctx, `${path}.artifactType`, `invalid media type ${show(artifactType)}`);
  }
  const annotations = optStringMap(obj, "annotations", ctx, path);
  return { subject, artifactType: artifactType === "" ? undefined : artifactType, annotations };
}
