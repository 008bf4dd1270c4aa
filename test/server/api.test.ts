// kimg ui's JSON API, in process: startUiServer on port 0 with a temp store, against the
// harness's real Distribution registry. Every endpoint, its errors, the token, Host and Origin
// checks, the loopback-only bind, static files, and pulls streamed as server-sent events.

import assert from "node:assert/strict";
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { startUiServer, type UiServer } from "../../src/server/index.ts";
import { PullJobs } from "../../src/server/pull-jobs.ts";
import { FsBlobStore } from "../../src/store/index.ts";
import { makeTempDir, removeTempDir } from "../helpers/cleanup.ts";
import { type BuiltImage, buildImage } from "../helpers/images.ts";
import { type Registry, startRegistry } from "../helpers/registry.ts";
import { pushLayout } from "../helpers/skopeo.ts";
import { type RawRequest, readSse, request, type SseStream } from "./helpers.ts";

const TOKEN = "a".repeat(64);

describe("kimg ui API", { timeout: 180_000 }, () => {
  let reg: Registry;
  let imgA: BuiltImage;
  let imgB: BuiltImage;
  let store: string;
  let web: string;
  let outside: string;
  let ui: UiServer;
  let home: string;
  const env = { CONTAINERS_REGISTRIES_CONF: "/dev/null" };

  /** The session cookie of a browser that used the login URL (as the page's fetches send it). */
  let cookie = "";
  const call = (path: string, r: RawRequest = {}) =>
    request(ui.port, path, { ...r, headers: { cookie, ...r.headers } });
  const sse = (path: string) => readSse(ui.port, path, { cookie });
  const withToken = (r: RawRequest): RawRequest => ({
    ...r,
    headers: { "x-kimg-token": TOKEN, ...r.headers },
  });

  before(async () => {
    reg = await startRegistry();
    // Two images sharing their first layer.
    const base = { files: [{ path: "base.txt", content: "shared base layer\n" }] };
    imgA = await buildImage({ layers: [base, { files: [{ path: "a.txt", content: "a\n" }] }] });
    imgB = await buildImage({ layers: [base, { randomBytes: 400_000, gzipLevel: 0 }] });
    await pushLayout(imgA, "ui/a:v1", reg);
    await pushLayout(imgB, "ui/b:v1", reg);
    store = makeTempDir("kimg-ui-store-");
    await FsBlobStore.open(store); // the UI opens a store, it never creates one
    home = makeTempDir("kimg-ui-home-");
    outside = makeTempDir("kimg-ui-outside-");
    writeFileSync(join(outside, "secret.txt"), "secret\n");
    web = makeTempDir("kimg-ui-web-");
    writeFileSync(
      join(web, "index.html"),
      '<!doctype html><meta name="kimg-token" content="__KIMG_TOKEN__"><script type="module" src="/assets/app.js"></script>\n',
    );
    writeFileSync(join(web, "app.js"), "export const x = 1;\n");
    writeFileSync(join(web, "style.css"), "body { color: black; }\n");
    writeFileSync(join(web, ".hidden"), "no\n");
    mkdirSync(join(web, "vendor"));
    writeFileSync(join(web, "vendor", "lib.mjs"), "export default 2;\n");
    symlinkSync(join(outside, "secret.txt"), join(web, "escape.txt"));
    ui = await startUiServer({ port: 0, store, webDir: web, env, homedir: home, token: TOKEN });
    const login = await request(
      ui.port,
      new URL(ui.loginUrl).pathname + new URL(ui.loginUrl).search,
    );
    assert.equal(login.status, 303);
    cookie = String(login.headers["set-cookie"]?.[0] ?? "").split(";")[0] ?? "";
  });
  after(async () => {
    await ui?.close();
    await reg?.stop();
    for (const d of [imgA?.layoutDir, imgB?.layoutDir, store, home, web, outside]) {
      if (d !== undefined) removeTempDir(d);
    }
  });

  describe("binding", () => {
    it("binds 127.0.0.1 when no host is given", () => {
      const a = ui.server.address() as AddressInfo;
      assert.equal(a.address, "127.0.0.1");
      assert.equal(ui.url, `http://127.0.0.1:${a.port}/`);
    });

    it("refuses a non-loopback host unless it is explicit", async () => {
      await assert.rejects(
        startUiServer({ port: 0, host: "0.0.0.0", store, webDir: web, env, homedir: home }),
        (e: Error & { code?: string }) => {
          assert.equal(e.code, "INPUT_INVALID");
          assert.match(e.message, /refusing to listen on 0\.0\.0\.0: not a loopback address/);
          return true;
        },
      );
      const open = await startUiServer({
        port: 0,
        host: "0.0.0.0",
        hostExplicit: true,
        store,
        webDir: web,
        env,
        homedir: home,
      });
      try {
        assert.equal((open.server.address() as AddressInfo).address, "0.0.0.0");
        const r = await request(open.port, "/api/images", {
          headers: { authorization: `Bearer ${open.token}` },
        });
        assert.equal(r.status, 200);
      } finally {
        await open.close();
      }
    });
  });

  it("a port in use is a one-line error", async () => {
    await assert.rejects(
      startUiServer({ port: ui.port, store, webDir: web, env, homedir: home }),
      (e: Error & { code?: string }) => {
        assert.equal(e.code, "INPUT_INVALID");
        assert.equal(
          e.message,
          `cannot listen on 127.0.0.1:${ui.port}: address already in use (--port 0 picks a free port)`,
        );
        return true;
      },
    );
  });

  describe("security", () => {
    it("nothing without a session or the token: page, assets, API reads, posts, streams → 401", async () => {
      const anon = (path: string, r: RawRequest = {}) => request(ui.port, path, r);
      for (const [path, r] of [
        ["/", {}],
        ["/index.html", {}],
        ["/assets/app.js", {}],
        ["/api/images", {}],
        ["/api/images/inspect?ref=x", {}],
        ["/api/parse?ref=nginx", {}],
        ["/api/decide", { method: "POST", body: { image: "nginx" } }],
        ["/api/manifests", { method: "POST", body: { text: "kind: Pod\n" } }],
        ["/api/pull", { method: "POST", body: { ref: "nginx" } }],
        ["/api/images?ref=x", { method: "DELETE" }],
        [`/api/pull/${"0".repeat(32)}/events`, {}],
      ] as const) {
        const res = await anon(path, r as RawRequest);
        assert.equal(res.status, 401, path);
        assert.equal(res.json.error.code, "UNAUTHORIZED", path);
        assert.equal(res.headers["www-authenticate"], 'Bearer realm="kimg ui"');
        assert.doesNotMatch(res.text, new RegExp(TOKEN), "the token never leaks");
      }
      for (const bad of [`${ui.cookieName()}=${"0".repeat(64)}`, `other=${cookie.split("=")[1]}`]) {
        const res = await anon("/api/images", { headers: { cookie: bad } });
        assert.equal(res.status, 401, bad);
      }
      const wrongBearer = await anon("/api/images", { headers: { authorization: "Bearer x" } });
      assert.equal(wrongBearer.status, 401);
      const bearer = await anon("/api/images", { headers: { authorization: `Bearer ${TOKEN}` } });
      assert.equal(bearer.status, 200);
    });

    it("the login code is used once, for an HttpOnly SameSite=Strict cookie; new codes on request", async () => {
      const login = new URL(ui.newLoginUrl());
      assert.match(login.search, /^\?code=[0-9a-f]{64}$/);
      const path = login.pathname + login.search;
      const first = await request(ui.port, path);
      assert.equal(first.status, 303);
      assert.equal(first.headers.location, "/");
      const set = String(first.headers["set-cookie"]?.[0]);
      assert.match(
        set,
        new RegExp(`^${ui.cookieName()}=[0-9a-f]{64}; HttpOnly; SameSite=Strict; Path=/$`),
      );
      assert.ok(!set.includes(TOKEN), "the session is not the token");
      const page = await request(ui.port, "/", { headers: { cookie: set.split(";")[0] ?? "" } });
      assert.equal(page.status, 200);
      assert.ok(page.text.includes(TOKEN), "the page carries the token to logged-in browsers");
      const again = await request(ui.port, path);
      assert.equal(again.status, 403);
      assert.match(again.json.error.message, /this login link is wrong or was already used/);
      assert.equal(again.headers["set-cookie"], undefined);
      const wrong = await request(ui.port, `/?code=${"a".repeat(64)}`);
      assert.equal(wrong.status, 403);
    });

    it("sets CSP, nosniff and no-referrer on every response", async () => {
      for (const path of ["/", "/api/images", "/nope", "/assets/app.js"]) {
        const r = await call(path);
        assert.match(String(r.headers["content-security-policy"]), /default-src 'self'/, path);
        assert.doesNotMatch(String(r.headers["content-security-policy"]), /unsafe-inline/);
        assert.equal(r.headers["x-content-type-options"], "nosniff");
        assert.equal(r.headers["referrer-policy"], "no-referrer");
      }
    });

    it("refuses a Host header that does not name the server (DNS rebinding)", async () => {
      for (const host of ["evil.example", `evil.example:${ui.port}`, "127.0.0.1:1"]) {
        const r = await call("/api/images", { headers: { host } });
        assert.equal(r.status, 403, host);
        assert.equal(r.json.error.code, "FORBIDDEN");
      }
      const page = await call("/", { headers: { host: "evil.example" } });
      assert.equal(page.status, 403);
      assert.doesNotMatch(page.text, new RegExp(TOKEN), "the token never leaks");
      for (const host of [`localhost:${ui.port}`, `127.0.0.1:${ui.port}`]) {
        assert.equal((await call("/api/images", { headers: { host } })).status, 200, host);
      }
    });

    it("refuses a foreign Origin, accepts the page's own", async () => {
      const body = { image: "nginx" };
      const foreign = await call("/api/decide", {
        method: "POST",
        body,
        headers: { origin: "http://evil.example" },
      });
      assert.equal(foreign.status, 403);
      const own = await call("/api/decide", {
        method: "POST",
        body,
        headers: { origin: `http://127.0.0.1:${ui.port}` },
      });
      assert.equal(own.status, 200);
    });

    it("mutating requests need the token: missing or wrong → 403, right → accepted", async () => {
      const pull = { method: "POST", body: { ref: `${reg.host}/ui/a:v1` } };
      const missing = await call("/api/pull", pull);
      assert.equal(missing.status, 403);
      assert.deepEqual(missing.json, {
        error: { code: "FORBIDDEN", message: "missing or wrong X-Kimg-Token" },
      });
      const wrong = await call("/api/pull", {
        ...pull,
        headers: { "x-kimg-token": "b".repeat(64) },
      });
      assert.equal(wrong.status, 403);
      const short = await call("/api/pull", { ...pull, headers: { "x-kimg-token": "a" } });
      assert.equal(short.status, 403);
      const del = await call("/api/images?ref=x", { method: "DELETE" });
      assert.equal(del.status, 403);
      // /api/pin asks registries with the node's credentials: the token too.
      const pinBody = {
        method: "POST",
        body: {
          text: `kind: Pod\nspec: {containers: [{name: a, image: "${reg.host}/ui/a:v1"}]}\n`,
        },
      };
      assert.equal((await call("/api/pin", pinBody)).status, 403);
      const pinned = await call("/api/pin", withToken(pinBody));
      assert.equal(pinned.status, 200, JSON.stringify(pinned.json));
      assert.match(pinned.json.pinnedYaml, new RegExp(`${reg.host}/ui/a:v1@sha256:[0-9a-f]{64}`));
      assert.equal(
        (await call("/api/pin", withToken({ method: "POST", body: { text: 3 } }))).status,
        400,
      );
      const right = await call("/api/pull", withToken(pull));
      assert.equal(right.status, 202);
      const s = await sse(`/api/pull/${right.json.id}/events`);
      assert.equal(s.events.at(-1)?.event, "result");
    });

    it("the page carries the run's token; a random token per server by default", async () => {
      const r = await call("/");
      assert.equal(r.status, 200);
      assert.match(String(r.headers["content-type"]), /^text\/html/);
      assert.ok(r.text.includes(`<meta name="kimg-token" content="${TOKEN}">`));
      const other = await startUiServer({ port: 0, store, webDir: web, env, homedir: home });
      try {
        assert.match(other.token, /^[0-9a-f]{64}$/);
        assert.notEqual(other.token, TOKEN);
        const page = await request(other.port, "/", {
          headers: { authorization: `Bearer ${other.token}` },
        });
        assert.ok(page.text.includes(other.token));
      } finally {
        await other.close();
      }
    });
  });

  describe("static files", () => {
    it("serves assets with content types and ETags (304 when unchanged)", async () => {
      const js = await call("/assets/app.js");
      assert.equal(js.status, 200);
      assert.equal(js.headers["content-type"], "text/javascript; charset=utf-8");
      assert.equal(js.text, "export const x = 1;\n");
      const etag = String(js.headers.etag);
      assert.match(etag, /^"[^"]+"$/);
      const again = await call("/assets/app.js", { headers: { "if-none-match": etag } });
      assert.equal(again.status, 304);
      assert.equal(again.text, "");
      const css = await call("/assets/style.css");
      assert.equal(css.headers["content-type"], "text/css; charset=utf-8");
      const mjs = await call("/assets/vendor/lib.mjs");
      assert.equal(mjs.status, 200);
      assert.equal(mjs.headers["content-type"], "text/javascript; charset=utf-8");
    });

    it("no listings, dot files, traversal or symlinks out of web/", async () => {
      for (const path of [
        "/assets/",
        "/assets/vendor",
        "/assets/vendor/",
        "/assets/.hidden",
        "/assets/../package.json",
        "/assets/%2e%2e/package.json",
        "/assets/vendor/%2e%2e%2f%2e%2e%2fpackage.json",
        "/assets/..%5c..%5cpackage.json",
        "/assets/escape.txt",
        "/assets/app.js%00.txt",
        "/assets/nope.js",
      ]) {
        const r = await call(path);
        assert.equal(r.status, 404, path);
        assert.equal(r.json?.error?.code, "NOT_FOUND", path);
        assert.doesNotMatch(r.text, /secret|"name": "kimg"/, path);
      }
    });

    it("unknown paths are 404, wrong methods 405", async () => {
      assert.equal((await call("/api/nope")).status, 404);
      assert.equal((await call("/favicon.ico")).status, 404);
      const r = await call("/api/parse?ref=x", withToken({ method: "POST" }));
      assert.equal(r.status, 405);
      assert.equal(r.json.error.code, "METHOD_NOT_ALLOWED");
      assert.equal((await call("/api/decide")).status, 405);
    });
  });

  describe("GET /api/parse", () => {
    it("the seed's anatomy, normalized and familiar forms, default policy", async () => {
      const ref = "my-registry.example.com:5000/example/web-example:v1.0.1";
      const r = await call(`/api/parse?ref=${encodeURIComponent(ref)}`);
      assert.equal(r.status, 200);
      assert.equal(r.json.valid, true);
      assert.equal(r.json.registry, "my-registry.example.com");
      assert.equal(r.json.port, "5000");
      assert.equal(r.json.repository, "example");
      assert.equal(r.json.imageName, "web-example");
      assert.equal(r.json.tag, "v1.0.1");
      assert.equal(r.json.defaultPullPolicy, "IfNotPresent");
      assert.equal(r.json.normalized, ref);
      assert.ok(r.json.anatomy !== null);

      const short = await call("/api/parse?ref=nginx");
      assert.equal(short.json.normalized, "docker.io/library/nginx");
      assert.equal(short.json.criImage, "nginx:latest");
      assert.equal(short.json.familiar, "nginx");
      assert.equal(short.json.defaultPullPolicy, "Always");
      assert.equal(short.json.defaultPullPolicyRule, "no-tag");
    });

    it("an invalid reference: 200 with upstream's message", async () => {
      const r = await call("/api/parse?ref=Foo");
      assert.equal(r.status, 200);
      assert.equal(r.json.valid, false);
      assert.deepEqual(r.json.error, {
        code: "REPOSITORY_NOT_LOWERCASE",
        message: "invalid reference format: repository name (library/Foo) must be lowercase",
      });
    });

    it("mode; a missing ref or an unknown mode is 400", async () => {
      const k8s = await call("/api/parse?ref=nginx&mode=k8s");
      assert.equal(k8s.json.mode, "k8s");
      assert.equal(k8s.json.repoToPull, "docker.io/library/nginx");
      const missing = await call("/api/parse");
      assert.equal(missing.status, 400);
      assert.equal(missing.json.error.code, "INPUT_INVALID");
      const mode = await call("/api/parse?ref=nginx&mode=nope");
      assert.equal(mode.status, 400);
      assert.match(mode.json.error.message, /unknown mode "nope"/);
    });
  });

  describe("POST /api/decide", () => {
    const decide = (body: unknown) => call("/api/decide", { method: "POST", body: body as object });

    it("the seed's rules: defaulting and what the kubelet does", async () => {
      const latest = await decide({ image: "nginx", alwaysPullImages: false, present: true });
      assert.equal(latest.status, 200);
      assert.equal(latest.json.effectivePolicy, "Always");
      assert.equal(latest.json.rule, "no-tag");
      assert.match(latest.json.reason, /defaults to "latest" ⇒ Always/);
      assert.equal(latest.json.kubelet.action, "pull");
      assert.deepEqual(latest.json.kubelet.event, {
        type: "Normal",
        reason: "Pulling",
        message: 'Pulling image "nginx"',
      });
      assert.ok(latest.json.findings.some((f: { code: string }) => f.code === "latest-tag"));

      const tagged = await decide({ image: "nginx:1.25", present: true });
      assert.equal(tagged.json.effectivePolicy, "IfNotPresent");
      assert.equal(tagged.json.rule, "other-tag");
      assert.equal(tagged.json.kubelet.action, "use-local");
      assert.equal(tagged.json.kubelet.event.reason, "Pulled");
      assert.ok(tagged.json.findings.some((f: { code: string }) => f.code === "mutable-tag"));
      const absent = await decide({ image: "nginx:1.25", present: false });
      assert.equal(absent.json.kubelet.action, "pull");
    });

    it("Never with the image absent: ErrImageNeverPull", async () => {
      const r = await decide({ image: "nginx:1.25", imagePullPolicy: "Never", present: false });
      assert.equal(r.json.effectivePolicy, "Never");
      assert.equal(r.json.rule, "explicit");
      assert.equal(r.json.kubelet.action, "ErrImageNeverPull");
      assert.deepEqual(r.json.kubelet.waiting, {
        reason: "ErrImageNeverPull",
        message: 'Container image "nginx:1.25" is not present with pull policy of Never',
      });
      assert.ok(r.json.findings.some((f: { code: string }) => f.code === "never-policy"));
    });

    it("AlwaysPullImages turns IfNotPresent into Always", async () => {
      const r = await decide({
        image: "nginx:1.25",
        imagePullPolicy: "IfNotPresent",
        alwaysPullImages: true,
        present: true,
      });
      assert.equal(r.json.defaultedPolicy, "IfNotPresent");
      assert.equal(r.json.effectivePolicy, "Always");
      assert.equal(r.json.admission.changed, true);
      assert.equal(r.json.admission.from, "IfNotPresent");
      assert.equal(r.json.kubelet.action, "pull");
    });

    it("an invalid image: InvalidImageName", async () => {
      const r = await decide({ image: "Nginx", present: true });
      assert.equal(r.status, 200);
      assert.equal(r.json.kubelet.action, "InvalidImageName");
      assert.equal(r.json.kubelet.waiting.reason, "InvalidImageName");
      assert.match(r.json.kubelet.waiting.message, /^Failed to apply default image tag "Nginx": /);
      assert.equal(r.json.findings[0].code, "invalid-image");
    });

    it("bad input is 400", async () => {
      for (const body of [
        { image: 1 },
        {},
        { image: "nginx", imagePullPolicy: "Sometimes" },
        { image: "nginx", present: "yes" },
      ]) {
        const r = await decide(body);
        assert.equal(r.status, 400, JSON.stringify(body));
        assert.equal(r.json.error.code, "INPUT_INVALID");
      }
      const notJson = await call("/api/decide", { method: "POST", body: "{nope" });
      assert.equal(notJson.status, 400);
      assert.match(notJson.json.error.message, /not JSON/);
      const arr = await call("/api/decide", { method: "POST", body: "[1]" });
      assert.equal(arr.status, 400);
      const form = await call("/api/decide", {
        method: "POST",
        body: "image=nginx",
        headers: { "content-type": "application/x-www-form-urlencoded" },
      });
      assert.equal(form.status, 415);
    });
  });

  describe("POST /api/manifests", () => {
    const pod = [
      "apiVersion: v1",
      "kind: Pod",
      "metadata:",
      "  name: web # keep me",
      "spec:",
      "  containers:",
      "  - name: app",
      "    image: nginx:1.25",
      "  - name: side",
      "    image: busybox",
      "    imagePullPolicy: Sometimes",
      "",
    ].join("\n");

    it("the kimg policy --json report plus the defaulted YAML", async () => {
      const r = await call("/api/manifests", { method: "POST", body: { text: pod } });
      assert.equal(r.status, 200);
      assert.equal(r.json.containers.length, 2);
      const [app, side] = r.json.containers;
      assert.equal(app.effectivePolicy, "IfNotPresent");
      assert.equal(app.line, 7);
      assert.equal(app.kubelet.imageAbsent.action, "pull");
      assert.equal(side.effectivePolicy, null);
      assert.match(side.errors[0].message, /Unsupported value: "Sometimes"/);
      assert.equal(r.json.summary.containers, 2);
      assert.ok(r.json.summary.errors >= 1);
      assert.match(r.json.defaultedYaml, /name: web # keep me/);
      assert.match(r.json.defaultedYaml, /image: nginx:1\.25\n\s+imagePullPolicy: IfNotPresent/);
    });

    it("?alwaysPullImages=1 applies the admission plugin to Pods", async () => {
      const r = await call("/api/manifests?alwaysPullImages=1", {
        method: "POST",
        body: { text: pod },
      });
      assert.equal(r.json.containers[0].admission.changed, true);
      assert.equal(r.json.containers[0].storedPolicy, "Always");
      assert.match(r.json.defaultedYaml, /image: nginx:1\.25\n\s+imagePullPolicy: Always/);
    });

    it("YAML syntax errors are 400 with the parser's message; too large is 413", async () => {
      const bad = await call("/api/manifests", {
        method: "POST",
        body: { text: "kind: Pod\nspec: [unclosed\n" },
      });
      assert.equal(bad.status, 400);
      assert.equal(bad.json.error.code, "INPUT_UNREADABLE");
      assert.match(bad.json.error.message, /^manifest:\d+/);
      const missing = await call("/api/manifests", { method: "POST", body: {} });
      assert.equal(missing.status, 400);
      const big = await call("/api/manifests", {
        method: "POST",
        body: { text: `# ${"x".repeat(1024 * 1024)}\n` },
      });
      assert.equal(big.status, 413);
      assert.equal(big.json.error.code, "PAYLOAD_TOO_LARGE");
    });

    it("800 KB of nested brackets, closed or not, and 1001 block levels: 400, never 500 (issue 19.7)", async () => {
      const block = Array.from({ length: 1001 }, (_, i) => `${"  ".repeat(i)}a${i}:`).join("\n");
      for (const text of [
        `a: ${"[".repeat(400_000)}${"]".repeat(400_000)}\n`,
        `a: ${"{".repeat(800_000)}\n`,
        `${block} x\n`,
      ]) {
        const r = await call("/api/manifests", { method: "POST", body: { text } });
        assert.equal(r.status, 400, JSON.stringify(r.json).slice(0, 300));
        assert.equal(r.json.error.code, "INPUT_UNREADABLE");
        assert.match(r.json.error.message, /^manifest:\d+:\d+: exceeded max depth of 1000$/);
      }
      const ok = await call("/api/manifests", { method: "POST", body: { text: "kind: Pod\n" } });
      assert.equal(ok.status, 200, "the server is still up");
    });
  });

  describe("pulls, images, inspect, remove", () => {
    const startPull = (body: object) => call("/api/pull", withToken({ method: "POST", body }));
    const pullEvents = async (body: object): Promise<SseStream> => {
      const r = await startPull(body);
      assert.equal(r.status, 202, r.text);
      assert.match(r.json.id, /^[0-9a-f]{32}$/);
      const s = await sse(`/api/pull/${r.json.id}/events`);
      assert.equal(s.status, 200);
      assert.match(String(s.headers["content-type"]), /^text\/event-stream/);
      return s;
    };

    it("a pull streams progress to done, then result; the image is listed; DELETE removes it", async () => {
      const ref = `${reg.host}/ui/b:v1`;
      const r = await startPull({ ref, policy: "Always" });
      assert.equal(r.status, 202);
      const path = `/api/pull/${r.json.id}/events`;
      const s = await sse(path);
      const kinds = s.events.map((e) => e.event);
      assert.equal(kinds.at(-1), "result");
      assert.ok(kinds.slice(0, -1).every((k) => k === "progress"));
      const progress = s.events.slice(0, -1).map((e) => JSON.parse(e.data));
      assert.equal(progress[0].type, "resolve");
      assert.equal(progress[0].digest, imgB.manifestDigest);
      assert.equal(progress.at(-1).type, "done");
      assert.equal(progress.at(-1).result.digest, imgB.manifestDigest);
      // Every layer is downloaded, or skipped when stored already (the base layer shared with
      // ui/a, pulled by the token test).
      const blobs = progress
        .filter((e) => e.type === "blob-done" || e.type === "blob-skipped")
        .map((e) => e.digest);
      for (const l of imgB.layers) assert.ok(blobs.includes(l.digest), l.digest);
      assert.ok(
        progress.some((e) => e.type === "blob-done" && e.digest === imgB.layers[1]?.digest),
      );
      assert.ok(progress.some((e) => e.type === "blob-progress"));
      const result = JSON.parse(s.events.at(-1)?.data ?? "{}");
      assert.equal(result.action, "pull");
      assert.equal(result.message, `Successfully pulled image "${ref}"`);
      assert.equal(result.image.digest, imgB.manifestDigest);
      // SSE ids increase.
      const ids = s.events.map((e) => Number(e.id));
      assert.deepEqual(
        ids,
        [...ids].sort((a, b) => a - b),
      );

      // A late subscriber gets the same events from the start, then the stream ends.
      // (Kept blob-progress events are coalesced: one per blob, its latest.)
      const late = await sse(path);
      const isProgress = (e: { data: string }) => JSON.parse(e.data).type === "blob-progress";
      assert.deepEqual(
        late.events.filter((e) => !isProgress(e)),
        s.events.filter((e) => !isProgress(e)),
      );
      const lastProgress = new Map<string, string>();
      for (const e of s.events.filter(isProgress))
        lastProgress.set(JSON.parse(e.data).digest, e.data);
      assert.deepEqual(
        late.events
          .filter(isProgress)
          .map((e) => e.data)
          .sort(),
        [...lastProgress.values()].sort(),
      );
      // Last-Event-ID resumes after that event.
      const resumed = await readSse(ui.port, path, {
        cookie,
        "last-event-id": String(ids.at(-2)),
      });
      assert.deepEqual(resumed.events, s.events.slice(-1));

      const images = await call("/api/images");
      assert.equal(images.status, 200);
      const rec = images.json.find((i: { name: string }) => i.name === ref);
      assert.equal(rec.manifestDigest, imgB.manifestDigest);
      assert.equal(typeof rec.size, "number");
      assert.equal(typeof rec.pulledAt, "string");
      assert.equal(typeof rec.lastUsed, "string");

      const inspect = await call(`/api/images/inspect?ref=${encodeURIComponent(ref)}`);
      assert.equal(inspect.status, 200);
      assert.equal(inspect.json.manifestDigest, imgB.manifestDigest);
      assert.equal(inspect.json.configDigest, imgB.configDigest);
      assert.equal(inspect.json.layers.length, 2);
      assert.ok(inspect.json.raw.manifest !== undefined);

      const del = await call(
        `/api/images?ref=${encodeURIComponent(ref)}`,
        withToken({ method: "DELETE" }),
      );
      assert.equal(del.status, 200, del.text);
      assert.equal(del.json.untagged, ref);
      assert.ok(del.json.deleted.includes(imgB.manifestDigest));
      // The layer shared with ui/a stays if ui/a is stored; this one is b's alone.
      assert.ok(del.json.deleted.includes(imgB.layers[1]?.digest));
      const after = await call("/api/images");
      assert.ok(!after.json.some((i: { name: string }) => i.name === ref));
      const again = await call(
        `/api/images?ref=${encodeURIComponent(ref)}`,
        withToken({ method: "DELETE" }),
      );
      assert.equal(again.status, 404);
      assert.equal(again.json.error.code, "IMAGE_NOT_FOUND");
      const gone = await call(`/api/images/inspect?ref=${encodeURIComponent(ref)}`);
      assert.equal(gone.status, 404);
      assert.deepEqual(gone.json.error, {
        code: "IMAGE_NOT_FOUND",
        message: `No such image: ${ref}`,
      });
    });

    it("images report layers shared with other images", async () => {
      const a = `${reg.host}/ui/a:v1`;
      const b = `${reg.host}/ui/b:v1`;
      for (const ref of [a, b]) {
        const s = await pullEvents({ ref });
        assert.equal(s.events.at(-1)?.event, "result", s.events.at(-1)?.data);
      }
      const images = await call("/api/images");
      const byName = new Map(images.json.map((i: { name: string }) => [i.name, i]));
      // biome-ignore lint/suspicious/noExplicitAny: JSON
      const ra = byName.get(a) as any;
      // biome-ignore lint/suspicious/noExplicitAny: JSON
      const rb = byName.get(b) as any;
      assert.equal(ra.sharedLayers, 1);
      assert.deepEqual(ra.sharedWith, [b]);
      assert.equal(rb.sharedLayers, 1);
      const shared = await call(`/api/images/inspect?ref=${encodeURIComponent(a)}`);
      assert.deepEqual(shared.json.layers[0].sharedWith, [b]);
      // An IfNotPresent pull of a stored image uses it.
      const local = await pullEvents({ ref: a });
      const result = JSON.parse(local.events.at(-1)?.data ?? "{}");
      assert.equal(result.action, "use-local");
      assert.equal(result.message, `Container image "${a}" already present on machine`);
      for (const ref of [a, b]) {
        const del = await call(
          `/api/images?ref=${encodeURIComponent(ref)}`,
          withToken({ method: "DELETE" }),
        );
        assert.equal(del.status, 200);
      }
    });

    it("a missing tag ends with an error event: ErrImagePull, manifest unknown", async () => {
      const s = await pullEvents({ ref: `${reg.host}/ui/a:nope` });
      const last = s.events.at(-1);
      assert.equal(last?.event, "error");
      const e = JSON.parse(last?.data ?? "{}");
      assert.equal(e.code, "MANIFEST_UNKNOWN");
      assert.equal(e.reason, "ErrImagePull");
      assert.match(e.message, /manifest unknown/);
    });

    it("Never and absent: ErrImageNeverPull; an unparsable ref: InvalidImageName", async () => {
      const never = await pullEvents({ ref: `${reg.host}/ui/a:v1`, policy: "Never" });
      const ne = JSON.parse(never.events.at(-1)?.data ?? "{}");
      assert.equal(never.events.at(-1)?.event, "error");
      assert.equal(ne.reason, "ErrImageNeverPull");
      assert.equal(ne.code, "ERR_IMAGE_NEVER_PULL");
      assert.equal(
        ne.message,
        `Container image "${reg.host}/ui/a:v1" is not present with pull policy of Never`,
      );
      const bad = await pullEvents({ ref: "Not/Valid" });
      const be = JSON.parse(bad.events.at(-1)?.data ?? "{}");
      assert.equal(be.reason, "InvalidImageName");
      assert.match(be.message, /^Failed to apply default image tag "Not\/Valid": /);
    });

    it("an unreachable registry: ErrImagePull, as on a containerd node", async () => {
      // A port nothing listens on: connection refused on every retry.
      const s = await pullEvents({ ref: "127.0.0.1:1/ui/a:v1", policy: "Always" });
      const e = JSON.parse(s.events.at(-1)?.data ?? "{}");
      assert.equal(e.code, "REGISTRY_UNAVAILABLE");
      assert.equal(e.reason, "ErrImagePull");
      assert.doesNotMatch(e.message, /RegistryUnavailable/);
    });

    it("bad pull requests are 400; an unknown job is 404", async () => {
      for (const body of [{}, { ref: "" }, { ref: 1 }, { ref: "x", policy: "Sometimes" }]) {
        const r = await startPull(body);
        assert.equal(r.status, 400, JSON.stringify(body));
      }
      const r = await call(`/api/pull/${"0".repeat(32)}/events`);
      assert.equal(r.status, 404);
      assert.equal(r.json.error.code, "NOT_FOUND");
      const inspectMissing = await call("/api/images/inspect");
      assert.equal(inspectMissing.status, 400);
      const delInvalid = await call("/api/images?ref=Bad:Ref:", withToken({ method: "DELETE" }));
      assert.equal(delInvalid.status, 400);
    });
  });
});

describe("pull jobs", () => {
  it("coalesce blob-progress per digest and replay in order", () => {
    const jobs = new PullJobs();
    try {
      const job = jobs.create("x");
      assert.ok(job !== undefined);
      jobs.emit(job, "progress", { type: "blob-start", digest: "d1", size: 100 });
      jobs.emit(job, "progress", { type: "blob-start", digest: "d2", size: 100 });
      for (let i = 1; i <= 1000; i++) {
        jobs.emit(job, "progress", { type: "blob-progress", digest: "d1", size: 100, current: i });
        jobs.emit(job, "progress", { type: "blob-progress", digest: "d2", size: 100, current: i });
      }
      assert.equal(job.events.length, 4);
      jobs.emit(job, "progress", { type: "blob-done", digest: "d1", size: 100 });
      jobs.emit(job, "progress", { type: "blob-progress", digest: "d2", size: 100, current: 1001 });
      assert.equal(job.events.length, 5);
      const latest = job.events.map((e) => JSON.parse(e.data));
      assert.deepEqual(
        latest.filter((e) => e.type === "blob-progress").map((e) => [e.digest, e.current]),
        [
          ["d1", 1000],
          ["d2", 1001],
        ],
      );
      jobs.emit(job, "result", { action: "pull" });
      assert.equal(job.done, true);
      jobs.emit(job, "progress", { type: "late" });
      assert.equal(job.events.length, 6, "nothing after the end");
    } finally {
      jobs.close();
    }
  });

  it("forgets a job after it ends; heartbeats open streams", async () => {
    const jobs = new PullJobs({ ttlMs: 50, heartbeatMs: 20 });
    const { createServer } = await import("node:http");
    const srv = createServer((_req, res) => {
      const job = jobs.create("x");
      if (job === undefined) throw new Error("no job");
      jobs.subscribe(job, res);
      setTimeout(() => {
        jobs.emit(job, "error", { reason: "ErrImagePull" });
        setTimeout(() => srv.emit("forgot", jobs.get(job.id)), 150);
      }, 120);
    });
    await new Promise<void>((ok) => srv.listen(0, "127.0.0.1", ok));
    try {
      const port = (srv.address() as AddressInfo).port;
      const forgot = new Promise((ok) => srv.once("forgot", ok));
      const s = await readSse(port, "/");
      assert.ok(s.comments.includes(": ping"), "heartbeat comments");
      assert.deepEqual(
        s.events.map((e) => e.event),
        ["error"],
      );
      assert.equal(await forgot, undefined);
      assert.equal(jobs.size, 0);
    } finally {
      jobs.close();
      srv.close();
    }
  });
});
