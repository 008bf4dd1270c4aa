// kimg push / copy / tag / delete against real Distribution registries, with skopeo and crane
// as oracles: what kimg pushed, skopeo inspects and copies with the same digests; an index
// copied with --all-platforms keeps its digest; blobs are mounted within a registry and
// skipped when present; a chunked push cut halfway resumes; htpasswd and token auth.

import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import http from "node:http";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { isKimgError } from "../../src/errors.ts";
import { type CopyEvent, copyImage, layoutSource, registrySource } from "../../src/push/index.ts";
import { makeTempDir, removeTempDir } from "../helpers/cleanup.ts";
import { startFaultServer } from "../helpers/fault-registry.ts";
import {
  type BuiltImage,
  type BuiltIndex,
  buildImage,
  buildIndex,
  PLATFORMS,
} from "../helpers/images.ts";
import { runKimg } from "../helpers/kimg-cli.ts";
import { peerBin } from "../helpers/peers.ts";
import { type Registry, startRegistry } from "../helpers/registry.ts";
import { pushLayout } from "../helpers/skopeo.ts";
import { startTokenServer, type TokenServer } from "../helpers/token-server.ts";

const exec = promisify(execFile);
const skopeoRaw = async (ref: string, creds?: string) =>
  JSON.parse(
    (
      await exec(
        "skopeo",
        [
          "inspect",
          "--raw",
          "--tls-verify=false",
          ...(creds ? ["--creds", creds] : ["--no-creds"]),
          `docker://${ref}`,
        ],
        { encoding: "utf8", maxBuffer: 16 << 20 },
      )
    ).stdout,
  );
const craneDigest = async (ref: string) =>
  (await exec(peerBin("crane"), ["digest", ref], { encoding: "utf8" })).stdout.trim();

