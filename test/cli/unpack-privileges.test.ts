// Issue 19 item 2: `kimg unpack` as root must not leave a setuid-root binary, device nodes or
// overlayfs xattrs where another local user can reach them. A real Distribution registry serves
// an image holding a setuid-root copy of id(1), dev/mem (1:1), dev/sda (8:0) and a directory
// with trusted.overlay.redirect/opaque; the built `kimg unpack` writes it; `runuser -u nobody`
// is the other local user. Needs root (CI runs as root): without it the test fails, never skips.

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { chmodSync, lstatSync, mkdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { makeTempDir, removeTempDir } from "../helpers/cleanup.ts";
import { requireBinary } from "../helpers/exec.ts";
import { type BuiltImage, buildImage } from "../helpers/images.ts";
import { runKimg } from "../helpers/kimg-cli.ts";
import { type Registry, startRegistry } from "../helpers/registry.ts";
import { pushLayout } from "../helpers/skopeo.ts";

const kimg = (args: string[]) => runKimg(args);

/** Runs argv as user nobody: its exit code and output. */
function asNobody(argv: string[]): { code: number; out: string } {
  try {
    const out = execFileSync("runuser", ["-u", "nobody", "--", ...argv], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
    });
    return { code: 0, out };
  } catch (e) {
    const err = e as { status?: number; stdout?: string; stderr?: string };
    return { code: err.status ?? -1, out: `${err.stdout ?? ""}${err.stderr ?? ""}` };
  }
}

function xattrs(path: string): string {
  try {
    return execFileSync("getfattr", ["-h", "-d", "-m", "-", "--absolute-names", path], {
      encoding: "utf8",
    });
  } catch {
    return "";
  }
}

