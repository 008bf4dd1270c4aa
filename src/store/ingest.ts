// One blob write transaction: `ingest/<alg>-<hex>/data` plus its `status.json` sidecar, under
// the digest's lock (lock.ts). Follows containerd's local store (plugins/content/local/
// store.go `writer`, `resumeStatus`; writer.go `Write`, `Commit`, `Close`):
//
// - Stream → hash → file, one pass: each chunk is written at `offset` and fed to the hash.
// - Resume: Node cannot serialise a sha256 state (containerd cannot either: "TODO: slow slow
//   slow!!, send to goroutine or use resumable hashes"), so opening a partial ingest re-hashes
//   the bytes on disk from 0 and continues at the file's length. While re-hashing it checks
//   the last checkpoint: every `checkpointBytes` the writer records the prefix digest
//   (hash.copy()) in status.json; a partial whose prefix no longer hashes to that is corrupt
//   and is discarded, not resumed (containerd #3974: a corrupt partial was resumed and failed
//   every retry). Bytes after the checkpoint are kept: a kill -9 loses nothing in the page
//   cache, and the final digest check catches anything else.
// - Durability: intermediate checkpoints wait for no fsync (the status file is replaced by
//   rename, not synced; each one starts an fdatasync of the data on the thread pool and goes
//   on, so the disk writes back during the download and the commit's fsync has only the tail
//   left, docs/performance.md "Issue 13"). Resume never trusts them blindly: it re-hashes the
//   prefix, so after a power loss a checkpoint whose data did not reach the disk (a shorter file, zeroed blocks) or a
//   torn status.json only costs the partial (restart from 0), never a wrong blob. containerd
//   does not fsync partial data either (writer.go `Write`; `Commit` syncs); skopeo syncs a blob
//   once, when it is complete. An 8 × 64 MiB pull went from 218 fsyncs to 30 (docs/
//   performance.md "Pulling"). A writer closed for a later resume (`close()`) does fsync data
//   and status: that is the partial a retry after a reboot can keep.
// - Writes: `fs.writeSync` at the offset. The page cache absorbs a chunk in microseconds; an
//   awaited FileHandle.write made a thread-pool round trip per 16–64 KiB chunk (4,254 for
//   512 MiB); on 2 cores that cost 1–1.4 s of the main thread in a profile, writeSync 0.37 s.
// - Commit: size, then digest ("reduce collision space", registry.md §6) → fsync → rename
//   into blobs/ → fsync the directory → chmod read-only (containerd: `&^0333`) → remove the
//   ingest → release the lock. Too many bytes or a wrong digest deletes the data at once; too
//   few keeps it for a resume.
//
// A kill -9 at any point leaves either no blob (the ingest stays, resumable or discarded on
// the next open; its lock is broken because the pid is dead) or a complete verified blob
// (rename is atomic and happens after the data is fsynced).

