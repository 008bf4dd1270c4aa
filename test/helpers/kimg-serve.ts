// `kimg serve` as a child process (the built CLI), in its own process group: resolves once it
// logs `listening on URL`, with the URL, the `host:port` for references and its stderr so far.

import { type ChildProcess, spawn } from "node:child_process";
import { trackProcessGroup } from "./cleanup.ts";
import { KIMG_BIN } from "./kimg-cli.ts";

export interface KimgServe {
  readonly child: ChildProcess;
  readonly url: string;
  readonly host: string;
  /** Standard error so far (the ready line, access log lines). */
  err(): string;
}

export async function startKimgServe(
  store: string,
  extra: readonly string[] = [],
): Promise<KimgServe> {
  const child = spawn(
    process.execPath,
    [KIMG_BIN, "serve", "--store", store, "--listen", "127.0.0.1:0", ...extra],
    { detached: true, stdio: ["ignore", "ignore", "pipe"] },
  );
  trackProcessGroup(child);
  let err = "";
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`kimg serve printed no URL: ${err}`)), 15_000);
    child.stderr?.on("data", (c) => {
      err += c;
      const m = /^listening on (http:\/\/127\.0\.0\.1:\d+)$/m.exec(err);
      if (m?.[1] !== undefined) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`kimg serve exited ${code}: ${err}`));
    });
  });
  return { child, url, host: url.replace("http://", ""), err: () => err };
}
