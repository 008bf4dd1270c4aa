// The local store: an OCI image layout that kimg writes safely and that skopeo and umoci can
// read, plus kimg's image records. Owns the directory; knows nothing about HTTP or manifests
// (the puller says which blobs an image needs). See layout.ts for the files, ingest.ts for
// the write path, lock.ts for the locking, image-db.ts for the records.
//
// Concurrency: one writer per digest across threads of control and processes. A second
// `ingest` of the same digest waits (in-process: on the first writer's promise; across
// processes: polling the lock file with doubling delays, like containerd's OpenWriter) and
// then returns a writer with `resume: "exists"` (the first committed: nothing to download) or
// resumes the partial data the first left. So identical layers of concurrent pulls are
// downloaded once and stored once. Metadata changes (index.json, kimg.json), prune and fsck
// hold the store lock, so concurrent processes never lose each other's updates.

import { existsSync } from "node:fs";
import { mkdir, open, readdir, readFile, rename, stat, unlink, utimes } from "node:fs/promises";
import { pipeline, type Readable } from "node:stream";
import { isKimgError, KimgError } from "../errors.ts";
import { parseNormalizedNamed, referenceName } from "../ref/index.ts";
import {
  createFileAtomic,
  errnoCode,
  fsyncDir,
  isRecord,
  readJsonFile,
  throwIfAborted,
  writeFileAtomic,
} from "./atomic-file.ts";
import { type ResolvedStoreOptions, resolveStoreOptions, type StoreOptions } from "./defaults.ts";
import { type FsckOptions, type FsckReport, runFsck } from "./fsck.ts";
import {
  CONTAINERD_NAME_ANNOTATION,
  EMPTY_METADATA,
  emptyIndex,
  foreignRoots,
  type ImagePlatform,
  type ImageRecord,
  type IndexDocument,
  mergeRecords,
  normalizeImageName,
  type PutImageInput,
  parseIndex,
  parseMetadata,
  platformOf,
  STORE_VERSION,
  type StoreMetadata,
  serializeMetadata,
  storedManifests,
  syncIndex,
} from "./image-db.ts";
import { committedWriter, openIngest } from "./ingest.ts";
import {
  BLOB_ALGORITHMS,
  checkSize,
  IMAGE_LAYOUT_VERSION,
  INDEX_FILE,
  METADATA_FILE,
  type ParsedDigest,
  parseBlobDigest,
  type StoreLayout,
  storeLayout,
} from "./layout.ts";
import { type Lease, type LeaseFiles, leasedDigests, openLease } from "./leases.ts";
import { acquireLock, type LockOwner, type LockSettings, withLock } from "./lock.ts";
import type {
  BlobDescriptor,
  BlobInfo,
  BlobStore,
  BlobWriter,
  IngestOptions,
  OpenBlobOptions,
} from "./types.ts";
import { createVerifier, hashFile } from "./verify.ts";

export interface PruneOptions {
  /** Keep unreferenced blobs younger than this. Default: the store's `pruneGraceMs`. */
  readonly graceMs?: number | undefined;
  /** Report what would be deleted, delete nothing. */
  readonly dryRun?: boolean | undefined;
}

export interface PruneReport {
  readonly deleted: readonly BlobInfo[];
  readonly freedBytes: number;
  /** Unreferenced but younger than the grace period. */
  readonly keptYoung: number;
}

export interface RemoveImagesReport {
  /** The records removed (names not in the store are skipped). */
  readonly removed: readonly ImageRecord[];
  /** Blobs deleted: those the removed images referenced and nothing else protects. */
  readonly deleted: readonly BlobInfo[];
  readonly freedBytes: number;
}

export interface VerifyOptions {
  /** Only these images (any reference form); default every image and every blob. */
  readonly names?: readonly string[] | undefined;
  /** Delete corrupt blobs, rebuild damaged kimg.json / index.json. */
  readonly repair?: boolean | undefined;
  readonly signal?: AbortSignal | undefined;
}

export interface VerifyProblem {
  readonly kind: "metadata" | "missing-blob" | "corrupt-blob";
  readonly file?: string;
  readonly digest?: string;
  readonly detail: string;
  /** The images it affects. */
  readonly images: readonly string[];
  /** Repaired (or, for a missing blob, left for the next pull to fetch). */
  readonly fixed: boolean;
  /** What the repair did. */
  readonly action?: string;
}

export interface VerifyReport {
  readonly images: number;
  /** Blobs hashed, and their bytes. */
  readonly blobs: number;
  readonly bytes: number;
  readonly problems: readonly VerifyProblem[];
  /** Images to pull again (a blob they need is missing or was deleted as corrupt). */
  readonly pullAgain: readonly string[];
  /** Nothing wrong was found. */
  readonly ok: boolean;
  /** `repair` was asked, something was wrong, and every problem was dealt with. */
  readonly repaired: boolean;
}

/**
 * Blobs and image records: what a pull, an unpack, an export and an inspection need. FsBlobStore
 * is the one on disk; the layers above take this, not the class.
 */
