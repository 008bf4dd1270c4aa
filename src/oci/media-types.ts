// Media types of the OCI image spec and of Docker's schema 2, the Accept list a puller sends,
// and the predicates that sort a media type into index / manifest / config / layer. Pure: no I/O.
//
// Sources (checked against the code, which wins over ../shared/specs/registry.md §1.4;
// containerd at 301026e, image-spec at 13cff54, containers/image at df7e80d):
// - opencontainers/image-spec specs-go/v1/mediatype.go (OCI constants), media-types.md, layer.md.
// - containerd core/images/mediatypes.go: the Docker constants, `IsIndexType`,
//   `IsManifestType` (no schema 1), `IsConfigType`, `IsLayerType` (any
//   `application/vnd.oci.image.layer.` prefix, Docker layer types with `+…` suffixes stripped,
//   EROFS), `IsNonDistributable`, `DiffCompression` ("unknown" for Docker's uncompressed types:
//   the layer may be compressed anyway and the decompressor sniffs magic bytes).
// - containerd core/remotes/docker/resolver.go `NewResolver`: the manifest Accept header, no
//   q-values, joined with ", "; `request.setMediaType`: blobs are fetched with
//   `Accept: <descriptor mediaType>, */*`; `getManifestMediaType`: Content-Type parameters after
//   `;` are dropped and `text/plain` is read as schema 1 (Red Hat registry, 2019).
// - containers/image manifest/manifest.go: schema 1 has two media types, `v1+json` and the
//   signed `v1+prettyjws`; containerd 2.x refuses both ("no longer supported since containerd
//   v2.0"), and so does kimg.
//
// Differences from containerd, on purpose:
// - `text/plain` (and other generic Content-Types) are not mapped to schema 1 here: the
//   document parsers decide from the body, and refuse it only if the body is schema 1
//   (see document.ts).
// - Media types are compared exactly, as containerd does (RFC 6838 says they are
//   case-insensitive, but no registry relies on that).

/** OCI image index (image-spec image-index.md). */
export const MEDIA_TYPE_OCI_INDEX = "application/vnd.oci.image.index.v1+json";
/** OCI image manifest (image-spec manifest.md). */
export const MEDIA_TYPE_OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
/** OCI image config (image-spec config.md). */
export const MEDIA_TYPE_OCI_CONFIG = "application/vnd.oci.image.config.v1+json";
/** The empty JSON object `{}`, for artifacts without config or layers (image-spec manifest.md). */
export const MEDIA_TYPE_OCI_EMPTY = "application/vnd.oci.empty.v1+json";
/** Uncompressed OCI layer (a tar changeset). */
export const MEDIA_TYPE_OCI_LAYER = "application/vnd.oci.image.layer.v1.tar";
export const MEDIA_TYPE_OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip";
export const MEDIA_TYPE_OCI_LAYER_ZSTD = "application/vnd.oci.image.layer.v1.tar+zstd";
/** Non-distributable layers: deprecated by image-spec 1.1 (layer.md), still pulled. */
export const MEDIA_TYPE_OCI_LAYER_NONDISTRIBUTABLE =
  "application/vnd.oci.image.layer.nondistributable.v1.tar";
export const MEDIA_TYPE_OCI_LAYER_NONDISTRIBUTABLE_GZIP =
  "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip";
export const MEDIA_TYPE_OCI_LAYER_NONDISTRIBUTABLE_ZSTD =
  "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd";

/** Docker manifest list (the Docker twin of an OCI index). */
export const MEDIA_TYPE_DOCKER_MANIFEST_LIST =
  "application/vnd.docker.distribution.manifest.list.v2+json";
/** Docker image manifest, schema 2. */
export const MEDIA_TYPE_DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json";
/** Docker image config. */
export const MEDIA_TYPE_DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json";
/** Docker layer declared uncompressed: may be compressed anyway, so sniff (containerd "unknown"). */
export const MEDIA_TYPE_DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar";
export const MEDIA_TYPE_DOCKER_LAYER_GZIP = "application/vnd.docker.image.rootfs.diff.tar.gzip";
/** containerd's own name for a zstd Docker layer; Docker never defined one. */
export const MEDIA_TYPE_DOCKER_LAYER_ZSTD = "application/vnd.docker.image.rootfs.diff.tar.zstd";
/** Foreign (Windows base) layers, fetched from the descriptor's `urls` without credentials. */
export const MEDIA_TYPE_DOCKER_LAYER_FOREIGN =
  "application/vnd.docker.image.rootfs.foreign.diff.tar";
