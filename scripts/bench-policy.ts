// `node --import tsx scripts/bench-policy.ts [--mb N] [--runs N] [--no-cli]`: throughput of
// `kimg policy` on a generated, realistic manifest stream (~10 MB by default): Deployments with
// comments, probes, env and resources, StatefulSets, CronJobs, Pods (block and flow style),
// `List`s of Pods and Deployments, Services and ConfigMaps (skipped kinds), anchors and `<<`
// merge keys — plus the same objects as one JSON `List`. Deterministic (seeded PRNG).
//
// Each measurement runs in a fresh Node process, like a real CLI invocation (cold JIT), and
// reports wall time, MB/s and that process's peak RSS:
//   - `runPolicy` from src/ (through tsx) for text, `--json` and `-o yaml`, with a breakdown
//     of load (parse) / inspect / render;
//   - the built CLI (`node dist/cli/bin.js policy …`, run `npm run build` first) for the same
//     three outputs.
// Not a test: numbers go in reports, never into assertions.

import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { fileURLToPath } from "node:url";
import { mulberry32 } from "../test/helpers/prng.ts";

const root = fileURLToPath(new URL("..", import.meta.url));
const self = fileURLToPath(import.meta.url);

// ---------------------------------------------------------------------------------------------
// The stream

const rand = mulberry32(1234);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;
const chance = (p: number): boolean => rand() < p;

const REGISTRIES = ["", "docker.io/", "gcr.io/acme/", "registry.example.com:5000/", "ghcr.io/o/"];
const NAMES = ["nginx", "redis", "api", "worker", "web-frontend", "envoy", "busybox", "postgres"];
const TAGS = ["", ":latest", ":1.25", ":v2.3.1", ":3.9-alpine", "@sha256:".padEnd(72, "a1")];
const POLICIES = ["", "", "", "Always", "IfNotPresent", "Never"];
const TEAMS = ["payments", "search", "platform", "growth", "infra"];

function image(): string {
  return `${pick(REGISTRIES)}${pick(NAMES)}${pick(TAGS)}`;
}

function policyLine(indent: string): string {
  const p = pick(POLICIES);
  return p === "" ? "" : `${indent}imagePullPolicy: ${p}\n`;
}

/** A block-style container list entry at `indent` (the `- ` column). */
function container(indent: string, name: string): string {
  const i = `${indent}  `;
  let s = `${indent}- name: ${name}\n`;
  s += `${i}image: ${image()}${chance(0.3) ? "   # pinned by the release bot" : ""}\n`;
  s += policyLine(i);
  if (chance(0.6)) {
    s += `${i}ports:\n${i}- containerPort: ${8000 + Math.floor(rand() * 1000)}\n${i}  protocol: TCP\n`;
  }
  if (chance(0.7)) {
    s += `${i}env:\n`;
    for (let k = 0; k < 1 + Math.floor(rand() * 4); k++) {
      s += `${i}- name: VAR_${k}\n${i}  value: "${pick(["yes", "on", "1", "debug", "https://x.example.com"])}"\n`;
    }
  }
  if (chance(0.6)) {
    s += `${i}resources:\n${i}  requests: {cpu: 100m, memory: 128Mi}\n${i}  limits:\n${i}    cpu: "1"\n${i}    memory: 512Mi\n`;
  }
  if (chance(0.4)) {
    s += `${i}readinessProbe:\n${i}  httpGet:\n${i}    path: /healthz\n${i}    port: 8080\n${i}  periodSeconds: 10\n`;
  }
  if (chance(0.3)) s += `${i}volumeMounts:\n${i}- name: data\n${i}  mountPath: /var/lib/data\n`;
  return s;
}

function metadata(indent: string, name: string, ns: boolean): string {
  const i = `${indent}  `;
  let s = `${indent}metadata:\n${i}name: ${name}\n`;
  if (ns) s += `${i}namespace: ${pick(TEAMS)}\n`;
  s += `${i}labels:\n${i}  app: ${name}\n${i}  team: ${pick(TEAMS)}\n`;
  if (chance(0.3)) s += `${i}annotations:\n${i}  example.com/owner: "${pick(TEAMS)}@example.com"\n`;
  return s;
}

