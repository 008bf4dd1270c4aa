// Who uses what in the store: which image records reference each blob (the layer sharing
// `kimg inspect` shows), finding records by name or by digest (as `docker image inspect`
// finds an image by ID), bounded reads of small blobs (manifests, configs), and the partial
// downloads under ingest/ with their sizes (what `kimg prune` reports). Reads only; parsing
// blobs is the caller's business (store/ knows nothing about manifests: see pull/inspect.ts).

import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { KimgError } from "../errors.ts";
import { errnoCode } from "./atomic-file.ts";
import type { ResolvedStoreOptions } from "./defaults.ts";
import { type ImageRecord, normalizeImageName } from "./image-db.ts";
import { DATA_FILE, readIngestStatus } from "./ingest.ts";
import { digestOfKey, storeLayout } from "./layout.ts";
import type { BlobReader } from "./types.ts";

/** Blob digest → names of the image records that reference it (sorted). */
export function blobUsers(records: readonly ImageRecord[]): Map<string, string[]> {
  const users = new Map<string, string[]>();
  for (const r of [...records].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    for (const dg of new Set(r.blobs)) {
      const list = users.get(dg);
      if (list === undefined) users.set(dg, [r.name]);
      else list.push(r.name);
    }
  }
  return users;
}

/**
 * For each blob of `image`, the OTHER records that reference it too (sorted; empty when the
 * blob is the image's alone). Deleting `image` (rmi) frees exactly the blobs with no others.
 */
export function sharedBlobs(
  image: ImageRecord,
  records: readonly ImageRecord[],
): Map<string, string[]> {
  const users = blobUsers(records);
  const out = new Map<string, string[]>();
  for (const dg of image.blobs) {
    out.set(
      dg,
      (users.get(dg) ?? []).filter((n) => n !== image.name),
    );
  }
  return out;
}

export interface ImageQueryResult {
  /** How the query matched: a record's name, or a (prefix of a) manifest or index digest. */
  readonly by: "name" | "digest";
  /** The matching records (by name: one; by digest: every name of that one image, sorted). */
  readonly records: readonly ImageRecord[];
}

const HEX_PREFIX = /^(?:(sha256|sha512):)?([0-9a-f]+)$/;

/**
 * Finds image records the way `docker image inspect` finds an image: first by reference (any
 * form `normalizeImageName` accepts: `alpine` → `docker.io/library/alpine:latest`), then by
 * ID: a full digest or a prefix of one, with or without `sha256:`, matched against each
 * record's manifest digest and index digest (moby daemon/images/image.go GetImage: a
 * reference first, then the ID prefix search). A prefix that matches two different images is
 * ambiguous (INPUT_INVALID); records that share one image (tags of the same digest) are all
 * returned. Undefined when nothing matches. A bare hex prefix is only tried when it is not a
 * stored name, so a repository named `abc123` still wins over an ID starting with abc123.
 */
export function findImageRecords(
  records: readonly ImageRecord[],
  query: string,
): ImageQueryResult | undefined {
  let name: string | undefined;
  try {
    name = normalizeImageName(query);
  } catch {
    name = undefined; // not a reference (a bare digest such as sha256:…): try it as an ID
  }
  if (name !== undefined) {
    const r = records.find((x) => x.name === name);
    if (r !== undefined) return { by: "name", records: [r] };
  }
  const m = HEX_PREFIX.exec(query);
  if (m === null) return undefined;
  const alg = m[1];
  const hex = m[2] ?? "";
  const matches = (d: string | undefined): boolean => {
    if (d === undefined) return false;
    const i = d.indexOf(":");
    return (alg === undefined || d.slice(0, i) === alg) && d.slice(i + 1).startsWith(hex);
  };
  const hits = records.filter((r) => matches(r.manifestDigest) || matches(r.indexDigest));
  if (hits.length === 0) return undefined;
  const images = new Set(hits.map((r) => r.target.digest));
  if (images.size > 1) {
    throw new KimgError(
      "INPUT_INVALID",
      `${query}: ambiguous: matches ${images.size} images (${[...images].sort().join(", ")})`,
    );
  }
  return {
    by: "digest",
    records: [...hits].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
  };
}

