// containerd 2 (pinned in test/peers/versions.env) as the oracle for pulls: `crictl pull` and
// `crictl inspecti` through containerd's CRI image service, against `kimg pull` of the same
// images from the same real Distribution registry. They must agree on the digest the
// reference resolves to (the CRI's repoDigest), on the platform chosen from an index (the CRI
// image id is the chosen manifest's config digest), and on the content each fetched from the
// registry (its access log, told apart by user agent): the same requests, each once.
// Issue 12 §4 "containerd".

import assert from "node:assert/strict";
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import {
  killProcessGroup,
  makeTempDir,
  removeTempDir,
  trackProcessGroup,
} from "../helpers/cleanup.ts";
import {
  type BuiltImage,
  type BuiltIndex,
  buildImage,
  buildIndex,
  PLATFORMS,
} from "../helpers/images.ts";
import { kimgPullJson } from "../helpers/kimg-cli.ts";
import { peerBin } from "../helpers/peers.ts";
import { type Registry, startRegistry } from "../helpers/registry.ts";
import { pushLayout } from "../helpers/skopeo.ts";
import { waitFor } from "../helpers/wait.ts";

const exec = promisify(execFile);

describe("containerd's CRI image service vs kimg pull", { timeout: 600_000 }, () => {
  let reg: Registry;
  let single: BuiltImage;
  let multi: BuiltIndex;
  let containerd: ChildProcess | undefined;
  let sock = "";
  let short = "";
  let log = "";
  const dirs: string[] = [];

  const crictl = async (...args: string[]) =>
    (
      await exec(
        peerBin("crictl"),
        [`--runtime-endpoint=unix://${sock}`, `--image-endpoint=unix://${sock}`, ...args],
        { encoding: "utf8" },
      )
    ).stdout;

  before(async () => {
    reg = await startRegistry();
    single = await buildImage({ layers: [{ randomBytes: 2000 }], seed: "cri-1" });
    await pushLayout(single, "cri/single:v1", reg);
    multi = await buildIndex({
      images: [
        { platform: PLATFORMS.linuxArm64, layers: [{ randomBytes: 900 }] },
        { platform: PLATFORMS.linuxAmd64, layers: [{ randomBytes: 800 }] },
      ],
      seed: "cri-multi",
    });
    await pushLayout(multi, "cri/multi:v1", reg, { all: true });
    // A short directory: the socket path must fit in sun_path (108 bytes).
    short = mkdtempSync("/tmp/kc-");
    sock = join(short, "c.sock");
    mkdirSync(join(short, "certs.d", reg.host), { recursive: true });
    writeFileSync(
      join(short, "certs.d", reg.host, "hosts.toml"),
      `server = "http://${reg.host}"\n[host."http://${reg.host}"]\n  capabilities = ["pull", "resolve"]\n`,
    );
    const config = join(short, "config.toml");
    writeFileSync(
      config,
      `version = 3
root = "${short}/root"
state = "${short}/state"
[grpc]
  address = "${sock}"
[plugins."io.containerd.cri.v1.images".registry]
  config_path = "${short}/certs.d"
`,
    );
    containerd = spawn(join(peerBin("containerd", "containerd")), ["--config", config], {
      detached: true,
      stdio: ["ignore", "ignore", "pipe"],
    });
    containerd.stderr?.on("data", (c: Buffer) => {
      log = (log + c.toString()).slice(-20_000);
    });
    trackProcessGroup(containerd);
    await waitFor(() => existsSync(sock), 30_000);
    assert.ok(existsSync(sock), `containerd is serving:\n${log}`);
    // The CRI image service answers once its plugin is up.
    let ok = false;
    for (let i = 0; i < 100 && !ok; i++) {
      ok = await crictl("images").then(
        () => true,
        () => false,
      );
      if (!ok) await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(ok, `crictl images:\n${log.slice(-3000)}`);
  });
  after(async () => {
    if (containerd !== undefined) await killProcessGroup(containerd);
    await reg?.stop();
    if (short !== "") rmSync(short, { recursive: true, force: true });
    for (const d of dirs) removeTempDir(d);
    if (single !== undefined) removeTempDir(single.layoutDir);
    if (multi !== undefined) removeTempDir(multi.layoutDir);
  });

  /** What kimg pull resolved, and the config of the manifest it chose. */
  async function kimgPull(ref: string) {
    const store = makeTempDir("kimg-cri-store-");
    dirs.push(store);
    const { resolved, manifestDigest } = await kimgPullJson(ref, store);
    const m = JSON.parse(
      readFileSync(join(store, "blobs", ...manifestDigest.split(":")), "utf8"),
    ) as { config: { digest: string } };
    return { resolved, config: m.config.digest };
  }

  async function criPull(ref: string) {
    await crictl("pull", ref);
    const s = JSON.parse(await crictl("inspecti", "-o", "json", ref)) as {
      status: { id: string; repoDigests: string[] };
    };
    return s.status;
  }

  for (const [what, path] of [
    ["a single-platform image", "cri/single:v1"],
    ["an index (the host's platform is chosen)", "cri/multi:v1"],
  ] as const) {
    it(`${what}: the same resolved digest and the same chosen manifest`, async () => {
      const ref = `${reg.host}/${path}`;
      const k = await kimgPull(ref);
      const c = await criPull(ref);
      const repo = ref.slice(0, ref.lastIndexOf(":"));
      assert.deepEqual(c.repoDigests, [`${repo}@${k.resolved}`]);
      assert.equal(c.id, k.config);
      // The requests: what each fetched, with the tag read as the digest it resolved to.
      const log = await reg.settledAccessLog();
      const tag = ref.slice(ref.lastIndexOf(":") + 1);
      const fetched = (agent: RegExp) => {
        const mine = log.filter(
          (l) => agent.test(l.userAgent) && l.path.startsWith(`/v2/${path.split(":")[0]}/`),
        );
        const all = mine.map(
          (l) => `${l.method} ${l.path.replace(/^\/v2\/.*?\/(manifests|blobs)\//, "$1 ")}`,
        );
        const gets = mine
          .filter((l) => l.method === "GET" && l.status === 200)
          .map((l) =>
            l.path.replace(/^.*\/(manifests|blobs)\//, "$1 ").replace(` ${tag}`, ` ${k.resolved}`),
          )
          .sort();
        return { all, gets };
      };
      const cri = fetched(/^containerd\//);
      const kimg = fetched(/^kimg\b/);
      console.log(`# ${path}: containerd ${cri.all.join(", ")}\n#   kimg ${kimg.all.join(", ")}`);
      assert.deepEqual(kimg.gets, cri.gets);
      // A fresh pull sends the very same requests as containerd (blobs in any order).
      assert.deepEqual([...kimg.all].sort(), [...cri.all].sort());
      assert.equal(new Set(kimg.gets).size, kimg.gets.length, "kimg fetched nothing twice");
    });
  }
});