import type { Hash } from "node:crypto";
import { fdatasync, constants as fsConstants, writeSync } from "node:fs";
import type { FileHandle } from "node:fs/promises";
import { chmod, mkdir, open, rename, rm, rmdir, unlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import * as v from "valibot";
import { KimgError } from "../errors.ts";
import { fsyncDirShared, readJsonFile, uniqueName, writeFileAtomic } from "./atomic-file.ts";
import type { ResolvedStoreOptions } from "./defaults.ts";
import type { ParsedDigest, StoreLayout } from "./layout.ts";
import type { HeldLock } from "./lock.ts";
import type { BlobDescriptor, BlobValidator, BlobWriter, IngestResume } from "./types.ts";
import { mismatchError, newHash, readPrefix } from "./verify.ts";

/** status.json: what a resumed writer needs beyond the data file itself. */
export interface IngestStatus {
  readonly version: 1;
  readonly digest: string;
  readonly size: number;
  readonly mediaType?: string;
  readonly validator?: BlobValidator;
  /** ISO 8601. */
  readonly startedAt: string;
  readonly updatedAt: string;
  /** `offset` bytes of data are durable and hash (as a prefix) to `digest`. */
  readonly checkpoint: { readonly offset: number; readonly digest: string };
}

export const DATA_FILE = "data";
export const STATUS_FILE = "status.json";

// status.json as read back: valibot checks the shape (issue 11); the digest, size and offset
// rules below are the ones a resume depends on.
const Size = v.pipe(v.number(), v.safeInteger(), v.minValue(0));
const StatusSchema = v.object({
  version: v.literal(1),
  digest: v.string(),
  size: Size,
  mediaType: v.exactOptional(v.string()),
  // A validator of the wrong shape is dropped, not fatal: it only lets a resume use If-Range.
  validator: v.exactOptional(
    v.fallback(
      v.object({ etag: v.exactOptional(v.string()), lastModified: v.exactOptional(v.string()) }),
      {},
    ),
  ),
  startedAt: v.string(),
  updatedAt: v.string(),
  checkpoint: v.object({ offset: Size, digest: v.string() }),
});

/**
 * The sidecar if it is well formed and for this digest (and this size, when given); else
 * undefined.
 */
export async function readIngestStatus(
  dir: string,
  expected: { readonly digest: string; readonly size?: number },
): Promise<IngestStatus | undefined> {
  let x: unknown;
  try {
    x = await readJsonFile(join(dir, STATUS_FILE));
  } catch {
    return undefined; // unparsable: treated like a missing sidecar
  }
  const r = v.safeParse(StatusSchema, x);
  if (!r.success) return undefined;
  const st = r.output;
  if (st.digest !== expected.digest) return undefined;
  if (expected.size !== undefined && st.size !== expected.size) return undefined;
  if (st.checkpoint.offset > st.size) return undefined;
  return st;
}

export interface WriterContext {
  readonly layout: StoreLayout;
  readonly options: ResolvedStoreOptions;
  readonly parsed: ParsedDigest;
  readonly expected: BlobDescriptor;
  /** Held by the caller; the writer releases it when it ends. */
  readonly lock: HeldLock;
  /** Called once, after the lock is released. */
  readonly onEnd: () => void;
}

type State = "open" | "committed" | "closed" | "aborted";

/**
 * Opens (creating or resuming) the ingest of `ctx.expected`. The caller holds the digest's
 * lock and has checked that the blob is not committed yet.
 */
export async function openIngest(ctx: WriterContext, signal?: AbortSignal): Promise<FsBlobWriter> {
  const { layout, parsed, expected, options } = ctx;
  const dir = layout.ingestDir(parsed);
  await mkdir(dir, { recursive: true });
  const dataPath = join(dir, DATA_FILE);
  // O_RDWR|O_CREAT without O_APPEND: writes go to explicit positions (pwrite).
  const fh = await open(dataPath, fsConstants.O_RDWR | fsConstants.O_CREAT, 0o644);
  try {
    const length = (await fh.stat()).size;
    // The sidecar matters only when there is data to resume (one file read less per new blob).
    const status = length > 0 ? await readIngestStatus(dir, expected) : undefined;
    let hash = newHash(parsed.algorithm);
    let resume: IngestResume = "new";
    let offset = 0;
    if (length > 0) {
      resume = "restarted";
      if (status !== undefined && length <= expected.size && status.checkpoint.offset <= length) {
        const ok = await rehash(dataPath, length, status.checkpoint, hash, ctx, signal);
        if (ok) {
          resume = "resumed";
          offset = length;
        } else {
          hash = newHash(parsed.algorithm);
        }
      }
      if (resume === "restarted") await fh.truncate(0);
    }
    const now = new Date(options.now()).toISOString();
    const fresh = resume !== "resumed" || status === undefined;
    const base: IngestStatus = fresh
      ? {
          version: 1,
          digest: expected.digest,
          size: expected.size,
          ...(expected.mediaType !== undefined ? { mediaType: expected.mediaType } : {}),
          startedAt: now,
          updatedAt: now,
          checkpoint: { offset: 0, digest: emptyDigest(parsed) },
        }
      : status;
    const w = new FsBlobWriter(ctx, fh, hash, offset, resume, base);
    // Now, before the caller sends its request: written lazily at the first chunk instead, a
    // kill between the response's arrival and that write left no resumable partial
    // (test/pull/concurrent.test.ts (c) failed in 2 of 4 runs).
    if (fresh) await w.persistStatus();
    return w;
  } catch (e) {
    await fh.close().catch(() => {});
    throw e;
  }
}

function emptyDigest(parsed: ParsedDigest): string {
  return `${parsed.algorithm}:${newHash(parsed.algorithm).digest("hex")}`;
}

/** Re-hashes `length` bytes into `hash`, checking the checkpoint's prefix digest on the way. */
async function rehash(
  path: string,
  length: number,
  checkpoint: IngestStatus["checkpoint"],
  hash: Hash,
  ctx: WriterContext,
  signal: AbortSignal | undefined,
): Promise<boolean> {
  let pos = 0;
  let prefixOk = checkpoint.offset === 0 && checkpoint.digest === emptyDigest(ctx.parsed);
  await readPrefix(
    path,
    length,
    ctx.options.readChunkBytes,
    (chunk) => {
      const end = pos + chunk.byteLength;
      if (pos < checkpoint.offset && end >= checkpoint.offset) {
        const cut = checkpoint.offset - pos;
        hash.update(chunk.subarray(0, cut));
        prefixOk = `${ctx.parsed.algorithm}:${hash.copy().digest("hex")}` === checkpoint.digest;
        hash.update(chunk.subarray(cut));
      } else {
        hash.update(chunk);
      }
      pos = end;
    },
    signal,
  );
  return prefixOk && pos === length;
}

/** A writer on a partial ingest. Created by openIngest; see BlobWriter for the contract. */
export class FsBlobWriter implements BlobWriter {
  readonly digest: string;
  readonly size: number;
  readonly #ctx: WriterContext;
  readonly #fh: FileHandle;
  #hash: Hash;
  #offset: number;
  #resume: IngestResume;
  #status: IngestStatus;
  #state: State = "open";
  #sinceCheckpoint = 0;
  #queue: Promise<unknown> = Promise.resolve();
  /** A background fdatasync of what is written so far, or undefined (see #flushEarly). */
  #flushing: Promise<void> | undefined;
  #flushError: NodeJS.ErrnoException | undefined;

  constructor(
    ctx: WriterContext,
    fh: FileHandle,
    hash: Hash,
    offset: number,
    resume: IngestResume,
    status: IngestStatus,
  ) {
    this.#ctx = ctx;
    this.digest = ctx.expected.digest;
    this.size = ctx.expected.size;
    this.#fh = fh;
    this.#hash = hash;
    this.#offset = offset;
    this.#resume = resume;
    this.#status = status;
  }

  get offset(): number {
    return this.#offset;
  }
  get resume(): IngestResume {
    return this.#resume;
  }
  get committed(): boolean {
    return this.#state === "committed";
  }
  get validator(): BlobValidator | undefined {
    return this.#status.validator;
  }

  #what(): string {
    return `ingest ${this.digest}`;
  }

  /** Runs `fn` after every earlier call: writes, checkpoints and commit never interleave. */
  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.#queue.then(fn);
    this.#queue = p.catch(() => {});
    return p;
  }

  #assertOpen(op: string): void {
    if (this.#state !== "open") {
      throw new KimgError(
        "WRITER_CLOSED",
        `${this.#what()}: cannot ${op}: writer is ${this.#state}`,
      );
    }
  }

  setValidator(v: BlobValidator | undefined): Promise<void> {
    return this.#serial(async () => {
      this.#assertOpen("set validator");
      const { validator: _old, ...rest } = this.#status;
      this.#status = v === undefined ? rest : { ...rest, validator: v };
      await this.persistStatus();
    });
  }

  write(chunk: Uint8Array): Promise<void> {
    return this.#serial(async () => {
      this.#assertOpen("write");
      const n = chunk.byteLength;
      if (this.#offset + n > this.size) {
        await this.#discard();
        throw new KimgError(
          "SIZE_MISMATCH",
          `${this.#what()}: more than the expected ${this.size} bytes (got ${this.#offset + n}); partial data deleted`,
        );
      }
      let done = 0;
      while (done < n) {
        done += writeSync(this.#fh.fd, chunk, done, n - done, this.#offset + done);
      }
      this.#hash.update(chunk);
      this.#offset += n;
      this.#sinceCheckpoint += n;
      if (this.#sinceCheckpoint >= this.#ctx.options.checkpointBytes) {
        this.#flushEarly();
        await this.#checkpoint();
      }
    });
  }

  reset(): Promise<void> {
    return this.#serial(async () => {
      this.#assertOpen("reset");
      // The bytes are dropped: a failed flush of them no longer matters.
      await this.#flushed().catch(() => {});
      this.#flushError = undefined;
      await this.#fh.truncate(0);
      this.#hash = newHash(this.#ctx.parsed.algorithm);
      this.#offset = 0;
      this.#sinceCheckpoint = 0;
      this.#resume = "restarted";
      const { validator: _old, ...rest } = this.#status;
      this.#status = { ...rest, checkpoint: { offset: 0, digest: emptyDigest(this.#ctx.parsed) } };
      await this.persistStatus();
    });
  }

  commit(): Promise<void> {
    return this.#serial(async () => {
      if (this.#state === "committed") return;
      this.#assertOpen("commit");
      if (this.#offset < this.size) {
        await this.#checkpoint(true);
        await this.#end("closed");
        throw new KimgError(
          "SIZE_MISMATCH",
          `${this.#what()}: got ${this.#offset} bytes, expected ${this.size}; partial data kept for resume`,
        );
      }
      await this.#flushedOrDiscard();
      await this.#fh.sync();
      const actual = `${this.#ctx.parsed.algorithm}:${this.#hash.digest("hex")}`;
      if (actual !== this.digest) {
        await this.#discard();
        throw mismatchError(`${this.#what()} (data deleted)`, this.digest, actual);
      }
      const { layout, parsed, options } = this.#ctx;
      const now = new Date(options.now());
      await this.#fh.utimes(now, now); // mtime = commit time (containerd: os.Chtimes)
      await this.#fh.close();
      const dir = layout.ingestDir(parsed);
      const blobDir = layout.blobDir(parsed.algorithm);
      const target = layout.blobPath(parsed);
      try {
        // rename(2) replaces atomically: a reader sees no file or the whole verified one. If a
        // foreign tool (ggcr writes in place) left a file there, ours is verified and wins.
        // blobs/<alg>/ exists after the first blob: create it only when the rename says so.
        await rename(join(dir, DATA_FILE), target).catch(async (e: NodeJS.ErrnoException) => {
          if (e.code !== "ENOENT") throw e;
          await mkdir(blobDir, { recursive: true });
          await rename(join(dir, DATA_FILE), target);
        });
        // Shared with the other commits of this process in flight (group commit).
        await fsyncDirShared(blobDir);
      } catch (e) {
        // Verified data stays in the ingest: the next writer re-hashes it and commits at once.
        this.#state = "closed";
        await this.#release();
        throw e;
      }
      this.#state = "committed";
      // Read-only after the rename, as containerd does (`&^0333`): a kill -9 before it leaves
      // a writable blob (harmless), never a read-only ingest file the next writer cannot open.
      await chmod(target, 0o444).catch(() => {});
      // The ingest holds status.json at most: unlink + rmdir (rm -r would try rmdir, list the
      // directory, unlink, rmdir again); anything else there falls back to rm -r.
      await unlink(join(dir, STATUS_FILE)).catch(() => {});
      await rmdir(dir).catch(() => rm(dir, { recursive: true, force: true }).catch(() => {}));
      await this.#release();
    });
  }

  close(): Promise<void> {
    return this.#serial(async () => {
      if (this.#state !== "open") return;
      await this.#checkpoint(true);
      await this.#end("closed");
    });
  }

  abort(): Promise<void> {
    return this.#serial(async () => {
      if (this.#state !== "open") return;
      await this.#discard();
    });
  }

  /**
   * Starts an fdatasync of the bytes written so far on the thread pool, unless one is still
   * running, and does not wait for it: the disk writes back while the next bytes arrive, so
   * the fsync at commit has only the tail left to flush. (Linux's sync_file_range would
   * start writeback without waiting; Node has no binding for it.) Awaited before anything
   * closes, truncates or commits the file.
   */
  #flushEarly(): void {
    if (this.#flushing !== undefined) return;
    const p = new Promise<void>((resolve) => {
      fdatasync(this.#fh.fd, (err) => {
        // Kept, not dropped: Linux reports a writeback error to a file description once, so
        // the commit's own fsync would not see it again (lib/errseq.c, Linux 4.13 and later).
        if (err !== null && this.#flushError === undefined) this.#flushError = err;
        resolve();
      });
    });
    this.#flushing = p;
    void p.then(() => {
      if (this.#flushing === p) this.#flushing = undefined;
    });
  }

  /** #flushed, and a failed flush deletes the partial: the disk may not hold its bytes. */
  async #flushedOrDiscard(): Promise<void> {
    try {
      await this.#flushed();
    } catch (e) {
      await this.#discard();
      throw e;
    }
  }

  /** Waits for the background flush; throws its error, if it had one. */
  async #flushed(): Promise<void> {
    while (this.#flushing !== undefined) await this.#flushing;
    if (this.#flushError !== undefined) throw this.#flushError;
  }

  /**
   * Replaces status.json by rename: a reader sees the old or the new one. `durable` also
   * fsyncs it and its directory (writeFileAtomic); otherwise a power loss may leave an old,
   * empty or missing sidecar, which resume treats as "no checkpoint" (see the file comment).
   */
  async persistStatus(durable = false): Promise<void> {
    const { layout, parsed, options } = this.#ctx;
    this.#status = { ...this.#status, updatedAt: new Date(options.now()).toISOString() };
    const target = join(layout.ingestDir(parsed), STATUS_FILE);
    const text = `${JSON.stringify(this.#status)}\n`;
    if (durable) {
      await writeFileAtomic(layout.tmp, target, text);
      return;
    }
    const tmp = join(layout.tmp, uniqueName(STATUS_FILE));
    try {
      await writeFile(tmp, text, { flag: "wx", mode: 0o644 });
      await rename(tmp, target);
    } catch (e) {
      await rm(tmp, { force: true });
      throw e;
    }
  }

  /**
   * Records (offset, prefix digest). `durable` (a writer closed for a later resume) fsyncs the
   * data first, so the sidecar never claims bytes the disk may not have; an intermediate
   * checkpoint does not (resume re-hashes the prefix, see the file comment).
   */
  async #checkpoint(durable = false): Promise<void> {
    if (durable) {
      await this.#flushedOrDiscard();
      await this.#fh.sync();
    }
    this.#status = {
      ...this.#status,
      checkpoint: {
        offset: this.#offset,
        digest: `${this.#ctx.parsed.algorithm}:${this.#hash.copy().digest("hex")}`,
      },
    };
    this.#sinceCheckpoint = 0;
    await this.persistStatus(durable);
  }

  async #discard(): Promise<void> {
    await this.#flushed().catch(() => {});
    await this.#fh.close().catch(() => {});
    await rm(this.#ctx.layout.ingestDir(this.#ctx.parsed), { recursive: true, force: true });
    this.#state = "aborted";
    await this.#release();
  }

  async #end(state: State): Promise<void> {
    await this.#flushed().catch(() => {});
    await this.#fh.close().catch(() => {});
    this.#state = state;
    await this.#release();
  }

  async #release(): Promise<void> {
    try {
      await this.#ctx.lock.release();
    } finally {
      this.#ctx.onEnd();
    }
  }
}

/** The writer for a blob that is already committed: nothing to write, commit is a no-op. */
export function committedWriter(expected: BlobDescriptor): BlobWriter {
  const closed = (op: string) =>
    Promise.reject(
      new KimgError("WRITER_CLOSED", `ingest ${expected.digest}: cannot ${op}: already committed`),
    );
  return Object.freeze({
    digest: expected.digest,
    size: expected.size,
    offset: expected.size,
    resume: "exists" as const,
    committed: true,
    validator: undefined,
    setValidator: async () => {},
    write: () => closed("write"),
    reset: () => closed("reset"),
    commit: async () => {},
    close: async () => {},
    abort: async () => {},
  });
}