export const MEDIA_TYPE_DOCKER_LAYER_FOREIGN_GZIP =
  "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip";

/** Docker schema 1, unsigned. Refused. */
export const MEDIA_TYPE_DOCKER_SCHEMA1_MANIFEST =
  "application/vnd.docker.distribution.manifest.v1+json";
/** Docker schema 1, signed (JWS). Refused. */
export const MEDIA_TYPE_DOCKER_SCHEMA1_SIGNED_MANIFEST =
  "application/vnd.docker.distribution.manifest.v1+prettyjws";

/** EROFS layers (containerd `MediaTypeErofsLayer`, counted as a layer by `IsLayerType`). */
export const MEDIA_TYPE_EROFS_LAYER = "application/vnd.erofs.layer.v1";
/** In-toto attestations (BuildKit attestation manifests carry these as layers). */
export const MEDIA_TYPE_IN_TOTO = "application/vnd.in-toto+json";

/** Media types kimg recognizes but refuses to pull: both forms of Docker schema 1. */
export const REFUSED_MEDIA_TYPES: readonly string[] = [
  MEDIA_TYPE_DOCKER_SCHEMA1_MANIFEST,
  MEDIA_TYPE_DOCKER_SCHEMA1_SIGNED_MANIFEST,
];

/**
 * The manifest media types a puller asks for, in containerd's order (resolver.go
 * `NewResolver`). `*` / `*` last: registries that know none of the others may still answer
 * (a legacy one then sends schema 1, which is refused after the response).
 */
export const MANIFEST_ACCEPT: readonly string[] = [
  MEDIA_TYPE_DOCKER_MANIFEST,
  MEDIA_TYPE_DOCKER_MANIFEST_LIST,
  MEDIA_TYPE_OCI_MANIFEST,
  MEDIA_TYPE_OCI_INDEX,
  "*/*",
];

/** `MANIFEST_ACCEPT` as one header value, exactly as containerd sends it (no q-values). */
export const MANIFEST_ACCEPT_HEADER = MANIFEST_ACCEPT.join(", ");

/** The Accept header for fetching one blob or manifest by descriptor (containerd setMediaType). */
export function blobAccept(mediaType: string | undefined): string {
  return mediaType === undefined || mediaType === "" ? "*/*" : `${mediaType}, */*`;
}

/**
 * A Content-Type header value without its parameters (`; charset=utf-8`), as containerd's
 * getManifestMediaType; surrounding spaces are trimmed too. No mapping of text/plain.
 */
export function normalizeContentType(contentType: string | undefined): string {
  if (contentType === undefined) return "";
  const semi = contentType.indexOf(";");
  return (semi === -1 ? contentType : contentType.slice(0, semi)).trim();
}

// image-spec schema/defs-descriptor.json "mediaType": RFC 6838 §4.2 restricted names. Checking
// it also keeps CR/LF and commas out of the Accept headers built from descriptors.
const MEDIA_TYPE_RE =
  /^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}$/;

/** True when `s` is a well-formed media type (image-spec descriptor schema pattern). */
export function isValidMediaType(s: string): boolean {
  return MEDIA_TYPE_RE.test(s);
}

/** OCI index or Docker manifest list (containerd IsIndexType). */
export function isIndexMediaType(mediaType: string): boolean {
  return mediaType === MEDIA_TYPE_OCI_INDEX || mediaType === MEDIA_TYPE_DOCKER_MANIFEST_LIST;
}

/** OCI or Docker schema 2 manifest; schema 1 is not one (containerd IsManifestType). */
export function isManifestMediaType(mediaType: string): boolean {
  return mediaType === MEDIA_TYPE_OCI_MANIFEST || mediaType === MEDIA_TYPE_DOCKER_MANIFEST;
}

/** OCI or Docker image config (containerd IsConfigType). */
export function isConfigMediaType(mediaType: string): boolean {
  return mediaType === MEDIA_TYPE_OCI_CONFIG || mediaType === MEDIA_TYPE_DOCKER_CONFIG;
}

/** Either form of Docker schema 1. */
export function isSchema1MediaType(mediaType: string): boolean {
  return (
    mediaType === MEDIA_TYPE_DOCKER_SCHEMA1_MANIFEST ||
    mediaType === MEDIA_TYPE_DOCKER_SCHEMA1_SIGNED_MANIFEST
  );
}

