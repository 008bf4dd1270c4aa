// unpackLayers(): layers → a root filesystem at DIR, atomically. unpackImage(): the same for a
// stored image (manifest and config read and verified from the store, as inspectImage does).
//
// Each layer is one stream: blob → (gunzip | zstd | as is, by magic bytes) → sha256 of the
// uncompressed bytes, on the fly → tar-stream extract → Applier (apply.ts). The diff_id is
// checked when the layer's stream ends; a mismatch fails the whole unpack. Nothing is buffered
// beyond the streams' chunks.
//
// Atomicity: everything is written into a fresh sibling `.DIR.kimg-unpack-<pid>-XXXXXX` (mode
// 0700 until the end, so no other user can race symlinks into it), renamed to DIR at the end.
// On failure the sibling is deleted; after a SIGKILL it remains, and the next unpack next to
// DIR deletes siblings whose pid is no longer alive. An existing non-empty DIR is refused
// unless `force`: then the old DIR is renamed away (`.DIR.kimg-old-<pid>-XXXXXX`), the new
// one renamed in, the old one deleted.

import { createHash } from "node:crypto";
import { chmod, lstat, mkdtemp, readdir, rename, rm, rmdir, stat } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { type Readable, Transform, type TransformCallback } from "node:stream";
import { pipeline } from "node:stream/promises";
import tar from "tar-stream";
import { KimgError } from "../errors.ts";
import {
  isLayerMediaType,
  layerCompression,
  normalizeContentType,
  shortDigest,
} from "../oci/index.ts";
import { Applier, type Limits, type Privileges } from "./apply.ts";
import {
  type Compression,
  decodeError,
  decompressor,
  detectCompression,
  READ_AHEAD_BYTES,
} from "./decompress.ts";

export interface UnpackLimits {
  /**
   * Total uncompressed bytes of regular-file content across all layers. Default 64 GiB, and
   * then each compressed layer may also expand at most MAX_RATIO times (plus 16 MiB): a
   * 3 MB layer of 3 GB of zeros is refused. Given explicitly, only this limit applies.
   */
  readonly maxBytes?: number;
  /** Total tar entries across all layers. Default 1,000,000. */
  readonly maxFiles?: number;
}

export const DEFAULT_UNPACK_LIMITS: Required<UnpackLimits> = {
  maxBytes: 64 * 1024 ** 3,
  maxFiles: 1_000_000,
};

/**
 * How many times its compressed size a layer may expand by default (issue 19 item 6). Real
 * layers compress 2-10:1; a layer of mostly zeros (a sparse database file) can exceed this and
 * needs an explicit --max-size. 16 MiB of slack lets tiny layers of empty files through.
 */
export const MAX_RATIO = 100;
const RATIO_SLACK = 16 * 1024 * 1024;

export interface LayerInput {
  /** Opens the layer blob (compressed or not) as a stream (or an iterable of chunks). */
  open(): Promise<NodeJS.ReadableStream | AsyncIterable<Uint8Array> | Iterable<Uint8Array>>;
  /** OCI/Docker layer media type ("" = unknown: sniff). */
  readonly mediaType: string;
  /** Of the blob as stored (for messages). */
  readonly digest: string;
  /** Config rootfs.diff_ids[i]; when given, the uncompressed sha256 must match. */
  readonly diffId?: string | undefined;
  /**
   * When the layer fails to unpack, is the blob itself damaged? Returns the error to report
   * instead (DIGEST_MISMATCH naming the digest), so a flipped byte in a store reads as a
   * damaged blob, not as "invalid tar header" (issue 10 item 2).
   */
  readonly damaged?: () => Promise<Error | undefined>;
}

export interface UnpackOptions extends Privileges {
  /** Replace an existing non-empty DIR. */
  readonly force?: boolean | undefined;
  readonly limits?: UnpackLimits | undefined;
  readonly signal?: AbortSignal | undefined;
}

export interface UnpackReport {
  readonly layers: number;
  /** Tar entries applied (whiteouts included). */
  readonly files: number;
  /** Uncompressed content bytes written. */
  readonly bytes: number;
  /** Ownership not applied, device nodes skipped, xattrs not applied…: one line per kind. */
  readonly notes: readonly string[];
}

const TEMP_MARK = ".kimg-unpack-";
const OLD_MARK = ".kimg-old-";

function abortError(signal: AbortSignal): KimgError {
  return new KimgError("ABORTED", "unpack: aborted", { cause: signal.reason });
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as { code?: string }).code === "EPERM";
  }
}

/**
 * Deletes `.BASE.kimg-unpack-PID-…` / `.BASE.kimg-old-PID-…` siblings left by a killed unpack
 * (their PID is gone). Siblings of live processes are left alone.
 */