export type LocalStore = BlobStore & ImageStore;

/** The image API (kimg.json + index.json). */
export interface ImageStore {
  putImage(input: PutImageInput): Promise<ImageRecord>;
  getImage(name: string): Promise<ImageRecord | undefined>;
  getPresentImage(name: string): Promise<ImageRecord | undefined>;
  listImages(): Promise<ImageRecord[]>;
  /** Untags: removes the record and its index.json entry; blobs stay until prune. */
  removeImage(name: string): Promise<boolean>;
  /**
   * `kimg rmi`, the CRI's RemoveImage: removes the records, then deletes the blobs they
   * referenced that no other image, foreign index.json entry or live lease needs. Nothing else
   * is deleted: leftovers of other work are prune's business.
   */
  removeImages(names: readonly string[]): Promise<RemoveImagesReport>;
  /** Protects blobs that work in flight will reference (see leases.ts). Release it. */
  lease(): Promise<Lease>;
  markImageUsed(name: string, at?: Date): Promise<boolean>;
  prune(opts?: PruneOptions): Promise<PruneReport>;
}

type Presence = "absent" | "present" | "corrupt";

/** Foreign manifests and indexes larger than this are not walked (image-spec: small JSON). */
const FOREIGN_DOC_MAX_BYTES = 4 * 1024 * 1024;

/**
 * Ingest lock path → settles when this process's writer for it ends. Module-wide, so two
 * FsBlobStore objects on one directory queue on a promise instead of polling the lock file.
 */
const inflight = new Map<string, Promise<void>>();

function describeHolder(owner: LockOwner | undefined): string {
  return owner === undefined ? "unknown" : `pid ${owner.pid} on ${owner.host}`;
}

