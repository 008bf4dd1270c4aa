// unpackLayers (src/unpack/): the OCI changeset semantics, compression, diff_id checks, limits,
// atomicity and --force, with tiny tar layers built here with tar-stream (gzip by node:zlib,
// zstd by the real `zstd` CLI), written into real temp directories; and `kimg unpack` (the
// built binary) against the harness's real registry: pull-then-unpack, --json, exit codes.

import assert from "node:assert/strict";
import { execFile, execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { gzipSync } from "node:zlib";
import tar from "tar-stream";
import { isKimgError } from "../../src/errors.ts";
import { type LayerInput, unpackLayers } from "../../src/unpack/index.ts";
import { makeTempDir, removeTempDir } from "../helpers/cleanup.ts";
import { type BuiltImage, buildImage } from "../helpers/images.ts";
import { KIMG_BIN, runKimg } from "../helpers/kimg-cli.ts";
import { type Registry, startRegistry } from "../helpers/registry.ts";
import { pushLayout } from "../helpers/skopeo.ts";
import { waitFor } from "../helpers/wait.ts";

interface E {
  name: string;
  type?: "file" | "directory" | "symlink" | "link" | "fifo" | "character-device" | "block-device";
  content?: string | Buffer;
  mode?: number;
  linkname?: string;
  mtime?: Date;
  uid?: number;
  gid?: number;
  pax?: Record<string, string>;
  devmajor?: number;
  devminor?: number;
}

const T0 = new Date("2024-01-01T00:00:00Z");

/** A tar of these entries (in this order), in memory: tests' layers are tiny. */
async function tarOf(entries: readonly E[]): Promise<Buffer> {
  const p = tar.pack();
  const chunks: Buffer[] = [];
  p.on("data", (c: unknown) => {
    chunks.push(c as Buffer);
  });
  const ended = new Promise<void>((ok, ko) => {
    p.on("end", () => ok());
    p.on("error", ko);
  });
  for (const e of entries) {
    const type = e.type ?? "file";
    p.entry(
      {
        name: e.name,
        type,
        mode: e.mode ?? (type === "directory" ? 0o755 : type === "symlink" ? 0o777 : 0o644),
        mtime: e.mtime ?? T0,
        uid: e.uid ?? 0,
        gid: e.gid ?? 0,
        ...(e.linkname !== undefined ? { linkname: e.linkname } : {}),
        ...(e.pax !== undefined ? { pax: e.pax } : {}),
        ...(e.devmajor !== undefined ? { devmajor: e.devmajor, devminor: e.devminor ?? 0 } : {}),
      },
      type === "file" ? (e.content ?? "") : "",
    );
  }
  p.finalize();
  await ended;
  return Buffer.concat(chunks);
}

const sha = (b: Buffer): string => `sha256:${createHash("sha256").update(b).digest("hex")}`;

function zstdOf(b: Buffer): Buffer {
  return execFileSync("zstd", ["-q", "-c", "-3"], { input: b, maxBuffer: 1 << 30 });
}

type Comp = "gzip" | "zstd" | "none";

/** A LayerInput of this tar (compressed as asked; diff_id = the tar's sha256 unless given). */
function layer(
  t: Buffer,
  comp: Comp = "gzip",
  opts: { diffId?: string; mediaType?: string } = {},
): LayerInput {
  const blob = comp === "gzip" ? gzipSync(t) : comp === "zstd" ? zstdOf(t) : t;
  return {
    digest: sha(blob),
    mediaType:
      opts.mediaType ??
      (comp === "gzip"
        ? "application/vnd.oci.image.layer.v1.tar+gzip"
        : comp === "zstd"
          ? "application/vnd.oci.image.layer.v1.tar+zstd"
          : "application/vnd.oci.image.layer.v1.tar"),
    diffId: opts.diffId ?? sha(t),
    // Several chunks, so the magic-byte sniffing and the streams see chunk boundaries.
    open: async () => {
      const parts: Buffer[] = [];
      for (let i = 0; i < blob.length; i += 7) parts.push(blob.subarray(i, i + 7));
      return parts;
    },
  };
}

async function layersOf(...specs: (readonly E[])[]): Promise<LayerInput[]> {
  return Promise.all(specs.map(async (s) => layer(await tarOf(s))));
}

/** `find`-like listing: "path type [mode] [-> target | content]" sorted. */
function tree(dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string): void => {
    for (const n of readdirSync(join(dir, rel)).sort()) {
      const r = rel === "" ? n : `${rel}/${n}`;
      const st = lstatSync(join(dir, r));
      const mode = (st.mode & 0o7777).toString(8);
      if (st.isSymbolicLink()) out.push(`${r} -> ${readlinkSync(join(dir, r))}`);
      else if (st.isDirectory()) {
        out.push(`${r}/ ${mode}`);
        walk(r);
      } else if (st.isFile()) out.push(`${r} ${mode} ${readFileSync(join(dir, r), "utf8")}`);
      else out.push(`${r} special`);
    }
  };
  walk("");
  return out;
}

