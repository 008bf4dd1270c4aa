// Test harness: owns running external tools (docker-registry, skopeo, umoci, htpasswd, openssl)
// from tests: finding them on PATH with an error that says how to get them, and running them to
// completion with their output captured and put into the error when they fail.

import { spawn } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";

/** Debian package that provides each tool the harness uses. */
const PACKAGE_OF: Readonly<Record<string, string>> = {
  "docker-registry": "docker-registry",
  skopeo: "skopeo",
  umoci: "umoci",
  htpasswd: "apache2-utils",
  openssl: "openssl",
  podman: "podman",
  ctr: "containerd",
  containerd: "containerd",
};

/** Absolute path of `name` on PATH, or undefined. */
export function findBinary(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (dir === "") continue;
    const p = join(dir, name);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Absolute path of `name`, or a clear error naming the Debian package and `.ci/run`. */
export function requireBinary(name: string): string {
  const found = findBinary(name);
  if (found !== undefined) return found;
  const pkg = PACKAGE_OF[name] ?? name;
  throw new Error(
    `${name} is not installed (not on PATH). The registry tests need it: .ci/run installs it ` +
      `(Debian package "${pkg}"); on a dev machine run: apt-get update && apt-get install -y ${pkg}`,
  );
}

export interface RunResult {
  stdout: string;
  stderr: string;
  ms: number;
}

export interface RunOptions {
  input?: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  timeoutMs?: number;
}

/**
 * Runs `cmd args…` to completion. Rejects, with the command line, exit status and stderr in the
 * message, when it exits non-zero, is killed, or runs longer than `timeoutMs` (default 120 s).
 */
export function run(
  cmd: string,
  args: readonly string[],
  opts: RunOptions = {},
): Promise<RunResult> {
  const bin = requireBinary(cmd);
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: [opts.input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
    });
    // A tool that exits without reading its input must not turn into an EPIPE error.
    child.stdin?.on("error", () => {});
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout?.on("data", (b: Buffer) => out.push(b));
    child.stderr?.on("data", (b: Buffer) => err.push(b));
    const timeoutMs = opts.timeoutMs ?? 120_000;
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, timeoutMs);
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(new Error(`${cmd}: could not start ${bin}: ${e.message}`));
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      const stdout = Buffer.concat(out).toString("utf8");
      const stderr = Buffer.concat(err).toString("utf8");
      const ms = performance.now() - started;
      if (code === 0) {
        resolve({ stdout, stderr, ms });
        return;
      }
      const why = timedOut
        ? `timed out after ${timeoutMs} ms`
        : signal !== null
          ? `killed by ${signal}`
          : `exit status ${code}`;
      reject(
        new Error(
          `${cmd} ${args.map(quote).join(" ")} failed (${why})\n--- stderr ---\n${stderr.trim()}` +
            (stdout.trim() === "" ? "" : `\n--- stdout ---\n${stdout.trim().slice(0, 4000)}`),
        ),
      );
    });
    child.stdin?.end(opts.input);
  });
}

function quote(a: string): string {
  return /^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replaceAll("'", `'\\''`)}'`;
}

/** A copy of the environment without the keys for which `drop` is true. */
export function envWithout(drop: (key: string) => boolean): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!drop(k)) env[k] = v;
  }
  return env;
}
