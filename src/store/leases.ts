// Leases: the blobs that work in flight will reference, kept safe from prune, rmi and gc until
// that work records its image or ends. containerd does the same: a pull runs under a lease
// (client/pull.go `WithLease`), content a lease references is a GC root
// (core/metadata/gc.go `scanRoots`, "leases"), and an expired or released lease stops
// protecting it. Without one, rmi's "delete the blobs nothing references" raced a pull that had
// committed its manifest and layers but not yet recorded the image (issue 10 item 1).
//
//   <root>/leases/<id>.lock   the holder: a lock-file record (pid, host, boot, heartbeat)
//   <root>/leases/<id>.json   {"digests": [...]}: what it protects, rewritten under the store lock
//
// A lease lives while its lock is held: a holder that died (kill -9, crash) is judged stale the
// way lock.ts judges any lock (dead pid at once, else no heartbeat for `lockStaleMs`), and its
// lease is then dropped by the next prune. The .json is written only after the .lock exists and
// removed before it, so a .json without a live .lock is always garbage.
//
// Ordering that makes it safe: a pull adds a digest to its lease (under the lease lock) BEFORE
// it checks whether the blob is present; prune and rmi read the leases under the lease lock
// and delete while still holding it. So either the lease was written first and the blob is
// kept, or the blob was deleted first and the pull's presence check sees it absent and
// downloads it.

import { randomBytes } from "node:crypto";
import { mkdir, readdir, unlink } from "node:fs/promises";
import { join } from "node:path";
import { errnoCode, isRecord, readJsonFile, writeFileAtomic } from "./atomic-file.ts";
import { parseBlobDigest } from "./layout.ts";
import { breakLock, type HeldLock, inspectLock, type LockSettings, tryLock } from "./lock.ts";

/** What a pull (or any writer of images) holds while it works. */
export interface Lease {
  readonly id: string;
  /** Protects these blobs from now until release. Call before checking they are present. */
  add(digests: readonly string[]): Promise<void>;
  /** Stops protecting. Idempotent. */
  release(): Promise<void>;
}

export interface LeaseFiles {
  readonly dir: string;
  readonly tmp: string;
  readonly lockSettings: LockSettings;
  /**
   * Runs `fn` under the lease lock (`locks/leases.lock`): its own lock, not the store lock, so
   * a pull adding to its lease never queues behind image-record writes. Readers take it inside
   * the store lock (store → leases, never the other way: no deadlock).
   */
  readonly locked: <T>(fn: () => Promise<T>) => Promise<T>;
}

const lockPath = (dir: string, id: string): string => join(dir, `${id}.lock`);
const digestsPath = (dir: string, id: string): string => join(dir, `${id}.json`);

export async function openLease(f: LeaseFiles): Promise<Lease> {
  await mkdir(f.dir, { recursive: true }); // stores made before leases existed lack it
  const id = randomBytes(12).toString("hex");
  const r = await tryLock(lockPath(f.dir, id), f.lockSettings);
  if ("busy" in r) throw new Error(`lease ${id}: lock file already exists`); // 96 random bits
  const lock: HeldLock = r;
  const digests = new Set<string>();
  let released = false;
  return {
    id,
    async add(list) {
      if (released) throw new Error(`lease ${id}: add after release`);
      const fresh = list.filter((d) => !digests.has(d));
      if (fresh.length === 0) return;
      for (const d of fresh) parseBlobDigest(d);
      await f.locked(async () => {
        for (const d of fresh) digests.add(d);
        await writeFileAtomic(
          f.tmp,
          digestsPath(f.dir, id),
          `${JSON.stringify({ digests: [...digests].sort() })}\n`,
          // No fsync: a lease means nothing after a crash (its holder is dead).
          { durable: false },
        );
      });
    },
    async release() {
      if (released) return;
      released = true;
      await unlink(digestsPath(f.dir, id)).catch(() => {});
      await lock.release();
    },
  };
}

/**
 * Every digest a live lease protects. Call holding the store lock and then the lease lock
 * (`f.locked`), and delete before releasing them. Leases whose holder is gone are removed on
 * the way (their .json, and a stale .lock).
 */
export async function leasedDigests(f: LeaseFiles): Promise<Set<string>> {
  const out = new Set<string>();
  let names: string[];
  try {
    names = await readdir(f.dir);
  } catch (e) {
    if (errnoCode(e) === "ENOENT") return out;
    throw e;
  }
  for (const name of names) {
    if (!name.endsWith(".json")) continue;
    const id = name.slice(0, -".json".length);
    const st = await inspectLock(lockPath(f.dir, id), f.lockSettings);
    if (st.state !== "held") {
      await unlink(digestsPath(f.dir, id)).catch(() => {});
      if (st.state === "stale") await breakLock(lockPath(f.dir, id), st.text, f.lockSettings);
      continue;
    }
    const x = await readJsonFile(digestsPath(f.dir, id)).catch(() => undefined);
    if (!isRecord(x) || !Array.isArray(x.digests)) continue;
    for (const d of x.digests) if (typeof d === "string") out.add(d);
  }
  return out;
}