const isRoot = process.getuid?.() === 0;

/** One raw ustar entry (PAX values as raw bytes, which tar-stream's encoder cannot write). */
function rawEntry(name: string, type: string, body: Buffer, linkname = "", mode = 0o644): Buffer {
  const h = Buffer.alloc(512);
  h.write(name, 0, "utf8");
  h.write(`${mode.toString(8).padStart(7, "0")}\0`, 100, "latin1");
  h.write("0000000\0", 108, "latin1");
  h.write("0000000\0", 116, "latin1");
  h.write(`${body.length.toString(8).padStart(11, "0")}\0`, 124, "latin1");
  h.write("14000000000\0", 136, "latin1");
  h.write("        ", 148, "latin1");
  h.write(type, 156, "latin1");
  h.write(linkname, 157, "utf8");
  h.write("ustar\x0000", 257, "latin1");
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148, "latin1");
  const pad = Buffer.alloc((512 - (body.length % 512)) % 512);
  return Buffer.concat([h, body, pad]);
}

/** PAX records "%d %s=%s\n" with raw byte values. */
function paxRecords(recs: [string, Buffer][]): Buffer {
  return Buffer.concat(
    recs.map(([k, v]) => {
      const rest = Buffer.concat([Buffer.from(` ${k}=`), v, Buffer.from("\n")]);
      let n = rest.length + 1;
      while (String(n).length + rest.length !== n) n++;
      return Buffer.concat([Buffer.from(String(n)), rest]);
    }),
  );
}

/** An xattr's value in hex read without following symlinks (getfattr -h), or undefined. */
function getXattrHex(path: string, name: string): string | undefined {
  const r = spawnSync("getfattr", ["-h", "--absolute-names", "-e", "hex", "-n", name, "--", path], {
    encoding: "utf8",
  });
  if (r.status !== 0) return undefined;
  const m = new RegExp(`^${name.replace(".", "\\.")}=0x([0-9a-f]*)$`, "m").exec(r.stdout);
  return m?.[1];
}

async function rejects(p: Promise<unknown>, code: string, re?: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(isKimgError(e), `not a KimgError: ${e}`);
    assert.equal(e.code, code, e.message);
    if (re !== undefined) assert.match(e.message, re);
    return true;
  });
}

