// "Two pulls of the same image at once, in one process or two, download each blob once"
// (issue 3 §1): the real Distribution registry, an image of several MiB-sized layers, then
// (a) two pull() calls in one process on one store, (b) two `kimg pull` processes (the built
// CLI) on one --store, lined up by a proxy that holds both resolves until both have arrived.
// Blob GETs are counted per digest from the registry's own access log: each exactly once. Both
// pulls succeed, fsck (re-hashing every blob) finds nothing wrong, one image record.

import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { after, before, describe, it } from "node:test";
import { pull } from "../../src/pull/index.ts";
import { FsBlobStore } from "../../src/store/index.ts";
import { makeTempDir, removeTempDir } from "../helpers/cleanup.ts";
import { type GateProxy, startGateProxy } from "../helpers/gate-proxy.ts";
import { type BuiltImage, buildImage } from "../helpers/images.ts";
import { type AccessLogLine, type Registry, startRegistry } from "../helpers/registry.ts";
import { inspectLayoutRaw, pushLayout } from "../helpers/skopeo.ts";

const BIN = resolve(import.meta.dirname, "../../dist/cli/kimg.cjs");
const MIB = 1024 * 1024;

interface Done {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function kimgPull(ref: string, store: string, started?: (c: ChildProcess) => void): Promise<Done> {
  const env = { ...process.env };
  delete env.KIMG_STORE;
  const child = spawn(
    process.execPath,
    [BIN, "pull", ref, "--policy", "Always", "--progress", "json", "--store", store],
    { env, stdio: ["ignore", "pipe", "pipe"] },
  );
  started?.(child);
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (s: string) => {
    stdout += s;
  });
  child.stderr.setEncoding("utf8").on("data", (s: string) => {
    stderr += s;
  });
  return new Promise((ok) => {
    child.on("close", (code, signal) => ok({ code, signal, stdout, stderr }));
  });
}

interface Result {
  digest: string;
  bytesDownloaded: number;
  blobsDownloaded: number;
  blobsSkipped: number;
}

function doneResult(stdout: string): Result {
  for (const line of stdout.trimEnd().split("\n")) {
    const e = JSON.parse(line) as { type: string; result?: Result };
    if (e.type === "done" && e.result !== undefined) return e.result;
  }
  throw new Error(`no done event in:\n${stdout}`);
}

/** GETs of blobs (answered 200, or 206 to a Range request) per digest. */
function blobGets(log: readonly AccessLogLine[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const l of log) {
    if (l.method !== "GET") continue;
    const m = /\/blobs\/(sha256:[0-9a-f]{64})$/.exec(l.path);
    if (m?.[1] === undefined) continue;
    assert.ok(l.status === 200 || l.status === 206, l.raw);
    out.set(m[1], (out.get(m[1]) ?? 0) + 1);
  }
  return out;
}

