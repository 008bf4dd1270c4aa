// `kimg ui`: starts the web UI's server (src/server), prints its URL, serves until SIGINT or
// SIGTERM. Loopback only unless --host is given explicitly.

import { spawn } from "node:child_process";
import { startUiServer } from "../../server/index.ts";
import { type CliIO, EXIT } from "../io.ts";

export interface UiFlags {
  readonly port: number;
  /** Only set when the user typed --host (the only way to bind a non-loopback address). */
  readonly host?: string;
  readonly store?: string;
  readonly open: boolean;
  readonly insecureHosts: readonly string[];
  readonly registriesConf?: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly homedir: string;
}

/** Opens `url` in the desktop's browser; failures are only reported. */
function openBrowser(url: string, io: CliIO): void {
  const cmd =
    process.platform === "darwin" ? "open" : process.platform === "win32" ? "explorer" : "xdg-open";
  try {
    const child = spawn(cmd, [url], { stdio: "ignore", detached: true });
    child.on("error", () => io.stderr.write(`kimg ui: could not open a browser (${cmd})\n`));
    child.unref();
  } catch {
    io.stderr.write(`kimg ui: could not open a browser (${cmd})\n`);
  }
}

export async function runUi(f: UiFlags, io: CliIO): Promise<number> {
  const ui = await startUiServer({
    port: f.port,
    ...(f.host !== undefined ? { host: f.host, hostExplicit: true } : {}),
    ...(f.store !== undefined ? { store: f.store } : {}),
    insecureHosts: f.insecureHosts,
    ...(f.registriesConf !== undefined ? { registriesConf: f.registriesConf } : {}),
    env: f.env,
    homedir: f.homedir,
  });
  if (f.host !== undefined && !/^(127\.|localhost$|::1$|\[::1\]$)/.test(f.host)) {
    io.stderr.write(
      `kimg ui: warning: listening on ${f.host}, reachable from other machines; only the page's token guards pulls and removals\n`,
    );
  }
  io.stdout.write(`kimg ui: ${ui.url}\n`);
  if (f.open) openBrowser(ui.url, io);
  await new Promise<void>((done) => {
    const stop = (): void => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      ui.close().then(done, done);
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
  return EXIT.OK;
}