/** Rejects with ABORTED when `signal` fires before `p` settles. */
function raceAbort<T>(p: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return p;
  throwIfAborted(signal);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => {
      try {
        throwIfAborted(signal);
      } catch (e) {
        reject(e);
      }
    };
    signal.addEventListener("abort", onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

export class FsBlobStore implements BlobStore, ImageStore {
  readonly root: string;
  readonly #layout: StoreLayout;
  readonly #opts: ResolvedStoreOptions;
  readonly #lockSettings: LockSettings;

  private constructor(root: string, opts: ResolvedStoreOptions) {
    this.root = root;
    this.#layout = storeLayout(root);
    this.#opts = opts;
    this.#lockSettings = {
      tmpDir: this.#layout.tmp,
      staleMs: opts.lockStaleMs,
      heartbeatMs: opts.lockHeartbeatMs,
      retryMinMs: opts.lockRetryMinMs,
      retryMaxMs: opts.lockRetryMaxMs,
      // Lock ages are judged against real file mtimes, so never an injected clock: a test
      // clock in the future must not make every live lock look stale.
      now: Date.now,
    };
  }

  /**
   * Opens the store at `root`, creating the layout if needed (`oci-layout`, empty
   * `index.json`, `kimg.json`, directories). Safe to run from many processes at once.
   * @throws KimgError STORE_CORRUPT / STORE_VERSION_UNSUPPORTED
   */
  static async open(root: string, opts?: StoreOptions): Promise<FsBlobStore> {
    const s = new FsBlobStore(root, resolveStoreOptions(opts));
    await s.#init();
    return s;
  }

  /**
   * Opens a store that must already exist, creating nothing: for read-only commands (images,
   * inspect, verify, ui), so a mistyped `--store` is an error rather than a new empty store
   * (issue 10 item 4). A store is a directory with `oci-layout` (image-layout.md: "MUST").
   * @throws KimgError STORE_NOT_FOUND "no store at DIR", STORE_CORRUPT
   */
  static async openExisting(root: string, opts?: StoreOptions): Promise<FsBlobStore> {
    const s = FsBlobStore.openForVerify(root, opts);
    await s.#validate();
    return s;
  }

  /**
   * Opens an existing store without validating kimg.json and index.json: for `kimg verify`,
   * which reports (and with --repair rebuilds) them when they are damaged.
   * @throws KimgError STORE_NOT_FOUND
   */
  static openForVerify(root: string, opts?: StoreOptions): FsBlobStore {
    const s = new FsBlobStore(root, resolveStoreOptions(opts));
    if (!existsSync(s.#layout.ociLayout)) {
      throw new KimgError("STORE_NOT_FOUND", `no store at ${root}`);
    }
    return s;
  }

  async #init(): Promise<void> {
    const l = this.#layout;
    const dirs = [
      l.root,
      l.tmp,
      l.locks,
      l.leases,
      l.ingestRoot,
      ...BLOB_ALGORITHMS.map(l.blobDir),
    ];
    for (const dir of dirs) {
      await mkdir(dir, { recursive: true });
    }
    const layout = await readJsonFile(l.ociLayout);
    if (layout === undefined) {
      await createFileAtomic(
        l.tmp,
        l.ociLayout,
        `${JSON.stringify({ imageLayoutVersion: IMAGE_LAYOUT_VERSION })}\n`,
      );
    }
    if ((await readJsonFile(l.index)) === undefined) {
      await createFileAtomic(l.tmp, l.index, `${JSON.stringify(emptyIndex())}\n`);
    }
    if ((await readJsonFile(l.metadata)) === undefined) {
      await createFileAtomic(l.tmp, l.metadata, serializeMetadata(EMPTY_METADATA));
    }
    await this.#validate();
  }

  /** Checks oci-layout, index.json and kimg.json; missing index/metadata files read as empty. */
  async #validate(): Promise<void> {
    const l = this.#layout;
    const layout = await readJsonFile(l.ociLayout);
    if (
      !isRecord(layout) ||
      typeof layout.imageLayoutVersion !== "string" ||
      !layout.imageLayoutVersion.startsWith("1.")
    ) {
      throw new KimgError("STORE_CORRUPT", `store: ${l.ociLayout}: not an OCI image layout 1.x`);
    }
    const index = await readJsonFile(l.index);
    if (index !== undefined) parseIndex(index, l.index);
    parseMetadata(await readJsonFile(l.metadata));
  }

  // ---- BlobReader -----------------------------------------------------------------------

  path(digest: string): string {
    return this.#layout.blobPath(parseBlobDigest(digest));
  }

  async stat(digest: string): Promise<BlobInfo | undefined> {
    const d = parseBlobDigest(digest);
    try {
      const st = await stat(this.#layout.blobPath(d));
      return { digest, size: st.size, committedAt: st.mtime };
    } catch (e) {
      if (errnoCode(e) === "ENOENT") return undefined;
      throw e;
    }
  }

  async open(digest: string, opts: OpenBlobOptions = {}): Promise<Readable> {
    const d = parseBlobDigest(digest);
    const start = opts.start ?? 0;
    checkSize(start, `open ${digest}`);
    if (opts.verify === true && start !== 0) {
      throw new KimgError("INPUT_INVALID", `open ${digest}: verify needs start 0`);
    }
    let fh: Awaited<ReturnType<typeof open>>;
    try {
      fh = await open(this.#layout.blobPath(d), "r");
    } catch (e) {
      if (errnoCode(e) === "ENOENT") {
        throw new KimgError("BLOB_NOT_FOUND", `open ${digest}: not in the store`, { cause: e });
      }
      throw e;
    }
    const size = (await fh.stat()).size;
    const stream = fh.createReadStream({
      start,
      highWaterMark: this.#opts.readChunkBytes,
      autoClose: true,
    });
    if (opts.verify !== true) return stream;
    const verifier = createVerifier(d, size, `read ${digest}`);
    // pipeline destroys both ends when either fails or the reader stops early.
    pipeline(stream, verifier, () => {});
    return verifier;
  }

  // ---- BlobIngester ---------------------------------------------------------------------

  async ingest(expected: BlobDescriptor, opts: IngestOptions = {}): Promise<BlobWriter> {
    const d = parseBlobDigest(expected.digest);
    checkSize(expected.size, `ingest ${expected.digest}`);
    const key = this.#layout.ingestLock(d);
    let toldLocal = false;
    for (;;) {
      throwIfAborted(opts.signal);
      if ((await this.#presence(d, expected.size, opts.signal)) === "present") {
        return committedWriter(expected);
      }
      const pending = inflight.get(key);
      if (pending !== undefined) {
        if (!toldLocal) {
          toldLocal = true;
          opts.onWait?.({ digest: expected.digest, holder: "this process" });
        }
        await raceAbort(pending, opts.signal);
        continue;
      }
      // Claim the digest in this process before the first await, so callers queue behind us.
      let settle = (): void => {};
      const mine = new Promise<void>((resolve) => {
        settle = resolve;
      });
      inflight.set(key, mine);
      let ended = false;
      const onEnd = (): void => {
        if (ended) return;
        ended = true;
        if (inflight.get(key) === mine) inflight.delete(key);
        settle();
      };
      let lock: Awaited<ReturnType<typeof acquireLock>> | undefined;
      try {
        lock = await acquireLock(key, this.#lockSettings, {
          signal: opts.signal,
          onWait: (owner) =>
            opts.onWait?.({ digest: expected.digest, holder: describeHolder(owner) }),
        });
        // The previous holder may have committed it while we waited.
        const presence = await this.#presence(d, expected.size, opts.signal);
        if (presence === "present") {
          await lock.release();
          onEnd();
          return committedWriter(expected);
        }
        if (presence === "corrupt") await unlink(this.#layout.blobPath(d)).catch(() => {});
        return await openIngest(
          { layout: this.#layout, options: this.#opts, parsed: d, expected, lock, onEnd },
          opts.signal,
        );
      } catch (e) {
        await lock?.release();
        onEnd();
        throw e;
      }
    }
  }

  /**
   * Is the blob committed? A file of the expected size is trusted (it was verified before its
   * rename). A file of another size is hashed: if it matches its name the descriptor's size is
   * wrong (SIZE_MISMATCH, nothing deleted); if not, it is corrupt (a foreign tool's torn
   * write) and is replaced by the next commit. A reused blob's mtime is refreshed, restarting
   * prune's grace period for the pull that is about to reference it.
   */
  async #presence(d: ParsedDigest, size: number, signal?: AbortSignal): Promise<Presence> {
    const p = this.#layout.blobPath(d);
    let st: Awaited<ReturnType<typeof stat>>;
    try {
      st = await stat(p);
    } catch (e) {
      if (errnoCode(e) === "ENOENT") return "absent";
      throw e;
    }
    if (st.size !== size) {
      const h = await hashFile(p, d.algorithm, this.#opts.readChunkBytes, signal);
      if (h.digest !== d.digest) return "corrupt";
      throw new KimgError(
        "SIZE_MISMATCH",
        `ingest ${d.digest}: the store's blob has ${st.size} bytes, the descriptor says ${size}`,
      );
    }
    const now = new Date(this.#opts.now());
    await utimes(p, now, now).catch(() => {}); // another user's file: EPERM, fine
    return "present";
  }

  // ---- BlobManager ----------------------------------------------------------------------

  async *list(): AsyncIterable<BlobInfo> {
    for (const alg of BLOB_ALGORITHMS) {
      let names: string[];
      try {
        names = await readdir(this.#layout.blobDir(alg));
      } catch (e) {
        if (errnoCode(e) === "ENOENT") continue;
        throw e;
      }
      for (const name of names.sort()) {
        const digest = `${alg}:${name}`;
        try {
          parseBlobDigest(digest);
        } catch {
          continue; // not a blob name (a foreign tool's temp file)
        }
        const info = await this.stat(digest);
        if (info !== undefined) yield info;
      }
    }
  }

  async delete(digest: string): Promise<boolean> {
    const d = parseBlobDigest(digest);
    try {
      await unlink(this.#layout.blobPath(d));
    } catch (e) {
      if (errnoCode(e) === "ENOENT") return false;
      throw e;
    }
    await fsyncDir(this.#layout.blobDir(d.algorithm));
    return true;
  }

  // ---- Images ---------------------------------------------------------------------------

  async #readMetadata(): Promise<StoreMetadata> {
    return parseMetadata(await readJsonFile(this.#layout.metadata));
  }

  async #readIndex(): Promise<IndexDocument> {
    const x = await readJsonFile(this.#layout.index);
    return x === undefined ? emptyIndex() : parseIndex(x, this.#layout.index);
  }

  async #writeIndex(doc: IndexDocument, before: IndexDocument): Promise<boolean> {
    const text = `${JSON.stringify(doc)}\n`;
    if (text === `${JSON.stringify(before)}\n`) return false;
    await writeFileAtomic(this.#layout.tmp, this.#layout.index, text);
    return true;
  }

  /** Runs `fn` under the store lock (metadata, prune, fsck). */
  #locked<T>(fn: () => Promise<T>): Promise<T> {
    return withLock(
      this.#layout.storeLock,
      { ...this.#lockSettings, retryMaxMs: this.#opts.storeLockRetryMaxMs },
      fn,
    );
  }

  /**
   * Changes the records under the store lock: index.json drops removed names first, then
   * kimg.json (the commit point), then index.json gains new and changed names.
   */
  async #update(
    fn: (images: Record<string, ImageRecord>) => Promise<ReadonlySet<string>>,
  ): Promise<void> {
    const meta = await this.#readMetadata();
    const images: Record<string, ImageRecord> = { ...meta.images };
    const removed = await fn(images);
    let index = await this.#readIndex();
    if (removed.size > 0) {
      const kept: Record<string, ImageRecord> = { ...meta.images };
      for (const n of removed) delete kept[n];
      const next = syncIndex(index, kept, removed);
      await this.#writeIndex(next, index);
      index = next;
    }
    await writeFileAtomic(
      this.#layout.tmp,
      this.#layout.metadata,
      serializeMetadata({ storeVersion: STORE_VERSION, images }),
    );
    await this.#writeIndex(syncIndex(index, images), index);
  }

  /**
   * Records an image (replacing one of the same name) and points index.json at its target.
   * @throws KimgError BLOB_NOT_FOUND when a referenced blob is not committed; INPUT_INVALID
   *   when the target is neither the manifest nor the index.
   */
  async putImage(input: PutImageInput): Promise<ImageRecord> {
    const name = normalizeImageName(input.name);
    const { target, manifestDigest, indexDigest } = input;
    for (const dg of [target.digest, manifestDigest, ...(indexDigest ? [indexDigest] : [])]) {
      parseBlobDigest(dg);
    }
    if (target.digest !== manifestDigest && target.digest !== indexDigest) {
      throw new KimgError(
        "INPUT_INVALID",
        `put image ${name}: target ${target.digest} is neither the manifest nor the index`,
      );
    }
    const blobs = [
      ...new Set([
        ...input.blobs,
        target.digest,
        manifestDigest,
        ...(indexDigest ? [indexDigest] : []),
      ]),
    ].sort();
    let record: ImageRecord | undefined;
    await this.#locked(() =>
      this.#update(async (images) => {
        // Under the lock, so prune cannot delete them between this check and the write.
        let total = 0;
        for (const dg of blobs) {
          const info = await this.stat(dg);
          if (info === undefined) {
            throw new KimgError(
              "BLOB_NOT_FOUND",
              `put image ${name}: blob ${dg} is not in the store`,
            );
          }
          if (dg === target.digest && info.size !== target.size) {
            throw new KimgError(
              "SIZE_MISMATCH",
              `put image ${name}: target ${dg} has ${info.size} bytes, descriptor says ${target.size}`,
            );
          }
          total += info.size;
        }
        const now = new Date(this.#opts.now()).toISOString();
        record = {
          name,
          target: { mediaType: target.mediaType, digest: target.digest, size: target.size },
          manifestDigest,
          ...(indexDigest !== undefined ? { indexDigest } : {}),
          ...(input.platform !== undefined ? { platform: input.platform } : {}),
          size: total,
          pulledAt: input.pulledAt?.toISOString() ?? now,
          lastUsed: now,
          ...(input.credential !== undefined ? { credential: input.credential } : {}),
          blobs,
        };
        // Another platform of the same index stays stored beside this one (issue 10 item 5).
        record = mergeRecords(images[name], record);
        if (record.manifests !== undefined) {
          let all = 0;
          for (const dg of record.blobs) all += (await this.stat(dg))?.size ?? 0;
          record = { ...record, size: all };
        }
        images[name] = record;
        return new Set();
      }),
    );
    if (record === undefined) throw new Error("unreachable");
    return record;
  }

  async getImage(name: string): Promise<ImageRecord | undefined> {
    const key = normalizeImageName(name);
    return (await this.#readMetadata()).images[key];
  }

  /**
   * The record of `name` when the image is whole: every blob it references is stored. A
   * record whose blob was deleted (kimg verify --repair removed a corrupt one, a hand edit) is
   * not "present" for a pull policy, so IfNotPresent fetches it again instead of saying
   * "already present" (issue 10 item 2).
   */
  async getPresentImage(name: string): Promise<ImageRecord | undefined> {
    const r = (await this.getImage(name)) ?? (await this.#byRepoDigest(name));
    if (r === undefined) return undefined;
    const stats = await Promise.all(r.blobs.map((d) => this.stat(d)));
    return stats.every((x) => x !== undefined) ? r : undefined;
  }

  /**
   * `repo@digest` without a record of its own: the image of the same repository that the digest
   * names (its manifest, or the index it came from). containerd's CRI keeps `repo@digest` as a
   * reference of every image it pulls (its repoDigests), so a kubelet asking for the digest of
   * an image pulled by tag finds it present (test/peers/kubelet.test.ts digest-present-never).
   */
  async #byRepoDigest(name: string): Promise<ImageRecord | undefined> {
    const wanted = parseNormalizedNamed(name);
    if (wanted.digest === "") return undefined;
    const repo = referenceName(wanted);
    for (const r of Object.values((await this.#readMetadata()).images)) {
      if (r === undefined) continue;
      if (r.manifestDigest !== wanted.digest && r.indexDigest !== wanted.digest) continue;
      if (referenceName(parseNormalizedNamed(r.name)) === repo) return r;
    }
    return undefined;
  }

  async listImages(): Promise<ImageRecord[]> {
    const { images } = await this.#readMetadata();
    return Object.keys(images)
      .sort()
      .flatMap((k) => {
        const r = images[k];
        return r === undefined ? [] : [r];
      });
  }

  async removeImage(name: string): Promise<boolean> {
    const key = normalizeImageName(name);
    let found = false;
    await this.#locked(() =>
      this.#update(async (images) => {
        found = key in images;
        delete images[key];
        return new Set(found ? [key] : []);
      }),
    );
    return found;
  }

  async markImageUsed(name: string, at?: Date): Promise<boolean> {
    const key = normalizeImageName(name);
    let found = false;
    await this.#locked(() =>
      this.#update(async (images) => {
        const r = images[key];
        if (r !== undefined) {
          found = true;
          images[key] = { ...r, lastUsed: (at ?? new Date(this.#opts.now())).toISOString() };
        }
        return new Set();
      }),
    );
    return found;
  }

  get #leaseFiles(): LeaseFiles {
    return {
      dir: this.#layout.leases,
      tmp: this.#layout.tmp,
      lockSettings: this.#lockSettings,
      locked: (fn) =>
        withLock(
          this.#layout.leasesLock,
          { ...this.#lockSettings, retryMaxMs: this.#opts.storeLockRetryMaxMs },
          fn,
        ),
    };
  }

  lease(): Promise<Lease> {
    return openLease(this.#leaseFiles);
  }

  /**
   * What GC must keep (call under the store lock): every blob of `images`, every live lease's
   * blobs, and the closure of index.json entries kimg did not write (skopeo's, umoci's): their
   * root and, read from the store, the manifests, configs and layers below it.
   */
  async #gcRoots(images: Readonly<Record<string, ImageRecord>>): Promise<Set<string>> {
    const keep = await leasedDigests(this.#leaseFiles);
    for (const r of Object.values(images)) for (const dg of r.blobs) keep.add(dg);
    const queue = foreignRoots(await this.#readIndex(), images);
    while (queue.length > 0) {
      const dg = queue.pop() as string;
      if (keep.has(dg)) continue;
      keep.add(dg);
      for (const child of await this.#childDigests(dg)) queue.push(child);
    }
    return keep;
  }

  /** Descriptors inside a stored manifest or index (none for a layer or an unreadable blob). */
  async #childDigests(digest: string): Promise<string[]> {
    try {
      parseBlobDigest(digest);
    } catch {
      return [];
    }
    // image-spec: manifests and indexes are small JSON; a layer is never parsed here.
    const doc = await this.#readSmallJson(digest);
    if (!isRecord(doc)) return [];
    const out: string[] = [];
    const take = (x: unknown): void => {
      if (isRecord(x) && typeof x.digest === "string") out.push(x.digest);
    };
    for (const key of ["manifests", "layers", "blobs"]) {
      const list = doc[key];
      if (Array.isArray(list)) list.forEach(take);
    }
    take(doc.config);
    return out;
  }

  async removeImages(names: readonly string[]): Promise<RemoveImagesReport> {
    const keys = [...new Set(names.map(normalizeImageName))];
    // Store lock, then lease lock (see leases.ts): no lease can be added until the deletes end.
    return this.#locked(() =>
      this.#leaseFiles.locked(async () => {
        const removed: ImageRecord[] = [];
        let remaining: Record<string, ImageRecord> = {};
        await this.#update(async (images) => {
          for (const k of keys) {
            const r = images[k];
            if (r === undefined) continue;
            removed.push(r);
            delete images[k];
          }
          remaining = images;
          return new Set(removed.map((r) => r.name));
        });
        const keep = await this.#gcRoots(remaining);
        const candidates = [...new Set(removed.flatMap((r) => r.blobs))].sort();
        const deleted: BlobInfo[] = [];
        for (const dg of candidates) {
          if (keep.has(dg)) continue;
          const info = await this.stat(dg);
          if (info === undefined) continue;
          try {
            await unlink(this.path(dg));
          } catch (e) {
            if (errnoCode(e) === "ENOENT") continue;
            throw e;
          }
          deleted.push(info);
        }
        if (deleted.length > 0) {
          for (const alg of BLOB_ALGORITHMS) await fsyncDir(this.#layout.blobDir(alg));
        }
        return { removed, deleted, freedBytes: deleted.reduce((n, b) => n + b.size, 0) };
      }),
    );
  }

  /**
   * Deletes blobs no image record, foreign index.json entry or live lease references, except
   * those committed or reused within the grace period (for writers that hold no lease: an
   * older kimg, a foreign tool copying into the layout).
   */
  prune(opts: PruneOptions = {}): Promise<PruneReport> {
    const grace = opts.graceMs ?? this.#opts.pruneGraceMs;
    return this.#locked(() =>
      this.#leaseFiles.locked(async () => {
        const meta = await this.#readMetadata();
        const keep = await this.#gcRoots(meta.images);
        const deleted: BlobInfo[] = [];
        let keptYoung = 0;
        const now = this.#opts.now();
        for await (const info of this.list()) {
          if (keep.has(info.digest)) continue;
          if (now - info.committedAt.getTime() < grace) {
            keptYoung++;
            continue;
          }
          if (opts.dryRun !== true) {
            // Re-check the age: an ingest may have just reused it (the one race left: a reuse
            // between this stat and the unlink makes that pull's putImage fail BLOB_NOT_FOUND,
            // and a retry downloads it again; nothing is ever corrupt).
            const again = await this.stat(info.digest);
            if (again === undefined) continue;
            if (now - again.committedAt.getTime() < grace) {
              keptYoung++;
              continue;
            }
            try {
              await unlink(this.path(info.digest));
            } catch (e) {
              if (errnoCode(e) === "ENOENT") continue;
              throw e;
            }
          }
          deleted.push(info);
        }
        if (deleted.length > 0 && opts.dryRun !== true) {
          for (const alg of BLOB_ALGORITHMS) await fsyncDir(this.#layout.blobDir(alg));
        }
        return { deleted, freedBytes: deleted.reduce((n, b) => n + b.size, 0), keptYoung };
      }),
    );
  }

  /**
   * Why the stored blob is not what its name says ("not in the store", "content has digest
   * …"), or undefined when it hashes to its name.
   */
  async checkBlob(digest: string, signal?: AbortSignal): Promise<string | undefined> {
    const d = parseBlobDigest(digest);
    let h: { digest: string; size: number };
    try {
      h = await hashFile(this.#layout.blobPath(d), d.algorithm, this.#opts.readChunkBytes, signal);
    } catch (e) {
      if (errnoCode(e) === "ENOENT") return "not in the store";
      throw e;
    }
    return h.digest === digest ? undefined : `content has digest ${h.digest} (${h.size} bytes)`;
  }

  /**
   * `kimg verify`: an fsck over digests, sizes and references, reading nothing from the
   * network. Checks oci-layout, kimg.json and index.json; every blob the selected images (all
   * by default) reference, and the config and layers their manifests name; without `names`,
   * every blob in the store too. With `repair`: corrupt blobs are deleted (the next pull
   * fetches them again), a damaged kimg.json is rebuilt from index.json's entries and a damaged
   * index.json from kimg.json, each damaged file kept beside as `<file>.damaged-<time>`.
   */
  async verify(opts: VerifyOptions = {}): Promise<VerifyReport> {
    const run = async (): Promise<VerifyReport> => {
      const problems: VerifyProblem[] = [];
      const repair = opts.repair === true;
      let images: Record<string, ImageRecord> | undefined;
      let index: IndexDocument | undefined;
      try {
        images = { ...(await this.#readMetadata()).images };
      } catch (e) {
        if (!isKimgError(e, "STORE_CORRUPT")) throw e;
        problems.push({
          kind: "metadata",
          file: METADATA_FILE,
          detail: e.message,
          images: [],
          fixed: false,
        });
      }
      try {
        index = await this.#readIndex();
      } catch (e) {
        if (!isKimgError(e, "STORE_CORRUPT")) throw e;
        problems.push({
          kind: "metadata",
          file: INDEX_FILE,
          detail: e.message,
          images: [],
          fixed: false,
        });
      }
      if (repair && (images === undefined || index === undefined)) {
        const stamp = new Date(this.#opts.now()).toISOString().replace(/[:.]/g, "-");
        const aside = async (path: string): Promise<void> => {
          await rename(path, `${path}.damaged-${stamp}`);
        };
        if (images === undefined) {
          const rebuilt: Record<string, ImageRecord> = {};
          const lost: string[] = [];
          if (index !== undefined) {
            for (const e of index.manifests) {
              const r = await this.#recordFromIndexEntry(e);
              if (r === undefined) continue;
              if ("lost" in r) lost.push(r.lost);
              else rebuilt[r.name] = r;
            }
          }
          await aside(this.#layout.metadata);
          await writeFileAtomic(
            this.#layout.tmp,
            this.#layout.metadata,
            serializeMetadata({ storeVersion: STORE_VERSION, images: rebuilt }),
          );
          images = rebuilt;
          const p = problems.find((x) => x.file === METADATA_FILE);
          const names = Object.keys(rebuilt).sort();
          if (p !== undefined) {
            Object.assign(p, {
              fixed: index !== undefined,
              images: names,
              action:
                index === undefined
                  ? "image records lost (index.json is damaged too); the blobs are kept until kimg prune"
                  : `rebuilt from index.json: ${names.length} image(s)${lost.length > 0 ? `; could not rebuild ${lost.join(", ")} (blobs missing)` : ""}`,
            });
          }
        }
        if (index === undefined) {
          await aside(this.#layout.index);
          index = syncIndex(emptyIndex(), images);
          await writeFileAtomic(this.#layout.tmp, this.#layout.index, `${JSON.stringify(index)}\n`);
          const p = problems.find((x) => x.file === INDEX_FILE);
          if (p !== undefined) {
            Object.assign(p, {
              fixed: true,
              action:
                "rebuilt from kimg.json (entries other tools had written could not be recovered)",
            });
          }
        }
      }
      const all = images ?? {};
      const selected =
        opts.names === undefined
          ? Object.values(all)
          : opts.names.map((n) => {
              const r = all[normalizeImageName(n)];
              if (r === undefined) throw new KimgError("IMAGE_NOT_FOUND", `No such image: ${n}`);
              return r;
            });
      // digest → the images that need it
      const needed = new Map<string, Set<string>>();
      for (const r of selected) {
        const want = new Set(r.blobs);
        for (const m of storedManifests(r)) {
          for (const d of await this.#childDigests(m.manifestDigest)) want.add(d);
        }
        for (const d of want) {
          const set = needed.get(d) ?? new Set<string>();
          set.add(r.name);
          needed.set(d, set);
        }
      }
      const toHash = new Set(needed.keys());
      if (opts.names === undefined) for await (const b of this.list()) toHash.add(b.digest);
      let blobs = 0;
      let bytes = 0;
      let deletedAny = false;
      for (const dg of [...toHash].sort()) {
        throwIfAborted(opts.signal);
        const users = [...(needed.get(dg) ?? [])].sort();
        const info = await this.stat(dg);
        if (info === undefined) {
          problems.push({
            kind: "missing-blob",
            digest: dg,
            detail: `blob ${dg} is not in the store`,
            images: users,
            fixed: repair,
            ...(repair ? { action: "pull the image again" } : {}),
          });
          continue;
        }
        blobs++;
        bytes += info.size;
        const bad = await this.checkBlob(dg, opts.signal);
        if (bad === undefined) continue;
        if (repair) {
          await unlink(this.path(dg)).catch(() => {});
          deletedAny = true;
        }
        problems.push({
          kind: "corrupt-blob",
          digest: dg,
          detail: `blob ${dg}: ${bad}`,
          images: users,
          fixed: repair,
          ...(repair
            ? { action: users.length > 0 ? "deleted; pull the image again" : "deleted" }
            : {}),
        });
      }
      if (deletedAny) for (const alg of BLOB_ALGORITHMS) await fsyncDir(this.#layout.blobDir(alg));
      const pullAgain = [
        ...new Set(problems.filter((p) => p.kind !== "metadata").flatMap((p) => p.images)),
      ].sort();
      return {
        images: selected.length,
        blobs,
        bytes,
        problems,
        pullAgain,
        ok: problems.length === 0,
        repaired: repair && problems.length > 0 && problems.every((p) => p.fixed),
      };
    };
    // A repair changes records and deletes blobs: under the store lock, like prune.
    return opts.repair === true ? this.#locked(run) : run();
  }

  /** An image record rebuilt from a kimg-written index.json entry; undefined for others. */
  async #recordFromIndexEntry(e: unknown): Promise<ImageRecord | { lost: string } | undefined> {
    if (!isRecord(e) || !isRecord(e.annotations)) return undefined;
    const name = e.annotations[CONTAINERD_NAME_ANNOTATION];
    const { digest, mediaType, size } = e;
    if (typeof name !== "string" || typeof digest !== "string" || typeof mediaType !== "string")
      return undefined;
    if (typeof size !== "number") return undefined;
    let key: string;
    try {
      key = normalizeImageName(name);
      parseBlobDigest(digest);
    } catch {
      return undefined;
    }
    const isIndex = mediaType.includes("index") || mediaType.includes("manifest.list");
    let manifestDigest = digest;
    let platform: ImagePlatform | undefined;
    if (isIndex) {
      // The platform pulled is the index entry whose manifest and blobs are all stored.
      const doc = await this.#readSmallJson(digest);
      const entries = isRecord(doc) && Array.isArray(doc.manifests) ? doc.manifests : [];
      const found = [];
      for (const m of entries) {
        if (!isRecord(m) || typeof m.digest !== "string") continue;
        const kids = await this.#childDigests(m.digest);
        if ((await this.stat(m.digest)) === undefined || kids.length === 0) continue;
        if ((await Promise.all(kids.map((k) => this.stat(k)))).every((x) => x !== undefined)) {
          found.push(m);
        }
      }
      const m = found[0];
      if (m === undefined) return { lost: key };
      manifestDigest = m.digest as string;
      platform = platformOf(m.platform);
    } else {
      platform = platformOf(e.platform);
    }
    const kids = await this.#childDigests(manifestDigest);
    const blobs = [...new Set([digest, manifestDigest, ...kids])].sort();
    let total = 0;
    let pulled = 0;
    for (const b of blobs) {
      const info = await this.stat(b);
      if (info === undefined) return { lost: key };
      total += info.size;
      pulled = Math.max(pulled, info.committedAt.getTime());
    }
    const when = new Date(pulled).toISOString();
    return {
      name: key,
      target: { mediaType, digest, size },
      manifestDigest,
      ...(isIndex ? { indexDigest: digest } : {}),
      ...(platform !== undefined ? { platform } : {}),
      size: total,
      pulledAt: when,
      lastUsed: when,
      // No credential: KEP-2535 checks treat the image as pulled without one being proven.
      blobs,
    };
  }

  async #readSmallJson(digest: string): Promise<unknown> {
    const info = await this.stat(digest);
    if (info === undefined || info.size > FOREIGN_DOC_MAX_BYTES) return undefined;
    try {
      return JSON.parse(await readFile(this.path(digest), "utf8"));
    } catch {
      return undefined;
    }
  }

  /**
   * Repairs what crashes leave behind (cacache verify.js style: named, timed steps): old temp
   * files, stale locks, abandoned or unusable ingests, index.json entries missing for records;
   * with `verifyBlobs`, re-hashes every blob and deletes the corrupt ones. Reports images whose
   * blobs are missing.
   */
  fsck(opts: FsckOptions = {}): Promise<FsckReport> {
    return this.#locked(() =>
      runFsck(
        {
          layout: this.#layout,
          options: this.#opts,
          lockSettings: this.#lockSettings,
          inflight: (lockPath) => inflight.has(lockPath),
          readMetadata: () => this.#readMetadata(),
          syncIndex: async () => {
            const meta = await this.#readMetadata();
            const index = await this.#readIndex();
            return this.#writeIndex(syncIndex(index, meta.images), index);
          },
        },
        opts,
      ),
    );
  }
}
