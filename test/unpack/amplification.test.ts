// Issue 19 items 6 and 7: tiny hostile layers must not cost minutes (no process per xattr or
// FIFO, bounded path resolution, a compression-ratio cap), and hostile header values get their
// proper error, never an internal one. Real tar layers (tar-stream, gzip) unpacked onto the real
// file system (ext4 here: its 65,000-link limit is what EMLINK tests). The times are measured
// by scripts/bench-hostile-unpack.ts (docs/performance.md), not asserted here.

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { lstatSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { isKimgError } from "../../src/errors.ts";
import {
  MAX_XATTRS_PER_ENTRY,
  type UnpackOptions,
  type UnpackReport,
  unpackLayers,
} from "../../src/unpack/index.ts";
import { makeTempDir, removeTempDir } from "../helpers/cleanup.ts";
import { buildLayer, type TarPart } from "../helpers/layers.ts";

const work = makeTempDir("kimg-amplify-");
after(() => removeTempDir(work));
let n = 0;
const fresh = (): string => join(work, `out${n++}`);

async function unpack(
  entries: readonly TarPart[],
  opts: UnpackOptions = {},
): Promise<{
  dir: string;
  report?: UnpackReport;
  error?: unknown;
}> {
  const layer = await buildLayer({ entries, compression: "gzip" });
  const dir = fresh();
  try {
    return { dir, report: await unpackLayers([layer.input()], dir, opts) };
  } catch (error) {
    return { dir, error };
  }
}

function assertRefused(r: { error?: unknown; dir: string }, code: string, re: RegExp): void {
  assert.ok(isKimgError(r.error), `expected ${code}, got ${String(r.error)}`);
  assert.equal(r.error.code, code, r.error.message);
  assert.match(r.error.message, re);
  assert.throws(() => lstatSync(r.dir), /ENOENT/, "DIR is not created");
  assert.deepEqual(
    readdirSync(work).filter((x) => x.includes(".kimg-")),
    [],
    "no temp sibling left",
  );
}

const xattrPax = (count: number): Record<string, string> =>
  Object.fromEntries(Array.from({ length: count }, (_, i) => [`SCHILY.xattr.user.k${i}`, `v${i}`]));

describe("work amplification (issue 19 item 6)", { timeout: 120_000 }, () => {
  it(`${MAX_XATTRS_PER_ENTRY} xattrs on one entry are applied, all of them`, async () => {
    const r = await unpack([{ name: "f", content: "x", pax: xattrPax(MAX_XATTRS_PER_ENTRY) }]);
    assert.equal(r.error, undefined, String(r.error));
    const dump = execFileSync("getfattr", ["-d", "--absolute-names", join(r.dir, "f")], {
      encoding: "utf8",
    });
    assert.equal(dump.split("\n").filter((l) => l.startsWith("user.k")).length, 128);
  });

  it("2,000 xattrs on one entry: refused, naming the entry", async () => {
    const r = await unpack([{ name: "many", content: "x", pax: xattrPax(2000) }]);
    assertRefused(r, "UNPACK_LIMIT", /many: 2000 xattrs, more than 128 on one entry/);
  });

  it("5,000 FIFOs are all created, with their modes", async () => {
    const entries: TarPart[] = Array.from({ length: 5000 }, (_, i) => ({
      name: `p/f${i}`,
      type: "fifo" as const,
      mode: 0o640,
    }));
    const r = await unpack(entries);
    assert.equal(r.error, undefined, String(r.error));
    assert.equal(readdirSync(join(r.dir, "p")).length, 5000);
    for (const i of [0, 2500, 4999]) {
      const st = lstatSync(join(r.dir, `p/f${i}`));
      assert.ok(st.isFIFO());
      assert.equal(st.mode & 0o777, 0o640);
    }
  });

  it("a FIFO replaced by a file later in the same layer is the file (batched creation keeps order)", async () => {
    const r = await unpack([
      { name: "x", type: "fifo" },
      { name: "y", type: "fifo" },
      { name: "x", content: "file now" },
      { name: "y", type: "fifo", mode: 0o600 },
    ]);
    assert.equal(r.error, undefined, String(r.error));
    assert.ok(lstatSync(join(r.dir, "x")).isFile());
    assert.ok(lstatSync(join(r.dir, "y")).isFIFO());
    assert.equal(lstatSync(join(r.dir, "y")).mode & 0o777, 0o600);
  });

  it("2,000 files behind a 250-symlink chain padded with d/.. pairs: refused at 40 links", async () => {
    const pad = Array.from({ length: 30 }, () => "d/..").join("/");
    const entries: TarPart[] = [
      { name: "d/", type: "dir" },
      { name: "l0/", type: "dir" },
    ];
    for (let i = 1; i <= 250; i++) {
      entries.push({ name: `l${i}`, type: "symlink", linkname: `${pad}/l${i - 1}` });
    }
    for (let i = 0; i < 2000; i++) entries.push({ name: `l250/f${i}`, content: "x" });
    const r = await unpack(entries);
    assertRefused(r, "UNSAFE_PATH", /l250\/f0: too many levels of symbolic links/);
  });

  it("a chain of 40 links (the kernel's limit) resolves, and is resolved once for 2,000 files", async () => {
    const pad = Array.from({ length: 30 }, () => "d/..").join("/");
    const entries: TarPart[] = [
      { name: "d/", type: "dir" },
      { name: "l0/", type: "dir" },
    ];
    for (let i = 1; i <= 40; i++) {
      entries.push({ name: `l${i}`, type: "symlink", linkname: `${pad}/l${i - 1}` });
    }
    for (let i = 0; i < 2000; i++) entries.push({ name: `l40/f${i}`, content: "x" });
    const r = await unpack(entries);
    assert.equal(r.error, undefined, String(r.error));
    assert.equal(readdirSync(join(r.dir, "l0")).length, 2000);
  });

  it("symlink targets padded past 4,096 components: refused, not walked", async () => {
    const pad = Array.from({ length: 800 }, () => "d/..").join("/");
    const entries: TarPart[] = [
      { name: "d/", type: "dir" },
      { name: "l0/", type: "dir" },
    ];
    for (let i = 1; i <= 3; i++) {
      entries.push({ name: `l${i}`, type: "symlink", linkname: `${pad}/l${i - 1}` });
    }
    entries.push({ name: "l3/f", content: "x" });
    const r = await unpack(entries);
    assertRefused(r, "UNSAFE_PATH", /l3\/f: path resolution walks more than 4096 components/);
  });

  it("a gzip layer expanding over 100:1 is refused by default, and unpacks with an explicit --max-size", async () => {
    const entries: TarPart[] = [{ name: "zeros", zeros: 200 * 1024 * 1024 }];
    const refused = await unpack(entries);
    assertRefused(
      refused,
      "UNPACK_LIMIT",
      /layer expands more than 100 times its compressed size .*give --max-size to allow it/,
    );
    const allowed = await unpack(entries, { limits: { maxBytes: 1024 ** 3 } });
    assert.equal(allowed.error, undefined, String(allowed.error));
    assert.equal(statSync(join(allowed.dir, "zeros")).size, 200 * 1024 * 1024);
  });

  it("PAX sparse files (GNU 1.0) are refused, not written as GNUSparseFile.0/NAME", async () => {
    const r = await unpack([
      {
        name: "GNUSparseFile.0/big",
        content: "x",
        pax: {
          "GNU.sparse.major": "1",
          "GNU.sparse.minor": "0",
          "GNU.sparse.name": "big",
          "GNU.sparse.realsize": "1048576",
        },
      },
    ]);
    assertRefused(r, "LAYER_INVALID", /GNU sparse files \(PAX GNU\.sparse\.\*\) are not supported/);
  });
});

describe("hostile header values get their own error (issue 19 item 7)", {
  timeout: 120_000,
}, () => {
  for (const [key, value] of [
    ["uid", "1.5"],
    ["uid", "1e20"],
    ["uid", "0x10"],
    ["gid", " 5"],
    ["mtime", "-1e30"],
    ["mtime", "1e3"],
    ["atime", "12.5e3"],
    ["mtime", "99999999999999999999"],
  ] as const) {
    it(`PAX ${key}=${value}: refused as Go's archive/tar refuses it`, async () => {
      const r = await unpack([{ name: "f", content: "x", pax: { [key]: value } }]);
      assertRefused(
        r,
        "LAYER_INVALID",
        new RegExp(
          `f: invalid PAX ${key} record ${JSON.stringify(value).replace(/[.+]/g, "\\$&")}`,
        ),
      );
    });
  }

  it("PAX uid 4294967296 (past uid_t): refused as out of range", async () => {
    const r = await unpack([{ name: "f", content: "x", pax: { uid: "4294967296" } }]);
    assertRefused(r, "LAYER_INVALID", /f: uid 4294967296 is out of range \(0 to 4294967294\)/);
  });

  it("valid PAX values still apply: uid +0, mtime with nanoseconds, a negative mtime", async () => {
    const r = await unpack([
      { name: "a", content: "x", pax: { uid: "+0", mtime: "1700000000.123456789" } },
      { name: "b", content: "x", pax: { mtime: "-86400" } },
    ]);
    assert.equal(r.error, undefined, String(r.error));
    // utimensat through libuv keeps microseconds here
    assert.equal(Math.floor(statSync(join(r.dir, "a")).mtimeMs), 1700000000123);
    assert.equal(statSync(join(r.dir, "b")).mtimeMs, -86400000);
  });

  it("66,000 hardlinks to one file: EMLINK is the layer's fault (LAYER_INVALID naming the entry)", async () => {
    const entries: TarPart[] = [{ name: "target", content: "x" }];
    for (let i = 0; i < 66_000; i++)
      entries.push({ name: `h/${i}`, type: "hardlink", linkname: "target" });
    const r = await unpack(entries);
    assertRefused(r, "LAYER_INVALID", /h\/64999: EMLINK: too many links/);
  });
});
