// pull() and pullWithPolicy() against the real Distribution registry of the test harness:
// fresh pulls verified in the store (and readable by skopeo), Always re-pulls that only HEAD,
// one changed layer fetched alone, platform selection from an index, pulls by digest, the
// kubelet's policy rules, a blob stream cut mid-way that resumes with Range, and concurrent
// pulls of one image that fetch each blob once.

import assert from "node:assert/strict";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { isKimgError } from "../../src/errors.ts";
import { type ProgressEvent, pull, pullWithPolicy } from "../../src/pull/index.ts";
import { FsBlobStore } from "../../src/store/index.ts";
import { makeTempDir, removeTempDir } from "../helpers/cleanup.ts";
import {
  type BuiltImage,
  type BuiltIndex,
  buildImage,
  buildIndex,
  PLATFORMS,
} from "../helpers/images.ts";
import { type Registry, startRegistry } from "../helpers/registry.ts";
import { inspectLayoutRaw, pushLayout } from "../helpers/skopeo.ts";

const LAYERS = [
  { randomBytes: 400_000, gzipLevel: 0 },
  { randomBytes: 3000 },
  { randomBytes: 100 },
];

describe("pull from a Distribution registry", { timeout: 180_000 }, () => {
  let reg: Registry;
  let img: BuiltImage;
  let img2: BuiltImage;
  let idx: BuiltIndex;
  const dirs: string[] = [];
  const tmp = (): string => {
    const d = makeTempDir("kimg-pull-");
    dirs.push(d);
    return d;
  };
  const blobGets = (log: { method: string; path: string }[]) =>
    log.filter((l) => l.method === "GET" && l.path.includes("/blobs/"));

  before(async () => {
    reg = await startRegistry();
    img = await buildImage({ layers: LAYERS, seed: "v1" });
    // v2: the same first two layers, another third one.
    img2 = await buildImage({
      layers: [LAYERS[0], LAYERS[1], { randomBytes: 200 }].flatMap((l) => (l ? [l] : [])),
      seed: "v1",
      config: { Env: ["V=2"] },
    });
    idx = await buildIndex({
      images: [PLATFORMS.linuxAmd64, PLATFORMS.linuxArm64].map((platform) => ({
        platform,
        layers: [{ randomBytes: 2000 }],
      })),
    });
    await pushLayout(img, "test/app:v1", reg);
    await pushLayout(idx, "test/multi:v1", reg, { all: true });
  });
  after(async () => {
    await reg?.stop();
    for (const d of [img?.layoutDir, img2?.layoutDir, idx?.layoutDir, ...dirs]) {
      if (d !== undefined) removeTempDir(d);
    }
  });

  const fresh = async () => {
    await reg.settledAccessLog();
    reg.resetAccessLog();
  };

  it("pulls a 3-layer image: every blob verified in the store, recorded, skopeo reads it", async () => {
    const dir = tmp();
    const store = await FsBlobStore.open(dir);
    const events: ProgressEvent[] = [];
    const r = await pull(`${reg.host}/test/app:v1`, {
      store,
      onProgress: (e) => events.push(e),
    });
    assert.equal(r.ref, `${reg.host}/test/app:v1`);
    assert.equal(r.digest, img.manifestDigest);
    assert.equal(r.platform, "linux/amd64");
    assert.equal(r.layers, 3);
    assert.equal(r.blobsDownloaded, 4);
    assert.equal(r.blobsSkipped, 0);
    assert.equal(r.upToDate, false);
    const total = img.manifestSize + img.configSize + img.layers.reduce((n, l) => n + l.size, 0);
    assert.equal(r.size, total);
    assert.equal(r.bytesDownloaded, total);
    for (const dg of [img.manifestDigest, img.configDigest, ...img.layers.map((l) => l.digest)]) {
      assert.ok(await store.stat(dg), dg);
    }
    const fsck = await store.fsck({ verifyBlobs: true });
    assert.deepEqual(fsck.corruptBlobs, []);
    assert.deepEqual(fsck.missingBlobs, []);
    const rec = await store.getImage(`${reg.host}/test/app:v1`);
    assert.equal(rec?.manifestDigest, img.manifestDigest);
    assert.deepEqual(rec?.platform, { os: "linux", architecture: "amd64" });
    assert.deepEqual(rec?.credential, { kind: "anonymous" });
    const raw = await inspectLayoutRaw(dir, `${reg.host}/test/app:v1`);
    assert.equal(raw, img.manifest.toString());
    const types = events.map((e) => e.type);
    assert.equal(types[0], "resolve");
    assert.equal(types.at(-1), "done");
    assert.equal(types.filter((t) => t === "blob-done").length, 4);
    assert.ok(types.includes("blob-progress"));

    // Always again: one HEAD, nothing else.
    await fresh();
    const again = await pull(`${reg.host}/test/app:v1`, { store });
    assert.equal(again.upToDate, true);
    assert.equal(again.bytesDownloaded, 0);
    assert.equal(again.blobsSkipped, 4);
    const log = await reg.settledAccessLog();
    assert.deepEqual(
      log.map((l) => `${l.method} ${l.path}`),
      [`HEAD /v2/test/app/manifests/v1`],
    );

    // A new version changing one layer: only that layer's blob (and the new config).
    await pushLayout(img2, "test/app:v1", reg);
    await fresh();
    const v2 = await pull(`${reg.host}/test/app:v1`, { store });
    assert.equal(v2.digest, img2.manifestDigest);
    assert.equal(v2.blobsDownloaded, 2);
    assert.equal(v2.blobsSkipped, 2);
    const gets = blobGets(await reg.settledAccessLog()).map((l) => l.path.split("/").at(-1));
    assert.deepEqual(gets.sort(), [img2.configDigest, img2.layers[2]?.digest].sort());
    await pushLayout(img, "test/app:v1", reg);
  });

  it("selects linux/arm64 from an index; a platform miss lists the available ones", async () => {
    const store = await FsBlobStore.open(tmp());
    const r = await pull(`${reg.host}/test/multi:v1`, { store, platform: "linux/arm64" });
    const arm = idx.images.find((i) => i.platform.architecture === "arm64");
    assert.equal(r.digest, arm?.manifestDigest);
    assert.equal(r.indexDigest, idx.indexDigest);
    assert.equal(r.platform, "linux/arm64/v8");
    const rec = await store.getImage(`${reg.host}/test/multi:v1`);
    assert.equal(rec?.target.digest, idx.indexDigest);
    assert.equal(rec?.indexDigest, idx.indexDigest);
    await assert.rejects(
      pull(`${reg.host}/test/multi:v1`, { store, platform: "linux/s390x" }),
      (e: unknown) =>
        isKimgError(e, "PLATFORM_NOT_FOUND") &&
        /available: linux\/amd64, linux\/arm64\/v8/.test(e.message),
    );
  });

  it("pulls by digest, verified against the digest", async () => {
    const store = await FsBlobStore.open(tmp());
    const ref = `${reg.host}/test/app@${img.manifestDigest}`;
    const r = await pull(ref, { store });
    assert.equal(r.digest, img.manifestDigest);
    assert.equal(r.ref, ref);
    assert.ok(await store.getImage(ref));
    await assert.rejects(
      pull(`${reg.host}/test/app@sha256:${"0".repeat(64)}`, { store }),
      (e: unknown) => isKimgError(e, "MANIFEST_UNKNOWN"),
    );
  });

  it("applies the kubelet's policy rules", async () => {
    const store = await FsBlobStore.open(tmp());
    const ref = `${reg.host}/test/app:v1`;
    await assert.rejects(pullWithPolicy(ref, "Never", { store }), (e: unknown) => {
      assert.ok(isKimgError(e, "ERR_IMAGE_NEVER_PULL"));
      assert.equal(e.message, `Container image "${ref}" is not present with pull policy of Never`);
      return true;
    });
    const first = await pullWithPolicy(ref, undefined, { store }); // v1 ⇒ IfNotPresent
    assert.equal(first.action, "pull");
    assert.equal(first.policy, "IfNotPresent");
    await fresh();
    const second = await pullWithPolicy(ref, "IfNotPresent", { store });
    assert.equal(second.action, "use-local");
    assert.equal(second.message, `Container image "${ref}" already present on machine`);
    const never = await pullWithPolicy(ref, "Never", { store });
    assert.equal(never.action, "use-local");
    assert.deepEqual(await reg.settledAccessLog(), []);
    const always = await pullWithPolicy(ref, "Always", { store });
    assert.equal(always.action, "pull");
    assert.equal(always.message, `Image is up to date for ${ref}`);
  });

  it("resumes a blob whose stream broke mid-way with a Range request", async () => {
    const big = img.layers[0];
    assert.ok(big);
    let cut = 0;
    const ranges: string[] = [];
    const proxy = http.createServer((req, res) => {
      const up = http.request(
        `${reg.url}${req.url}`,
        { method: req.method, headers: { ...req.headers, host: reg.host } },
        (ur) => {
          const isBig = req.method === "GET" && req.url?.endsWith(big.digest) === true;
          if (isBig) ranges.push(String(req.headers.range ?? ""));
          res.writeHead(ur.statusCode ?? 502, ur.headers);
          if (isBig && cut === 0) {
            cut++;
            let sent = 0;
            ur.on("data", (c: Buffer) => {
              if (sent >= 150_000) return;
              res.write(c.subarray(0, 150_000 - sent));
              sent += Math.min(c.length, 150_000 - sent);
              if (sent >= 150_000) {
                ur.destroy();
                setTimeout(() => res.socket?.destroy(), 50);
              }
            });
            return;
          }
          ur.pipe(res);
        },
      );
      up.on("error", () => res.destroy());
      req.pipe(up);
    });
    await new Promise<void>((r) => proxy.listen(0, "127.0.0.1", r));
    try {
      const host = `127.0.0.1:${(proxy.address() as AddressInfo).port}`;
      const store = await FsBlobStore.open(tmp());
      const starts: number[] = [];
      const r = await pull(`${host}/test/app:v1`, {
        store,
        onProgress: (e) => {
          if (e.type === "blob-start" && e.digest === big.digest) starts.push(e.offset);
        },
      });
      assert.equal(r.digest, img.manifestDigest);
      assert.ok(await store.stat(big.digest));
      assert.equal(ranges.length, 2);
      assert.equal(ranges[0], "");
      assert.match(ranges[1] ?? "", /^bytes=\d+-$/);
      assert.ok((starts[1] ?? 0) > 0, `resumed at ${starts[1]}`);
      assert.equal(ranges[1], `bytes=${starts[1]}-`);
    } finally {
      proxy.closeAllConnections();
      await new Promise<void>((r) => proxy.close(() => r()));
    }
  });

  it("concurrent pulls of one image in one process download each blob once", async () => {
    const dir = tmp();
    const [s1, s2] = await Promise.all([FsBlobStore.open(dir), FsBlobStore.open(dir)]);
    await fresh();
    const ref = `${reg.host}/test/app:v1`;
    const rs = await Promise.all([
      pull(ref, { store: s1 }),
      pull(ref, { store: s2 }),
      pull(ref, { store: s1 }),
    ]);
    for (const r of rs) assert.equal(r.digest, img.manifestDigest);
    const gets = blobGets(await reg.settledAccessLog()).map((l) => l.path);
    assert.equal(gets.length, new Set(gets).size, gets.join("\n"));
    assert.equal(gets.length, 4);
    assert.equal(
      rs.reduce((n, r) => n + r.blobsDownloaded, 0),
      4,
    );
  });
});
