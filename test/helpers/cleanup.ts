// Test harness: owns the safety net that keeps tests from leaking processes and temp dirs.
// Every helper that starts a child process or makes a temp dir registers it here; when the test
// process exits (normally, by an uncaught error, or by SIGINT/SIGTERM/SIGHUP) every process group
// still alive is killed with SIGKILL and every temp dir still present is removed, synchronously.
// Tests should still stop what they start in `after()` hooks: this is the net, not the plan.

import type { ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const groups = new Set<number>();
const dirs = new Set<string>();
let installed = false;

function cleanupSync(): void {
  for (const pgid of groups) {
    try {
      process.kill(-pgid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  groups.clear();
  for (const dir of dirs) {
    try {
      rmSync(dir, { recursive: true, force: true });
    } catch {
      // best effort at exit
    }
  }
  dirs.clear();
}

function install(): void {
  if (installed) return;
  installed = true;
  process.on("exit", cleanupSync);
  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    // `once`: after cleaning up, re-raise so the default action (exit by that signal) happens.
    process.once(sig, () => {
      cleanupSync();
      process.kill(process.pid, sig);
    });
  }
}

/**
 * Tracks a child started with `detached: true` (so it leads its own process group) until it
 * exits; at process exit its whole group is killed.
 */
export function trackProcessGroup(child: ChildProcess): void {
  install();
  const pid = child.pid;
  if (pid === undefined) return;
  groups.add(pid);
  child.once("exit", () => groups.delete(pid));
}

/** Kills a tracked process group: SIGTERM, then SIGKILL after `graceMs`. Resolves on exit. */
export async function killProcessGroup(child: ChildProcess, graceMs = 3000): Promise<void> {
  const pid = child.pid;
  if (pid === undefined) return;
  if (child.exitCode !== null || child.signalCode !== null) {
    // The leader is gone; members of its group may not be.
    signalGroup(pid, "SIGKILL");
    groups.delete(pid);
    return;
  }
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  signalGroup(pid, "SIGTERM");
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), graceMs);
  });
  const r = await Promise.race([exited, timedOut]);
  clearTimeout(timer);
  if (r === "timeout") {
    signalGroup(pid, "SIGKILL");
    await exited;
  }
  signalGroup(pid, "SIGKILL"); // stragglers in the group, if any
  groups.delete(pid);
}

function signalGroup(pgid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(-pgid, sig);
  } catch {
    // no such group
  }
}

/** A fresh temp dir (`/tmp/kimg-<prefix>-XXXXXX`), removed at process exit unless removed before. */
export function makeTempDir(prefix: string): string {
  install();
  const dir = mkdtempSync(join(tmpdir(), `kimg-${prefix}-`));
  dirs.add(dir);
  return dir;
}

/** Removes a temp dir made by `makeTempDir` now. */
export function removeTempDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  dirs.delete(dir);
}
