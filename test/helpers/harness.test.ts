// Proves the registry test harness works against the real thing: images.ts builds layouts that
// umoci and skopeo accept; registry.ts runs Distribution 2.8.2 anonymous, with htpasswd and with
// token auth; token-server.ts issues tokens that registry verifies; the checks use plain
// node:http (http.ts), never kimg's own client.

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import {
  createReadStream,
  existsSync,
  lstatSync,
  readFileSync,
  readlinkSync,
  statSync,
} from "node:fs";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { after, before, describe, it } from "node:test";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { createGunzip } from "node:zlib";
import { makeTempDir, removeTempDir } from "./cleanup.ts";
import { run } from "./exec.ts";
import { basicAuth, parseChallenge, request, requestDigest } from "./http.ts";
import { pushLayoutHttp } from "./http-push.ts";
import {
  type BuiltImage,
  type BuiltIndex,
  blobPath,
  buildImage,
  buildIndex,
  digestFile,
  MediaType,
  PLATFORMS,
  seededBytes,
  sha256,
} from "./images.ts";
import { type Registry, startRegistry } from "./registry.ts";
import { inspectRaw, pullToLayout, pushLayout } from "./skopeo.ts";
import { startTokenServer, type TokenServer } from "./token-server.ts";

const OCI_ACCEPT = { accept: MediaType.ociManifest };
const ALICE = { user: "alice", pass: "wonderland" };
const BOB = { user: "bob", pass: "builder" };

/** A two-layer image with every kind of entry, and a random-content layer. */
function twoLayerImage(seed = "harness"): Promise<BuiltImage> {
  return buildImage({
    seed,
    ref: "v1",
    config: { Labels: { "org.example.test": "harness" }, Cmd: ["/bin/run"] },
    layers: [
      {
        createdBy: "files",
        files: [
          { path: "etc", type: "dir" },
          { path: "etc/hello.txt", content: "hello, registry\n" },
          { path: "etc/hello-again.txt", type: "hardlink", linkname: "etc/hello.txt" },
          { path: "bin", type: "dir", mode: 0o750 },
          { path: "bin/run", content: "#!/bin/sh\necho hi\n", mode: 0o755 },
          { path: "hello", type: "symlink", linkname: "/etc/hello.txt" },
          { path: "data/seeded.bin", size: 200_000 },
        ],
      },
      { createdBy: "random", randomBytes: 1_000_000 },
    ],
  });
}

async function gunzipDigest(path: string): Promise<string> {
  const h = createHash("sha256");
  await pipeline(createReadStream(path), createGunzip(), async (src: AsyncIterable<Buffer>) => {
    for await (const c of src) h.update(c);
  });
  return `sha256:${h.digest("hex")}`;
}