function podSpec(indent: string): string {
  let s = "";
  if (chance(0.3)) s += `${indent}initContainers:\n${container(indent, "init")}`;
  s += `${indent}containers:\n`;
  const n = 1 + Math.floor(rand() * 3);
  for (let k = 0; k < n; k++) s += container(indent, k === 0 ? "main" : `sidecar-${k}`);
  if (chance(0.3)) s += `${indent}volumes:\n${indent}- name: data\n${indent}  emptyDir: {}\n`;
  if (chance(0.2)) s += `${indent}nodeSelector: {disk: ssd}\n`;
  return s;
}

function deployment(n: number, kind = "Deployment"): string {
  return `# ${kind} ${n}: owned by ${pick(TEAMS)}
apiVersion: apps/v1
kind: ${kind}
${metadata("", `svc-${n}`, true)}spec:
  replicas: ${1 + Math.floor(rand() * 5)}
  selector:
    matchLabels:
      app: svc-${n}
  template:
    metadata:
      labels:
        app: svc-${n}
    spec:
${podSpec("      ")}`;
}

function cronJob(n: number): string {
  return `apiVersion: batch/v1
kind: CronJob
${metadata("", `cron-${n}`, true)}spec:
  schedule: "*/5 * * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
${podSpec("          ")}`;
}

function pod(n: number): string {
  if (chance(0.5)) {
    return `apiVersion: v1
kind: Pod
metadata: {name: pod-${n}, namespace: ${pick(TEAMS)}}
spec:
  containers:
  - {name: app, image: "${image()}"}
`;
  }
  return `apiVersion: v1\nkind: Pod\n${metadata("", `pod-${n}`, chance(0.5))}spec:\n${podSpec("  ")}`;
}

function merged(n: number): string {
  return `# anchors and merge keys
apiVersion: v1
kind: Pod
metadata:
  name: merged-${n}
  labels: &labels {app: merged, enabled: yes}
spec:
  containers:
  - &base
    name: base
    image: ${image()}
    env:
    - {name: A, value: "1"}
  - <<: *base
    name: copy
  - *base
`;
}

function list(n: number): string {
  let s = "apiVersion: v1\nkind: List\nitems:\n";
  for (let k = 0; k < 3; k++) {
    const body = k % 2 === 0 ? pod(n * 10 + k) : deployment(n * 10 + k);
    const lines = body.split("\n").filter((l) => l !== "" && !l.startsWith("#"));
    s += lines.map((l, j) => (j === 0 ? `- ${l}` : `  ${l}`)).join("\n");
    s += "\n";
  }
  return s;
}

function service(n: number): string {
  return `apiVersion: v1
kind: Service
metadata:
  name: svc-${n}
spec:
  selector: {app: svc-${n}}
  ports:
  - port: 80
    targetPort: 8080
`;
}

function configMap(n: number): string {
  return `apiVersion: v1
kind: ConfigMap
metadata:
  name: cfg-${n}
data:
  config.yaml: |
    feature: on
    retries: 3
    endpoint: https://api.example.com/v${n % 4}
`;
}

/** One document (without the `---` separator). */
function document(n: number): string {
  const r = rand();
  if (r < 0.4) return deployment(n);
  if (r < 0.47) return deployment(n, "StatefulSet");
  if (r < 0.52) return cronJob(n);
  if (r < 0.7) return pod(n);
  if (r < 0.73) return merged(n);
  if (r < 0.78) return list(n);
  if (r < 0.9) return service(n);
  return configMap(n);
}

export function generate(bytes: number): { yaml: string; documents: number } {
  const parts: string[] = [];
  let size = 0;
  let n = 0;
  while (size < bytes) {
    const d = `${document(n++)}---\n`;
    parts.push(d);
    size += d.length;
  }
  const yaml = parts.join("");
  return { yaml, documents: n };
}

