// Applying one layer's tar changeset onto a directory tree, hardened against hostile layers.
//
// Follows containerd pkg/archive/tar.go `applyNaive`/`createTarFile` (image-spec layer.md):
// - every name is cleaned; a ".." that climbs above the root is rejected (UNSAFE_PATH), an
//   absolute name is taken relative to the root; an entry that is the root itself is skipped;
// - the PARENT of every entry is resolved inside the root component by component with lstat,
//   a symlink met on the way being expanded and re-rooted at the root, never followed out of it
//   (containerd's `fs.RootPath` from continuity: `etc -> /` then `etc/passwd` writes
//   ROOT/passwd); `..` in a symlink target stops at the root (CVE-2020-27833's chained
//   `subdir/parent -> ..` cannot climb); the leaf is never followed: it is created, replaced or
//   removed as the name says;
// - missing parents are created (0755); an existing path is merged when both are directories,
//   else removed (recursively for a directory) and recreated — inodes are replaced, never
//   mutated through a link (umoci's approach, umo.ci/reference/security);
// - hardlink targets are re-rooted the same way (containerd `hardlinkRootPath`); a hardlink to
//   a directory, to the root, to a missing path or escaping by ".." is rejected; link(2) does
//   not follow a symlink target, so a hardlink to a symlink is a second name of that symlink;
// - symlinks are created with the target as written (absolute ones too) and are never followed
//   later, because every later path is resolved as above;
// - no chmod, chown or utimes through a symlink: regular files are changed through their open
//   descriptor (O_NOFOLLOW|O_EXCL), everything else with lchown/lutimes, chmod only after lstat
//   said "not a symlink" (CVE-2021-32760: containerd chmodded host files through a symlink);
// - directories' modes and mtimes are applied at the very end, deepest first, so a read-only
//   directory of a lower layer can still receive a later layer's files, writing into a
//   directory does not bump its mtime afterwards, and no directory is group/world-writable
//   while the unpack runs;
// - whiteouts `.wh.NAME` delete NAME of lower layers (never this layer's entries); opaque
//   `.wh..wh..opq` removes everything under its directory that this layer did not write,
//   wherever the marker sits in the tar (containerd tracks `unpackedPaths` the same way).

