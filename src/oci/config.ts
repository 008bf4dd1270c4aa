// Image configs (OCI image-spec config.md, Docker's image JSON): the type, its validating
// parser, the platform it declares, and the check that a manifest's layers and the config's
// `rootfs.diff_ids` pair up. Pure: no I/O.
//
// Rules (schema/config-schema.json, specs-go/v1 config.go), and what containerd does:
// - `architecture`, `os`: required strings (the schema's `required`); `variant`,
//   `os.version`, `os.features` optional. containerd reads only these and `rootfs` when
//   pulling (core/unpack/unpacker.go `unpackConfig`, core/images/image.go `ConfigPlatform`).
// - `rootfs`: required; `type` must be "layers" (the schema's enum; containerd tolerates ""
//   and skips unpacking for other values); `diff_ids`: required array of digests.
// - `created`, `author`: strings. `created` is not checked for RFC 3339: Go decoders that read
//   the whole config (CRI's image status) would refuse a malformed one, but a pull does not.
// - `config` (Env, Cmd, Entrypoint, Labels, …) and `history`: optional, type-checked when
//   present; Docker's extra fields (`container_config`, `docker_version`, …) are ignored.
// - Only an image config media type is parsed: manifest.md says implementations MUST NOT parse
//   content of an unknown config media type (artifacts).
// - Size: MAX_CONFIG_BYTES (4 MiB, containers/image iolimits.MaxConfigBodySize).
//
// Layers versus diff_ids: containerd's unpacker splits a manifest's children into layers
// (IsLayerType) and the rest, and fails with "number of layers and diffIDs don't match: N != M"
// (core/unpack/unpacker.go); layer i must then extract to diff_ids[i] ("wrong diff id …
// calculated on extraction"). Entries of `layers` with non-layer media types are not counted.

import { KimgError } from "../errors.ts";
import { checkDigest } from "../ref/index.ts";
import type { Descriptor } from "./descriptor.ts";
import type { Digest } from "./digest.ts";
import { MAX_CONFIG_BYTES, tooLarge } from "./document.ts";
import type { ImageManifest } from "./manifest.ts";
import { isConfigMediaType, isLayerMediaType, normalizeContentType } from "./media-types.ts";
import { type NormalizeOptions, normalizePlatform, type Platform } from "./platform.ts";
import {
  byteLength,
  type Ctx,
  checkKeys,
  decodeJsonObject,
  invalid,
  isObject,
  type JsonObject,
  makeCtx,
  opt,
  optArray,
  optBoolean,
  optObject,
  optString,
  optStringArray,
  optStringMap,
  reqArray,
  reqObject,
  reqString,
  show,
  typeName,
} from "./validate.ts";

/** The runtime defaults of a container (config.md `config`); Docker's field names. */
export interface ContainerConfig {
  readonly user?: string;
  /** Keys of `ExposedPorts`: `80/tcp`, `53/udp`. */
  readonly exposedPorts?: readonly string[];
  readonly env?: readonly string[];
  readonly entrypoint?: readonly string[];
  readonly cmd?: readonly string[];
  /** Keys of `Volumes`. */
  readonly volumes?: readonly string[];
  readonly workingDir?: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly stopSignal?: string;
  readonly argsEscaped?: boolean;
}

export interface RootFS {
  readonly type: "layers";
  /** Digest of each layer's uncompressed tar, base layer first. */
  readonly diffIds: readonly Digest[];
}

export interface HistoryEntry {
  readonly created?: string;
  readonly createdBy?: string;
  readonly author?: string;
  readonly comment?: string;
  /** True for history entries that made no layer (ENV, CMD, …). */
  readonly emptyLayer?: boolean;
}

/** A validated image config. */
export interface ImageConfig {
  readonly created?: string;
  readonly author?: string;
  readonly architecture: string;
  readonly os: string;
  readonly variant?: string;
  readonly osVersion?: string;
  readonly osFeatures?: readonly string[];
  readonly config?: ContainerConfig;
  readonly rootfs: RootFS;
  readonly history?: readonly HistoryEntry[];
}

