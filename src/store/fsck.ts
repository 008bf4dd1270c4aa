// fsck/gc for the store: the steps that clean up after crashes, run in order under the store
// lock, each timed (like cacache's lib/verify.js: markStartTime, fixPerms, garbageCollect,
// rebuildIndex, cleanTmp, …). Nothing here is needed for correctness — a kill -9 never makes a
// partial blob visible — only to give back disk space and repair index.json.

import { readdir, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { errnoCode } from "./atomic-file.ts";
import type { ResolvedStoreOptions } from "./defaults.ts";
import type { StoreMetadata } from "./image-db.ts";
import { readIngestStatus } from "./ingest.ts";
import { BLOB_ALGORITHMS, digestOfKey, parseBlobDigest, type StoreLayout } from "./layout.ts";
import { breakLock, clearDeadBreaker, inspectLock, type LockSettings, tryLock } from "./lock.ts";
import { hashFile } from "./verify.ts";

export interface FsckOptions {
  /** Re-hash every blob and delete those that do not match their name. Slow. Default false. */
  readonly verifyBlobs?: boolean | undefined;
}

export interface FsckReport {
  readonly steps: readonly { readonly name: string; readonly ms: number }[];
  /** Temp files removed (names under tmp/). */
  readonly removedTemp: readonly string[];
  /** Stale lock files broken (names under locks/). */
  readonly brokenLocks: readonly string[];
  /** Ingests removed: abandoned, unusable, or for blobs already committed (digests or names). */
  readonly removedIngests: readonly string[];
  /** Ingests kept: resumable, or in use by a live writer. */
  readonly keptIngests: readonly string[];
  /** Blobs deleted because they did not hash to their name (only with verifyBlobs). */
  readonly corruptBlobs: readonly string[];
  /** Image records whose blobs are missing. */
  readonly missingBlobs: readonly { readonly image: string; readonly digest: string }[];
  /** index.json was rewritten to match kimg.json. */
  readonly indexRepaired: boolean;
}

export interface FsckContext {
  readonly layout: StoreLayout;
  readonly options: ResolvedStoreOptions;
  readonly lockSettings: LockSettings;
  /** True when this process has a writer open (or opening) under that ingest lock path. */
  readonly inflight: (lockPath: string) => boolean;
  readonly readMetadata: () => Promise<StoreMetadata>;
  /** Rewrites index.json from kimg.json; true when it changed. */
  readonly syncIndex: () => Promise<boolean>;
}

async function names(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).sort();
  } catch (e) {
    if (errnoCode(e) === "ENOENT") return [];
    throw e;
  }
}

async function mtimeMs(path: string): Promise<number | undefined> {
  try {
    return (await stat(path)).mtimeMs;
  } catch {
    return undefined;
  }
}

export async function runFsck(ctx: FsckContext, opts: FsckOptions): Promise<FsckReport> {
  const { layout, options, lockSettings } = ctx;
  const now = options.now;
  const steps: { name: string; ms: number }[] = [];
  const step = async (name: string, fn: () => Promise<void>): Promise<void> => {
    const t0 = performance.now();
    await fn();
    steps.push({ name, ms: performance.now() - t0 });
  };
  const removedTemp: string[] = [];
  const brokenLocks: string[] = [];
  const removedIngests: string[] = [];
  const keptIngests: string[] = [];
  const corruptBlobs: string[] = [];
  const missingBlobs: { image: string; digest: string }[] = [];
  let indexRepaired = false;

  await step("cleanTemp", async () => {
    for (const n of await names(layout.tmp)) {
      const p = join(layout.tmp, n);
      const m = await mtimeMs(p);
      if (m !== undefined && now() - m > options.tmpMaxAgeMs) {
        await rm(p, { recursive: true, force: true });
        removedTemp.push(n);
      }
    }
  });

  await step("breakStaleLocks", async () => {
    for (const n of await names(layout.locks)) {
      const p = join(layout.locks, n);
      if (n.endsWith(".break")) {
        // A breaker that died holding it (its record names a dead process), or an old one.
        if (await clearDeadBreaker(p, lockSettings)) brokenLocks.push(n);
        continue;
      }
      if (p === layout.storeLock) continue; // ours, now
      const st = await inspectLock(p, lockSettings);
      if (st.state === "stale") {
        await breakLock(p, st.text, lockSettings);
        brokenLocks.push(n);
      }
    }
  });

  await step("cleanIngests", async () => {
    for (const n of await names(layout.ingestRoot)) {
      const dir = join(layout.ingestRoot, n);
      const d = digestOfKey(n);
      if (d === undefined) {
        await rm(dir, { recursive: true, force: true });
        removedIngests.push(n);
        continue;
      }
      if (ctx.inflight(layout.ingestLock(d))) {
        keptIngests.push(d.digest);
        continue;
      }
      const lock = await tryLock(layout.ingestLock(d), lockSettings);
      if ("busy" in lock) {
        keptIngests.push(d.digest); // a live writer in another process
        continue;
      }
      try {
        let remove: boolean;
        const committed = await mtimeMs(layout.blobPath(d));
        const data = await mtimeMs(join(dir, "data"));
        const status = await readIngestStatus(dir, { digest: d.digest });
        if (committed !== undefined || data === undefined || status === undefined) {
          remove = true; // done already, nothing to resume, or not resumable anyway
        } else {
          const touched = Math.max(data, Date.parse(status.updatedAt) || 0);
          remove = now() - touched > options.ingestMaxAgeMs;
        }
        if (remove) {
          await rm(dir, { recursive: true, force: true });
          removedIngests.push(d.digest);
        } else {
          keptIngests.push(d.digest);
        }
      } finally {
        await lock.release();
      }
    }
  });

  if (opts.verifyBlobs === true) {
    await step("verifyBlobs", async () => {
      for (const alg of BLOB_ALGORITHMS) {
        for (const n of await names(layout.blobDir(alg))) {
          const digest = `${alg}:${n}`;
          let valid = true;
          try {
            parseBlobDigest(digest);
          } catch {
            valid = false;
          }
          const p = join(layout.blobDir(alg), n);
          if (valid) {
            const h = await hashFile(p, alg, options.readChunkBytes);
            if (h.digest === digest) continue;
          }
          await rm(p, { recursive: true, force: true });
          corruptBlobs.push(digest);
        }
      }
    });
  }

  await step("checkImages", async () => {
    const meta = await ctx.readMetadata();
    for (const r of Object.values(meta.images)) {
      for (const digest of r.blobs) {
        if ((await mtimeMs(layout.blobPath(parseBlobDigest(digest)))) === undefined) {
          missingBlobs.push({ image: r.name, digest });
        }
      }
    }
  });

  await step("syncIndex", async () => {
    indexRepaired = await ctx.syncIndex();
  });

  return {
    steps,
    removedTemp,
    brokenLocks,
    removedIngests,
    keptIngests,
    corruptBlobs,
    missingBlobs,
    indexRepaired,
  };
}
