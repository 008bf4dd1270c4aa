// Tests for src/cli/bin.ts, the launcher (package.json "bin", built as dist/cli/kimg.cjs): it
// runs the bundled CLI with V8's code cache (docs/performance.md "Start-up"). The cache is
// written once per command, private to the user, and a damaged or foreign cache only costs a
// compile: the output never changes.

import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { promisify } from "node:util";
import { makeTempDir, removeTempDir } from "../helpers/cleanup.ts";
import { KIMG_BIN } from "../helpers/kimg-cli.ts";

const exec = promisify(execFile);

describe("kimg launcher: the code cache", () => {
  const dirs: string[] = [];
  after(() => {
    for (const d of dirs) removeTempDir(d);
  });
  const kimg = (dir: string, args: string[], extra: Record<string, string> = {}) =>
    exec(KIMG_BIN, args, {
      encoding: "utf8",
      env: {
        PATH: process.env.PATH ?? "",
        HOME: dir,
        KIMG_COMPILE_CACHE_DIR: join(dir, "cc"),
        ...extra,
      },
    });
  const files = (dir: string) => readdirSync(join(dir, "cc")).sort();

  it("is written by the first run of a command, privately, and not again by the next", async () => {
    const dir = makeTempDir("kimg-cc-");
    dirs.push(dir);
    const first = await kimg(dir, ["parse", "nginx"]);
    const [commands, data] = files(dir);
    assert.match(data ?? "", /^cli-[0-9a-f]{8}\.v8cache$/);
    assert.match(commands ?? "", /^cli-[0-9a-f]{8}\.commands$/);
    assert.equal(statSync(join(dir, "cc")).mode & 0o777, 0o700);
    assert.equal(statSync(join(dir, "cc", data as string)).mode & 0o777, 0o600);
    assert.equal(readFileSync(join(dir, "cc", commands as string), "utf8"), "parse");
    const before = statSync(join(dir, "cc", data as string)).mtimeMs;
    const again = await kimg(dir, ["parse", "nginx"]);
    assert.equal(again.stdout, first.stdout);
    assert.equal(statSync(join(dir, "cc", data as string)).mtimeMs, before);
    // A command the cache has not seen adds its functions.
    await kimg(dir, ["--version"]);
    assert.equal(readFileSync(join(dir, "cc", commands as string), "utf8"), "parse\n-");
  });

  it("survives a damaged cache: same output, and the cache is rewritten", async () => {
    const dir = makeTempDir("kimg-cc-");
    dirs.push(dir);
    const good = await kimg(dir, ["parse", "nginx:1.25"]);
    const data = files(dir).find((f) => f.endsWith(".v8cache")) as string;
    writeFileSync(join(dir, "cc", data), Buffer.alloc(4096, 7));
    const after = await kimg(dir, ["parse", "nginx:1.25"]);
    assert.equal(after.stdout, good.stdout);
    assert.notDeepEqual(readFileSync(join(dir, "cc", data)), Buffer.alloc(4096, 7));
  });

  it("a fresh cache prunes other builds' caches untouched for a day, and keeps recent ones", async () => {
    const dir = makeTempDir("kimg-cc-");
    dirs.push(dir);
    mkdirSync(join(dir, "cc"));
    const old = ["cli-00000001.v8cache", "cli-00000001.commands"];
    const recent = "cli-00000002.v8cache";
    const foreign = "notes.txt";
    for (const f of [...old, recent, foreign]) writeFileSync(join(dir, "cc", f), "x");
    const twoDaysAgo = (Date.now() - 2 * 24 * 3600 * 1000) / 1000;
    for (const f of [...old, foreign]) utimesSync(join(dir, "cc", f), twoDaysAgo, twoDaysAgo);
    await kimg(dir, ["--version"]);
    const left = files(dir);
    for (const f of old) assert.ok(!left.includes(f), `${f} should be pruned: ${left}`);
    assert.ok(left.includes(recent), "a recent cache (another Node in use) stays");
    assert.ok(left.includes(foreign), "only kimg's own cache files are pruned");
    assert.equal(left.filter((f) => /^cli-[0-9a-f]{8}\.v8cache$/.test(f)).length, 2);
  });

  it("KIMG_COMPILE_CACHE=0 writes nothing", async () => {
    const dir = makeTempDir("kimg-cc-");
    dirs.push(dir);
    const r = await kimg(dir, ["--version"], { KIMG_COMPILE_CACHE: "0" });
    assert.equal(r.stdout.trim(), "0.1.0");
    assert.throws(() => readdirSync(join(dir, "cc")), /ENOENT/);
  });
});
