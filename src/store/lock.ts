// Exclusive locks between processes (and between callers in one process) as lock files.
//
// Acquire: write the owner record {pid, host, pid namespace, nonce} to a temp file and link(2)
// it to the lock path. link fails with EEXIST when the lock exists, so exactly one process
// wins, and the lock file is complete the moment it exists (a kill -9 between create and write
// cannot leave an empty lock, as with open(…, 'wx') + write).
//
// Stale locks: a holder on this host, boot and pid namespace is checked with kill(pid, 0); dead
// ⇒ stale at once (so a kill -9'd pull does not block the next one); a holder from an earlier
// boot of this host is stale too. A lock of this very process
// is live only while its nonce is in `held` (after a crash, a new process can get the old pid).
// Any lock whose mtime is older than `staleMs` is stale too: holders refresh it every
// `heartbeatMs`, so this catches holders we cannot check (other hosts or namespaces, reused
// pids). Breaking: under a short-lived `<lock>.break` file, re-read the lock and unlink it only
// if it is still the record judged stale, so two breakers cannot delete a lock a third process
// just took. The `.break` file holds its breaker's owner record, linked complete like a lock,
// so a breaker killed while holding it is seen dead at once (kill(pid, 0)) and its `.break` is
// removed; an empty or unreadable one (an older kimg's) ages out after 10 s. The one window
// left: two processes both removing the same dead breaker's `.break` at the same moment.
//
// Waiting: like containerd's OpenWriter, retry with a random delay whose ceiling doubles
// (core/content/helpers.go), where containerd's per-ref lock is in-process only
// (plugins/content/local/locks.go tryLock); ours spans processes.

import { randomBytes } from "node:crypto";
import { readFileSync, readlinkSync } from "node:fs";
import { link, open, readFile, stat, unlink, utimes } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";
import { errnoCode, isRecord, sleep, throwIfAborted, uniqueName } from "./atomic-file.ts";

export interface LockOwner {
  readonly pid: number;
  readonly host: string;
  /** Kernel boot id (`/proc/sys/kernel/random/boot_id`), "" where unknown. */
  readonly boot: string;
  /** The pid namespace (`/proc/self/ns/pid` link text), "" where unknown. */
  readonly ns: string;
  readonly nonce: string;
  /** ISO 8601. */
  readonly since: string;
}

export interface LockSettings {
  /** Same filesystem as the lock files: where the owner record is written before link(2). */
  readonly tmpDir: string;
  readonly staleMs: number;
  readonly heartbeatMs: number;
  readonly retryMinMs: number;
  readonly retryMaxMs: number;
  readonly now: () => number;
}

export interface AcquireOptions {
  readonly signal?: AbortSignal | undefined;
  /** Called once, when the lock is first found busy. */
  readonly onWait?: ((holder: LockOwner | undefined) => void) | undefined;
}

export interface HeldLock {
  readonly path: string;
  readonly nonce: string;
  /** Unlinks the lock file (if it is still ours) and stops the heartbeat. Idempotent. */
  release(): Promise<void>;
}

export type LockState =
  | { readonly state: "free" }
  | { readonly state: "held"; readonly owner: LockOwner | undefined }
  | { readonly state: "stale"; readonly owner: LockOwner | undefined; readonly text: string };

/** Nonces of the locks this process holds now. */
const held = new Set<string>();

/** A `.break` file older than this belongs to a breaker that died; it only lives for µs. */
const BREAKER_STALE_MS = 10_000;

function newOwner(s: LockSettings): LockOwner {
  const me = localIdentity();
  return {
    pid: process.pid,
    host: me.host,
    boot: me.boot,
    ns: me.ns,
    nonce: randomBytes(12).toString("hex"),
    since: new Date(s.now()).toISOString(),
  };
}

/**
 * Writes `owner` to a temp file and link(2)s it to `path`: true when linked (the nonce is in
 * `held` from before the file can exist), false when `path` exists.
 */
