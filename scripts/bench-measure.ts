// What the benchmark scripts share: running one child process to completion and measuring its
// wall time and peak RSS (`/usr/bin/time -f %M`, or polling VmHWM in /proc when `time` is
// missing or BENCH_RSS=proc), and the medians and units of their tables.

import { spawn } from "node:child_process";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { findBinary } from "../test/helpers/exec.ts";

const TIME_BIN =
  process.env.BENCH_RSS !== "proc" &&
  findBinary("time") !== undefined &&
  existsSync("/usr/bin/time");

/** How peak RSS is measured, for the report. */
export const RSS_METHOD = TIME_BIN ? "/usr/bin/time -f %M" : "VmHWM polled in /proc";

export interface Measured {
  wallMs: number;
  /** Peak resident set size in KiB. */
  rssKiB: number;
  stdout: string;
}

function tail(chunks: Buffer[]): string {
  return Buffer.concat(chunks).toString("utf8").slice(-4000);
}

/** VmHWM of a live process in KiB, or undefined when it is gone. */
function vmHwm(pid: number): number | undefined {
  try {
    const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m?.[1] === undefined ? undefined : Number(m[1]);
  } catch {
    return undefined;
  }
}

/** Runs `cmd args…` to completion; rejects on a non-zero exit with its output tail. */
export async function measure(
  cmd: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<Measured> {
  const rssFile = join(tmpdir(), `kimg-bench-rss-${process.pid}-${Date.now()}`);
  const [file, argv] = TIME_BIN
    ? ["/usr/bin/time", ["-f", "%M", "-o", rssFile, cmd, ...args]]
    : [cmd, [...args]];
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  let polled = 0;
  const started = performance.now();
  const child = spawn(file, argv, { env, stdio: ["ignore", "pipe", "pipe"] });
  let outLen = 0;
  child.stdout.on("data", (b: Buffer) => {
    // Keep only the tail: progress lines of a big pull add up.
    out.push(b);
    outLen += b.length;
    while (outLen > 256 * 1024 && out.length > 1) outLen -= (out.shift() as Buffer).length;
  });
  child.stderr.on("data", (b: Buffer) => err.push(b));
  const timer = TIME_BIN
    ? undefined
    : setInterval(() => {
        const v = child.pid === undefined ? undefined : vmHwm(child.pid);
        if (v !== undefined) polled = Math.max(polled, v);
      }, 5);
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((res, rej) => {
    child.once("error", rej);
    child.once("close", (c, s) => res([c, s]));
  });
  const wallMs = performance.now() - started;
  if (timer !== undefined) clearInterval(timer);
  if (code !== 0) {
    rmSync(rssFile, { force: true });
    throw new Error(
      `${cmd} ${args.join(" ")}: ${signal ?? `exit ${code}`}\n${tail(err)}\n${tail(out)}`,
    );
  }
  let rssKiB = polled;
  if (TIME_BIN) {
    rssKiB = Number((await readFile(rssFile, "utf8")).trim().split("\n").pop());
    rmSync(rssFile, { force: true });
  }
  return { wallMs, rssKiB, stdout: tail(out) };
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1
    ? (s[mid] as number)
    : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}
export const secs = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;
export const rss = (kib: number): string => `${(kib / 1024).toFixed(0)} MiB`;