export interface ConfigParseOptions {
  /** The config descriptor's mediaType; when given it must be an image config type. */
  readonly mediaType?: string | undefined;
  /** The config's digest: prefixes error messages. */
  readonly digest?: string | undefined;
  /** Size cap in bytes. Default MAX_CONFIG_BYTES. */
  readonly maxBytes?: number | undefined;
}

const CONFIG_KEYS: readonly string[] = [
  "created",
  "author",
  "architecture",
  "os",
  "variant",
  "os.version",
  "os.features",
  "config",
  "rootfs",
  "history",
];
const ROOTFS_KEYS: readonly string[] = ["type", "diff_ids"];
const HISTORY_KEYS: readonly string[] = [
  "created",
  "created_by",
  "author",
  "comment",
  "empty_layer",
];
const CONTAINER_CONFIG_KEYS: readonly string[] = [
  "User",
  "ExposedPorts",
  "Env",
  "Entrypoint",
  "Cmd",
  "Volumes",
  "WorkingDir",
  "Labels",
  "StopSignal",
  "ArgsEscaped",
];

/** The keys of an object whose values must be objects (ExposedPorts, Volumes). */
function objectKeys(obj: JsonObject, key: string, ctx: Ctx, path: string) {
  const m = optObject(obj, key, ctx, path);
  if (m === undefined) return undefined;
  for (const [k, v] of Object.entries(m)) {
    if (!isObject(v)) {
      invalid(ctx, `${path}.${key}[${show(k)}]`, `expected an object, got ${typeName(v)}`);
    }
  }
  return Object.keys(m);
}

function containerConfigFrom(obj: JsonObject, ctx: Ctx, path: string): ContainerConfig {
  checkKeys(obj, CONTAINER_CONFIG_KEYS, ctx, path);
  return {
    ...opt("user", optString(obj, "User", ctx, path)),
    ...opt("exposedPorts", objectKeys(obj, "ExposedPorts", ctx, path)),
    ...opt("env", optStringArray(obj, "Env", ctx, path)),
    ...opt("entrypoint", optStringArray(obj, "Entrypoint", ctx, path)),
    ...opt("cmd", optStringArray(obj, "Cmd", ctx, path)),
    ...opt("volumes", objectKeys(obj, "Volumes", ctx, path)),
    ...opt("workingDir", optString(obj, "WorkingDir", ctx, path)),
    ...opt("labels", optStringMap(obj, "Labels", ctx, path)),
    ...opt("stopSignal", optString(obj, "StopSignal", ctx, path)),
    ...opt("argsEscaped", optBoolean(obj, "ArgsEscaped", ctx, path)),
  };
}

function historyFrom(value: unknown, ctx: Ctx, path: string): HistoryEntry {
  if (!isObject(value)) return invalid(ctx, path, `expected an object, got ${typeName(value)}`);
  checkKeys(value, HISTORY_KEYS, ctx, path);
  return {
    ...opt("created", optString(value, "created", ctx, path)),
    ...opt("createdBy", optString(value, "created_by", ctx, path)),
    ...opt("author", optString(value, "author", ctx, path)),
    ...opt("comment", optString(value, "comment", ctx, path)),
    ...opt("emptyLayer", optBoolean(value, "empty_layer", ctx, path)),
  };
}

function rootfsFrom(obj: JsonObject, ctx: Ctx, path: string): RootFS {
  checkKeys(obj, ROOTFS_KEYS, ctx, path);
  const type = reqString(obj, "type", ctx, path);
  if (type !== "layers") invalid(ctx, `${path}.type`, `expected "layers", got ${show(type)}`);
  const diffIds = reqArray(obj, "diff_ids", ctx, path).map((d, i) => {
    const where = `${path}.diff_ids[${i}]`;
    if (typeof d !== "string") return invalid(ctx, where, `expected a string, got ${typeName(d)}`);
    const f = checkDigest(d);
    if (f !== undefined) invalid(ctx, where, `${f.message}: ${show(d)}`);
    return d as Digest; // validated just above
  });
  return { type: "layers", diffIds };
}

