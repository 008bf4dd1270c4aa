import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { fsyncDirShared } from "../../src/store/atomic-file.ts";
import { makeTempDir, removeTempDir } from "../helpers/cleanup.ts";

describe("fsyncDirShared (group commit of directory syncs)", () => {
  const dirs: string[] = [];
  after(() => {
    for (const d of dirs) removeTempDir(d);
  });
  const dir = (): string => {
    const d = makeTempDir("dirsync");
    dirs.push(d);
    return d;
  };

  it("starts a sync for the first caller; callers during it share the next one", async () => {
    const d = dir();
    const first = fsyncDirShared(d);
    const others = Array.from({ length: 9 }, () => fsyncDirShared(d));
    // The first call cannot join a sync that began before it: it gets its own.
    assert.notEqual(others[0], first);
    // Everyone who arrived while that one ran waits for one later sync, together.
    for (const o of others) assert.equal(o, others[0]);
    await Promise.all([first, ...others]);
    // Once all are done nothing is shared any more: the next caller starts afresh.
    const later = fsyncDirShared(d);
    assert.notEqual(later, first);
    assert.notEqual(later, others[0]);
    await later;
  });

  it("a caller after the shared sync finished gets a sync of its own", async () => {
    const d = dir();
    const a = fsyncDirShared(d);
    const b = fsyncDirShared(d);
    await b;
    const c = fsyncDirShared(d);
    assert.notEqual(c, a);
    assert.notEqual(c, b);
    await c;
  });

  it("different directories never share", async () => {
    const d = dir();
    const x = join(d, "x");
    const y = join(d, "y");
    mkdirSync(x);
    mkdirSync(y);
    const px = [fsyncDirShared(x), fsyncDirShared(x)];
    const py = [fsyncDirShared(y), fsyncDirShared(y)];
    assert.notEqual(px[1], py[1]);
    await Promise.all([...px, ...py]);
  });

  it("a failed sync fails everyone who shared it, and the next call tries again", async () => {
    const gone = join(dir(), "missing");
    const calls = [fsyncDirShared(gone), fsyncDirShared(gone), fsyncDirShared(gone)];
    const results = await Promise.allSettled(calls);
    for (const r of results) {
      assert.equal(r.status, "rejected");
      assert.equal((r.reason as NodeJS.ErrnoException).code, "ENOENT");
    }
    mkdirSync(gone);
    await fsyncDirShared(gone);
  });
});