import { execFile } from "node:child_process";
// Synchronous system calls, deliberately: entries are applied one after another anyway, and a
// direct lstat/open/fchmod costs microseconds where a promise round trip through libuv's
// thread pool costs tens of them — for images of tens of thousands of small files that is most
// of the time (docs/performance.md). Decompression and hashing still run on the thread pool
// meanwhile, and the event loop turns between chunks and entries.
import {
  chmodSync,
  closeSync,
  constants,
  fchmodSync,
  fchownSync,
  futimesSync,
  lchownSync,
  linkSync,
  lstatSync,
  lutimesSync,
  mkdirSync,
  openSync,
  readdirSync,
  readlinkSync,
  rmSync,
  type Stats,
  symlinkSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import type { Readable } from "node:stream";
import { promisify } from "node:util";
import type { Header } from "tar-stream";
import { KimgError } from "../errors.ts";
import { cleanEntryName, shownName, splitPath, whiteoutOf } from "./paths.ts";
import { TarScanner } from "./xattrs.ts";

const execFileP = promisify(execFile);

/** Linux limits/linux/limits.h: a path (with its NUL) and one name. */
const PATH_MAX = 4096;
const NAME_MAX = 255;

/** errno values an entry's name or shape causes: reported as LAYER_INVALID for that entry. */
const LAYER_ERRNOS = new Set(["ENAMETOOLONG", "ELOOP", "ENOTDIR", "EEXIST", "EISDIR", "EINVAL"]);

/** Symlinks expanded while resolving one path before giving up (Linux's MAXSYMLINKS is 40). */
const MAX_SYMLINKS = 255;

export interface Limits {
  readonly maxBytes: number;
  readonly maxFiles: number;
}

interface DirAttrs {
  mode: number;
  atime?: number;
  mtime?: number;
}

/** Notes of one kind: how many, and the first few paths. */
class NoteKind {
  count = 0;
  readonly examples: string[] = [];
  add(example: string): void {
    this.count++;
    if (this.examples.length < 3) this.examples.push(example);
  }
}

const errno = (e: unknown): string | undefined =>
  typeof e === "object" && e !== null && "code" in e && typeof e.code === "string"
    ? e.code
    : undefined;

function lstatOrUndefined(p: string): Stats | undefined {
  try {
    return lstatSync(p);
  } catch (e) {
    if (errno(e) === "ENOENT") return undefined;
    throw e;
  }
}

/** Reads an entry's content to the end, discarding it. */
async function drain(s: Readable): Promise<void> {
  for await (const _ of s) {
    // discard
  }
}

/** A number from a PAX record ("1700000000.123456789"), or undefined. */
function paxNumber(pax: Record<string, string> | undefined, key: string): number | undefined {
  const v = pax?.[key];
  if (v === undefined || v === "") return undefined;
  const n = Number(v);
  return Number.isFinite(n) ? n : undefined;
}

/**
 * The state of one unpack: the root being written (a fresh temp dir only this process writes
 * into; mode 0700 until the end), totals against the limits, deferred directory attributes,
 * the notes. One Applier applies every layer in order.
 */
export class Applier {
  readonly root: string;
  readonly limits: Limits;
  readonly signal: AbortSignal | undefined;
  readonly asRoot: boolean;
  readonly #uid: number;
  readonly #gid: number;

  files = 0;
  bytes = 0;
  /** Uncompressed tar bytes of every layer so far (bomb bound, see streamByteLimit). */
  streamBytes = 0;

  /** root-relative path ("" = root) → mode/times, applied at the end. */
  readonly #dirAttrs = new Map<string, DirAttrs>();
  /** root-relative paths known to be real directories (not symlinks): resolution cache. */
  readonly #knownDirs = new Set<string>();
  /** This layer's entries and their ancestors (opaque dirs and whiteouts spare them). */
  #layerPaths = new Set<string>();
  #layer = "";

  readonly #ownership = new NoteKind();
  readonly #xattrs = new NoteKind();
  /** Raw PAX xattrs of this layer's entries, fed the same tar bytes (xattrs.ts). */
  scanner = new TarScanner();
  /** The current entry's raw xattrs (undefined: none, or not trustworthy — then noted). */
  #entryXattrs: Map<string, Buffer> | undefined;
  #entryName = "";
  readonly #devices = new NoteKind();
  readonly #sameLayerWhiteouts = new NoteKind();

  constructor(root: string, limits: Limits, signal?: AbortSignal) {
    this.root = root;
    this.limits = limits;
    this.signal = signal;
    const getuid = process.getuid?.bind(process);
    const getgid = process.getgid?.bind(process);
    this.#uid = getuid !== undefined ? getuid() : -1;
    this.#gid = getgid !== undefined ? getgid() : -1;
    this.asRoot = this.#uid === 0;
    this.#rootBytes = Buffer.byteLength(root);
  }

  readonly #rootBytes: number;

  /** Starts a layer: `label` prefixes error messages (a short digest). */
  beginLayer(label: string): void {
    this.#layer = label;
    this.scanner = new TarScanner();
    this.#layerPaths = new Set();
  }

  /** The most uncompressed tar bytes accepted so far: content + 64 KiB per entry + 1 MiB. */
  streamByteLimit(): number {
    return this.limits.maxBytes + (this.files + 1) * 65536 + 1024 * 1024;
  }

  #abs(rel: string): string {
    return rel === "" ? this.root : `${this.root}/${rel}`;
  }

  #unsafe(name: string, why: string): KimgError {
    return new KimgError("UNSAFE_PATH", `${this.#layer}: ${shownName(name)}: ${why}`);
  }

  #invalid(name: string, why: string): KimgError {
    return new KimgError("LAYER_INVALID", `${this.#layer}: ${shownName(name)}: ${why}`);
  }

  #markLayerPath(rel: string): void {
    let p = rel;
    while (p !== "" && !this.#layerPaths.has(p)) {
      this.#layerPaths.add(p);
      const i = p.lastIndexOf("/");
      p = i === -1 ? "" : p.slice(0, i);
    }
  }

  /**
   * Resolves directory components inside the root (containerd fs.RootPath): returns the
   * root-relative path of a real directory with no symlink in it, creating missing components
   * when `create` (else undefined when one is missing).
   */
  async #resolveDir(
    comps: readonly string[],
    create: boolean,
    name: string,
  ): Promise<string | undefined> {
    // Fast path: the whole parent is a directory this unpack already resolved. Every member of
    // the cache was reached through real directories, and any directory removal clears it, so
    // membership vouches for every ancestor too (no per-component walk: GHSA-rp3h-jf77-q9p4's
    // superlinear unpack).
    if (comps.length === 0) return "";
    const lexical = comps.join("/");
    if (this.#knownDirs.has(lexical)) return lexical;
    let cur: string[] = [];
    const queue = [...comps];
    let links = 0;
    while (queue.length > 0) {
      const c = queue.shift() as string;
      if (c === "..") {
        cur.pop(); // stops at the root
        continue;
      }
      const rel = cur.length === 0 ? c : `${cur.join("/")}/${c}`;
      if (this.#knownDirs.has(rel)) {
        cur.push(c);
        continue;
      }
      const abs = this.#abs(rel);
      const st = lstatOrUndefined(abs);
      if (st === undefined) {
        if (!create) return undefined;
        mkdirSync(abs, { mode: 0o700 });
        this.#dirAttrs.set(rel, { mode: 0o755 });
        this.#knownDirs.add(rel);
        cur.push(c);
        continue;
      }
      if (st.isSymbolicLink()) {
        if (++links > MAX_SYMLINKS) throw this.#unsafe(name, "too many levels of symbolic links");
        const target = readlinkSync(abs);
        if (target.startsWith("/")) cur = []; // re-rooted: "/" is the root
        queue.unshift(...splitPath(target));
        continue;
      }
      if (st.isDirectory()) {
        this.#knownDirs.add(rel);
        cur.push(c);
        continue;
      }
      throw this.#invalid(name, `parent ${shownName(rel)} is not a directory`);
    }
    return cur.join("/");
  }

  /** Removes whatever is at `rel` (a directory recursively); nothing there is fine. */
  async #remove(rel: string, isDir?: boolean): Promise<void> {
    const abs = this.#abs(rel);
    let dir = isDir;
    if (dir === undefined) {
      const st = lstatOrUndefined(abs);
      if (st === undefined) return;
      dir = st.isDirectory();
    }
    if (dir) {
      // rm does not follow symlinks inside the tree; every directory is 0700 and ours.
      rmSync(abs, { recursive: true, force: true });
      this.#knownDirs.clear();
      this.#dirAttrs.delete(rel);
    } else {
      unlinkSync(abs);
    }
  }

  /** Opaque directory: removes everything under `rel` this layer did not write. */
  async #opaque(rel: string): Promise<void> {
    const entries = readdirSync(this.#abs(rel), { withFileTypes: true });
    for (const e of entries) {
      const child = rel === "" ? e.name : `${rel}/${e.name}`;
      if (!this.#layerPaths.has(child)) await this.#remove(child, e.isDirectory());
      else if (e.isDirectory()) await this.#opaque(child);
    }
  }

  /** Linux's limits, checked before any syscall (a 2,000-deep name costs nothing to refuse). */
  #checkLength(name: string, comps: readonly string[]): void {
    let total = this.#rootBytes;
    for (const c of comps) {
      const n = Buffer.byteLength(c);
      if (n > NAME_MAX) throw this.#invalid(name, `a component is longer than ${NAME_MAX} bytes`);
      total += n + 1;
    }
    if (total >= PATH_MAX) throw this.#invalid(name, `path longer than ${PATH_MAX} bytes`);
  }

  #checkFiles(name: string): void {
    this.files++;
    if (this.files > this.limits.maxFiles) {
      throw new KimgError(
        "UNPACK_LIMIT",
        `${this.#layer}: ${shownName(name)}: more than ${this.limits.maxFiles} entries (--max-files)`,
      );
    }
  }

  #addBytes(n: number, name: string): void {
    this.bytes += n;
    if (this.bytes > this.limits.maxBytes) {
      throw new KimgError(
        "UNPACK_LIMIT",
        `${this.#layer}: ${shownName(name)}: content over ${this.limits.maxBytes} bytes (--max-size)`,
      );
    }
  }

  /** Applies one tar entry; consumes its content stream. */
  async apply(hdr: Header, content: Readable): Promise<void> {
    // Both tar-stream and the scanner see the same entries in the same order; the scanner is
    // ahead (the hasher feeds it before tar-stream parses). A name mismatch is noted, never
    // misapplied.
    const scanned = this.scanner.entries.shift();
    this.#entryName = hdr.name;
    this.#entryXattrs = undefined;
    if (scanned !== undefined && scanned.name === hdr.name && scanned.xattrs !== undefined) {
      if (scanned.xattrs.size > 0) this.#entryXattrs = scanned.xattrs;
    } else
      this.#noteXattrs(
        (hdr.pax ?? undefined) as Record<string, string> | undefined,
        hdr.name,
        "not read",
      );
    try {
      await this.#apply(hdr, content);
    } catch (e) {
      // What the file system refuses for this entry's sake (a name too long, a component that
      // is a file) is the layer's fault: LAYER_INVALID naming it. Other errors (ENOSPC, EIO,
      // EACCES on the parent directory) are the machine's and pass unchanged.
      const code = errno(e);
      if (code !== undefined && LAYER_ERRNOS.has(code)) {
        throw this.#invalid(hdr.name, `${code}: ${(e as Error).message.split(", ")[0]}`);
      }
      throw e;
    }
  }

  async #apply(hdr: Header, content: Readable): Promise<void> {
    if (this.signal?.aborted)
      throw new KimgError("ABORTED", "unpack: aborted", { cause: this.signal.reason });
    const name = hdr.name;
    this.#checkFiles(name);
    if (name.includes("\0")) throw this.#unsafe(name, "NUL in the name");
    const comps = cleanEntryName(name);
    if (comps === undefined) throw this.#unsafe(name, "path climbs out of the root (..)");
    this.#checkLength(name, comps);
    const base = comps[comps.length - 1];
    if (base === undefined) {
      // The root itself ("./", "/"). A directory entry sets the root's mode and times (as
      // umoci does; containerd skips it); any other type would replace the root by a file or
      // a symlink (umoci CVE-2021-29136): rejected as umoci does.
      await drain(content);
      if (hdr.type !== "directory")
        throw this.#unsafe(name, "refusing to change the type of the root directory");
      const pax = (hdr.pax ?? undefined) as Record<string, string> | undefined;
      const mtime = paxNumber(pax, "mtime") ?? hdr.mtime.getTime() / 1000;
      const atime = Math.max(paxNumber(pax, "atime") ?? mtime, mtime);
      this.#dirAttrs.set("", { mode: hdr.mode & 0o7777, atime, mtime });
      return;
    }
    const parentComps = comps.slice(0, -1);
    const wh = whiteoutOf(base);
    if (wh.kind === "invalid") throw this.#unsafe(name, wh.why);
    if (wh.kind === "opaque") {
      await drain(content);
      const dir = await this.#resolveDir(parentComps, false, name);
      if (dir === undefined) return;
      this.#markLayerPath(dir);
      await this.#opaque(dir);
      return;
    }
    if (wh.kind === "whiteout") {
      await drain(content);
      const dir = await this.#resolveDir(parentComps, false, name);
      if (dir === undefined) return;
      const rel = dir === "" ? wh.name : `${dir}/${wh.name}`;
      if (this.#layerPaths.has(rel)) {
        // image-spec: a whiteout only hides lower layers' files, never its own layer's. As umoci
        // (oci/layer/tar_extract.go ociWhiteout, upperPaths): a directory this layer wrote into
        // loses only its lower children; a file this layer wrote is kept.
        const st = lstatOrUndefined(this.#abs(rel));
        if (st?.isDirectory() === true) await this.#opaque(rel);
        else this.#sameLayerWhiteouts.add(`${this.#layer}: ${name}`);
        return;
      }
      await this.#remove(rel);
      return;
    }

    const type = hdr.type as string | null;
    if (type === "link") {
      await this.#hardlink(hdr, parentComps, base, content);
      return;
    }
    const dir = await this.#resolveDir(parentComps, true, name);
    const rel = dir === "" || dir === undefined ? base : `${dir}/${base}`;
    const abs = this.#abs(rel);
    this.#markLayerPath(rel);
    const pax = (hdr.pax ?? undefined) as Record<string, string> | undefined;
    const uid = paxNumber(pax, "uid") ?? hdr.uid;
    const gid = paxNumber(pax, "gid") ?? hdr.gid;
    const mtime = paxNumber(pax, "mtime") ?? hdr.mtime.getTime() / 1000;
    // containerd chtimes(latestTime(atime, mtime), mtime).
    const atime = Math.max(paxNumber(pax, "atime") ?? mtime, mtime);
    const mode = hdr.mode & 0o7777;
    const existing = lstatOrUndefined(abs);

    switch (type) {
      case "directory": {
        if (existing === undefined || !existing.isDirectory()) {
          if (existing !== undefined) await this.#remove(rel, false);
          mkdirSync(abs, { mode: 0o700 });
        }
        this.#knownDirs.add(rel);
        this.#dirAttrs.set(rel, { mode, atime, mtime });
        await this.#own(abs, uid, gid, name);
        await this.#setXattrs(abs);
        await drain(content);
        break;
      }
      case "file":
      case "contiguous-file": {
        if (existing !== undefined) await this.#remove(rel, existing.isDirectory());
        if (this.bytes + hdr.size > this.limits.maxBytes) this.#addBytes(hdr.size, name);
        const fd = openSync(
          abs,
          constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
          0o600,
        );
        try {
          for await (const chunk of content as AsyncIterable<Buffer>) {
            this.#addBytes(chunk.length, name);
            let off = 0;
            while (off < chunk.length) off += writeSync(fd, chunk, off, chunk.length - off);
          }
          if (this.asRoot) fchownSync(fd, uid, gid);
          else this.#noteOwner(uid, gid, name);
          await this.#setXattrs(abs); // before the mode, which may forbid writing them
          fchmodSync(fd, mode); // after chown, which may clear setuid bits
          futimesSync(fd, atime, mtime);
        } finally {
          closeSync(fd);
        }
        break;
      }
      case "symlink": {
        if (existing !== undefined) await this.#remove(rel, existing.isDirectory());
        if (hdr.linkname === "" || hdr.linkname === null)
          throw this.#invalid(name, "symlink without a target");
        if (hdr.linkname.includes("\0")) throw this.#unsafe(name, "NUL in the symlink target");
        if (Buffer.byteLength(hdr.linkname) >= PATH_MAX) {
          throw this.#invalid(name, `symlink target longer than ${PATH_MAX} bytes`);
        }
        symlinkSync(hdr.linkname, abs); // literal target, never followed by kimg
        await this.#own(abs, uid, gid, name);
        await this.#setXattrs(abs); // setfattr -h: the link itself, never its target
        lutimesSync(abs, atime, mtime);
        await drain(content);
        break;
      }
      case "character-device":
      case "block-device":
      case "fifo": {
        await drain(content);
        if (existing !== undefined) await this.#remove(rel, existing.isDirectory());
        await this.#special(hdr, abs, rel, mode, uid, gid, atime, mtime);
        if (lstatOrUndefined(abs) !== undefined) await this.#setXattrs(abs);
        break;
      }
      default:
        throw this.#invalid(name, `unsupported tar entry type ${type ?? "(unknown)"}`);
    }
  }

  async #hardlink(
    hdr: Header,
    parentComps: readonly string[],
    base: string,
    content: Readable,
  ): Promise<void> {
    const name = hdr.name;
    await drain(content);
    if ((hdr.linkname ?? "").includes("\0")) throw this.#unsafe(name, "NUL in the hardlink target");
    const tcomps = cleanEntryName(hdr.linkname ?? "");
    if (tcomps === undefined)
      throw this.#unsafe(
        name,
        `hardlink target ${shownName(hdr.linkname)} climbs out of the root (..)`,
      );
    const tbase = tcomps[tcomps.length - 1];
    if (tbase === undefined) throw this.#unsafe(name, "hardlink to the root directory");
    // containerd hardlinkRootPath: the target's parent resolved inside the root, leaf as is.
    const tdir = await this.#resolveDir(tcomps.slice(0, -1), false, name);
    const trel = tdir === undefined ? undefined : tdir === "" ? tbase : `${tdir}/${tbase}`;
    const tst = trel === undefined ? undefined : lstatOrUndefined(this.#abs(trel));
    if (trel === undefined || tst === undefined) {
      throw this.#invalid(name, `hardlink target ${shownName(hdr.linkname)} does not exist`);
    }
    if (tst.isDirectory())
      throw this.#unsafe(name, `hardlink to a directory (${shownName(hdr.linkname)})`);
    const dir = await this.#resolveDir(parentComps, true, name);
    const rel = dir === "" || dir === undefined ? base : `${dir}/${base}`;
    if (rel === trel) throw this.#invalid(name, "hardlink to itself");
    const abs = this.#abs(rel);
    this.#markLayerPath(rel);
    const existing = lstatOrUndefined(abs);
    if (existing !== undefined) await this.#remove(rel, existing.isDirectory());
    linkSync(this.#abs(trel), abs);
    // No metadata: a hardlink is a second name of an inode whose owner, mode and times are
    // already set (umoci oci/layer/tar_extract.go: "hardlinks don't have any separate metadata
    // from their link"). containerd's handleLChmod chmods it; not applying anything here also
    // rules out CVE-2021-32760's chmod through a link by construction.
  }

  /** Device nodes (root only) and FIFOs: Node has no mknod(2), so mknod(1) does it. */
  async #special(
    hdr: Header,
    abs: string,
    rel: string,
    mode: number,
    uid: number,
    gid: number,
    atime: number,
    mtime: number,
  ): Promise<void> {
    const kind = hdr.type === "fifo" ? "p" : hdr.type === "block-device" ? "b" : "c";
    if (kind !== "p" && !this.asRoot) {
      this.#devices.add(`${hdr.name} (${hdr.type} ${hdr.devmajor}:${hdr.devminor}): not root`);
      return;
    }
    const args = ["-m", (mode & 0o777).toString(8), abs, kind];
    if (kind !== "p") args.push(String(hdr.devmajor), String(hdr.devminor));
    try {
      await execFileP("mknod", args, { timeout: 10_000 });
    } catch (e) {
      const why = (e as { stderr?: string }).stderr?.trim() || (e as Error).message;
      this.#devices.add(`${hdr.name} (${hdr.type}): mknod failed: ${why.split("\n")[0]}`);
      return;
    }
    this.#markLayerPath(rel);
    await this.#own(abs, uid, gid, hdr.name);
    chmodSync(abs, mode); // a device node or FIFO: lstat-free, mknod just made it here
    lutimesSync(abs, atime, mtime);
  }

  async #own(abs: string, uid: number, gid: number, name: string): Promise<void> {
    if (this.asRoot) lchownSync(abs, uid, gid);
    else this.#noteOwner(uid, gid, name);
  }

  #noteOwner(uid: number, gid: number, name: string): void {
    if (uid !== this.#uid || gid !== this.#gid) this.#ownership.add(`${name} ${uid}:${gid}`);
  }

  #noteXattrs(pax: Record<string, string> | undefined, name: string, why: string): void {
    if (pax === undefined) return;
    for (const k of Object.keys(pax)) {
      if (k.startsWith("SCHILY.xattr.") || k.startsWith("LIBARCHIVE.xattr.")) {
        this.#xattrs.add(`${name} ${k.slice(k.indexOf("xattr.") + 6)} (${why})`);
      }
    }
  }

  /**
   * The current entry's xattrs on ABS (its own resolved in-root path, just created): one
   * `setfattr -h` per xattr (-h: never follows a symlink). Refusals (EPERM for trusted.* /
   * security.* unless root, user.* on links, ENOTSUP…) are noted, one line per entry.
   */
  async #setXattrs(abs: string): Promise<void> {
    const xs = this.#entryXattrs;
    if (xs === undefined) return;
    this.#entryXattrs = undefined;
    const failed: string[] = [];
    for (const [n, v] of xs) {
      try {
        await execFileP("setfattr", ["-h", "-n", n, "-v", `0s${v.toString("base64")}`, "--", abs], {
          timeout: 10_000,
        });
      } catch (e) {
        const err = e as NodeJS.ErrnoException & { stderr?: string };
        if (err.code === "ENOENT") {
          this.#xattrs.add(
            `${this.#entryName} ${[...xs.keys()].join(" ")} (setfattr not installed)`,
          );
          return;
        }
        const why =
          String(err.stderr ?? err.message)
            .trim()
            .split("\n")[0] ?? "";
        failed.push(`${n}: ${why.slice(why.lastIndexOf(": ") + 2)}`);
      }
    }
    if (failed.length > 0) this.#xattrs.add(`${this.#entryName} ${failed.join("; ")}`);
  }

  /**
   * Directory modes and times, deepest first (a parent's mode must not lock us out of its
   * children; children's changes must not bump the parent's mtime), then the root's mode.
   * Each path is lstat'ed: only real directories are touched (never through a symlink).
   */
  async finish(rootMode = 0o755): Promise<void> {
    const dirs = [...this.#dirAttrs.entries()].sort(
      (a, b) => depth(b[0]) - depth(a[0]) || (a[0] < b[0] ? -1 : 1),
    );
    // A recorded directory may since have been removed, replaced, or had an ANCESTOR replaced
    // by a symlink (d/sub recorded, then d -> /somewhere): lstat of ROOT/d/sub would follow d.
    // So every component is checked to be a real directory, memoized (CVE-2021-32760).
    const real = new Map<string, Promise<boolean>>([["", Promise.resolve(true)]]);
    const isRealDir = (rel: string): Promise<boolean> => {
      let p = real.get(rel);
      if (p === undefined) {
        const i = rel.lastIndexOf("/");
        const parent = i === -1 ? "" : rel.slice(0, i);
        p = isRealDir(parent).then(async (ok) => {
          if (!ok) return false;
          const st = lstatOrUndefined(this.#abs(rel));
          return st?.isDirectory() === true;
        });
        real.set(rel, p);
      }
      return p;
    };
    for (const [rel, a] of dirs) {
      const abs = this.#abs(rel);
      if (!(await isRealDir(rel))) continue;
      chmodSync(abs, a.mode);
      if (a.mtime !== undefined) lutimesSync(abs, a.atime ?? a.mtime, a.mtime);
    }
    if (!this.#dirAttrs.has("")) chmodSync(this.root, rootMode);
  }

  notes(): string[] {
    const out: string[] = [];
    const line = (k: NoteKind, what: string): void => {
      if (k.count === 0) return;
      out.push(
        `${what}: ${k.count} entr${k.count === 1 ? "y" : "ies"} (e.g. ${k.examples.join(", ")})`,
      );
    };
    line(this.#ownership, "ownership not applied (not running as root; uid:gid as recorded)");
    line(this.#xattrs, "xattrs not applied (refused by the file system, or setfattr missing)");
    line(this.#devices, "device nodes/FIFOs not created");
    line(this.#sameLayerWhiteouts, "whiteouts ignored (they name an entry of their own layer)");
    return out;
  }
}

function depth(rel: string): number {
  let n = 0;
  for (let i = 0; i < rel.length; i++) if (rel.charCodeAt(i) === 47) n++;
  return rel === "" ? -1 : n;
}
