// The first steps of reading a manifest or index from untrusted bytes: the size cap, the
// media type (from the Content-Type header or the index entry, and the body), schema 1
// refusal, and rejection of ambiguous documents. Pure: no I/O. Internal: manifest.ts,
// image-index.ts and parse-manifest-or-index.ts build on `readDocument`.
//
// Sources and what they do:
// - containerd core/images/image.go `validateMediaType` (CVE-2021-41190 / GHSA-5j5w-g665-5m35):
//   a document fetched as a manifest is rejected when it has a `manifests` key or an index
//   `mediaType`, one fetched as an index when it has `config` or `layers` or a manifest
//   `mediaType`; any `fsLayers` key means schema 1 ("media-type: schema 1 not supported").
//   The keys count when present with any value, even `null` or `[]` (json.RawMessage).
//   containerd does NOT reject a same-kind mismatch (header OCI manifest, body Docker manifest).
// - containers/image internal/manifest/common.go `ValidateUnambiguousManifestFormat` (the same
//   CVE): rejects the other kind's fields; `GuessMIMEType` (manifest/manifest.go): a body
//   without `mediaType` is guessed from `schemaVersion`, `config.mediaType` and `manifests`.
// - distribution-spec spec.md "Pulling manifests": if the manifest has a `mediaType` field,
//   clients SHOULD reject it when it differs from the Content-Type. kimg does, for any
//   difference (stricter than containerd, as the spec asks).
// - containerd core/remotes/docker/resolver.go: schema 1 is refused since containerd 2.0;
//   `text/plain` is read as schema 1 there. kimg treats text/plain, application/json,
//   application/octet-stream and an absent Content-Type as "unknown" and decides from the body.
//   Any other Content-Type that is not a manifest or index type is refused:
//   containerd would fetch it and then fail ("unexpected media type … for …: not found").
// - Size: containerd `MaxManifestSize` = 4*1048*1048 (4,393,216 bytes, "rejecting N byte
//   manifest"); containers/image 4 MiB for manifests and configs (iolimits.go); kimg 4 MiB
//   (4,194,304) by default, per registry.md §1.3. The caller should also stop reading a body
//   past the cap: this check only sees bytes already in memory.

import { KimgError } from "../errors.ts";
import {
  isIndexMediaType,
  isManifestMediaType,
  isSchema1MediaType,
  MEDIA_TYPE_DOCKER_CONFIG,
  MEDIA_TYPE_DOCKER_MANIFEST,
  MEDIA_TYPE_DOCKER_SCHEMA1_SIGNED_MANIFEST,
  MEDIA_TYPE_OCI_INDEX,
  MEDIA_TYPE_OCI_MANIFEST,
  normalizeContentType,
} from "./media-types.ts";
import {
  byteLength,
  type Ctx,
  checkKeys,
  decodeJsonObject,
  has,
  invalid,
  isObject,
  type JsonObject,
  makeCtx,
  show,
  typeName,
} from "./validate.ts";

/** Default cap for manifests and indexes: 4 MiB (containers/image; containerd: 4*1048*1048). */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

/** Default cap for image configs: 4 MiB (containers/image iolimits.MaxConfigBodySize). */
export const MAX_CONFIG_BYTES = 4 * 1024 * 1024;

export interface ManifestParseOptions {
  /**
   * The media type the document was fetched as: the response's Content-Type (parameters are
   * ignored) or the mediaType of the descriptor that pointed to it. Absent, or a generic
   * type (application/json, application/octet-stream, text/plain): decided from the body.
   */
  readonly mediaType?: string | undefined;
  /**
   * The document's digest, when known: prefixes error messages (`sha256:…: manifest.…`). Only
   * a label: nothing is hashed here; hash the bytes and call `verifyContent` before parsing.
   */
  readonly digest?: string | undefined;
  /** Size cap in bytes. Default MAX_MANIFEST_BYTES. */
  readonly maxBytes?: number | undefined;
}

/**
 * Throws MANIFEST_TOO_LARGE when `size` bytes is over the cap (default MAX_MANIFEST_BYTES).
 * Use it on Content-Length before reading, and on the bytes read.
 */
export function checkManifestSize(size: number, maxBytes = MAX_MANIFEST_BYTES): void {
  tooLarge("", size, maxBytes, "manifest");
}

/** Throws MANIFEST_TOO_LARGE for `size` over `max` (`what`: "manifest" or "config"). */
export function tooLarge(prefix: string, size: number, max: number, what: string): void {
  if (size > max) {
    throw new KimgError(
      "MANIFEST_TOO_LARGE",
      `${prefix}rejecting ${size} byte ${what}: larger than the ${max} byte limit`,
    );
  }
}

export type DocumentKind = "manifest" | "index";

export interface ReadDocument {
  readonly obj: JsonObject;
  /** The effective media type: always an OCI/Docker manifest or index type. */
  readonly mediaType: string;
  readonly kind: DocumentKind;
  readonly ctx: Ctx;
}

/** Content-Types that say nothing about the document: decide from the body. */
const GENERIC_CONTENT_TYPES: ReadonlySet<string> = new Set([
  "",
  "application/json",
  "application/octet-stream",
  "text/plain",
]);

/** The keys that decide what a document is, in every format kimg knows (incl. schema 1). */
const STRUCTURAL_KEYS: readonly string[] = [
  "schemaVersion",
  "mediaType",
  "config",
  "layers",
  "manifests",
  "fsLayers",
  "signatures",
];

