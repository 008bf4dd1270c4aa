// Hashing with node:crypto, streamed: a verifying stream for reads (ggcr's verify.ReadCloser,
// internal/verify/verify.go: limit to the size, succeed at EOF only if size and digest match)
// and whole-file hashing for fsck and re-checks. Never holds more than one chunk.

import { createHash, type Hash } from "node:crypto";
import { open } from "node:fs/promises";
import { Transform, type TransformCallback } from "node:stream";
import { KimgError } from "../errors.ts";
import { throwIfAborted } from "./atomic-file.ts";
import type { BlobAlgorithm, ParsedDigest } from "./layout.ts";

export function newHash(algorithm: BlobAlgorithm): Hash {
  return createHash(algorithm);
}

export function mismatchError(what: string, expected: string, actual: string): KimgError {
  return new KimgError(
    "DIGEST_MISMATCH",
    `${what}: content has digest ${actual}, expected ${expected}`,
  );
}

/**
 * A pass-through that fails with SIZE_MISMATCH as soon as more than `size` bytes pass, and at
 * the end with SIZE_MISMATCH (short) or DIGEST_MISMATCH unless both match.
 */
export function createVerifier(d: ParsedDigest, size: number, what: string): Transform {
  const hash = newHash(d.algorithm);
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, cb: TransformCallback) {
      seen += chunk.byteLength;
      if (seen > size) {
        cb(new KimgError("SIZE_MISMATCH", `${what}: more than the expected ${size} bytes`));
        return;
      }
      hash.update(chunk);
      cb(null, chunk);
    },
    flush(cb: TransformCallback) {
      if (seen !== size) {
        cb(new KimgError("SIZE_MISMATCH", `${what}: got ${seen} bytes, expected ${size}`));
        return;
      }
      const actual = `${d.algorithm}:${hash.digest("hex")}`;
      cb(actual === d.digest ? null : mismatchError(what, d.digest, actual));
    },
  });
}

/** Feeds `length` bytes of the file at `path` (from 0) to `onChunk`, one buffer reused. */
export async function readPrefix(
  path: string,
  length: number,
  chunkBytes: number,
  onChunk: (chunk: Buffer) => void,
  signal?: AbortSignal,
): Promise<number> {
  const fh = await open(path, "r");
  try {
    const buf = Buffer.allocUnsafe(Math.max(1, Math.min(chunkBytes, length)));
    let pos = 0;
    while (pos < length) {
      throwIfAborted(signal);
      const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, length - pos), pos);
      if (bytesRead === 0) break;
      onChunk(buf.subarray(0, bytesRead));
      pos += bytesRead;
    }
    return pos;
  } finally {
    await fh.close();
  }
}

/** Digest and size of a whole file. */
export async function hashFile(
  path: string,
  algorithm: BlobAlgorithm,
  chunkBytes: number,
  signal?: AbortSignal,
): Promise<{ digest: string; size: number }> {
  const hash = newHash(algorithm);
  const size = await readPrefix(
    path,
    Number.MAX_SAFE_INTEGER,
    chunkBytes,
    (c) => hash.update(c),
    signal,
  );
  return { digest: `${algorithm}:${hash.digest("hex")}`, size };
}
