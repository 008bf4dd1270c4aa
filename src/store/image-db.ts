// kimg's image records (kimg.json) and how index.json mirrors them. No I/O here: parsing,
// validation and the index.json rewrite rule; FsBlobStore does the locked, atomic writes.
//
// kimg.json is the commit point of every image change; index.json follows it:
//   put:    kimg.json, then index.json        (a crash between: the next sync adds the entry)
//   remove: index.json, then kimg.json        (a crash between: the next sync restores it)
// The sync only adds or replaces entries for names kimg.json has, and keeps every other entry
// (written by skopeo, umoci, …) as it was, so index.json can always be rebuilt from kimg.json.

import * as v from "valibot";
import { KimgError } from "../errors.ts";
import { parseNormalizedNamed, referenceString, tagNameOnly } from "../ref/index.ts";
import { isRecord } from "./atomic-file.ts";

/** kimg.json's format version; bump on incompatible changes (cacache's "cache-version"). */
export const STORE_VERSION = 1;

export const REF_NAME_ANNOTATION = "org.opencontainers.image.ref.name";
/** containerd's exporter also writes the full name here (core/images/annotations.go). */
export const CONTAINERD_NAME_ANNOTATION = "io.containerd.image.name";
export const OCI_INDEX_MEDIA_TYPE = "application/vnd.oci.image.index.v1+json";

/** Which credentials pulled an image: opaque here (for KEP-2535 "ensure secret pulled images"). */
export interface CredentialSource {
  /** e.g. "anonymous", "pull-secret", "docker-config", "helper". */
  readonly kind: string;
  /** A hash identifying the credential (never the credential itself). */
  readonly hash?: string;
}

export interface ImagePlatform {
  readonly os: string;
  readonly architecture: string;
  readonly variant?: string;
}

/** The descriptor index.json points at for this image: its manifest, or its index. */
export interface ImageTarget {
  readonly mediaType: string;
  readonly digest: string;
  readonly size: number;
}

/** One platform of an index stored under a name (containerd keeps every platform it pulled). */
export interface StoredManifest {
  readonly manifestDigest: string;
  readonly platform?: ImagePlatform;
  /** The blobs this platform needs (manifest, config, layers, and the index). */
  readonly blobs: readonly string[];
}

export interface ImageRecord {
  /** Full normalized reference, e.g. `docker.io/library/alpine:3.20`. */
  readonly name: string;
  readonly target: ImageTarget;
  readonly manifestDigest: string;
  readonly indexDigest?: string;
  readonly platform?: ImagePlatform;
  /** Bytes of every blob the image references, as stored. */
  readonly size: number;
  /** ISO 8601. */
  readonly pulledAt: string;
  readonly lastUsed: string;
  readonly credential?: CredentialSource;
  /** Every digest the image needs (sorted, unique): what prune keeps. */
  readonly blobs: readonly string[];
  /**
   * For an index pulled for several platforms: each stored platform (the top-level
   * manifestDigest/platform are the last pulled). Absent when only one is stored.
   */
  readonly manifests?: readonly StoredManifest[];
}

/** Every platform a record holds: its `manifests`, or itself as the only one. */
export function storedManifests(r: ImageRecord): readonly StoredManifest[] {
  if (r.manifests !== undefined && r.manifests.length > 0) return r.manifests;
  return [
    {
      manifestDigest: r.manifestDigest,
      ...(r.platform !== undefined ? { platform: r.platform } : {}),
      blobs: r.blobs,
    },
  ];
}

/** The record as seen for one of its stored platforms (its manifest, platform and blobs). */
export function recordFor(r: ImageRecord, m: StoredManifest): ImageRecord {
  const { manifests: _all, platform: _p, ...rest } = r;
  return {
    ...rest,
    manifestDigest: m.manifestDigest,
    ...(m.platform !== undefined ? { platform: m.platform } : {}),
    blobs: m.blobs,
  };
}

/**
 * `next` recorded over `prev` under one name: the same index pulled for another platform
 * keeps both platforms (containerd keys content by digest, the name points at the index);
 * anything else replaces.
 */