/** containerd parseMediaTypes: the part before the first `+`, and the sorted `+` suffixes. */
function splitMediaType(mediaType: string): { base: string; suffixes: string[] } {
  const plus = mediaType.indexOf("+");
  if (plus === -1) return { base: mediaType, suffixes: [] };
  // containerd caps the split at 50 pieces (strings.SplitN); the last one keeps the rest.
  const parts = mediaType.slice(plus + 1).split("+");
  const suffixes = parts.length > 50 ? [...parts.slice(0, 49), parts.slice(49).join("+")] : parts;
  // Go's sort.Strings orders by bytes; these are ASCII in any well-formed media type.
  suffixes.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return { base: mediaType.slice(0, plus), suffixes };
}

const DOCKER_LAYER_BASES: ReadonlySet<string> = new Set([
  MEDIA_TYPE_DOCKER_LAYER,
  MEDIA_TYPE_DOCKER_LAYER_GZIP,
  MEDIA_TYPE_DOCKER_LAYER_FOREIGN,
  MEDIA_TYPE_DOCKER_LAYER_FOREIGN_GZIP,
  MEDIA_TYPE_DOCKER_LAYER_ZSTD,
]);

/**
 * A layer media type (containerd IsLayerType): anything under `application/vnd.oci.image.layer.`
 * (including `+encrypted` and unknown suffixes), the Docker layer types with any `+` suffix, and
 * EROFS layers. Manifest entries that are not layers (e.g. unknown artifact blobs) are not
 * counted against `rootfs.diff_ids`.
 */
export function isLayerMediaType(mediaType: string): boolean {
  if (mediaType.startsWith("application/vnd.oci.image.layer.")) return true;
  const { base } = splitMediaType(mediaType);
  return DOCKER_LAYER_BASES.has(base) || base === MEDIA_TYPE_EROFS_LAYER;
}

/** containerd IsNonDistributable: OCI non-distributable and Docker foreign layers. */
export function isNonDistributable(mediaType: string): boolean {
  return (
    mediaType.startsWith("application/vnd.oci.image.layer.nondistributable.") ||
    mediaType.startsWith("application/vnd.docker.image.rootfs.foreign.")
  );
}

/**
 * A layer's compression: "gzip" and "zstd" as declared, "none" for uncompressed, "unknown"
 * when the media type does not tell (sniff the magic bytes: gzip 1F 8B 08, zstd 28 B5 2F FD).
 */
export type LayerCompression = "none" | "gzip" | "zstd" | "unknown";

/**
 * How a layer of this media type is compressed, as containerd's DiffCompression says:
 * - "gzip", "zstd": declared by the media type (for OCI, the last `+` suffix after sorting);
 * - "none": an uncompressed OCI layer, or a Docker layer type wrapped in a `+…` suffix
 *   (e.g. `+encrypted`: the wrapper's handler deals with it; containerd returns "");
 * - "unknown": a Docker layer declared uncompressed, which may be compressed anyway;
 * - undefined: not a layer media type containerd can diff (its ErrNotImplemented), e.g. EROFS.
 */
export function layerCompression(mediaType: string): LayerCompression | undefined {
  const { base, suffixes } = splitMediaType(mediaType);
  switch (base) {
    case MEDIA_TYPE_DOCKER_LAYER:
    case MEDIA_TYPE_DOCKER_LAYER_FOREIGN:
      return suffixes.length > 0 ? "none" : "unknown";
    case MEDIA_TYPE_DOCKER_LAYER_GZIP:
    case MEDIA_TYPE_DOCKER_LAYER_FOREIGN_GZIP:
      return suffixes.length > 0 ? "none" : "gzip";
    case MEDIA_TYPE_DOCKER_LAYER_ZSTD:
      return suffixes.length > 0 ? "none" : "zstd";
    case MEDIA_TYPE_OCI_LAYER:
    case MEDIA_TYPE_OCI_LAYER_NONDISTRIBUTABLE: {
      // The last suffix after sorting: `+gzip+encrypted` → [encrypted, gzip] → gzip.
      const last = suffixes[suffixes.length - 1];
      return last === "gzip" ? "gzip" : last === "zstd" ? "zstd" : "none";
    }
    default:
      return undefined;
  }
}