/** The JSON flavour: one pretty-printed `List` of Deployments and Pods (as kubectl -o json). */
export function generateJson(bytes: number): { json: string; items: number } {
  const containerObj = (name: string): Record<string, unknown> => {
    const c: Record<string, unknown> = { name, image: image() };
    const p = pick(POLICIES);
    if (p !== "") c.imagePullPolicy = p;
    if (chance(0.6))
      c.ports = [{ containerPort: 8000 + Math.floor(rand() * 1000), protocol: "TCP" }];
    if (chance(0.7)) c.env = [{ name: "VAR_0", value: pick(["yes", "on", "1", "debug"]) }];
    if (chance(0.6)) {
      c.resources = { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "1" } };
    }
    return c;
  };
  const spec = (): Record<string, unknown> => ({
    containers: Array.from({ length: 1 + Math.floor(rand() * 3) }, (_, k) =>
      containerObj(k === 0 ? "main" : `sidecar-${k}`),
    ),
  });
  const items: unknown[] = [];
  let size = 0;
  for (let n = 0; size < bytes; n++) {
    const meta = { name: `obj-${n}`, namespace: pick(TEAMS), labels: { app: `obj-${n}` } };
    const item =
      n % 3 === 0
        ? { apiVersion: "v1", kind: "Pod", metadata: meta, spec: spec() }
        : {
            apiVersion: "apps/v1",
            kind: "Deployment",
            metadata: meta,
            spec: { replicas: 2, template: { metadata: { labels: meta.labels }, spec: spec() } },
          };
    items.push(item);
    size += JSON.stringify(item, null, 4).length + 4;
  }
  const json = `${JSON.stringify({ apiVersion: "v1", kind: "List", items }, null, 2)}\n`;
  return { json, items: items.length };
}

// ---------------------------------------------------------------------------------------------
// Child mode: one measurement in this process.

class Counter extends Writable {
  bytes = 0;
  override _write(chunk: Buffer | string, _enc: BufferEncoding, cb: () => void): void {
    this.bytes += typeof chunk === "string" ? Buffer.byteLength(chunk) : chunk.length;
    cb();
  }
}

async function child(output: string, file: string): Promise<void> {
  const t0 = performance.now();
  const { runPolicy } = await import("../src/cli/commands/policy.ts");
  const { loadManifests, inspectManifests, toYaml } = await import("../src/manifest/index.ts");
  const tImport = performance.now();
  const { Readable } = await import("node:stream");
  const out = new Counter();
  const err = new Counter();
  const io = { stdout: out, stderr: err, stdin: Readable.from([]), color: false };
  const opts = output === "json" ? { json: true } : { output: output as "text" | "yaml" };
  const t1 = performance.now();
  const code = await runPolicy([file], opts, io);
  const t2 = performance.now();
  // The same work again, in phases (warm: the JIT has seen it once).
  const { readFileSync } = await import("node:fs");
  const text = readFileSync(file, "utf8");
  const p0 = performance.now();
  const loaded = loadManifests(text, file);
  const p1 = performance.now();
  const report = inspectManifests([loaded], {});
  const p2 = performance.now();
  if (output === "yaml") toYaml([loaded], report);
  else if (output === "json") JSON.stringify(report, null, 2);
  const p3 = performance.now();
  process.stdout.write(
    `${JSON.stringify({
      code,
      ms: t2 - t1,
      importMs: tImport - t0,
      out: out.bytes,
      rss: process.resourceUsage().maxRSS * 1024,
      warm: { load: p1 - p0, inspect: p2 - p1, render: p3 - p2 },
      containers: report.summary.containers,
    })}\n`,
  );
}

// ---------------------------------------------------------------------------------------------
// Parent mode

const RSS_HOOK =
  "data:text/javascript,process.on('exit',()=>process.stderr.write('\\nBENCH_RSS '+process.resourceUsage().maxRSS*1024+'\\n'))";

const mb = (n: number): string => (n / 1024 / 1024).toFixed(1);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

