// Public API of remote inspection (src/remote/): registry reads that need no store, for
// `kimg digest` and the other crane-like commands. Re-exports only.

export {
  type DigestOptions,
  type RemoteDigest,
  type RemoteOptions,
  remoteDigest,
} from "./digest.ts";