describe("images.ts: OCI layouts", { timeout: 120_000 }, () => {
  it("builds a layout that umoci unpacks to exactly the files asked for", async () => {
    const img = await twoLayerImage();
    const bundle = makeTempDir("bundle");
    try {
      const rootless = process.getuid?.() === 0 ? [] : ["--rootless"];
      await run("umoci", [
        "unpack",
        ...rootless,
        "--image",
        `${img.layoutDir}:v1`,
        join(bundle, "b"),
      ]);
      const root = join(bundle, "b", "rootfs");
      assert.equal(readFileSync(join(root, "etc/hello.txt"), "utf8"), "hello, registry\n");
      assert.equal(
        statSync(join(root, "etc/hello-again.txt")).ino,
        statSync(join(root, "etc/hello.txt")).ino,
        "hardlink shares the inode",
      );
      assert.equal(readlinkSync(join(root, "hello")), "/etc/hello.txt");
      assert.ok(lstatSync(join(root, "hello")).isSymbolicLink());
      assert.equal(statSync(join(root, "bin/run")).mode & 0o777, 0o755);
      assert.equal(statSync(join(root, "bin")).mode & 0o777, 0o750);
      const seeded = readFileSync(join(root, "data/seeded.bin"));
      assert.equal(seeded.length, 200_000);
      assert.ok(seeded.equals(seededBytes("harness\0layer0\0data/seeded.bin", 200_000)));
      assert.equal(statSync(join(root, "random.bin")).size, 1_000_000);
    } finally {
      removeTempDir(bundle);
      removeTempDir(img.layoutDir);
    }
  });

  it("writes blobs named by their digest, and a config whose diff_ids and history match", async () => {
    const img = await twoLayerImage();
    try {
      const index = JSON.parse(readFileSync(join(img.layoutDir, "index.json"), "utf8"));
      assert.equal(index.manifests.length, 1);
      assert.equal(index.manifests[0].digest, img.manifestDigest);
      assert.equal(index.manifests[0].annotations["org.opencontainers.image.ref.name"], "v1");
      assert.equal(
        sha256(readFileSync(blobPath(img.layoutDir, img.manifestDigest))),
        img.manifestDigest,
      );
      const manifest = JSON.parse(img.manifest.toString());
      assert.equal(manifest.mediaType, MediaType.ociManifest);
      assert.equal(manifest.config.digest, img.configDigest);
      const config = JSON.parse(readFileSync(blobPath(img.layoutDir, img.configDigest), "utf8"));
      assert.equal(config.architecture, "amd64");
      assert.equal(config.config.Labels["org.example.test"], "harness");
      assert.deepEqual(
        config.history.map((h: { created_by: string }) => h.created_by),
        ["files", "random"],
      );
      assert.equal(img.layers.length, 2);
      for (const [i, l] of img.layers.entries()) {
        const path = blobPath(img.layoutDir, l.digest);
        assert.deepEqual(await digestFile(path), { digest: l.digest, size: l.size });
        assert.equal(manifest.layers[i].digest, l.digest);
        assert.equal(manifest.layers[i].mediaType, MediaType.ociLayerGzip);
        assert.equal(await gunzipDigest(path), l.diffId, "diff_id = sha256 of the tar");
        assert.equal(config.rootfs.diff_ids[i], l.diffId);
      }
    } finally {
      removeTempDir(img.layoutDir);
    }
  });

  it("is deterministic for a seed, and another seed changes the content", async () => {
    const a = await twoLayerImage("seed-a");
    const b = await twoLayerImage("seed-a");
    const c = await twoLayerImage("seed-c");
    try {
      assert.equal(a.manifestDigest, b.manifestDigest);
      assert.notEqual(a.manifestDigest, c.manifestDigest);
      assert.notEqual(a.layers[1]?.digest, c.layers[1]?.digest);
    } finally {
      for (const i of [a, b, c]) removeTempDir(i.layoutDir);
    }
  });

  it("streams a 64 MiB layer without holding it in memory", async () => {
    const size = 64 * 1024 * 1024;
    // Live buffer memory, sampled after a full GC: what the build holds, not garbage it made.
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as () => void;
    const live = () => {
      gc();
      return process.memoryUsage().arrayBuffers;
    };
    const base = live();
    let peak = 0;
    let samples = 0;
    const timer = setInterval(() => {
      peak = Math.max(peak, live() - base);
      samples++;
    }, 100);
    let img: BuiltImage | undefined;
    try {
      img = await buildImage({ layers: [{ randomBytes: size }] });
    } finally {
      clearInterval(timer);
    }
    try {
      const layer = img.layers[0];
      assert.ok(layer !== undefined);
      assert.ok(layer.uncompressedSize > size);
      assert.ok(layer.size > size, "random data does not compress");
      assert.deepEqual(await digestFile(blobPath(img.layoutDir, layer.digest)), {
        digest: layer.digest,
        size: layer.size,
      });
      assert.ok(samples >= 5, `only ${samples} samples`);
      assert.ok(peak < 16 * 1024 * 1024, `peak live buffer memory ${peak} bytes`);
    } finally {
      removeTempDir(img.layoutDir);
    }
  });
});

