// The kubelet's node credentials (config.go ReadDockerConfigFile search order, provider.go
// 5-minute caching provider), on real files in temp dirs.
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import {
  type NodeDockerConfigOptions,
  nodeDockerConfigPaths,
  nodeDockerConfigSource,
  readNodeDockerConfig,
} from "../../src/credentials/index.ts";
import type { KimgError } from "../../src/errors.ts";

const b64 = (s: string) => Buffer.from(s).toString("base64");
const SECRET = "node-S3CRET";
const base = mkdtempSync(join(tmpdir(), "kimg-nodecfg-"));
after(() => rmSync(base, { recursive: true, force: true }));

let n = 0;
function layout(): NodeDockerConfigOptions & { root: string; cwd: string; home: string } {
  const dir = join(base, String(n++));
  const root = join(dir, "root");
  const cwd = join(dir, "cwd");
  const home = join(dir, "home");
  for (const d of [root, cwd, home, join(home, ".docker")]) mkdirSync(d, { recursive: true });
  return { root, cwd, home, rootDir: root };
}
const configJson = (user: string, registry = "reg.example.com") =>
  JSON.stringify({ auths: { [registry]: { auth: b64(`${user}:${SECRET}`) } } });

describe("node config.json search (config.go)", () => {
  it("search paths: root dir, cwd, $HOME/.docker, /.docker; .dockercfg: root, cwd, $HOME, /", () => {
    assert.deepEqual(
      nodeDockerConfigPaths({ rootDir: "/var/lib/kubelet", cwd: "/work", home: "/home/k" }),
      {
        configJson: [
          "/var/lib/kubelet/config.json",
          "/work/config.json",
          "/home/k/.docker/config.json",
          "/.docker/config.json",
        ],
        dockercfg: [
          "/var/lib/kubelet/.dockercfg",
          "/work/.dockercfg",
          "/home/k/.dockercfg",
          "/.dockercfg",
        ],
      },
    );
  });

  it("unset root dir and $HOME resolve against the working directory, as filepath.Abs does", () => {
    const p = nodeDockerConfigPaths({ cwd: "/w", home: "" });
    assert.deepEqual(p.configJson.slice(0, 3), [
      "/w/config.json",
      "/w/config.json",
      "/w/.docker/config.json",
    ]);
  });

  it("the root dir's config.json wins over the working directory's", async () => {
    const l = layout();
    writeFileSync(join(l.root, "config.json"), configJson("root"));
    writeFileSync(join(l.cwd, "config.json"), configJson("cwd"));
    const cfg = await readNodeDockerConfig(l);
    assert.equal(cfg.path, join(l.root, "config.json"));
    assert.equal(cfg.entries[0]?.[1].username, "root");
    assert.equal(cfg.entries[0]?.[1].password, SECRET);
    assert.deepEqual(cfg.entries[0]?.[1].origin, { kind: "node" });
  });

  it("an invalid file is skipped (bad JSON, bad auth), the next valid one used; onError hears it", async () => {
    const l = layout();
    writeFileSync(join(l.root, "config.json"), `{"auths": {"reg.example.com": ${SECRET}`);
    writeFileSync(
      join(l.cwd, "config.json"),
      JSON.stringify({ auths: { "reg.example.com": { auth: b64(SECRET) } } }),
    );
    writeFileSync(join(l.home, ".docker", "config.json"), configJson("home"));
    const errors: KimgError[] = [];
    const cfg = await readNodeDockerConfig({ ...l, onError: (e) => errors.push(e) });
    assert.equal(cfg.path, join(l.home, ".docker", "config.json"));
    assert.equal(cfg.entries[0]?.[1].username, "home");
    assert.equal(errors.length, 2);
    assert.match(errors[0]?.message ?? "", /root\/config\.json: .*invalid JSON/);
    assert.match(
      errors[1]?.message ?? "",
      /cwd\/config\.json: auths\["reg\.example\.com"\]\.auth: unable to parse auth field, must be formatted as base64\(username:password\)$/,
    );
    for (const e of errors) assert.ok(!e.message.includes(SECRET));
  });

  it("an unreadable file is skipped (a directory named config.json: EISDIR, even for root)", async () => {
    const l = layout();
    mkdirSync(join(l.root, "config.json"));
    writeFileSync(join(l.cwd, "config.json"), configJson("cwd"));
    const cfg = await readNodeDockerConfig(l);
    assert.equal(cfg.entries[0]?.[1].username, "cwd");
  });

  it(".dockercfg only when no config.json is valid: legacy map in $HOME", async () => {
    const l = layout();
    writeFileSync(join(l.root, "config.json"), "[]"); // not a DockerConfigJSON: skipped
    writeFileSync(
      join(l.home, ".dockercfg"),
      JSON.stringify({ "https://reg.example.com/v1/": { username: "legacy", password: SECRET } }),
    );
    const cfg = await readNodeDockerConfig(l);
    assert.equal(cfg.path, join(l.home, ".dockercfg"));
    assert.equal(cfg.entries[0]?.[1].username, "legacy");
  });

  it("a valid config.json without auths ends the search (no .dockercfg fallback)", async () => {
    const l = layout();
    writeFileSync(join(l.cwd, "config.json"), "{}");
    writeFileSync(
      join(l.root, ".dockercfg"),
      JSON.stringify({ "reg.example.com": { username: "x", password: "y" } }),
    );
    const cfg = await readNodeDockerConfig(l);
    assert.equal(cfg.path, join(l.cwd, "config.json"));
    assert.deepEqual(cfg.entries, []);
  });

  it("nothing anywhere → no credentials", async () => {
    const cfg = await readNodeDockerConfig(layout());
    assert.deepEqual(cfg, { path: undefined, entries: [] });
  });
});

describe("nodeDockerConfigSource (keyring matching, 5-minute cache)", () => {
  it("matches with the keyring rules (globs, paths, Docker Hub fallback)", async () => {
    const l = layout();
    writeFileSync(
      join(l.root, "config.json"),
      JSON.stringify({
        auths: {
          "*.example.com": { username: "glob", password: "1" },
          "reg.example.com/team": { username: "team", password: "2" },
          "https://index.docker.io/v1/": { username: "hub", password: "3" },
        },
      }),
    );
    const src = nodeDockerConfigSource(l);
    const users = async (repo: string) => (await src.lookupAll(repo)).map((c) => c.username);
    assert.deepEqual(await users("reg.example.com/team/app"), ["team", "glob"]);
    assert.deepEqual(await users("reg.example.com/other"), ["glob"]);
    assert.deepEqual(await users("docker.io/library/nginx"), ["hub"]);
    assert.deepEqual(await users("quay.io/x"), []);
  });

  it("re-reads the files at most every 5 minutes (injectable clock)", async () => {
    const l = layout();
    const file = join(l.root, "config.json");
    writeFileSync(file, configJson("v1"));
    let now = 1_000_000;
    const src = nodeDockerConfigSource({ ...l, now: () => now });
    const user = async () => (await src.lookupAll("reg.example.com/app"))[0]?.username;
    assert.equal(await user(), "v1");
    writeFileSync(file, configJson("v2"));
    now += 5 * 60 * 1000 - 1;
    assert.equal(await user(), "v1", "still cached");
    now += 1;
    assert.equal(await user(), "v2", "re-read at 5 minutes");
    rmSync(file);
    assert.equal(await user(), "v2");
    now += 5 * 60 * 1000;
    assert.equal(await user(), undefined, "an empty result is cached too, after the re-read");
  });
});
