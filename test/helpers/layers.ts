// Test harness: crafted (possibly hostile) tar layers for the unpacker's tests (issue 5).
//
// Ordinary entries are encoded by tar-stream's `pack` (one pack per entry, its end-of-archive
// blocks cut off), so long names get tar-stream's own PAX headers. Everything a well-behaved
// writer would refuse is written with `rawHeader`/`paxHeader`: names with `..`, absolute names,
// NUL bytes, empty names, a ustar name contradicted by a PAX `path`, hardlinks to anything,
// device entries, sizes declared in base-256 (a petabyte) with no body behind them, duplicate
// entries, a missing end-of-archive marker. Content can be literal bytes or N zero bytes
// streamed (a decompression bomb never sits in memory uncompressed). The tar is then wrapped in
// gzip (node:zlib), zstd (the `zstd` program: Node 20's zlib has no zstd encoder) or nothing.
// Same spec ⇒ same bytes (fixed mtimes; gzip without a timestamp) ⇒ same digests.

import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGzip } from "node:zlib";
import tar from "tar-stream";

export type EntryType = "file" | "dir" | "symlink" | "hardlink" | "fifo" | "char" | "block";

export interface TarEntry {
  /** Written as given: `..`, a leading "/", "./", NUL bytes, "" are all kept. */
  name: string;
  /** Default "file". */
  type?: EntryType;
  /** Content of a file. */
  content?: string | Uint8Array;
  /** A file of this many zero bytes, streamed (instead of `content`). */
  zeros?: number;
  /**
   * A file header declaring this size (base-256 when it does not fit 11 octal digits) with NO
   * content behind it: the archive is truncated there (nothing after this entry is written,
   * not even the end-of-archive blocks).
   */
  declaredSize?: number;
  /** Default 0o644 for files, 0o755 for dirs, 0o777 for symlinks and hardlinks. */
  mode?: number;
  /** Target of a symlink or hardlink, written as given. */
  linkname?: string;
  uid?: number;
  gid?: number;
  /** Default 2024-01-01T00:00:00Z. */
  mtime?: Date;
  devmajor?: number;
  devminor?: number;
  /** Extra PAX records (forces a PAX header): `path`, `linkpath`, `SCHILY.xattr.*`, … */
  pax?: Record<string, string>;
  /** Encode with rawHeader even when tar-stream could (byte-exact name, no PAX). */
  raw?: boolean;
}

/** Bytes put into the archive verbatim (a hand-made header, a PAX block, padding…). */
export interface RawPart {
  bytes: Uint8Array;
}

/** N zero bytes put into the archive verbatim, streamed (zero blocks, a bomb's body…). */
export interface ZeroPart {
  zeroBytes: number;
}

export type TarPart = TarEntry | RawPart | ZeroPart;

export type LayerCompression = "gzip" | "zstd" | "none";

export interface LayerSpec {
  entries: readonly TarPart[];
  /** Default "gzip". */
  compression?: LayerCompression;
  /** Default: the OCI layer type matching the compression. "" = unknown (sniff). */
  mediaType?: string;
  /** Write the two zero blocks at the end. Default true. */
  endMarker?: boolean;
}

/** Structurally the unpacker's LayerInput (src/unpack/unpack.ts), kept local to the helper. */
export interface TestLayerInput {
  open(): Promise<NodeJS.ReadableStream | AsyncIterable<Uint8Array>>;
  readonly mediaType: string;
  readonly digest: string;
  readonly diffId?: string;
}

export interface TestLayer {
  /** The blob as stored (compressed). */
  blob: Buffer;
  digest: string;
  size: number;
  /** sha256 of the uncompressed tar. */
  diffId: string;
  uncompressedSize: number;
  mediaType: string;
  compression: LayerCompression;
  /** A LayerInput reading `blob`; `withDiffId: false` leaves the diff_id out. */
  input(opts?: { withDiffId?: boolean }): TestLayerInput;
}

const EPOCH = new Date("2024-01-01T00:00:00Z");
const BLOCK = 512;
const ZERO_BLOCK = Buffer.alloc(BLOCK);

