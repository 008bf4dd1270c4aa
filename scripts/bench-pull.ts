// `npm run bench:pull`: wall time, peak RSS and registry requests of `kimg pull` (the built
// CLI, dist/cli/kimg.cjs, as a child process) side by side with `skopeo copy docker://… oci:…`
// and `crane pull --format oci` (the Go-built test peer, scripts/build-peers.sh) in the same
// run, against a local CNCF Distribution registry (test/helpers/registry.ts):
//   (a) fresh pull of 8 layers × 64 MiB;   (b) fresh pull of 40 layers × 1 MiB;
//   (c) re-pull of the up-to-date image (a); (d) pull of a new version of (a) that changes one
//   layer (over the store/layout that (a) left).
// Layers are seeded pseudo-random (incompressible) files in gzip tar layers (images.ts); the
// built layouts are cached in $KIMG_BENCH_CACHE (default $TMPDIR/kimg-bench-pull-cache), since
// gzip of 560 MiB of random data takes a while. Each iteration pulls with every tool, the
// order rotating; `sync` runs (untimed) before each timed command so one run's writeback
// does not land in the next. Medians of BENCH_RUNS (default 5) iterations. BENCH_ONLY=a,b,c,d
// picks scenarios; BENCH_KIMG_ARGS, BENCH_NODE_ARGS and BENCH_KIMG_BIN try other settings.
// kimg runs as users run the installed bin: dist/cli/bin.js executed directly (its shebang,
// `env -S node --max-semi-space-size=1`, applies); with BENCH_NODE_ARGS, `node FLAGS bin.js`.
// Peak RSS is /usr/bin/time's %M when installed, else the child's VmHWM polled from /proc.
// Request counts come from the registry's access log. The report also measures the machine's
// limits in the same run (node -e 0, dd with fdatasync, sha256 in Node, a 64 MiB blob GET over
// loopback with curl), and checks issue 13's targets. Not a test: the numbers go in
// docs/performance.md.