/** Validates an already-decoded config object. */
function configFromObject(obj: JsonObject, ctx: Ctx): ImageConfig {
  const path = "config";
  checkKeys(obj, CONFIG_KEYS, ctx, path);
  const architecture = reqString(obj, "architecture", ctx, path);
  const os = reqString(obj, "os", ctx, path);
  const variant = optString(obj, "variant", ctx, path);
  const osVersion = optString(obj, "os.version", ctx, path);
  const osFeatures = optStringArray(obj, "os.features", ctx, path);
  const cc = optObject(obj, "config", ctx, path);
  const history = optArray(obj, "history", ctx, path)?.map((h, i) =>
    historyFrom(h, ctx, `${path}.history[${i}]`),
  );
  return {
    ...opt("created", optString(obj, "created", ctx, path)),
    ...opt("author", optString(obj, "author", ctx, path)),
    architecture,
    os,
    ...opt("variant", variant === "" ? undefined : variant),
    ...opt("osVersion", osVersion === "" ? undefined : osVersion),
    ...opt("osFeatures", osFeatures?.length === 0 ? undefined : osFeatures),
    ...opt("config", cc === undefined ? undefined : containerConfigFrom(cc, ctx, `${path}.config`)),
    rootfs: rootfsFrom(reqObject(obj, "rootfs", ctx, path), ctx, `${path}.rootfs`),
    ...opt("history", history),
  };
}

/**
 * Parses an image config from untrusted bytes (or text). Throws KimgError:
 * MANIFEST_TOO_LARGE (over `opts.maxBytes`, default 4 MiB), UNSUPPORTED_MEDIA_TYPE (the
 * descriptor's media type is not an image config), INVALID_CONFIG naming the field
 * (`config.rootfs.diff_ids[1]: invalid checksum digest format: "sha256:xyz"`).
 */
export function parseImageConfig(
  input: Uint8Array | string,
  opts?: ConfigParseOptions,
): ImageConfig {
  const ctx = makeCtx("INVALID_CONFIG", opts?.digest);
  if (opts?.mediaType !== undefined) {
    const mt = normalizeContentType(opts.mediaType);
    if (!isConfigMediaType(mt)) {
      throw new KimgError(
        "UNSUPPORTED_MEDIA_TYPE",
        `${ctx.prefix}not an image config: media type ${show(mt)} (an artifact's config is not parsed)`,
      );
    }
  }
  tooLarge(ctx.prefix, byteLength(input), opts?.maxBytes ?? MAX_CONFIG_BYTES, "config");
  return configFromObject(decodeJsonObject(input, ctx, "config"), ctx);
}

/**
 * The platform a config declares, normalized (containerd ConfigPlatform): how a pull decides
 * about an index entry without `platform`.
 */
export function configPlatform(config: ImageConfig, opts?: NormalizeOptions): Platform {
  return normalizePlatform(
    {
      os: config.os,
      architecture: config.architecture,
      ...opt("variant", config.variant),
      ...opt("osVersion", config.osVersion),
      ...opt("osFeatures", config.osFeatures),
    },
    opts,
  );
}

/** A layer descriptor and the digest its uncompressed content must have. */
export interface LayerDiffId {
  readonly layer: Descriptor;
  readonly diffId: Digest;
}

/**
 * Pairs the manifest's layers (entries with a layer media type, in order) with the config's
 * `rootfs.diff_ids`. Throws LAYER_COUNT_MISMATCH with containerd's message
 * `number of layers and diffIDs don't match: 3 != 2` when the counts differ.
 */
export function checkLayersMatchConfig(
  manifest: ImageManifest,
  config: ImageConfig,
): LayerDiffId[] {
  const layers = manifest.layers.filter((l) => isLayerMediaType(l.mediaType));
  const diffIds = config.rootfs.diffIds;
  if (layers.length !== diffIds.length) {
    throw new KimgError(
      "LAYER_COUNT_MISMATCH",
      `number of layers and diffIDs don't match: ${layers.length} != ${diffIds.length}`,
    );
  }
  return layers.map((layer, i) => ({ layer, diffId: diffIds[i] as Digest }));
}
