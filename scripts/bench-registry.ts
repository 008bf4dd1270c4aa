// `npm run bench:registry`: issue 14's two numbers, from the built CLI (dist/cli/kimg.cjs) as
// child processes against local CNCF Distribution registries (test/helpers/registry.ts).
//   copy: `kimg copy` of 8 layers × 64 MiB (the bench image of bench-pull.ts) from one
//         registry to another, against `skopeo copy docker://… docker://…` in the same run,
//         the order alternating; each copy goes to a fresh destination registry, so every blob
//         is uploaded. Target: at most 0.8 × skopeo's time.
//   pin:  `kimg pin` of a 10 MB manifest stream naming 500 distinct images (all pushed, one
//         small image tagged 500 ways), with its wall time, its CPU time (user + sys of the
//         process, from /proc via /usr/bin/time) and the registry's request count. Target:
//         bound by the round trips, under 2 s of kimg CPU.
// Medians of BENCH_RUNS (default 3). Not a test: the numbers go in docs/performance.md.

import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { makeTempDir, removeTempDir } from "../test/helpers/cleanup.ts";
import { requireBinary } from "../test/helpers/exec.ts";
import { putManifest } from "../test/helpers/http-push.ts";
import { buildImage } from "../test/helpers/images.ts";
import { startRegistry } from "../test/helpers/registry.ts";
import { pushLayout } from "../test/helpers/skopeo.ts";
import { buildCached } from "./bench-images.ts";
import { measure, median, secs } from "./bench-measure.ts";

const RUNS = Math.max(1, Number(process.env.BENCH_RUNS ?? 3));
const ROOT = resolve(import.meta.dirname, "..");
const BIN = join(ROOT, "dist", "cli", "kimg.cjs");
const ENV = { ...process.env, CONTAINERS_REGISTRIES_CONF: "/dev/null" };

/** Wall and CPU (user+sys) seconds of a command, from /usr/bin/time. */
function timedCpu(
  cmd: string,
  args: string[],
): Promise<{ wall: number; cpu: number; out: string }> {
  return new Promise((ok, fail) => {
    const started = performance.now();
    const p = spawn("/usr/bin/time", ["-f", "CPU %U %S", cmd, ...args], { env: ENV });
    let err = "";
    let out = "";
    p.stdout.on("data", (c) => (out += c));
    p.stderr.on("data", (c) => (err += c));
    p.on("close", (code) => {
      const m = /CPU ([\d.]+) ([\d.]+)/.exec(err);
      if (m === null) return fail(new Error(`no CPU time (exit ${code}): ${err.slice(-2000)}`));
      ok({
        wall: (performance.now() - started) / 1000,
        cpu: Number(m[1]) + Number(m[2]),
        out: `${out}\n${err.slice(-500)}`,
      });
    });
  });
}

async function benchCopy(): Promise<string[]> {
  const imgs = await buildCached();
  const src = await startRegistry();
  const lines: string[] = [];
  try {
    await pushLayout(imgs.big.dir, "bench/big:v1", src, { layoutRef: "v1", timeoutMs: 600_000 });
    const samples: Record<"kimg" | "skopeo", number[]> = { kimg: [], skopeo: [] };
    for (let i = 0; i < RUNS; i++) {
      const order: ("kimg" | "skopeo")[] = i % 2 === 0 ? ["kimg", "skopeo"] : ["skopeo", "kimg"];
      for (const tool of order) {
        const dst = await startRegistry();
        try {
          const from = `${src.host}/bench/big:v1`;
          const to = `${dst.host}/bench/big:v1`;
          const m =
            tool === "kimg"
              ? await measure(BIN, ["copy", "-q", from, to], ENV)
              : await measure(
                  "skopeo",
                  [
                    "copy",
                    "--quiet",
                    "--src-tls-verify=false",
                    "--dest-tls-verify=false",
                    "--preserve-digests",
                    `docker://${from}`,
                    `docker://${to}`,
                  ],
                  ENV,
                );
          samples[tool].push(m.wallMs);
          process.stderr.write(`copy ${tool} run ${i + 1}: ${secs(m.wallMs)}\n`);
        } finally {
          await dst.stop();
        }
      }
    }
    const k = median(samples.kimg);
    const s = median(samples.skopeo);
    lines.push(
      `copy 8 × 64 MiB registry → registry (${RUNS} runs, median): kimg ${secs(k)} [${samples.kimg.map((x) => secs(x)).join(", ")}], skopeo ${secs(s)} [${samples.skopeo.map((x) => secs(x)).join(", ")}]; kimg/skopeo ${(k / s).toFixed(2)} (target ≤ 0.8: ${k / s <= 0.8 ? "met" : "not met"})`,
    );
  } finally {
    await src.stop();
  }
  return lines;
}