async function cleanStaleSiblings(parent: string, base: string): Promise<void> {
  let names: string[];
  try {
    names = await readdir(parent);
  } catch {
    return;
  }
  for (const n of names) {
    for (const mark of [TEMP_MARK, OLD_MARK]) {
      const prefix = `.${base}${mark}`;
      if (!n.startsWith(prefix)) continue;
      const pid = Number(n.slice(prefix.length).split("-")[0]);
      if (!Number.isSafeInteger(pid) || pid <= 0 || pid === process.pid || pidAlive(pid)) continue;
      await rm(join(parent, n), { recursive: true, force: true });
    }
  }
}

/** sha256 and byte count of what flows through; the bomb bound on the uncompressed size. */
class Hasher extends Transform {
  readonly hash = createHash("sha256");
  readonly #applier: Applier;
  readonly #label: string;
  /** Compressed bytes read so far (undefined: no ratio cap for this layer). */
  readonly #compressed: { bytes: number } | undefined;
  #expanded = 0;
  constructor(applier: Applier, label: string, compressed: { bytes: number } | undefined) {
    super({ highWaterMark: READ_AHEAD_BYTES });
    this.#applier = applier;
    this.#label = label;
    this.#compressed = compressed;
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.hash.update(chunk);
    this.#applier.scanner.write(chunk);
    this.#applier.streamBytes += chunk.length;
    this.#expanded += chunk.length;
    const c = this.#compressed;
    if (c !== undefined && this.#expanded > c.bytes * MAX_RATIO + RATIO_SLACK) {
      cb(
        new KimgError(
          "UNPACK_LIMIT",
          `${this.#label}: layer expands more than ${MAX_RATIO} times its compressed size (${c.bytes} bytes read, over ${this.#expanded} bytes out); give --max-size to allow it`,
        ),
      );
      return;
    }
    if (this.#applier.streamBytes > this.#applier.streamByteLimit()) {
      cb(
        new KimgError(
          "UNPACK_LIMIT",
          `${this.#label}: uncompressed layer data over ${this.#applier.streamByteLimit()} bytes for ${this.#applier.files} entries (--max-size)`,
        ),
      );
      return;
    }
    cb(null, chunk);
  }
}

/** Reads the first bytes of `src` for sniffing; returns them and a stream of everything. */
async function sniff(
  src: NodeJS.ReadableStream | AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
): Promise<{ head: Uint8Array; rest: AsyncIterable<Uint8Array> }> {
  const asyncIt = (src as Partial<AsyncIterable<Uint8Array>>)[Symbol.asyncIterator];
  // Also a plain (sync) iterable of chunks, e.g. an array: tests and in-memory layers.
  const it: AsyncIterator<Uint8Array> =
    asyncIt !== undefined
      ? asyncIt.call(src)
      : (async function* () {
          yield* src as unknown as Iterable<Uint8Array>;
        })();
  const chunks: Uint8Array[] = [];
  let have = 0;
  let done = false;
  while (have < 4) {
    const r = await it.next();
    if (r.done === true) {
      done = true;
      break;
    }
    const c = typeof r.value === "string" ? Buffer.from(r.value) : r.value;
    chunks.push(c);
    have += c.length;
  }
  const head = Buffer.concat(chunks);
  async function* rest(): AsyncGenerator<Uint8Array> {
    if (head.length > 0) yield head;
    if (done) return;
    try {
      for (;;) {
        const r = await it.next();
        if (r.done === true) return;
        yield r.value;
      }
    } finally {
      await it.return?.();
    }
  }
  return { head, rest: rest() };
}