describe("two pulls of one image at once download each blob once", { timeout: 60_000 }, () => {
  let reg: Registry;
  let proxy: GateProxy;
  let img: BuiltImage;
  const dirs: string[] = [];
  const tmp = (): string => {
    const d = makeTempDir("kimg-concurrent-");
    dirs.push(d);
    return d;
  };

  before(async () => {
    reg = await startRegistry();
    proxy = await startGateProxy(reg);
    // Random bytes, stored (gzip level 0): the blobs are as large as the data.
    img = await buildImage({
      layers: [
        { randomBytes: 3 * MIB, gzipLevel: 0 },
        { randomBytes: 2 * MIB, gzipLevel: 0 },
        { randomBytes: 4 * MIB, gzipLevel: 0 },
        { randomBytes: 3 * MIB, gzipLevel: 0 },
        { randomBytes: 1000 },
      ],
      seed: "concurrent",
    });
    await pushLayout(img, "test/conc:v1", reg);
  });
  after(async () => {
    await proxy?.close();
    await reg?.stop();
    for (const d of [img?.layoutDir, ...dirs]) if (d !== undefined) removeTempDir(d);
  });

  const wantBlobs = (): string[] => [img.configDigest, ...img.layers.map((l) => l.digest)].sort();

  async function checkStore(dir: string, ref: string): Promise<void> {
    const store = await FsBlobStore.open(dir);
    const fsck = await store.fsck({ verifyBlobs: true });
    assert.deepEqual(fsck.corruptBlobs, []);
    assert.deepEqual(fsck.missingBlobs, []);
    assert.deepEqual(fsck.keptIngests, []);
    assert.equal(fsck.indexRepaired, false);
    const images = await store.listImages();
    assert.deepEqual(
      images.map((i) => [i.name, i.manifestDigest]),
      [[ref, img.manifestDigest]],
    );
    const index = JSON.parse(readFileSync(join(dir, "index.json"), "utf8")) as {
      manifests: { digest: string }[];
    };
    assert.deepEqual(
      index.manifests.map((m) => m.digest),
      [img.manifestDigest],
    );
    for (const dg of [img.manifestDigest, ...wantBlobs()]) assert.ok(await store.stat(dg), dg);
    assert.equal(await inspectLayoutRaw(dir, ref), img.manifest.toString());
  }

  it("(a) two pull() calls in one process on one store", async () => {
    const dir = tmp();
    const store = await FsBlobStore.open(dir);
    await reg.settledAccessLog();
    reg.resetAccessLog();
    const ref = `${reg.host}/test/conc:v1`;
    const rs = await Promise.all([pull(ref, { store }), pull(ref, { store })]);
    for (const r of rs) assert.equal(r.digest, img.manifestDigest);
    const log = await reg.settledAccessLog();
    assert.deepEqual(
      log.filter((l) => l.status !== 200).map((l) => l.raw),
      [],
    );
    const gets = blobGets(log);
    assert.deepEqual([...gets.keys()].sort(), wantBlobs());
    for (const [dg, count] of gets) assert.equal(count, 1, `${dg} fetched ${count} times`);
    // Between them, every blob downloaded once and skipped once.
    assert.equal(rs[0].blobsDownloaded + rs[1].blobsDownloaded, wantBlobs().length);
    assert.equal(rs[0].blobsSkipped + rs[1].blobsSkipped, wantBlobs().length);
    await checkStore(dir, ref);
  });

  it("(b) two kimg pull processes on one --store, started together", async () => {
    const dir = tmp();
    await reg.settledAccessLog();
    reg.resetAccessLog();
    // Both resolves are held until both have arrived: the two pulls overlap for sure.
    let arrived = 0;
    let release = (): void => {};
    const both = new Promise<void>((r) => {
      release = r;
    });
    proxy.reset({
      before: async (r) => {
        if (r.method === "HEAD" && r.path.includes("/manifests/")) {
          if (++arrived === 2) release();
          await both;
        }
      },
    });
    const ref = `${proxy.host}/test/conc:v1`;
    const [p1, p2] = await Promise.all([kimgPull(ref, dir), kimgPull(ref, dir)]);
    for (const p of [p1, p2]) assert.equal(p.code, 0, `exit ${p.code} ${p.signal}: ${p.stderr}`);
    assert.equal(arrived, 2);
    const r1 = doneResult(p1.stdout);
    const r2 = doneResult(p2.stdout);
    assert.equal(r1.digest, img.manifestDigest);
    assert.equal(r2.digest, img.manifestDigest);

    const gets = blobGets(await reg.settledAccessLog());
    assert.deepEqual([...gets.keys()].sort(), wantBlobs());
    for (const [dg, count] of gets) assert.equal(count, 1, `${dg} fetched ${count} times`);
    // The proxy saw the same: one whole GET per blob, none cut short.
    const viaProxy = proxy.requests.filter((r) => r.method === "GET" && r.path.includes("/blobs/"));
    assert.equal(viaProxy.length, wantBlobs().length);
    for (const r of viaProxy) assert.ok(r.complete && r.range === undefined, r.path);
    assert.equal(r1.blobsDownloaded + r2.blobsDownloaded, wantBlobs().length);
    const blobBytes = img.configSize + img.layers.reduce((n, l) => n + l.size, 0);
    // Manifests may be fetched by both (they are not blobs); blob bytes come in once.
    assert.equal(r1.bytesDownloaded + r2.bytesDownloaded - blobBytes <= 2 * img.manifestSize, true);
    assert.ok(r1.bytesDownloaded + r2.bytesDownloaded >= blobBytes + img.manifestSize);
    await checkStore(dir, ref);
  });

  it("(c) two kimg pulls, the one downloading a layer killed: the other resumes it", async () => {
    const dir = tmp();
    await reg.settledAccessLog();
    reg.resetAccessLog();
    const layer = img.layers[2];
    assert.ok(layer !== undefined);
    const key = layer.digest.replace(":", "-");
    const children: ChildProcess[] = [];
    let victim: number | undefined;
    let arrived = 0;
    let release = (): void => {};
    const both = new Promise<void>((r) => {
      release = r;
    });
    proxy.reset({
      before: async (r) => {
        if (r.method === "HEAD" && r.path.includes("/manifests/")) {
          if (++arrived === 2) release();
          await both;
        }
      },
      // The first GET of the layer stops half-way; its puller (the ingest lock's holder) is
      // SIGKILLed once some of it is on disk, while the other waits for that lock.
      cutAt: (r) =>
        r.method === "GET" && r.path.endsWith(layer.digest) && r.range === undefined
          ? Math.floor(r.length / 2)
          : undefined,
      onCut: () => {
        void (async () => {
          const data = join(dir, "ingest", key, "data");
          const until = Date.now() + 5000;
          while (Date.now() < until) {
            try {
              if (statSync(data).size > 0) break;
            } catch {
              // not yet
            }
            await new Promise((ok) => setTimeout(ok, 5));
          }
          const owner = JSON.parse(readFileSync(join(dir, "locks", `${key}.lock`), "utf8")) as {
            pid: number;
          };
          victim = owner.pid;
          children.find((c) => c.pid === owner.pid)?.kill("SIGKILL");
        })();
      },
    });
    const ref = `${proxy.host}/test/conc:v1`;
    const ps = await Promise.all([
      kimgPull(ref, dir, (c) => children.push(c)),
      kimgPull(ref, dir, (c) => children.push(c)),
    ]);
    assert.ok(victim !== undefined, "the layer's puller was found");
    const killed = ps[children.findIndex((c) => c.pid === victim)];
    const survivor = ps[children.findIndex((c) => c.pid !== victim)];
    assert.equal(killed?.signal, "SIGKILL");
    assert.equal(survivor?.code, 0, survivor?.stderr);

    // The layer: one GET cut short, then one Range GET for the rest; every other blob once.
    const gets = proxy.requests.filter((r) => r.method === "GET" && r.path.includes("/blobs/"));
    const forLayer = gets.filter((r) => r.path.endsWith(layer.digest));
    assert.equal(forLayer.length, 2, forLayer.map((r) => r.range).join());
    assert.equal(forLayer[0]?.range, undefined);
    const from = Number(/^bytes=(\d+)-$/.exec(forLayer[1]?.range ?? "")?.[1]);
    assert.ok(from > 0 && from <= layer.size / 2, `resumed from ${from}`);
    assert.equal(forLayer[1]?.bytes, layer.size - from);
    // Every blob came from the start once, except those the killed pull was fetching beside the
    // layer (at most jobs − 1 = 2) without a byte of them on disk yet: nothing to resume, so the
    // survivor fetches them whole. (What the proxy passed on is no measure of what the killed
    // pull had written: up to megabytes sit in socket buffers.) What was on disk was resumed
    // with a Range request.
    const log = blobGets(await reg.settledAccessLog());
    assert.deepEqual([...log.keys()].sort(), wantBlobs());
    let refetched = 0;
    for (const dg of wantBlobs()) {
      const rs = gets.filter((r) => r.path.endsWith(dg));
      const whole = rs.filter((r) => r.range === undefined);
      assert.ok(whole.length >= 1 && whole.length <= 2, `${dg}: ${whole.length} whole GETs`);
      if (dg === layer.digest) assert.equal(whole.length, 1, "the killed layer is resumed");
      refetched += whole.length - 1;
      for (const r of rs.filter((x) => x.range !== undefined)) {
        assert.match(r.range ?? "", /^bytes=[1-9]\d*-$/, dg);
      }
      assert.equal(log.get(dg), rs.length, dg);
    }
    assert.ok(refetched <= 2, `${refetched} blobs fetched whole twice`);
    await checkStore(dir, ref);
  });
});
