// Public API of export: a stored image written as an OCI layout, an OCI archive or a Docker
// archive, for skopeo, podman, docker and containerd. I/O over the store (tar-stream).

export {
  EXPORT_FORMATS,
  type ExportFormat,
  type ExportOptions,
  type ExportReport,
  exportImage,
} from "./export-image.ts";
