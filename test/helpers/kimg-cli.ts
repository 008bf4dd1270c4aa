// The built `kimg` (dist/cli/kimg.cjs) as a child process with a hermetic environment: no
// machine-wide registries.conf, no KIMG_STORE, Docker or Podman credentials, colour settings.

import { execFile } from "node:child_process";
import { resolve } from "node:path";

export const KIMG_BIN = resolve(import.meta.dirname, "../../dist/cli/kimg.cjs");

export interface KimgResult {
  /** The exit code; -1 when the process died of a signal. */
  readonly code: number;
  /** The signal that ended it (SIGKILL…), or null. */
  readonly signal: string | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface KimgRunOptions {
  /** Added to (or overriding) the hermetic environment. */
  readonly env?: Readonly<Record<string, string>>;
  /** Killed after this long. Default 120 s. */
  readonly timeoutMs?: number;
}

/** Runs `kimg ARGS…` to completion. */
export function runKimg(args: readonly string[], opts: KimgRunOptions = {}): Promise<KimgResult> {
  const env: NodeJS.ProcessEnv = { ...process.env, CONTAINERS_REGISTRIES_CONF: "/dev/null" };
  for (const k of ["NO_COLOR", "FORCE_COLOR", "KIMG_STORE", "DOCKER_CONFIG", "REGISTRY_AUTH_FILE"])
    delete env[k];
  Object.assign(env, opts.env);
  return new Promise((ok) => {
    execFile(
      process.execPath,
      [KIMG_BIN, ...args],
      { env, encoding: "utf8", timeout: opts.timeoutMs ?? 120_000 },
      (err, stdout, stderr) => {
        const e = err as (Error & { code?: unknown; signal?: string | null }) | null;
        ok({
          code: e === null ? 0 : typeof e.code === "number" ? e.code : -1,
          signal: e?.signal ?? null,
          stdout,
          stderr,
        });
      },
    );
  });
}

/** `kimg pull REF --store STORE --progress json [ARGS…]`: what it resolved and stored. */
export async function kimgPullJson(
  ref: string,
  store: string,
  args: readonly string[] = [],
): Promise<{ resolved: string; manifestDigest: string }> {
  const r = await runKimg(["pull", ref, "--store", store, "--progress", "json", ...args]);
  if (r.code !== 0) throw new Error(`kimg pull ${ref}: exit ${r.code}: ${r.stderr}`);
  const events = r.stdout
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as { type: string; digest?: string; result?: { digest: string } });
  return {
    resolved: events.find((e) => e.type === "resolve")?.digest ?? "",
    manifestDigest: events.find((e) => e.type === "done")?.result?.digest ?? "",
  };
}
