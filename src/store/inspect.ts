// inspectImage(): everything the local store knows about one image, without the network —
// `docker image inspect` for kimg's store. It parses manifests and configs with the pure oci/
// model; the record lookup, the layer sharing and the bounded blob reads are usage.ts's.
//
// Reads the record's manifest (and index) and config from the store, verified against their
// digests while read and capped at MAX_MANIFEST_BYTES / MAX_CONFIG_BYTES as a pull caps them,
// then pairs each layer with its diff_id (layer-typed entries of `layers` with
// `rootfs.diff_ids` in order, as containerd's unpacker does: core/unpack/unpacker.go) and
// says which OTHER stored images reference the same blob.

import { KimgError } from "../errors.ts";
import {
  configPlatform,
  formatPlatform,
  type ImageConfig,
  isLayerMediaType,
  MAX_CONFIG_BYTES,
  MAX_MANIFEST_BYTES,
  matchPlatform,
  normalizeContentType,
  type Platform,
  parseImageConfig,
  parseManifestOrIndex,
} from "../oci/index.ts";
import type { LocalStore } from "./fs-blob-store.ts";
import { type CredentialSource, type ImageRecord, recordFor, storedManifests } from "./image-db.ts";
import { findImageRecords, readBlobBounded, sharedBlobs } from "./usage.ts";

export interface InspectedLayer {
  readonly digest: string;
  readonly mediaType: string;
  /** Compressed size (the blob's, as the manifest says). */
  readonly size: number;
  /** The uncompressed tar's digest from the config's rootfs.diff_ids (layer types only). */
  readonly diffId?: string;
  /** OTHER stored images (record names) that reference this blob too, sorted. */
  readonly sharedWith: readonly string[];
}

/** The runtime defaults from the config's `config` (Docker's names, as docker inspect shows). */
export interface InspectedContainerConfig {
  readonly entrypoint?: readonly string[];
  readonly cmd?: readonly string[];
  readonly env?: readonly string[];
  readonly workingDir?: string;
  readonly user?: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly exposedPorts?: readonly string[];
  readonly volumes?: readonly string[];
  readonly stopSignal?: string;
}

export interface ImageInspection {
  /** The record's normalized reference (the first name when found by digest). */
  readonly name: string;
  /** Every stored name of this image (records with the same target), sorted. */
  readonly names: readonly string[];
  /** How the query found it. */
  readonly foundBy: "name" | "digest";
  readonly manifestDigest: string;
  readonly indexDigest?: string;
  readonly mediaTypes: {
    /** What index.json points at: the manifest's or the index's. */
    readonly target: string;
    readonly manifest: string;
    readonly config: string;
    readonly index?: string;
  };
  readonly manifestSize: number;
  readonly configDigest: string;
  readonly configSize: number;
  /** `os/arch[/variant]`: the record's (the index entry's), else the config's. */
  readonly platform: string;
  readonly created?: string;
  readonly author?: string;
  readonly config: InspectedContainerConfig;
  /** Bytes of every blob of the image as stored (manifest, config, layers, index). */
  readonly size: number;
  readonly layers: readonly InspectedLayer[];
  readonly pulledAt: string;
  readonly lastUsed: string;
  readonly credential?: CredentialSource;
  /** The documents as stored (parsed JSON, unmodified). */
  readonly raw: {
    readonly manifest: unknown;
    readonly config: unknown;
    readonly index?: unknown;
  };
}

function containerConfig(c: ImageConfig): InspectedContainerConfig {
  const x = c.config;
  if (x === undefined) return {};
  return {
    ...(x.entrypoint !== undefined ? { entrypoint: x.entrypoint } : {}),
    ...(x.cmd !== undefined ? { cmd: x.cmd } : {}),
    ...(x.env !== undefined ? { env: x.env } : {}),
    ...(x.workingDir !== undefined ? { workingDir: x.workingDir } : {}),
    ...(x.user !== undefined ? { user: x.user } : {}),
    ...(x.labels !== undefined ? { labels: x.labels } : {}),
    ...(x.exposedPorts !== undefined ? { exposedPorts: x.exposedPorts } : {}),
    ...(x.volumes !== undefined ? { volumes: x.volumes } : {}),
    ...(x.stopSignal !== undefined ? { stopSignal: x.stopSignal } : {}),
  };
}

const jsonOf = (b: Buffer): unknown => JSON.parse(b.toString("utf8"));

/**
 * What the store knows about the image `query` names: a reference in any form `kimg pull`
 * accepts, or (like `docker image inspect ID`) a manifest or index digest or a prefix of one,
 * with or without `sha256:`. No network; nothing is changed (not even lastUsed).
 * @throws KimgError IMAGE_NOT_FOUND ("No such image: <query>"); INPUT_INVALID for a digest
 *   prefix matching two images; BLOB_NOT_FOUND when the store lost a blob (run fsck);
 *   DIGEST_MISMATCH, INVALID_MANIFEST, INVALID_CONFIG for damaged content.
 */
