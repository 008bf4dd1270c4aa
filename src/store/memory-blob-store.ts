// MemoryBlobStore: the BlobStore contract (types.ts) in memory — a real implementation for
// tests and for callers that want a pull without a disk (design-models.md §6.3: interfaces for
// stores, with real in-memory doubles). It passes the same contract suite as FsBlobStore
// (test/store/contract.ts): visible only after a verified commit, one writer per digest (a
// second waits and then sees the blob), resumable partial data, SIZE_MISMATCH at once on
// oversize, DIGEST_MISMATCH deletes the data. Nothing survives the process, so there is no
// crash safety to have; memory is bounded by what is stored.

import { Readable } from "node:stream";
import { KimgError } from "../errors.ts";
import { checkSize, type ParsedDigest, parseBlobDigest } from "./layout.ts";
import type {
  BlobDescriptor,
  BlobInfo,
  BlobStore,
  BlobValidator,
  BlobWriter,
  IngestOptions,
  IngestResume,
  OpenBlobOptions,
} from "./types.ts";
import { mismatchError, newHash } from "./verify.ts";

interface Partial {
  chunks: Buffer[];
  offset: number;
  validator: BlobValidator | undefined;
}

export class MemoryBlobStore implements BlobStore {
  readonly #blobs = new Map<string, { data: Buffer; committedAt: Date }>();
  readonly #partials = new Map<string, Partial>();
  /** Digest → the promise the current writer resolves when it ends. */
  readonly #writers = new Map<string, Promise<void>>();
  readonly #now: () => number;

  constructor(opts: { readonly now?: (() => number) | undefined } = {}) {
    this.#now = opts.now ?? Date.now;
  }

  async stat(digest: string): Promise<BlobInfo | undefined> {
    parseBlobDigest(digest);
    const b = this.#blobs.get(digest);
    return b === undefined
      ? undefined
      : { digest, size: b.data.byteLength, committedAt: b.committedAt };
  }

  async open(digest: string, opts: OpenBlobOptions = {}): Promise<Readable> {
    const d = parseBlobDigest(digest);
    const b = this.#blobs.get(digest);
    if (b === undefined)
      throw new KimgError("BLOB_NOT_FOUND", `blob ${digest} is not in the store`);
    if (opts.verify === true) {
      const actual = `${d.algorithm}:${newHash(d.algorithm).update(b.data).digest("hex")}`;
      if (actual !== digest) throw mismatchError(`blob ${digest}`, digest, actual);
    }
    return Readable.from([b.data.subarray(opts.start ?? 0)]);
  }

  async checkBlob(digest: string): Promise<string | undefined> {
    const d = parseBlobDigest(digest);
    const b = this.#blobs.get(digest);
    if (b === undefined) return "not in the store";
    const actual = `${d.algorithm}:${newHash(d.algorithm).update(b.data).digest("hex")}`;
    return actual === digest
      ? undefined
      : `content has digest ${actual} (${b.data.byteLength} bytes)`;
  }

  /** A logical path (`memory:/blobs/<algorithm>/<hex>`): nothing is on disk. */
  path(digest: string): string {
    const d = parseBlobDigest(digest);
    return `memory:/blobs/${d.algorithm}/${d.hex}`;
  }

  async ingest(expected: BlobDescriptor, opts: IngestOptions = {}): Promise<BlobWriter> {
    const d = parseBlobDigest(expected.digest);
    checkSize(expected.size, `ingest ${expected.digest}`);
    // One writer per digest: a later one waits for the first to end, then looks again.
    let told = false;
    for (;;) {
      const busy = this.#writers.get(d.digest);
      if (busy === undefined) break;
      if (!told) {
        told = true;
        opts.onWait?.({ digest: d.digest, holder: "this process" });
      }
      await waitOrAbort(busy, opts.signal);
    }
    if (this.#blobs.has(d.digest)) {
      return new MemoryWriter(this, d, expected.size, "exists", undefined, () => {});
    }
    let release = (): void => {};
    this.#writers.set(
      d.digest,
      new Promise<void>((r) => {
        release = r;
      }),
    );
    const p = this.#partials.get(d.digest);
    const resume: IngestResume = p === undefined || p.offset === 0 ? "new" : "resumed";
    return new MemoryWriter(this, d, expected.size, resume, p, () => {
      this.#writers.delete(d.digest);
      release();
    });
  }

  async *list(): AsyncIterable<BlobInfo> {
    for (const [digest, b] of this.#blobs) {
      yield { digest, size: b.data.byteLength, committedAt: b.committedAt };
    }
  }

  async delete(digest: string): Promise<boolean> {
    parseBlobDigest(digest);
    return this.#blobs.delete(digest);
  }

  /** @internal the writer's way in. */
  _commit(digest: string, data: Buffer): void {
    this.#blobs.set(digest, { data, committedAt: new Date(this.#now()) });
    this.#partials.delete(digest);
  }
  /** @internal */
  _keep(digest: string, p: Partial | undefined): void {
    if (p === undefined) this.#partials.delete(digest);
    else this.#partials.set(digest, p);
  }
}