describe("anonymous registry", { timeout: 120_000 }, () => {
  let reg: Registry;
  let img: BuiltImage;
  let idx: BuiltIndex;

  before(async () => {
    reg = await startRegistry();
    img = await twoLayerImage();
    idx = await buildIndex({
      ref: "multi",
      images: [PLATFORMS.linuxAmd64, PLATFORMS.linuxArm64, PLATFORMS.linuxArmV7].map(
        (platform) => ({
          platform,
          layers: [
            { files: [{ path: "arch.txt", content: JSON.stringify(platform) }] },
            { randomBytes: 4096 },
          ],
        }),
      ),
    });
    await pushLayout(img, "test/app:v1", reg);
  });
  after(async () => {
    await reg?.stop();
    if (img !== undefined) removeTempDir(img.layoutDir);
    if (idx !== undefined) removeTempDir(idx.layoutDir);
  });

  it("answers GET /v2/ with 200 and keeps its storage in its own dir", async () => {
    const r = await request(`${reg.url}/v2/`);
    assert.equal(r.status, 200);
    assert.match(reg.host, /^127\.0\.0\.1:\d+$/);
    assert.ok(existsSync(join(reg.storageDir, "docker/registry/v2/repositories/test/app")));
  });

  it("serves the pushed manifest by tag: HEAD and GET, Docker-Content-Digest = sha256(body)", async () => {
    const url = `${reg.url}/v2/test/app/manifests/v1`;
    const head = await request(url, { method: "HEAD", headers: OCI_ACCEPT });
    assert.equal(head.status, 200);
    assert.equal(head.headers["docker-content-digest"], img.manifestDigest);
    assert.equal(Number(head.headers["content-length"]), img.manifestSize);
    const get = await request(url, { headers: OCI_ACCEPT });
    assert.equal(get.status, 200);
    assert.equal(get.headers["content-type"], MediaType.ociManifest);
    assert.equal(sha256(get.body), get.headers["docker-content-digest"]);
    assert.equal(sha256(get.body), img.manifestDigest);
    assert.ok(get.body.equals(img.manifest), "pushed byte for byte");
    const byDigest = await request(`${reg.url}/v2/test/app/manifests/${img.manifestDigest}`, {
      headers: OCI_ACCEPT,
    });
    assert.equal(byDigest.status, 200);
    assert.equal(sha256(byDigest.body), img.manifestDigest);
  });

  it("serves the config and every layer as blobs whose bytes hash to their digest", async () => {
    const blobs = [
      { digest: img.configDigest, size: img.configSize },
      ...img.layers.map((l) => ({ digest: l.digest, size: l.size })),
    ];
    for (const b of blobs) {
      const r = await requestDigest(`${reg.url}/v2/test/app/blobs/${b.digest}`);
      assert.equal(r.status, 200, b.digest);
      assert.equal(r.digest, b.digest);
      assert.equal(r.size, b.size);
      assert.equal(r.headers["docker-content-digest"], b.digest);
    }
  });

  it("does not serve an OCI manifest to Accept */* (MANIFEST_UNKNOWN)", async () => {
    const r = await request(`${reg.url}/v2/test/app/manifests/v1`, { headers: { accept: "*/*" } });
    assert.equal(r.status, 404);
    assert.equal(JSON.parse(r.body.toString()).errors[0].code, "MANIFEST_UNKNOWN");
  });

  it("counts requests in the access log", async () => {
    await reg.settledAccessLog();
    reg.resetAccessLog();
    await request(`${reg.url}/v2/test/app/manifests/v1`, { method: "HEAD", headers: OCI_ACCEPT });
    await request(`${reg.url}/v2/test/app/manifests/v1`, { headers: OCI_ACCEPT });
    await requestDigest(`${reg.url}/v2/test/app/blobs/${img.configDigest}`);
    await request(`${reg.url}/v2/test/app/blobs/sha256:${"0".repeat(64)}`);
    const lines = await reg.settledAccessLog();
    assert.deepEqual(
      lines.map((l) => [l.method, l.path, l.status]),
      [
        ["HEAD", "/v2/test/app/manifests/v1", 200],
        ["GET", "/v2/test/app/manifests/v1", 200],
        ["GET", `/v2/test/app/blobs/${img.configDigest}`, 200],
        ["GET", `/v2/test/app/blobs/sha256:${"0".repeat(64)}`, 404],
      ],
    );
    assert.equal(lines[1]?.bytes, img.manifestSize);
    assert.equal(lines[2]?.bytes, img.configSize);
  });

  it("pushes a multi-platform index with --all; every platform's manifest is there", async () => {
    await pushLayout(idx, "test/multi:v1", reg, { all: true });
    const get = await request(`${reg.url}/v2/test/multi/manifests/v1`, {
      headers: { accept: MediaType.ociIndex },
    });
    assert.equal(get.status, 200);
    assert.equal(get.headers["content-type"], MediaType.ociIndex);
    assert.equal(sha256(get.body), idx.indexDigest);
    assert.equal(get.headers["docker-content-digest"], idx.indexDigest);
    const listed = JSON.parse(get.body.toString()).manifests as Array<{ platform: object }>;
    assert.deepEqual(
      listed.map((m) => m.platform),
      [
        { architecture: "amd64", os: "linux" },
        { architecture: "arm64", os: "linux", variant: "v8" },
        { architecture: "arm", os: "linux", variant: "v7" },
      ],
    );
    for (const child of idx.images) {
      const r = await request(`${reg.url}/v2/test/multi/manifests/${child.manifestDigest}`, {
        method: "HEAD",
        headers: OCI_ACCEPT,
      });
      assert.equal(r.status, 200, child.manifestDigest);
      for (const l of child.layers) {
        const b = await request(`${reg.url}/v2/test/multi/blobs/${l.digest}`, { method: "HEAD" });
        assert.equal(b.status, 200);
      }
    }
    assert.equal(new Set(idx.images.map((i) => i.manifestDigest)).size, 3);
  });

  it("without --all skopeo pushes only the host platform's manifest", async () => {
    await pushLayout(idx, "test/single:v1", reg);
    const raw = await inspectRaw(reg, "test/single:v1");
    assert.equal(JSON.parse(raw).mediaType, MediaType.ociManifest);
    assert.equal(sha256(raw), idx.images[0]?.manifestDigest, "the linux/amd64 image");
  });

  it("Docker schema2: skopeo --format v2s2 converts an OCI image and index on push", async () => {
    await pushLayout(img, "test/v2s2:v1", reg, { format: "v2s2" });
    const m = await request(`${reg.url}/v2/test/v2s2/manifests/v1`, {
      headers: { accept: MediaType.dockerManifest },
    });
    assert.equal(m.status, 200);
    assert.equal(m.headers["content-type"], MediaType.dockerManifest);
    assert.notEqual(sha256(m.body), img.manifestDigest, "conversion changes the digest");
    assert.equal(sha256(m.body), m.headers["docker-content-digest"]);
    assert.deepEqual(
      JSON.parse(m.body.toString()).layers.map((l: { digest: string }) => l.digest),
      img.layers.map((l) => l.digest),
      "layers are not recompressed",
    );
    await pushLayout(idx, "test/v2s2list:v1", reg, { all: true, format: "v2s2" });
    const raw = await inspectRaw(reg, "test/v2s2list:v1");
    assert.equal(JSON.parse(raw).mediaType, MediaType.dockerList);
  });

  it("Docker schema2: Docker-format layouts push byte for byte over HTTP (skopeo refuses them)", async () => {
    const dimg = await buildImage({ format: "docker", layers: [{ randomBytes: 10_000 }] });
    const dlist = await buildIndex({
      format: "docker",
      images: [PLATFORMS.linuxAmd64, PLATFORMS.linuxArm64].map((platform) => ({
        platform,
        layers: [{ randomBytes: 1000 }],
      })),
    });
    try {
      await assert.rejects(pushLayout(dimg, "test/docker:v1", reg), /no descriptor found/);
      assert.equal(await pushLayoutHttp(dimg, "test/docker:v1", reg), dimg.manifestDigest);
      const m = await request(`${reg.url}/v2/test/docker/manifests/v1`, {
        headers: { accept: MediaType.dockerManifest },
      });
      assert.equal(m.headers["content-type"], MediaType.dockerManifest);
      assert.equal(sha256(m.body), dimg.manifestDigest);
      assert.equal(JSON.parse(dimg.config.toString()).rootfs.diff_ids.length, 1);
      assert.equal(await pushLayoutHttp(dlist, "test/dockerlist:v1", reg), dlist.indexDigest);
      const l = await request(`${reg.url}/v2/test/dockerlist/manifests/v1`, {
        headers: { accept: MediaType.dockerList },
      });
      assert.equal(l.headers["content-type"], MediaType.dockerList);
      assert.equal(sha256(l.body), dlist.indexDigest);
    } finally {
      removeTempDir(dimg.layoutDir);
      removeTempDir(dlist.layoutDir);
    }
  });

  it("skopeo pulls back exactly what was pushed", async () => {
    const dir = makeTempDir("pull");
    try {
      await pullToLayout(reg, "test/app:v1", dir, "back");
      const index = JSON.parse(readFileSync(join(dir, "index.json"), "utf8"));
      assert.equal(index.manifests[0].digest, img.manifestDigest);
      for (const l of img.layers) {
        assert.equal((await digestFile(blobPath(dir, l.digest))).digest, l.digest);
      }
    } finally {
      removeTempDir(dir);
    }
  });
});

