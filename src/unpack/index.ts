// Unpacking image layers into a root filesystem (issue 5). Re-exports only.

export { detectCompression, ZSTD_DECODER } from "./decompress.ts";
export { type UnpackImageOptions, unpackImage } from "./image.ts";
export {
  DEFAULT_UNPACK_LIMITS,
  type LayerInput,
  type UnpackLimits,
  type UnpackOptions,
  type UnpackReport,
  unpackLayers,
} from "./unpack.ts";