async function benchPin(): Promise<string[]> {
  const reg = await startRegistry();
  const work = makeTempDir("bench-pin");
  const lines: string[] = [];
  try {
    const img = await buildImage({ dir: `${work}/img`, layers: [{ randomBytes: 256 }] });
    await pushLayout(img, "bench/img0:t", reg);
    const manifest = img.manifest;
    // 500 distinct images: 50 repositories × 10 tags, all naming the same small manifest.
    const names: string[] = [];
    for (let r = 0; r < 50; r++) {
      if (r > 0) await pushLayout(img, `bench/img${r}:t0`, reg);
      for (let t = 0; t < 10; t++) {
        await putManifest(reg, `bench/img${r}`, `t${t}`, manifest, img.manifestMediaType);
        names.push(`${reg.host}/bench/img${r}:t${t}`);
      }
    }
    // A 10 MB stream: Deployments with comments, labels, env and 2 containers each.
    const docs: string[] = [];
    let size = 0;
    for (let i = 0; size < 10 * 1024 * 1024; i++) {
      const env = Array.from(
        { length: 12 },
        (_, k) =>
          `            - name: VAR_${k}\n              value: "value-${i}-${k}"   # env ${k}`,
      ).join("\n");
      const d = `# deployment ${i}\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app-${i}\n  namespace: team-${i % 20}\n  labels: {app: app-${i}, tier: "backend", release: 'r${i}'}\nspec:\n  replicas: 3\n  template:\n    metadata:\n      labels: {app: app-${i}}\n    spec:\n      containers:\n        - name: main\n          image: ${names[i % 500]}\n          env:\n${env}\n        - name: sidecar\n          image: "${names[(i * 7 + 3) % 500]}"\n          resources: {limits: {cpu: 100m, memory: 64Mi}}\n`;
      docs.push(d);
      size += d.length + 4;
    }
    const file = join(work, "stream.yaml");
    writeFileSync(file, docs.join("---\n"));
    const walls: number[] = [];
    const cpus: number[] = [];
    let requests = 0;
    for (let i = 0; i < RUNS; i++) {
      reg.resetAccessLog();
      // As users run it: the bin executed, its shebang's node flags applying; with
      // BENCH_NODE_ARGS, `node FLAGS bin` instead (profiling, other settings).
      const nodeArgs = (process.env.BENCH_NODE_ARGS ?? "").split(/\s+/).filter((x) => x !== "");
      const pinArgs = ["pin", "--jobs", "50", file];
      const r =
        nodeArgs.length === 0
          ? await timedCpu(BIN, pinArgs)
          : await timedCpu(process.execPath, [...nodeArgs, BIN, ...pinArgs]);
      walls.push(r.wall);
      cpus.push(r.cpu);
      requests = (await reg.settledAccessLog()).filter((l) =>
        l.path.includes("/manifests/"),
      ).length;
      process.stderr.write(
        `pin run ${i + 1}: ${r.wall.toFixed(2)} s wall, ${r.cpu.toFixed(2)} s CPU, ${requests} manifest requests\n`,
      );
    }
    lines.push(
      `pin ${(size / 1e6).toFixed(1)} MB, ${docs.length} Deployments, ${docs.length * 2} containers, 500 distinct images, --jobs 50 (${RUNS} runs, median): ${median(walls).toFixed(2)} s wall, ${median(cpus).toFixed(2)} s kimg CPU (target < 2 s: ${median(cpus) < 2 ? "met" : "not met"}), ${requests} manifest requests (HEAD)`,
    );
  } finally {
    await reg.stop();
    removeTempDir(work);
  }
  return lines;
}

requireBinary("skopeo");
const only = new Set((process.env.BENCH_ONLY ?? "copy,pin").split(","));
const out: string[] = [];
if (only.has("pin")) out.push(...(await benchPin()));
if (only.has("copy")) out.push(...(await benchCopy()));
process.stdout.write(`${out.join("\n")}\n`);
