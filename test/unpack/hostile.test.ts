// Issue 5 §2: the hostile-layer corpus. Every row builds its layers (test/helpers/layers.ts),
// unpacks them into DIR = TOP/work/rootfs next to a canary tree TOP/canary (files, a secret,
// symlinks, directories) and a sibling file TOP/work/sibling, then checks:
// - everything under TOP except DIR is byte-for-byte and inode-for-inode unchanged: paths,
//   types, modes, owners, sizes, link counts, inode numbers, mtimes, ctimes (a chmod, chown,
//   utimes or link(2) through a symlink bumps ctime even when it sets the same values),
//   contents, link targets; only TOP/work's own times may change (the temp sibling and rename);
// - "reject": a KimgError with the row's code (UNSAFE_PATH unless said otherwise; UNPACK_LIMIT
//   for bombs) whose message names the offending entry, DIR absent and no temp sibling left;
// - "confined": the unpack succeeded, DIR holds no inode of the canary, and the row's check
//   proves the write landed INSIDE DIR at the re-rooted place (containerd's fs.RootPath
//   semantics, which src/unpack/apply.ts documents: symlinks met while resolving a parent are
//   expanded with "/" = DIR and ".." stopping at DIR; absolute entry names are relative to DIR).
// Sources of the cases: spec registry.md §9.3 (CVE table) and the advisories it cites; each row
// names its CVE/GHSA where one applies. Table entries covered here: CVE-2014-6407/-9356,
// CVE-2017-14992, CVE-2020-27833, CVE-2021-29136, CVE-2021-32760, CVE-2023-25153,
// GHSA-rp3h-jf77-q9p4, CVE-2020-1702, CVE-2025-47290. Not about unpacking a layer (tested with
// the store, registry client and config parser instead): CVE-2014-9358 and CVE-2024-3727
// (digests as file names), CVE-2014-8178 (content addressing), CVE-2020-15157 (foreign-layer
// URLs), CVE-2021-41190 (ambiguous manifests), CVE-2022-23648 (VOLUME paths).

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import {
  chmodSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { type ErrorCode, isKimgError } from "../../src/errors.ts";
import {
  type Privileges,
  type UnpackLimits,
  type UnpackReport,
  unpackLayers,
} from "../../src/unpack/index.ts";
import { makeTempDir, removeTempDir } from "../helpers/cleanup.ts";
import {
  buildLayer,
  type LayerCompression,
  paddingOf,
  paxHeader,
  rawHeader,
  type TarEntry,
  type TarPart,
} from "../helpers/layers.ts";

interface Ctx {
  /** The temp root holding everything. */
  top: string;
  /** DIR: TOP/work/rootfs (absent before the unpack). */
  dir: string;
  /** Absolute path of the canary directory TOP/canary. */
  canary: string;
}

interface LayerDef {
  entries: TarPart[];
  compression?: LayerCompression;
  /** Media type to declare (default: the compression's). */
  mediaType?: string;
}

interface Row {
  name: string;
  /** CVE / GHSA / issue the row reproduces (also cited in a comment above the row). */
  cve?: string;
  layers: (c: Ctx) => (TarPart[] | LayerDef)[];
  expect: "reject" | "confined";
  /** Allowed error codes of a rejection. Default ["UNSAFE_PATH"]. */
  codes?: ErrorCode[];
  /** Text the rejection's message must contain: the offending entry's name. */
  entry?: string | ((c: Ctx) => string);
  limits?: UnpackLimits;
  /** What the unpack may create beyond plain files (devices, setuid bits, privileged xattrs). */
  privileges?: Privileges;
  /** Text the rejection's message must NOT contain (a misleading diagnosis). */
  notInMessage?: string;
  /** For "confined": proves where the write landed. */
  check?: (c: Ctx, report: UnpackReport) => void;
  /** Why the row cannot run here (then it is skipped with that note). */
  skip?: () => string | undefined;
}

// ---------------------------------------------------------------------------------------------
// Entry shorthands.

const f = (name: string, content = "pwned", more: Partial<TarEntry> = {}): TarEntry => ({
  name,
  type: "file",
  content,
  ...more,
});
const d = (name: string, more: Partial<TarEntry> = {}): TarEntry => ({
  name,
  type: "dir",
  ...more,
});
const s = (name: string, target: string, more: Partial<TarEntry> = {}): TarEntry => ({
  name,
  type: "symlink",
  linkname: target,
  ...more,
});
const h = (name: string, target: string, more: Partial<TarEntry> = {}): TarEntry => ({
  name,
  type: "hardlink",
  linkname: target,
  ...more,
});

// DIR is TOP/work/rootfs: the canary is "../../canary" from DIR, "../canary" from DIR's parent.
const REL = "../../canary";
const SECRET = "TOP SECRET: never readable through DIR\n";

// ---------------------------------------------------------------------------------------------
// The canary world and its fingerprint.

function setup(): Ctx {
  const top = makeTempDir("hostile");
  const canary = join(top, "canary");
  mkdirSync(join(canary, "sub", "deep"), { recursive: true });
  mkdirSync(join(canary, "empty"));
  writeFileSync(join(canary, "secret"), SECRET, { mode: 0o600 });
  writeFileSync(join(canary, "x"), "canary x\n", { mode: 0o644 });
  writeFileSync(join(canary, "sub", "y"), "canary y\n", { mode: 0o640 });
  writeFileSync(join(canary, "sub", "deep", "z"), "canary z\n", { mode: 0o444 });
  symlinkSync("secret", join(canary, "link-secret"));
  symlinkSync("..", join(canary, "link-up"));
  symlinkSync("/etc/hostname", join(canary, "link-abs"));
  // DIR's parent is private, as a bundle directory is: the image's root mode applies to DIR.
  mkdirSync(join(top, "work"), { mode: 0o700 });
  writeFileSync(join(top, "work", "sibling"), "DIR's sibling\n");
  // Old times, so a write "now" is visible even at a coarse clock.
  const old = new Date("2001-02-03T04:05:06Z");
  for (const p of ["secret", "x", "sub/y", "sub/deep/z", "sub/deep", "sub", "empty", ""]) {
    utimesSync(join(canary, p), old, old);
  }
  utimesSync(join(top, "work", "sibling"), old, old);
  return { top, dir: join(top, "work", "rootfs"), canary };
}

/** Everything under TOP but DIR, as one sorted list of lines. */
function fingerprint(c: Ctx): string[] {
  const out: string[] = [];
  const walk = (abs: string, rel: string): void => {
    const st = lstatSync(abs, { bigint: true });
    const type = st.isDirectory()
      ? "d"
      : st.isSymbolicLink()
        ? "l"
        : st.isFile()
          ? "f"
          : st.isFIFO()
            ? "p"
            : "other";
    let what = "";
    if (type === "f") what = createHash("sha256").update(readFileSync(abs)).digest("hex");
    if (type === "l") what = `-> ${readlinkSync(abs)}`;
    // TOP/work's own times, size and link count change legitimately (DIR appears in it; the
    // temp sibling is created, renamed, removed).
    const volatile = rel === "work" ? "" : `${st.size} n${st.nlink} ${st.mtimeNs} ${st.ctimeNs}`;
    out.push(
      `${rel || "."} ${type} ${st.mode.toString(8)} ${st.uid}:${st.gid} i${st.ino} ${volatile} ${what}`,
    );
    if (type === "d") {
      for (const n of readdirSync(abs).sort()) {
        const childRel = rel === "" ? n : `${rel}/${n}`;
        if (childRel === "work/rootfs") continue;
        walk(join(abs, n), childRel);
      }
    }
  };
  walk(c.top, "");
  return out;
}

/** Inode numbers of everything in the canary. */
function canaryInodes(c: Ctx): Set<string> {
  const out = new Set<string>();
  const walk = (abs: string): void => {
    const st = lstatSync(abs);
    out.add(`${st.dev}:${st.ino}`);
    if (st.isDirectory()) for (const n of readdirSync(abs)) walk(join(abs, n));
  };
  walk(c.canary);
  return out;
}

/** Asserts no inode under DIR is one of the canary's (no hardlink smuggled a host file in). */
function assertNoCanaryInode(c: Ctx): void {
  const bad = canaryInodes(c);
  const walk = (abs: string): void => {
    const st = lstatSync(abs);
    assert.ok(!bad.has(`${st.dev}:${st.ino}`), `${abs} is an inode of the canary`);
    if (st.isDirectory()) for (const n of readdirSync(abs)) walk(join(abs, n));
  };
  walk(c.dir);
}

// ---------------------------------------------------------------------------------------------
// Assertion helpers for checks.

const inDir = (c: Ctx, p: string): string => join(c.dir, p);
const readIn = (c: Ctx, p: string): string => readFileSync(inDir(c, p), "utf8");
const lst = (c: Ctx, p: string) => lstatSync(inDir(c, p));
const absent = (c: Ctx, p: string): void => {
  assert.throws(() => lstatSync(inDir(c, p)), { code: "ENOENT" }, `${p} should not exist`);
};
const isLink = (c: Ctx, p: string, target: string): void => {
  assert.ok(lst(c, p).isSymbolicLink(), `${p} should be a symlink`);
  assert.equal(readlinkSync(inDir(c, p)), target, `${p}'s target kept as written`);
};
const isDir = (c: Ctx, p: string): void => {
  assert.ok(lst(c, p).isDirectory(), `${p} should be a real directory`);
};
const isFile = (c: Ctx, p: string, content: string): void => {
  assert.ok(lst(c, p).isFile(), `${p} should be a regular file`);
  assert.equal(readIn(c, p), content);
};
const nestedPath = (depth: number): string => Array.from({ length: depth }, () => "d").join("/");

const MiB = 1024 * 1024;

/** Long names make long messages: keep assertion output readable. */
const clip = (t: string): string => (t.length > 400 ? `${t.slice(0, 400)}…` : t);

// ---------------------------------------------------------------------------------------------
// The corpus.

const rows: Row[] = [
  // CVE-2014-9356 (Docker <1.3.3): absolute entry paths. Confined: taken relative to DIR.
  {
    name: "absolute entry name (the canary's real path) is re-rooted",
    cve: "CVE-2014-9356",
    layers: (c) => [[f(`${c.canary}/x`)]],
    expect: "confined",
    check: (c) => isFile(c, `${c.canary}/x`, "pwned"),
  },
  // CVE-2014-9356: "../" names.
  {
    name: "../../canary/x",
    cve: "CVE-2014-9356",
    layers: () => [[f(`${REL}/x`)]],
    expect: "reject",
    entry: `${REL}/x`,
  },
  {
    name: "../sibling (DIR's sibling, one level up)",
    cve: "CVE-2014-9356",
    layers: () => [[f("../sibling")]],
    expect: "reject",
    entry: "../sibling",
  },
  {
    name: "a/../../../canary/x (.. after a component)",
    cve: "CVE-2014-9356",
    layers: () => [[d("a"), f("a/../../../canary/x")]],
    expect: "reject",
    entry: "a/../../../canary/x",
  },
  {
    name: "./../../canary/secret as a directory entry",
    cve: "CVE-2014-9356",
    layers: () => [[d(`./${REL}/secret`, { mode: 0o777 })]],
    expect: "reject",
    entry: `./${REL}/secret`,
  },
  {
    name: '".." itself as a directory entry',
    layers: () => [[d("..", { mode: 0o777, raw: true })]],
    expect: "reject",
    entry: "..",
  },
  // CVE-2014-6407 (Docker <1.3.2): symlink then write through it. Confined: re-rooted.
  {
    name: "relative symlink out (link -> ../../canary) then link/x",
    cve: "CVE-2014-6407",
    layers: () => [[s("link", REL), f("link/x")]],
    expect: "confined",
    check: (c) => {
      isLink(c, "link", REL);
      isFile(c, "canary/x", "pwned"); // ".." stops at DIR
    },
  },
  {
    name: "absolute symlink to the canary then link/x and link/sub/y",
    cve: "CVE-2014-6407",
    layers: (c) => [[s("link", c.canary), f("link/x"), f("link/sub/y", "y")]],
    expect: "confined",
    check: (c) => {
      isLink(c, "link", c.canary);
      isFile(c, `${c.canary}/x`, "pwned");
      isFile(c, `${c.canary}/sub/y`, "y");
    },
  },
  // Issue 5 §1: "a layer's symlink etc -> / followed by etc/passwd writes inside DIR".
  {
    name: "etc -> / then etc/<canary>/x",
    cve: "CVE-2014-6407",
    layers: (c) => [[s("etc", "/"), f(`etc${c.canary}/x`), f("etc/passwd", "root::0:0")]],
    expect: "confined",
    check: (c) => {
      isLink(c, "etc", "/");
      isFile(c, `${c.canary}/x`, "pwned");
      isFile(c, "passwd", "root::0:0");
    },
  },
  // CVE-2020-27833 / GHSL-2020-261 (OpenShift oc): chained relative symlinks.
  {
    name: "chained symlinks sub/parent -> .., sub/parent/escape -> .., escape/canary/x",
    cve: "CVE-2020-27833",
    layers: () => [
      [d("sub"), s("sub/parent", ".."), s("sub/parent/escape", ".."), f("escape/canary/x")],
    ],
    expect: "confined",
    check: (c) => {
      isLink(c, "sub/parent", "..");
      isLink(c, "escape", ".."); // created at DIR/escape: sub/parent resolved to DIR
      isFile(c, "canary/x", "pwned");
    },
  },
  {
    name: "chain a -> b/c, b/c -> ../d, d -> ../../.. then a/canary/x",
    cve: "CVE-2020-27833",
    layers: () => [[s("a", "b/c"), d("b"), s("b/c", "../d"), s("d", "../../.."), f("a/canary/x")]],
    expect: "confined",
    check: (c) => isFile(c, "canary/x", "pwned"),
  },
  {
    name: "symlink loop a -> b, b -> a then a/x",
    layers: () => [[s("a", "b"), s("b", "a"), f("a/x")]],
    expect: "reject",
    entry: "a/x",
  },
  {
    name: "300 chained symlinks ending at the canary then l0/x",
    layers: (c) => [
      [
        ...Array.from({ length: 300 }, (_, i) => s(`l${i}`, i === 299 ? c.canary : `l${i + 1}`)),
        f("l0/x"),
      ],
    ],
    expect: "reject",
    entry: "l0/x",
  },
  {
    name: "symlinked parent from a lower layer (d -> ../../canary), d/x in the next",
    cve: "CVE-2014-6407",
    layers: () => [[s("d", REL)], [f("d/x")]],
    expect: "confined",
    check: (c) => {
      isLink(c, "d", REL);
      isFile(c, "canary/x", "pwned");
    },
  },
  {
    name: "directory replaced by an absolute symlink between layers, then writes under it",
    cve: "CVE-2021-29136",
    layers: (c) => [[d("d"), f("d/a", "a")], [s("d", c.canary)], [f("d/x"), d("d/newdir")]],
    expect: "confined",
    check: (c) => {
      isLink(c, "d", c.canary);
      isFile(c, `${c.canary}/x`, "pwned");
      isDir(c, `${c.canary}/newdir`);
    },
  },
  // CVE-2025-47290 (containerd 2.1.0): TOCTOU, the path changes under the unpacker.
  {
    name: "TOCTOU: d dir, d/a, then d -> canary within one layer, then d/x",
    cve: "CVE-2025-47290",
    layers: (c) => [[d("d"), f("d/a", "a"), s("d", c.canary), f("d/x")]],
    expect: "confined",
    check: (c) => {
      isLink(c, "d", c.canary);
      isFile(c, `${c.canary}/x`, "pwned");
    },
  },
  // CVE-2021-32760 (containerd <1.4.8/<1.5.4): chmod through a symlink. Directory modes and
  // times are deferred to the end; the deferred path must not be reached through a symlink
  // that replaced one of its ancestors after it was recorded.
  {
    name: "deferred dir mode/mtime of d/sub after d became a symlink to the canary (2 layers)",
    cve: "CVE-2021-32760",
    layers: (c) => [
      [d("d"), d("d/sub", { mode: 0o777, mtime: new Date("2010-01-01T00:00:00Z") })],
      [s("d", c.canary)],
    ],
    expect: "confined",
    check: (c) => isLink(c, "d", c.canary),
  },
  {
    name: "deferred dir mode/mtime of d/sub after d became a symlink (same layer)",
    cve: "CVE-2021-32760",
    layers: (c) => [[d("d"), d("d/sub", { mode: 0o777 }), s("d", c.canary)]],
    expect: "confined",
    check: (c) => isLink(c, "d", c.canary),
  },
  {
    name: "deferred dir mode of d/sub after .wh.d and d -> canary in later layers",
    cve: "CVE-2021-32760",
    layers: (c) => [[d("d"), d("d/sub", { mode: 0o777 })], [f(".wh.d", "")], [s("d", c.canary)]],
    expect: "confined",
    check: (c) => isLink(c, "d", c.canary),
  },
  {
    // Not even hostile: merged-/usr images replace lib/ by a symlink in a later layer. Here the
    // parents are implicit (no directory entries), the symlink absolute.
    name: "implicit parents d/sub of d/sub/f, then d -> canary (merged-/usr style layer)",
    cve: "CVE-2021-32760",
    layers: (c) => [[f("d/sub/f", "f")], [s("d", c.canary)]],
    expect: "confined",
    check: (c) => isLink(c, "d", c.canary),
  },
  {
    name: "deferred dir mode of d/sub after an opaque root and d -> canary in the next layer",
    cve: "CVE-2021-32760",
    layers: (c) => [
      [d("d"), d("d/sub", { mode: 0o777 })],
      [f(".wh..wh..opq", ""), s("d", c.canary)],
    ],
    expect: "confined",
    check: (c) => isLink(c, "d", c.canary),
  },
  {
    name: "dir entry with mode 0777 at a path that is a symlink to the canary",
    cve: "CVE-2021-32760",
    layers: (c) => [[s("s", c.canary)], [d("s", { mode: 0o777 })]],
    expect: "confined",
    check: (c) => {
      isDir(c, "s");
      assert.equal(lst(c, "s").mode & 0o7777, 0o777);
    },
  },
  {
    name: "file entry mode 04777 at a path that is a symlink to the canary's secret",
    cve: "CVE-2021-32760",
    layers: (c) => [[s("s", `${c.canary}/secret`)], [f("s", "replaced", { mode: 0o4777 })]],
    privileges: { keepSetuid: true },
    expect: "confined",
    check: (c) => {
      isFile(c, "s", "replaced");
      assert.equal(lst(c, "s").mode & 0o7777, 0o4777);
    },
  },
  {
    name: "same layer: s -> ../../canary/secret then a file s (no O_TRUNC through the link)",
    cve: "CVE-2021-32760",
    layers: () => [[s("s", `${REL}/secret`), f("s", "replaced", { mode: 0o777 })]],
    expect: "confined",
    check: (c) => isFile(c, "s", "replaced"),
  },
  {
    name: "TOCTOU: d dir, d -> canary, d dir again with mode 0777 (chmod after the swap)",
    cve: "CVE-2025-47290",
    layers: (c) => [[d("d"), s("d", c.canary), d("d", { mode: 0o777 })]],
    expect: "confined",
    check: (c) => {
      isDir(c, "d");
      assert.equal(lst(c, "d").mode & 0o7777, 0o777);
    },
  },
  {
    name: "symlink re-written with another owner and mtime (lchown/lutimes only)",
    cve: "CVE-2021-32760",
    layers: (c) => [
      [
        s("s", `${c.canary}/x`),
        s("s", `${c.canary}/secret`, { uid: 1234, gid: 4321, mtime: new Date(0) }),
      ],
    ],
    expect: "confined",
    check: (c) => isLink(c, "s", `${c.canary}/secret`),
  },
  // Hardlinks (CVE-2014-6407: hardlink traversal).
  {
    name: "hardlink to ../../canary/secret",
    cve: "CVE-2014-6407",
    layers: () => [[h("hl", `${REL}/secret`)]],
    expect: "reject",
    entry: "hl",
  },
  {
    // Re-rooted (containerd hardlinkRootPath): DIR/<canary>/secret does not exist.
    name: "hardlink to the canary's absolute path",
    cve: "CVE-2014-6407",
    layers: (c) => [[h("hl", `${c.canary}/secret`)]],
    expect: "reject",
    codes: ["UNSAFE_PATH", "LAYER_INVALID"],
    entry: "hl",
  },
  {
    name: "symlink then hardlink through it: l -> canary, hl => l/secret",
    cve: "CVE-2014-6407",
    layers: (c) => [[s("l", c.canary), h("hl", "l/secret")]],
    expect: "reject",
    codes: ["UNSAFE_PATH", "LAYER_INVALID"],
    entry: "hl",
  },
  {
    name: "relative symlink then hardlink through it: l -> ../../canary, hl => l/secret",
    cve: "CVE-2014-6407",
    layers: () => [[s("l", REL), h("hl", "l/secret")]],
    expect: "reject",
    codes: ["UNSAFE_PATH", "LAYER_INVALID"],
    entry: "hl",
  },
  {
    name: "hardlink (later layer) whose target's parent became a symlink to the canary",
    cve: "CVE-2014-6407",
    layers: (c) => [[d("d"), f("d/secret", "mine")], [s("d", c.canary)], [h("hl", "d/secret")]],
    expect: "reject",
    codes: ["UNSAFE_PATH", "LAYER_INVALID"],
    entry: "hl",
  },
  {
    name: "hardlink to a symlink pointing out is a second name of the symlink",
    cve: "CVE-2014-6407",
    layers: (c) => [[s("s", `${c.canary}/secret`), h("hl", "s")]],
    expect: "confined",
    check: (c) => {
      isLink(c, "hl", `${c.canary}/secret`);
      assert.equal(lst(c, "hl").ino, lst(c, "s").ino);
    },
  },
  {
    name: "hardlink to a relative symlink out, then hl/x written through it",
    cve: "CVE-2014-6407",
    layers: () => [[s("s", REL), h("hl", "s"), f("hl/x")]],
    expect: "confined",
    check: (c) => {
      isLink(c, "hl", REL);
      isFile(c, "canary/x", "pwned");
    },
  },
  {
    name: "absolute hardlink target re-rooted onto a file of DIR (control)",
    layers: () => [[f("etc/passwd", "root::0:0"), h("hl", "/etc/passwd")]],
    expect: "confined",
    check: (c) => {
      isFile(c, "hl", "root::0:0");
      assert.equal(lst(c, "hl").ino, lst(c, "etc/passwd").ino);
    },
  },
  {
    name: "hardlink to a directory",
    layers: () => [[d("dd"), h("hl", "dd")]],
    expect: "reject",
    entry: "hl",
  },
  {
    name: 'hardlink to the root "."',
    layers: () => [[h("hl", ".")]],
    expect: "reject",
    entry: "hl",
  },
  {
    name: 'hardlink to ".."',
    layers: () => [[h("hl", "..")]],
    expect: "reject",
    entry: "hl",
  },
  // Whiteouts (containerd validateWhiteout; image-spec layer.md).
  {
    name: 'whiteout of ".." (.wh...)',
    layers: () => [[f("sub/x", "lower")], [f("sub/.wh...", "")]],
    expect: "reject",
    entry: "sub/.wh...",
  },
  {
    name: 'whiteout of "." (.wh..)',
    layers: () => [[f("x", "lower")], [f(".wh..", "")]],
    expect: "reject",
    entry: ".wh..",
  },
  {
    name: "bare .wh.",
    layers: () => [[f(".wh.", "")]],
    expect: "reject",
    entry: ".wh.",
  },
  {
    name: "whiteout named ../../canary/.wh.x",
    layers: () => [[f(`${REL}/.wh.x`, "")]],
    expect: "reject",
    entry: `${REL}/.wh.x`,
  },
  {
    name: "whiteout through an absolute symlink to the canary (l/.wh.x)",
    layers: (c) => [[s("l", c.canary)], [f("l/.wh.x", ""), f("l/.wh.secret", "")]],
    expect: "confined",
    check: (c) => isLink(c, "l", c.canary),
  },
  {
    name: "whiteout through a relative symlink (l -> ../../canary, l/.wh.secret)",
    layers: () => [[s("l", REL)], [f("l/.wh.secret", ""), f("l/.wh.sub", "")]],
    expect: "confined",
    check: (c) => isLink(c, "l", REL),
  },
  {
    name: "whiteout of a symlink pointing out removes the link, not its target",
    layers: (c) => [[s("s", `${c.canary}/secret`), s("t", `${c.canary}/sub`)], [f(".wh.s", "")]],
    expect: "confined",
    check: (c) => {
      absent(c, "s");
      isLink(c, "t", `${c.canary}/sub`);
    },
  },
  {
    name: "whiteout of a directory holding symlinks to the canary (no recursion through them)",
    layers: (c) => [[d("d"), s("d/out", c.canary), s("d/rel", `../${REL}`)], [f(".wh.d", "")]],
    expect: "confined",
    check: (c) => absent(c, "d"),
  },
  {
    name: "opaque marker in a directory named through a symlink to the canary",
    layers: (c) => [[s("l", c.canary)], [f("l/.wh..wh..opq", "")]],
    expect: "confined",
    check: (c) => isLink(c, "l", c.canary),
  },
  {
    name: "opaque directory holding symlinks to the canary",
    layers: (c) => [
      [d("d"), s("d/out", c.canary), s("d/rel", `../${REL}`), f("d/old", "old")],
      [f("d/.wh..wh..opq", ""), f("d/new", "new")],
    ],
    expect: "confined",
    check: (c) => {
      assert.deepEqual(readdirSync(inDir(c, "d")), ["new"]);
    },
  },
  // CVE-2021-29136 (umoci <=0.4.6): a symlink named "." or "/" replaces the rootfs directory.
  {
    name: 'symlink named "." pointing at the canary',
    cve: "CVE-2021-29136",
    layers: (c) => [[s(".", c.canary)], [f("x")]],
    expect: "reject",
    entry: ".",
  },
  {
    name: 'symlink named "/" pointing at the canary',
    cve: "CVE-2021-29136",
    layers: (c) => [[s("/", c.canary, { raw: true })], [f("x")]],
    expect: "reject",
    entry: "/",
  },
  {
    name: 'symlink named "./" to ../../canary',
    cve: "CVE-2021-29136",
    layers: () => [[s("./", REL, { raw: true })], [f("x")]],
    expect: "reject",
    entry: "./",
  },
  {
    name: 'file entry named "." (root replaced by a file)',
    cve: "CVE-2021-29136",
    layers: () => [[f(".", "not a dir", { raw: true })]],
    expect: "reject",
    entry: ".",
  },
  {
    name: 'directory entry "./" sets DIR\'s own mode, nothing above it',
    layers: () => [[d("./", { mode: 0o750, raw: true }), f("x", "x")]],
    expect: "confined",
    check: (c) => {
      isDir(c, ".");
      assert.equal(lst(c, ".").mode & 0o7777, 0o750);
      isFile(c, "x", "x");
    },
  },
  // CVE-2017-14992 (tar-split gzip bomb), CVE-2023-25153 / CVE-2020-1702 (unbounded reads).
  {
    name: "gzip bomb: a ~16 KiB gzip layer expanding to a 16 MiB file, maxBytes 1 MiB",
    cve: "CVE-2017-14992",
    layers: () => [{ entries: [{ name: "bomb", zeros: 16 * MiB }], compression: "gzip" }],
    limits: { maxBytes: MiB },
    expect: "reject",
    codes: ["UNPACK_LIMIT"],
    entry: "bomb",
  },
  {
    name: "zstd bomb: 64 MiB of zeros, maxBytes 1 MiB",
    cve: "CVE-2017-14992",
    layers: () => [{ entries: [{ name: "zbomb", zeros: 64 * MiB }], compression: "zstd" }],
    limits: { maxBytes: MiB },
    expect: "reject",
    codes: ["UNPACK_LIMIT"],
    entry: "zbomb",
  },
  {
    name: "header declaring a petabyte (base-256 size), no body",
    cve: "CVE-2023-25153",
    layers: () => [[f("small", "ok"), { name: "huge", declaredSize: 2 ** 50 }]],
    limits: { maxBytes: MiB },
    expect: "reject",
    codes: ["UNPACK_LIMIT"],
    entry: "huge",
  },
  {
    name: "PAX size record declaring a petabyte on a 0-byte ustar header",
    cve: "CVE-2023-25153",
    layers: () => [[{ name: "paxhuge", raw: true, content: "", pax: { size: String(2 ** 50) } }]],
    limits: { maxBytes: MiB },
    expect: "reject",
    codes: ["UNPACK_LIMIT"],
    entry: "paxhuge",
  },
  {
    // No entry to name: the message names the layer.
    name: "64 MiB of zero blocks (no entries) in a gzip layer, maxBytes 1 MiB",
    cve: "CVE-2017-14992",
    layers: () => [{ entries: [{ zeroBytes: 64 * MiB }], compression: "gzip" }],
    limits: { maxBytes: MiB },
    expect: "reject",
    codes: ["UNPACK_LIMIT"],
  },
  {
    // tar readers buffer a PAX header whole: its size must be bounded too. Under tar-stream's
    // own 4 MiB header cap, so only kimg's stream bound can stop it.
    name: "PAX header bomb: a 3 MiB extended header, maxBytes 1 MiB",
    cve: "CVE-2020-1702",
    layers: () => [
      {
        entries: [
          { bytes: rawHeader({ name: "PaxHeader", typeflag: "x", size: 3 * MiB }) },
          { zeroBytes: 3 * MiB },
          f("after", "x"),
        ],
        compression: "gzip",
      },
    ],
    limits: { maxBytes: MiB },
    expect: "reject",
    codes: ["UNPACK_LIMIT"],
  },
  {
    // Over tar-stream's 4 MiB header cap: refused by the tar reader (LAYER_INVALID) — but the
    // gzip stream is fine, and the message must not say otherwise.
    name: "PAX header bomb: a 64 MiB extended header, maxBytes 1 MiB",
    cve: "CVE-2020-1702",
    codes: ["UNPACK_LIMIT", "LAYER_INVALID"],
    notInMessage: "gzip",
    layers: () => [
      {
        entries: [
          { bytes: rawHeader({ name: "PaxHeader", typeflag: "x", size: 64 * MiB }) },
          { zeroBytes: 64 * MiB },
          f("after", "x"),
        ],
        compression: "gzip",
      },
    ],
    limits: { maxBytes: MiB },
    expect: "reject",
  },
  {
    name: "entry-count bomb: 500 entries, maxFiles 100",
    layers: () => [Array.from({ length: 500 }, (_, i) => f(`n/f${i}`, ""))],
    limits: { maxFiles: 100 },
    expect: "reject",
    codes: ["UNPACK_LIMIT"],
    entry: "n/f100",
  },
  // GHSA-rp3h-jf77-q9p4 (containerd <2.3.5): superlinear unpack on deep trees.
  {
    name: "1500 files 200 directories deep (PAX names), within the test timeout",
    cve: "GHSA-rp3h-jf77-q9p4",
    layers: () => [Array.from({ length: 1500 }, (_, i) => f(`${nestedPath(200)}/f${i}`, ""))],
    expect: "confined",
    check: (c) => {
      assert.equal(readdirSync(inDir(c, nestedPath(200))).length, 1500);
    },
  },
  {
    name: "duplicate paths: the later entry wins (file, then file; dir, then file)",
    layers: () => [
      [f("dup", "first"), f("dup", "second"), d("dup2"), f("dup2/in"), f("dup2", "f")],
    ],
    expect: "confined",
    check: (c) => {
      isFile(c, "dup", "second");
      isFile(c, "dup2", "f");
    },
  },
  {
    name: "long PAX name hiding a climb: 60 components down, 62 up",
    layers: () => [[f(`${"a/".repeat(60)}${"../".repeat(62)}canary/x`)]],
    expect: "reject",
    entry: `${"a/".repeat(60)}${"../".repeat(62)}canary/x`,
  },
  {
    name: "PAX path ../../canary/x contradicting a benign ustar name",
    layers: () => [[{ name: "ok", raw: true, content: "p", pax: { path: `${REL}/x` } }]],
    expect: "reject",
    entry: `${REL}/x`,
  },
  {
    name: "PAX linkpath ../../canary/secret on a hardlink named benignly",
    layers: () => [
      [f("ok", "ok"), h("hl", "ok", { raw: true, pax: { linkpath: `${REL}/secret` } })],
    ],
    expect: "reject",
    entry: "hl",
  },
  {
    name: "global PAX header (g) with path ../../canary/g applied to a later entry",
    layers: () => [
      [
        { bytes: paxHeader({ path: `${REL}/g` }, "g") },
        { name: "benign", raw: true, content: "g", pax: { mtime: "1700000000" } },
      ],
    ],
    expect: "reject",
    entry: `${REL}/g`,
  },
  {
    name: "character device named ../../canary/dev",
    layers: () => [[{ name: `${REL}/dev`, type: "char", devmajor: 1, devminor: 3 }]],
    expect: "reject",
    entry: `${REL}/dev`,
  },
  {
    name: "FIFO and device entries under a symlink to the canary",
    layers: (c) => [
      [
        s("l", c.canary),
        { name: "l/fifo", type: "fifo" },
        { name: "l/null", type: "char", devmajor: 1, devminor: 3 },
      ],
    ],
    privileges: { allowDevices: true },
    expect: "confined",
    check: (c, report) => {
      assert.ok(lst(c, `${c.canary}/fifo`).isFIFO());
      if (process.getuid?.() === 0) assert.ok(lst(c, `${c.canary}/null`).isCharacterDevice());
      else
        assert.ok(
          report.notes.some((n) => n.includes("l/null")),
          report.notes.join("\n"),
        );
    },
  },
  {
    // Root (CI runs as root): the node is created inside DIR; anyone else: skipped with a note.
    name: "device entries: created inside DIR as root, skipped with a note otherwise",
    layers: () => [[{ name: "dev/null", type: "char", devmajor: 1, devminor: 3 }]],
    privileges: { allowDevices: true },
    expect: "confined",
    check: (c, report) => {
      if (process.getuid?.() === 0) {
        assert.ok(lstatSync(join(c.dir, "dev/null")).isCharacterDevice(), "dev/null inside DIR");
        return;
      }
      absent(c, "dev/null");
      assert.ok(
        report.notes.some((n) => n.includes("dev/null")),
        report.notes.join("\n"),
      );
    },
  },
  {
    name: "NUL inside a ustar name ends the name (x\\0../../canary/y is x)",
    layers: () => [[{ name: `x\u0000${REL}/y`, content: "nul" }]],
    expect: "confined",
    check: (c) => {
      isFile(c, "x", "nul");
    },
  },
  {
    name: "NUL inside a PAX path",
    layers: () => [[{ name: "ok", raw: true, content: "p", pax: { path: "nul\u0000name" } }]],
    expect: "reject",
    codes: ["UNSAFE_PATH", "LAYER_INVALID"],
    entry: "nul?name",
  },
  {
    name: "empty name on a file entry (the root)",
    layers: () => [[{ name: "", content: "empty name" }]],
    expect: "reject",
  },
  // CVE-2021-32760's shape in containerd: a directory entry under a symlinked parent.
  {
    name: "dir entry l/sub (mode 0777, old mtime) under l -> canary",
    cve: "CVE-2021-32760",
    layers: (c) => [[s("l", c.canary), d("l/sub", { mode: 0o777, mtime: new Date(0) })]],
    expect: "confined",
    check: (c) => {
      isDir(c, `${c.canary}/sub`);
      assert.equal(lst(c, `${c.canary}/sub`).mode & 0o7777, 0o777);
    },
  },
  {
    name: "xattr PAX records on entries at paths that are symlinks to the canary",
    cve: "CVE-2021-32760",
    layers: (c) => [
      [s("s", `${c.canary}/secret`), s("t", c.canary)],
      [
        s("s", `${c.canary}/secret`, { pax: { "SCHILY.xattr.user.kimg": "pwned" } }),
        d("t", { pax: { "SCHILY.xattr.user.kimg": "pwned" } }),
      ],
    ],
    expect: "confined",
    check: (c) => {
      isLink(c, "s", `${c.canary}/secret`);
      isDir(c, "t");
    },
  },
  {
    name: "entry name longer than PATH_MAX (2100 components)",
    layers: () => [[f(`${nestedPath(2100)}/x`)]],
    expect: "reject",
    codes: ["UNSAFE_PATH", "LAYER_INVALID"],
    entry: "d/d/d/d/d/d/d/d",
  },
  {
    name: "component longer than NAME_MAX (300 bytes)",
    layers: () => [[f(`dir/${"n".repeat(300)}`)]],
    expect: "reject",
    codes: ["UNSAFE_PATH", "LAYER_INVALID"],
    entry: "n".repeat(300),
  },
  {
    name: "symlink target longer than PATH_MAX",
    layers: () => [[s("long", `${"../".repeat(1500)}canary`)]],
    expect: "reject",
    codes: ["UNSAFE_PATH", "LAYER_INVALID"],
    entry: "long",
  },
  {
    name: "symlink and hardlink created under l -> canary land in DIR",
    cve: "CVE-2014-6407",
    layers: (c) => [[f("a", "a"), s("l", c.canary), s("l/evil", "/etc/passwd"), h("l/hl", "a")]],
    expect: "confined",
    check: (c) => {
      isLink(c, `${c.canary}/evil`, "/etc/passwd");
      assert.equal(lst(c, `${c.canary}/hl`).ino, lst(c, "a").ino);
    },
  },
  {
    name: "opaque marker under a directory that became a symlink to the canary",
    layers: (c) => [[d("d"), f("d/a", "a")], [s("d", c.canary)], [f("d/.wh..wh..opq", "")]],
    expect: "confined",
    check: (c) => isLink(c, "d", c.canary),
  },
  {
    name: "GNU long name (L) ../../canary/gnu",
    layers: () => {
      const long = Buffer.from(`${REL}/gnu\u0000`);
      return [
        [
          { bytes: rawHeader({ name: "././@LongLink", typeflag: "L", size: long.length }) },
          { bytes: Buffer.concat([long, paddingOf(long.length)]) },
          { name: "short", raw: true, content: "gnu" },
        ],
      ];
    },
    expect: "reject",
    entry: `${REL}/gnu`,
  },
  {
    name: "GNU long link name (K) ../../canary/secret on a hardlink",
    layers: () => {
      const long = Buffer.from(`${REL}/secret\u0000`);
      return [
        [
          f("ok", "ok"),
          { bytes: rawHeader({ name: "././@LongLink", typeflag: "K", size: long.length }) },
          { bytes: Buffer.concat([long, paddingOf(long.length)]) },
          h("hl", "ok", { raw: true }),
        ],
      ];
    },
    expect: "reject",
    entry: "hl",
  },
  {
    name: "gzip layer sniffed although its media type says plain tar (still confined)",
    layers: (c) => [
      {
        entries: [s("link", c.canary), f("link/x")],
        compression: "gzip",
        mediaType: "application/vnd.oci.image.layer.v1.tar",
      },
    ],
    expect: "confined",
    check: (c) => isFile(c, `${c.canary}/x`, "pwned"),
  },
];

// ---------------------------------------------------------------------------------------------

async function build(c: Ctx, row: Row) {
  const out = [];
  for (const l of row.layers(c)) {
    const def: LayerDef = Array.isArray(l) ? { entries: l } : (l as LayerDef);
    const built = await buildLayer({
      entries: def.entries,
      compression: def.compression ?? "gzip",
      ...(def.mediaType !== undefined ? { mediaType: def.mediaType } : {}),
    });
    out.push(built);
  }
  return out;
}

describe("unpack: hostile layers never touch anything outside DIR", () => {
  it("has at least 30 rows, each with a CVE or a reason", () => {
    assert.ok(rows.length >= 30, `${rows.length} rows`);
    assert.equal(new Set(rows.map((r) => r.name)).size, rows.length, "row names are unique");
  });

  for (const row of rows) {
    const title = `${row.cve === undefined ? "" : `[${row.cve}] `}${row.name}`;
    const why = row.skip?.();
    it(title, { timeout: 120_000, ...(why !== undefined ? { skip: why } : {}) }, async () => {
      const c = setup();
      try {
        const layers = await build(c, row);
        if (row.name.startsWith("gzip bomb")) {
          assert.ok((layers[0]?.size ?? 0) < 32 * 1024, `bomb blob is ${layers[0]?.size} bytes`);
        }
        const before = fingerprint(c);
        let report: UnpackReport | undefined;
        let error: unknown;
        try {
          report = await unpackLayers(
            layers.map((l) => l.input()),
            c.dir,
            {
              ...(row.limits !== undefined ? { limits: row.limits } : {}),
              ...row.privileges,
            },
          );
        } catch (e) {
          error = e;
        }
        // Nothing outside DIR changed, whatever the outcome.
        assert.deepEqual(fingerprint(c), before, "the canary world changed");
        const workList = readdirSync(join(c.top, "work")).sort();
        if (row.expect === "reject") {
          assert.ok(
            error !== undefined,
            `expected a rejection, unpack succeeded: ${JSON.stringify(report)}`,
          );
          const codes = row.codes ?? ["UNSAFE_PATH"];
          assert.ok(
            isKimgError(error) && codes.includes(error.code),
            `expected ${codes.join("|")}, got ${String((error as { code?: unknown }).code)}: ${clip(String(error))}`,
          );
          const entry = typeof row.entry === "function" ? row.entry(c) : row.entry;
          if (entry !== undefined) {
            assert.ok(
              error.message.includes(entry),
              `message does not name the entry ${clip(JSON.stringify(entry))}: ${clip(error.message)}`,
            );
          }
          if (row.notInMessage !== undefined) {
            assert.ok(!error.message.includes(row.notInMessage), `misleading: ${error.message}`);
          }
          assert.deepEqual(workList, ["sibling"], "DIR (or a temp sibling) left behind");
        } else {
          if (error !== undefined) throw error;
          assert.ok(report !== undefined);
          assert.deepEqual(workList, ["rootfs", "sibling"], "DIR's parent");
          isDir(c, ".");
          assertNoCanaryInode(c);
          row.check?.(c, report);
        }
      } finally {
        makeWritable(c.dir);
        removeTempDir(c.top);
      }
    });
  }
});

/** DIR may hold read-only directories (a layer's modes): make them removable (non-root). */
function makeWritable(p: string): void {
  let st: ReturnType<typeof lstatSync>;
  try {
    st = lstatSync(p);
  } catch {
    return;
  }
  if (!st.isDirectory()) return;
  chmodSync(p, 0o755);
  for (const n of readdirSync(p)) makeWritable(join(p, n));
}

describe("unpack: a DIR that already exists is never a way out", () => {
  const layer = () => buildLayer([f("etc/hostname", "in DIR"), f("x", "in DIR")]);

  it("DIR is a symlink to the canary, no force: refused, the symlink and canary untouched", async () => {
    const c = setup();
    try {
      symlinkSync(c.canary, c.dir);
      const before = fingerprint(c);
      await assert.rejects(unpackLayers([(await layer()).input()], c.dir), (e: unknown) =>
        isKimgError(e, "INPUT_INVALID"),
      );
      assert.deepEqual(fingerprint(c), before, "the canary world changed");
      assert.equal(readlinkSync(c.dir), c.canary);
      assert.deepEqual(readdirSync(join(c.top, "work")).sort(), ["rootfs", "sibling"]);
    } finally {
      removeTempDir(c.top);
    }
  });

  it("DIR is a symlink to the canary, force: replaced by a real directory, canary untouched", async () => {
    const c = setup();
    try {
      symlinkSync(c.canary, c.dir);
      const before = fingerprint(c);
      await unpackLayers([(await layer()).input()], c.dir, { force: true });
      assert.deepEqual(fingerprint(c), before, "the canary world changed");
      isDir(c, ".");
      isFile(c, "x", "in DIR");
      assertNoCanaryInode(c);
      assert.deepEqual(readdirSync(join(c.top, "work")).sort(), ["rootfs", "sibling"]);
    } finally {
      makeWritable(c.dir);
      removeTempDir(c.top);
    }
  });

  it("an existing empty DIR and a hostile layer: rejected, DIR left empty", async () => {
    const c = setup();
    try {
      mkdirSync(c.dir);
      const before = fingerprint(c);
      const bad = await buildLayer([f("ok", "ok"), f(`${REL}/x`)]);
      await assert.rejects(unpackLayers([bad.input()], c.dir), (e: unknown) =>
        isKimgError(e, "UNSAFE_PATH"),
      );
      assert.deepEqual(fingerprint(c), before, "the canary world changed");
      assert.deepEqual(readdirSync(c.dir), []);
      assert.deepEqual(readdirSync(join(c.top, "work")).sort(), ["rootfs", "sibling"]);
    } finally {
      removeTempDir(c.top);
    }
  });
});