async function linkOwnerFile(path: string, owner: LockOwner, s: LockSettings): Promise<boolean> {
  const tmp = join(s.tmpDir, uniqueName("lock"));
  const fh = await open(tmp, "wx", 0o644);
  try {
    await fh.writeFile(JSON.stringify(owner), "utf8");
  } finally {
    await fh.close();
  }
  let linked = false;
  // Count the nonce as held before the file can exist: another caller in this process that
  // sees our pid in it must not take it for a leftover of a dead process.
  held.add(owner.nonce);
  try {
    await link(tmp, path);
    linked = true;
  } catch (e) {
    if (errnoCode(e) !== "EEXIST") throw e;
  } finally {
    if (!linked) held.delete(owner.nonce);
    await unlink(tmp).catch(() => {});
  }
  return linked;
}

/**
 * Removes the `.break` file at `breaker` if its breaker is dead (its owner record says so, as
 * for a lock), or, when it has no readable record, if it is older than 10 s. True when it was
 * removed (or was gone already).
 */
export async function clearDeadBreaker(breaker: string, s: LockSettings): Promise<boolean> {
  let text: string;
  let mtimeMs: number;
  try {
    mtimeMs = (await stat(breaker)).mtimeMs;
    text = await readFile(breaker, "utf8");
  } catch (e) {
    if (errnoCode(e) === "ENOENT") return true;
    throw e;
  }
  const owner = parseOwner(text);
  const dead =
    owner === undefined
      ? s.now() - mtimeMs > BREAKER_STALE_MS
      : isStale(owner, mtimeMs, { ...s, staleMs: BREAKER_STALE_MS });
  if (!dead) return false;
  // Only the record judged dead: a live breaker's new file is left alone (but for the window in
  // the file comment).
  const again = await readFile(breaker, "utf8").catch(() => undefined);
  if (again === text) await unlink(breaker).catch(() => {});
  return true;
}

let identity: { host: string; boot: string; ns: string } | undefined;

/** Where pids mean something: this host, this boot, this pid namespace (Linux; "" elsewhere). */
export function localIdentity(): {
  readonly host: string;
  readonly boot: string;
  readonly ns: string;
} {
  if (identity === undefined) {
    let boot = "";
    let ns = "";
    try {
      boot = readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim();
    } catch {
      // not Linux
    }
    try {
      ns = readlinkSync("/proc/self/ns/pid");
    } catch {
      // not Linux
    }
    identity = { host: hostname(), boot, ns };
  }
  return identity;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists, owned by someone else.
    return errnoCode(e) !== "ESRCH";
  }
}

function parseOwner(text: string): LockOwner | undefined {
  try {
    const o = JSON.parse(text) as unknown;
    if (
      isRecord(o) &&
      typeof o.pid === "number" &&
      Number.isSafeInteger(o.pid) &&
      o.pid > 0 && // kill(0 or -1, 0) would ask about process groups
      typeof o.host === "string" &&
      typeof o.boot === "string" &&
      typeof o.ns === "string" &&
      typeof o.nonce === "string" &&
      typeof o.since === "string"
    ) {
      return { pid: o.pid, host: o.host, boot: o.boot, ns: o.ns, nonce: o.nonce, since: o.since };
    }
  } catch {
    // fall through
  }
  return undefined;
}

function isStale(owner: LockOwner | undefined, mtimeMs: number, s: LockSettings): boolean {
  // Every lock file is linked complete; an unreadable one was damaged (power loss, hand edit).
  if (owner === undefined) return true;
  if (s.now() - mtimeMs > s.staleMs) return true;
  const me = localIdentity();
  if (owner.host !== me.host) return false;
  // Same host, earlier boot: every process of that boot is gone.
  if (me.boot !== "" && owner.boot !== me.boot) return true;
  if (owner.ns === me.ns) {
    if (owner.pid === process.pid) return !held.has(owner.nonce);
    return !pidAlive(owner.pid);
  }
  return false;
}

/** What is at `path` now: no lock, a live holder, or a stale record (with its exact text). */
export async function inspectLock(path: string, s: LockSettings): Promise<LockState> {
  let text: string;
  let mtimeMs: number;
  try {
    // stat first: a heartbeat between the two reads only makes the lock look younger.
    mtimeMs = (await stat(path)).mtimeMs;
    text = await readFile(path, "utf8");
  } catch (e) {
    if (errnoCode(e) === "ENOENT") return { state: "free" };
    throw e;
  }
  const owner = parseOwner(text);
  return isStale(owner, mtimeMs, s) ? { state: "stale", owner, text } : { state: "held", owner };
}

