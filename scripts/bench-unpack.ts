// `npm run bench:unpack`: wall time and peak RSS of unpacking a 512 MiB image (8 gzip layers of
// 64 MiB uncompressed each) with kimg's `unpackLayers` (the built dist/index.js, in a child
// process) side by side with `umoci unpack --rootless --image LAYOUT:TAG BUNDLE` in the same
// run. Target: kimg at most 0.7× umoci's wall time.
//
// The image is realistic rather than one big random file: each layer has a few large files
// (2–12 MiB), a few hundred medium ones and thousands of small ones (log-uniform 64 B–64 KiB),
// nested directories, relative and absolute symlinks and hardlinks, and later layers overwrite
// and whiteout some paths of earlier ones. Contents are compressible (seeded text of repeated
// phrases and skewed "binary" bytes from test/helpers/prng.ts; gzip gets 2.5×: 531 MiB of tar,
// 211 MiB of blobs). The built layout is cached in $KIMG_BENCH_CACHE (default
// $TMPDIR/kimg-bench-unpack-cache). BENCH_TARGET_PARENT puts the targets elsewhere (/dev/shm).
//
// Each of BENCH_RUNS (default 5) iterations unpacks with both tools, the order alternating,
// into a fresh target; `sync` (untimed) runs before each timed command and the targets are
// removed after it, so writeback of one run does not land in the next. The layout's blobs are
// read once before timing, so both tools read them from a warm page cache. Peak RSS is
// /usr/bin/time's %M when installed, else VmHWM polled from /proc. BENCH_NODE_ARGS passes node
// flags to the kimg child (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`). Not a test: the
// numbers go in docs/performance.md.

import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { mkdir, mkdtemp, readFile } from "node:fs/promises";
import { cpus, loadavg, tmpdir, totalmem } from "node:os";
import { join, resolve } from "node:path";
import { makeTempDir, removeTempDir } from "../test/helpers/cleanup.ts";
import { requireBinary, run } from "../test/helpers/exec.ts";
import {
  type BuiltImage,
  buildImage,
  type FileSpec,
  type LayerSpec,
} from "../test/helpers/images.ts";
import { mulberry32 } from "../test/helpers/prng.ts";
import { type Measured, measure, median, RSS_METHOD, rss, secs } from "./bench-measure.ts";

const MIB = 1024 * 1024;
const RUNS = Math.max(1, Number(process.env.BENCH_RUNS ?? 5));
const ROOT = resolve(import.meta.dirname, "..");
const DIST = join(ROOT, "dist", "index.js");
const CACHE = process.env.KIMG_BENCH_CACHE ?? join(tmpdir(), "kimg-bench-unpack-cache");
/**
 * Where the targets go (default: a temp dir under $TMPDIR). BENCH_TARGET_PARENT=/dev/shm
 * measures the tools without the disk's file system (see docs/performance.md "Unpacking").
 */
const TARGET_PARENT = process.env.BENCH_TARGET_PARENT;
const NODE_ARGS = (process.env.BENCH_NODE_ARGS ?? "").split(/\s+/).filter((s) => s !== "");
const LAYERS = 8;
const LAYER_BYTES = 64 * MIB;
const TAG = "bench";

// ---------------------------------------------------------------------------------------------
// Compressible seeded content

/** A 4 MiB pool of text-like and binary-like bytes; files are slices of it at random offsets. */
function makePool(rand: () => number): Buffer {
  const words: string[] = [];
  const letters = "etaoinshrdlcumwfgypbvkjxqz_ETAOINSHRDLCUM0123456789";
  for (let i = 0; i < 3000; i++) {
    const n = 2 + Math.floor(rand() * rand() * 12);
    let w = "";
    for (let j = 0; j < n; j++) w += letters[Math.floor(rand() * rand() * letters.length)];
    words.push(w);
  }
  const seps = [" ", " ", " ", " ", "\n", "(", ")", ", ", ".", "/", "=", ";\n", "\t"];
  // Text repeats phrases, as code and configuration do.
  const phrases: string[] = [];
  for (let i = 0; i < 1000; i++) {
    let p = "";
    for (let j = 2 + Math.floor(rand() * 7); j > 0; j--) {
      p += `${words[Math.floor(rand() * rand() * words.length)]}${seps[Math.floor(rand() * seps.length)]}`;
    }
    phrases.push(p);
  }
  const pool = Buffer.alloc(4 * MIB);
  let o = 0;
  while (o < pool.length) {
    const end = Math.min(pool.length, o + 16384 + Math.floor(rand() * 65536));
    if (rand() < 0.6) {
      while (o < end) {
        o += pool.write(
          phrases[Math.floor(rand() * rand() * phrases.length)] as string,
          o,
          "latin1",
        );
      }
    } else {
      // "machine code": skewed bytes (many zeros and small values, some random)
      while (o < end) {
        const r = rand();
        pool[o++] = r < 0.5 ? 0 : r < 0.88 ? Math.floor(rand() * 16) : Math.floor(rand() * 256);
      }
    }
  }
  return pool;
}

