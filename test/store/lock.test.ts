import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { mkdir, readdir } from "node:fs/promises";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { isKimgError } from "../../src/errors.ts";
import {
  acquireLock,
  inspectLock,
  type LockSettings,
  localIdentity,
  tryLock,
  withLock,
} from "../../src/store/lock.ts";
import { makeTempDir, removeTempDir } from "../helpers/cleanup.ts";

describe("file locks", () => {
  const dirs: string[] = [];
  after(() => {
    for (const d of dirs) removeTempDir(d);
  });
  async function setup(over: Partial<LockSettings> = {}) {
    const dir = makeTempDir("lock");
    dirs.push(dir);
    await mkdir(join(dir, "tmp"));
    const s: LockSettings = {
      tmpDir: join(dir, "tmp"),
      staleMs: 60_000,
      heartbeatMs: 10_000,
      retryMinMs: 2,
      retryMaxMs: 20,
      now: Date.now,
      ...over,
    };
    return { path: join(dir, "x.lock"), s, dir };
  }
  const record = (pid: number, nonce = "n") =>
    JSON.stringify({ pid, ...localIdentity(), nonce, since: new Date().toISOString() });

  it("is exclusive, and free again after release", async () => {
    const { path, s, dir } = await setup();
    const a = await tryLock(path, s);
    assert.ok(!("busy" in a));
    const b = await tryLock(path, s);
    assert.ok("busy" in b);
    assert.equal(b.busy?.pid, process.pid);
    await a.release();
    await a.release(); // idempotent
    const c = await tryLock(path, s);
    assert.ok(!("busy" in c));
    await c.release();
    assert.deepEqual(await readdir(join(dir, "tmp")), [], "no temp files left");
  });

  it("breaks the lock of a dead process at once", async () => {
    const { path, s } = await setup();
    const dead = spawnSync(process.execPath, ["-e", ""]).pid;
    assert.ok(dead !== undefined);
    writeFileSync(path, record(dead));
    assert.equal((await inspectLock(path, s)).state, "stale");
    const l = await tryLock(path, s);
    assert.ok(!("busy" in l));
    assert.equal(JSON.parse(readFileSync(path, "utf8")).pid, process.pid);
    await l.release();
  });

  it("treats a record with this pid but an unknown nonce as a leftover (pid reuse)", async () => {
    const { path, s } = await setup();
    writeFileSync(path, record(process.pid, "not-ours"));
    assert.equal((await inspectLock(path, s)).state, "stale");
  });

  it("respects a live process's lock until its heartbeat is older than staleMs", async () => {
    const { path, s } = await setup({ staleMs: 1000 });
    writeFileSync(path, record(process.ppid));
    assert.equal((await inspectLock(path, s)).state, "held");
    const old = new Date(Date.now() - 5000);
    utimesSync(path, old, old);
    assert.equal((await inspectLock(path, s)).state, "stale");
  });

  it("treats a lock from an earlier boot of this host as stale", async (t) => {
    if (localIdentity().boot === "") {
      t.skip("no boot id on this system");
      return;
    }
    const { path, s } = await setup();
    writeFileSync(path, JSON.stringify({ ...JSON.parse(record(process.ppid)), boot: "earlier" }));
    assert.equal((await inspectLock(path, s)).state, "stale");
  });

  it("treats another host's lock by age only, and an unreadable one as stale", async () => {
    const { path, s } = await setup({ staleMs: 1000 });
    writeFileSync(
      path,
      JSON.stringify({ pid: 1, host: "elsewhere", boot: "", ns: "", nonce: "n", since: "" }),
    );
    assert.equal((await inspectLock(path, s)).state, "held");
    writeFileSync(path, "{torn");
    assert.equal((await inspectLock(path, s)).state, "stale");
  });

  it("waits for a held lock, tells once, and can be aborted", async () => {
    const { path, s } = await setup();
    const a = await tryLock(path, s);
    assert.ok(!("busy" in a));
    let told = 0;
    const waiting = acquireLock(path, s, { onWait: () => told++ });
    setTimeout(() => void a.release(), 50);
    const b = await waiting;
    assert.equal(told, 1);
    const ac = new AbortController();
    const aborted = acquireLock(path, s, { signal: ac.signal });
    setTimeout(() => ac.abort(), 20);
    await assert.rejects(aborted, (e: unknown) => isKimgError(e, "ABORTED"));
    await b.release();
  });

  it("withLock runs callers one at a time", async () => {
    const { path, s } = await setup();
    let inside = 0;
    let max = 0;
    await Promise.all(
      Array.from({ length: 10 }, () =>
        withLock(path, s, async () => {
          inside++;
          max = Math.max(max, inside);
          await new Promise((r) => setTimeout(r, 2));
          inside--;
        }),
      ),
    );
    assert.equal(max, 1);
  });

  it("refreshes the lock file's mtime while held", async () => {
    const { path, s } = await setup({ heartbeatMs: 10 });
    const l = await tryLock(path, s);
    assert.ok(!("busy" in l));
    const old = new Date(Date.now() - 60_000);
    utimesSync(path, old, old);
    await new Promise((r) => setTimeout(r, 50));
    const { mtimeMs } = statSync(path);
    assert.ok(Date.now() - mtimeMs < 5000);
    await l.release();
  });
});