async function applyLayer(
  applier: Applier,
  layer: LayerInput,
  signal: AbortSignal | undefined,
  ratioCap: boolean,
): Promise<void> {
  const label = shortDigest(layer.digest);
  applier.beginLayer(label);
  const mt = normalizeContentType(layer.mediaType ?? "");
  if (mt !== "") {
    if (mt.includes("+encrypted") || layerCompression(mt) === undefined) {
      throw new KimgError(
        "UNSUPPORTED_MEDIA_TYPE",
        `${label}: cannot unpack a layer of media type ${layer.mediaType}`,
      );
    }
  }
  const src = await layer.open();
  const { head, rest: raw } = await sniff(src);
  const compression: Compression = detectCompression(head);
  const decoder = decompressor(compression);
  const compressed = ratioCap && decoder !== undefined ? { bytes: 0 } : undefined;
  const rest =
    compressed === undefined
      ? raw
      : (async function* () {
          for await (const c of raw) {
            compressed.bytes += c.length;
            yield c;
          }
        })();
  const hasher = new Hasher(applier, label, compressed);
  const extract = tar.extract();
  // The first error any stage emits, and which stage: that is the cause to report. Errors
  // after we start tearing the streams down ourselves ("premature close") are not.
  let first: { stage: "decoder" | "hasher" | "tar" | "source"; error: unknown } | undefined;
  let stopping = false;
  const record = (stage: "decoder" | "hasher" | "tar" | "source") => (e: unknown) => {
    if (!stopping && first === undefined) first = { stage, error: e };
  };
  decoder?.on("error", record("decoder"));
  hasher.on("error", record("hasher"));
  extract.on("error", record("tar"));
  const stages: Transform[] = decoder !== undefined ? [decoder, hasher] : [hasher];
  const fed = pipeline(
    rest,
    ...(stages as [Transform]),
    extract as unknown as NodeJS.WritableStream,
    ...(signal !== undefined ? [{ signal }] : []),
  ).then(
    () => undefined,
    (e: unknown) => {
      record("source")(e); // no-op when a stage already said what went wrong
      extract.destroy(e as Error);
    },
  );
  let applyError: unknown;
  try {
    for await (const entry of extract) {
      try {
        await applier.apply(entry.header, entry as unknown as Readable);
      } catch (e) {
        applyError = e;
        throw e;
      }
    }
  } catch (e) {
    // A refused entry (UNSAFE_PATH, a limit…) is the cause even though the streams complain
    // once torn down; a stream's own error is the cause when the entry merely saw it.
    const refused = applyError instanceof KimgError ? applyError : undefined;
    stopping = true;
    extract.destroy();
    hasher.destroy();
    decoder?.destroy();
    await fed;
    if (signal?.aborted) throw abortError(signal);
    if (refused !== undefined) throw refused;
    throw classify(first, applyError ?? e, label, compression);
  }
  await fed;
  if (signal?.aborted) throw abortError(signal);
  if (first !== undefined) throw classify(first, first.error, label, compression);
  if (layer.diffId !== undefined && layer.diffId !== "") {
    const got = `sha256:${hasher.hash.digest("hex")}`;
    if (!layer.diffId.startsWith("sha256:")) {
      throw new KimgError("DIGEST_MISMATCH", `${label}: diff_id ${layer.diffId} is not sha256`);
    }
    if (got !== layer.diffId) {
      throw new KimgError(
        "DIGEST_MISMATCH",
        `${label}: uncompressed layer has digest ${got}, the config's diff_id is ${layer.diffId}`,
      );
    }
  }
}

/** What a stream failure means: KimgErrors as they are; decoder → LAYER_INVALID (not a valid
 *  gzip/zstd stream); tar-stream → LAYER_INVALID (not a valid tar); others (I/O) as they are. */
function classify(
  first: { stage: string; error: unknown } | undefined,
  fallback: unknown,
  label: string,
  compression: Compression,
): unknown {
  const e = first?.error ?? fallback;
  if (e instanceof KimgError) return e;
  const msg = e instanceof Error ? e.message : String(e);
  if (first?.stage === "decoder") return decodeError(label, compression, e);
  if (first?.stage === "tar") {
    return new KimgError("LAYER_INVALID", `${label}: not a valid tar stream: ${msg}`, { cause: e });
  }
  return e;
}

async function isEmptyDir(p: string): Promise<"absent" | "empty" | "nonempty" | "other"> {
  let st: Awaited<ReturnType<typeof lstat>>;
  try {
    st = await lstat(p);
  } catch (e) {
    if ((e as { code?: string }).code === "ENOENT") return "absent";
    throw e;
  }
  if (!st.isDirectory()) return "other";
  return (await readdir(p)).length === 0 ? "empty" : "nonempty";
}

/**
 * Refuses a DIR whose parent directory does not exist or is not a directory (INPUT_INVALID,
 * exit 2): bad input, said in one line before any work (issue 10 item 11). `mkdir -p` is the
 * caller's choice, as for `umoci unpack`, which also needs the bundle's parent.
 */
export async function checkUnpackParent(dir: string): Promise<void> {
  const parent = dirname(resolve(dir));
  let st: Awaited<ReturnType<typeof stat>>;
  try {
    st = await stat(parent);
  } catch (e) {
    const code = (e as { code?: string }).code;
    throw new KimgError(
      "INPUT_INVALID",
      code === "ENOENT"
        ? `unpack: ${parent} does not exist (the parent directory of ${basename(resolve(dir))} must exist)`
        : `unpack: ${parent}: ${(e as Error).message}`,
    );
  }
  if (!st.isDirectory())
    throw new KimgError("INPUT_INVALID", `unpack: ${parent} is not a directory`);
}

