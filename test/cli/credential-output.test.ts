// Issue 18 item 1: what a failing credential helper or provider plugin prints may be a secret,
// and kimg never shows it — not in `kimg pull` (plain or JSON progress), not in `kimg run`
// (describe output, JSON events, warnings), not in the web UI's API answers or event streams,
// not in the store's files. Only `--debug` prints it, after a warning line. A real htpasswd
// Distribution registry; a docker-credential-evil named by credHelpers in config.json, and a
// kubelet credential provider plugin, both printing the secret and exiting 1.

import assert from "node:assert/strict";
import { chmodSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { startUiServer } from "../../src/server/index.ts";
import { FsBlobStore } from "../../src/store/index.ts";
import { makeTempDir, removeTempDir } from "../helpers/cleanup.ts";
import { type BuiltImage, buildImage } from "../helpers/images.ts";
import { runKimg } from "../helpers/kimg-cli.ts";
import { type Registry, startRegistry } from "../helpers/registry.ts";
import { pushLayout } from "../helpers/skopeo.ts";
import { readSse, request } from "../server/helpers.ts";

const SECRET = "B0bPrivatePass#77";
const ALICE = { user: "alice", pass: "Al1ce-cred-out" };

/** Every file under `dir`, read as text: none may hold the secret. */
function assertNotInFiles(dir: string): void {
  const walk = (d: string): void => {
    for (const n of readdirSync(d)) {
      const p = join(d, n);
      const st = statSync(p);
      if (st.isDirectory()) walk(p);
      else assert.ok(!readFileSync(p, "latin1").includes(SECRET), `the secret is in ${p}`);
    }
  };
  walk(dir);
}

describe("a failing helper's or plugin's output is never shown", { timeout: 180_000 }, () => {
  let reg: Registry;
  let img: BuiltImage;
  let work: string;
  let bin: string;
  let dockerConfig: string;
  let ref: string;

  const env = () => ({
    PATH: `${bin}:${process.env.PATH ?? ""}`,
    DOCKER_CONFIG: dockerConfig,
    HOME: work,
  });
  const noSecret = (what: string, text: string): void => {
    assert.ok(!text.includes(SECRET), `${what} holds the secret:\n${text}`);
    assert.ok(!text.includes("expired for bob"), `${what} holds the helper's output`);
  };

  before(async () => {
    work = makeTempDir("kimg-cred-out-");
    bin = join(work, "bin");
    mkdirSync(bin);
    // The helper and the plugin print the secret and fail.
    writeFileSync(
      join(bin, "docker-credential-evil"),
      `#!/bin/sh\ncat >/dev/null\necho "token ${SECRET} expired for bob"\nexit 1\n`,
    );
    writeFileSync(
      join(bin, "evil-plugin"),
      `#!/bin/sh\ncat >/dev/null\necho "token ${SECRET} expired for bob" >&2\nexit 1\n`,
    );
    chmodSync(join(bin, "docker-credential-evil"), 0o755);
    chmodSync(join(bin, "evil-plugin"), 0o755);
    reg = await startRegistry({ auth: "htpasswd", users: [ALICE] });
    img = await buildImage({ layers: [{ randomBytes: 2000 }], seed: "cred-out" });
    await pushLayout(img, "priv/app:v1", reg, { creds: ALICE });
    ref = `${reg.host}/priv/app:v1`;
    dockerConfig = join(work, "docker");
    mkdirSync(dockerConfig);
    writeFileSync(
      join(dockerConfig, "config.json"),
      JSON.stringify({ credHelpers: { [reg.host]: "evil" } }),
    );
  });
  after(async () => {
    await reg?.stop();
    if (img !== undefined) removeTempDir(img.layoutDir);
    if (work !== undefined) removeTempDir(work);
  });

  it("kimg pull, plain and JSON progress: names the helper and its exit status, no output", async () => {
    const store = join(work, "store-pull");
    for (const progress of ["plain", "json"]) {
      const r = await runKimg(["pull", "--store", store, "--progress", progress, ref], {
        env: env(),
      });
      assert.notEqual(r.code, 0);
      assert.notEqual(r.code, 70);
      noSecret("stdout", r.stdout);
      noSecret("stderr", r.stderr);
      assert.match(
        r.stderr,
        new RegExp(
          `error getting credentials - err: exit status 1, out: not shown \\(docker-credential-evil may print secrets; to see it, run: echo ${reg.host.replace(/\./g, "\\.")} \\| docker-credential-evil get\\)`,
        ),
      );
    }
    assertNotInFiles(store);
  });

  it("kimg pull --debug shows the output, after a warning line", async () => {
    const r = await runKimg(["pull", "--debug", "--store", join(work, "store-debug"), ref], {
      env: env(),
    });
    assert.notEqual(r.code, 0);
    assert.match(
      r.stderr,
      new RegExp(
        `kimg: warning: --debug shows what docker-credential-evil get printed; it may hold a secret\\ntoken ${SECRET} expired for bob\\n`,
      ),
    );
  });

  it("kimg run with the helper and with a provider plugin: describe, JSON events, warnings", async () => {
    const store = join(work, "store-run");
    const pod = join(work, "pod.yaml");
    writeFileSync(
      pod,
      `apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: shop}\nspec:\n  containers: [{name: app, image: "${ref}", imagePullPolicy: IfNotPresent}]\n`,
    );
    const plugins = join(work, "plugins.yaml");
    writeFileSync(
      plugins,
      `apiVersion: kubelet.config.k8s.io/v1
kind: CredentialProviderConfig
providers:
- name: evil-plugin
  apiVersion: credentialprovider.kubelet.k8s.io/v1
  matchImages: ["${reg.host}"]
  defaultCacheDuration: 0s
`,
    );
    const pluginArgs = [
      "--image-credential-provider-config",
      plugins,
      "--image-credential-provider-bin-dir",
      bin,
    ];
    let sawPlugin = false;
    for (const output of [[], ["--output", "json"]]) {
      const r = await runKimg(
        ["run", pod, "--store", store, "--timeout", "3s", ...pluginArgs, ...output],
        { env: env() },
      );
      assert.equal(r.code, 1, r.stderr + r.stdout);
      noSecret("stdout", r.stdout);
      noSecret("stderr", r.stderr);
      if (/credential provider evil-plugin: .*exit status 1: stderr not shown/.test(r.stderr))
        sawPlugin = true;
    }
    assert.ok(sawPlugin, "the plugin failed and was reported without its stderr");
    assertNotInFiles(store);
  });

  it("the web UI's API: the pull's events and every answer", async () => {
    const store = join(work, "store-ui");
    await FsBlobStore.open(store); // the UI opens a store, it never creates one
    const ui = await startUiServer({
      port: 0,
      store,
      env: { ...process.env, ...env(), CONTAINERS_REGISTRIES_CONF: "/dev/null" },
      homedir: work,
      token: "t".repeat(64),
    });
    try {
      const auth = { authorization: `Bearer ${ui.token}`, "x-kimg-token": ui.token };
      const started = await request(ui.port, "/api/pull", {
        method: "POST",
        body: { ref },
        headers: auth,
      });
      assert.equal(started.status, 202, started.text);
      const events = await readSse(ui.port, `/api/pull/${started.json.id}/events`, auth);
      const all = events.events.map((e) => `${e.event} ${e.data}`).join("\n");
      assert.match(all, /error getting credentials - err: exit status 1, out: not shown/);
      noSecret("SSE events", all);
      for (const path of ["/api/images", `/api/images/inspect?ref=${encodeURIComponent(ref)}`]) {
        const r = await request(ui.port, path, { headers: auth });
        noSecret(path, r.text);
      }
    } finally {
      await ui.close();
    }
    assertNotInFiles(store);
  });
});
