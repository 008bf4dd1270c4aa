// containers auth.json (containers/image pkg/docker/config/config.go): file order, repository-
// scoped keys, normalized keys, legacy .dockercfg, credHelpers.
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import {
  authFilePaths,
  authJsonSource,
  authKeysForKey,
  normalizeAuthFileKey,
} from "../../src/credentials/index.ts";
import { isKimgError } from "../../src/errors.ts";
import { makeTempDir, removeTempDir } from "../helpers/cleanup.ts";

const b64 = (s: string) => Buffer.from(s).toString("base64");
const SECRET = "authjson-S3CRET";

describe("auth.json", () => {
  const dirs: string[] = [];
  after(() => {
    for (const d of dirs) removeTempDir(d);
  });
  const tmp = () => {
    const d = makeTempDir("authjson");
    dirs.push(d);
    return d;
  };

  it("search order (getAuthFilePaths); REGISTRY_AUTH_FILE alone", () => {
    const env = { XDG_RUNTIME_DIR: "/run/user/7", XDG_CONFIG_HOME: "/cfg", DOCKER_CONFIG: "/dc" };
    assert.deepEqual(authFilePaths({ env, home: "/h" }), [
      { path: "/run/user/7/containers/auth.json", legacyFormat: false },
      { path: "/cfg/containers/auth.json", legacyFormat: false },
      { path: "/dc/config.json", legacyFormat: false },
      { path: "/h/.dockercfg", legacyFormat: true },
    ]);
    assert.deepEqual(authFilePaths({ env: {}, home: "/h", uid: 42 }), [
      { path: "/run/containers/42/auth.json", legacyFormat: false },
      { path: "/h/.config/containers/auth.json", legacyFormat: false },
      { path: "/h/.docker/config.json", legacyFormat: false },
      { path: "/h/.dockercfg", legacyFormat: true },
    ]);
    assert.deepEqual(
      authFilePaths({ env: { ...env, REGISTRY_AUTH_FILE: "/a.json" }, home: "/h" }),
      [{ path: "/a.json", legacyFormat: false }],
    );
  });

  it("authKeysForKey and normalizeAuthFileKey", () => {
    assert.deepEqual(authKeysForKey("quay.io/ns/sub/img"), [
      "quay.io/ns/sub/img",
      "quay.io/ns/sub",
      "quay.io/ns",
      "quay.io",
    ]);
    assert.equal(normalizeAuthFileKey("https://index.docker.io/v1/", false), "index.docker.io");
    assert.equal(normalizeAuthFileKey("docker.io", false), "index.docker.io");
    assert.equal(normalizeAuthFileKey("quay.io/ns", false), "quay.io/ns"); // not a URL: path kept
    assert.equal(normalizeAuthFileKey("quay.io/ns", true), "quay.io");
    assert.equal(normalizeAuthFileKey("http://r:5000/v1/", false), "r:5000");
  });

  it("most specific key first, then the registry, then normalized keys", async () => {
    const dir = tmp();
    const path = join(dir, "auth.json");
    writeFileSync(
      path,
      JSON.stringify({
        auths: {
          "quay.io": { auth: b64("reg:1") },
          "quay.io/ns": { auth: b64("ns:2") },
          "quay.io/ns/app": { auth: b64(`app:${SECRET}`) },
          "https://index.docker.io/v1/": { auth: b64("hub:3") },
          "placeholder.example": {},
        },
      }),
    );
    const src = authJsonSource({ paths: [{ path, legacyFormat: false }] });
    const user = async (repo: string) => (await src.lookupAll(repo)).map((c) => c.username);
    assert.deepEqual(await user("quay.io/ns/app"), ["app"]);
    assert.equal((await src.lookupAll("quay.io/ns/app"))[0]?.password, SECRET);
    assert.deepEqual(await user("quay.io/ns/other"), ["ns"]);
    assert.deepEqual(await user("quay.io/other/x"), ["reg"]);
    assert.deepEqual(await user("docker.io/library/nginx"), ["hub"]);
    assert.deepEqual(await user("placeholder.example/x"), []);
    assert.deepEqual(await user("nowhere.example/x"), []);
  });

  it("first file with an answer wins; missing files and empty entries fall through", async () => {
    const dir = tmp();
    const runtime = join(dir, "run");
    const xdg = join(dir, "cfg");
    mkdirSync(join(xdg, "containers"), { recursive: true });
    mkdirSync(join(dir, ".docker"), { recursive: true });
    writeFileSync(
      join(xdg, "containers", "auth.json"),
      JSON.stringify({ auths: { "quay.io": { auth: b64("xdg:1") }, "ghcr.io": {} } }),
    );
    writeFileSync(
      join(dir, ".docker", "config.json"),
      JSON.stringify({
        auths: { "quay.io": { auth: b64("docker:2") }, "ghcr.io": { auth: b64("docker:3") } },
      }),
    );
    writeFileSync(
      join(dir, ".dockercfg"),
      JSON.stringify({ "https://legacy.example/v1/": { auth: b64("legacy:4") } }),
    );
    const src = authJsonSource({
      env: { XDG_RUNTIME_DIR: runtime, XDG_CONFIG_HOME: xdg },
      home: dir,
    });
    const user = async (repo: string) => (await src.lookupAll(repo)).map((c) => c.username);
    assert.deepEqual(await user("quay.io/a"), ["xdg"]);
    assert.deepEqual(await user("ghcr.io/a"), ["docker"]);
    assert.deepEqual(await user("legacy.example/a"), ["legacy"]);
    // a runtime auth.json in front of everything
    mkdirSync(join(runtime, "containers"), { recursive: true });
    writeFileSync(
      join(runtime, "containers", "auth.json"),
      JSON.stringify({ auths: { "quay.io": { auth: b64("run:0") } } }),
    );
    const src2 = authJsonSource({
      env: { XDG_RUNTIME_DIR: runtime, XDG_CONFIG_HOME: xdg },
      home: dir,
    });
    assert.deepEqual(
      (await src2.lookupAll("quay.io/a")).map((c) => c.username),
      ["run"],
    );
  });

  it("broken files are errors that name the file, not the content", async () => {
    const dir = tmp();
    const bad = join(dir, "bad.json");
    writeFileSync(bad, `{"auths": {"quay.io": {"auth": "${SECRET}"`);
    await assert.rejects(
      authJsonSource({ paths: [{ path: bad, legacyFormat: false }] }).lookupAll("quay.io/a"),
      (e: unknown) =>
        isKimgError(e, "CREDENTIALS_INVALID") &&
        e.message === `reading JSON file "${bad}": unmarshaling JSON at "${bad}": invalid JSON` &&
        !e.message.includes(SECRET),
    );
    const badAuth = join(dir, "bad-auth.json");
    writeFileSync(badAuth, JSON.stringify({ auths: { "quay.io": { auth: `*${SECRET}` } } }));
    await assert.rejects(
      authJsonSource({ paths: [{ path: badAuth, legacyFormat: false }] }).lookupAll("quay.io/a"),
      (e: unknown) =>
        isKimgError(e, "CREDENTIALS_INVALID") &&
        e.message === `${badAuth}: auths["quay.io"].auth: illegal base64 data at input byte 0`,
    );
    // decoded auth without ":" is an empty entry (identity token dropped): the next file answers
    const noColon = join(dir, "nocolon.json");
    const next = join(dir, "next.json");
    writeFileSync(
      noColon,
      JSON.stringify({ auths: { "quay.io": { auth: b64(SECRET), identitytoken: "tok" } } }),
    );
    writeFileSync(next, JSON.stringify({ auths: { "quay.io": { auth: b64("next:1") } } }));
    const got = await authJsonSource({
      paths: [
        { path: noColon, legacyFormat: false },
        { path: next, legacyFormat: false },
      ],
    }).lookupAll("quay.io/a");
    assert.deepEqual(
      got.map((c) => [c.username, c.identityToken]),
      [["next", ""]],
    );
  });
});