/**
 * Applies the layers in order into DIR atomically (temp sibling, rename).
 * @throws KimgError UNSAFE_PATH (hostile entry), LAYER_INVALID (not a tar, bad compressed
 *   stream, unsupported entry), DIGEST_MISMATCH (diff_id), UNPACK_LIMIT, INPUT_INVALID (DIR
 *   exists and is not empty, without force), UNSUPPORTED_MEDIA_TYPE, ABORTED. DIR is then as
 *   it was (absent, or untouched).
 */
export async function unpackLayers(
  layers: readonly LayerInput[],
  dir: string,
  opts: UnpackOptions = {},
): Promise<UnpackReport> {
  const target = resolve(dir);
  const parent = dirname(target);
  const base = basename(target);
  if (target === parent)
    throw new KimgError("INPUT_INVALID", `unpack: cannot unpack into ${target}`);
  const limits: Limits = {
    maxBytes: opts.limits?.maxBytes ?? DEFAULT_UNPACK_LIMITS.maxBytes,
    maxFiles: opts.limits?.maxFiles ?? DEFAULT_UNPACK_LIMITS.maxFiles,
  };
  const signal = opts.signal;
  if (signal?.aborted) throw abortError(signal);
  await checkUnpackParent(target);
  const state = await isEmptyDir(target);
  if ((state === "nonempty" || state === "other") && opts.force !== true) {
    throw new KimgError(
      "INPUT_INVALID",
      `unpack: ${target} exists and is not an empty directory (use --force to replace it)`,
    );
  }
  await cleanStaleSiblings(parent, base);
  const tmp = await mkdtemp(join(parent, `.${base}${TEMP_MARK}${process.pid}-`));
  let renamed = false;
  const applier = new Applier(tmp, limits, signal, {
    allowDevices: opts.allowDevices === true,
    keepSetuid: opts.keepSetuid === true,
    keepPrivilegedXattrs: opts.keepPrivilegedXattrs === true,
  });
  const notes: string[] = [];
  try {
    await chmod(tmp, 0o700);
    const ratioCap = opts.limits?.maxBytes === undefined;
    for (const layer of layers) {
      if (signal?.aborted) throw abortError(signal);
      try {
        await applyLayer(applier, layer, signal, ratioCap);
      } catch (e) {
        if (signal?.aborted || layer.damaged === undefined) throw e;
        throw (await layer.damaged()) ?? e;
      }
    }
    if (signal?.aborted) throw abortError(signal);
    // DIR is reachable only by its owner (issue 19 item 2): other users must not reach its
    // setuid files or device nodes. As umoci's bundle directory is 0700 around a 0755 rootfs,
    // the image's own root mode is kept only when DIR's parent is already private.
    const privateParent = await isPrivate(parent);
    const rootMode = await applier.finish(0o755, !privateParent);
    if (!privateParent && (rootMode & 0o077) !== 0) {
      notes.push(
        `${target} is mode 0700, not the image's ${rootMode.toString(8).padStart(4, "0")}: its parent is open to other users (unpack into a directory of mode 0700 to keep the image's mode)`,
      );
    }
    const now = await isEmptyDir(target);
    if (now === "absent") {
      await rename(tmp, target);
    } else if (now === "empty") {
      await rmdir(target).catch(() => {});
      await rename(tmp, target);
    } else {
      if (opts.force !== true) {
        throw new KimgError(
          "INPUT_INVALID",
          `unpack: ${target} exists and is not an empty directory (use --force to replace it)`,
        );
      }
      const old = await mkdtemp(join(parent, `.${base}${OLD_MARK}${process.pid}-`));
      await rename(target, join(old, "x"));
      try {
        await rename(tmp, target);
      } catch (e) {
        await rename(join(old, "x"), target).catch(() => {});
        await rm(old, { recursive: true, force: true });
        throw e;
      }
      renamed = true;
      await rm(old, { recursive: true, force: true });
    }
    renamed = true;
    return {
      layers: layers.length,
      files: applier.files,
      bytes: applier.bytes,
      notes: [...applier.notes(), ...notes],
    };
  } finally {
    applier.close();
    if (!renamed) await rm(tmp, { recursive: true, force: true });
  }
}

/** A directory only its owner (this process's user) can enter: no group or other bits. */
async function isPrivate(dir: string): Promise<boolean> {
  try {
    const st = await lstat(dir);
    const uid = process.getuid?.() ?? -1;
    return st.isDirectory() && (st.mode & 0o077) === 0 && st.uid === uid;
  } catch {
    return false;
  }
}

/** Layer media types unpackLayers accepts (for unpackImage's filtering). */
export function isUnpackableLayer(mediaType: string): boolean {
  return isLayerMediaType(normalizeContentType(mediaType));
}