async function waitOrAbort(p: Promise<void>, signal: AbortSignal | undefined): Promise<void> {
  if (signal === undefined) return p;
  if (signal.aborted) throw new KimgError("ABORTED", "store: operation aborted");
  await new Promise<void>((resolve, reject) => {
    const onAbort = () => reject(new KimgError("ABORTED", "store: operation aborted"));
    signal.addEventListener("abort", onAbort, { once: true });
    p.then(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    });
  });
}

class MemoryWriter implements BlobWriter {
  readonly digest: string;
  readonly size: number;
  readonly resume: IngestResume;
  #state: "open" | "committed" | "closed" | "aborted";
  #chunks: Buffer[];
  #offset: number;
  #validator: BlobValidator | undefined;
  readonly #store: MemoryBlobStore;
  readonly #parsed: ParsedDigest;
  readonly #end: () => void;

  constructor(
    store: MemoryBlobStore,
    parsed: ParsedDigest,
    size: number,
    resume: IngestResume,
    partial: Partial | undefined,
    end: () => void,
  ) {
    this.#store = store;
    this.#parsed = parsed;
    this.digest = parsed.digest;
    this.size = size;
    this.resume = resume;
    this.#end = end;
    this.#state = resume === "exists" ? "committed" : "open";
    this.#chunks = partial?.chunks ?? [];
    this.#offset = resume === "exists" ? size : (partial?.offset ?? 0);
    this.#validator = partial?.validator;
  }

  get offset(): number {
    return this.#offset;
  }
  get committed(): boolean {
    return this.#state === "committed";
  }
  get validator(): BlobValidator | undefined {
    return this.#validator;
  }

  #assertOpen(op: string): void {
    if (this.#state !== "open") {
      throw new KimgError(
        "WRITER_CLOSED",
        `ingest ${this.digest}: cannot ${op}: writer is ${this.#state}`,
      );
    }
  }

  #finish(state: "committed" | "closed" | "aborted", keep: boolean): void {
    this.#store._keep(
      this.digest,
      keep && this.#offset > 0
        ? { chunks: this.#chunks, offset: this.#offset, validator: this.#validator }
        : undefined,
    );
    this.#state = state;
    this.#end();
  }

  async setValidator(v: BlobValidator | undefined): Promise<void> {
    this.#assertOpen("set validator");
    this.#validator = v;
  }

  async write(chunk: Uint8Array): Promise<void> {
    this.#assertOpen("write");
    if (this.#offset + chunk.byteLength > this.size) {
      const got = this.#offset + chunk.byteLength;
      this.#finish("aborted", false);
      throw new KimgError(
        "SIZE_MISMATCH",
        `ingest ${this.digest}: more than the expected ${this.size} bytes (got ${got}); partial data deleted`,
      );
    }
    this.#chunks.push(Buffer.from(chunk));
    this.#offset += chunk.byteLength;
  }

  async reset(): Promise<void> {
    this.#assertOpen("reset");
    this.#chunks = [];
    this.#offset = 0;
    this.#validator = undefined;
  }

  async commit(): Promise<void> {
    if (this.#state === "committed") return;
    this.#assertOpen("commit");
    if (this.#offset < this.size) {
      const got = this.#offset;
      this.#finish("closed", true);
      throw new KimgError(
        "SIZE_MISMATCH",
        `ingest ${this.digest}: got ${got} bytes, expected ${this.size}; partial data kept for resume`,
      );
    }
    const data = Buffer.concat(this.#chunks);
    const actual = `${this.#parsed.algorithm}:${newHash(this.#parsed.algorithm).update(data).digest("hex")}`;
    if (actual !== this.digest) {
      this.#finish("aborted", false);
      throw mismatchError(`ingest ${this.digest} (data deleted)`, this.digest, actual);
    }
    this.#store._commit(this.digest, data);
    this.#state = "committed";
    this.#end();
  }

  async close(): Promise<void> {
    if (this.#state !== "open") return;
    this.#finish("closed", true);
  }

  async abort(): Promise<void> {
    if (this.#state !== "open") return;
    this.#finish("aborted", false);
  }
}