describe("kimg unpack as root: nothing privileged is reachable by other users", {
  timeout: 180_000,
}, () => {
  let reg: Registry;
  let img: BuiltImage;
  let work: string;
  let store: string;
  let ref: string;

  before(async () => {
    assert.equal(
      process.getuid?.(),
      0,
      "this test runs as root (CI does): it needs a real other user",
    );
    requireBinary("runuser");
    requireBinary("getfattr");
    work = makeTempDir("kimg-unpack-priv-");
    chmodSync(work, 0o755); // an open parent, as /tmp or a home directory is
    store = join(work, "store");
    reg = await startRegistry();
    img = await buildImage({
      seed: "unpack-privileges",
      layers: [
        {
          files: [
            { path: "bin/id-suid", content: readFileSync("/usr/bin/id"), mode: 0o4755 },
            { path: "bin/sgid", content: "#!/bin/sh\n", mode: 0o2755, gid: 42 },
            { path: "dev/mem", type: "chardev", devmajor: 1, devminor: 1, mode: 0o666 },
            { path: "dev/sda", type: "blockdev", devmajor: 8, devminor: 0, mode: 0o666 },
            { path: "dev/fifo", type: "fifo", mode: 0o600 },
            {
              path: "etc/",
              type: "dir",
              pax: {
                "SCHILY.xattr.trusted.overlay.redirect": "/etc",
                "SCHILY.xattr.trusted.overlay.opaque": "y",
                "SCHILY.xattr.user.kept": "yes",
              },
            },
          ],
        },
      ],
    });
    await pushLayout(img, "priv/app:v1", reg);
    ref = `${reg.host}/priv/app:v1`;
    const pulled = await kimg(["pull", "--store", store, "--progress", "plain", ref]);
    assert.equal(pulled.code, 0, pulled.stderr);
  });
  after(async () => {
    await reg?.stop();
    if (img !== undefined) removeTempDir(img.layoutDir);
    if (work !== undefined) removeTempDir(work);
  });

  it("by default: DIR 0700, setuid dropped (a note per entry), no devices, no trusted.* xattrs", async () => {
    const dir = join(work, "rootfs");
    const r = await kimg(["unpack", "--store", store, ref, dir]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(statSync(dir).mode & 0o7777, 0o700);
    assert.equal(statSync(join(dir, "bin/id-suid")).mode & 0o7777, 0o755);
    assert.equal(statSync(join(dir, "bin/sgid")).mode & 0o7777, 0o755);
    assert.throws(() => lstatSync(join(dir, "dev/mem")), /ENOENT/);
    assert.throws(() => lstatSync(join(dir, "dev/sda")), /ENOENT/);
    assert.ok(lstatSync(join(dir, "dev/fifo")).isFIFO());
    const x = xattrs(join(dir, "etc"));
    assert.doesNotMatch(x, /trusted\./);
    assert.match(x, /user\.kept="yes"/);
    for (const line of [
      "note: setuid/setgid bits dropped (give --keep-setuid to keep them): bin/id-suid 4755",
      "note: setuid/setgid bits dropped (give --keep-setuid to keep them): bin/sgid 2755",
      "note: device nodes not created (give --allow-devices, as root, to create them): 2 entries (e.g. dev/mem (character-device 1:1), dev/sda (block-device 8:0))",
      "note: trusted.*/security.* xattrs not applied (give --keep-privileged-xattrs, as root, to apply them): 1 entry (e.g. etc/ trusted.overlay.redirect trusted.overlay.opaque)",
    ]) {
      assert.ok(r.stdout.includes(`${line}\n`), `missing ${line}\n${r.stdout}`);
    }
    assert.match(
      r.stdout,
      /note: .*rootfs is mode 0700, not the image's 0755: its parent is open to other users/,
    );
    const ls = asNobody(["ls", dir]);
    assert.notEqual(ls.code, 0);
    assert.match(ls.out, /Permission denied/);
    const id = asNobody([join(dir, "bin/id-suid"), "-u"]);
    assert.notEqual(id.code, 0);
    assert.match(id.out, /Permission denied/);
  });

  it("with --allow-devices --keep-setuid --keep-privileged-xattrs: kept, devices never world-writable, still unreachable", async () => {
    const dir = join(work, "rootfs-full");
    const r = await kimg([
      "unpack",
      "--store",
      store,
      "--allow-devices",
      "--keep-setuid",
      "--keep-privileged-xattrs",
      ref,
      dir,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(statSync(dir).mode & 0o7777, 0o700);
    assert.equal(statSync(join(dir, "bin/id-suid")).mode & 0o7777, 0o4755);
    const mem = lstatSync(join(dir, "dev/mem"));
    assert.ok(mem.isCharacterDevice());
    assert.equal(mem.rdev, (1 << 8) | 1);
    assert.equal(mem.mode & 0o777, 0o664, "never world-writable");
    const sda = lstatSync(join(dir, "dev/sda"));
    assert.ok(sda.isBlockDevice());
    assert.equal(sda.mode & 0o777, 0o664);
    const x = xattrs(join(dir, "etc"));
    assert.match(x, /trusted\.overlay\.redirect="\/etc"/);
    assert.match(x, /trusted\.overlay\.opaque="y"/);
    const id = asNobody([join(dir, "bin/id-suid"), "-u"]);
    assert.notEqual(id.code, 0, `nobody ran the setuid binary: ${id.out}`);
    assert.match(id.out, /Permission denied/);
    const cat = asNobody(["head", "-c", "1", join(dir, "dev/mem")]);
    assert.notEqual(cat.code, 0);
  });

  it("inside a private (0700) parent, as umoci's bundle: DIR keeps the image's 0755", async () => {
    const bundle = join(work, "bundle");
    mkdirSync(bundle, { mode: 0o700 });
    const dir = join(bundle, "rootfs");
    const r = await kimg(["unpack", "--store", store, "--keep-setuid", ref, dir]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(statSync(dir).mode & 0o7777, 0o755);
    assert.doesNotMatch(r.stdout, /is mode 0700/);
    const id = asNobody([join(dir, "bin/id-suid"), "-u"]);
    assert.notEqual(id.code, 0);
    assert.match(id.out, /Permission denied/);
  });
});