describe("htpasswd registry", { timeout: 120_000 }, () => {
  let reg: Registry;
  let img: BuiltImage;
  before(async () => {
    reg = await startRegistry({ auth: "htpasswd", users: [ALICE, BOB] });
    img = await buildImage({ layers: [{ randomBytes: 2048 }] });
  });
  after(async () => {
    await reg?.stop();
    if (img !== undefined) removeTempDir(img.layoutDir);
  });

  it("answers 401 with a Basic challenge without credentials, 200 with", async () => {
    const anon = await request(`${reg.url}/v2/`);
    assert.equal(anon.status, 401);
    assert.equal(anon.headers["www-authenticate"], 'Basic realm="kimg-test"');
    const wrong = await request(`${reg.url}/v2/`, {
      headers: { authorization: basicAuth("alice", "x") },
    });
    assert.equal(wrong.status, 401);
    for (const u of [ALICE, BOB]) {
      const ok = await request(`${reg.url}/v2/`, {
        headers: { authorization: basicAuth(u.user, u.pass) },
      });
      assert.equal(ok.status, 200, u.user);
    }
  });

  it("skopeo pushes with credentials and fails clearly without", async () => {
    await assert.rejects(pushLayout(img, "private/app:v1", reg), (e: Error) => {
      assert.match(e.message, /skopeo copy .* failed \(exit status 1\)/);
      assert.match(e.message, /--- stderr ---\n.*(unauthorized|authentication required)/is);
      return true;
    });
    await pushLayout(img, "private/app:v1", reg, { creds: ALICE });
    const url = `${reg.url}/v2/private/app/manifests/v1`;
    assert.equal((await request(url, { headers: OCI_ACCEPT })).status, 401);
    const r = await request(url, {
      headers: { ...OCI_ACCEPT, authorization: basicAuth(BOB.user, BOB.pass) },
    });
    assert.equal(r.status, 200);
    assert.equal(sha256(r.body), img.manifestDigest);
  });
});

