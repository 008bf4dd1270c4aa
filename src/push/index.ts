// Public API of src/push: registry writes — copying an image from a registry, an OCI layout or
// the store to a registry (`kimg push`, `kimg copy`), tagging and deleting. Re-exports only.

export {
  COPY_JOBS,
  type CopyEvent,
  type CopyOptions,
  type CopyResult,
  copyImage,
} from "./copy.ts";
export {
  type ImageSource,
  layoutSource,
  type RegistryEndpointOptions,
  registrySource,
  storeSource,
} from "./sources.ts";
export { deleteImage, tagImage } from "./tag-delete.ts";