/**
 * A committed blob's bytes, verified against its digest while read, refusing more than
 * `maxBytes` (MANIFEST_TOO_LARGE, "rejecting N byte <what>", as the puller says) before
 * reading anything. For manifests and configs: small by construction, bounded here.
 * @throws KimgError BLOB_NOT_FOUND, MANIFEST_TOO_LARGE, DIGEST_MISMATCH
 */
export async function readBlobBounded(
  store: BlobReader,
  digest: string,
  maxBytes: number,
  what: string,
): Promise<Buffer> {
  const info = await store.stat(digest);
  if (info === undefined) {
    throw new KimgError("BLOB_NOT_FOUND", `${what} ${digest}: not in the store`);
  }
  if (info.size > maxBytes) {
    throw new KimgError(
      "MANIFEST_TOO_LARGE",
      `${what} ${digest}: rejecting ${info.size} byte ${what}`,
    );
  }
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of await store.open(digest, { verify: true })) {
    const b = c as Buffer;
    n += b.byteLength;
    if (n > maxBytes) {
      throw new KimgError("MANIFEST_TOO_LARGE", `${what} ${digest}: rejecting ${n} byte ${what}`);
    }
    chunks.push(b);
  }
  return Buffer.concat(chunks);
}

/** A partial download under `ingest/`. */
export interface IngestInfo {
  /** The blob's digest, or the directory's name when it names no digest. */
  readonly digest: string;
  /** Bytes of partial data on disk. */
  readonly bytes: number;
  /** The blob's full size, when the sidecar says. */
  readonly size?: number;
  /** Last write (the later of the data's mtime and the sidecar's updatedAt), ms since epoch. */
  readonly touchedMs?: number;
  /**
   * Would fsck remove it (ignoring live writers, which keep it touched)? The blob is already
   * committed, there is no data or no usable sidecar, or it is older than `ingestMaxAgeMs`.
   */
  readonly stale: boolean;
}

/**
 * The partial downloads of the store at `root`, with their sizes, and whether fsck's
 * cleanIngests step would remove them by the same rules (fsck.ts). Reads only.
 */
export async function listIngests(
  root: string,
  opts: Pick<ResolvedStoreOptions, "ingestMaxAgeMs" | "now">,
): Promise<IngestInfo[]> {
  const layout = storeLayout(root);
  let names: string[];
  try {
    names = (await readdir(layout.ingestRoot)).sort();
  } catch (e) {
    if (errnoCode(e) === "ENOENT") return [];
    throw e;
  }
  const mtime = async (p: string): Promise<{ ms: number; size: number } | undefined> => {
    try {
      const st = await stat(p);
      return { ms: st.mtimeMs, size: st.size };
    } catch {
      return undefined;
    }
  };
  const out: IngestInfo[] = [];
  for (const n of names) {
    const dir = join(layout.ingestRoot, n);
    const d = digestOfKey(n);
    const data = await mtime(join(dir, DATA_FILE));
    if (d === undefined) {
      out.push({ digest: n, bytes: data?.size ?? 0, stale: true });
      continue;
    }
    const committed = await mtime(layout.blobPath(d));
    const status = await readIngestStatus(dir, { digest: d.digest });
    const touchedMs =
      data === undefined ? undefined : Math.max(data.ms, Date.parse(status?.updatedAt ?? "") || 0);
    const stale =
      committed !== undefined ||
      data === undefined ||
      status === undefined ||
      opts.now() - (touchedMs ?? 0) > opts.ingestMaxAgeMs;
    out.push({
      digest: d.digest,
      bytes: data?.size ?? 0,
      ...(status !== undefined ? { size: status.size } : {}),
      ...(touchedMs !== undefined ? { touchedMs } : {}),
      stale,
    });
  }
  return out;
}
