// Image manifests (OCI image-spec manifest.md, Docker distribution manifest v2 schema 2): the
// type and its validating parser. Pure: no I/O.
//
// `parseManifest` takes the untrusted bytes and what they were fetched as, and returns a typed
// ImageManifest or throws a KimgError naming the field (`manifest.layers[2].digest: invalid
// checksum digest format: "sha256:../x"`). The media-type rules, schema 1 refusal, size cap and
// ambiguity checks are document.ts's; this file checks the manifest's own fields
// (schema/image-manifest-schema.json):
// - `config`: a descriptor, required. Any config media type is accepted (artifacts:
//   manifest.md "MUST NOT error on encountering a value that is unknown").
// - `layers`: an array of descriptors, required, MAY be empty. The schema says minItems 1 but
//   the prose only "SHOULD have at least one entry"; containerd and Docker accept empty
//   manifests, and artifact manifests use them.
// - `subject` (descriptor), `artifactType` (media type), `annotations` (string map): optional.
// Unknown fields are ignored, as everywhere in OCI; the typed result keeps only known ones.

import type { Annotations, Descriptor } from "./descriptor.ts";
import { descriptorFromJson, sharedDocumentFields } from "./descriptor.ts";
import { type ManifestParseOptions, readDocument } from "./document.ts";
import { type Ctx, checkKeys, invalid, type JsonObject, opt, reqArray } from "./validate.ts";

/** The two manifest media types kimg reads. */
export type ManifestMediaType =
  | "application/vnd.oci.image.manifest.v1+json"
  | "application/vnd.docker.distribution.manifest.v2+json";

/** A validated image manifest. */
export interface ImageManifest {
  readonly schemaVersion: 2;
  /**
   * What the manifest is: its Content-Type or body `mediaType` (they must agree), else
   * guessed from the body like containers/image (`config.mediaType` Docker → Docker).
   */
  readonly mediaType: ManifestMediaType;
  readonly artifactType?: string;
  readonly config: Descriptor;
  readonly layers: readonly Descriptor[];
  readonly subject?: Descriptor;
  readonly annotations?: Annotations;
}

const MANIFEST_KEYS: readonly string[] = [
  "schemaVersion",
  "mediaType",
  "artifactType",
  "config",
  "layers",
  "subject",
  "annotations",
];

/** Validates the fields of a manifest whose media type is settled. */
export function manifestFromObject(obj: JsonObject, mediaType: string, ctx: Ctx): ImageManifest {
  const path = "manifest";
  checkKeys(obj, MANIFEST_KEYS, ctx, path);
  if (obj.config === undefined || obj.config === null) invalid(ctx, `${path}.config`, "required");
  const config = descriptorFromJson(obj.config, ctx, `${path}.config`);
  const layers = reqArray(obj, "layers", ctx, path).map((l, i) =>
    descriptorFromJson(l, ctx, `${path}.layers[${i}]`),
  );
  const { subject, artifactType, annotations } = sharedDocumentFields(obj, ctx, path);
  return {
    schemaVersion: 2,
    mediaType: mediaType as ManifestMediaType, // readDocument settled it: one of the two
    ...opt("artifactType", artifactType),
    config,
    layers,
    ...opt("subject", subject),
    ...opt("annotations", annotations),
  };
}

/**
 * Parses an image manifest from untrusted bytes (or text). `opts.mediaType` is the
 * Content-Type it came with, or the mediaType of the index entry that pointed to it.
 *
 * Throws KimgError:
 * - MANIFEST_TOO_LARGE: over `opts.maxBytes` (default 4 MiB);
 * - UNSUPPORTED_MEDIA_TYPE: schema 1 ("schema 1 manifests are not supported: …"), an unknown
 *   media type, or an index;
 * - INVALID_MANIFEST: not JSON, a field of the wrong type or value, a mediaType that differs
 *   from `opts.mediaType`, index fields in a manifest (CVE-2021-41190).
 *
 * @example parseManifest(body, { mediaType: res.headers.get("content-type") ?? undefined, digest })
 */
export function parseManifest(
  input: Uint8Array | string,
  opts?: ManifestParseOptions,
): ImageManifest {
  const doc = readDocument(input, opts, "manifest");
  return manifestFromObject(doc.obj, doc.mediaType, doc.ctx);
}