describe("unpackLayers", () => {
  let work: string;
  let n = 0;
  const fresh = (): string => join(work, `out${n++}`);
  /** Nothing but the given names next to the outputs (no temp siblings left behind). */
  const siblings = (): string[] => readdirSync(work).filter((x) => x.includes(".kimg-"));

  before(() => {
    work = makeTempDir("kimg-unpack-");
  });
  after(() => removeTempDir(work));

  it("files, directories, symlinks (targets as written), hardlinks, modes, mtimes, parents", async () => {
    const dir = fresh();
    const ls = await layersOf([
      { name: "etc/", type: "directory", mode: 0o750, mtime: new Date("2020-02-02T00:00:00Z") },
      { name: "etc/hosts", content: "127.0.0.1 localhost\n", mode: 0o600 },
      { name: "bin/sh", content: "#!", mode: 0o4755 },
      { name: "bin/sh2", type: "link", linkname: "bin/sh" },
      { name: "abs", type: "symlink", linkname: "/etc/hosts" },
      { name: "rel", type: "symlink", linkname: "../../../etc/hosts" },
      { name: "dangling", type: "symlink", linkname: "/nowhere" },
      { name: "deep/er/file", content: "x" },
    ]);
    const r = await unpackLayers(ls, dir);
    assert.equal(r.layers, 1);
    assert.equal(r.files, 8);
    assert.equal(r.bytes, 20 + 2 + 1);
    assert.deepEqual(tree(dir), [
      "abs -> /etc/hosts",
      "bin/ 755",
      "bin/sh 755 #!",
      "bin/sh2 755 #!",
      "dangling -> /nowhere",
      "deep/ 755",
      "deep/er/ 755",
      "deep/er/file 644 x",
      "etc/ 750",
      "etc/hosts 600 127.0.0.1 localhost\n",
      "rel -> ../../../etc/hosts",
    ]);
    assert.equal(statSync(join(dir, "bin/sh")).ino, statSync(join(dir, "bin/sh2")).ino);
    // Directory mtimes are applied at the end (writing etc/hosts did not bump etc's).
    assert.equal(statSync(join(dir, "etc")).mtime.toISOString(), "2020-02-02T00:00:00.000Z");
    assert.equal(statSync(join(dir, "etc/hosts")).mtime.getTime(), T0.getTime());
    assert.equal(lstatSync(join(dir, "abs")).mtime.getTime(), T0.getTime());
    assert.equal(statSync(dir).mode & 0o777, 0o755);
    assert.deepEqual(siblings(), []);
    // setuid dropped by default, one note per entry (issue 19 item 2).
    assert.ok(
      r.notes.includes("setuid/setgid bits dropped (give --keep-setuid to keep them): bin/sh 4755"),
      r.notes.join("\n"),
    );
  });

  it("keepSetuid keeps setuid/setgid bits; setgid directories keep theirs regardless", async () => {
    const layer = [
      { name: "bin/su", content: "#!", mode: 0o4755 },
      { name: "bin/wall", content: "#!", mode: 0o2755 },
      { name: "var/mail/", type: "directory" as const, mode: 0o2775 },
    ];
    const kept = fresh();
    const r1 = await unpackLayers(await layersOf(layer), kept, { keepSetuid: true });
    assert.equal(statSync(join(kept, "bin/su")).mode & 0o7777, 0o4755);
    assert.equal(statSync(join(kept, "bin/wall")).mode & 0o7777, 0o2755);
    assert.ok(!r1.notes.some((n) => n.includes("setuid")), r1.notes.join("\n"));
    const dropped = fresh();
    const r2 = await unpackLayers(await layersOf(layer), dropped);
    assert.equal(statSync(join(dropped, "bin/su")).mode & 0o7777, 0o755);
    assert.equal(statSync(join(dropped, "bin/wall")).mode & 0o7777, 0o755);
    assert.equal(statSync(join(dropped, "var/mail")).mode & 0o7777, 0o2775);
    assert.deepEqual(
      r2.notes.filter((n) => n.includes("setuid")),
      [
        "setuid/setgid bits dropped (give --keep-setuid to keep them): bin/su 4755",
        "setuid/setgid bits dropped (give --keep-setuid to keep them): bin/wall 2755",
      ],
    );
  });

  it("whiteouts delete lower files and directories, never the same layer's entries", async () => {
    const dir = fresh();
    const ls = await layersOf(
      [
        { name: "a/x", content: "x" },
        { name: "a/y", content: "y" },
        { name: "gone/sub/f", content: "f" },
        { name: "link", type: "symlink", linkname: "/a" },
        { name: "w/lower", content: "l" },
      ],
      [
        { name: "a/.wh.x" },
        { name: ".wh.gone" },
        { name: ".wh.link" }, // the symlink itself, not what it points at
        { name: "new", content: "n" },
        { name: ".wh.new" }, // same layer: ignored (noted)
        { name: "a/.wh.missing" }, // nothing there: fine
        { name: "nodir/.wh.z" }, // no such parent: fine, and not created
        { name: "w/new", content: "w" },
        { name: ".wh.w" }, // a dir this layer wrote into: loses its lower children only
      ],
    );
    const r = await unpackLayers(ls, dir);
    assert.deepEqual(tree(dir), ["a/ 755", "a/y 644 y", "new 644 n", "w/ 755", "w/new 644 w"]);
    assert.equal(r.notes.filter((x) => x.startsWith("whiteouts ignored")).length, 1);
  });

  it("opaque directories hide lower children whatever the marker's place in the tar", async () => {
    for (const markerFirst of [true, false]) {
      const dir = fresh();
      const upper: E[] = [
        { name: "o/", type: "directory" },
        { name: "o/kept", content: "upper" },
        { name: "o/sub/new", content: "n" },
      ];
      const marker: E = { name: "o/.wh..wh..opq" };
      const ls = await layersOf(
        [
          { name: "o/lower", content: "l" },
          { name: "o/kept", content: "lower" },
          { name: "o/sub/old", content: "o" },
          { name: "other/f", content: "f" },
        ],
        markerFirst ? [marker, ...upper] : [...upper, marker],
      );
      await unpackLayers(ls, dir);
      assert.deepEqual(
        tree(dir),
        [
          "o/ 755",
          "o/kept 644 upper",
          "o/sub/ 755",
          "o/sub/new 644 n",
          "other/ 755",
          "other/f 644 f",
        ],
        `marker first: ${markerFirst}`,
      );
    }
  });

  it("replaces file ↔ directory and symlink → file; a dir replaced by a symlink confines later writes", async () => {
    const dir = fresh();
    const ls = await layersOf(
      [
        { name: "f", content: "file" },
        { name: "d/inner", content: "i" },
        { name: "s", type: "symlink", linkname: "/etc/passwd" },
        { name: "x/y", content: "y" },
      ],
      [
        { name: "f/", type: "directory", mode: 0o700 },
        { name: "f/in", content: "now a dir" },
        { name: "d", content: "now a file" },
        { name: "s", content: "now a file" },
        { name: "x", type: "symlink", linkname: "/" },
      ],
      [
        { name: "f", content: "a file again" },
        { name: "x/escaped", content: "inside" }, // x -> / resolves to the root: DIR/escaped
      ],
    );
    await unpackLayers(ls, dir);
    assert.deepEqual(tree(dir), [
      "d 644 now a file",
      "escaped 644 inside",
      "f 644 a file again",
      "s 644 now a file",
      "x -> /",
    ]);
    assert.equal(existsSync("/escaped"), false);
  });

  it("hardlinks to files of lower layers; to directories, missing targets or outside: rejected", async () => {
    const dir = fresh();
    const ls = await layersOf(
      [{ name: "lib/libc.so", content: "elf", mode: 0o755 }],
      [
        { name: "usr/lib/libc.so", type: "link", linkname: "lib/libc.so" },
        { name: "abs", type: "link", linkname: "/lib/libc.so" }, // absolute target: re-rooted
      ],
    );
    await unpackLayers(ls, dir);
    const ino = statSync(join(dir, "lib/libc.so")).ino;
    assert.equal(statSync(join(dir, "usr/lib/libc.so")).ino, ino);
    assert.equal(statSync(join(dir, "abs")).ino, ino);

    for (const [bad, code, re] of [
      [{ name: "h", type: "link", linkname: "lib" }, "UNSAFE_PATH", /h: hardlink to a directory/],
      [{ name: "h", type: "link", linkname: "../../etc/passwd" }, "UNSAFE_PATH", /climbs out/],
      [{ name: "h", type: "link", linkname: "nothing" }, "LAYER_INVALID", /does not exist/],
      [{ name: "h", type: "link", linkname: "./" }, "UNSAFE_PATH", /to the root/],
    ] as const) {
      const out = fresh();
      const bl = await layersOf([{ name: "lib/f", content: "f" }], [bad as E]);
      await rejects(unpackLayers(bl, out), code, re);
      assert.equal(existsSync(out), false);
    }
    assert.deepEqual(siblings(), []);
  });

  it("confines symlinked parents and absolute names; rejects .. and invalid whiteouts", async () => {
    const canary = join(work, "canary");
    mkdirSync(canary, { recursive: true });
    writeFileSync(join(canary, "keep"), "keep");
    const dir = fresh();
    const ls = await layersOf([
      { name: "etc", type: "symlink", linkname: "/" },
      { name: "etc/passwd", content: "confined" }, // → DIR/passwd
      { name: "up", type: "symlink", linkname: "../../../../../../.." },
      { name: "up/tmp-canary", content: "confined too" }, // .. stops at the root → DIR/tmp-canary
      { name: "c", type: "symlink", linkname: canary },
      { name: "c/keep", content: "pwned" }, // absolute → DIR<canary>/keep
      { name: "/abs/name", content: "abs" },
    ]);
    await unpackLayers(ls, dir);
    assert.equal(readFileSync(join(dir, "passwd"), "utf8"), "confined");
    assert.equal(readFileSync(join(dir, "tmp-canary"), "utf8"), "confined too");
    assert.equal(readFileSync(join(dir, canary, "keep"), "utf8"), "pwned");
    assert.equal(readFileSync(join(canary, "keep"), "utf8"), "keep");
    assert.equal(readFileSync(join(dir, "abs/name"), "utf8"), "abs");

    for (const [name, re] of [
      ["../evil", /\.\.\/evil: path climbs out of the root/],
      ["a/../../evil", /climbs out/],
      ["a/.wh.", /whiteout without a name/],
      ["a/.wh..", /whiteout of/],
      [".wh...", /whiteout of/],
      ["a/.wh..wh.plnk", /reserved/],
    ] as const) {
      const out = fresh();
      const bl = await layersOf([{ name: "a/f", content: "f" }], [{ name }]);
      await rejects(unpackLayers(bl, out), "UNSAFE_PATH", re);
      assert.equal(existsSync(out), false);
    }
    const out = fresh();
    await rejects(
      unpackLayers(await layersOf([{ name: "./", type: "symlink", linkname: "/" }]), out),
      "UNSAFE_PATH",
      /root directory/,
    );
    assert.equal(readFileSync(join(canary, "keep"), "utf8"), "keep");
  });

  it("PAX long names and records; xattrs applied; ownership applied as root, else noted", async () => {
    const dir = fresh();
    const long = `${"d".repeat(120)}/${"f".repeat(150)}`;
    const ls = await layersOf([
      { name: long, content: "long" },
      {
        name: "owned",
        content: "o",
        uid: 1234,
        gid: 5678,
        pax: { "SCHILY.xattr.user.test": "v", mtime: "1700000000.5" },
      },
    ]);
    const r = await unpackLayers(ls, dir);
    assert.equal(readFileSync(join(dir, long), "utf8"), "long");
    assert.equal(statSync(join(dir, "owned")).mtime.getTime(), 1700000000500);
    assert.equal(getXattrHex(join(dir, "owned"), "user.test"), "76");
    assert.ok(!r.notes.some((x) => x.startsWith("xattrs not applied")), r.notes.join("\n"));
    const st = statSync(join(dir, "owned"));
    if (isRoot) {
      assert.equal(st.uid, 1234);
      assert.equal(st.gid, 5678);
    } else {
      assert.ok(
        r.notes.some((x) => x.startsWith("ownership not applied")),
        r.notes.join("\n"),
      );
    }
  });

  it("binary xattr values round-trip exactly; a symlink's xattr never touches its target", async () => {
    const dir = fresh();
    const bin = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const t = Buffer.concat([
      rawEntry("target", "0", Buffer.from("t")),
      rawEntry("PaxHeaders/bin", "x", paxRecords([["SCHILY.xattr.user.bin", bin]])),
      rawEntry("bin", "0", Buffer.from("b"), "", 0o444),
      rawEntry("PaxHeaders/link", "x", paxRecords([["SCHILY.xattr.user.lnk", Buffer.from("x")]])),
      rawEntry("link", "2", Buffer.alloc(0), "target"),
      Buffer.alloc(1024),
    ]);
    const r = await unpackLayers([layer(t)], dir);
    assert.equal(getXattrHex(join(dir, "bin"), "user.bin"), bin.toString("hex"));
    assert.equal(statSync(join(dir, "bin")).mode & 0o7777, 0o444);
    // Linux refuses user.* on a symlink (EPERM): noted for the link, the target untouched.
    assert.equal(getXattrHex(join(dir, "target"), "user.lnk"), undefined);
    assert.equal(readlinkSync(join(dir, "link")), "target");
    assert.ok(
      r.notes.some((x) => x.startsWith("xattrs not applied") && x.includes("link user.lnk")),
      r.notes.join("\n"),
    );
  });

  it("device nodes are not created without allowDevices, with a note", async () => {
    const dir = fresh();
    const ls = await layersOf([
      { name: "dev/null", type: "character-device", mode: 0o666, devmajor: 1, devminor: 3 },
      { name: "dev/sda", type: "block-device", mode: 0o660, devmajor: 8, devminor: 0 },
    ]);
    const r = await unpackLayers(ls, dir);
    assert.ok(!existsSync(join(dir, "dev/null")));
    assert.ok(!existsSync(join(dir, "dev/sda")));
    assert.ok(
      r.notes.includes(
        "device nodes not created (give --allow-devices, as root, to create them): 2 entries (e.g. dev/null (character-device 1:3), dev/sda (block-device 8:0))",
      ),
      r.notes.join("\n"),
    );
  });

  it("FIFOs; device nodes when root (else a note)", async () => {
    const dir = fresh();
    const ls = await layersOf([
      { name: "dev/fifo", type: "fifo", mode: 0o640 },
      { name: "dev/null", type: "character-device", mode: 0o666, devmajor: 1, devminor: 3 },
    ]);
    const r = await unpackLayers(ls, dir, { allowDevices: true });
    const fifo = lstatSync(join(dir, "dev/fifo"));
    assert.ok(fifo.isFIFO());
    assert.equal(fifo.mode & 0o777, 0o640);
    if (process.getuid?.() === 0) {
      const st = lstatSync(join(dir, "dev/null"));
      assert.ok(st.isCharacterDevice());
      assert.equal(st.rdev, (1 << 8) | 3);
      assert.equal(st.mode & 0o7777, 0o664, "never world-writable");
    } else {
      assert.ok(
        r.notes.some((x) => x.startsWith("device nodes/FIFOs not created")),
        r.notes.join("\n"),
      );
    }
  });

  it("gzip, zstd (also after a skippable frame) and plain layers, sniffed whatever the media type", async () => {
    const dir = fresh();
    const t1 = await tarOf([{ name: "g", content: "gzip" }]);
    const t2 = await tarOf([{ name: "z", content: "zstd" }]);
    const t3 = await tarOf([{ name: "p", content: "plain" }]);
    const t4 = await tarOf([{ name: "s", content: "skippable" }]);
    const skippable = Buffer.concat([
      Buffer.from([0x50, 0x2a, 0x4d, 0x18, 4, 0, 0, 0, 1, 2, 3, 4]),
      zstdOf(t4),
    ]);
    const l4: LayerInput = {
      digest: sha(skippable),
      mediaType: "",
      diffId: sha(t4),
      open: async () => [skippable],
    };
    const docker = "application/vnd.docker.image.rootfs.diff.tar"; // says nothing: sniffed
    await unpackLayers(
      [
        layer(t1, "gzip", { mediaType: docker }),
        layer(t2, "zstd", { mediaType: docker }),
        layer(t3, "none"),
        l4,
      ],
      dir,
    );
    assert.deepEqual(tree(dir), ["g 644 gzip", "p 644 plain", "s 644 skippable", "z 644 zstd"]);
  });

  it("a diff_id mismatch fails the whole unpack; no DIR, no temp sibling", async () => {
    const dir = fresh();
    const good = await tarOf([{ name: "a", content: "a" }]);
    const bad = await tarOf([{ name: "b", content: "b" }]);
    await rejects(
      unpackLayers([layer(good), layer(bad, "zstd", { diffId: sha(good) })], dir),
      "DIGEST_MISMATCH",
      /uncompressed layer has digest sha256:[0-9a-f]{64}, the config's diff_id is/,
    );
    assert.equal(existsSync(dir), false);
    assert.deepEqual(siblings(), []);
  });

  it("corrupt streams: LAYER_INVALID; unsupported media types refused", async () => {
    const t = await tarOf([{ name: "a", content: "a" }]);
    const gz = gzipSync(t);
    const cut = gz.subarray(0, gz.length - 12);
    const dir = fresh();
    await rejects(
      unpackLayers([{ digest: sha(cut), mediaType: "", open: async () => [cut] }], dir),
      "LAYER_INVALID",
    );
    await rejects(
      unpackLayers(
        [layer(t, "gzip", { mediaType: "application/vnd.oci.image.layer.v1.tar+gzip+encrypted" })],
        dir,
      ),
      "UNSUPPORTED_MEDIA_TYPE",
    );
    // A tar cut in the middle of a file's content.
    const long = await tarOf([{ name: "big", content: "b".repeat(5000) }]);
    const truncated = long.subarray(0, 2048);
    await rejects(
      unpackLayers([{ digest: sha(truncated), mediaType: "", open: async () => [truncated] }], dir),
      "LAYER_INVALID",
      /not a valid tar stream/,
    );
    const garbage = Buffer.alloc(1024, 0x41);
    await rejects(
      unpackLayers([{ digest: sha(garbage), mediaType: "", open: async () => [garbage] }], dir),
      "LAYER_INVALID",
    );
    assert.equal(existsSync(dir), false);
    assert.deepEqual(siblings(), []);
  });

  it("limits: entries, content bytes, and a bomb of zeros after the tar", async () => {
    const ls = await layersOf(
      [
        { name: "a", content: "x".repeat(1000) },
        { name: "b", content: "y".repeat(1000) },
      ],
      [{ name: "c", content: "z" }],
    );
    let dir = fresh();
    await rejects(
      unpackLayers(ls, dir, { limits: { maxFiles: 2 } }),
      "UNPACK_LIMIT",
      /: c: more than 2 entries/,
    );
    assert.equal(existsSync(dir), false);
    dir = fresh();
    await rejects(
      unpackLayers(ls, dir, { limits: { maxBytes: 1500 } }),
      "UNPACK_LIMIT",
      /: b: content over 1500 bytes/,
    );
    assert.equal(existsSync(dir), false);
    assert.ok(
      (await unpackLayers(ls, fresh(), { limits: { maxFiles: 3, maxBytes: 2001 } })).files === 3,
    );

    // 64 MiB of zeros after a one-file tar: gzip makes it ~64 KiB; refused long before its end.
    const t = await tarOf([{ name: "a", content: "a" }]);
    const bomb = gzipSync(Buffer.concat([t, Buffer.alloc(64 * 1024 * 1024)]));
    dir = fresh();
    await rejects(
      unpackLayers([{ digest: sha(bomb), mediaType: "", open: async () => [bomb] }], dir, {
        limits: { maxBytes: 1024 * 1024 },
      }),
      "UNPACK_LIMIT",
    );
    assert.equal(existsSync(dir), false);
    assert.deepEqual(siblings(), []);
  });

  it("a failing layer leaves no DIR; an existing DIR is kept as it was", async () => {
    const ls = await layersOf([{ name: "a", content: "a" }], [{ name: "../x" }]);
    const dir = fresh();
    await rejects(unpackLayers(ls, dir), "UNSAFE_PATH");
    assert.equal(existsSync(dir), false);
    const existing = fresh();
    mkdirSync(existing);
    writeFileSync(join(existing, "mine"), "mine");
    await rejects(unpackLayers(ls, existing, { force: true }), "UNSAFE_PATH");
    assert.deepEqual(readdirSync(existing), ["mine"]);
    assert.deepEqual(siblings(), []);
  });

  it("an existing non-empty DIR is refused unless force; an empty one is used", async () => {
    const ls = await layersOf([{ name: "new", content: "n" }]);
    const dir = fresh();
    mkdirSync(dir);
    writeFileSync(join(dir, "old"), "old");
    await rejects(unpackLayers(ls, dir), "INPUT_INVALID", /exists and is not an empty directory/);
    assert.deepEqual(readdirSync(dir), ["old"]);
    await unpackLayers(ls, dir, { force: true });
    assert.deepEqual(readdirSync(dir), ["new"]);
    const empty = fresh();
    mkdirSync(empty);
    await unpackLayers(ls, empty);
    assert.deepEqual(readdirSync(empty), ["new"]);
    const file = fresh();
    writeFileSync(file, "a file");
    await rejects(unpackLayers(ls, file), "INPUT_INVALID");
    await unpackLayers(ls, file, { force: true });
    assert.deepEqual(readdirSync(file), ["new"]);
    assert.deepEqual(siblings(), []);
  });

  it("deletes temp siblings left by a killed unpack (dead pid), not a live one's", async () => {
    const dead = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], {
      encoding: "utf8",
    });
    const deadPid = Number(dead.stdout);
    const dir = fresh();
    const base = dir.slice(work.length + 1);
    const stale = join(work, `.${base}.kimg-unpack-${deadPid}-abcdef`);
    const live = join(work, `.${base}.kimg-unpack-${process.ppid}-abcdef`);
    mkdirSync(join(stale, "sub"), { recursive: true });
    mkdirSync(live);
    await unpackLayers(await layersOf([{ name: "a", content: "a" }]), dir);
    assert.equal(existsSync(stale), false);
    assert.equal(existsSync(live), true);
    removeTempDir(live);
  });

  it("an aborted unpack leaves nothing", async () => {
    const ac = new AbortController();
    ac.abort();
    const dir = fresh();
    await rejects(
      unpackLayers(await layersOf([{ name: "a" }]), dir, { signal: ac.signal }),
      "ABORTED",
    );
    assert.equal(existsSync(dir), false);
    assert.deepEqual(siblings(), []);
  });

  it("read-only directories of lower layers still receive later layers' files", async () => {
    const dir = fresh();
    const ls = await layersOf(
      [{ name: "ro/", type: "directory", mode: 0o555 }],
      [{ name: "ro/later", content: "l" }],
    );
    await unpackLayers(ls, dir);
    assert.deepEqual(tree(dir), ["ro/ 555", "ro/later 644 l"]);
  });
});