function parent(args: string[]): void {
  const arg = (name: string, def: number): number => {
    const i = args.indexOf(name);
    return i === -1 ? def : Number(args[i + 1]);
  };
  const size = arg("--mb", 10) * 1024 * 1024;
  const runs = arg("--runs", 3);
  const withCli = !args.includes("--no-cli");

  const dir = mkdtempSync(join(tmpdir(), "kimg-bench-"));
  try {
    const { yaml, documents } = generate(size);
    const yamlFile = join(dir, "big.yaml");
    writeFileSync(yamlFile, yaml);
    const bytes = statSync(yamlFile).size;
    const { json, items } = generateJson(size);
    const jsonFile = join(dir, "big.json");
    writeFileSync(jsonFile, json);
    const jsonBytes = statSync(jsonFile).size;
    console.log(
      `node ${process.version}, ${cpus().length}× ${cpus()[0]?.model ?? "cpu"}; ` +
        `YAML stream ${mb(bytes)} MB (${documents} documents, ${yaml.split("\n").length} lines), ` +
        `JSON List ${mb(jsonBytes)} MB (${items} items); median of ${runs} fresh processes`,
    );

    const cases: Array<{ label: string; output: string; file: string; bytes: number }> = [
      { label: "yaml→text", output: "text", file: yamlFile, bytes },
      { label: "yaml→json", output: "json", file: yamlFile, bytes },
      { label: "yaml→yaml", output: "yaml", file: yamlFile, bytes },
      { label: "json→text", output: "text", file: jsonFile, bytes: jsonBytes },
    ];
    for (const { label, output, file, bytes } of cases) {
      const results: Array<{ ms: number; rss: number; warm: Record<string, number> }> = [];
      let info = { code: 0, out: 0, containers: 0, importMs: 0 };
      for (let r = 0; r < runs; r++) {
        const p = spawnSync(process.execPath, ["--import", "tsx", self, "--child", output, file], {
          cwd: root,
          encoding: "utf8",
          maxBuffer: 1 << 26,
        });
        if (p.status !== 0) throw new Error(`child failed: ${p.stderr}`);
        const res = JSON.parse(p.stdout.trim().split("\n").at(-1) ?? "{}");
        results.push(res);
        info = res;
      }
      const ms = median(results.map((x) => x.ms));
      const rss = Math.max(...results.map((x) => x.rss));
      const w = (k: string) => median(results.map((x) => x.warm[k] ?? 0)).toFixed(0);
      console.log(
        `runPolicy ${label.padEnd(9)} ${(ms / 1000).toFixed(2).padStart(6)} s ` +
          `${(bytes / 1024 / 1024 / (ms / 1000)).toFixed(2).padStart(6)} MB/s  peak RSS ${mb(rss)} MB  ` +
          `(exit ${info.code}, ${info.containers} containers, ${mb(info.out)} MB out; ` +
          `warm: load ${w("load")} ms, inspect ${w("inspect")} ms, render ${w("render")} ms)`,
      );
    }

    if (withCli) {
      const bin = join(root, "dist/cli/bin.js");
      if (!existsSync(bin)) {
        console.log("built CLI: dist/cli/bin.js missing (npm run build); skipped");
        return;
      }
      const flags: Record<string, string[]> = { text: [], json: ["--json"], yaml: ["-o", "yaml"] };
      for (const { label, output, file, bytes } of cases) {
        const times: number[] = [];
        let rss = 0;
        let code: number | null = 0;
        for (let r = 0; r < runs; r++) {
          const t0 = performance.now();
          const p = spawnSync(
            process.execPath,
            ["--import", RSS_HOOK, bin, "policy", ...(flags[output] ?? []), file],
            {
              cwd: root,
              encoding: "utf8",
              maxBuffer: 1 << 28,
              env: { ...process.env, NO_COLOR: "1" },
            },
          );
          times.push(performance.now() - t0);
          code = p.status;
          const m = /BENCH_RSS (\d+)/.exec(p.stderr);
          rss = Math.max(rss, Number(m?.[1] ?? 0));
        }
        const ms = median(times);
        console.log(
          `kimg CLI  ${label.padEnd(9)} ${(ms / 1000).toFixed(2).padStart(6)} s ` +
            `${(bytes / 1024 / 1024 / (ms / 1000)).toFixed(2).padStart(6)} MB/s  peak RSS ${mb(rss)} MB  (exit ${code})`,
        );
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === self) {
  const argv = process.argv.slice(2);
  if (argv[0] === "--child") await child(argv[1] ?? "text", argv[2] ?? "");
  else parent(argv);
}