export const LayerMediaType = {
  gzip: "application/vnd.oci.image.layer.v1.tar+gzip",
  zstd: "application/vnd.oci.image.layer.v1.tar+zstd",
  none: "application/vnd.oci.image.layer.v1.tar",
} as const;

const TYPEFLAG: Record<EntryType, string> = {
  file: "0",
  hardlink: "1",
  symlink: "2",
  char: "3",
  block: "4",
  dir: "5",
  fifo: "6",
};

const TAR_STREAM_TYPE = {
  file: "file",
  hardlink: "link",
  symlink: "symlink",
  char: "character-device",
  block: "block-device",
  dir: "directory",
  fifo: "fifo",
} as const satisfies Record<EntryType, string>;

export interface RawHeaderFields {
  /** Bytes of the 100-byte name field (UTF-8 when a string); longer is an error. */
  name: string | Uint8Array;
  /** One typeflag character: "0" file, "1" hardlink, "2" symlink, "5" dir, "x" PAX, "L" GNU… */
  typeflag: string;
  mode?: number;
  uid?: number;
  gid?: number;
  /** Octal when it fits 11 digits, else base-256 (GNU/star). */
  size?: number | bigint;
  /** Seconds since the epoch. */
  mtime?: number;
  linkname?: string | Uint8Array;
  uname?: string;
  gname?: string;
  devmajor?: number;
  devminor?: number;
  /** The ustar 155-byte prefix field. */
  prefix?: string | Uint8Array;
}

function putBytes(buf: Buffer, v: string | Uint8Array, off: number, max: number, what: string) {
  const b = typeof v === "string" ? Buffer.from(v, "utf8") : Buffer.from(v);
  if (b.length > max) throw new Error(`rawHeader: ${what} is ${b.length} bytes, max ${max}`);
  b.copy(buf, off);
}

function putOctal(buf: Buffer, n: number | bigint, off: number, width: number) {
  // width-1 octal digits, then NUL (ustar).
  const s = BigInt(n)
    .toString(8)
    .padStart(width - 1, "0");
  if (s.length > width - 1)
    throw new Error(`rawHeader: ${n} does not fit ${width - 1} octal digits`);
  buf.write(s, off, "ascii");
  buf[off + width - 1] = 0;
}

/** One ustar header block with every field under the caller's control; checksum computed. */
export function rawHeader(h: RawHeaderFields): Buffer {
  const buf = Buffer.alloc(BLOCK);
  putBytes(buf, h.name, 0, 100, "name");
  putOctal(buf, h.mode ?? 0o644, 100, 8);
  putOctal(buf, h.uid ?? 0, 108, 8);
  putOctal(buf, h.gid ?? 0, 116, 8);
  const size = BigInt(h.size ?? 0);
  if (size < 8n ** 11n) {
    putOctal(buf, size, 124, 12);
  } else {
    // base-256: first byte 0x80, the rest big-endian.
    buf[124] = 0x80;
    let v = size;
    for (let i = 11; i > 0; i--) {
      buf[124 + i] = Number(v & 0xffn);
      v >>= 8n;
    }
  }
  putOctal(buf, h.mtime ?? EPOCH.getTime() / 1000, 136, 12);
  if (h.typeflag.length !== 1) throw new Error("rawHeader: typeflag is one character");
  buf.write(h.typeflag, 156, "latin1");
  if (h.linkname !== undefined) putBytes(buf, h.linkname, 157, 100, "linkname");
  buf.write("ustar\u000000", 257, "latin1");
  putBytes(buf, h.uname ?? "", 265, 32, "uname");
  putBytes(buf, h.gname ?? "", 297, 32, "gname");
  putOctal(buf, h.devmajor ?? 0, 329, 8);
  putOctal(buf, h.devminor ?? 0, 337, 8);
  if (h.prefix !== undefined) putBytes(buf, h.prefix, 345, 155, "prefix");
  // Checksum: sum of all bytes with the checksum field as 8 spaces; 6 octal digits, NUL, space.
  buf.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of buf) sum += b;
  buf.write(`${sum.toString(8).padStart(6, "0")}\u0000 `, 148, "latin1");
  return buf;
}