/** Unlinks the lock at `path` if it still holds exactly `observed` (see file comment). */
export async function breakLock(path: string, observed: string, s: LockSettings): Promise<void> {
  const breaker = `${path}.break`;
  // Two attempts: the second after removing a dead breaker's `.break`.
  for (let attempt = 0; attempt < 2; attempt++) {
    const owner = newOwner(s);
    if (await linkOwnerFile(breaker, owner, s)) {
      try {
        const current = await readFile(path, "utf8").catch(() => undefined);
        if (current === observed) await unlink(path).catch(() => {});
      } finally {
        await unlink(breaker).catch(() => {});
        held.delete(owner.nonce);
      }
      return;
    }
    // Another process is breaking it now, or died doing so.
    if (!(await clearDeadBreaker(breaker, s))) return;
  }
}

/** Takes the lock if it is free (breaking a stale one); else reports who holds it. */
export async function tryLock(
  path: string,
  s: LockSettings,
): Promise<HeldLock | { readonly busy: LockOwner | undefined }> {
  const owner = newOwner(s);
  // Two attempts: the second after breaking a stale lock.
  for (let attempt = 0; attempt < 2; attempt++) {
    if (await linkOwnerFile(path, owner, s)) return holdLock(path, owner.nonce, s);
    const st = await inspectLock(path, s);
    if (st.state === "held") return { busy: st.owner };
    if (st.state === "stale") await breakLock(path, st.text, s);
  }
  const st = await inspectLock(path, s);
  return { busy: st.state === "held" ? st.owner : undefined };
}

function holdLock(path: string, nonce: string, s: LockSettings): HeldLock {
  const timer = setInterval(() => {
    const t = new Date(s.now());
    utimes(path, t, t).catch(() => {});
  }, s.heartbeatMs);
  timer.unref();
  let released = false;
  return {
    path,
    nonce,
    async release() {
      if (released) return;
      released = true;
      clearInterval(timer);
      // Only unlink our own record: if we were judged stale and broken, the file is another's.
      const current = await readFile(path, "utf8").catch(() => undefined);
      if (current !== undefined && parseOwner(current)?.nonce === nonce) {
        await unlink(path).catch(() => {});
      }
      held.delete(nonce);
    },
  };
}

/** Waits for the lock (random, doubling delays) until it is ours or `signal` aborts. */
export async function acquireLock(
  path: string,
  s: LockSettings,
  opts: AcquireOptions = {},
): Promise<HeldLock> {
  let ceiling = s.retryMinMs;
  let told = false;
  for (;;) {
    throwIfAborted(opts.signal);
    const r = await tryLock(path, s);
    if (!("busy" in r)) return r;
    if (!told) {
      told = true;
      opts.onWait?.(r.busy);
    }
    // Random in [ceiling/2, ceiling): spreads waiters out (containerd: rand.Intn(retry)).
    await sleep(ceiling / 2 + Math.random() * (ceiling / 2), opts.signal);
    ceiling = Math.min(ceiling * 2, s.retryMaxMs);
  }
}

/** Per lock path: settles when the last caller of withLock in this process is done. */
const localTails = new Map<string, Promise<void>>();

/**
 * Runs `fn` holding the lock at `path`. Callers in one process queue in order on a promise
 * first (no polling among themselves); the file lock then orders processes.
 */
export async function withLock<T>(
  path: string,
  s: LockSettings,
  fn: () => Promise<T>,
  opts: AcquireOptions = {},
): Promise<T> {
  const prev = localTails.get(path) ?? Promise.resolve();
  let done = (): void => {};
  const mine = new Promise<void>((resolve) => {
    done = resolve;
  });
  const tail = prev.then(() => mine);
  localTails.set(path, tail);
  try {
    await prev;
    const lock = await acquireLock(path, s, opts);
    try {
      return await fn();
    } finally {
      await lock.release();
    }
  } finally {
    done();
    if (localTails.get(path) === tail) localTails.delete(path);
  }
}
