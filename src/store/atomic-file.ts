// Durable small-file writes: temp file in the store → fsync → rename (or link, to refuse
// overwriting) → fsync the directory. A reader sees the old file or the new one, never a torn
// one, and a crash at any point leaves at most a temp file for fsck to remove.
//
// ggcr's layout package rewrites index.json in place (pkg/v1/layout/write.go), which a crash
// can tear; registry.md §7.1 asks for better. cacache writes content to a temp file opened
// with 'wx' and moves it into place (lib/content/write.js `makeTmp`, `moveToDestination`).

import { randomBytes } from "node:crypto";
import { link, open, readFile, rename, rm, unlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { KimgError } from "../errors.ts";

/** `<pid>-<12 hex>`: unique per call, and says which process made a temp file. */
export function uniqueName(suffix: string): string {
  return `${process.pid}-${randomBytes(6).toString("hex")}-${suffix}`;
}

/**
 * fsync a directory so a rename or unlink in it survives power loss (rename(2) is atomic but
 * only durable once the directory is synced). Windows cannot open directories: skipped there.
 */
export async function fsyncDir(dir: string): Promise<void> {
  if (process.platform === "win32") return;
  const fh = await open(dir, "r");
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Per directory: the sync running now, and the one queued behind it that later callers join. */
interface DirSync {
  running?: Promise<void> | undefined;
  next?: Promise<void> | undefined;
}
const dirSyncs = new Map<string, DirSync>();

/**
 * fsyncDir, with concurrent callers in this process sharing syncs (group commit): a call made
 * while no sync of `dir` runs starts one; a call made while one runs waits for the next, which
 * starts when the running one ends and serves every caller that arrived meanwhile. Each caller
 * still returns only after an fsync that began after its call, so what it renamed or unlinked
 * before calling is durable, exactly as with its own fsyncDir; a failed sync fails everyone
 * who shared it. A pull committing many small blobs in parallel syncs blobs/sha256/ less often.
 */
export function fsyncDirShared(dir: string): Promise<void> {
  let st = dirSyncs.get(dir);
  if (st === undefined) {
    st = {};
    dirSyncs.set(dir, st);
  }
  const state = st;
  const start = (): Promise<void> => {
    const p: Promise<void> = fsyncDir(dir).finally(() => {
      if (state.running !== p) return;
      state.running = undefined;
      if (state.next === undefined) dirSyncs.delete(dir);
    });
    state.running = p;
    return p;
  };
  if (state.running === undefined) return start();
  state.next ??= state.running
    .catch(() => {})
    .then(() => {
      state.next = undefined;
      return start();
    });
  return state.next;
}

export interface AtomicWriteOptions {
  /** fsync the file and its directory (default). false for files a crash makes meaningless. */
  readonly durable?: boolean | undefined;
  /** The file's mode. Default 0644; 0600 for what may say who pulled what (pull records). */
  readonly mode?: number | undefined;
  /** Called once the temp file is durable, just before the rename (a crash-test failpoint). */
  readonly beforeRename?: (() => void) | undefined;
}

/**
 * The temp file: `<pid>-<hex>-<name>.tmp` in `tmpDir` (the store's tmp/, or the target's own
 * directory for files kept outside a store), so leftovers of a crash are recognisable.
 */
async function writeTemp(
  tmpDir: string,
  target: string,
  data: string,
  opts: AtomicWriteOptions = {},
): Promise<string> {
  const tmp = join(tmpDir, `${uniqueName(basename(target))}.tmp`);
  const fh = await open(tmp, "wx", opts.mode ?? 0o644);
  try {
    await fh.writeFile(data, "utf8");
    if (opts.durable !== false) await fh.sync();
  } catch (e) {
    await fh.close().catch(() => {});
    await rm(tmp, { force: true });
    throw e;
  }
  await fh.close();
  return tmp;
}

/** Replaces `target` with `data` atomically and durably. `tmpDir` must be on the same fs. */
export async function writeFileAtomic(
  tmpDir: string,
  target: string,
  data: string,
  opts: AtomicWriteOptions = {},
): Promise<void> {
  const durable = opts.durable !== false;
  const tmp = await writeTemp(tmpDir, target, data, opts);
  try {
    opts.beforeRename?.();
    await rename(tmp, target);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
  if (durable) await fsyncDir(dirname(target));
}

/**
 * Creates `target` with `data` unless it exists (then false). link(2) fails with EEXIST
 * instead of replacing, so two processes creating the same file cannot clobber a third's
 * later update; the file appears complete or not at all.
 */
export async function createFileAtomic(
  tmpDir: string,
  target: string,
  data: string,
): Promise<boolean> {
  const tmp = await writeTemp(tmpDir, target, data);
  try {
    await link(tmp, target);
  } catch (e) {
    if (errnoCode(e) === "EEXIST") return false;
    throw e;
  } finally {
    await unlink(tmp).catch(() => {});
  }
  await fsyncDir(dirname(target));
  return true;
}

/** Parsed JSON of a file, undefined when the file does not exist, STORE_CORRUPT when unparsable. */
export async function readJsonFile(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    if (errnoCode(e) === "ENOENT") return undefined;
    throw e;
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new KimgError("STORE_CORRUPT", `store: ${path} is not valid JSON`, { cause: e });
  }
}

export function errnoCode(e: unknown): string | undefined {
  return typeof e === "object" && e !== null && "code" in e && typeof e.code === "string"
    ? e.code
    : undefined;
}

export { isJsonObject as isRecord } from "../json/index.ts";

/** Resolves after `ms`, or rejects with ABORTED when `signal` fires first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return delay(ms, undefined, { signal }).catch(() => {
    throw abortError(signal);
  });
}

export function abortError(signal: AbortSignal | undefined): KimgError {
  return new KimgError("ABORTED", "store: operation aborted", { cause: signal?.reason });
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw abortError(signal);
}
