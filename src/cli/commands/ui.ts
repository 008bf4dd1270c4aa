// `kimg ui`: starts the web UI's server (src/server), prints its one-time login URL, serves until
// SIGINT or SIGTERM. Loopback only unless --host is given explicitly.
//
// The browser is opened on a 0600 file in a 0700 directory that redirects to the login URL, as
// Jupyter does (jpserver-PID-open.html): a URL in xdg-open's or the browser's argv would be
// readable by every local user in /proc/PID/cmdline, who could use the code first.

import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startUiServer } from "../../server/index.ts";
import { type CliIO, EXIT } from "../io.ts";

export interface UiFlags {
  readonly port: number;
  /** Only set when the user typed --host (the only way to bind a non-loopback address). */
  readonly host?: string | undefined;
  readonly store?: string | undefined;
  readonly open: boolean;
  readonly insecureHosts: readonly string[];
  readonly registriesConf?: string | undefined;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly homedir: string;
}

/** A private file that sends the browser to `url`; returns its path and how to remove it. */
function redirectFile(url: string): { path: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), "kimg-ui-"));
  const path = join(dir, "open.html");
  const attr = url.replaceAll("&", "&amp;").replaceAll('"', "&quot;");
  writeFileSync(
    path,
    `<!doctype html><meta charset="utf-8"><meta http-equiv="refresh" content="0;url=${attr}"><title>kimg ui</title><p><a href="${attr}">Open kimg ui</a></p>\n`,
    { mode: 0o600 },
  );
  return { path, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Opens `target` (a file path) in the desktop's browser; failures are only reported. */
function openBrowser(target: string, io: CliIO): void {
  const cmd =
    process.platform === "darwin" ? "open" : process.platform === "win32" ? "explorer" : "xdg-open";
  try {
    const child = spawn(cmd, [target], { stdio: "ignore", detached: true });
    child.on("error", () => io.stderr.write(`kimg: warning: could not open a browser (${cmd})\n`));
    child.unref();
  } catch {
    io.stderr.write(`kimg: warning: could not open a browser (${cmd})\n`);
  }
}

export async function runUi(f: UiFlags, io: CliIO): Promise<number> {
  const ui = await startUiServer({
    port: f.port,
    ...(f.host !== undefined ? { host: f.host, hostExplicit: true } : {}),
    store: f.store,
    insecureHosts: f.insecureHosts,
    registriesConf: f.registriesConf,
    env: f.env,
    homedir: f.homedir,
  });
  if (f.host !== undefined && !/^(127\.|localhost$|::1$|\[::1\]$)/.test(f.host)) {
    io.stderr.write(
      `kimg: warning: listening on ${f.host}, reachable from other machines; only the login code and the session cookie guard it, over plain HTTP\n`,
    );
  }
  io.stdout.write(`kimg ui: ${ui.loginUrl}\n`);
  io.stdout.write(
    `kimg ui: the link logs one browser in, once; \`kill -HUP ${process.pid}\` prints another\n`,
  );
  const opened = f.open ? redirectFile(ui.loginUrl) : undefined;
  if (opened !== undefined) openBrowser(opened.path, io);
  const another = (): void => {
    io.stdout.write(`kimg ui: ${ui.newLoginUrl()}\n`);
  };
  process.on("SIGHUP", another);
  await new Promise<void>((done) => {
    const stop = (): void => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      process.off("SIGHUP", another);
      opened?.remove();
      ui.close().then(done, done);
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
  return EXIT.OK;
}