describe("kimg push and copy against two registries", () => {
  let a: Registry;
  let b: Registry;
  let work: string;
  let img: BuiltImage;
  let idx: BuiltIndex;
  before(async () => {
    [a, b] = await Promise.all([
      startRegistry({
        editConfig: (c) => {
          (c.storage as Record<string, unknown>).delete = { enabled: false };
        },
      }),
      startRegistry({
        editConfig: (c) => {
          (c.storage as Record<string, unknown>).delete = { enabled: true };
        },
      }),
    ]);
    work = makeTempDir("push");
    img = await buildImage({
      dir: `${work}/img`,
      ref: "v1",
      layers: [{ randomBytes: 300_000 }, { randomBytes: 70_000 }],
    });
    idx = await buildIndex({
      dir: `${work}/idx`,
      ref: "multi",
      images: [
        { platform: PLATFORMS.linuxAmd64, layers: [{ randomBytes: 4096 }] },
        { platform: PLATFORMS.linuxArm64, layers: [{ randomBytes: 4096 }] },
      ],
    });
  });
  after(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    if (work !== undefined) removeTempDir(work);
  });

  it("push oci:DIR:TAG: skopeo and crane see the same digest; skopeo copies it back", async () => {
    const r = await runKimg(["push", `oci:${img.layoutDir}:v1`, `${a.host}/demo/app:v1`]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), `${a.host}/demo/app@${img.manifestDigest}`);
    assert.match(r.stderr, /pushed/);
    assert.equal(await craneDigest(`${a.host}/demo/app:v1`), img.manifestDigest);
    const raw = await skopeoRaw(`${a.host}/demo/app:v1`);
    assert.equal(raw.layers.length, 2);
    const out = `${work}/back`;
    await exec("skopeo", [
      "copy",
      "--quiet",
      "--src-tls-verify=false",
      "--preserve-digests",
      `docker://${a.host}/demo/app:v1`,
      `oci:${out}:v1`,
    ]);
    const back = JSON.parse(
      (await exec("skopeo", ["inspect", "--raw", `oci:${out}:v1`], { encoding: "utf8" })).stdout,
    );
    assert.deepEqual(back, raw);
    // Again: every blob is there already, so nothing is uploaded.
    a.resetAccessLog();
    const again = await runKimg([
      "push",
      "--json",
      `oci:${img.layoutDir}:v1`,
      `${a.host}/demo/app:v1`,
    ]);
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(JSON.parse(again.stdout).blobs, {
      uploaded: 0,
      exists: 3,
      mounted: 0,
      bytes: 0,
    });
    const events = await runKimg([
      "push",
      "--progress",
      "json",
      `oci:${img.layoutDir}:v1`,
      `${a.host}/demo/app:v1`,
    ]);
    assert.equal(events.code, 0, events.stderr);
    const lines = events.stderr
      .trim()
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l));
    assert.deepEqual(
      lines.map((l) => [l.event, l.outcome]),
      [
        ["blob", "exists"],
        ["blob", "exists"],
        ["blob", "exists"],
      ],
    );
    const uploads = (await a.settledAccessLog()).filter(
      (l) => l.method === "PUT" && l.path.includes("/blobs/"),
    );
    assert.equal(uploads.length, 0);
  });

  it("copy between registries: --all-platforms keeps the index digest; without it, the platform's manifest", async () => {
    await pushLayout(idx, "demo/multi:1", a, { all: true });
    const all = await runKimg([
      "copy",
      "--all-platforms",
      `${a.host}/demo/multi:1`,
      `docker://${b.host}/copied/multi:1`,
    ]);
    assert.equal(all.code, 0, all.stderr);
    assert.equal(await craneDigest(`${b.host}/copied/multi:1`), idx.indexDigest);
    assert.equal((await skopeoRaw(`${b.host}/copied/multi:1`)).manifests.length, 2);
    const arm = idx.images.find((i) => i.platform.architecture === "arm64");
    const one = await runKimg([
      "copy",
      "--platform",
      "linux/arm64",
      `${a.host}/demo/multi:1`,
      `${b.host}/copied/arm:1`,
    ]);
    assert.equal(one.code, 0, one.stderr);
    assert.equal(await craneDigest(`${b.host}/copied/arm:1`), arm?.manifestDigest);
  });

  it("copy within one registry mounts blobs from the source repository", async () => {
    a.resetAccessLog();
    const events: CopyEvent[] = [];
    const src = await registrySource(`${a.host}/demo/app:v1`, {});
    const r = await copyImage(src, `${a.host}/other/app:v1`, { onBlob: (e) => events.push(e) });
    await src.close();
    assert.equal(r.descriptor.digest, img.manifestDigest);
    assert.deepEqual(
      events.map((e) => e.outcome),
      ["mounted", "mounted", "mounted"],
    );
    const mounts = (await a.settledAccessLog()).filter(
      (l) => l.method === "POST" && l.path.includes("mount="),
    );
    assert.equal(mounts.length, 3);
    assert.ok(mounts.every((l) => l.status === 201));
  });

  it("a store image pushes to a registry, and copy REF store: pulls", async () => {
    const store = `${work}/store`;
    const p = await runKimg([
      "pull",
      "--store",
      store,
      "--progress",
      "plain",
      `${a.host}/demo/app:v1`,
    ]);
    assert.equal(p.code, 0, p.stderr);
    const r = await runKimg([
      "push",
      "--store",
      store,
      `${a.host}/demo/app:v1`,
      `${b.host}/from-store/app:v1`,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await craneDigest(`${b.host}/from-store/app:v1`), img.manifestDigest);
    const viaCopy = await runKimg([
      "copy",
      "--store",
      `${work}/store2`,
      `${b.host}/from-store/app:v1`,
      "store:",
    ]);
    assert.equal(viaCopy.code, 0, viaCopy.stderr);
    assert.match(viaCopy.stdout, new RegExp(img.manifestDigest));
  });

  it("a chunked push cut halfway resumes from the registry's Range", async (t) => {
    // A front that cuts the second PATCH after 20 KiB, forwarding none of it: the registry
    // keeps the first chunk, and the session (its Range) says so.
    let patches = 0;
    let cut = false;
    const front = http.createServer((req, res) => {
      if (req.method === "PATCH" && ++patches === 2) {
        cut = true;
        let n = 0;
        req.on("data", (c: Buffer) => {
          n += c.length;
          if (n > 20 * 1024) req.socket.destroy();
        });
        return;
      }
      const up = http.request(
        {
          host: "127.0.0.1",
          port: b.port,
          method: req.method,
          path: req.url,
          headers: req.headers,
        },
        (r) => {
          const headers = { ...r.headers };
          if (typeof headers.location === "string") {
            headers.location = headers.location.replace(b.host, frontHost());
          }
          res.writeHead(r.statusCode ?? 502, headers);
          r.pipe(res);
        },
      );
      up.on("error", () => {});
      req.pipe(up);
    });
    const frontHost = () => `127.0.0.1:${(front.address() as { port: number }).port}`;
    await new Promise<void>((r) => front.listen(0, "127.0.0.1", r));
    t.after(
      () =>
        new Promise<void>((r) => {
          front.closeAllConnections();
          front.close(() => r());
        }),
    );
    const events: CopyEvent[] = [];
    const src = await layoutSource(img.layoutDir, "v1");
    const r = await copyImage(src, `${frontHost()}/chunked/app:v1`, {
      chunkSize: 256 * 1024,
      jobs: 1,
      onBlob: (e) => events.push(e),
    });
    assert.equal(r.descriptor.digest, img.manifestDigest);
    assert.ok(cut, "the PATCH was cut");
    const resumed = events.find((e) => e.outcome === "resumed");
    assert.ok(resumed !== undefined, JSON.stringify(events));
    assert.equal(resumed.offset, 256 * 1024, "resumed after the first chunk, not from 0");
    assert.equal(await craneDigest(`${b.host}/chunked/app:v1`), img.manifestDigest);
    const raw = await skopeoRaw(`${b.host}/chunked/app:v1`);
    assert.equal(raw.layers[0].digest, img.layers[0]?.digest);
  });

  it("a source that sends other bytes fails the blob, and the tag is never created", async (t) => {
    const evil = await startFaultServer(t);
    const bad = img.layers[0]?.digest ?? "";
    evil.handle((req, res) => {
      const u = req.url ?? "";
      const proxy = http.request(
        { host: "127.0.0.1", port: a.port, method: req.method, path: u, headers: req.headers },
        (r) => {
          res.writeHead(r.statusCode ?? 502, r.headers);
          if (req.method === "GET" && u.endsWith(`/blobs/${bad}`)) {
            r.on("data", (c: Buffer) => res.write(Buffer.alloc(c.length, 0x41)));
            r.on("end", () => res.end());
            return;
          }
          r.pipe(res);
        },
      );
      req.pipe(proxy);
    });
    const r = await runKimg(["copy", `${evil.host}/demo/app:v1`, `${b.host}/evil/app:v1`]);
    assert.equal(r.code, 6, r.stderr);
    assert.match(r.stderr, /digest/i);
    const tag = await runKimg(["digest", `${b.host}/evil/app:v1`]);
    assert.equal(tag.code, 3, "the tag does not exist");
  });

  it("tag and delete: the new tag names the same digest; delete removes it (405 said plainly)", async () => {
    const tagged = await runKimg(["tag", `${a.host}/demo/app:v1`, "stable"]);
    assert.equal(tagged.code, 0, tagged.stderr);
    assert.equal(await craneDigest(`${a.host}/demo/app:stable`), img.manifestDigest);
    const refused = await runKimg(["delete", `${a.host}/demo/app:stable`]);
    assert.equal(refused.code, 5, refused.stderr);
    assert.match(refused.stderr, /does not allow deleting manifests/);
    assert.equal(refused.stderr.trim().split("\n").length, 1);
    const pushed = await runKimg(["push", `oci:${img.layoutDir}:v1`, `${b.host}/del/app:v1`]);
    assert.equal(pushed.code, 0, pushed.stderr);
    const del = await runKimg(["delete", `${b.host}/del/app:v1`]);
    assert.equal(del.code, 0, del.stderr);
    assert.equal(del.stdout.trim(), `deleted ${b.host}/del/app:v1@${img.manifestDigest}`);
    assert.equal((await runKimg(["digest", `${b.host}/del/app:v1`])).code, 3);
    const chunked = await runKimg([
      "push",
      "-q",
      "--chunk-size",
      "64Ki",
      `oci:${img.layoutDir}:v1`,
      `${b.host}/chunks/app:v1`,
    ]);
    assert.equal(chunked.code, 0, chunked.stderr);
    assert.equal(await craneDigest(`${b.host}/chunks/app:v1`), img.manifestDigest);
    for (const [flag, value, text] of [
      ["--chunk-size", "lots", /invalid size "lots"/],
      ["--jobs", "0", /--jobs must be a positive integer, got 0/],
    ] as const) {
      const bad = await runKimg([
        "push",
        flag,
        value,
        `oci:${img.layoutDir}:v1`,
        `${b.host}/x/app:v1`,
      ]);
      assert.equal(bad.code, 2, bad.stderr);
      assert.match(bad.stderr, text);
    }
    const badTag = await runKimg(["tag", `${a.host}/demo/app:v1`, "no/slash"]);
    assert.equal(badTag.code, 1);
  });
});