export function mergeRecords(prev: ImageRecord | undefined, next: ImageRecord): ImageRecord {
  if (
    prev === undefined ||
    next.indexDigest === undefined ||
    prev.indexDigest !== next.indexDigest ||
    prev.target.digest !== next.target.digest
  ) {
    return next;
  }
  const others = storedManifests(prev).filter((m) => m.manifestDigest !== next.manifestDigest);
  if (others.length === 0) return next;
  const mine = storedManifests(next);
  const manifests = [...others, ...mine].sort((a, b) =>
    a.manifestDigest < b.manifestDigest ? -1 : a.manifestDigest > b.manifestDigest ? 1 : 0,
  );
  const blobs = [...new Set(manifests.flatMap((m) => m.blobs))].sort();
  return { ...next, blobs, manifests };
}

export interface PutImageInput {
  /** Any reference form; stored normalized (`alpine` → `docker.io/library/alpine:latest`). */
  readonly name: string;
  readonly target: ImageTarget;
  readonly manifestDigest: string;
  readonly indexDigest?: string | undefined;
  readonly platform?: ImagePlatform | undefined;
  readonly credential?: CredentialSource | undefined;
  /**
   * Every blob the image needs (config, layers, manifest, index). The target, manifest and
   * index digests are added if missing. All must be committed already.
   */
  readonly blobs: readonly string[];
  /** Default: now. */
  readonly pulledAt?: Date | undefined;
}

export interface StoreMetadata {
  readonly storeVersion: typeof STORE_VERSION;
  readonly images: Readonly<Record<string, ImageRecord>>;
}

export const EMPTY_METADATA: StoreMetadata = Object.freeze({
  storeVersion: STORE_VERSION,
  images: Object.freeze({}),
});

/** A `{os, architecture, variant?}` read from untrusted JSON, or undefined when it is not one. */
export function platformOf(x: unknown): ImagePlatform | undefined {
  const r = v.safeParse(PlatformSchema, x);
  return r.success ? r.output : undefined;
}

/** `name[:tag][@digest]` fully qualified, with `:latest` when neither tag nor digest. */
export function normalizeImageName(name: string): string {
  return referenceString(tagNameOnly(parseNormalizedNamed(name)));
}

function corrupt(what: string): KimgError {
  return new KimgError("STORE_CORRUPT", `store: kimg.json: ${what}`);
}

// kimg.json's image records, validated where they are read back (valibot schemas instead of
// hand-written checks; issue 11). A record that breaks them makes the store STORE_CORRUPT with
// the image's name and the field's path, so `kimg verify --repair` can rebuild it.
const Str = v.string();
const Size = v.pipe(v.number(), v.safeInteger(), v.minValue(0));
const Digests = v.array(Str);
const PlatformSchema = v.object({ os: Str, architecture: Str, variant: v.exactOptional(Str) });
const RecordSchema = v.object({
  name: Str,
  target: v.object({ mediaType: Str, digest: Str, size: Size }),
  manifestDigest: Str,
  indexDigest: v.exactOptional(Str),
  platform: v.exactOptional(PlatformSchema),
  size: Size,
  pulledAt: Str,
  lastUsed: Str,
  credential: v.exactOptional(v.object({ kind: Str, hash: v.exactOptional(Str) })),
  blobs: Digests,
  manifests: v.exactOptional(
    v.array(
      v.object({ manifestDigest: Str, platform: v.exactOptional(PlatformSchema), blobs: Digests }),
    ),
  ),
});

/** `target.size: Invalid value…` → the first issue as `path: message`. */
function issueText(issues: readonly v.BaseIssue<unknown>[]): string {
  const i = issues[0];
  if (i === undefined) return "malformed";
  const path = v.getDotPath(i);
  return `${path === null ? "" : `${path}: `}${i.message}`;
}

function parseRecord(key: string, x: unknown): ImageRecord {
  const r = v.safeParse(RecordSchema, x);
  if (!r.success) throw corrupt(`image ${key}: ${issueText(r.issues)}`);
  if (r.output.name !== key)
    throw corrupt(`image ${key}: name is ${JSON.stringify(r.output.name)}`);
  return r.output;
}

