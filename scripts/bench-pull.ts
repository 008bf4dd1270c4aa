// `npm run bench:pull`: wall time, peak RSS and registry requests of `kimg pull` (the built
// CLI, dist/cli/bin.js, as a child process) side by side with `skopeo copy docker://… oci:…`
// in the same run, against a local CNCF Distribution registry (test/helpers/registry.ts):
//   (a) fresh pull of 8 layers × 64 MiB;   (b) fresh pull of 40 layers × 1 MiB;
//   (c) re-pull of the up-to-date image (a); (d) pull of a new version of (a) that changes one
//   layer (over the store/layout that (a) left).
// Layers are seeded pseudo-random (incompressible) files in gzip tar layers (images.ts); the
// built layouts are cached in $KIMG_BENCH_CACHE (default $TMPDIR/kimg-bench-pull-cache), since
// gzip of 560 MiB of random data takes a while. Each iteration pulls with both tools, the
// order alternating; `sync` runs (untimed) before each timed command so one run's writeback
// does not land in the next. Medians of BENCH_RUNS (default 5) iterations. BENCH_ONLY=a,b,c,d
// picks scenarios; BENCH_KIMG_ARGS, BENCH_NODE_ARGS and BENCH_KIMG_BIN try other settings.
// kimg runs as users run the installed bin: dist/cli/bin.js executed directly (its shebang,
// `env -S node --max-semi-space-size=1`, applies); with BENCH_NODE_ARGS, `node FLAGS bin.js`.
// Peak RSS is /usr/bin/time's %M when installed, else the child's VmHWM polled from /proc.
// Request counts come from the registry's access log. Not a test: the numbers go in
// docs/performance.md.

import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { cpus, loadavg, tmpdir, totalmem } from "node:os";
import { join, resolve } from "node:path";
import { makeTempDir, removeTempDir } from "../test/helpers/cleanup.ts";
import { requireBinary, run } from "../test/helpers/exec.ts";
import { type BuiltImage, buildImage, type LayerSpec } from "../test/helpers/images.ts";
import { type AccessLogLine, type Registry, startRegistry } from "../test/helpers/registry.ts";
import { pushLayout } from "../test/helpers/skopeo.ts";
import { measure, median, RSS_METHOD, rss, secs } from "./bench-measure.ts";

const MIB = 1024 * 1024;
const RUNS = Math.max(1, Number(process.env.BENCH_RUNS ?? 5));
const ROOT = resolve(import.meta.dirname, "..");
/** The CLI to measure; BENCH_KIMG_BIN points at another build (a prototype) to compare. */
const BIN = process.env.BENCH_KIMG_BIN ?? join(ROOT, "dist", "cli", "kimg.cjs");
/** Extra node flags for kimg (e.g. `--liftoff-only`), for trying settings. */
const NODE_ARGS = (process.env.BENCH_NODE_ARGS ?? "").split(/\s+/).filter((s) => s !== "");
const CACHE = process.env.KIMG_BENCH_CACHE ?? join(tmpdir(), "kimg-bench-pull-cache");
/** Extra `kimg pull` arguments (e.g. `--jobs 8`), for trying settings. */
const KIMG_EXTRA = (process.env.BENCH_KIMG_ARGS ?? "").split(/\s+/).filter((s) => s !== "");
/** Only these scenarios (e.g. "a,c,d" or "b"). */
const ONLY = new Set((process.env.BENCH_ONLY ?? "a,b,c,d").split(","));
/** /usr/bin/time measures peak RSS; BENCH_RSS=proc polls /proc instead (the fallback). */

// ---------------------------------------------------------------------------------------------
// Images (cached layouts)