import { createHash } from "node:crypto";
import { existsSync, rmSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { cpus, loadavg, totalmem } from "node:os";
import { join, resolve } from "node:path";
import { makeTempDir, removeTempDir } from "../test/helpers/cleanup.ts";
import { requireBinary, run } from "../test/helpers/exec.ts";
import { peerBin } from "../test/helpers/peers.ts";
import { type AccessLogLine, type Registry, startRegistry } from "../test/helpers/registry.ts";
import { pushLayout } from "../test/helpers/skopeo.ts";
import { type BenchImages, buildCached } from "./bench-images.ts";
import { measure, median, RSS_METHOD, rss, secs } from "./bench-measure.ts";

const MIB = 1024 * 1024;
const RUNS = Math.max(1, Number(process.env.BENCH_RUNS ?? 5));
const ROOT = resolve(import.meta.dirname, "..");
/** The CLI to measure; BENCH_KIMG_BIN points at another build (a prototype) to compare. */
const BIN = process.env.BENCH_KIMG_BIN ?? join(ROOT, "dist", "cli", "kimg.cjs");
/** Extra node flags for kimg (e.g. `--liftoff-only`), for trying settings. */
const NODE_ARGS = (process.env.BENCH_NODE_ARGS ?? "").split(/\s+/).filter((s) => s !== "");
/** Extra `kimg pull` arguments (e.g. `--jobs 8`), for trying settings. */
const KIMG_EXTRA = (process.env.BENCH_KIMG_ARGS ?? "").split(/\s+/).filter((s) => s !== "");
/** Only these scenarios (e.g. "a,c,d" or "b"). */
const ONLY = new Set((process.env.BENCH_ONLY ?? "a,b,c,d").split(","));
/** /usr/bin/time measures peak RSS; BENCH_RSS=proc polls /proc instead (the fallback). */

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

const TOOLS = ["kimg", "skopeo", "crane"] as const;
type Tool = (typeof TOOLS)[number];

interface Sample {
  wallMs: number;
  rssKiB: number;
  requests: Requests;
}

interface Ctx {
  reg: Registry;
  work: string;
  env: NodeJS.ProcessEnv;
  crane: string;
}

async function timed(ctx: Ctx, tool: Tool, ref: string, dest: string): Promise<Sample> {
  await run("sync", []);
  await ctx.reg.settledAccessLog();
  ctx.reg.resetAccessLog();
  const tag = ref.slice(ref.lastIndexOf(":") + 1);
  const m =
    tool === "kimg"
      ? await measure(
          // As users run the installed bin (node_modules/.bin/kimg → dist/cli/kimg.cjs):
          // executed directly, so its shebang's node flags apply; BENCH_NODE_ARGS runs
          // `node FLAGS BIN`.
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
      : tool === "skopeo"
        ? await measure(
            requireBinary("skopeo"),
            [
              "copy",
              "--src-tls-verify=false",
              "--src-no-creds",
              `docker://${ctx.reg.host}/${ref}`,
              `oci:${dest}:${tag}`,
            ],
            ctx.env,
          )
        : // crane talks plain HTTP to 127.0.0.1 by itself (ggcr name.Registry.Scheme).
          await measure(
            ctx.crane,
            ["pull", "--format", "oci", `${ctx.reg.host}/${ref}`, dest],
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

/** Issue 13's targets: ratios to skopeo in the same run, (c) against node -e 0, RSS < 64 MiB. */
const TARGET_RATIO: Record<Scenario, number | undefined> = { a: 0.8, b: 1.0, c: undefined, d: 0.8 };
const C_OVER_NODE_MS = 40;
const RSS_TARGET_KIB = 64 * 1024;

function verdict(
  sc: Scenario,
  k: Sample[],
  s: Sample[],
  imgs: BenchImages,
  nodeMs: number,
): string {
  const km = median(k.map((x) => x.wallMs));
  const sm = median(s.map((x) => x.wallMs));
  const peak = Math.max(...k.map((x) => x.rssKiB));
  const misses: string[] = [];
  if (peak >= RSS_TARGET_KIB) misses.push(`RSS ${rss(peak)} ≥ 64 MiB`);
  const ratio = TARGET_RATIO[sc];
  if (ratio !== undefined && km > ratio * sm) {
    misses.push(`${(km / sm).toFixed(2)}× > ${ratio.toFixed(1)}×`);
  }
  if (sc === "c") {
    if (km > nodeMs + C_OVER_NODE_MS) {
      misses.push(`node -e 0 + ${(km - nodeMs).toFixed(0)} ms > + ${C_OVER_NODE_MS} ms`);
    }
    for (const x of k) {
      const r = x.requests;
      if (r.manifestHead + r.manifestGet !== 1 || r.blobGet + r.blobHead !== 0) {
        misses.push(`requests: ${requestsText(r)}`);
        break;
      }
    }
  }
  if (sc === "d") {
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

/** "median (min–max)" of wall times. */
function spread(xs: readonly Sample[]): string {
  const w = xs.map((x) => x.wallMs);
  return `${secs(median(w))} (${(Math.min(...w) / 1000).toFixed(2)}–${(Math.max(...w) / 1000).toFixed(2)})`;
}

// ---------------------------------------------------------------------------------------------
// The machine's limits, measured in the same run

interface Limits {
  nodeMs: number;
  /** dd of 512 MiB with conv=fdatasync: write and flush, MiB/s. */
  diskMiBs: number;
  /** sha256 in Node (what kimg hashes with), 1 MiB updates, MiB/s. */
  sha256MiBs: number;
  /** curl GET of a 64 MiB blob from the registry to /dev/null, MiB/s. */
  loopbackMiBs: number;
}

async function measureLimits(ctx: Ctx, imgs: BenchImages): Promise<Limits> {
  const nodes: number[] = [];
  for (let i = 0; i < 9; i++) nodes.push((await measure(process.execPath, ["-e", "0"])).wallMs);
  const ddFile = join(ctx.work, "dd.bin");
  await run("sync", []);
  const dd = await measure("dd", [
    "if=/dev/zero",
    `of=${ddFile}`,
    "bs=8M",
    "count=64",
    "conv=fdatasync",
    "status=none",
  ]);
  rmSync(ddFile, { force: true });
  const chunk = Buffer.alloc(MIB, 7);
  const h = createHash("sha256");
  const t0 = performance.now();
  for (let i = 0; i < 512; i++) h.update(chunk);
  h.digest();
  const shaMs = performance.now() - t0;
  const layer = imgs.big.v1.layers[0]?.digest as string;
  const url = `${ctx.reg.url}/v2/bench/big/blobs/${layer}`;
  const speeds: number[] = [];
  for (let i = 0; i < 3; i++) {
    const out = await measure("curl", ["-s", "-o", "/dev/null", "-w", "%{speed_download}", url]);
    speeds.push(Number(out.stdout.trim()) / MIB);
  }
  return {
    nodeMs: median(nodes),
    diskMiBs: 512 / (dd.wallMs / 1000),
    sha256MiBs: 512 / (shaMs / 1000),
    loopbackMiBs: Math.max(...speeds),
  };
}

function limitsText(l: Limits): string[] {
  // (a) moves 512 MiB through all three; each is a floor on its own.
  const floor = (mibs: number) => `${((512 / mibs) * 1000).toFixed(0)} ms for 512 MiB`;
  return [
    "",
    "Limits of this machine, same run:",
    "",
    "| limit | measured | (a)'s 512 MiB at that rate |",
    "| --- | --- | --- |",
    `| \`node -e 0\` (median of 9) | ${l.nodeMs.toFixed(0)} ms | (c) target: ≤ ${(l.nodeMs + C_OVER_NODE_MS).toFixed(0)} ms |`,
    `| disk write + flush (dd bs=8M conv=fdatasync, 512 MiB) | ${l.diskMiBs.toFixed(0)} MiB/s | ${floor(l.diskMiBs)} |`,
    `| sha256 in Node (1 MiB updates) | ${l.sha256MiBs.toFixed(0)} MiB/s | ${floor(l.sha256MiBs)} |`,
    `| loopback GET of a 64 MiB blob (curl, best of 3) | ${l.loopbackMiBs.toFixed(0)} MiB/s | ${floor(l.loopbackMiBs)} |`,
  ];
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run npm run build first`);
  requireBinary("skopeo");
  requireBinary("docker-registry");
  requireBinary("curl");
  requireBinary("dd");
  process.stderr.write(`peak RSS: ${RSS_METHOD}\n`);
  const imgs = await buildCached();
  const reg = await startRegistry();
  const work = makeTempDir("bench-pull");
  // No credentials from this user's files: an empty HOME and no DOCKER_CONFIG / auth file.
  const home = join(work, "home");
  await mkdir(home);
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: home };
  const ctx: Ctx = { reg, work, env, crane: peerBin("crane") };
  try {
    process.stderr.write(`registry ${reg.url}; pushing…\n`);
    await pushLayout(imgs.big.dir, "bench/big:v1", reg, { layoutRef: "v1", timeoutMs: 600_000 });
    await pushLayout(imgs.big.dir, "bench/big:v2", reg, { layoutRef: "v2", timeoutMs: 600_000 });
    await pushLayout(imgs.small.dir, "bench/small:v1", reg, {
      layoutRef: "v1",
      timeoutMs: 600_000,
    });
    // One untimed pull each, so the registry's blobs are in the page cache for everyone.
    for (const tool of TOOLS) {
      for (const ref of ["bench/big:v1", "bench/big:v2", "bench/small:v1"]) {
        const d = join(work, `warm-${tool}`);
        await timed(ctx, tool, ref, d);
        rmSync(d, { recursive: true, force: true });
      }
    }

    const limits = await measureLimits(ctx, imgs);
    const none = (): Record<Tool, Sample[]> => ({ kimg: [], skopeo: [], crane: [] });
    const samples: Record<Scenario, Record<Tool, Sample[]>> = {
      a: none(),
      b: none(),
      c: none(),
      d: none(),
    };
    const load: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const order: Tool[] = TOOLS.map((_, j) => TOOLS[(i + j) % TOOLS.length] as Tool);
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
      "Wall time: median (min–max) of the runs.",
      "",
      "| scenario | kimg | skopeo | crane | kimg / skopeo | kimg / crane | peak RSS kimg / skopeo / crane | kimg requests (bytes) | target met? |",
      "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    );
    const detail: string[] = [
      "",
      "| scenario | tool | wall times (s) | peak RSS (MiB) | requests (bytes) |",
      "| --- | --- | --- | --- | --- |",
    ];
    for (const sc of ["a", "b", "c", "d"] as const) {
      const k = samples[sc].kimg;
      const s = samples[sc].skopeo;
      const c = samples[sc].crane;
      if (k.length === 0 || s.length === 0 || c.length === 0) continue;
      const km = median(k.map((x) => x.wallMs));
      const sm = median(s.map((x) => x.wallMs));
      const cm = median(c.map((x) => x.wallMs));
      const peak = (xs: Sample[]) => (Math.max(...xs.map((x) => x.rssKiB)) / 1024).toFixed(0);
      lines.push(
        `| ${TITLES[sc]} | ${spread(k)} | ${spread(s)} | ${spread(c)} | ${(km / sm).toFixed(2)} | ` +
          `${(km / cm).toFixed(2)} | ${peak(k)} / ${peak(s)} / ${peak(c)} MiB | ` +
          `${requestsOf(k)} | ${verdict(sc, k, s, imgs, limits.nodeMs)} |`,
      );
      for (const [tool, xs] of [
        ["kimg", k],
        ["skopeo", s],
        ["crane", c],
      ] as const) {
        detail.push(
          `| ${TITLES[sc]} | ${tool} | ${xs.map((x) => (x.wallMs / 1000).toFixed(2)).join(", ")} | ` +
            `${xs.map((x) => (x.rssKiB / 1024).toFixed(0)).join(", ")} | ${requestsOf(xs)} |`,
        );
      }
    }
    process.stdout.write(`${[...lines, ...limitsText(limits), ...detail].join("\n")}\n`);
  } finally {
    await reg.stop();
    removeTempDir(work);
  }
}

await main();
