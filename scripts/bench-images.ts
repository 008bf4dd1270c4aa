// The bench images, built once and cached in $KIMG_BENCH_CACHE (default
// $TMPDIR/kimg-bench-pull-cache): 8 layers x 64 MiB (v1, and v2 with the last layer changed)
// and 40 x 1 MiB, seeded pseudo-random (incompressible) gzip tar layers. Shared by
// bench-pull.ts and bench-copy.ts.

import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BuiltImage, buildImage, type LayerSpec } from "../test/helpers/images.ts";

const MIB = 1024 * 1024;
export const CACHE = process.env.KIMG_BENCH_CACHE ?? join(tmpdir(), "kimg-bench-pull-cache");

// ---------------------------------------------------------------------------------------------
// Images (cached layouts)

export interface BenchImages {
  /** Layout with refs v1 (8 × 64 MiB) and v2 (the same, last layer changed). */
  big: { dir: string; v1: BuiltImage; v2: BuiltImage };
  /** Layout with ref v1 (40 × 1 MiB). */
  small: { dir: string; v1: BuiltImage };
}

const SPEC_VERSION = 1;

function bigLayers(version: 1 | 2): LayerSpec[] {
  // Same seed, same path ⇒ same bytes: v2 differs only in the last layer's file name, so only
  // that layer's content (and the config) change.
  return Array.from({ length: 8 }, (_, i) => ({
    randomBytes: 64 * MIB,
    path: i === 7 && version === 2 ? "random-v2.bin" : "random.bin",
  }));
}

export async function buildCached(): Promise<BenchImages> {
  const marker = join(CACHE, `built-v${SPEC_VERSION}.json`);
  if (existsSync(marker)) {
    const saved = JSON.parse(readFileSync(marker, "utf8")) as BenchImages;
    const complete = [saved.big.v1, saved.big.v2, saved.small.v1].every((img) =>
      img.layers.every((l) => existsSync(join(img.layoutDir, "blobs", ...l.digest.split(":")))),
    );
    if (complete) return saved;
  }
  rmSync(CACHE, { recursive: true, force: true });
  await mkdir(CACHE, { recursive: true });
  const started = performance.now();
  process.stderr.write(`building images into ${CACHE} (once; gzip of random data is slow)…\n`);
  const bigDir = join(CACHE, "big");
  const smallDir = join(CACHE, "small");
  const strip = (img: BuiltImage): BuiltImage =>
    ({ ...img, manifest: Buffer.alloc(0), config: Buffer.alloc(0) }) as BuiltImage;
  const v1 = strip(
    await buildImage({ dir: bigDir, ref: "v1", seed: "bench", layers: bigLayers(1) }),
  );
  const v2 = strip(
    await buildImage({ dir: bigDir, ref: "v2", seed: "bench", layers: bigLayers(2) }),
  );
  const small = strip(
    await buildImage({
      dir: smallDir,
      ref: "v1",
      seed: "bench-small",
      layers: Array.from({ length: 40 }, () => ({ randomBytes: MIB })),
    }),
  );
  const images: BenchImages = { big: { dir: bigDir, v1, v2 }, small: { dir: smallDir, v1: small } };
  writeFileSync(marker, JSON.stringify(images));
  process.stderr.write(`built in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
  return images;
}
