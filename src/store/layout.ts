// The only file that knows where things are on disk (like cacache's lib/content/path.js).
//
//   <root>/oci-layout                 {"imageLayoutVersion":"1.0.0"}   (image-spec image-layout.md)
//   <root>/index.json                 OCI image index; tags as org.opencontainers.image.ref.name
//   <root>/blobs/<alg>/<hex>          committed, verified, read-only content
//   <root>/kimg.json                  kimg's image records, {"storeVersion": 1, …}
//   <root>/ingest/<alg>-<hex>/data    partial download of that digest (resumable)
//   <root>/ingest/<alg>-<hex>/status.json   its sidecar: size, checkpoint, validator
//   <root>/locks/<alg>-<hex>.lock     the writer lock of that digest (exists while held)
//   <root>/locks/store.lock           the metadata lock (index.json, kimg.json, prune, fsck)
//   <root>/locks/leases.lock          the lease lock (lease changes; GC reads them under it)
//   <root>/leases/<id>.lock|.json     work in flight and the blobs it protects (leases.ts)
//   <root>/tmp/                       temp files of atomic metadata writes
//
// The OCI layout spec tells readers to ignore files they do not know, so skopeo (oci:DIR:REF)
// and umoci read the store as a plain image layout. Ingest directories use "<alg>-<hex>"
// rather than the digest itself: a ":" is not portable in file names.

import { join } from "node:path";
import { KimgError } from "../errors.ts";
import { validateDigest } from "../ref/index.ts";

export type BlobAlgorithm = "sha256" | "sha512";

/** The digest algorithms the OCI image spec registers (descriptor.md); Node hashes both. */
export const BLOB_ALGORITHMS: readonly BlobAlgorithm[] = ["sha256", "sha512"];

export interface ParsedDigest {
  readonly digest: string;
  readonly algorithm: BlobAlgorithm;
  readonly hex: string;
}

/**
 * Validates a digest before it is used to build a path (CVE-2024-3727: an unchecked digest is a
 * path traversal). Throws the go-digest errors (DIGEST_CHECKSUM_FORMAT, _LENGTH, _UNSUPPORTED).
 */
export function parseBlobDigest(digest: string): ParsedDigest {
  validateDigest(digest, { digestAlgorithms: BLOB_ALGORITHMS });
  const i = digest.indexOf(":");
  return {
    digest,
    algorithm: digest.slice(0, i) as BlobAlgorithm,
    hex: digest.slice(i + 1),
  };
}

/** Throws INPUT_INVALID unless `size` is a whole number of bytes. */
export function checkSize(size: number, what: string): void {
  if (!Number.isSafeInteger(size) || size < 0) {
    throw new KimgError("INPUT_INVALID", `${what}: size ${size} is not a byte count`);
  }
}

export const OCI_LAYOUT_FILE = "oci-layout";
export const INDEX_FILE = "index.json";
export const METADATA_FILE = "kimg.json";
export const IMAGE_LAYOUT_VERSION = "1.0.0";

export interface StoreLayout {
  readonly root: string;
  readonly blobs: string;
  readonly ingestRoot: string;
  readonly locks: string;
  readonly leases: string;
  readonly tmp: string;
  readonly ociLayout: string;
  readonly index: string;
  readonly metadata: string;
  readonly storeLock: string;
  readonly leasesLock: string;
  blobDir(algorithm: BlobAlgorithm): string;
  blobPath(d: ParsedDigest): string;
  /** `<alg>-<hex>`: the ingest directory and lock file name of a digest. */
  key(d: ParsedDigest): string;
  ingestDir(d: ParsedDigest): string;
  ingestLock(d: ParsedDigest): string;
}

export function storeLayout(root: string): StoreLayout {
  const blobs = join(root, "blobs");
  const ingestRoot = join(root, "ingest");
  const locks = join(root, "locks");
  const key = (d: ParsedDigest): string => `${d.algorithm}-${d.hex}`;
  return Object.freeze({
    root,
    blobs,
    ingestRoot,
    locks,
    leases: join(root, "leases"),
    tmp: join(root, "tmp"),
    ociLayout: join(root, OCI_LAYOUT_FILE),
    index: join(root, INDEX_FILE),
    metadata: join(root, METADATA_FILE),
    storeLock: join(locks, "store.lock"),
    leasesLock: join(locks, "leases.lock"),
    blobDir: (algorithm: BlobAlgorithm) => join(blobs, algorithm),
    blobPath: (d: ParsedDigest) => join(blobs, d.algorithm, d.hex),
    key,
    ingestDir: (d: ParsedDigest) => join(ingestRoot, key(d)),
    ingestLock: (d: ParsedDigest) => join(locks, `${key(d)}.lock`),
  });
}

/** The digest an ingest directory or lock name stands for, or undefined for a stray name. */
export function digestOfKey(key: string): ParsedDigest | undefined {
  const i = key.indexOf("-");
  if (i <= 0) return undefined;
  const digest = `${key.slice(0, i)}:${key.slice(i + 1)}`;
  try {
    return parseBlobDigest(digest);
  } catch {
    return undefined;
  }
}