describe("token registry", { timeout: 120_000 }, () => {
  let ts: TokenServer;
  let reg: Registry;
  let img: BuiltImage;
  const pullScope = (name: string) => [{ type: "repository", name, actions: ["pull"] }];

  before(async () => {
    ts = await startTokenServer({
      users: [ALICE, BOB],
      grants: [
        { who: "anonymous", name: "public/*", actions: ["pull"] },
        { who: { user: "alice" }, name: "*", actions: ["*"] },
        { who: { user: "bob" }, name: "private/*", actions: ["pull"] },
      ],
    });
    reg = await startRegistry({ auth: "token", tokenServer: ts });
    img = await buildImage({ layers: [{ randomBytes: 4096 }] });
    await pushLayout(img, "public/app:v1", reg, { creds: ALICE });
    await pushLayout(img, "private/app:v1", reg, { creds: ALICE });
  });
  after(async () => {
    await reg?.stop();
    await ts?.stop();
    if (img !== undefined) removeTempDir(img.layoutDir);
  });

  async function getToken(challenge: string, authorization?: string): Promise<string> {
    const { params } = parseChallenge(challenge);
    const u = new URL(params.realm ?? "");
    u.searchParams.set("service", params.service ?? "");
    if (params.scope !== undefined) u.searchParams.set("scope", params.scope);
    const r = await request(u.href, {
      headers: authorization === undefined ? {} : { authorization },
    });
    assert.equal(r.status, 200, r.body.toString());
    const body = JSON.parse(r.body.toString());
    assert.equal(body.token, body.access_token);
    assert.equal(body.expires_in, 300);
    return body.token;
  }

  it("challenges with Bearer realm, service and scope; an anonymous token pulls public/*", async () => {
    const root = await request(`${reg.url}/v2/`);
    assert.equal(root.status, 401);
    assert.equal(
      root.headers["www-authenticate"],
      `Bearer realm="${ts.realm}",service="${ts.service}"`,
    );
    const url = `${reg.url}/v2/public/app/manifests/v1`;
    const first = await request(url, { headers: OCI_ACCEPT });
    assert.equal(first.status, 401);
    const challenge = String(first.headers["www-authenticate"]);
    assert.equal(
      challenge,
      `Bearer realm="${ts.realm}",service="${ts.service}",scope="repository:public/app:pull"`,
    );
    const token = await getToken(challenge);
    const r = await request(url, { headers: { ...OCI_ACCEPT, authorization: `Bearer ${token}` } });
    assert.equal(r.status, 200);
    assert.equal(r.headers["docker-content-digest"], img.manifestDigest);
    assert.equal(sha256(r.body), img.manifestDigest);
    const rec = ts.requests.at(-1);
    assert.equal(rec?.user, null);
    assert.deepEqual(rec?.granted, pullScope("public/app"));
  });

  it("a token without the scope is refused: 401 insufficient_scope", async () => {
    const url = `${reg.url}/v2/private/app/manifests/v1`;
    const first = await request(url, { headers: OCI_ACCEPT });
    const challenge = String(first.headers["www-authenticate"]);
    const anonToken = await getToken(challenge);
    assert.deepEqual(ts.requests.at(-1)?.granted, [
      { type: "repository", name: "private/app", actions: [] },
    ]);
    const denied = await request(url, {
      headers: { ...OCI_ACCEPT, authorization: `Bearer ${anonToken}` },
    });
    assert.equal(denied.status, 401);
    assert.match(String(denied.headers["www-authenticate"]), /error="insufficient_scope"/);
    assert.equal(JSON.parse(denied.body.toString()).errors[0].code, "UNAUTHORIZED");
    const bobToken = await getToken(challenge, basicAuth(BOB.user, BOB.pass));
    assert.equal(ts.requests.at(-1)?.user, "bob");
    const ok = await request(url, {
      headers: { ...OCI_ACCEPT, authorization: `Bearer ${bobToken}` },
    });
    assert.equal(ok.status, 200);
  });

  it("grants only the intersection of asked and allowed actions", async () => {
    const u = new URL(ts.realm);
    u.searchParams.set("service", ts.service);
    u.searchParams.append("scope", "repository:private/app:pull,push");
    u.searchParams.append("scope", "repository:public/app:pull,push");
    const r = await request(u.href, { headers: { authorization: basicAuth(BOB.user, BOB.pass) } });
    assert.equal(r.status, 200);
    assert.deepEqual(ts.requests.at(-1)?.granted, [
      { type: "repository", name: "private/app", actions: ["pull"] },
      { type: "repository", name: "public/app", actions: ["pull"] },
    ]);
  });

  it("can be told to answer something else (override), and still records the request", async () => {
    ts.override = () => ({ status: 503, body: "down for maintenance" });
    try {
      const r = await request(`${ts.realm}?service=${ts.service}`);
      assert.equal(r.status, 503);
      assert.equal(r.body.toString(), "down for maintenance");
      assert.equal(ts.requests.at(-1)?.url, `/token?service=${ts.service}`);
    } finally {
      ts.override = undefined;
    }
    assert.equal((await request(`${ts.realm}?service=${ts.service}`)).status, 200);
  });

  it("refuses wrong credentials at the token server with 401", async () => {
    const u = `${ts.realm}?service=${ts.service}&scope=repository:private/app:pull`;
    const r = await request(u, { headers: { authorization: basicAuth("alice", "nope") } });
    assert.equal(r.status, 401);
    assert.equal(ts.requests.at(-1)?.status, 401);
    assert.equal(ts.requests.at(-1)?.withCredentials, true);
  });

  it("supports the OAuth2 POST form: password grant with a refresh token, then refresh_token", async () => {
    const form = new URLSearchParams({
      grant_type: "password",
      username: ALICE.user,
      password: ALICE.pass,
      service: ts.service,
      client_id: "kimg-harness",
      access_type: "offline",
      scope: "repository:private/app:pull",
    });
    const r1 = await request(ts.realm, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: form.toString(),
    });
    assert.equal(r1.status, 200, r1.body.toString());
    const b1 = JSON.parse(r1.body.toString());
    assert.equal(b1.scope, "repository:private/app:pull");
    assert.equal(typeof b1.refresh_token, "string");
    assert.equal(b1.expires_in, 300);
    const refresh = new URLSearchParams({
      grant_type: "refresh_token",
      refresh_token: b1.refresh_token,
      service: ts.service,
      client_id: "kimg-harness",
      scope: "repository:private/app:pull",
    });
    const r2 = await request(ts.realm, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: refresh.toString(),
    });
    assert.equal(r2.status, 200);
    const b2 = JSON.parse(r2.body.toString());
    assert.equal(b2.refresh_token, b1.refresh_token);
    assert.equal(ts.requests.at(-1)?.grantType, "refresh_token");
    assert.equal(ts.requests.at(-1)?.user, "alice");
    const ok = await request(`${reg.url}/v2/private/app/manifests/v1`, {
      headers: { ...OCI_ACCEPT, authorization: `Bearer ${b2.access_token}` },
    });
    assert.equal(ok.status, 200);
    const bad = await request(ts.realm, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ ...Object.fromEntries(form), password: "nope" }).toString(),
    });
    assert.equal(bad.status, 401);
  });

  it("the registry verifies tokens as Distribution 2.8 does (kid, x5c, issuer, audience, expiry, key)", async () => {
    const url = `${reg.url}/v2/public/app/manifests/v1`;
    const status = async (token: string) =>
      (await request(url, { headers: { ...OCI_ACCEPT, authorization: `Bearer ${token}` } })).status;
    const access = pullScope("public/app");
    assert.match(ts.kid, /^([A-Z2-7]{4}:){11}[A-Z2-7]{4}$/, "libtrust key ID");
    assert.equal(await status(ts.issueToken({ access, keyHeader: "kid" })), 200);
    assert.equal(await status(ts.issueToken({ access, keyHeader: "x5c" })), 200);
    assert.equal(await status(ts.issueToken({ access, keyHeader: "none" })), 401);
    assert.equal(await status(ts.issueToken({ access, untrusted: true })), 401);
    assert.equal(await status(ts.issueToken({ access, iss: "someone-else" })), 401);
    assert.equal(await status(ts.issueToken({ access, aud: "other-service" })), 401);
    assert.equal(await status(ts.issueToken({ access, aud: [ts.service] })), 401, "aud array");
    assert.equal(await status(ts.issueToken({ access, expiresIn: -120 })), 401, "expired");
    assert.equal(await status(ts.issueToken({ access, expiresIn: -30 })), 200, "60 s leeway");
    assert.equal(await status(ts.issueToken({ access, notBefore: 300 })), 401, "not yet valid");
  });

  it("records every token request, and the access log shows the 401-then-200 dance", async () => {
    await reg.settledAccessLog();
    reg.resetAccessLog();
    const before = ts.requests.length;
    const url = `${reg.url}/v2/public/app/blobs/${img.configDigest}`;
    const first = await request(url);
    const token = await getToken(String(first.headers["www-authenticate"]));
    const blob = await request(url, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(sha256(blob.body), img.configDigest);
    assert.equal(ts.requests.length, before + 1);
    assert.deepEqual(ts.requests.at(-1)?.scopes, ["repository:public/app:pull"]);
    const lines = await reg.settledAccessLog();
    assert.deepEqual(
      lines.map((l) => [l.method, l.path, l.status]),
      [
        ["GET", `/v2/public/app/blobs/${img.configDigest}`, 401],
        ["GET", `/v2/public/app/blobs/${img.configDigest}`, 200],
      ],
    );
  });
});

