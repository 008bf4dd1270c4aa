// runBounded(): one credential program (a docker-credential-<name> helper, a kubelet
// credential-provider plugin) run with a request on stdin, bounded in time and output. The one
// runner both use (issue 11: each had its own copy). It never rejects: the caller turns each
// outcome into its own protocol's error text.
//
// Bounds (neither docker nor the kubelet has all of them; docs/security.md):
// - its own process group, SIGKILLed as a whole on timeout, overflow or abort, so a helper's
//   children die with it (Go's CommandContext kills only the process);
// - stdout capped at `stdoutMax`; stderr kept up to `stderrMax` bytes (0: not read at all);
// - an AbortSignal stops it at once.

import { spawn } from "node:child_process";

export interface RunBoundedOptions {
  readonly program: string;
  readonly args: readonly string[];
  /** Written to stdin, which is then closed. */
  readonly input: string;
  readonly env: NodeJS.ProcessEnv;
  readonly timeoutMs: number;
  readonly stdoutMax: number;
  /** Bytes of stderr to keep; 0 (default) leaves stderr unread (`ignore`). */
  readonly stderrMax?: number | undefined;
  readonly signal?: AbortSignal | undefined;
}

export type BoundedOutcome =
  | {
      readonly kind: "exit";
      readonly code: number | null;
      readonly signal: NodeJS.Signals | null;
      readonly stdout: string;
      readonly stderr: string;
    }
  | { readonly kind: "timeout"; readonly stderr: string }
  | { readonly kind: "overflow"; readonly stderr: string }
  | { readonly kind: "aborted"; readonly stderr: string }
  | { readonly kind: "spawn-error"; readonly error: NodeJS.ErrnoException };

export function runBounded(o: RunBoundedOptions): Promise<BoundedOutcome> {
  const stderrMax = o.stderrMax ?? 0;
  return new Promise((resolve) => {
    if (o.signal?.aborted === true) {
      resolve({ kind: "aborted", stderr: "" });
      return;
    }
    let child: ReturnType<typeof spawn>;
    try {
      child = spawn(o.program, [...o.args], {
        env: o.env,
        stdio: ["pipe", "pipe", stderrMax > 0 ? "pipe" : "ignore"],
        detached: true, // its own process group: a kill reaches what it started
      });
    } catch (e) {
      resolve({ kind: "spawn-error", error: e as NodeJS.ErrnoException });
      return;
    }
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let outSize = 0;
    let errSize = 0;
    let done = false;
    const stderrText = () => Buffer.concat(err).toString("utf8");
    const finish = (outcome: BoundedOutcome) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      o.signal?.removeEventListener("abort", onAbort);
      resolve(outcome);
    };
    const kill = () => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
      } catch {
        child.kill("SIGKILL");
      }
    };
    const stop = (kind: "timeout" | "overflow" | "aborted") => {
      kill();
      finish({ kind, stderr: stderrText() });
    };
    const timer = setTimeout(() => stop("timeout"), o.timeoutMs);
    const onAbort = () => stop("aborted");
    o.signal?.addEventListener("abort", onAbort, { once: true });
    child.on("error", (e: NodeJS.ErrnoException) => finish({ kind: "spawn-error", error: e }));
    child.stdout?.on("data", (c: Buffer) => {
      outSize += c.length;
      if (outSize > o.stdoutMax) stop("overflow");
      else out.push(c);
    });
    child.stderr?.on("data", (c: Buffer) => {
      if (errSize < stderrMax) err.push(c.subarray(0, stderrMax - errSize));
      errSize += c.length;
    });
    child.stdin?.on("error", () => {
      // the program may exit without reading its input; its exit status tells the story
    });
    child.stdin?.end(o.input);
    child.on("close", (code, signal) =>
      finish({
        kind: "exit",
        code,
        signal,
        stdout: Buffer.concat(out).toString("utf8"),
        stderr: stderrText(),
      }),
    );
  });
}
