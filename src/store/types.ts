// The store's contracts, split by capability like containerd's content.Store
// (core/content/content.go: Provider, Ingester, Manager; design-models.md §2.2, §6.3). A
// function that only reads blobs asks for a BlobReader, the puller for a BlobIngester, gc for a
// BlobManager. "Until ingestion is complete, its content is not visible through Provider or
// Manager" holds here too: a blob appears under its digest only after commit verified it.

import type { Readable } from "node:stream";

/**
 * What the store needs to know about a blob before it arrives: its digest (sha256 or sha512)
 * and exact size. An OCI descriptor fits; `mediaType` is only kept for `list`/fsck reports.
 */
export interface BlobDescriptor {
  readonly digest: string;
  readonly size: number;
  readonly mediaType?: string;
}

/** A committed blob. */
export interface BlobInfo {
  readonly digest: string;
  readonly size: number;
  /** When it was committed, or last reused by an ingest (file mtime, like containerd's). */
  readonly committedAt: Date;
}

export interface OpenBlobOptions {
  /** First byte to read (for Range requests and resumed copies). Default 0. */
  readonly start?: number | undefined;
  /**
   * Hash while reading and fail the stream with DIGEST_MISMATCH / SIZE_MISMATCH at the end if
   * the file no longer matches its name (bit rot, tampering). Only with `start` 0.
   */
  readonly verify?: boolean | undefined;
}

export interface BlobReader {
  /** The committed blob's info, or undefined when the store does not have it. */
  stat(digest: string): Promise<BlobInfo | undefined>;
  /** A stream of the blob's bytes. Throws BLOB_NOT_FOUND when absent. */
  open(digest: string, opts?: OpenBlobOptions): Promise<Readable>;
  /** Where the blob is (or would be) on disk, for tools that want a path (tar, umoci). */
  path(digest: string): string;
  /**
   * Re-hashes the stored blob: why it is not what its name says ("not in the store",
   * "content has digest …"), or undefined when it hashes to its name.
   */
  checkBlob(digest: string, signal?: AbortSignal): Promise<string | undefined>;
}

/** A resume validator: what the registry said about the body the partial data came from. */
export interface BlobValidator {
  readonly etag?: string;
  readonly lastModified?: string;
}

/** How a writer came to its offset. */
export type IngestResume =
  | "new" // no partial data: starts at 0
  | "resumed" // partial data re-hashed and kept: continue at `offset`
  | "restarted" // partial data found but unusable (corrupt, other size, bad sidecar): discarded
  | "exists"; // the blob is already committed: nothing to write

export interface IngestWaitInfo {
  readonly digest: string;
  /** Who holds the ingest, when known: a process id (and host) or "this process". */
  readonly holder: string;
}

export interface IngestOptions {
  /** Stop waiting for another writer (or re-hashing a partial) with ABORTED. */
  readonly signal?: AbortSignal | undefined;
  /** Called (at most once per wait) when another writer holds this digest and we wait. */
  readonly onWait?: ((info: IngestWaitInfo) => void) | undefined;
}

/**
 * One write transaction for one blob (containerd's content.Writer). The caller streams bytes
 * from `offset` on, then commits. Exactly one writer per digest exists at a time across
 * processes; every writer must end with commit(), close() or abort() (use try/finally),
 * which releases that lock.
 */
export interface BlobWriter {
  readonly digest: string;
  readonly size: number;
  /** Bytes already on disk: send `Range: bytes=<offset>-` (with If-Range: validator). */
  readonly offset: number;
  readonly resume: IngestResume;
  /** True once the blob is committed: from the start when `resume` is "exists". */
  readonly committed: boolean;
  /** Validator recorded for the partial data, if any (send it as If-Range). */
  readonly validator: BlobValidator | undefined;
  /** Records a validator in the sidecar now (call when the response headers arrive). */
  setValidator(v: BlobValidator | undefined): Promise<void>;
  /**
   * Appends bytes at `offset`. More bytes than `size` fails at once with SIZE_MISMATCH and
   * deletes the partial data. Calls are serialised; await each (backpressure).
   */
  write(chunk: Uint8Array): Promise<void>;
  /** Drops the partial data and starts again at 0 (the server ignored Range). */
  reset(): Promise<void>;
  /**
   * Verifies size and digest, fsyncs, renames into `blobs/` and fsyncs the directory. Too few
   * bytes: SIZE_MISMATCH and the partial data is kept for a resume. Wrong digest:
   * DIGEST_MISMATCH and the data is deleted. A no-op when already committed.
   */
  commit(): Promise<void>;
  /** Keeps the partial data for a later resume (checkpointed) and releases the lock. */
  close(): Promise<void>;
  /** Deletes the partial data and releases the lock. */
  abort(): Promise<void>;
}

export interface BlobIngester {
  /**
   * Begins or resumes writing the blob `expected` describes. Same digest → same ingest: a
   * second writer (this process or another) waits until the first one finishes, then sees the
   * blob committed (`resume: "exists"`) or resumes what it left.
   */
  ingest(expected: BlobDescriptor, opts?: IngestOptions): Promise<BlobWriter>;
}

export interface BlobManager {
  /** Every committed blob (sha256 and sha512), in no particular order. */
  list(): AsyncIterable<BlobInfo>;
  /** Removes a blob; false when it was not there. Does not check whether images use it. */
  delete(digest: string): Promise<boolean>;
}

export type BlobStore = BlobReader & BlobIngester & BlobManager;
