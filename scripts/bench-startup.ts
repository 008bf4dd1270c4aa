// Start-up (issue 13): `kimg --version` and `kimg parse nginx` against a bare `node -e 0`, in
// the same run, interleaved round by round so that the machine's drift hits all alike. Each
// command is spawned directly (no /usr/bin/time) and timed from spawn to exit. The installed
// launcher (package.json "bin") runs with its shebang's flags and a code cache warmed by one
// untimed run of each command, in a temporary directory (KIMG_COMPILE_CACHE_DIR).
// BENCH_KIMG_BIN measures another build; BENCH_RUNS sets the rounds (default 40).

import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { median } from "./bench-measure.ts";

const ROOT = join(import.meta.dirname, "..");
const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as {
  bin: { kimg: string };
};
const BIN = process.env.BENCH_KIMG_BIN ?? join(ROOT, pkg.bin.kimg);
const RUNS = Math.max(1, Number(process.env.BENCH_RUNS ?? 40));

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env, stdio: ["ignore", "ignore", "pipe"] });
    let err = "";
    child.stderr.on("data", (b: Buffer) => {
      err += b.toString();
    });
    child.once("error", reject);
    child.once("close", (code) => {
      if (code === 0) resolve(performance.now() - started);
      else reject(new Error(`${cmd} ${args.join(" ")}: exit ${code}\n${err}`));
    });
  });
}

export interface StartupRow {
  readonly name: string;
  readonly median: number;
  readonly min: number;
  readonly max: number;
}

/** Medians, minima and maxima in ms of each command over `runs` interleaved rounds. */
export async function benchStartup(runs = RUNS, bin = BIN): Promise<StartupRow[]> {
  const cache = mkdtempSync(join(tmpdir(), "kimg-bench-cc-"));
  const env = { ...process.env, KIMG_COMPILE_CACHE_DIR: cache };
  const cmds: [string, string, string[]][] = [
    ["node -e 0", process.execPath, ["-e", "0"]],
    ["kimg --version", bin, ["--version"]],
    ["kimg parse nginx", bin, ["parse", "nginx"]],
  ];
  try {
    for (const [, c, a] of cmds) await run(c, a, env); // warm the page cache and code cache
    const times = cmds.map(() => [] as number[]);
    for (let i = 0; i < runs; i++) {
      for (let j = 0; j < cmds.length; j++) {
        const k = (i + j) % cmds.length; // rotate the order each round
        const [, c, a] = cmds[k] as [string, string, string[]];
        (times[k] as number[]).push(await run(c, a, env));
      }
    }
    return cmds.map(([name], k) => {
      const t = times[k] as number[];
      return { name, median: median(t), min: Math.min(...t), max: Math.max(...t) };
    });
  } finally {
    rmSync(cache, { recursive: true, force: true });
  }
}

export function startupTable(rows: readonly StartupRow[]): string {
  const base = rows[0] as StartupRow;
  const ms = (x: number) => `${x.toFixed(1)} ms`;
  const lines = [
    "| command | median | min | max | median − node's | target (≤ 30 ms over node) |",
    "| --- | --- | --- | --- | --- | --- |",
  ];
  for (const r of rows) {
    const d = r.median - base.median;
    const target = r === base ? "–" : d <= 30 ? "yes" : "**no**";
    lines.push(
      `| \`${r.name}\` | ${ms(r.median)} | ${ms(r.min)} | ${ms(r.max)} | ${r === base ? "–" : `+${ms(d)}`} | ${target} |`,
    );
  }
  return lines.join("\n");
}

if (process.argv[1]?.endsWith("bench-startup.ts")) {
  const rows = await benchStartup();
  console.log(`${new Date().toISOString()} ${RUNS} interleaved rounds, kimg: ${BIN}\n`);
  console.log(startupTable(rows));
}
