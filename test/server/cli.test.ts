// `kimg ui` as a process (the built binary, dist/): prints its one-time login URL, serves the
// page with its token to a logged-in browser only, stops on SIGTERM; binds loopback by default
// and another address only with --host; another local user (runuser -u nobody, curl) can read
// and change nothing (issue 19 item 3).

import assert from "node:assert/strict";
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { chmodSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { networkInterfaces } from "node:os";
import { dirname, join, resolve } from "node:path";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { FsBlobStore } from "../../src/store/index.ts";
import {
  killProcessGroup,
  makeTempDir,
  removeTempDir,
  trackProcessGroup,
} from "../helpers/cleanup.ts";
import { request } from "./helpers.ts";

const BIN = resolve(import.meta.dirname, "../../dist/cli/kimg.cjs");

interface Running {
  child: ChildProcess;
  url: string;
  port: number;
  /** The login URL's path and query (`/?code=…`). */
  loginPath: string;
  stdout: () => string;
  stderr: () => string;
}

/** Uses a login path once: the session cookie ("name=value"). */
async function login(port: number, loginPath: string): Promise<string> {
  const r = await request(port, loginPath);
  assert.equal(r.status, 303, r.text);
  return String(r.headers["set-cookie"]?.[0] ?? "").split(";")[0] ?? "";
}

/** Starts `kimg ui ARGS` and waits for its URL line. */
function startUi(args: string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<Running> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    CONTAINERS_REGISTRIES_CONF: "/dev/null",
    ...extraEnv,
  };
  delete env.KIMG_STORE;
  const child = spawn(process.execPath, [BIN, "ui", ...args], {
    env,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  trackProcessGroup(child);
  let out = "";
  let err = "";
  child.stderr?.setEncoding("utf8").on("data", (c: string) => {
    err += c;
  });
  return new Promise((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`no URL line; stderr: ${err}`)), 15_000);
    child.stdout?.setEncoding("utf8").on("data", (c: string) => {
      out += c;
      const m = /^kimg ui: (http:\/\/(?:[^/]+):(\d+)\/)(\?code=[0-9a-f]{64})\n/.exec(out);
      if (m !== null) {
        clearTimeout(timer);
        ok({
          child,
          url: m[1] ?? "",
          port: Number(m[2]),
          loginPath: `/${m[3]}`,
          stdout: () => out,
          stderr: () => err,
        });
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      fail(new Error(`kimg ui exited with ${code}: ${err}`));
    });
  });
}

function exitOf(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((ok) => child.once("exit", (code) => ok(code)));
}

/** A non-internal IPv4 address of this machine, if it has one. */
function externalAddress(): string | undefined {
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === "IPv4" && !a.internal) return a.address;
  }
  return undefined;
}

