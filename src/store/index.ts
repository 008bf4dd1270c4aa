// Public API of the local store: a content-addressable blob store in OCI image-layout form
// (readable by skopeo and umoci), crash-safe and shared safely between processes, plus kimg's
// image records. I/O: node:fs and node:crypto only; no HTTP.

export { type AtomicWriteOptions, writeFileAtomic } from "./atomic-file.ts";
export * from "./defaults.ts";
export {
  FsBlobStore,
  type ImageStore,
  type LocalStore,
  type PruneOptions,
  type PruneReport,
  type RemoveImagesReport,
  type VerifyOptions,
  type VerifyProblem,
  type VerifyReport,
} from "./fs-blob-store.ts";
export type { FsckOptions, FsckReport } from "./fsck.ts";
export {
  EMPTY_IMAGE_GC_STATE,
  IMAGE_GC_STATE_FILE,
  type ImageGCState,
  ImageGCStateFile,
} from "./gc-state.ts";
export { defaultPlatform, wantedPlatform } from "./host-platform.ts";
export {
  type CredentialSource,
  type ImagePlatform,
  type ImageRecord,
  type ImageTarget,
  normalizeImageName,
  type PutImageInput,
  recordFor,
  STORE_VERSION,
  type StoredManifest,
  storedManifests,
} from "./image-db.ts";
export {
  type ImageInspection,
  type InspectedContainerConfig,
  type InspectedLayer,
  inspectImage,
} from "./inspect.ts";
export { BLOB_ALGORITHMS, type BlobAlgorithm } from "./layout.ts";
export type { Lease } from "./leases.ts";
export { MemoryBlobStore } from "./memory-blob-store.ts";
export {
  PullRecordFiles,
  type PullRecordKind,
  pullRecordFileName,
  type StoredPullRecord,
} from "./pull-records.ts";
export type * from "./types.ts";
export {
  blobUsers,
  findImageRecords,
  type ImageQueryResult,
  type IngestInfo,
  listIngests,
  readBlobBounded,
  sharedBlobs,
} from "./usage.ts";
export { type BlobSource, type WriteBlobResult, writeBlob } from "./write-blob.ts";
