// Public API of remote inspection (src/remote/): registry reads that need no store, for
// `kimg digest`, `manifest`, `config`, `inspect --remote`, `ls`, `catalog` and `referrers`.
// Re-exports only.

export { type DigestOptions, type RemoteDigest, remoteDigest } from "./digest.ts";
export {
  type InspectRemoteOptions,
  type ReferrersOptions,
  type RemoteImage,
  type RemoteInspection,
  type RemoteManifest,
  remoteCatalog,
  remoteImage,
  remoteInspect,
  remoteManifest,
  remoteReferrers,
  remoteTags,
  type TagsOptions,
} from "./read.ts";
export type { RemoteOptions } from "./resolved.ts";
