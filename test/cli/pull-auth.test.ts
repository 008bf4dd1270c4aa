// kimg pull with credentials: the built binary (dist/, built by scripts/test.mjs) against the
// harness's htpasswd registry. --creds, --pull-secret files, DOCKER_CONFIG's config.json and
// REGISTRY_AUTH_FILE's auth.json; the denial exit code; passwords never printed; the kind of
// source in the image record. HOME, DOCKER_CONFIG and REGISTRY_AUTH_FILE point into temp dirs
// so the user's own files are never read.

import assert from "node:assert/strict";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { makeTempDir, removeTempDir } from "../helpers/cleanup.ts";
import { type BuiltImage, buildImage } from "../helpers/images.ts";
import { runKimg } from "../helpers/kimg-cli.ts";
import { type Registry, startRegistry } from "../helpers/registry.ts";
import { pushLayout } from "../helpers/skopeo.ts";

const ALICE = { user: "alice", pass: "wonderland" };
const WRONG = "s3cret-wrong-pa55";

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

describe("kimg pull with credentials", { timeout: 180_000 }, () => {
  let reg: Registry;
  let img: BuiltImage;
  let tmp: string;
  let ref: string;

  /** Runs kimg with HOME, DOCKER_CONFIG and REGISTRY_AUTH_FILE isolated (overridable). */
  /** runKimg with no credentials of the user's: an empty HOME, no config.json, no auth.json. */
  const kimg = (args: string[], extraEnv: Record<string, string> = {}): Promise<Run> =>
    runKimg(args, {
      env: {
        HOME: join(tmp, "home"),
        DOCKER_CONFIG: join(tmp, "no-docker-config"),
        REGISTRY_AUTH_FILE: join(tmp, "no-auth.json"),
        ...extraEnv,
      },
    });

  /** A fresh store; pulls `ref` with Always, returns the run and the recorded credential kind. */
  async function pullFresh(
    args: string[],
    env?: Record<string, string>,
  ): Promise<Run & { kind?: string }> {
    const store = makeTempDir("kimg-cli-auth-store-");
    try {
      const r = await kimg(["pull", ref, "--policy", "Always", "--store", store, ...args], env);
      if (r.code !== 0) return r;
      const j = await kimg(["images", "--json", "--store", store]);
      const recs = JSON.parse(j.stdout) as { credential?: { kind: string } }[];
      const kind = recs[0]?.credential?.kind;
      return { ...r, ...(kind !== undefined ? { kind } : {}) };
    } finally {
      removeTempDir(store);
    }
  }

  const auths = () => ({
    auths: {
      [reg.host]: { auth: Buffer.from(`${ALICE.user}:${ALICE.pass}`).toString("base64") },
    },
  });

  before(async () => {
    reg = await startRegistry({ auth: "htpasswd", users: [ALICE] });
    img = await buildImage({ layers: [{ randomBytes: 2048 }] });
    await pushLayout(img, "private/app:v1", reg, { creds: ALICE });
    tmp = makeTempDir("kimg-cli-auth-");
    mkdirSync(join(tmp, "home"));
    ref = `${reg.host}/private/app:v1`;
  });
  after(async () => {
    await reg?.stop();
    for (const d of [img?.layoutDir, tmp]) if (d !== undefined) removeTempDir(d);
  });

  it("kimg unpack pulls with --creds, --pull-secret and --registries-conf, as kimg pull does (README truth)", async () => {
    const secret = join(tmp, "unpack-secret.json");
    writeFileSync(
      secret,
      JSON.stringify({
        apiVersion: "v1",
        kind: "Secret",
        type: "kubernetes.io/dockerconfigjson",
        data: { ".dockerconfigjson": Buffer.from(JSON.stringify(auths())).toString("base64") },
      }),
    );
    const conf = join(tmp, "unpack-registries.conf");
    writeFileSync(conf, `[[registry]]\nlocation = "${reg.host}"\ninsecure = true\n`);
    for (const [i, args] of [
      ["--creds", `${ALICE.user}:${ALICE.pass}`],
      ["--pull-secret", secret, "--registries-conf", conf],
    ].entries()) {
      const store = makeTempDir("kimg-cli-auth-unpack-");
      try {
        const denied = await kimg(["unpack", ref, join(store, "denied"), "--store", store]);
        assert.equal(denied.code, 4, denied.stderr);
        const r = await kimg([
          "unpack",
          ref,
          join(store, `rootfs-${i}`),
          "--store",
          store,
          ...args,
        ]);
        assert.equal(r.code, 0, r.stderr);
        assert.ok(existsSync(join(store, `rootfs-${i}`, "random.bin")));
      } finally {
        removeTempDir(store);
      }
    }
  });

  it("without credentials: exit 4 and the registry's denial", async () => {
    const r = await pullFresh([]);
    assert.equal(r.code, 4, r.stderr);
    assert.match(r.stderr, /pull access denied, repository does not exist or may require/);
  });

  it("--creds: pulled, recorded as creds", async () => {
    const r = await pullFresh(["--creds", `${ALICE.user}:${ALICE.pass}`]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`Pulled .*digest ${img.manifestDigest}`));
    assert.equal(r.kind, "creds");
  });

  it("--creds with a wrong password: exit 4, the password never printed", async () => {
    const r = await pullFresh(["--creds", `${ALICE.user}:${WRONG}`]);
    assert.equal(r.code, 4, r.stderr);
    // Not "no credentials": the credentials sent were refused, and whose (issue 10 item 12).
    assert.match(
      r.stderr,
      /^kimg: authentication failed: the registry refused the credentials from --creds: \((HEAD|GET) 127\.0\.0\.1:\d+\/v2\/private\/app\/manifests\/v1: 401 Unauthorized\)\n$/,
    );
    for (const text of [r.stdout, r.stderr]) {
      assert.ok(!text.includes(WRONG), text);
      assert.ok(!text.includes(Buffer.from(`${ALICE.user}:${WRONG}`).toString("base64")), text);
    }
  });

  it("--pull-secret with a dockerconfigjson Secret: pulled, recorded as pull-secret", async () => {
    const file = join(tmp, "secret.yaml");
    const data = Buffer.from(JSON.stringify(auths())).toString("base64");
    writeFileSync(
      file,
      [
        "apiVersion: v1",
        "kind: ConfigMap",
        "metadata: {name: other}",
        "---",
        "apiVersion: v1",
        "kind: Secret",
        "metadata: {name: regcred, namespace: default}",
        "type: kubernetes.io/dockerconfigjson",
        "data:",
        `  .dockerconfigjson: ${data}`,
        "",
      ].join("\n"),
    );
    const r = await pullFresh(["--pull-secret", file]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.kind, "pull-secret");
  });

  it("--pull-secret that cannot be read: exit 2", async () => {
    const r = await pullFresh(["--pull-secret", join(tmp, "missing.yaml")]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /missing\.yaml/);
  });

  it("DOCKER_CONFIG's config.json: pulled, recorded as docker-config", async () => {
    const dir = join(tmp, "docker");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "config.json"), JSON.stringify(auths()));
    const r = await pullFresh([], { DOCKER_CONFIG: dir });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.kind, "docker-config");

    // --creds comes first; when the registry denies it, the next matching credential
    // (config.json's) is tried, as the kubelet tries each keyring match in turn.
    const wrong = await pullFresh(["--creds", `${ALICE.user}:${WRONG}`], { DOCKER_CONFIG: dir });
    assert.equal(wrong.code, 0, wrong.stderr);
    assert.equal(wrong.kind, "docker-config");
    assert.ok(!`${wrong.stdout}${wrong.stderr}`.includes(WRONG));
  });

  it("every matching credential denied: exit 4, both denials in one message, no secret", async () => {
    const dir = join(tmp, "docker-wrong");
    mkdirSync(dir, { recursive: true });
    const bad = Buffer.from(`${ALICE.user}:${WRONG}2`).toString("base64");
    writeFileSync(
      join(dir, "config.json"),
      JSON.stringify({ auths: { [reg.host]: { auth: bad } } }),
    );
    const r = await pullFresh(["--creds", `${ALICE.user}:${WRONG}`], { DOCKER_CONFIG: dir });
    assert.equal(r.code, 4, r.stderr);
    assert.match(
      r.stderr,
      new RegExp(
        `\\[authentication failed: the registry refused the credentials from --creds: .*, authentication failed: the registry refused the credentials from ${join(dir, "config.json").replace(/[.]/g, "\\.")}: .*\\]`,
      ),
    );
    for (const text of [r.stdout, r.stderr]) {
      assert.ok(!text.includes(WRONG), text);
      assert.ok(!text.includes(bad), text);
    }
  });

  it("REGISTRY_AUTH_FILE's auth.json: pulled, recorded as auth-json", async () => {
    const file = join(tmp, "auth.json");
    writeFileSync(file, JSON.stringify(auths()));
    const r = await pullFresh([], { REGISTRY_AUTH_FILE: file });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.kind, "auth-json");
  });
});