interface BenchImages {
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

async function buildCached(): Promise<BenchImages> {
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

// ---------------------------------------------------------------------------------------------
// Measuring one child process

// ---------------------------------------------------------------------------------------------
// Requests

interface Requests {
  manifestHead: number;
  manifestGet: number;
  blobHead: number;
  blobGet: number;
  /** Body bytes of blob GETs (as the registry counts them). */
  blobBytes: number;
  /** Digests of the blobs fetched with GET. */
  blobsGot: string[];
  other: number;
}

function countRequests(lines: readonly AccessLogLine[]): Requests {
  const r: Requests = {
    manifestHead: 0,
    manifestGet: 0,
    blobHead: 0,
    blobGet: 0,
    blobBytes: 0,
    blobsGot: [],
    other: 0,
  };
  for (const l of lines) {
    const manifest = /\/manifests\/[^/]+$/.test(l.path);
    const blob = /\/blobs\/(sha256:[0-9a-f]{64})$/.exec(l.path);
    if (manifest && l.method === "HEAD") r.manifestHead++;
    else if (manifest && l.method === "GET") r.manifestGet++;
    else if (blob !== null && l.method === "HEAD") r.blobHead++;
    else if (blob !== null && l.method === "GET") {
      r.blobGet++;
      r.blobBytes += l.bytes;
      r.blobsGot.push(blob[1] as string);
    } else r.other++;
  }
  return r;
}

function requestsText(r: Requests): string {
  const parts = [`${r.manifestHead} manifest HEAD`, `${r.manifestGet} manifest GET`];
  if (r.blobHead > 0) parts.push(`${r.blobHead} blob HEAD`);
  parts.push(`${r.blobGet} blob GET (${mib(r.blobBytes)})`);
  if (r.other > 0) parts.push(`${r.other} other`);
  return parts.join(", ");
}

// ---------------------------------------------------------------------------------------------
// Tools

type Tool = "kimg" | "skopeo";

interface Sample {
  wallMs: number;
  rssKiB: number;
  requests: Requests;
}

interface Ctx {
  reg: Registry;
  work: string;
  env: NodeJS.ProcessEnv;
}

async function timed(ctx: Ctx, tool: Tool, ref: string, dest: string): Promise<Sample> {
  await run("sync", []);
  await ctx.reg.settledAccessLog();
  ctx.reg.resetAccessLog();
  const m =
    tool === "kimg"
      ? await measure(
          // As users run the installed bin (node_modules/.bin/kimg → dist/cli/bin.js): executed
          // directly, so its shebang's node flags apply; BENCH_NODE_ARGS runs `node FLAGS BIN`.
          NODE_ARGS.length > 0 ? process.execPath : BIN,
          [
            ...(NODE_ARGS.length > 0 ? [...NODE_ARGS, BIN] : []),
            "pull",
            `${ctx.reg.host}/${ref}`,
            "--store",
            dest,
            "--progress",
            "plain",
            "--policy",
            "Always",
            ...KIMG_EXTRA,
          ],
          ctx.env,
        )
      : await measure(
          requireBinary("skopeo"),
          [
            "copy",
            "--src-tls-verify=false",
            "--src-no-creds",
            `docker://${ctx.reg.host}/${ref}`,
            `oci:${dest}:${ref.slice(ref.lastIndexOf(":") + 1)}`,
          ],
          ctx.env,
        );
  const requests = countRequests(await ctx.reg.settledAccessLog());
  return { wallMs: m.wallMs, rssKiB: m.rssKiB, requests };
}

// ---------------------------------------------------------------------------------------------
// Report

type Scenario = "a" | "b" | "c" | "d";
const TITLES: Record<Scenario, string> = {
  a: "(a) fresh pull, 8 × 64 MiB",
  b: "(b) fresh pull, 40 × 1 MiB",
  c: "(c) re-pull, up to date",
  d: "(d) new version, 1 of 8 layers changed",
};

const mib = (bytes: number): string =>
  bytes < MIB ? `${(bytes / 1024).toFixed(1)} KiB` : `${(bytes / MIB).toFixed(1)} MiB`;

/** The same request counts in every run, else the differing ones joined. */
function requestsOf(samples: readonly Sample[]): string {
  const texts = [...new Set(samples.map((s) => requestsText(s.requests)))];
  return texts.join(" / ");
}

function verdict(sc: Scenario, k: Sample[], s: Sample[], imgs: BenchImages): string {
  const km = median(k.map((x) => x.wallMs));
  const sm = median(s.map((x) => x.wallMs));
  const peak = Math.max(...k.map((x) => x.rssKiB));
  const misses: string[] = [];
  if (peak >= 100 * 1024) misses.push(`RSS ${rss(peak)}`);
  if (sc === "a" || sc === "b") {
    if (km > 0.5 * sm) misses.push(`${(km / sm).toFixed(2)}× > 0.5×`);
  } else if (sc === "c") {
    if (km > sm) misses.push("slower than skopeo");
    for (const x of k) {
      const r = x.requests;
      if (r.manifestHead + r.manifestGet !== 1 || r.blobGet + r.blobHead !== 0) {
        misses.push(`requests: ${requestsText(r)}`);
        break;
      }
    }
  } else {
    const changed = imgs.big.v2.layers[7]?.digest;
    const cfg = imgs.big.v2.configDigest;
    for (const x of k) {
      const layerGets = x.requests.blobsGot.filter((d) => d !== cfg);
      if (layerGets.length !== 1 || layerGets[0] !== changed) {
        misses.push(`fetched layers: ${layerGets.join(", ")}`);
        break;
      }
    }
  }
  return misses.length === 0 ? "yes" : `**no** (${[...new Set(misses)].join("; ")})`;
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run npm run build first`);
  requireBinary("skopeo");
  requireBinary("docker-registry");
  process.stderr.write(`peak RSS: ${RSS_METHOD}\n`);
  const imgs = await buildCached();
  const reg = await startRegistry();
  const work = makeTempDir("bench-pull");
  // No credentials from this user's files: an empty HOME and no DOCKER_CONFIG / auth file.
  const home = join(work, "home");
  await mkdir(home);
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: home };
  const ctx: Ctx = { reg, work, env };
  try {
    process.stderr.write(`registry ${reg.url}; pushing…\n`);
    await pushLayout(imgs.big.dir, "bench/big:v1", reg, { layoutRef: "v1", timeoutMs: 600_000 });
    await pushLayout(imgs.big.dir, "bench/big:v2", reg, { layoutRef: "v2", timeoutMs: 600_000 });
    await pushLayout(imgs.small.dir, "bench/small:v1", reg, {
      layoutRef: "v1",
      timeoutMs: 600_000,
    });
    // One untimed pull each, so the registry's blobs are in the page cache for everyone.
    for (const tool of ["kimg", "skopeo"] as const) {
      for (const ref of ["bench/big:v1", "bench/big:v2", "bench/small:v1"]) {
        const d = join(work, `warm-${tool}`);
        await timed(ctx, tool, ref, d);
        rmSync(d, { recursive: true, force: true });
      }
    }

    const samples: Record<Scenario, Record<Tool, Sample[]>> = {
      a: { kimg: [], skopeo: [] },
      b: { kimg: [], skopeo: [] },
      c: { kimg: [], skopeo: [] },
      d: { kimg: [], skopeo: [] },
    };
    const load: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const order: Tool[] = i % 2 === 0 ? ["kimg", "skopeo"] : ["skopeo", "kimg"];
      load.push(loadavg()[0] as number);
      for (const tool of order) {
        const dest = join(work, `${tool}-${i}`);
        if (ONLY.has("a") || ONLY.has("c") || ONLY.has("d")) {
          const a = await timed(ctx, tool, "bench/big:v1", dest);
          if (ONLY.has("a")) samples.a[tool].push(a);
          if (ONLY.has("c")) samples.c[tool].push(await timed(ctx, tool, "bench/big:v1", dest));
          if (ONLY.has("d")) samples.d[tool].push(await timed(ctx, tool, "bench/big:v2", dest));
        }
        rmSync(dest, { recursive: true, force: true });
        if (ONLY.has("b")) {
          samples.b[tool].push(await timed(ctx, tool, "bench/small:v1", dest));
          rmSync(dest, { recursive: true, force: true });
        }
      }
      process.stderr.write(`iteration ${i + 1}/${RUNS} done\n`);
    }

    const lines: string[] = [];
    lines.push(
      `${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC, ${cpus().length} × ${cpus()[0]?.model.trim() ?? "?"}, ` +
        `${(totalmem() / 1024 ** 3).toFixed(0)} GiB, Node ${process.versions.node}, ` +
        `${RUNS} runs each, load average at each iteration's start: ${load.map((x) => x.toFixed(2)).join(", ")}` +
        (KIMG_EXTRA.length > 0 ? `, kimg args: ${KIMG_EXTRA.join(" ")}` : "") +
        (NODE_ARGS.length > 0 ? `, node flags: ${NODE_ARGS.join(" ")}` : "") +
        (process.env.BENCH_KIMG_BIN !== undefined ? `, kimg: ${BIN}` : ""),
      "",
      "| scenario | kimg median | skopeo median | kimg / skopeo | kimg peak RSS | skopeo peak RSS | kimg requests (bytes) | target met? |",
      "| --- | --- | --- | --- | --- | --- | --- | --- |",
    );
    const detail: string[] = [
      "",
      "| scenario | tool | wall times (s) | peak RSS (MiB) | requests (bytes) |",
      "| --- | --- | --- | --- | --- |",
    ];
    for (const sc of ["a", "b", "c", "d"] as const) {
      const k = samples[sc].kimg;
      const s = samples[sc].skopeo;
      if (k.length === 0 || s.length === 0) continue;
      const km = median(k.map((x) => x.wallMs));
      const sm = median(s.map((x) => x.wallMs));
      lines.push(
        `| ${TITLES[sc]} | ${secs(km)} | ${secs(sm)} | ${(km / sm).toFixed(2)} | ` +
          `${rss(Math.max(...k.map((x) => x.rssKiB)))} | ${rss(Math.max(...s.map((x) => x.rssKiB)))} | ` +
          `${requestsOf(k)} | ${verdict(sc, k, s, imgs)} |`,
      );
      for (const [tool, xs] of [
        ["kimg", k],
        ["skopeo", s],
      ] as const) {
        detail.push(
          `| ${TITLES[sc]} | ${tool} | ${xs.map((x) => (x.wallMs / 1000).toFixed(2)).join(", ")} | ` +
            `${xs.map((x) => (x.rssKiB / 1024).toFixed(0)).join(", ")} | ${requestsOf(xs)} |`,
        );
      }
    }
    process.stdout.write(`${[...lines, ...detail].join("\n")}\n`);
  } finally {
    await reg.stop();
    removeTempDir(work);
  }
}

await main();