/** Zero bytes completing `size` to a whole number of blocks. */
export function paddingOf(size: number | bigint): Buffer {
  const r = Number(BigInt(size) % BigInt(BLOCK));
  return r === 0 ? Buffer.alloc(0) : Buffer.alloc(BLOCK - r);
}

/** "LEN key=value\n" records of a PAX extended header (LEN counts itself, in bytes). */
export function paxData(records: Record<string, string> | readonly [string, string][]): Buffer {
  const list = Array.isArray(records) ? records : Object.entries(records);
  const parts: Buffer[] = [];
  for (const [k, v] of list as [string, string][]) {
    const body = ` ${k}=${v}\n`;
    const bodyLen = Buffer.byteLength(body, "utf8");
    let len = bodyLen + 1;
    while (String(len).length + bodyLen !== len) len = String(len).length + bodyLen;
    parts.push(Buffer.from(`${len}${body}`, "utf8"));
  }
  return Buffer.concat(parts);
}

/**
 * A PAX extended header ("x", applies to the next entry; "g" global) with its data blocks.
 * Records may repeat a key (given as pairs): readers differ on which wins.
 */
export function paxHeader(
  records: Record<string, string> | readonly [string, string][],
  typeflag: "x" | "g" = "x",
): Buffer {
  const data = paxData(records);
  return Buffer.concat([
    rawHeader({ name: "PaxHeader", typeflag, size: data.length }),
    data,
    paddingOf(data.length),
  ]);
}

function defaultMode(t: EntryType): number {
  return t === "dir" ? 0o755 : t === "symlink" || t === "hardlink" ? 0o777 : 0o644;
}

function contentOf(e: TarEntry): Buffer {
  if (e.content === undefined) return Buffer.alloc(0);
  return typeof e.content === "string" ? Buffer.from(e.content, "utf8") : Buffer.from(e.content);
}

/** Whether tar-stream's pack can write this entry faithfully. */
function packable(e: TarEntry): boolean {
  if (e.raw === true || e.zeros !== undefined || e.declaredSize !== undefined) return false;
  if (e.name === "" || e.name.includes("\u0000")) return false;
  if (e.linkname?.includes("\u0000")) return false;
  // tar-stream appends "/" to directory names; keep names that already end in "/" or not raw.
  return true;
}

/** One entry through tar-stream's pack: header (PAX when needed), content, padding. */
async function packEntry(e: TarEntry): Promise<Buffer> {
  const type = e.type ?? "file";
  const p = tar.pack();
  const chunks: Buffer[] = [];
  p.on("data", (c: unknown) => {
    chunks.push(Buffer.from(c as Uint8Array));
  });
  const ended = new Promise<void>((resolve, reject) => {
    p.on("end", () => resolve());
    p.on("error", reject);
  });
  const header: tar.Header = {
    name: e.name,
    type: TAR_STREAM_TYPE[type],
    mode: e.mode ?? defaultMode(type),
    mtime: e.mtime ?? EPOCH,
    uid: e.uid ?? 0,
    gid: e.gid ?? 0,
    uname: "",
    gname: "",
    devmajor: e.devmajor ?? 0,
    devminor: e.devminor ?? 0,
    linkname: e.linkname ?? "",
    size: 0,
    ...(e.pax !== undefined ? { pax: e.pax } : {}),
  };
  if (type === "file") p.entry(header, contentOf(e));
  else p.entry(header);
  p.finalize();
  await ended;
  const all = Buffer.concat(chunks);
  return all.subarray(0, all.length - 2 * BLOCK); // cut the end-of-archive blocks
}

const ZERO_CHUNK = Buffer.alloc(1 << 20);

function* zeros(size: number): Generator<Buffer> {
  let left = size;
  while (left > 0) {
    const n = Math.min(left, ZERO_CHUNK.length);
    yield ZERO_CHUNK.subarray(0, n);
    left -= n;
  }
}

