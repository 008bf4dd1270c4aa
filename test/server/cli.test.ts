// `kimg ui` as a process (the built binary, dist/): prints its URL, serves the page with its
// token, stops on SIGTERM; binds loopback by default and another address only with --host.

import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { networkInterfaces } from "node:os";
import { resolve } from "node:path";
import { after, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import {
  killProcessGroup,
  makeTempDir,
  removeTempDir,
  trackProcessGroup,
} from "../helpers/cleanup.ts";
import { request } from "./helpers.ts";

const BIN = resolve(import.meta.dirname, "../../dist/cli/bin.js");

interface Running {
  child: ChildProcess;
  url: string;
  port: number;
  stderr: () => string;
}

/** Starts `kimg ui ARGS` and waits for its URL line. */
function startUi(args: string[]): Promise<Running> {
  const env: NodeJS.ProcessEnv = { ...process.env, CONTAINERS_REGISTRIES_CONF: "/dev/null" };
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
      const m = /^kimg ui: (http:\/\/(?:[^/]+):(\d+)\/)\n/.exec(out);
      if (m !== null) {
        clearTimeout(timer);
        ok({ child, url: m[1] ?? "", port: Number(m[2]), stderr: () => err });
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
  after(async () => {
    for (const c of running) await killProcessGroup(c);
    removeTempDir(store);
  });

  it("--port 0 prints the URL, serves the page with its token, stops on SIGTERM", async () => {
    const ui = await startUi(["--port", "0", "--store", store]);
    running.push(ui.child);
    assert.match(ui.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
    const page = await request(ui.port, "/");
    assert.equal(page.status, 200);
    assert.match(String(page.headers["content-type"]), /^text\/html/);
    const token = /<meta name="kimg-token" content="([0-9a-f]{64})">/.exec(page.text)?.[1];
    assert.ok(token !== undefined, "the page carries a token");
    assert.match(String(page.headers["content-security-policy"]), /default-src 'self'/);
    // Every script and stylesheet the page names is served by kimg itself.
    const assets = [...page.text.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((m) => m[1]);
    assert.ok(assets.length > 0, "the page uses kimg's own assets");
    for (const a of assets) {
      const r = await request(ui.port, a ?? "");
      assert.equal(r.status, 200, a);
    }
    const images = await request(ui.port, "/api/images");
    assert.equal(images.status, 200);
    assert.deepEqual(images.json, []);
    const refused = await request(ui.port, "/api/pull", {
      method: "POST",
      body: { ref: "nginx" },
    });
    assert.equal(refused.status, 403);

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
    assert.equal((await request(open.port, "/api/images")).status, 200);
    if (ext !== undefined) {
      const r = await request(open.port, "/api/images", {
        address: ext,
        headers: { host: `${ext}:${open.port}` },
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
