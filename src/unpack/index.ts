// Unpacking image layers into a root filesystem (issue 5). Re-exports only.

export {
  MAX_XATTRS_PER_ENTRY,
  MAX_XATTRS_TOTAL,
  type Privileges,
} from "./apply.ts";
export { detectCompression, ZSTD_DECODER } from "./decompress.ts";
export { type UnpackImageOptions, unpackImage } from "./image.ts";
export {
  checkUnpackParent,
  DEFAULT_UNPACK_LIMITS,
  type LayerInput,
  MAX_RATIO,
  type UnpackLimits,
  type UnpackOptions,
  type UnpackReport,
  unpackLayers,
} from "./unpack.ts";
