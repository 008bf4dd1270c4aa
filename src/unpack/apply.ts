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
import type { Header } from "tar-stream";
import { KimgError } from "../errors.ts";
import { cleanEntryName, shownName, splitPath, whiteoutOf } from "./paths.ts";
import { encodeDev, Syscalls } from "./syscalls.ts";
import { TarScanner } from "./xattrs.ts";

/** Linux limits/linux/limits.h: a path (with its NUL) and one name. */
const PATH_MAX = 4096;
const NAME_MAX = 255;

/** errno values an entry's name or shape causes: reported as LAYER_INVALID for that entry. */
const LAYER_ERRNOS = new Set([
  "ENAMETOOLONG",
  "ELOOP",
  "ENOTDIR",
  "EEXIST",
  "EISDIR",
  "EINVAL",
  "EMLINK", // more hardlinks to one inode than the file system allows (ext4: 65,000)
]);

/** Symlinks expanded while resolving one path before giving up: Linux's MAXSYMLINKS. */
const MAX_SYMLINKS = 40;
/**
 * Path components one resolution may walk (symlink targets included) before giving up. Linux
 * bounds a lookup by PATH_MAX per name and 40 links; in kimg each component is an lstat, so a
 * chain of long targets padded with `d/..` would cost milliseconds per entry (issue 19 item 6).
 */
const MAX_WALK = 4096;

/** xattrs one entry may carry (ext4 fits its xattrs in one 4 KiB block; real entries have 1-3). */
export const MAX_XATTRS_PER_ENTRY = 128;
/** xattrs one unpack may apply in all (an image labelled for SELinux has one per file). */
export const MAX_XATTRS_TOTAL = 1_000_000;
/** Linux's XATTR_SIZE_MAX (include/uapi/linux/limits.h): the kernel refuses larger values. */
const XATTR_SIZE_MAX = 65536;
/** Device nodes and FIFOs created concurrently before their metadata is applied. */
const SPECIAL_BATCH = 1024;

/** The largest id Linux takes for chown ((uid_t)-1 means "unchanged"). */
const MAX_ID = 4294967294;

export interface Limits {
  readonly maxBytes: number;
  readonly maxFiles: number;
}

/** What an unpack may create beyond plain files (issue 19 item 2): all off by default. */
export interface Privileges {
  /** Create device nodes (root only); never world-writable even then. */
  readonly allowDevices?: boolean;
  /** Keep setuid/setgid bits of files (else dropped, with a note per entry). */
  readonly keepSetuid?: boolean;
  /** Apply `trusted.*` and `security.*` xattrs (root only). */
  readonly keepPrivilegedXattrs?: boolean;
}