/** The uncompressed tar, streamed. */
async function* tarStream(spec: LayerSpec): AsyncGenerator<Buffer> {
  for (const part of spec.entries) {
    if ("bytes" in part) {
      yield Buffer.from(part.bytes);
      continue;
    }
    if ("zeroBytes" in part) {
      yield* zeros(part.zeroBytes);
      continue;
    }
    const e = part;
    if (packable(e)) {
      yield await packEntry(e);
      continue;
    }
    const type = e.type ?? "file";
    if (e.pax !== undefined) yield paxHeader(e.pax);
    const common = {
      name: e.name,
      typeflag: TYPEFLAG[type],
      mode: e.mode ?? defaultMode(type),
      uid: e.uid ?? 0,
      gid: e.gid ?? 0,
      mtime: Math.floor((e.mtime ?? EPOCH).getTime() / 1000),
      ...(e.linkname !== undefined ? { linkname: e.linkname } : {}),
      ...(e.devmajor !== undefined ? { devmajor: e.devmajor } : {}),
      ...(e.devminor !== undefined ? { devminor: e.devminor } : {}),
    };
    if (e.declaredSize !== undefined) {
      yield rawHeader({ ...common, size: e.declaredSize });
      return; // truncated archive: the promised content never comes
    }
    if (e.zeros !== undefined) {
      yield rawHeader({ ...common, size: e.zeros });
      yield* zeros(e.zeros);
      yield paddingOf(e.zeros);
      continue;
    }
    const body = type === "file" ? contentOf(e) : Buffer.alloc(0);
    yield rawHeader({ ...common, size: body.length });
    yield body;
    yield paddingOf(body.length);
  }
  if (spec.endMarker !== false) yield Buffer.concat([ZERO_BLOCK, ZERO_BLOCK]);
}

/** Hashes and counts what passes through. */
async function* tee(
  src: AsyncIterable<Buffer>,
  h: ReturnType<typeof createHash>,
  n: { size: number },
): AsyncGenerator<Buffer> {
  for await (const c of src) {
    h.update(c);
    n.size += c.length;
    yield c;
  }
}

async function collect(src: AsyncIterable<Buffer | Uint8Array>): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const c of src) out.push(Buffer.from(c));
  return Buffer.concat(out);
}

async function zstdCompress(src: AsyncIterable<Buffer>): Promise<Buffer> {
  const child = spawn("zstd", ["-q", "-c", "-3", "--no-check"], {
    stdio: ["pipe", "pipe", "pipe"],
  });
  const out = collect(child.stdout);
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  const exited = new Promise<number | null>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => resolve(code));
  });
  await pipeline(Readable.from(src), child.stdin);
  const [blob, code] = await Promise.all([out, exited]);
  if (code !== 0) throw new Error(`zstd exited ${code}: ${stderr.trim()}`);
  return blob;
}

/** Builds one layer blob (in memory: the compressed form is small even for a bomb). */
export async function buildLayer(spec: LayerSpec | readonly TarPart[]): Promise<TestLayer> {
  const s: LayerSpec = Array.isArray(spec) ? { entries: spec } : (spec as LayerSpec);
  const compression = s.compression ?? "gzip";
  const h = createHash("sha256");
  const n = { size: 0 };
  const src = tee(tarStream(s), h, n);
  let blob: Buffer;
  switch (compression) {
    case "none":
      blob = await collect(src);
      break;
    case "gzip": {
      const gz = createGzip({ level: 9 });
      const out = collect(gz);
      await pipeline(Readable.from(src), gz);
      blob = await out;
      break;
    }
    case "zstd":
      blob = await zstdCompress(src);
      break;
  }
  const diffId = `sha256:${h.digest("hex")}`;
  const digest = `sha256:${createHash("sha256").update(blob).digest("hex")}`;
  const mediaType = s.mediaType ?? LayerMediaType[compression];
  return {
    blob,
    digest,
    size: blob.length,
    diffId,
    uncompressedSize: n.size,
    mediaType,
    compression,
    input(opts) {
      const withDiffId = opts?.withDiffId ?? true;
      return {
        open: async () => Readable.from([blob]),
        mediaType,
        digest,
        ...(withDiffId ? { diffId } : {}),
      };
    },
  };
}

/** Builds several layers and returns their LayerInputs, in order. */
export async function layerInputs(
  specs: readonly (LayerSpec | readonly TarPart[])[],
  opts?: { withDiffId?: boolean },
): Promise<TestLayerInput[]> {
  const out: TestLayerInput[] = [];
  for (const spec of specs) out.push((await buildLayer(spec)).input(opts));
  return out;
}
