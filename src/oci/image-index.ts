// Image indexes (OCI image-spec image-index.md) and Docker manifest lists: the type and its
// validating parser. Pure: no I/O. (Named image-index.ts so it is not mistaken for a barrel.)
//
// `parseImageIndex` shares document.ts's rules (size cap, media type, schema 1, ambiguity) and
// checks the index's own fields (schema/image-index-schema.json):
// - `manifests`: an array of descriptors, required, may be empty. Entries of unknown media
//   types are kept (image-index.md: "MUST NOT generate an error"); containerd skips them when
//   walking ("encountered unknown type …; children may not be fetched").
// - each entry's `platform`: optional; when present `os` and `architecture` are strings
//   (descriptor.ts).
// - `subject`, `artifactType`, `annotations`: optional.
// Choosing an entry for a platform is platform.ts `selectManifest`.

import type { Annotations, Descriptor } from "./descriptor.ts";
import { descriptorFromJson, sharedDocumentFields } from "./descriptor.ts";
import { type ManifestParseOptions, readDocument } from "./document.ts";
import { type Ctx, checkKeys, type JsonObject, opt, reqArray } from "./validate.ts";

/** The two index media types kimg reads. */
export type IndexMediaType =
  | "application/vnd.oci.image.index.v1+json"
  | "application/vnd.docker.distribution.manifest.list.v2+json";

/** A validated image index or manifest list. */
export interface ImageIndex {
  readonly schemaVersion: 2;
  /** Content-Type or body `mediaType` (they must agree); OCI when neither says. */
  readonly mediaType: IndexMediaType;
  readonly artifactType?: string;
  readonly manifests: readonly Descriptor[];
  readonly subject?: Descriptor;
  readonly annotations?: Annotations;
}

const INDEX_KEYS: readonly string[] = [
  "schemaVersion",
  "mediaType",
  "artifactType",
  "manifests",
  "subject",
  "annotations",
];

/** Validates the fields of an index whose media type is settled. */
export function indexFromObject(obj: JsonObject, mediaType: string, ctx: Ctx): ImageIndex {
  const path = "index";
  checkKeys(obj, INDEX_KEYS, ctx, path);
  const manifests = reqArray(obj, "manifests", ctx, path).map((m, i) =>
    descriptorFromJson(m, ctx, `${path}.manifests[${i}]`),
  );
  const { subject, artifactType, annotations } = sharedDocumentFields(obj, ctx, path);
  return {
    schemaVersion: 2,
    mediaType: mediaType as IndexMediaType, // readDocument settled it: one of the two
    ...opt("artifactType", artifactType),
    manifests,
    ...opt("subject", subject),
    ...opt("annotations", annotations),
  };
}

/**
 * Parses an image index or Docker manifest list from untrusted bytes (or text); see
 * `parseManifest` for the options and errors. A manifest is refused with
 * UNSUPPORTED_MEDIA_TYPE; a document with `config` or `layers` with INVALID_MANIFEST.
 */
export function parseImageIndex(
  input: Uint8Array | string,
  opts?: ManifestParseOptions,
): ImageIndex {
  const doc = readDocument(input, opts, "index");
  return indexFromObject(doc.obj, doc.mediaType, doc.ctx);
}
