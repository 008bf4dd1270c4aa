// The store's tunables in one place, each with its reason, and the rule for where the store
// lives. No I/O here: the caller passes the environment and home directory in.

import { isAbsolute, join } from "node:path";

/** Options every store operation understands; all optional, defaults in STORE_DEFAULTS. */
export interface StoreOptions {
  /** Bytes written between checkpoints (record the prefix digest; no fsync). */
  readonly checkpointBytes?: number | undefined;
  /** A lock whose file has not been refreshed for this long is stale, whoever holds it. */
  readonly lockStaleMs?: number | undefined;
  /** How often a holder refreshes its lock file's mtime. */
  readonly lockHeartbeatMs?: number | undefined;
  /** First and last delay when waiting for another process's lock. */
  readonly lockRetryMinMs?: number | undefined;
  readonly lockRetryMaxMs?: number | undefined;
  /** Last delay when waiting for the store (metadata) lock, which is held for milliseconds. */
  readonly storeLockRetryMaxMs?: number | undefined;
  /** fsck removes abandoned ingests (no live writer) not touched for this long. */
  readonly ingestMaxAgeMs?: number | undefined;
  /** fsck removes temp files older than this. */
  readonly tmpMaxAgeMs?: number | undefined;
  /** prune keeps unreferenced blobs committed (or reused) less than this long ago. */
  readonly pruneGraceMs?: number | undefined;
  /** Read buffer for hashing and streaming blobs. */
  readonly readChunkBytes?: number | undefined;
  /**
   * The clock (ms since the epoch) for the times the store records (commit mtimes, pulledAt,
   * lastUsed, sidecars) and the ages prune and fsck judge; injected so tests can age things.
   * Locks always use the real clock.
   */
  readonly now?: (() => number) | undefined;
}

/** Every option set: `Required` would keep the `| undefined` the fields declare. */
export type ResolvedStoreOptions = {
  readonly [K in keyof StoreOptions]-?: Exclude<StoreOptions[K], undefined>;
};

const MIB = 1024 * 1024;

export const STORE_DEFAULTS: Readonly<ResolvedStoreOptions> = Object.freeze({
  // A checkpoint costs a sha256 state copy and a small JSON write + rename, no fsync (resume
  // re-hashes the prefix it claims; ingest.ts). Every 8 MiB keeps that far under 1% of a
  // download and lets a resume detect a corrupt prefix early (a kill -9 costs nothing: bytes
  // after the checkpoint are kept and verified by the final digest).
  checkpointBytes: 8 * MIB,
  // Locks of dead local processes are broken at once (pid check). The age rule is for holders
  // we cannot check: another host on a shared volume, another pid namespace, a reused pid.
  // Five minutes without a heartbeat means the holder is gone or hung.
  lockStaleMs: 5 * 60_000,
  lockHeartbeatMs: 30_000,
  // containerd's OpenWriter waits with a random delay whose ceiling doubles from 16 ms to
  // 2048 ms (core/content/helpers.go); same shape here.
  lockRetryMinMs: 16,
  lockRetryMaxMs: 2048,
  // The store lock is held for one small JSON write; backing off to 2 s behind it would let a
  // busy neighbour starve us. 128 ms bounds the polling to a few reads a second.
  storeLockRetryMaxMs: 128,
  // A day: long enough to resume a pull interrupted overnight, short enough not to hoard disk.
  ingestMaxAgeMs: 24 * 60 * 60_000,
  // Temp files live for the milliseconds of one metadata write; ten minutes is generous.
  tmpMaxAgeMs: 10 * 60_000,
  // A pull commits blobs first and records the image last; prune must not reap blobs in that
  // window (containerd holds a lease for it: client/pull.go WithLease). One hour covers a slow
  // pull of a large image; reused blobs get their mtime refreshed so the window restarts.
  pruneGraceMs: 60 * 60_000,
  // containerd's local store copies with a 1 MiB pooled buffer (plugins/content/local/store.go).
  readChunkBytes: MIB,
  now: Date.now,
});

export function resolveStoreOptions(opts: StoreOptions | undefined): ResolvedStoreOptions {
  const r: ResolvedStoreOptions = { ...STORE_DEFAULTS };
  if (opts === undefined) return r;
  for (const [k, v] of Object.entries(opts)) {
    if (v !== undefined) (r as Record<string, unknown>)[k] = v;
  }
  return r;
}

/**
 * Where the store lives: `$KIMG_STORE` when set and not empty, else
 * `${XDG_DATA_HOME:-~/.local/share}/kimg`. Like the XDG Base Directory spec, a relative
 * `XDG_DATA_HOME` is ignored. Pure: pass `process.env` and `os.homedir()`.
 *
 * @example defaultStoreDir({ XDG_DATA_HOME: "/data" }, "/home/me") // "/data/kimg"
 */
export function defaultStoreDir(
  env: Readonly<Record<string, string | undefined>>,
  homedir: string,
): string {
  const explicit = env.KIMG_STORE;
  if (explicit !== undefined && explicit !== "") return explicit;
  const xdg = env.XDG_DATA_HOME;
  const base =
    xdg !== undefined && xdg !== "" && isAbsolute(xdg) ? xdg : join(homedir, ".local", "share");
  return join(base, "kimg");
}
