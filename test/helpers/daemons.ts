// Long-running test peers (etcd, kube-apiserver, containerd, the kubelet…): each in its own
// process group, tracked so a crashed test process still kills them (cleanup.ts), with the
// tail of its output kept for error messages. One helper for the control plane and the node.

import { type ChildProcess, spawn } from "node:child_process";
import { killProcessGroup, trackProcessGroup } from "./cleanup.ts";

const TAIL = 30_000;

export class Daemons {
  readonly #running: { name: string; proc: ChildProcess }[] = [];
  readonly #logs = new Map<string, string>();

  /**
   * Starts `bin` with `args`; its stdout and stderr are kept (the last 30 kB), and each whole
   * line of them goes to `onLine`.
   */
  start(
    name: string,
    bin: string,
    args: readonly string[],
    env?: NodeJS.ProcessEnv,
    onLine?: (line: string) => void,
  ): ChildProcess {
    const proc = spawn(bin, [...args], {
      stdio: ["ignore", "pipe", "pipe"],
      env: env ?? process.env,
      detached: true,
    });
    trackProcessGroup(proc);
    const lineReader = () => {
      let partial = "";
      return (text: string) => {
        if (onLine === undefined) return;
        const lines = (partial + text).split("\n");
        partial = lines.pop() ?? "";
        for (const l of lines) onLine(l);
      };
    };
    const add = (feed: (t: string) => void) => (c: Buffer) => {
      const text = c.toString();
      this.#logs.set(name, ((this.#logs.get(name) ?? "") + text).slice(-TAIL));
      feed(text);
    };
    proc.stdout?.on("data", add(lineReader()));
    proc.stderr?.on("data", add(lineReader()));
    this.#running.push({ name, proc });
    return proc;
  }

  log(name: string): string {
    return this.#logs.get(name) ?? "";
  }

  /** Every daemon's last lines, for an error message. */
  logs(perDaemon = 4000): string {
    return [...this.#logs].map(([k, v]) => `--- ${k}\n${v.slice(-perDaemon)}`).join("\n");
  }

  /** Stops them in reverse start order: SIGTERM to each group, SIGKILL after `graceMs`. */
  async stopAll(graceMs = 10_000): Promise<void> {
    for (const { proc } of this.#running.splice(0).reverse()) {
      await killProcessGroup(proc, graceMs);
    }
  }
}
