// Public API of src/manager: the kubelet's image manager on one node (orchestration over the
// store, the registry client and the pure kubelet rules). Re-exports only.
export {
  DEFAULT_IMAGE_GC_POLICY,
  type DiskUsageReport,
  type GCImageOutcome,
  type ImageFsStats,
  type ImageGCReport,
  type ImageGCSettings,
  imageFsStats,
  imageGCPolicyFromSettings,
  type NodeImage,
  nodeImagesOf,
  parseByteSize,
  type RunImageGCOptions,
  runImageGC,
  storeBlobBytes,
} from "./gc.ts";
export {
  type EnsureResult,
  ImageManager,
  type ImageManagerOptions,
  type RecordedEvent,
} from "./image-manager.ts";
export {
  kubeletConfigurationFromText,
  loadKubeletConfigurationFile,
} from "./kubelet-config-file.ts";
export {
  type ContainerImageStatus,
  POD_RESYNC_ON_ERROR_MS,
  type PodImageStatus,
  type RunPodsOptions,
  runPods,
} from "./node.ts";
export {
  type ManifestObject,
  type NamespacedSecret,
  type NodeInput,
  type NodePod,
  type PodContainer,
  type PodsOptions,
  podsFromObjects,
  type RejectedObject,
  type ServiceAccountObject,
} from "./pods.ts";
export { ImagePuller, type PullerOptions, type PullerResult, TokenBucket } from "./puller.ts";