describe("kimg push with htpasswd and token auth", () => {
  let basic: Registry;
  let tokenReg: Registry;
  let ts: TokenServer;
  let work: string;
  let img: BuiltImage;
  const alice = { user: "alice", pass: "alice-push-pw" };
  before(async () => {
    ts = await startTokenServer({
      users: [alice],
      grants: [
        { who: { user: "alice" }, name: "team/*", actions: ["pull", "push"] },
        { who: { user: "alice" }, name: "public/*", actions: ["pull"] },
      ],
    });
    [basic, tokenReg] = await Promise.all([
      startRegistry({ auth: "htpasswd", users: [alice] }),
      startRegistry({ auth: "token", tokenServer: ts }),
    ]);
    work = makeTempDir("push-auth");
    img = await buildImage({ dir: `${work}/img`, ref: "v1", layers: [{ randomBytes: 2048 }] });
  });
  after(async () => {
    await Promise.all([basic?.stop(), tokenReg?.stop(), ts?.stop()]);
    if (work !== undefined) removeTempDir(work);
  });

  it("pushes with --creds (Basic, and a push-scoped token); a wrong password or no push grant is exit 4", async () => {
    for (const reg of [basic, tokenReg]) {
      const creds = `${alice.user}:${alice.pass}`;
      const ok = await runKimg([
        "push",
        "--creds",
        creds,
        `oci:${img.layoutDir}:v1`,
        `${reg.host}/team/app:v1`,
      ]);
      assert.equal(ok.code, 0, ok.stderr);
      assert.equal((await skopeoRaw(`${reg.host}/team/app:v1`, creds)).layers.length, 1);
      // And read back with kimg itself (Basic, and a pull-scoped token).
      const ls = await runKimg(["ls", "--creds", creds, `${reg.host}/team/app`]);
      assert.equal(ls.code, 0, ls.stderr);
      assert.equal(ls.stdout, "v1\n");
      const m = await runKimg(["manifest", "--raw", "--creds", creds, `${reg.host}/team/app:v1`]);
      assert.equal(m.code, 0, m.stderr);
      assert.equal(m.stdout, img.manifest.toString("utf8"));
      const wrong = await runKimg([
        "push",
        "--creds",
        `${alice.user}:nope`,
        `oci:${img.layoutDir}:v1`,
        `${reg.host}/team/app:v2`,
      ]);
      assert.equal(wrong.code, 4, wrong.stderr);
      assert.doesNotMatch(wrong.stderr, /nope|alice-push-pw/);
      assert.equal(wrong.stderr.trim().split("\n").length, 1, wrong.stderr);
    }
    const noGrant = await runKimg([
      "push",
      "--creds",
      `${alice.user}:${alice.pass}`,
      `oci:${img.layoutDir}:v1`,
      `${tokenReg.host}/public/app:v1`,
    ]);
    assert.equal(noGrant.code, 4, noGrant.stderr);
    assert.match(noGrant.stderr, /push access denied|authentication failed/);
  });

  it("an anonymous push is REGISTRY_UNAUTHORIZED", async () => {
    const src = await layoutSource(img.layoutDir, "v1");
    await assert.rejects(
      copyImage(src, `${basic.host}/team/anon:v1`),
      (e) => isKimgError(e) && e.code === "REGISTRY_UNAUTHORIZED",
    );
  });
});
