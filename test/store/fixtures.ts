// Test fixtures for the store: seeded blob bytes (AES-CTR keystream: fast, deterministic),
// descriptors, a fresh store in a temp dir, and reading a stream to the end.

import { createCipheriv, createHash } from "node:crypto";
import type { Readable } from "node:stream";
import { type BlobDescriptor, FsBlobStore, type StoreOptions } from "../../src/store/index.ts";
import { makeTempDir, removeTempDir } from "../helpers/cleanup.ts";

/** `size` pseudo-random bytes determined by `seed`. */
export function blobBytes(seed: string, size: number): Buffer {
  const key = createHash("sha256").update(seed).digest().subarray(0, 16);
  const cipher = createCipheriv("aes-128-ctr", key, Buffer.alloc(16));
  return Buffer.concat([cipher.update(Buffer.alloc(size)), cipher.final()]);
}

export function digestOf(data: Uint8Array, alg: "sha256" | "sha512" = "sha256"): string {
  return `${alg}:${createHash(alg).update(data).digest("hex")}`;
}

export function descriptorOf(
  data: Uint8Array,
  alg: "sha256" | "sha512" = "sha256",
): BlobDescriptor & { mediaType: string } {
  return {
    mediaType: "application/octet-stream",
    digest: digestOf(data, alg),
    size: data.byteLength,
  };
}

/** Splits `data` into chunks of `n` bytes. */
export function* chunks(data: Uint8Array, n: number): Generator<Uint8Array> {
  for (let i = 0; i < data.byteLength; i += n)
    yield data.subarray(i, Math.min(i + n, data.byteLength));
}

export async function readAll(r: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of r) parts.push(Buffer.from(c as Uint8Array));
  return Buffer.concat(parts);
}

export interface TempStore {
  readonly dir: string;
  readonly store: FsBlobStore;
  cleanup(): Promise<void>;
}

/** An FsBlobStore in a fresh temp dir (removed by cleanup, or at exit). */
export async function tempStore(opts?: StoreOptions): Promise<TempStore> {
  const dir = makeTempDir("store");
  const store = await FsBlobStore.open(dir, opts);
  return {
    dir,
    store,
    async cleanup() {
      removeTempDir(dir);
    },
  };
}
