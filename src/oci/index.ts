// Public API of the OCI model: media types, digests, descriptors, manifests, indexes, configs
// and platforms, with validating parsers for untrusted registry data. Pure: no I/O (the
// registry client, the store and the puller build on it). Re-exports only; validate.ts and
// document.ts's internals stay private.

export {
  type ConfigParseOptions,
  type ContainerConfig,
  checkLayersMatchConfig,
  configPlatform,
  type HistoryEntry,
  type ImageConfig,
  type LayerDiffId,
  parseImageConfig,
  type RootFS,
} from "./config.ts";
export {
  type Annotations,
  type ContentFacts,
  type Descriptor,
  EMPTY_JSON_DESCRIPTOR,
  parseDescriptor,
  verifyContent,
} from "./descriptor.ts";
export {
  type Digest,
  digestAlgorithm,
  digestHex,
  digestPath,
  isDigest,
  isSafePathSegment,
  parseDigest,
  shortDigest,
} from "./digest.ts";
export {
  checkManifestSize,
  MAX_CONFIG_BYTES,
  MAX_MANIFEST_BYTES,
  type ManifestParseOptions,
} from "./document.ts";
export { type ImageIndex, type IndexMediaType, parseImageIndex } from "./image-index.ts";
export { type ImageManifest, type ManifestMediaType, parseManifest } from "./manifest.ts";
export * from "./media-types.ts";
export { type ManifestOrIndex, parseManifestOrIndex } from "./parse-manifest-or-index.ts";
export * from "./platform.ts";
