// docker config.json (docker/cli configfile/file.go, credentials/file_store.go) and the
// credential-helper protocol against a real helper program on PATH.
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { chmodSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import {
  convertToHostname,
  dockerConfigLookup,
  dockerConfigPath,
  dockerConfigSource,
  getAuthConfigKey,
  helperGet,
  parseDockerConfig,
} from "../../src/credentials/index.ts";
import { isKimgError } from "../../src/errors.ts";
import { makeTempDir, removeTempDir } from "../helpers/cleanup.ts";

const b64 = (s: string) => Buffer.from(s).toString("base64");
const SECRET = "hub-S3CRET-value";

const HELPER = `#!/bin/sh
[ "$1" = get ] || { echo "unknown action"; exit 1; }
server=$(cat)
printf '%s\\n' "$server" >> "$KIMG_HELPER_LOG"
case "$server" in
  https://index.docker.io/v1/) printf '{"ServerURL":"%s","Username":"hubuser","Secret":"${SECRET}"}' "$server" ;;
  token.example) printf '{"ServerURL":"%s","Username":"<token>","Secret":"id-${SECRET}"}' "$server" ;;
  hang.example) sleep 30 ;;
  broken.example) echo "boom"; exit 3 ;;
  "") echo "no credentials server URL"; exit 1 ;;
  leaky.example) printf '{"Secret":"${SECRET}"}'; exit 2 ;;
  garbage.example) echo "not json ${SECRET}" ;;
  *) echo "credentials not found in native keychain"; exit 1 ;;
esac
`;

describe("docker config.json", () => {
  const dirs: string[] = [];
  after(() => {
    for (const d of dirs) removeTempDir(d);
  });
  const tmp = () => {
    const d = makeTempDir("creds");
    dirs.push(d);
    return d;
  };
  const binDir = tmp();
  const log = join(binDir, "calls.log");
  writeFileSync(join(binDir, "docker-credential-kimgtest"), HELPER);
  chmodSync(join(binDir, "docker-credential-kimgtest"), 0o755);
  writeFileSync(log, "");
  const env = { ...process.env, PATH: `${binDir}:${process.env.PATH ?? ""}`, KIMG_HELPER_LOG: log };

  it("lives in $DOCKER_CONFIG/config.json, else ~/.docker/config.json", () => {
    assert.equal(dockerConfigPath({ DOCKER_CONFIG: "/etc/dc" }, "/home/u"), "/etc/dc/config.json");
    assert.equal(dockerConfigPath({}, "/home/u"), "/home/u/.docker/config.json");
    assert.equal(dockerConfigPath({ DOCKER_CONFIG: "" }, "/home/u"), "/home/u/.docker/config.json");
  });

  it("keys: Docker Hub under https://index.docker.io/v1/, others bare; ConvertToHostname", () => {
    assert.equal(getAuthConfigKey("docker.io"), "https://index.docker.io/v1/");
    assert.equal(getAuthConfigKey("index.docker.io"), "https://index.docker.io/v1/");
    assert.equal(getAuthConfigKey("quay.io"), "quay.io");
    assert.equal(convertToHostname("https://myreg:5000/v1/"), "myreg:5000");
    assert.equal(convertToHostname("http://myreg/x/y"), "myreg");
    assert.equal(convertToHostname("myreg:5000"), "myreg:5000");
  });

  const file = parseDockerConfig(
    JSON.stringify({
      auths: {
        "https://index.docker.io/v1/": { auth: b64(`hub:${SECRET}`) },
        "https://legacy.example:5000/v1/": { username: "legacy", password: "pw" },
        "quay.io": { auth: b64("q:qq\u0000\u0000"), email: "q@x" },
        "token.example": { identitytoken: "idt", registrytoken: "rt" },
        "placeholder.example": {},
      },
    }),
    "/x/config.json",
  );

  it("file store: exact key, legacy URL keys by hostname, NULs trimmed, placeholders = none", async () => {
    const hub = await dockerConfigLookup(file, "docker.io");
    assert.equal(hub?.username, "hub");
    assert.equal(hub?.password, SECRET);
    assert.equal(hub?.serverAddress, "https://index.docker.io/v1/");
    assert.equal((await dockerConfigLookup(file, "legacy.example:5000"))?.username, "legacy");
    assert.equal(await dockerConfigLookup(file, "legacy.example"), undefined);
    assert.equal((await dockerConfigLookup(file, "quay.io"))?.password, "qq");
    const tok = await dockerConfigLookup(file, "token.example");
    assert.equal(tok?.identityToken, "idt");
    assert.deepEqual(tok?.toRegistryCredential(), { identityToken: "idt" });
    assert.equal(await dockerConfigLookup(file, "placeholder.example"), undefined);
    assert.equal(await dockerConfigLookup(file, "nowhere.example"), undefined);
  });

  it("bad auth fields: docker's errors, naming the file, never the secret", () => {
    const cases: [string, string][] = [
      [
        b64(SECRET),
        'loading config file: /c.json: auths["quay.io"].auth: invalid auth configuration file',
      ],
      [
        b64(`:${SECRET}`),
        'loading config file: /c.json: auths["quay.io"].auth: invalid auth configuration file',
      ],
      [
        "Zm9vOmJhcg",
        'loading config file: /c.json: auths["quay.io"].auth: illegal base64 data at input byte 8',
      ],
    ];
    for (const [auth, msg] of cases) {
      assert.throws(
        () => parseDockerConfig(JSON.stringify({ auths: { "quay.io": { auth } } }), "/c.json"),
        (e: unknown) =>
          isKimgError(e, "CREDENTIALS_INVALID") && e.message === msg && !e.message.includes(SECRET),
      );
    }
    assert.throws(
      () => parseDockerConfig(`{"auths": {"quay.io": {"auth": "${SECRET}"`, "/c.json"),
      (e: unknown) => isKimgError(e, "CREDENTIALS_INVALID") && !e.message.includes(SECRET),
    );
  });

  it("helper get: server URL on stdin, Username/Secret; <token> = identity token", async () => {
    writeFileSync(log, "");
    const hub = await helperGet("kimgtest", "https://index.docker.io/v1/", { env });
    assert.equal(hub?.username, "hubuser");
    assert.equal(hub?.password, SECRET);
    assert.equal(hub?.source, "helper kimgtest");
    const tok = await helperGet("kimgtest", "token.example", { env });
    assert.equal(tok?.username, "");
    assert.equal(tok?.identityToken, `id-${SECRET}`);
    assert.deepEqual(tok?.toRegistryCredential(), { identityToken: `id-${SECRET}` });
    assert.equal(await helperGet("kimgtest", "unknown.example", { env }), undefined);
    assert.equal(
      readFileSync(log, "utf8"),
      "https://index.docker.io/v1/\ntoken.example\nunknown.example\n",
    );
  });

  it("helper failures: CREDENTIAL_HELPER_FAILED, no secret in the message", async () => {
    const cases: [string, RegExp][] = [
      [
        "broken.example",
        /^error getting credentials - err: exit status 3, out: not shown \(docker-credential-kimgtest may print secrets; to see it, run: echo broken\.example \| docker-credential-kimgtest get\)$/,
      ],
      ["leaky.example", /exit status 2, out: not shown \(/],
      ["garbage.example", /output is not valid JSON/],
      [
        "",
        /^error getting credentials - err: no credentials server URL, out: `no credentials server URL`$/,
      ],
    ];
    for (const [server, re] of cases) {
      await assert.rejects(helperGet("kimgtest", server, { env }), (e: unknown) => {
        assert.ok(isKimgError(e, "CREDENTIAL_HELPER_FAILED"), String(e));
        assert.match(e.message, re);
        assert.ok(!e.message.includes(SECRET));
        // What it printed is kept for --debug only.
        if (server === "broken.example") {
          assert.deepEqual(e.withheld, { from: "docker-credential-kimgtest get", text: "boom" });
        }
        return true;
      });
    }
    await assert.rejects(
      helperGet("kimg-no-such-helper", "x", { env }),
      (e: unknown) =>
        isKimgError(e, "CREDENTIAL_HELPER_FAILED") &&
        e.message.includes(
          'exec: "docker-credential-kimg-no-such-helper": executable file not found in $PATH',
        ),
    );
  });

  it("a hanging helper is killed after the timeout", async () => {
    const t0 = performance.now();
    await assert.rejects(
      helperGet("kimgtest", "hang.example", { env, timeoutMs: 300 }),
      (e: unknown) =>
        isKimgError(e, "CREDENTIAL_HELPER_FAILED") && /timed out after 300 ms/.test(e.message),
    );
    assert.ok(performance.now() - t0 < 5000);
  });

  it("credHelpers[key] wins over credsStore, which wins over auths", async () => {
    const dir = tmp();
    const path = join(dir, "config.json");
    writeFileSync(
      path,
      JSON.stringify({
        auths: {
          "https://index.docker.io/v1/": { auth: b64("fromfile:x") },
          "quay.io": { auth: b64("q:x") },
        },
        credsStore: "kimgtest",
        credHelpers: { "quay.io": "kimgtest" },
      }),
    );
    const src = dockerConfigSource({ env: { ...env, DOCKER_CONFIG: dir } });
    assert.equal(src.name, path);
    const hub = await src.lookupAll("docker.io/library/nginx");
    assert.deepEqual(
      hub.map((c) => c.username),
      ["hubuser"],
    );
    // quay.io goes to the helper, which does not know it: none (not the file's entry)
    assert.deepEqual(await src.lookupAll("quay.io/org/app"), []);
    writeFileSync(path, JSON.stringify({ auths: { "quay.io": { auth: b64("q:x") } } }));
    const fresh = dockerConfigSource({ path });
    assert.deepEqual(
      (await fresh.lookupAll("quay.io/org/app")).map((c) => c.username),
      ["q"],
    );
    assert.deepEqual(
      await dockerConfigSource({ path: join(dir, "missing.json") }).lookupAll("quay.io/a"),
      [],
    );
  });
});