export async function inspectImage(
  store: LocalStore,
  query: string,
  opts: { readonly platform?: Platform } = {},
): Promise<ImageInspection> {
  const records = await store.listImages();
  const found = findImageRecords(records, query);
  let record: ImageRecord | undefined = found?.records[0];
  if (found === undefined || record === undefined) {
    throw new KimgError("IMAGE_NOT_FOUND", `No such image: ${query}`);
  }
  // An index stored for several platforms: the wanted one's manifest (the last pulled when
  // none is asked for, or none matches: the caller's platform check then says so).
  const wanted = opts.platform;
  if (wanted !== undefined) {
    const m = storedManifests(record).find(
      (x) => x.platform !== undefined && matchPlatform(wanted, x.platform),
    );
    if (m !== undefined) record = recordFor(record, m);
  }
  let index: unknown;
  let indexMediaType: string | undefined;
  let manifestMediaType: string | undefined;
  if (record.indexDigest !== undefined) {
    const bytes = await readBlobBounded(store, record.indexDigest, MAX_MANIFEST_BYTES, "index");
    const doc = parseManifestOrIndex(bytes, { digest: record.indexDigest });
    if (doc.kind !== "index") {
      throw new KimgError(
        "INVALID_MANIFEST",
        `${record.indexDigest}: the record's index is a manifest`,
      );
    }
    index = jsonOf(bytes);
    indexMediaType = doc.index.mediaType;
    manifestMediaType = doc.index.manifests.find(
      (m) => m.digest === record.manifestDigest,
    )?.mediaType;
  } else if (record.target.digest === record.manifestDigest) {
    manifestMediaType = record.target.mediaType;
  }
  const mbytes = await readBlobBounded(
    store,
    record.manifestDigest,
    MAX_MANIFEST_BYTES,
    "manifest",
  );
  const mdoc = parseManifestOrIndex(mbytes, {
    ...(manifestMediaType !== undefined && manifestMediaType !== ""
      ? { mediaType: manifestMediaType }
      : {}),
    digest: record.manifestDigest,
  });
  if (mdoc.kind !== "manifest") {
    throw new KimgError(
      "INVALID_MANIFEST",
      `${record.manifestDigest}: the record's manifest is an index`,
    );
  }
  const manifest = mdoc.manifest;
  const cfgDesc = manifest.config;
  const cbytes = await readBlobBounded(store, cfgDesc.digest, MAX_CONFIG_BYTES, "config");
  const config = parseImageConfig(cbytes, {
    mediaType: cfgDesc.mediaType,
    digest: cfgDesc.digest,
  });

  const shared = sharedBlobs(record, records);
  // Every name of this image is the same image, not another one sharing its layers.
  const names = records
    .filter((r) => r.target.digest === record.target.digest)
    .map((r) => r.name)
    .sort();
  const others = (dg: string): string[] => (shared.get(dg) ?? []).filter((n) => !names.includes(n));
  const diffIds = config.rootfs.diffIds;
  let li = 0;
  const layers: InspectedLayer[] = manifest.layers.map((l) => {
    const diffId = isLayerMediaType(normalizeContentType(l.mediaType)) ? diffIds[li++] : undefined;
    return {
      digest: l.digest,
      mediaType: l.mediaType,
      size: l.size,
      ...(diffId !== undefined ? { diffId } : {}),
      sharedWith: others(l.digest),
    };
  });
  const platform =
    record.platform !== undefined
      ? formatPlatform({
          os: record.platform.os,
          architecture: record.platform.architecture,
          ...(record.platform.variant !== undefined ? { variant: record.platform.variant } : {}),
        })
      : formatPlatform(configPlatform(config));
  return {
    name: record.name,
    names,
    foundBy: found.by,
    manifestDigest: record.manifestDigest,
    ...(record.indexDigest !== undefined ? { indexDigest: record.indexDigest } : {}),
    mediaTypes: {
      target: record.target.mediaType,
      manifest: manifest.mediaType,
      config: cfgDesc.mediaType,
      ...(indexMediaType !== undefined ? { index: indexMediaType } : {}),
    },
    manifestSize: mbytes.byteLength,
    configDigest: cfgDesc.digest,
    configSize: cfgDesc.size,
    platform,
    ...(config.created !== undefined ? { created: config.created } : {}),
    ...(config.author !== undefined ? { author: config.author } : {}),
    config: containerConfig(config),
    size: record.size,
    layers,
    pulledAt: record.pulledAt,
    lastUsed: record.lastUsed,
    ...(record.credential !== undefined ? { credential: record.credential } : {}),
    raw: {
      manifest: jsonOf(mbytes),
      config: jsonOf(cbytes),
      ...(index !== undefined ? { index } : {}),
    },
  };
}