/** `size` bytes made of pool slices of 1–32 KiB at random offsets. */
function content(pool: Buffer, rand: () => number, size: number): Buffer {
  const out = Buffer.allocUnsafe(size);
  let o = 0;
  while (o < size) {
    const n = Math.min(size - o, 1024 + Math.floor(rand() * 31 * 1024));
    const at = Math.floor(rand() * (pool.length - n));
    pool.copy(out, o, at, at + n);
    o += n;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// The image

interface LayerPlan {
  files: FileSpec[];
  regular: number;
  bytes: number;
}

function planLayer(i: number, pool: Buffer, lowerFiles: readonly string[]): LayerPlan {
  const rand = mulberry32(0x5eed + i);
  const files: FileSpec[] = [];
  const regularPaths: string[] = [];
  let bytes = 0;
  const top = `layer${i}`;
  const dirs: string[] = [];
  const mtime = new Date(Date.UTC(2024, 0, 1 + i, 12, 0, 0));
  files.push({ path: top, type: "dir", mtime });
  for (let d = 0; d < 150; d++) {
    const depth = 1 + Math.floor(rand() * 4);
    const parts = [top];
    for (let k = 0; k < depth; k++) parts.push(`d${Math.floor(rand() * 12)}`);
    const path = parts.join("/");
    if (!dirs.includes(path)) {
      dirs.push(path);
      files.push({ path, type: "dir", mtime });
    }
  }
  const pickDir = (): string => dirs[Math.floor(rand() * dirs.length)] as string;
  const add = (path: string, size: number, mode = 0o644): void => {
    files.push({ path, content: content(pool, rand, size), mode, mtime });
    regularPaths.push(path);
    bytes += size;
  };
  // Large files: 2–12 MiB, about 28 MiB a layer.
  for (const mib of [2, 4, 10, 12])
    add(`${pickDir()}/large-${mib}.so`, mib * MIB + Math.floor(rand() * 4096), 0o755);
  // Medium files: 64–512 KiB.
  for (let k = 0; k < 40; k++)
    add(`${pickDir()}/medium-${k}.bin`, 65536 + Math.floor(rand() * 448 * 1024));
  // Small files until the layer holds LAYER_BYTES of content.
  for (let k = 0; bytes < LAYER_BYTES; k++) {
    const size = Math.min(LAYER_BYTES - bytes, Math.floor(64 * 1024 ** rand()));
    add(
      `${pickDir()}/f${k}.${["py", "h", "txt", "js", "conf"][k % 5]}`,
      size,
      k % 7 === 0 ? 0o755 : 0o644,
    );
  }
  const regular = regularPaths.length;
  // Links.
  for (let k = 0; k < 300; k++) {
    const target = regularPaths[Math.floor(rand() * regularPaths.length)] as string;
    const abs = k % 3 === 0;
    files.push({
      path: `${pickDir()}/link${k}`,
      type: "symlink",
      linkname: abs ? `/${target}` : `../${target.split("/").slice(-2).join("/")}`,
      mtime,
    });
  }
  for (let k = 0; k < 60; k++) {
    const target = regularPaths[Math.floor(rand() * regularPaths.length)] as string;
    files.push({ path: `${pickDir()}/hard${k}`, type: "hardlink", linkname: target, mtime });
  }
  // Changes to lower layers: overwrite some files, whiteout a few.
  for (let k = 0; k < Math.min(50, lowerFiles.length); k++) {
    const p = lowerFiles[Math.floor(rand() * lowerFiles.length)] as string;
    if (files.some((f) => f.path === p)) continue;
    const parts = p.split("/");
    const base = parts.pop() as string;
    if (k % 2 === 0) {
      files.push({ path: `${parts.join("/")}/.wh.${base}`, content: "", mtime });
    } else {
      files.push({ path: p, content: content(pool, rand, 2048), mtime });
      bytes += 2048;
    }
  }
  return { files, regular, bytes };
}

const SPEC_VERSION = 2;

interface Cached {
  image: BuiltImage;
  files: number;
  bytes: number;
}

async function buildCached(): Promise<Cached> {
  const marker = join(CACHE, `built-v${SPEC_VERSION}.json`);
  if (existsSync(marker)) {
    const saved = JSON.parse(readFileSync(marker, "utf8")) as Cached;
    if (
      saved.image.layers.every((l) =>
        existsSync(join(saved.image.layoutDir, "blobs", ...l.digest.split(":"))),
      )
    ) {
      return saved;
    }
  }
  rmSync(CACHE, { recursive: true, force: true });
  await mkdir(CACHE, { recursive: true });
  const started = performance.now();
  process.stderr.write(`building the image into ${CACHE} (once)…\n`);
  const pool = makePool(mulberry32(42));
  const layers: LayerSpec[] = [];
  let files = 0;
  let bytes = 0;
  const lowerFiles: string[] = [];
  for (let i = 0; i < LAYERS; i++) {
    const plan = planLayer(i, pool, lowerFiles);
    layers.push({ files: plan.files, compression: "gzip", createdBy: `bench layer ${i}` });
    files += plan.files.length;
    bytes += plan.bytes;
    for (const f of plan.files)
      if ((f.type ?? "file") === "file" && !f.path.includes(".wh.")) lowerFiles.push(f.path);
  }
  const image = await buildImage({
    dir: join(CACHE, "layout"),
    ref: TAG,
    seed: "bench-unpack",
    layers,
  });
  const saved: Cached = {
    image: { ...image, manifest: Buffer.alloc(0), config: Buffer.alloc(0) } as BuiltImage,
    files,
    bytes,
  };
  writeFileSync(marker, JSON.stringify(saved));
  process.stderr.write(`built in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
  return saved;
}

// ---------------------------------------------------------------------------------------------
// Measuring one child process (as scripts/bench-pull.ts)

// ---------------------------------------------------------------------------------------------
// The tools

/**
 * kimg in a child: reads the layout's index.json → manifest → config (diff_ids) and calls
 * `unpackLayers` with LayerInputs that open the layout's blobs directly. Prints the report.
 */
const KIMG_RUNNER = `
import { createReadStream } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
const [dist, layout, tag, dir] = process.argv.slice(1);
const { unpackLayers } = await import(dist);
const blob = (d) => join(layout, "blobs", ...d.split(":"));
const index = JSON.parse(await readFile(join(layout, "index.json"), "utf8"));
const desc = index.manifests.find((m) => m.annotations?.["org.opencontainers.image.ref.name"] === tag);
const manifest = JSON.parse(await readFile(blob(desc.digest), "utf8"));
const config = JSON.parse(await readFile(blob(manifest.config.digest), "utf8"));
const layers = manifest.layers.map((l, i) => ({
  open: async () => createReadStream(blob(l.digest), { highWaterMark: 1 << 20 }),
  mediaType: l.mediaType,
  digest: l.digest,
  diffId: config.rootfs.diff_ids[i],
}));
const report = await unpackLayers(layers, dir);
process.stdout.write(JSON.stringify({ files: report.files, bytes: report.bytes, notes: report.notes.length }) + "\\n");
`;

type Tool = "kimg" | "umoci";

async function unpackWith(tool: Tool, layout: string, target: string): Promise<Measured> {
  await run("sync", []);
  if (tool === "kimg") {
    // unpackLayers makes DIR (atomically, via a temporary sibling) but not DIR's parent.
    await mkdir(target);
    return measure(process.execPath, [
      ...NODE_ARGS,
      "--input-type=module",
      "-e",
      KIMG_RUNNER,
      DIST,
      layout,
      TAG,
      join(target, "rootfs"),
    ]);
  }
  return measure(requireBinary("umoci"), [
    "unpack",
    "--rootless",
    "--image",
    `${layout}:${TAG}`,
    target,
  ]);
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  if (!existsSync(DIST)) throw new Error(`${DIST} is missing: run npm run build first`);
  requireBinary("umoci");
  process.stderr.write(`peak RSS: ${RSS_METHOD}\n`);
  const { image, files, bytes } = await buildCached();
  const layout = image.layoutDir;
  const compressed = image.layers.reduce((n, l) => n + l.size, 0);
  const uncompressed = image.layers.reduce((n, l) => n + l.uncompressedSize, 0);
  // Warm the page cache with the blobs, for both tools alike.
  for (const l of image.layers) await readFile(join(layout, "blobs", ...l.digest.split(":")));
  const work =
    TARGET_PARENT === undefined
      ? makeTempDir("bench-unpack")
      : await mkdtemp(join(TARGET_PARENT, "kimg-bench-unpack-"));
  try {
    // One untimed unpack each (also checks both work).
    for (const tool of ["kimg", "umoci"] as const) {
      const t = join(work, `warm-${tool}`);
      const m = await unpackWith(tool, layout, t);
      if (tool === "kimg") process.stderr.write(`kimg report: ${m.stdout.trim()}\n`);
      rmSync(t, { recursive: true, force: true });
    }
    const samples: Record<Tool, Measured[]> = { kimg: [], umoci: [] };
    const load: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const order: Tool[] = i % 2 === 0 ? ["kimg", "umoci"] : ["umoci", "kimg"];
      load.push(loadavg()[0] as number);
      for (const tool of order) {
        const t = join(work, `${tool}-${i}`);
        const m = await unpackWith(tool, layout, t);
        samples[tool].push(m);
        process.stderr.write(`  ${tool}: ${secs(m.wallMs)}, ${rss(m.rssKiB)}\n`);
        rmSync(t, { recursive: true, force: true });
      }
      process.stderr.write(`iteration ${i + 1}/${RUNS} done\n`);
    }
    const km = median(samples.kimg.map((x) => x.wallMs));
    const um = median(samples.umoci.map((x) => x.wallMs));
    const ratio = km / um;
    const lines = [
      `${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC, ${cpus().length} × ${cpus()[0]?.model.trim() ?? "?"}, ` +
        `${(totalmem() / 1024 ** 3).toFixed(0)} GiB, Node ${process.versions.node}, ${RUNS} runs each, ` +
        `load average at each iteration's start: ${load.map((x) => x.toFixed(2)).join(", ")}` +
        (NODE_ARGS.length > 0 ? `, node flags: ${NODE_ARGS.join(" ")}` : "") +
        `, targets under ${TARGET_PARENT ?? tmpdir()}`,
      `image: ${image.layers.length} gzip layers, ${(uncompressed / MIB).toFixed(0)} MiB of tar ` +
        `(${(bytes / MIB).toFixed(0)} MiB of file content, ${files} tar entries), ${(compressed / MIB).toFixed(0)} MiB compressed`,
      "",
      "| tool | median wall time | runs (s) | peak RSS | kimg / umoci | target (≤ 0.7×) met? |",
      "| --- | --- | --- | --- | --- | --- |",
      `| kimg \`unpackLayers\` | ${secs(km)} | ${samples.kimg.map((x) => (x.wallMs / 1000).toFixed(2)).join(", ")} | ` +
        `${rss(Math.max(...samples.kimg.map((x) => x.rssKiB)))} | ${ratio.toFixed(2)} | ${ratio <= 0.7 ? "yes" : "**no**"} |`,
      `| \`umoci unpack --rootless\` | ${secs(um)} | ${samples.umoci.map((x) => (x.wallMs / 1000).toFixed(2)).join(", ")} | ` +
        `${rss(Math.max(...samples.umoci.map((x) => x.rssKiB)))} | | |`,
    ];
    process.stdout.write(`${lines.join("\n")}\n`);
  } finally {
    if (TARGET_PARENT === undefined) removeTempDir(work);
    else rmSync(work, { recursive: true, force: true });
  }
}

await main();
