import assert from "node:assert/strict";
import { chmodSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { mkdir, readdir, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { isKimgError } from "../../src/errors.ts";
import { defaultStoreDir, FsBlobStore, STORE_DEFAULTS, writeBlob } from "../../src/store/index.ts";
import { localIdentity } from "../../src/store/lock.ts";
import { makeTempDir } from "../helpers/cleanup.ts";
import { blobStoreContract, servingSource } from "./contract.ts";
import { blobBytes, descriptorOf, readAll, type TempStore, tempStore } from "./fixtures.ts";

blobStoreContract("FsBlobStore", tempStore);

const code = (c: string) => (e: unknown) => isKimgError(e) && e.code === c;

describe("FsBlobStore on disk", () => {
  const stores: TempStore[] = [];
  after(async () => {
    for (const s of stores) await s.cleanup();
  });
  const fresh = async (opts?: Parameters<typeof tempStore>[0]) => {
    const s = await tempStore(opts);
    stores.push(s);
    return s;
  };

  it("is an OCI image layout: oci-layout, index.json, blobs/<alg>/<hex> read-only", async () => {
    const { dir, store } = await fresh();
    assert.deepEqual(JSON.parse(readFileSync(join(dir, "oci-layout"), "utf8")), {
      imageLayoutVersion: "1.0.0",
    });
    const index = JSON.parse(readFileSync(join(dir, "index.json"), "utf8"));
    assert.equal(index.schemaVersion, 2);
    assert.deepEqual(index.manifests, []);
    assert.equal(JSON.parse(readFileSync(join(dir, "kimg.json"), "utf8")).storeVersion, 1);
    const data = blobBytes("layout", 1000);
    const desc = descriptorOf(data);
    await writeBlob(store, desc, servingSource(data).openAt);
    const p = join(dir, "blobs", "sha256", desc.digest.slice(7));
    assert.equal(store.path(desc.digest), p);
    assert.equal(statSync(p).mode & 0o777, 0o444);
    assert.deepEqual(await readdir(join(dir, "ingest")), [], "ingest cleaned after commit");
    assert.deepEqual(await readdir(join(dir, "locks")), [], "lock released");
  });

  it("opening twice (or from two processes) keeps what is there", async () => {
    const { dir, store } = await fresh();
    const data = blobBytes("reopen", 10);
    const desc = descriptorOf(data);
    await writeBlob(store, desc, servingSource(data).openAt);
    await store.putImage({
      name: "x",
      target: { ...desc, mediaType: "application/vnd.oci.image.manifest.v1+json" },
      manifestDigest: desc.digest,
      blobs: [],
    });
    const again = await FsBlobStore.open(dir);
    assert.equal((await again.listImages()).length, 1);
  });

  it("keeps a sidecar with size, checkpoint offset and validator for resume", async () => {
    const { dir, store } = await fresh({ checkpointBytes: 1000 });
    const data = blobBytes("sidecar", 5000);
    const desc = descriptorOf(data);
    const w = await store.ingest(desc);
    await w.setValidator({ etag: '"abc"' });
    await w.write(data.subarray(0, 2500));
    const ingestDir = join(dir, "ingest", `sha256-${desc.digest.slice(7)}`);
    const status = JSON.parse(readFileSync(join(ingestDir, "status.json"), "utf8"));
    assert.equal(status.size, 5000);
    assert.equal(status.digest, desc.digest);
    assert.equal(status.checkpoint.offset, 2500, "checkpointed after passing 1000 bytes");
    assert.deepEqual(status.validator, { etag: '"abc"' });
    assert.equal(statSync(join(ingestDir, "data")).size, 2500);
    await w.close();
    const r = await store.ingest(desc);
    assert.deepEqual(r.validator, { etag: '"abc"' });
    assert.equal(r.offset, 2500);
    await r.abort();
  });

  it("resumes bytes written after the last checkpoint (a kill -9 loses nothing)", async () => {
    const { dir, store } = await fresh({ checkpointBytes: 1000 });
    const data = blobBytes("tail", 5000);
    const desc = descriptorOf(data);
    const w = await store.ingest(desc);
    await w.write(data.subarray(0, 1200)); // checkpoint at 1200
    await w.write(data.subarray(1200, 1700)); // not checkpointed
    // Simulate a crash: the lock holder vanishes without close().
    const ingestDir = join(dir, "ingest", `sha256-${desc.digest.slice(7)}`);
    const status = JSON.parse(readFileSync(join(ingestDir, "status.json"), "utf8"));
    assert.equal(status.checkpoint.offset, 1200);
    await w.close(); // (close would checkpoint 1700; rewrite the sidecar as the crash left it)
    writeFileSync(join(ingestDir, "status.json"), JSON.stringify(status));
    const r = await store.ingest(desc);
    assert.equal(r.resume, "resumed");
    assert.equal(r.offset, 1700);
    await r.write(data.subarray(1700));
    await r.commit();
  });

  it("detects a corrupt partial on reopen and starts over", async () => {
    const { dir, store } = await fresh();
    const data = blobBytes("corrupt", 6000);
    const desc = descriptorOf(data);
    const w = await store.ingest(desc);
    await w.write(data.subarray(0, 4000));
    await w.close();
    const dataPath = join(dir, "ingest", `sha256-${desc.digest.slice(7)}`, "data");
    const partial = readFileSync(dataPath);
    partial[100] = (partial[100] ?? 0) ^ 0xff;
    writeFileSync(dataPath, partial);
    const r = await store.ingest(desc);
    assert.equal(r.resume, "restarted");
    assert.equal(r.offset, 0);
    await r.write(data);
    await r.commit();
    assert.deepEqual(await readAll(await store.open(desc.digest, { verify: true })), data);
  });

  it("starts over when the partial is shorter than its checkpoint or longer than the blob", async () => {
    const { dir, store } = await fresh();
    const data = blobBytes("trunc", 6000);
    const desc = descriptorOf(data);
    const w = await store.ingest(desc);
    await w.write(data.subarray(0, 4000));
    await w.close();
    const dataPath = join(dir, "ingest", `sha256-${desc.digest.slice(7)}`, "data");
    writeFileSync(dataPath, data.subarray(0, 3000));
    const r = await store.ingest(desc);
    assert.equal(r.resume, "restarted");
    await r.close();
    writeFileSync(dataPath, blobBytes("long", 7000));
    const r2 = await store.ingest(desc);
    assert.equal(r2.resume, "restarted");
    assert.equal(r2.offset, 0);
    await r2.abort();
  });

  it("replaces a torn blob left at the final path by a foreign tool", async () => {
    const { store } = await fresh();
    const data = blobBytes("torn", 3000);
    const desc = descriptorOf(data);
    writeFileSync(store.path(desc.digest), data.subarray(0, 1000));
    assert.equal((await store.stat(desc.digest))?.size, 1000);
    const r = await writeBlob(store, desc, servingSource(data).openAt);
    assert.equal(r.written, 3000);
    assert.deepEqual(await readAll(await store.open(desc.digest, { verify: true })), data);
  });

  it("says SIZE_MISMATCH (and keeps the blob) when only the descriptor's size is wrong", async () => {
    const { store } = await fresh();
    const data = blobBytes("size", 3000);
    const desc = descriptorOf(data);
    await writeBlob(store, desc, servingSource(data).openAt);
    await assert.rejects(store.ingest({ ...desc, size: 2999 }), code("SIZE_MISMATCH"));
    assert.equal((await store.stat(desc.digest))?.size, 3000);
  });

  it("fails a read with verify when the blob rotted", async () => {
    const { store } = await fresh();
    const data = blobBytes("rot", 3000);
    const desc = descriptorOf(data);
    await writeBlob(store, desc, servingSource(data).openAt);
    const p = store.path(desc.digest);
    chmodSync(p, 0o644);
    const bad = Buffer.from(data);
    bad[0] = (bad[0] ?? 0) ^ 1;
    writeFileSync(p, bad);
    await assert.rejects(
      readAll(await store.open(desc.digest, { verify: true })),
      code("DIGEST_MISMATCH"),
    );
  });

  it("aborting a wait throws ABORTED and leaves the holder alone", async () => {
    const { store } = await fresh();
    const data = blobBytes("wait", 3000);
    const desc = descriptorOf(data);
    const w = await store.ingest(desc);
    const ac = new AbortController();
    const waiting = store.ingest(desc, { signal: ac.signal });
    setTimeout(() => ac.abort(), 20);
    await assert.rejects(waiting, code("ABORTED"));
    await w.write(data);
    await w.commit();
    assert.equal((await store.ingest(desc)).resume, "exists");
  });
});

describe("defaultStoreDir", () => {
  it("prefers $KIMG_STORE, then $XDG_DATA_HOME/kimg, then ~/.local/share/kimg", () => {
    assert.equal(defaultStoreDir({ KIMG_STORE: "/s", XDG_DATA_HOME: "/x" }, "/h"), "/s");
    assert.equal(defaultStoreDir({ XDG_DATA_HOME: "/x" }, "/h"), "/x/kimg");
    assert.equal(defaultStoreDir({}, "/h"), "/h/.local/share/kimg");
    assert.equal(
      defaultStoreDir({ KIMG_STORE: "", XDG_DATA_HOME: "" }, "/h"),
      "/h/.local/share/kimg",
    );
    // The XDG spec: relative paths are invalid and ignored.
    assert.equal(defaultStoreDir({ XDG_DATA_HOME: "rel" }, "/h"), "/h/.local/share/kimg");
  });

  it("has frozen defaults", () => {
    assert.ok(Object.isFrozen(STORE_DEFAULTS));
    assert.equal(STORE_DEFAULTS.lockRetryMinMs, 16);
  });
});

describe("image records", () => {
  const stores: TempStore[] = [];
  after(async () => {
    for (const s of stores) await s.cleanup();
  });
  const MANIFEST = "application/vnd.oci.image.manifest.v1+json";
  const INDEX = "application/vnd.oci.image.index.v1+json";

  async function withBlobs(seeds: string[], opts?: Parameters<typeof tempStore>[0]) {
    const s = await tempStore(opts);
    stores.push(s);
    const descs = [];
    for (const seed of seeds) {
      const data = blobBytes(seed, 100 + seed.length);
      const desc = descriptorOf(data);
      await writeBlob(s.store, desc, servingSource(data).openAt);
      descs.push(desc);
    }
    return { ...s, descs };
  }

  const indexOf = (dir: string) => JSON.parse(readFileSync(join(dir, "index.json"), "utf8"));

  it("a present image is found by repo@digest as containerd's CRI finds it, not in another repo", async () => {
    const { store, descs } = await withBlobs(["manifest", "config", "layer", "index"]);
    const [m, c, l, i] = descs;
    assert.ok(m && c && l && i);
    await store.putImage({
      name: "registry.example:5000/team/app:v1",
      target: { mediaType: MANIFEST, digest: m.digest, size: m.size },
      manifestDigest: m.digest,
      indexDigest: i.digest,
      blobs: [i.digest, c.digest, l.digest],
    });
    const byDigest = await store.getPresentImage(`registry.example:5000/team/app@${m.digest}`);
    assert.equal(byDigest?.name, "registry.example:5000/team/app:v1");
    // The index the tag resolved to names it too (the CRI's repoDigests).
    const byIndex = await store.getPresentImage(`registry.example:5000/team/app@${i.digest}`);
    assert.equal(byIndex?.name, "registry.example:5000/team/app:v1");
    assert.equal(await store.getPresentImage(`registry.example:5000/other@${m.digest}`), undefined);
    assert.equal(
      await store.getPresentImage(`registry.example:5000/team/app@sha256:${"2".repeat(64)}`),
      undefined,
    );
    // A tag of another name is not this image.
    assert.equal(await store.getPresentImage("registry.example:5000/team/app:v2"), undefined);
  });

  it("puts, gets, lists and removes images; index.json follows by ref name", async () => {
    const { dir, store, descs } = await withBlobs(["manifest", "config", "layer"]);
    const [m, c, l] = descs;
    assert.ok(m && c && l);
    const rec = await store.putImage({
      name: "alpine:3.20",
      target: { mediaType: MANIFEST, digest: m.digest, size: m.size },
      manifestDigest: m.digest,
      platform: { os: "linux", architecture: "amd64" },
      credential: { kind: "anonymous" },
      blobs: [c.digest, l.digest],
      pulledAt: new Date("2026-01-02T03:04:05Z"),
    });
    assert.equal(rec.name, "docker.io/library/alpine:3.20");
    assert.equal(rec.size, m.size + c.size + l.size);
    assert.equal(rec.pulledAt, "2026-01-02T03:04:05.000Z");
    assert.deepEqual(rec.blobs, [m.digest, c.digest, l.digest].sort());
    assert.deepEqual(await store.getImage("docker.io/library/alpine:3.20"), rec);
    let index = indexOf(dir);
    assert.equal(index.manifests.length, 1);
    assert.equal(
      index.manifests[0].annotations["org.opencontainers.image.ref.name"],
      "docker.io/library/alpine:3.20",
    );
    assert.deepEqual(index.manifests[0].platform, { os: "linux", architecture: "amd64" });
    // Idempotent: the same put again leaves one entry.
    await store.putImage({
      name: "docker.io/library/alpine:3.20",
      target: { mediaType: MANIFEST, digest: m.digest, size: m.size },
      manifestDigest: m.digest,
      blobs: [c.digest, l.digest],
    });
    index = indexOf(dir);
    assert.equal(index.manifests.length, 1);
    await store.putImage({
      name: "alpine",
      target: { mediaType: MANIFEST, digest: m.digest, size: m.size },
      manifestDigest: m.digest,
      blobs: [],
    });
    assert.deepEqual(
      (await store.listImages()).map((r) => r.name),
      ["docker.io/library/alpine:3.20", "docker.io/library/alpine:latest"],
    );
    assert.equal(indexOf(dir).manifests.length, 2);
    assert.equal(await store.removeImage("alpine:3.20"), true);
    assert.equal(await store.removeImage("alpine:3.20"), false);
    assert.equal(await store.getImage("alpine:3.20"), undefined);
    assert.deepEqual(
      indexOf(dir).manifests.map(
        (e: { annotations: Record<string, string> }) =>
          e.annotations["org.opencontainers.image.ref.name"],
      ),
      ["docker.io/library/alpine:latest"],
    );
  });

  it("refuses an image whose blobs are not committed", async () => {
    const { store, descs } = await withBlobs(["only"]);
    const [m] = descs;
    assert.ok(m);
    await assert.rejects(
      store.putImage({
        name: "x:1",
        target: { mediaType: MANIFEST, digest: m.digest, size: m.size },
        manifestDigest: m.digest,
        blobs: [descriptorOf(Buffer.from("missing")).digest],
      }),
      code("BLOB_NOT_FOUND"),
    );
    assert.equal(await store.getImage("x:1"), undefined);
  });

  it("keeps foreign index.json entries and points at an index when asked", async () => {
    const { dir, store, descs } = await withBlobs(["idx", "man"]);
    const [i, m] = descs;
    assert.ok(i && m);
    const index = indexOf(dir);
    index.manifests.push({
      mediaType: MANIFEST,
      digest: m.digest,
      size: m.size,
      annotations: { "org.opencontainers.image.ref.name": "foreign" },
    });
    writeFileSync(join(dir, "index.json"), JSON.stringify(index));
    await store.putImage({
      name: "nginx:1",
      target: { mediaType: INDEX, digest: i.digest, size: i.size },
      manifestDigest: m.digest,
      indexDigest: i.digest,
      platform: { os: "linux", architecture: "arm64", variant: "v8" },
      blobs: [],
    });
    const entries = indexOf(dir).manifests;
    assert.equal(entries.length, 2);
    assert.equal(entries[0].annotations["org.opencontainers.image.ref.name"], "foreign");
    assert.equal(entries[1].digest, i.digest);
    assert.equal(entries[1].mediaType, INDEX);
    assert.equal(entries[1].platform, undefined, "no platform on an index descriptor");
  });

  it("prunes blobs no image references, after the grace period", async () => {
    let now = Date.parse("2026-01-01T00:00:00Z");
    const { store, descs } = await withBlobs(["keep-m", "keep-l", "drop1", "drop2"], {
      now: () => now,
    });
    const [m, l, d1, d2] = descs;
    assert.ok(m && l && d1 && d2);
    await store.putImage({
      name: "k:1",
      target: { mediaType: MANIFEST, digest: m.digest, size: m.size },
      manifestDigest: m.digest,
      blobs: [l.digest],
    });
    let r = await store.prune();
    assert.equal(r.deleted.length, 0);
    assert.equal(r.keptYoung, 2);
    now += STORE_DEFAULTS.pruneGraceMs + 1;
    r = await store.prune({ dryRun: true });
    assert.equal(r.deleted.length, 2);
    assert.ok(await store.stat(d1.digest));
    r = await store.prune();
    assert.deepEqual(r.deleted.map((b) => b.digest).sort(), [d1.digest, d2.digest].sort());
    assert.equal(r.freedBytes, d1.size + d2.size);
    assert.equal(await store.stat(d1.digest), undefined);
    assert.ok(await store.stat(l.digest));
    await store.removeImage("k:1");
    r = await store.prune();
    assert.equal(r.deleted.length, 2);
  });

  it("refreshes a reused blob's age, so prune spares it for the pull that reuses it", async () => {
    let now = Date.parse("2026-01-01T00:00:00Z");
    const { store, descs } = await withBlobs(["reused"], { now: () => now });
    const [b] = descs;
    assert.ok(b);
    now += STORE_DEFAULTS.pruneGraceMs * 2;
    assert.equal((await store.ingest(b)).resume, "exists");
    assert.equal((await store.prune()).deleted.length, 0);
  });

  it("marks images used", async () => {
    const { store, descs } = await withBlobs(["used"]);
    const [m] = descs;
    assert.ok(m);
    await store.putImage({
      name: "u:1",
      target: { mediaType: MANIFEST, digest: m.digest, size: m.size },
      manifestDigest: m.digest,
      blobs: [],
    });
    assert.equal(await store.markImageUsed("u:1", new Date("2030-01-01T00:00:00Z")), true);
    assert.equal((await store.getImage("u:1"))?.lastUsed, "2030-01-01T00:00:00.000Z");
    assert.equal(await store.markImageUsed("nope:1"), false);
  });

  it("loses no update when many puts run at once", async () => {
    const { dir, store, descs } = await withBlobs(["many"]);
    const [m] = descs;
    assert.ok(m);
    const other = await FsBlobStore.open(dir); // a second handle: locks are per file, not per object
    await Promise.all(
      Array.from({ length: 16 }, (_, i) =>
        (i % 2 ? store : other).putImage({
          name: `many:${i}`,
          target: { mediaType: MANIFEST, digest: m.digest, size: m.size },
          manifestDigest: m.digest,
          blobs: [],
        }),
      ),
    );
    assert.equal((await store.listImages()).length, 16);
    assert.equal(indexOf(dir).manifests.length, 16);
  });

  it("refuses a kimg.json from a newer kimg and a garbled index.json", async () => {
    const dir = makeTempDir("store-version");
    await FsBlobStore.open(dir);
    writeFileSync(join(dir, "kimg.json"), JSON.stringify({ storeVersion: 2, images: {} }));
    await assert.rejects(FsBlobStore.open(dir), code("STORE_VERSION_UNSUPPORTED"));
    const dir2 = makeTempDir("store-corrupt");
    await FsBlobStore.open(dir2);
    writeFileSync(join(dir2, "index.json"), "{not json");
    await assert.rejects(FsBlobStore.open(dir2), code("STORE_CORRUPT"));
  });
});

describe("fsck", () => {
  const stores: TempStore[] = [];
  after(async () => {
    for (const s of stores) await s.cleanup();
  });

  it("cleans old temp files, stale locks, abandoned ingests; keeps resumable ones", async () => {
    const s = await tempStore();
    stores.push(s);
    const { dir, store } = s;
    const old = new Date(Date.now() - 2 * 24 * 60 * 60_000);
    // A temp file from a crashed metadata write.
    await writeFile(join(dir, "tmp", "123-abc-index.json"), "{");
    await utimes(join(dir, "tmp", "123-abc-index.json"), old, old);
    // A lock from a dead process.
    const deadPid = 2 ** 22 + 12345; // above pid_max's default: never alive
    const lockName = `sha256-${"a".repeat(64)}.lock`;
    await writeFile(
      join(dir, "locks", lockName),
      JSON.stringify({ pid: deadPid, ...localIdentity(), nonce: "n", since: "x" }),
    );
    // An abandoned ingest (old), a resumable one (recent), one of a committed blob.
    const a = blobBytes("abandoned", 5000);
    const b = blobBytes("resumable", 5000);
    const c = blobBytes("done", 5000);
    for (const data of [a, b]) {
      const w = await store.ingest(descriptorOf(data));
      await w.write(data.subarray(0, 1000));
      await w.close();
    }
    const aDir = join(dir, "ingest", `sha256-${descriptorOf(a).digest.slice(7)}`);
    await utimes(join(aDir, "data"), old, old);
    writeFileSync(
      join(aDir, "status.json"),
      JSON.stringify({
        ...JSON.parse(readFileSync(join(aDir, "status.json"), "utf8")),
        updatedAt: old.toISOString(),
      }),
    );
    const wc = await store.ingest(descriptorOf(c));
    await wc.write(c.subarray(0, 10));
    await wc.close();
    await writeBlob(store, descriptorOf(c), servingSource(c).openAt); // resumes and commits
    // A stray directory in ingest/.
    await mkdir(join(dir, "ingest", "junk"));

    const r = await store.fsck();
    assert.deepEqual(r.removedTemp, ["123-abc-index.json"]);
    assert.deepEqual(r.brokenLocks, [lockName]);
    assert.deepEqual([...r.removedIngests].sort(), [descriptorOf(a).digest, "junk"].sort());
    assert.deepEqual(r.keptIngests, [descriptorOf(b).digest]);
    assert.equal(r.indexRepaired, false);
    assert.deepEqual(
      r.steps.map((x) => x.name),
      ["cleanTemp", "breakStaleLocks", "cleanIngests", "checkImages", "syncIndex"],
    );
    const resumed = await store.ingest(descriptorOf(b));
    assert.equal(resumed.offset, 1000);
    await resumed.abort();
  });

  it("repairs index.json from kimg.json and finds corrupt and missing blobs", async () => {
    const s = await tempStore();
    stores.push(s);
    const { dir, store } = s;
    const m = blobBytes("fsck-m", 300);
    const l = blobBytes("fsck-l", 300);
    for (const data of [m, l])
      await writeBlob(store, descriptorOf(data), servingSource(data).openAt);
    await store.putImage({
      name: "f:1",
      target: { ...descriptorOf(m), mediaType: "application/vnd.oci.image.manifest.v1+json" },
      manifestDigest: descriptorOf(m).digest,
      blobs: [descriptorOf(l).digest],
    });
    // A crash between kimg.json and index.json: index.json lost the entry.
    const index = JSON.parse(readFileSync(join(dir, "index.json"), "utf8"));
    writeFileSync(join(dir, "index.json"), JSON.stringify({ ...index, manifests: [] }));
    // Bit rot in the layer.
    const lp = store.path(descriptorOf(l).digest);
    chmodSync(lp, 0o644);
    writeFileSync(lp, blobBytes("rotten", 300));
    const r = await store.fsck({ verifyBlobs: true });
    assert.equal(r.indexRepaired, true);
    assert.equal(JSON.parse(readFileSync(join(dir, "index.json"), "utf8")).manifests.length, 1);
    assert.deepEqual(r.corruptBlobs, [descriptorOf(l).digest]);
    assert.deepEqual(r.missingBlobs, [
      { image: "docker.io/library/f:1", digest: descriptorOf(l).digest },
    ]);
  });
});