describe("kimg ui (CLI)", { timeout: 60_000 }, () => {
  const store = makeTempDir("kimg-ui-cli-store-");
  const running: ChildProcess[] = [];
  before(async () => {
    await FsBlobStore.open(store); // the UI opens a store, it never creates one
  });
  after(async () => {
    for (const c of running) await killProcessGroup(c);
    removeTempDir(store);
  });

  it("--port 0 prints the login URL, serves the page with its token once logged in, stops on SIGTERM", async () => {
    const ui = await startUi(["--port", "0", "--store", store]);
    running.push(ui.child);
    assert.match(ui.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
    assert.equal((await request(ui.port, "/")).status, 401);
    const cookie = await login(ui.port, ui.loginPath);
    const get = (path: string, r: Parameters<typeof request>[2] = {}) =>
      request(ui.port, path, { ...r, headers: { cookie, ...r.headers } });
    const page = await get("/");
    assert.equal(page.status, 200);
    assert.match(String(page.headers["content-type"]), /^text\/html/);
    const token = /<meta name="kimg-token" content="([0-9a-f]{64})">/.exec(page.text)?.[1];
    assert.ok(token !== undefined, "the page carries a token");
    assert.match(String(page.headers["content-security-policy"]), /default-src 'self'/);
    // Every script and stylesheet the page names is served by kimg itself.
    const assets = [...page.text.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((m) => m[1]);
    assert.ok(assets.length > 0, "the page uses kimg's own assets");
    for (const a of assets) {
      const r = await get(a ?? "");
      assert.equal(r.status, 200, a);
    }
    const images = await get("/api/images");
    assert.equal(images.status, 200);
    assert.deepEqual(images.json, []);
    const refused = await get("/api/pull", { method: "POST", body: { ref: "nginx" } });
    assert.equal(refused.status, 403, "a session alone does not mutate: X-Kimg-Token too");
    // The code is spent; SIGHUP prints a fresh one.
    assert.equal((await request(ui.port, ui.loginPath)).status, 403);
    ui.child.kill("SIGHUP");
    let fresh: string | undefined;
    for (let i = 0; i < 200 && fresh === undefined; i++) {
      await sleep(25);
      fresh = [
        ...ui.stdout().matchAll(/kimg ui: http:\/\/[^/]+(\/\?code=[0-9a-f]{64})\n/g),
      ][1]?.[1];
    }
    assert.ok(fresh !== undefined && fresh !== ui.loginPath, ui.stdout());
    await login(ui.port, fresh);

    ui.child.kill("SIGTERM");
    assert.equal(await exitOf(ui.child), 0);
  });

  it("binds 127.0.0.1 only by default; --host 0.0.0.0 only when given", async () => {
    const ext = externalAddress();
    const local = await startUi(["--port", "0", "--store", store]);
    running.push(local.child);
    if (ext !== undefined) {
      await assert.rejects(request(local.port, "/api/images", { address: ext }), /ECONNREFUSED/);
    }
    local.child.kill("SIGTERM");
    await exitOf(local.child);

    const open = await startUi(["--port", "0", "--host", "0.0.0.0", "--store", store]);
    running.push(open.child);
    assert.match(open.url, /^http:\/\/0\.0\.0\.0:\d+\/$/);
    for (let i = 0; i < 100 && open.stderr() === ""; i++) await sleep(20);
    assert.match(open.stderr(), /warning: listening on 0\.0\.0\.0/);
    assert.equal((await request(open.port, "/api/images")).status, 401);
    const cookie = await login(open.port, open.loginPath);
    assert.equal((await request(open.port, "/api/images", { headers: { cookie } })).status, 200);
    if (ext !== undefined) {
      const r = await request(open.port, "/api/images", {
        address: ext,
        headers: { host: `${ext}:${open.port}`, cookie },
      });
      assert.equal(r.status, 200);
      // Still no foreign names (DNS rebinding).
      const evil = await request(open.port, "/api/images", {
        address: ext,
        headers: { host: `evil.example:${open.port}` },
      });
      assert.equal(evil.status, 403);
    }
    open.child.kill("SIGTERM");
    assert.equal(await exitOf(open.child), 0);
  });

  it("another local user (runuser -u nobody, curl) can read and change nothing", async () => {
    assert.equal(process.getuid?.(), 0, "runs as root (CI does): it needs a real other user");
    // --open with a stand-in xdg-open that records its argv: the login code must not be in any
    // process's argv (readable by all in /proc), only in a file only root can read.
    const bin = makeTempDir("kimg-ui-fakebin-");
    const argvFile = join(bin, "argv");
    writeFileSync(join(bin, "xdg-open"), `#!/bin/sh\nprintf '%s' "$*" > '${argvFile}'\n`);
    chmodSync(join(bin, "xdg-open"), 0o755);
    try {
      const ui = await startUi(["--port", "0", "--store", store, "--open"], {
        PATH: `${bin}:${process.env.PATH ?? ""}`,
      });
      running.push(ui.child);
      let opened = "";
      for (let i = 0; i < 200 && opened === ""; i++) {
        await sleep(25);
        try {
          opened = readFileSync(argvFile, "utf8");
        } catch {}
      }
      assert.doesNotMatch(opened, /code=/, "xdg-open's argv carries no login code");
      assert.equal(statSync(opened).mode & 0o777, 0o600);
      assert.equal(statSync(dirname(opened)).mode & 0o777, 0o700);
      assert.ok(readFileSync(opened, "utf8").includes(ui.loginPath.slice(1)));

      const curl = (...args: string[]): { code: number; out: string } => {
        try {
          const out = execFileSync("runuser", ["-u", "nobody", "--", "curl", "-sS", ...args], {
            encoding: "utf8",
            stdio: ["ignore", "pipe", "pipe"],
          });
          return { code: 0, out };
        } catch (e) {
          const x = e as { status?: number; stdout?: string; stderr?: string };
          return { code: x.status ?? -1, out: `${x.stdout ?? ""}${x.stderr ?? ""}` };
        }
      };
      const base = `http://127.0.0.1:${ui.port}`;
      const status = (...args: string[]): string =>
        curl("-o", "/dev/null", "-w", "%{http_code}", ...args).out;
      const page = curl("-i", `${base}/`);
      assert.match(page.out, /^HTTP\/1\.1 401 /);
      assert.doesNotMatch(page.out, /kimg-token" content="[0-9a-f]{64}/);
      assert.equal(status(`${base}/api/images`), "401");
      assert.equal(status(`${base}/assets/app.js`), "401");
      assert.equal(
        status(
          "-X",
          "POST",
          "-H",
          "content-type: application/json",
          "--data",
          '{"ref":"nginx"}',
          `${base}/api/pull`,
        ),
        "401",
      );
      assert.equal(status("-X", "DELETE", `${base}/api/images?ref=nginx`), "401");
      assert.equal(status(`${base}/?code=${"0".repeat(64)}`), "403");
      const read = (() => {
        try {
          execFileSync("runuser", ["-u", "nobody", "--", "cat", opened], { stdio: "pipe" });
          return "read";
        } catch (e) {
          return String((e as { stderr?: Buffer }).stderr ?? "");
        }
      })();
      assert.match(read, /Permission denied/, "nobody cannot read the login file");
      // The owner's browser still logs in with the code nobody could not see.
      const cookie = await login(ui.port, ui.loginPath);
      assert.equal((await request(ui.port, "/api/images", { headers: { cookie } })).status, 200);
      ui.child.kill("SIGTERM");
      assert.equal(await exitOf(ui.child), 0);
      assert.throws(() => statSync(opened), /ENOENT/, "the login file is removed on exit");
    } finally {
      removeTempDir(bin);
    }
  });

  it("a bad --port is a usage error", async () => {
    const child = spawn(process.execPath, [BIN, "ui", "--port", "nope"], { stdio: "pipe" });
    let err = "";
    child.stderr.setEncoding("utf8").on("data", (c: string) => {
      err += c;
    });
    assert.equal(await exitOf(child), 2);
    assert.match(err, /--port must be 0…65535, got nope/);
  });
});
