// Parsing a document that may be a manifest or an index: what a tag resolves to, before the
// puller knows which. Pure: no I/O. The rules are document.ts's; the fields manifest.ts's and
// image-index.ts's.

import { type ManifestParseOptions, readDocument } from "./document.ts";
import { type ImageIndex, indexFromObject } from "./image-index.ts";
import { type ImageManifest, manifestFromObject } from "./manifest.ts";

/** A parsed manifest or index, told apart by `kind`. */
export type ManifestOrIndex =
  | { readonly kind: "manifest"; readonly manifest: ImageManifest }
  | { readonly kind: "index"; readonly index: ImageIndex };

/**
 * Parses a manifest or an index from untrusted bytes (or text), whichever the media type
 * (`opts.mediaType`, else the body) says it is; see `parseManifest` for the errors.
 */
export function parseManifestOrIndex(
  input: Uint8Array | string,
  opts?: ManifestParseOptions,
): ManifestOrIndex {
  const doc = readDocument(input, opts, undefined);
  return doc.kind === "index"
    ? { kind: "index", index: indexFromObject(doc.obj, doc.mediaType, doc.ctx) }
    : { kind: "manifest", manifest: manifestFromObject(doc.obj, doc.mediaType, doc.ctx) };
}