function refuseSchema1(ctx: Ctx, detail: string): never {
  throw new KimgError(
    "UNSUPPORTED_MEDIA_TYPE",
    `${ctx.prefix}schema 1 manifests are not supported: ${detail} (containerd 2.0 and kimg refuse them; rebuild the image as ${MEDIA_TYPE_DOCKER_MANIFEST} or ${MEDIA_TYPE_OCI_MANIFEST})`,
  );
}

function kindOf(mediaType: string): DocumentKind {
  return isIndexMediaType(mediaType) ? "index" : "manifest";
}

function article(kind: DocumentKind): string {
  return kind === "index" ? "an index" : "a manifest";
}

/** containers/image GuessMIMEType, for a body without `mediaType` and no useful header. */
function guessMediaType(obj: JsonObject, ctx: Ctx): string {
  if (has(obj, "manifests")) return MEDIA_TYPE_OCI_INDEX;
  if (has(obj, "config")) {
    const config = obj.config;
    if (isObject(config) && config.mediaType === MEDIA_TYPE_DOCKER_CONFIG) {
      return MEDIA_TYPE_DOCKER_MANIFEST;
    }
    return MEDIA_TYPE_OCI_MANIFEST;
  }
  return invalid(
    ctx,
    "manifest",
    "cannot tell a manifest from an index: no mediaType, manifests or config",
  );
}

/**
 * Decodes a manifest or index and settles its media type. `expected` narrows the kind:
 * the other kind is refused with UNSUPPORTED_MEDIA_TYPE.
 */
export function readDocument(
  input: Uint8Array | string,
  opts: ManifestParseOptions | undefined,
  expected: DocumentKind | undefined,
): ReadDocument {
  const ctx = makeCtx("INVALID_MANIFEST", opts?.digest);
  tooLarge(ctx.prefix, byteLength(input), opts?.maxBytes ?? MAX_MANIFEST_BYTES, "manifest");

  const header = normalizeContentType(opts?.mediaType);
  if (isSchema1MediaType(header)) refuseSchema1(ctx, `media type ${show(header)}`);

  const obj = decodeJsonObject(input, ctx, "manifest");
  // Go decoders match these keys in any case: "Manifests" is "manifests" to containerd.
  checkKeys(obj, STRUCTURAL_KEYS, ctx, "manifest");

  // Schema 1 in the body: containerd looks for fsLayers; containers/image for schemaVersion 1
  // (signed when it has `signatures`).
  if (has(obj, "fsLayers")) refuseSchema1(ctx, 'the document has "fsLayers"');
  if (obj.schemaVersion === 1) {
    refuseSchema1(
      ctx,
      has(obj, "signatures")
        ? `schemaVersion 1 (${MEDIA_TYPE_DOCKER_SCHEMA1_SIGNED_MANIFEST})`
        : "schemaVersion 1",
    );
  }

  let body: string | undefined;
  if (obj.mediaType !== undefined && obj.mediaType !== null) {
    if (typeof obj.mediaType !== "string") {
      invalid(ctx, "manifest.mediaType", `expected a string, got ${typeName(obj.mediaType)}`);
    }
    body = obj.mediaType;
    if (isSchema1MediaType(body)) refuseSchema1(ctx, `manifest.mediaType ${show(body)}`);
  }

  let mediaType: string;
  if (isManifestMediaType(header) || isIndexMediaType(header)) {
    if (body !== undefined && body !== header) {
      invalid(
        ctx,
        `${kindOf(header)}.mediaType`,
        `${show(body)} does not match the media type it was fetched as, ${show(header)}`,
      );
    }
    mediaType = header;
  } else if (GENERIC_CONTENT_TYPES.has(header)) {
    if (body === undefined) {
      mediaType = guessMediaType(obj, ctx);
    } else if (isManifestMediaType(body) || isIndexMediaType(body)) {
      mediaType = body;
    } else {
      throw new KimgError(
        "UNSUPPORTED_MEDIA_TYPE",
        `${ctx.prefix}unsupported manifest media type ${show(body)} (manifest.mediaType)`,
      );
    }
  } else {
    throw new KimgError(
      "UNSUPPORTED_MEDIA_TYPE",
      `${ctx.prefix}unsupported manifest media type ${show(header)}`,
    );
  }

  const kind = kindOf(mediaType);
  // CVE-2021-41190: a document that reads as both kinds is refused, whatever it claims to be.
  const foreign =
    kind === "manifest"
      ? ["manifests"].filter((k) => has(obj, k))
      : ["config", "layers"].filter((k) => has(obj, k));
  if (foreign.length > 0) {
    invalid(
      ctx,
      kind,
      `rejecting ambiguous document: ${article(kind)} (${mediaType}) must not have ${foreign.map((k) => `"${k}"`).join(" or ")}`,
    );
  }

  if (expected !== undefined && kind !== expected) {
    throw new KimgError(
      "UNSUPPORTED_MEDIA_TYPE",
      `${ctx.prefix}expected ${article(expected)}, got ${article(kind)} (${mediaType})`,
    );
  }

  // schemaVersion: required, 2 (1 was refused above).
  const sv = obj.schemaVersion;
  if (sv === undefined || sv === null) invalid(ctx, `${kind}.schemaVersion`, "required");
  if (sv !== 2) invalid(ctx, `${kind}.schemaVersion`, `expected 2, got ${show(sv)}`);

  return { obj, mediaType, kind, ctx };
}
