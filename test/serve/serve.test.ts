// kimg serve (read-only registry over the store) with real clients: skopeo and crane pull
// from it with the digests kimg pulled; Range and ETag as the spec says; errors in the spec's
// JSON with its codes; a digest is served only in a repository whose images need it; pages
// with Link; containerd's ?ns=; graceful shutdown lets a download in flight finish.

import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { killProcessGroup, makeTempDir, removeTempDir } from "../helpers/cleanup.ts";
import { request } from "../helpers/http.ts";
import {
  type BuiltImage,
  type BuiltIndex,
  buildImage,
  buildIndex,
  PLATFORMS,
} from "../helpers/images.ts";
import { runKimg } from "../helpers/kimg-cli.ts";
import { type KimgServe, startKimgServe } from "../helpers/kimg-serve.ts";
import { peerBin } from "../helpers/peers.ts";
import { type Registry, startRegistry } from "../helpers/registry.ts";
import { pushLayout } from "../helpers/skopeo.ts";

const exec = promisify(execFile);

describe("kimg serve: the store as a registry", () => {
  let reg: Registry;
  let work: string;
  let store: string;
  let img: BuiltImage;
  let idx: BuiltIndex;
  let other: BuiltImage;
  let srv: KimgServe;
  const crane = peerBin("crane");
  before(async () => {
    reg = await startRegistry();
    work = makeTempDir("serve");
    store = `${work}/store`;
    img = await buildImage({
      dir: `${work}/img`,
      layers: [{ randomBytes: 2_000_000 }, { randomBytes: 5000 }],
    });
    other = await buildImage({
      dir: `${work}/other`,
      layers: [{ randomBytes: 3000 }],
      seed: "other",
    });
    idx = await buildIndex({
      dir: `${work}/idx`,
      images: [
        { platform: PLATFORMS.linuxAmd64, layers: [{ randomBytes: 1000 }] },
        { platform: PLATFORMS.linuxArm64, layers: [{ randomBytes: 1000 }] },
      ],
    });
    await pushLayout(img, "shop/web:1.0", reg);
    await pushLayout(other, "shop/secret:1", reg);
    await pushLayout(idx, "shop/multi:2", reg, { all: true });
    for (const tag of ["a", "b", "c", "d", "e"]) await pushLayout(img, `shop/web:${tag}`, reg);
    for (const ref of [
      "shop/web:1.0",
      "shop/secret:1",
      "shop/multi:2",
      "shop/web:a",
      "shop/web:b",
      "shop/web:c",
      "shop/web:d",
      "shop/web:e",
    ]) {
      const r = await runKimg([
        "pull",
        "--store",
        store,
        "--progress",
        "plain",
        `${reg.host}/${ref}`,
      ]);
      assert.equal(r.code, 0, r.stderr);
    }
    srv = await startKimgServe(store, ["--access-log"]);
  });
  after(async () => {
    if (srv !== undefined) await killProcessGroup(srv.child);
    await reg?.stop();
    if (work !== undefined) removeTempDir(work);
  });

  it("serves what skopeo and crane pull, with the digests the store holds", async () => {
    const ref = `${srv.host}/shop/web:1.0`;
    assert.equal(
      (await exec(crane, ["digest", ref], { encoding: "utf8" })).stdout.trim(),
      img.manifestDigest,
    );
    await exec("skopeo", [
      "copy",
      "--quiet",
      "--src-tls-verify=false",
      "--preserve-digests",
      `docker://${ref}`,
      `oci:${work}/out:v1`,
    ]);
    const raw = (
      await exec("skopeo", ["inspect", "--raw", `oci:${work}/out:v1`], { encoding: "buffer" })
    ).stdout as Buffer;
    assert.equal(`sha256:${createHash("sha256").update(raw).digest("hex")}`, img.manifestDigest);
    await exec(crane, ["pull", "--format", "oci", ref, `${work}/crane-out`]);
    const arm = await exec(crane, ["digest", `${srv.host}/shop/multi:2`], {
      encoding: "utf8",
    });
    assert.equal(arm.stdout.trim(), await storeTargetDigest(`${reg.host}/shop/multi:2`));
    // crane ls / catalog read the same lists, through pages.
    const tags = (await exec(crane, ["ls", `${srv.host}/shop/web`], { encoding: "utf8" })).stdout
      .trim()
      .split("\n");
    assert.deepEqual(tags, ["1.0", "a", "b", "c", "d", "e"]);
    const catalog = (await exec(crane, ["catalog", srv.host], { encoding: "utf8" })).stdout
      .trim()
      .split("\n");
    assert.deepEqual(catalog, ["shop/multi", "shop/secret", "shop/web"]);
    // kimg itself reads it as a registry too.
    const ls = await runKimg(["ls", "--page-size", "2", `${srv.host}/shop/web`]);
    assert.equal(ls.stdout, "1.0\na\nb\nc\nd\ne\n");
  });

  async function storeTargetDigest(name: string): Promise<string> {
    const r = await runKimg(["images", "--json", "--store", store]);
    const list = JSON.parse(r.stdout) as {
      name: string;
      target?: { digest: string };
      indexDigest?: string;
      manifestDigest: string;
    }[];
    const rec = list.find((x) => x.name === name);
    return rec?.target?.digest ?? rec?.indexDigest ?? rec?.manifestDigest ?? "";
  }

  it("answers Range with 206 and Content-Range, 416 past the end, and sends ETag", async () => {
    const layer = img.layers[0];
    assert.ok(layer !== undefined);
    const path = `/v2/shop/web/blobs/${layer.digest}`;
    const whole = await request(`${srv.url}${path}`, { method: "HEAD" });
    assert.equal(whole.status, 200);
    assert.equal(whole.headers["content-length"], String(layer.size));
    assert.equal(whole.headers.etag, `"${layer.digest}"`);
    assert.equal(whole.headers["docker-content-digest"], layer.digest);
    const part = await request(`${srv.url}${path}`, { headers: { range: "bytes=100-199" } });
    assert.equal(part.status, 206);
    assert.equal(part.headers["content-range"], `bytes 100-199/${layer.size}`);
    assert.equal(part.body.length, 100);
    const past = await request(`${srv.url}${path}`, { headers: { range: `bytes=${layer.size}-` } });
    assert.equal(past.status, 416);
    assert.equal(past.headers["content-range"], `bytes */${layer.size}`);
  });

  it("speaks the spec's errors, and serves a digest only in a repository that needs it", async () => {
    const get = async (p: string, method = "GET") => {
      const r = await request(`${srv.url}${p}`, { method });
      return {
        status: r.status,
        code:
          method === "HEAD"
            ? undefined
            : JSON.parse(r.body.toString("utf8") || "{}").errors?.[0]?.code,
      };
    };
    assert.deepEqual(await get(`/v2/shop/web/manifests/nope`), {
      status: 404,
      code: "MANIFEST_UNKNOWN",
    });
    assert.deepEqual(await get(`/v2/shop/none/tags/list`), {
      status: 404,
      code: "NAME_UNKNOWN",
    });
    const secretLayer = other.layers[0]?.digest ?? "";
    assert.deepEqual(
      await get(`/v2/shop/web/blobs/${secretLayer}`),
      { status: 404, code: "BLOB_UNKNOWN" },
      "not through another repository's name",
    );
    assert.equal((await get(`/v2/shop/secret/blobs/${secretLayer}`, "HEAD")).status, 200);
    assert.deepEqual(
      await get(`/v2/shop/web/manifests/${img.layers[0]?.digest}`),
      { status: 404, code: "MANIFEST_UNKNOWN" },
      "a layer is not a manifest",
    );
    assert.deepEqual(await get(`/v2/shop/web/blobs/sha256:xyz`), {
      status: 400,
      code: "DIGEST_INVALID",
    });
    assert.deepEqual(await get(`/v2/shop/web/manifests/1.0`, "DELETE"), {
      status: 405,
      code: "UNSUPPORTED",
    });
    assert.deepEqual(await get(`/v2/shop/web/tags/list?n=abc`), {
      status: 400,
      code: "PAGINATION_NUMBER_INVALID",
    });
    const referrers = await request(`${srv.url}/v2/shop/web/referrers/${img.manifestDigest}`);
    assert.equal(referrers.status, 200);
    assert.deepEqual(JSON.parse(referrers.body.toString("utf8")).manifests, []);
  });

  it("takes containerd's ?ns= with the repository path, and pages with Link", async () => {
    const h = await request(`${srv.url}/v2/shop/web/manifests/1.0?ns=${reg.host}`, {
      method: "HEAD",
    });
    assert.equal(h.status, 200);
    assert.equal(h.headers["docker-content-digest"], img.manifestDigest);
    assert.equal(
      (await request(`${srv.url}/v2/shop/web/manifests/1.0?ns=quay.io`, { method: "HEAD" })).status,
      404,
    );
    const p1 = await request(`${srv.url}/v2/shop/web/tags/list?n=4`);
    assert.deepEqual(JSON.parse(p1.body.toString("utf8")).tags, ["1.0", "a", "b", "c"]);
    assert.equal(p1.headers.link, `</v2/shop/web/tags/list?n=4&last=c>; rel="next"`);
    const p2 = await request(`${srv.url}/v2/shop/web/tags/list?n=4&last=c`);
    assert.deepEqual(JSON.parse(p2.body.toString("utf8")).tags, ["d", "e"]);
    assert.equal(p2.headers.link, undefined);
  });

  it("has /healthz, /metrics and a common-format access log", async () => {
    assert.equal((await request(`${srv.url}/healthz`)).status, 200);
    const metrics = (await request(`${srv.url}/metrics`)).body.toString("utf8");
    assert.match(metrics, /^kimg_serve_requests_total\{method="GET",code="200"\} \d+$/m);
    assert.match(metrics, /^kimg_serve_bytes_served_total \d+$/m);
    assert.match(
      srv.err(),
      /^127\.0\.0\.1 - - \[\d\d\/\w{3}\/\d{4}:\d\d:\d\d:\d\d \+0000\] "GET \/v2\/\S+ HTTP\/1\.1" 200 \d+ "-" "[^"]*"$/m,
    );
  });

  it("finishes a download in flight on SIGTERM, then exits 0; refuses a non-loopback host unless named", async () => {
    const s2 = await startKimgServe(store);
    const layer = img.layers[0];
    const got = request(`${s2.url}/v2/shop/web/blobs/${layer?.digest}`);
    await new Promise((r) => setTimeout(r, 20));
    s2.child.kill("SIGTERM");
    const res = await got;
    assert.equal(res.status, 200);
    assert.equal(`sha256:${createHash("sha256").update(res.body).digest("hex")}`, layer?.digest);
    const code = await new Promise<number | null>((r) => {
      if (s2.child.exitCode !== null) r(s2.child.exitCode);
      else s2.child.on("exit", (c) => r(c));
    });
    assert.equal(code, 0);
    const { FsBlobStore } = await import("../../src/store/index.ts");
    const { startRegistryServer } = await import("../../src/serve/index.ts");
    await assert.rejects(
      startRegistryServer({
        store: await FsBlobStore.openExisting(store),
        host: "0.0.0.0",
        port: 0,
      }),
      /refusing to listen on 0\.0\.0\.0: not a loopback address/,
    );
    const bad = await runKimg(["serve", "--store", store, "--listen", "nonsense"]);
    assert.equal(bad.code, 2, bad.stderr);
    assert.match(bad.stderr, /--listen: expected HOST:PORT/);
  });
});