const kimg = (args: string[]) => runKimg(args);

describe("kimg unpack", { timeout: 180_000 }, () => {
  let reg: Registry;
  let img: BuiltImage;
  let store: string;
  let work: string;

  before(async () => {
    reg = await startRegistry();
    img = await buildImage({
      layers: [
        {
          files: [
            { path: "etc/", type: "dir" },
            { path: "etc/os-release", content: "ID=kimg\n" },
            { path: "bin/app", content: "app", mode: 0o755 },
            { path: "bin/link", type: "symlink", linkname: "/bin/app" },
          ],
        },
        { files: [{ path: "etc/os-release", content: "ID=kimg2\n" }], compression: "none" },
      ],
    });
    await pushLayout(img, "test/unpack:v1", reg);
    store = makeTempDir("kimg-unpack-store-");
    work = makeTempDir("kimg-unpack-cli-");
  });
  after(async () => {
    await reg?.stop();
    for (const d of [img?.layoutDir, store, work]) if (d !== undefined) removeTempDir(d);
  });

  it("pulls an absent image, unpacks it, prints the summary; refuses a non-empty DIR (exit 2)", async () => {
    const ref = `${reg.host}/test/unpack:v1`;
    const dir = join(work, "rootfs");
    const r = await kimg(["unpack", ref, dir, "--store", store]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /: download complete/);
    assert.match(
      r.stdout.trimEnd().split("\n").at(-1) ?? "",
      new RegExp(
        `^Unpacked ${ref.replaceAll(".", "\\.")} \\(linux/amd64, ${img.manifestDigest}\\) into .*rootfs: 2 layers, 5 entries, \\d+ B in [\\d.]+m?s`,
      ),
    );
    assert.equal(readFileSync(join(dir, "etc/os-release"), "utf8"), "ID=kimg2\n");
    assert.equal(readlinkSync(join(dir, "bin/link")), "/bin/app");
    assert.equal(statSync(join(dir, "bin/app")).mode & 0o777, 0o755);

    const again = await kimg(["unpack", ref, dir, "--store", store]);
    assert.equal(again.code, 2);
    assert.match(
      again.stderr,
      /^kimg: unpack: .*rootfs exists and is not an empty directory \(use --force to replace it\)\n$/,
    );

    const j = await kimg(["unpack", ref, dir, "--store", store, "--force", "--json"]);
    assert.equal(j.code, 0, j.stderr);
    const rep = JSON.parse(j.stdout) as Record<string, unknown>;
    assert.equal(rep.layers, 2);
    assert.equal(rep.files, 5);
    assert.equal(rep.digest, img.manifestDigest);
    assert.ok(Array.isArray(rep.notes));
  });

  it("exit 6 on a limit; 2 on a bad --max-files; no DIR", async () => {
    const ref = `${reg.host}/test/unpack:v1`;
    const dir = join(work, "limited");
    const r = await kimg(["unpack", ref, dir, "--store", store, "--max-files", "3"]);
    assert.equal(r.code, 6, r.stderr);
    assert.match(r.stderr, /more than 3 entries/);
    assert.equal(existsSync(dir), false);
    const u = await kimg(["unpack", ref, dir, "--store", store, "--max-files", "x"]);
    assert.equal(u.code, 2);
    assert.equal(existsSync(dir), false);
  });

  it("interrupted in the middle: SIGINT leaves nothing; SIGKILL leaves no DIR, the next unpack cleans up", async () => {
    const many = await buildImage({
      layers: [
        {
          files: Array.from({ length: 30_000 }, (_, i) => ({
            path: `d${i % 100}/f${i}`,
            content: `file ${i}\n`,
          })),
          gzipLevel: 1,
        },
      ],
    });
    try {
      await pushLayout(many, "test/unpack-many:v1", reg);
      const ref = `${reg.host}/test/unpack-many:v1`;
      const pulled = await kimg(["pull", ref, "--store", store]);
      assert.equal(pulled.code, 0, pulled.stderr);
      for (const signal of ["SIGINT", "SIGKILL"] as const) {
        const dir = join(work, `killed-${signal}`);
        const env: NodeJS.ProcessEnv = { ...process.env, CONTAINERS_REGISTRIES_CONF: "/dev/null" };
        delete env.KIMG_STORE;
        const child = execFile(process.execPath, [KIMG_BIN, "unpack", ref, dir, "--store", store], {
          env,
        });
        const exited = new Promise<number | null>((ok) => child.on("exit", (code) => ok(code)));
        // Wait until the temp sibling has files in it: the unpack is in the middle.
        const tmpOf = (): string | undefined =>
          readdirSync(work).find((x) => x.startsWith(`.killed-${signal}.kimg-unpack-`));
        await waitFor(() => {
          const t = tmpOf();
          return t !== undefined && readdirSync(join(work, t)).length > 10;
        }, 10_000);
        assert.ok(tmpOf() !== undefined, "the unpack started");
        child.kill(signal);
        const code = await exited;
        assert.equal(existsSync(dir), false, `${signal}: no DIR`);
        if (signal === "SIGINT") {
          assert.notEqual(code, 0);
          assert.equal(tmpOf(), undefined, "SIGINT: the temp directory is removed");
        } else {
          assert.ok(tmpOf() !== undefined, "SIGKILL: the temp directory stays behind");
          const again = await kimg(["unpack", ref, dir, "--store", store]);
          assert.equal(again.code, 0, again.stderr);
          assert.equal(tmpOf(), undefined, "the next unpack removed the dead one's temp directory");
          assert.equal(readFileSync(join(dir, "d7/f107"), "utf8"), "file 107\n");
        }
      }
    } finally {
      removeTempDir(many.layoutDir);
    }
  });

  it("exit 6 when a stored layer does not match the config's diff_id; no DIR", async () => {
    // The registry and the store verify blob digests, not diff_ids: only the unpack can tell.
    const lie = `sha256:${"0".repeat(64)}`;
    const bad = await buildImage({
      layers: [{ files: [{ path: "x", content: "x" }] }],
      configExtras: { rootfs: { type: "layers", diff_ids: [lie] } },
    });
    try {
      await pushLayout(bad, "test/unpack-bad:v1", reg);
      const dir = join(work, "bad");
      const r = await kimg(["unpack", `${reg.host}/test/unpack-bad:v1`, dir, "--store", store]);
      assert.equal(r.code, 6, r.stderr);
      assert.match(r.stderr, new RegExp(`the config's diff_id is ${lie}`));
      assert.equal(existsSync(dir), false);
      assert.deepEqual(
        readdirSync(work).filter((x) => x.includes(".kimg-")),
        [],
      );
    } finally {
      removeTempDir(bad.layoutDir);
    }
  });
});
