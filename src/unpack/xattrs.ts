// Raw PAX xattr records. tar-stream's decodePax (node_modules/tar-stream/headers.js) decodes
// values as UTF-8, which corrupts binary values (security.capability); so the uncompressed tar
// bytes the unpacker hashes are also fed here, and a small header scanner keeps each PAX
// record's value as raw bytes. It yields, per real (non-meta) entry in order, its xattrs.
// Formats: POSIX pax (SCHILY.xattr.NAME = raw bytes, as Go archive/tar reader.go
// mergePAX); libarchive (LIBARCHIVE.xattr.URL-ENCODED-NAME = base64, archive_read_support_format_tar.c).

const BLOCK = 512;
/** Same order as tar-stream's own PAX cap; above this the records are not captured. */
const MAX_CAPTURE = 1024 * 1024;

export interface ScannedEntry {
  /** The entry name as tar-stream reports it (pax path / GNU long name / ustar prefix+name). */
  name: string;
  /** xattr name → raw value; undefined when the PAX header was too big to capture. */
  xattrs: Map<string, Buffer> | undefined;
}

export class TarScanner {
  readonly entries: ScannedEntry[] = [];
  #hdr = Buffer.alloc(BLOCK);
  #hdrLen = 0;
  #skip = 0; // content + padding bytes still to pass
  #capture: Buffer[] | undefined;
  #captureLeft = 0; // of the content (not padding)
  #captureType = 0;
  #pax: Map<string, Buffer> | undefined | null = null; // null: no pending pax header
  #paxTooBig = false;
  #longName: string | undefined;
  #done = false;

  write(chunk: Buffer): void {
    let off = 0;
    while (off < chunk.length && !this.#done) {
      if (this.#skip > 0) {
        const n = Math.min(this.#skip, chunk.length - off);
        if (this.#capture !== undefined && this.#captureLeft > 0) {
          const c = Math.min(n, this.#captureLeft);
          this.#capture.push(chunk.subarray(off, off + c));
          this.#captureLeft -= c;
        }
        this.#skip -= n;
        off += n;
        if (this.#skip === 0 && this.#capture !== undefined) this.#meta();
        continue;
      }
      const n = Math.min(BLOCK - this.#hdrLen, chunk.length - off);
      chunk.copy(this.#hdr, this.#hdrLen, off, off + n);
      this.#hdrLen += n;
      off += n;
      if (this.#hdrLen === BLOCK) {
        this.#hdrLen = 0;
        this.#header(this.#hdr);
      }
    }
  }

  #header(h: Buffer): void {
    if (h.every((b) => b === 0)) return; // end-of-archive blocks
    let size = parseSize(h.subarray(124, 136));
    const paxSize = this.#pax?.get("\0size");
    if (paxSize !== undefined) size = Number.parseInt(paxSize.toString("latin1"), 10);
    if (size === undefined || !Number.isSafeInteger(size) || size < 0) {
      this.#done = true; // tar-stream will reject it; stop scanning
      return;
    }
    const type = h[156] ?? 0;
    const padded = Math.ceil(size / BLOCK) * BLOCK;
    const meta = type === 0x78 || type === 0x67 || type === 0x4c || type === 0x4b; // x g L K
    if (meta) {
      this.#captureType = type;
      if (size <= MAX_CAPTURE) {
        this.#capture = [];
        this.#captureLeft = size;
      } else {
        this.#capture = undefined;
        if (type === 0x78) this.#paxTooBig = true;
      }
      this.#skip = padded;
      if (padded === 0 && this.#capture !== undefined) this.#meta();
      return;
    }
    let name = cstr(h.subarray(0, 100));
    if (h.subarray(257, 262).toString("latin1") === "ustar") {
      const prefix = cstr(h.subarray(345, 500));
      if (prefix !== "") name = `${prefix}/${name}`;
    }
    if (this.#longName !== undefined) name = this.#longName;
    const paxPath = this.#pax?.get("\0path");
    if (paxPath !== undefined) name = paxPath.toString("utf8");
    const xattrs = new Map<string, Buffer>();
    if (this.#pax) for (const [k, v] of this.#pax) if (!k.startsWith("\0")) xattrs.set(k, v);
    this.entries.push({ name, xattrs: this.#paxTooBig ? undefined : xattrs });
    this.#pax = null;
    this.#paxTooBig = false;
    this.#longName = undefined;
    // tar-stream extract.js: a directory carries no content whatever its size says
    this.#skip = type === 0x35 ? 0 : padded;
  }

  #meta(): void {
    const body = Buffer.concat(this.#capture ?? []);
    this.#capture = undefined;
    if (this.#captureType === 0x4c) this.#longName = cstr(body);
    else if (this.#captureType === 0x78) this.#pax = parsePax(body);
    // 'g' (global) and 'K' (long link name) carry no per-entry xattrs here
  }
}

function cstr(b: Buffer): string {
  const z = b.indexOf(0);
  return b.subarray(0, z === -1 ? b.length : z).toString("utf8");
}

function parseSize(f: Buffer): number | undefined {
  if (((f[0] ?? 0) & 0x80) !== 0) {
    let n = (f[0] ?? 0) & 0x7f;
    for (let i = 1; i < f.length; i++) n = n * 256 + (f[i] ?? 0);
    return Number.isSafeInteger(n) ? n : undefined;
  }
  const s = f
    .toString("latin1")
    .replace(/[\0 ]+$/, "")
    .trim();
  if (s === "") return 0;
  if (!/^[0-7]+$/.test(s)) return undefined;
  return Number.parseInt(s, 8);
}

/** PAX records `"%d %s=%s\n"`; keys path → "\0path", xattrs → their name, value raw bytes. */
function parsePax(b: Buffer): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  let i = 0;
  while (i < b.length) {
    const sp = b.indexOf(0x20, i);
    if (sp === -1) break;
    const len = Number.parseInt(b.subarray(i, sp).toString("latin1"), 10);
    if (!Number.isSafeInteger(len) || len <= sp - i || i + len > b.length) break;
    const rec = b.subarray(sp + 1, i + len - 1); // drop the trailing \n
    i += len;
    const eq = rec.indexOf(0x3d);
    if (eq === -1) continue;
    const key = rec.subarray(0, eq).toString("utf8");
    const val = rec.subarray(eq + 1);
    if (key === "path" || key === "size") out.set(`\0${key}`, Buffer.from(val));
    else if (key.startsWith("SCHILY.xattr.")) out.set(key.slice(13), Buffer.from(val));
    else if (key.startsWith("LIBARCHIVE.xattr.")) {
      let name: string;
      try {
        name = decodeURIComponent(key.slice(17));
      } catch {
        continue;
      }
      out.set(name, Buffer.from(val.toString("latin1"), "base64"));
    }
  }
  return out;
}
