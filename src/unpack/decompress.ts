// Layer blob → uncompressed tar stream. Compression is decided by the blob's first bytes, as
// containerd does (pkg/archive/compression/compression.go `DetectCompression`: gzip 1F 8B 08,
// zstd 28 B5 2F FD or a skippable frame 0x184D2A50–0x184D2A5F), not by the media type alone:
// Docker's `rootfs.diff.tar` says nothing reliable (core/images/mediatypes.go), and a layer
// whose type says gzip but whose bytes do not is decompressed as what it is — the diff_id check
// then decides. Node 20's zlib has no zstd: `zlib.createZstdDecompress` is used when a newer
// Node has it, else fzstd's streaming `Decompress` (pure JS).

import { Transform, type TransformCallback } from "node:stream";
import * as zlib from "node:zlib";
import { Decompress as FzstdDecompress } from "fzstd";
import { KimgError } from "../errors.ts";

export type Compression = "gzip" | "zstd" | "none";

/** containerd DetectCompression on the first bytes (at least 4 unless the blob is shorter). */
export function detectCompression(head: Uint8Array): Compression {
  if (head.length >= 3 && head[0] === 0x1f && head[1] === 0x8b && head[2] === 0x08) return "gzip";
  if (head.length >= 4) {
    const le =
      ((head[0] ?? 0) | ((head[1] ?? 0) << 8) | ((head[2] ?? 0) << 16) | ((head[3] ?? 0) << 24)) >>>
      0;
    if (le === 0xfd2fb528) return "zstd";
    // Skippable frames (RFC 8878 §3.1.2): magic 0x184D2A5?.
    if ((le & 0xfffffff0) >>> 0 === 0x184d2a50) return "zstd";
  }
  return "none";
}

/**
 * How far decompression may run ahead of the tar applier. The applier makes synchronous file
 * system calls on the main thread while zlib inflates on the thread pool; without room to run
 * ahead the two would take turns (measured: most of the unpack time waiting). Bounded memory:
 * this much per stage, per layer being unpacked (one at a time).
 */
export const READ_AHEAD_BYTES = 8 * 1024 * 1024;

/** fzstd's push decoder as a Transform. */
class FzstdTransform extends Transform {
  readonly #d: FzstdDecompress;
  constructor() {
    super({ highWaterMark: READ_AHEAD_BYTES });
    this.#d = new FzstdDecompress((chunk) => {
      // fzstd reuses no buffers it hands out; push as is.
      this.push(chunk);
    });
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    try {
      this.#d.push(chunk);
      cb();
    } catch (e) {
      cb(e as Error);
    }
  }
  override _flush(cb: TransformCallback): void {
    try {
      this.#d.push(new Uint8Array(0), true);
      cb();
    } catch (e) {
      cb(e as Error);
    }
  }
}

type ZstdFactory = () => Transform;

/** Node's own zstd decoder when this Node has one (22.15+ / 23.8+), else undefined. */
function nodeZstd(): ZstdFactory | undefined {
  const z = zlib as unknown as { createZstdDecompress?: (o: object) => Transform };
  const create = z.createZstdDecompress;
  return typeof create === "function"
    ? () => create.call(zlib, { highWaterMark: READ_AHEAD_BYTES })
    : undefined;
}

const NODE_ZSTD = nodeZstd();

/** Which zstd decoder this process uses: "node:zlib" or "fzstd". */
export const ZSTD_DECODER: "node:zlib" | "fzstd" = NODE_ZSTD !== undefined ? "node:zlib" : "fzstd";

/** The decompressing Transform for `c` (undefined for "none"). */
export function decompressor(c: Compression): Transform | undefined {
  switch (c) {
    case "gzip":
      // Multi-member gzip (pigz, concatenated streams) is accepted like Go's gzip.Reader.
      // ZlibOptions' type lacks the Transform options zlib streams accept (highWaterMark).
      return zlib.createGunzip({
        chunkSize: 128 * 1024,
        highWaterMark: READ_AHEAD_BYTES,
      } as zlib.ZlibOptions);
    case "zstd":
      return NODE_ZSTD !== undefined ? NODE_ZSTD() : new FzstdTransform();
    case "none":
      return undefined;
  }
}

/** Wraps a decoder error as LAYER_INVALID naming the layer. */
export function decodeError(layer: string, c: Compression, e: unknown): KimgError {
  const msg = e instanceof Error ? e.message : String(e);
  return new KimgError("LAYER_INVALID", `${layer}: not a valid ${c} stream: ${msg}`, { cause: e });
}