describe("harness lifecycle", { timeout: 60_000 }, () => {
  it("stop() kills the registry's process group and removes its dir", async () => {
    const reg = await startRegistry();
    assert.doesNotThrow(() => process.kill(reg.pid, 0));
    await reg.stop();
    assert.throws(() => process.kill(-reg.pid, 0), { code: "ESRCH" });
    assert.equal(existsSync(reg.dir), false);
    await reg.stop(); // idempotent
    const r = await request(`${reg.url}/v2/`).catch((e: Error) => e);
    assert.ok(r instanceof Error, "nothing listens any more");
  });

  let fromT: Registry | undefined;
  let tokenFromT: TokenServer | undefined;
  it("given a test context, starts things that stop when that test ends", async (t) => {
    tokenFromT = await startTokenServer({ t });
    fromT = await startRegistry({ t, auth: "token", tokenServer: tokenFromT });
    assert.equal((await request(`${fromT.url}/v2/`)).status, 401);
  });
  it("(…and they are gone in the next test)", async () => {
    assert.ok(fromT !== undefined && tokenFromT !== undefined);
    assert.equal(existsSync(fromT.dir), false);
    assert.throws(() => process.kill(-(fromT?.pid ?? 0), 0), { code: "ESRCH" });
    assert.equal(existsSync(tokenFromT.rootCertBundle), false);
    assert.ok((await request(tokenFromT.realm).catch((e: Error) => e)) instanceof Error);
  });

  it("ignores REGISTRY_* variables of the test process", async () => {
    const saved = process.env.REGISTRY_HTTP_ADDR;
    process.env.REGISTRY_HTTP_ADDR = "127.0.0.1:1";
    try {
      const reg = await startRegistry();
      try {
        assert.equal((await request(`${reg.url}/v2/`)).status, 200);
      } finally {
        await reg.stop();
      }
    } finally {
      if (saved === undefined) delete process.env.REGISTRY_HTTP_ADDR;
      else process.env.REGISTRY_HTTP_ADDR = saved;
    }
  });

  it("says .ci/run installs docker-registry when it is missing", async () => {
    const saved = process.env.PATH;
    process.env.PATH = "/nonexistent";
    try {
      await assert.rejects(
        startRegistry(),
        /docker-registry is not installed.*\.ci\/run installs it/s,
      );
    } finally {
      process.env.PATH = saved;
    }
  });

  it("fails with the registry's own error when it cannot start", async () => {
    await assert.rejects(
      startRegistry({
        editConfig: (c) => {
          c.storage = { nosuchdriver: {} };
        },
      }),
      /docker-registry exited before it was ready.*nosuchdriver/s,
    );
  });
});