/** Validates kimg.json's parsed JSON (undefined: the file does not exist yet). */
export function parseMetadata(x: unknown): StoreMetadata {
  if (x === undefined) return EMPTY_METADATA;
  if (!isRecord(x)) throw corrupt("not a JSON object");
  if (typeof x.storeVersion === "number" && x.storeVersion > STORE_VERSION) {
    throw new KimgError(
      "STORE_VERSION_UNSUPPORTED",
      `store: kimg.json has storeVersion ${x.storeVersion}; this kimg reads ${STORE_VERSION}`,
    );
  }
  if (x.storeVersion !== STORE_VERSION) throw corrupt("missing or bad storeVersion");
  if (!isRecord(x.images)) throw corrupt("images is not an object");
  const images: Record<string, ImageRecord> = {};
  for (const [k, v] of Object.entries(x.images)) images[k] = parseRecord(k, v);
  return { storeVersion: STORE_VERSION, images };
}

export function serializeMetadata(m: StoreMetadata): string {
  const images: Record<string, ImageRecord> = {};
  for (const k of Object.keys(m.images).sort()) {
    const r = m.images[k];
    if (r !== undefined) images[k] = r;
  }
  return `${JSON.stringify({ storeVersion: m.storeVersion, images }, null, 2)}\n`;
}

/** An OCI index as found in index.json: only `manifests` is interpreted, the rest is kept. */
export type IndexDocument = Record<string, unknown> & { manifests: unknown[] };

export function emptyIndex(): IndexDocument {
  return { schemaVersion: 2, mediaType: OCI_INDEX_MEDIA_TYPE, manifests: [] };
}

export function parseIndex(x: unknown, path: string): IndexDocument {
  if (!isRecord(x) || !Array.isArray(x.manifests)) {
    throw new KimgError("STORE_CORRUPT", `store: ${path} is not an OCI image index`);
  }
  return x as IndexDocument;
}

export function refNameOf(entry: unknown): string | undefined {
  if (!isRecord(entry) || !isRecord(entry.annotations)) return undefined;
  const n = entry.annotations[REF_NAME_ANNOTATION];
  return typeof n === "string" ? n : undefined;
}

function indexEntry(r: ImageRecord): Record<string, unknown> {
  return {
    mediaType: r.target.mediaType,
    digest: r.target.digest,
    size: r.target.size,
    annotations: { [CONTAINERD_NAME_ANNOTATION]: r.name, [REF_NAME_ANNOTATION]: r.name },
    // A platform belongs on a manifest descriptor, not on an index's (image-spec image-index.md).
    ...(r.platform !== undefined && r.target.digest === r.manifestDigest
      ? { platform: r.platform }
      : {}),
  };
}

/**
 * index.json after `images`: entries named like an image are replaced by it (idempotent: the
 * same records give the same document), entries named in `drop` are removed, every other
 * entry is kept in place. kimg's entries follow, sorted by name.
 */
export function syncIndex(
  index: IndexDocument,
  images: Readonly<Record<string, ImageRecord>>,
  drop: ReadonlySet<string> = new Set(),
): IndexDocument {
  const kept = index.manifests.filter((e) => {
    const n = refNameOf(e);
    return n === undefined || (!(n in images) && !drop.has(n));
  });
  const ours = Object.keys(images)
    .sort()
    .flatMap((k) => {
      const r = images[k];
      return r === undefined ? [] : [indexEntry(r)];
    });
  return {
    ...index,
    schemaVersion: index.schemaVersion ?? 2,
    mediaType: index.mediaType ?? OCI_INDEX_MEDIA_TYPE,
    manifests: [...kept, ...ours],
  };
}

/** Digests index.json points at outside kimg's records (foreign entries keep their root). */
export function foreignRoots(
  index: IndexDocument,
  images: Readonly<Record<string, ImageRecord>>,
): string[] {
  return index.manifests.flatMap((e) => {
    const n = refNameOf(e);
    if (n !== undefined && n in images) return [];
    return isRecord(e) && typeof e.digest === "string" ? [e.digest] : [];
  });
}