interface PendingSpecial {
  readonly made: Promise<unknown>;
  readonly hdr: Header;
  readonly abs: string;
  readonly rel: string;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly atime: number;
  readonly mtime: number;
  readonly xattrs: Map<string, Buffer> | undefined;
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
  readonly #keep: number;
  constructor(keep = 3) {
    this.#keep = keep;
  }
  add(example: string): void {
    this.count++;
    if (this.examples.length < this.#keep) this.examples.push(example);
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

/** The most seconds a Date holds (ECMA-262: ±8.64e15 ms); file systems hold far less. */
const MAX_DATE_SECONDS = 8.64e12;

/**
 * A time in seconds as Node's fs takes it. Node turns a negative number into "now"
 * (lib/internal/fs/utils.js toUnixTimestamp), so a time before 1970 goes as a Date (ms
 * precision, enough for 1969); past a Date's range it is clamped — utimensat would clamp it to
 * the file system's range anyway (ext4: 1901 to 2446).
 */
function fsTime(t: number): number | Date {
  if (t >= 0) return Math.min(t, MAX_DATE_SECONDS);
  return new Date(Math.max(t, -MAX_DATE_SECONDS) * 1000);
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** Go's strconv.ParseInt(v, 10, 64): an optional sign, decimal digits, within int64. */
function parseInt64(v: string): bigint | undefined {
  if (!/^[+-]?[0-9]+$/.test(v)) return undefined;
  const n = BigInt(v);
  return n < INT64_MIN || n > INT64_MAX ? undefined : n;
}

/**
 * The PAX records kimg reads, parsed as Go's archive/tar does (reader.go mergePAX and
 * parsePAXTime): uid, gid and size with ParseInt(v, 10, 64), times as `[-]SECONDS[.DIGITS]`.
 * `1.5`, `0x10`, `1e20`, `-1e30` are invalid headers there, and here.
 * @returns undefined when absent; a string naming the problem when invalid.
 */
function paxField(
  pax: Record<string, string> | undefined,
  key: "uid" | "gid" | "size" | "mtime" | "atime",
): number | undefined | { invalid: string } {
  const v = pax?.[key];
  if (v === undefined) return undefined;
  const bad = { invalid: `invalid PAX ${key} record ${JSON.stringify(v)}` };
  if (key === "mtime" || key === "atime") {
    const dot = v.indexOf(".");
    const secs = parseInt64(dot === -1 ? v : v.slice(0, dot));
    const frac = dot === -1 ? "" : v.slice(dot + 1);
    if (secs === undefined || !/^[0-9]*$/.test(frac)) return bad;
    const n =
      Number(secs) +
      (frac === "" ? 0 : Number(`0.${frac.slice(0, 9)}`) * (v.startsWith("-") ? -1 : 1));
    return n;
  }
  const n = parseInt64(v);
  if (n === undefined || (key === "size" && n < 0n)) return bad;
  return Number(n);
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
  readonly #devicesRefused = new NoteKind();
  readonly #privilegedXattrs = new NoteKind();
  /** One line per entry whose setuid/setgid bits were dropped (up to 100 named). */
  readonly #setuid = new NoteKind(100);
  readonly #sameLayerWhiteouts = new NoteKind();
  readonly #privileges: Privileges;
  readonly #sys = new Syscalls();
  #xattrCount = 0;
  /** FIFOs and devices being created by the helper; their metadata follows in flushSpecials. */
  #pending: PendingSpecial[] = [];
  readonly #pendingRels = new Set<string>();
  /** Lexical parent path → the in-root directory it resolved to (cleared on any removal). */
  readonly #resolved = new Map<string, string>();

  constructor(root: string, limits: Limits, signal?: AbortSignal, privileges: Privileges = {}) {
    this.root = root;
    this.limits = limits;
    this.signal = signal;
    this.#privileges = privileges;
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
    const cached = this.#resolved.get(lexical);
    if (cached !== undefined) return cached;
    let cur: string[] = [];
    // Components still to walk, last first (pop is O(1); a symlink's target is pushed reversed).
    const queue = [...comps].reverse();
    let links = 0;
    let walked = 0;
    while (queue.length > 0) {
      const c = queue.pop() as string;
      if (++walked > MAX_WALK) {
        throw this.#unsafe(name, `path resolution walks more than ${MAX_WALK} components`);
      }
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
        const parts = splitPath(target);
        if (queue.length + parts.length > MAX_WALK) {
          throw this.#unsafe(name, `path resolution walks more than ${MAX_WALK} components`);
        }
        for (let i = parts.length - 1; i >= 0; i--) queue.push(parts[i] as string);
        continue;
      }
      if (st.isDirectory()) {
        this.#knownDirs.add(rel);
        cur.push(c);
        continue;
      }
      throw this.#invalid(name, `parent ${shownName(rel)} is not a directory`);
    }
    const out = cur.join("/");
    // Valid until something is removed: a symlink created later sits where nothing was, and
    // no cached walk went through a missing component (it would have created a directory).
    if (links > 0) this.#resolved.set(lexical, out);
    return out;
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
    this.#resolved.clear();
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
    // FIFOs and devices in a row are created concurrently; anything else first waits for them
    // (it may replace, link to or whiteout one of them).
    const special =
      hdr.type === "fifo" || hdr.type === "character-device" || hdr.type === "block-device";
    if (!special || this.#pending.length >= SPECIAL_BATCH) await this.flushSpecials();
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
      if (code !== undefined && LAYER_ERRNOS.has(code) && !(e instanceof KimgError)) {
        // Node's text is "CODE: what, syscall 'path'": the code and what, not our temp paths.
        const what = (e as Error).message.split(", ")[0]?.replace(`${code}: `, "") ?? "";
        throw this.#invalid(hdr.name, `${code}: ${what}`);
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
    const fields = this.#headerFields(hdr);
    this.#checkLength(name, comps);
    const base = comps[comps.length - 1];
    if (base === undefined) {
      // The root itself ("./", "/"). A directory entry sets the root's mode and times (as
      // umoci does; containerd skips it); any other type would replace the root by a file or
      // a symlink (umoci CVE-2021-29136): rejected as umoci does.
      await drain(content);
      if (hdr.type !== "directory")
        throw this.#unsafe(name, "refusing to change the type of the root directory");
      this.#dirAttrs.set("", { mode: hdr.mode & 0o7777, atime: fields.atime, mtime: fields.mtime });
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
    if (this.#pendingRels.has(rel)) await this.flushSpecials(); // the same name twice in a row
    const abs = this.#abs(rel);
    this.#markLayerPath(rel);
    const { uid, gid, mtime, atime } = fields;
    let mode = hdr.mode & 0o7777;
    if ((mode & 0o6000) !== 0 && type !== "directory" && this.#privileges.keepSetuid !== true) {
      // setuid/setgid on anything but a directory (where setgid only makes new files inherit
      // the group) is dropped unless asked for: any user who can reach DIR could run it.
      this.#setuid.add(`${shownName(name)} ${(mode & 0o7777).toString(8).padStart(4, "0")}`);
      mode &= ~0o6000;
    }
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
          futimesSync(fd, fsTime(atime), fsTime(mtime));
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
        await this.#setXattrs(abs); // lsetxattr: the link itself, never its target
        lutimesSync(abs, fsTime(atime), fsTime(mtime));
        await drain(content);
        break;
      }
      case "character-device":
      case "block-device":
      case "fifo": {
        await drain(content);
        if (existing !== undefined) await this.#remove(rel, existing.isDirectory());
        this.#special(hdr, abs, rel, mode, uid, gid, atime, mtime);
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

  /**
   * FIFOs and device nodes: mknodat(2) through the helper (syscalls.ts), queued; their owner,
   * mode, times and xattrs are applied by flushSpecials once made. Devices only with
   * `allowDevices`, as root, and never world-writable.
   */
  #special(
    hdr: Header,
    abs: string,
    rel: string,
    mode: number,
    uid: number,
    gid: number,
    atime: number,
    mtime: number,
  ): void {
    const fifo = hdr.type === "fifo";
    const what = `${shownName(hdr.name)} (${hdr.type}${fifo ? "" : ` ${hdr.devmajor}:${hdr.devminor}`})`;
    const xattrs = this.#entryXattrs;
    this.#entryXattrs = undefined;
    if (!fifo && this.#privileges.allowDevices !== true) {
      this.#devicesRefused.add(what);
      return;
    }
    if (!fifo && !this.asRoot) {
      this.#devices.add(`${what}: not root`);
      return;
    }
    if (!this.#sys.available) {
      this.#devices.add(`${what}: ${this.#sys.unavailableReason}`);
      return;
    }
    const finalMode = fifo ? mode : mode & 0o775;
    const type = fifo
      ? constants.S_IFIFO
      : hdr.type === "block-device"
        ? constants.S_IFBLK
        : constants.S_IFCHR;
    const dev = fifo ? 0 : encodeDev(hdr.devmajor ?? 0, hdr.devminor ?? 0);
    // Created 0600: the mode is applied after the owner, as for files.
    const made = this.#sys.mknod(abs, type | 0o600, dev).then(
      () => true,
      (e: unknown) => e,
    );
    this.#pending.push({ made, hdr, abs, rel, mode: finalMode, uid, gid, atime, mtime, xattrs });
    this.#pendingRels.add(rel);
  }

  /** Waits for queued FIFOs/devices and applies their metadata, in entry order. */
  async flushSpecials(): Promise<void> {
    if (this.#pending.length === 0) return;
    const batch = this.#pending;
    this.#pending = [];
    this.#pendingRels.clear();
    const results = await Promise.all(batch.map((p) => p.made));
    for (let i = 0; i < batch.length; i++) {
      const p = batch[i] as PendingSpecial;
      const r = results[i];
      if (r !== true) {
        this.#devices.add(
          `${shownName(p.hdr.name)} (${p.hdr.type}): mknodat: ${(r as Error).message.split(":")[0]}`,
        );
        continue;
      }
      this.#markLayerPath(p.rel);
      await this.#own(p.abs, p.uid, p.gid, p.hdr.name);
      this.#entryName = p.hdr.name;
      this.#entryXattrs = p.xattrs;
      await this.#setXattrs(p.abs);
      chmodSync(p.abs, p.mode); // a device node or FIFO the helper just made here
      lutimesSync(p.abs, fsTime(p.atime), fsTime(p.mtime));
    }
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
   * The current entry's xattrs on ABS (its own resolved in-root path, just created), all at
   * once through the helper's lsetxattr (never follows a symlink). `trusted.*` and
   * `security.*` (overlayfs redirects, file capabilities, SELinux labels) only as root with
   * `keepPrivilegedXattrs`. Refusals (user.* on links, ENOTSUP…) are noted, one line per entry.
   */
  async #setXattrs(abs: string): Promise<void> {
    const xs = this.#entryXattrs;
    if (xs === undefined) return;
    this.#entryXattrs = undefined;
    const name = shownName(this.#entryName);
    const wanted: Array<[string, Buffer]> = [];
    const privileged: string[] = [];
    for (const [n, v] of xs) {
      if (n.startsWith("trusted.") || n.startsWith("security.")) {
        if (!this.asRoot || this.#privileges.keepPrivilegedXattrs !== true) {
          privileged.push(n);
          continue;
        }
      }
      wanted.push([n, v]);
    }
    if (privileged.length > 0) this.#privilegedXattrs.add(`${name} ${privileged.join(" ")}`);
    if (wanted.length === 0) return;
    if (!this.#sys.available) {
      this.#xattrs.add(
        `${name} ${wanted.map(([n]) => n).join(" ")} (${this.#sys.unavailableReason})`,
      );
      return;
    }
    const results = await Promise.all(
      wanted.map(([n, v]) =>
        this.#sys.lsetxattr(abs, n, v).then(
          () => undefined,
          (e: unknown) => `${n}: ${(e as { code?: string }).code ?? String(e)}`,
        ),
      ),
    );
    const failed = results.filter((r): r is string => r !== undefined);
    if (failed.length > 0) this.#xattrs.add(`${name} ${failed.join("; ")}`);
  }

  /** The header's ids and times, as Go's archive/tar reads them; the xattr caps. */
  #headerFields(hdr: Header): { uid: number; gid: number; mtime: number; atime: number } {
    const pax = (hdr.pax ?? undefined) as Record<string, string> | undefined;
    const field = (key: "uid" | "gid" | "size" | "mtime" | "atime"): number | undefined => {
      const v = paxField(pax, key);
      if (typeof v === "object") throw this.#invalid(hdr.name, v.invalid);
      return v;
    };
    field("size");
    if (pax !== undefined) {
      for (const k of Object.keys(pax)) {
        // GNU sparse files in PAX form (0.x and 1.0): tar-stream would write the map and data
        // as a file named GNUSparseFile.0/NAME. Refused rather than written wrong.
        if (k.startsWith("GNU.sparse.")) {
          throw this.#invalid(hdr.name, "GNU sparse files (PAX GNU.sparse.*) are not supported");
        }
      }
    }
    const uid = field("uid") ?? hdr.uid;
    const gid = field("gid") ?? hdr.gid;
    for (const [what, id] of [
      ["uid", uid],
      ["gid", gid],
    ] as const) {
      if (!Number.isSafeInteger(id) || id < 0 || id > MAX_ID) {
        throw this.#invalid(hdr.name, `${what} ${id} is out of range (0 to ${MAX_ID})`);
      }
    }
    const mtime = field("mtime") ?? hdr.mtime.getTime() / 1000;
    // containerd chtimes(latestTime(atime, mtime), mtime).
    const atime = Math.max(field("atime") ?? mtime, mtime);
    const xs = this.#entryXattrs;
    if (xs !== undefined) {
      if (xs.size > MAX_XATTRS_PER_ENTRY) {
        throw new KimgError(
          "UNPACK_LIMIT",
          `${this.#layer}: ${shownName(hdr.name)}: ${xs.size} xattrs, more than ${MAX_XATTRS_PER_ENTRY} on one entry`,
        );
      }
      this.#xattrCount += xs.size;
      if (this.#xattrCount > MAX_XATTRS_TOTAL) {
        throw new KimgError(
          "UNPACK_LIMIT",
          `${this.#layer}: ${shownName(hdr.name)}: more than ${MAX_XATTRS_TOTAL} xattrs in the image`,
        );
      }
      for (const [n, v] of xs) {
        if (v.length > XATTR_SIZE_MAX) {
          throw this.#invalid(hdr.name, `xattr ${n} is ${v.length} bytes, over ${XATTR_SIZE_MAX}`);
        }
        if (n === "" || n.includes("\0"))
          throw this.#invalid(hdr.name, "an xattr name is empty or holds NUL");
      }
    }
    return { uid, gid, mtime, atime };
  }

  /** Ends the system-call helper (after the last layer, or on failure). */
  close(): void {
    this.#sys.close();
  }

  /**
   * Directory modes and times, deepest first (a parent's mode must not lock us out of its
   * children; children's changes must not bump the parent's mtime), then the root's mode.
   * Each path is lstat'ed: only real directories are touched (never through a symlink).
   * `ownerOnly`: the root becomes 0700 whatever the image says. Returns the image's root mode.
   */
  async finish(rootMode = 0o755, ownerOnly = false): Promise<number> {
    await this.flushSpecials();
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
    const imageMode = this.#dirAttrs.get("")?.mode ?? rootMode;
    for (const [rel, a] of dirs) {
      const abs = this.#abs(rel);
      if (!(await isRealDir(rel))) continue;
      chmodSync(abs, rel === "" && ownerOnly ? 0o700 : a.mode);
      if (a.mtime !== undefined) lutimesSync(abs, fsTime(a.atime ?? a.mtime), fsTime(a.mtime));
    }
    if (!this.#dirAttrs.has("")) chmodSync(this.root, ownerOnly ? 0o700 : rootMode);
    return imageMode;
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
    line(this.#xattrs, "xattrs not applied (refused by the file system, or perl missing)");
    line(this.#devices, "device nodes/FIFOs not created");
    line(
      this.#devicesRefused,
      "device nodes not created (give --allow-devices, as root, to create them)",
    );
    line(
      this.#privilegedXattrs,
      "trusted.*/security.* xattrs not applied (give --keep-privileged-xattrs, as root, to apply them)",
    );
    if (this.#setuid.count > 0) {
      const more = this.#setuid.count - this.#setuid.examples.length;
      for (const e of this.#setuid.examples)
        out.push(`setuid/setgid bits dropped (give --keep-setuid to keep them): ${e}`);
      if (more > 0) out.push(`setuid/setgid bits dropped on ${more} more entries`);
    }
    line(this.#sameLayerWhiteouts, "whiteouts ignored (they name an entry of their own layer)");
    return out;
  }
}

function depth(rel: string): number {
  let n = 0;
  for (let i = 0; i < rel.length; i++) if (rel.charCodeAt(i) === 47) n++;
  return rel === "" ? -1 : n;
}
