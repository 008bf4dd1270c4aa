// "Safe under kill -9 at any moment" (issue 3 §4, §6): `kimg pull` (the built CLI) as a child
// process against the real Distribution registry, through a proxy that can hold a request or
// cut a response body at a chosen byte, SIGKILLed at seeded points: before it resolves, while
// it waits for the resolve, mid-manifest, mid-config, mid-layer (several), right after a
// layer's last byte (its commit and rename), right after the last blob is done (the image
// record's write). After each kill, independently of kimg's own code:
//   - every file in blobs/sha256 hashes to its name (no visible blob is wrong);
//   - oci-layout, index.json and kimg.json parse, and index.json names only recorded images;
//   - no lock file names a live holder (the killed pid is dead: nothing blocks the next pull);
// then a second `kimg pull` completes and downloads exactly what was not on disk (it resumes
// partial layers: fewer bytes than the image when killed mid-blob), fsck re-hashing every blob
// finds nothing wrong, and `skopeo inspect oci:STORE:REF` reads the image.

import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { open, unlink, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { after, before, describe, it } from "node:test";
import { FsBlobStore } from "../../src/store/index.ts";
import {
  type HeldLock,
  inspectLock,
  type LockSettings,
  localIdentity,
  tryLock,
} from "../../src/store/lock.ts";
import { makeTempDir, removeTempDir } from "../helpers/cleanup.ts";
import { run } from "../helpers/exec.ts";
import { type GateProxy, type ProxiedRequest, startGateProxy } from "../helpers/gate-proxy.ts";
import { type BuiltImage, buildImage } from "../helpers/images.ts";
import { mulberry32 } from "../helpers/prng.ts";
import { type Registry, startRegistry } from "../helpers/registry.ts";
import { pushLayout } from "../helpers/skopeo.ts";
import { waitFor } from "../helpers/wait.ts";

const BIN = resolve(import.meta.dirname, "../../dist/cli/kimg.cjs");
const MIB = 1024 * 1024;
const SEED = 0x6b696d67; // "kimg"

type KillPoint =
  | { kind: "time"; ms: number }
  | { kind: "resolve" }
  | { kind: "manifest"; frac: number }
  | { kind: "blob"; blob: number; frac: number }
  /** All but the last byte, then the last one, then a kill as soon as every byte is on disk. */
  | { kind: "whole"; blob: number }
  /** The same, killed as soon as the blob is renamed into blobs/. */
  | { kind: "renamed"; blob: number }
  | { kind: "all-done"; delayMs: number }
  | { kind: "record-lock" };

/** The kill points, drawn from the seeded PRNG (blob 0 is the config, 1… the layers). */
function killPoints(layers: number): KillPoint[] {
  const rnd = mulberry32(SEED);
  const layer = (): number => 1 + Math.floor(rnd() * layers);
  const frac = (): number => 0.05 + rnd() * 0.9;
  return [
    { kind: "time", ms: Math.floor(rnd() * 40) },
    { kind: "resolve" },
    { kind: "manifest", frac: frac() },
    { kind: "blob", blob: 0, frac: frac() },
    { kind: "blob", blob: layer(), frac: frac() },
    { kind: "blob", blob: layer(), frac: frac() },
    { kind: "blob", blob: layer(), frac: frac() },
    { kind: "whole", blob: layer() },
    { kind: "whole", blob: 0 },
    { kind: "renamed", blob: layer() },
    { kind: "all-done", delayMs: 0 },
    { kind: "record-lock" },
  ];
}

function describePoint(p: KillPoint): string {
  switch (p.kind) {
    case "time":
      return `${p.ms} ms after spawn`;
    case "resolve":
      return "at the resolve (HEAD held)";
    case "manifest":
      return `mid-manifest (${p.frac.toFixed(2)})`;
    case "blob":
      return `mid-${p.blob === 0 ? "config" : `layer ${p.blob}`} (${p.frac.toFixed(2)})`;
    case "whole":
      return `${p.blob === 0 ? "config" : `layer ${p.blob}`} all on disk, before its rename`;
    case "renamed":
      return `layer ${p.blob} just renamed into blobs/`;
    case "all-done":
      return `${p.delayMs} ms after the last blob-done event`;
    case "record-lock":
      return "waiting for the store lock to write the image record";
  }
}

interface Child {
  proc: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function spawnPull(ref: string, store: string, onLine?: (line: string) => void): Child {
  const env = { ...process.env };
  delete env.KIMG_STORE;
  const proc = spawn(
    process.execPath,
    [BIN, "pull", ref, "--policy", "Always", "--progress", "json", "--store", store],
    { env, stdio: ["ignore", "pipe", "pipe"] },
  );
  let out = "";
  let err = "";
  let partial = "";
  proc.stdout?.setEncoding("utf8").on("data", (s: string) => {
    out += s;
    partial += s;
    let nl = partial.indexOf("\n");
    while (nl >= 0) {
      onLine?.(partial.slice(0, nl));
      partial = partial.slice(nl + 1);
      nl = partial.indexOf("\n");
    }
  });
  proc.stderr?.setEncoding("utf8").on("data", (s: string) => {
    err += s;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((ok) => {
    proc.on("close", (code, signal) => ok({ code, signal }));
  });
  return { proc, stdout: () => out, stderr: () => err, exited };
}

interface PullEvent {
  type: string;
  digest?: string;
  offset?: number;
  result?: { digest: string; bytesDownloaded: number; upToDate: boolean };
}

const events = (stdout: string): PullEvent[] =>
  stdout
    .trimEnd()
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l) as PullEvent);

const sha256File = (p: string): string =>
  `sha256:${createHash("sha256").update(readFileSync(p)).digest("hex")}`;

function fileSize(p: string): number | undefined {
  try {
    return statSync(p).size;
  } catch {
    return undefined;
  }
}

/** The store's default lock settings (src/store/defaults.ts). */
function lockSettings(dir: string): LockSettings {
  return {
    tmpDir: join(dir, "tmp"),
    staleMs: 5 * 60_000,
    heartbeatMs: 30_000,
    retryMinMs: 16,
    retryMaxMs: 2048,
    now: Date.now,
  };
}

describe("kimg pull killed with SIGKILL at any moment", { timeout: 120_000 }, () => {
  let reg: Registry;
  let proxy: GateProxy;
  let img: BuiltImage;
  const dirs: string[] = [];

  before(async () => {
    reg = await startRegistry();
    proxy = await startGateProxy(reg);
    // Random bytes stored without compression: each layer blob is 4 MiB and a bit.
    img = await buildImage({
      layers: [0, 1, 2, 3].map(() => ({ randomBytes: 4 * MIB, gzipLevel: 0 })),
      seed: "kill",
    });
    await pushLayout(img, "test/kill:v1", reg);
  });
  after(async () => {
    await proxy?.close();
    await reg?.stop();
    for (const d of [img?.layoutDir, ...dirs]) if (d !== undefined) removeTempDir(d);
  });

  /** Manifest, config, layers: what a pull stores. */
  const all = () => [
    { digest: img.manifestDigest, size: img.manifestSize, manifest: true },
    { digest: img.configDigest, size: img.configSize, manifest: false },
    ...img.layers.map((l) => ({ digest: l.digest, size: l.size, manifest: false })),
  ];
  const blobDigest = (i: number): string =>
    i === 0 ? img.configDigest : (img.layers[i - 1]?.digest ?? "");
  const isBlobGet = (r: ProxiedRequest, digest: string) =>
    r.method === "GET" && r.path.endsWith(`/blobs/${digest}`);

  /**
   * Independent checks of the store a SIGKILL left. Returns what the next pull must fetch, and
   * a summary of the state (committed blobs, partial ingests, whether the image is recorded).
   */
  async function checkAfterKill(
    dir: string,
    ref: string,
    pid: number,
  ): Promise<{ missing: number; state: string }> {
    // Every visible blob is whole and right.
    const blobDir = join(dir, "blobs", "sha256");
    const visible = existsSync(blobDir) ? readdirSync(blobDir) : [];
    for (const hex of visible) {
      assert.equal(sha256File(join(blobDir, hex)), `sha256:${hex}`, `blob ${hex} is wrong`);
    }
    if (existsSync(join(blobDir, "..", "sha512"))) {
      assert.deepEqual(readdirSync(join(blobDir, "..", "sha512")), []);
    }
    // The metadata files parse and agree: index.json names only recorded images (kimg.json is
    // written first), and every record's blobs are there.
    const readJson = (name: string): unknown => {
      const p = join(dir, name);
      return existsSync(p) ? (JSON.parse(readFileSync(p, "utf8")) as unknown) : undefined;
    };
    const layout = readJson("oci-layout") as { imageLayoutVersion?: string } | undefined;
    if (layout !== undefined) assert.equal(layout.imageLayoutVersion, "1.0.0");
    const index = readJson("index.json") as
      | { manifests: { digest: string; annotations?: Record<string, string> }[] }
      | undefined;
    const meta = readJson("kimg.json") as
      | {
          storeVersion: number;
          images: Record<string, { target: { digest: string }; blobs: string[] }>;
        }
      | undefined;
    if (meta !== undefined) assert.equal(meta.storeVersion, 1);
    const records = meta?.images ?? {};
    for (const r of Object.values(records)) {
      for (const dg of r.blobs) assert.ok(visible.includes(dg.slice(7)), `record needs ${dg}`);
    }
    for (const e of index?.manifests ?? []) {
      const name = e.annotations?.["org.opencontainers.image.ref.name"] ?? "";
      assert.equal(records[name]?.target.digest, e.digest, `index.json entry ${name}`);
    }
    assert.ok(Object.keys(records).every((n) => n === ref));
    // No lock names a live holder: the killed process held every one there is.
    const locks = join(dir, "locks");
    const settings = lockSettings(dir);
    for (const n of existsSync(locks) ? readdirSync(locks) : []) {
      assert.ok(!n.endsWith(".break"), `a breaker's file ${n} is left`);
      const st = await inspectLock(join(locks, n), settings);
      assert.notEqual(st.state, "held", `lock ${n} looks held`);
      if (st.state === "stale") assert.equal(st.owner?.pid, pid);
    }
    // What the next pull must download: blobs neither committed nor resumable from the ingest
    // (a partial data file with its status.json); the manifest is fetched whole unless stored.
    let missing = 0;
    let partial = 0;
    let whole = 0; // every byte on disk, not renamed yet: the commit window
    for (const b of all()) {
      if (visible.includes(b.digest.slice(7))) continue;
      if (b.manifest) {
        missing += b.size;
        continue;
      }
      const ingest = join(dir, "ingest", b.digest.replace(":", "-"));
      const have = existsSync(join(ingest, "status.json"))
        ? (fileSize(join(ingest, "data")) ?? 0)
        : 0;
      assert.ok(have <= b.size);
      if (have === b.size) whole++;
      else if (have > 0) partial++;
      missing += b.size - have;
    }
    const committed = all().filter((b) => visible.includes(b.digest.slice(7))).length;
    const recorded = ref in records ? "recorded" : "not recorded";
    return {
      missing,
      state: `${committed}/${all().length} blobs committed, ${whole} whole in ingest, ${partial} partial, ${recorded}`,
    };
  }

  it("leaves a store the next pull completes and resumes, at every kill point", async () => {
    const total = all().reduce((n, b) => n + b.size, 0);
    const points = killPoints(img.layers.length);
    const ref = `${proxy.host}/test/kill:v1`;
    const report: string[] = [];
    for (const [i, point] of points.entries()) {
      const what = `kill point ${i} (${describePoint(point)})`;
      const dir = makeTempDir("kimg-kill-");
      dirs.push(dir);
      let child: Child | undefined;
      let killedAt = "";
      const kill = (why: string): void => {
        if (killedAt !== "" || child === undefined) return;
        killedAt = why;
        child.proc.kill("SIGKILL");
      };
      let blobsDone = 0;
      // record-lock: this process holds the store lock, so the child, its blobs all committed,
      // waits for it to write the image record, and is killed there.
      let heldByTest: HeldLock | undefined;
      if (point.kind === "record-lock") {
        await FsBlobStore.open(dir);
        const got = await tryLock(join(dir, "locks", "store.lock"), lockSettings(dir));
        assert.ok(!("busy" in got));
        heldByTest = got;
      }
      proxy.reset({
        before: (r) => {
          if (point.kind === "resolve" && r.method === "HEAD") {
            kill("HEAD held");
            return new Promise<void>(() => {}); // never answered
          }
        },
        cutAt: (r) => {
          if (point.kind === "manifest" && r.method === "GET" && r.path.includes("/manifests/")) {
            return Math.max(1, Math.floor(r.length * point.frac));
          }
          if (point.kind === "blob" && isBlobGet(r, blobDigest(point.blob))) {
            return Math.max(1, Math.floor(r.length * point.frac));
          }
          if (
            (point.kind === "whole" || point.kind === "renamed") &&
            isBlobGet(r, blobDigest(point.blob))
          ) {
            return r.length - 1;
          }
          return undefined;
        },
        onCut: (r, resume) => {
          const digest = /\/blobs\/(sha256:[0-9a-f]{64})$/.exec(r.path)?.[1];
          const data =
            digest === undefined
              ? undefined
              : join(dir, "ingest", digest.replace(":", "-"), "data");
          void (async () => {
            if (data === undefined || digest === undefined) {
              kill(`cut at ${r.bytes} of ${r.length}`);
              return;
            }
            if (point.kind === "whole" || point.kind === "renamed") {
              // All but the last byte on disk; then the last byte, and a kill the moment the
              // data is whole (before the rename) or the blob is renamed into place.
              await waitFor(() => fileSize(data) === r.length - 1, 5000);
              const blob = join(dir, "blobs", "sha256", digest.slice(7));
              resume();
              const hit =
                point.kind === "whole"
                  ? () => fileSize(data) === r.length || existsSync(blob)
                  : () => existsSync(blob);
              while (!hit() && killedAt === "") await new Promise((ok) => setImmediate(ok));
              kill(point.kind === "whole" ? "data whole" : "renamed");
              return;
            }
            // Let the child write some of what it got before the kill.
            await waitFor(() => (fileSize(data) ?? 0) > 0, 3000);
            kill(`cut at ${r.bytes} of ${r.length}`);
          })();
        },
      });
      child = spawnPull(ref, dir, (line) => {
        if (point.kind !== "all-done" && point.kind !== "record-lock") return;
        const e = JSON.parse(line) as PullEvent;
        if (e.type !== "blob-done" || ++blobsDone !== all().length - 1) return;
        if (point.kind === "record-lock") {
          // Blocked on our lock: give it time to get there (it cannot get further).
          setTimeout(() => kill("waiting for the store lock"), 100);
        } else if (point.delayMs === 0) kill("at the last blob-done");
        else setTimeout(() => kill("after the last blob-done"), point.delayMs);
      });
      if (point.kind === "time") setTimeout(() => kill("timer"), point.ms);
      const first = await child.exited;
      const pid = child.proc.pid ?? -1;
      // Points that hold the child cannot be outrun; timed ones can (then it finished).
      if (first.signal !== "SIGKILL") {
        assert.ok(
          point.kind === "time" || point.kind === "all-done",
          `${what}: exited ${first.code} before the kill: ${child.stderr()}`,
        );
        assert.equal(first.code, 0, `${what}: ${child.stderr()}`);
      }
      proxy.reset();

      await heldByTest?.release();
      const { missing: expected, state } = await checkAfterKill(dir, ref, pid);
      if (point.kind === "record-lock")
        assert.equal(state, "6/6 blobs committed, 0 whole in ingest, 0 partial, not recorded");
      if (i % 2 === 1) {
        // fsck right after the kill (on half the points): nothing corrupt, nothing resumable lost.
        const fsck = await (await FsBlobStore.open(dir)).fsck({ verifyBlobs: true });
        assert.deepEqual(fsck.corruptBlobs, [], what);
        const again = await checkAfterKill(dir, ref, pid);
        assert.equal(again.missing, expected, `${what}: fsck lost data`);
      }

      const second = spawnPull(ref, dir);
      const timer = setTimeout(() => second.proc.kill("SIGKILL"), 30_000);
      const end = await second.exited;
      clearTimeout(timer);
      assert.equal(end.code, 0, `${what}: second pull: ${end.signal ?? ""} ${second.stderr()}`);
      const evs = events(second.stdout());
      const done = evs.find((e) => e.type === "done")?.result;
      assert.equal(done?.digest, img.manifestDigest, what);
      assert.equal(done?.bytesDownloaded, expected, `${what}: second pull downloaded`);
      if (point.kind === "blob" && point.blob > 0) {
        // Killed mid-layer: that layer resumes where the data on disk ends.
        assert.ok(expected < total, `${what}: nothing was kept`);
        const start = evs.find(
          (e) => e.type === "blob-start" && e.digest === blobDigest(point.blob),
        );
        assert.ok((start?.offset ?? 0) > 0, `${what}: no resume (${JSON.stringify(start)})`);
        // Only the missing bytes came over the wire, as one Range request for that layer.
        const gets = proxy.requests.filter((r) => isBlobGet(r, blobDigest(point.blob)));
        assert.equal(gets.length, 1);
        assert.equal(gets[0]?.range, `bytes=${start?.offset}-`);
      }

      const store = await FsBlobStore.open(dir);
      const fsck = await store.fsck({ verifyBlobs: true });
      assert.deepEqual(fsck.corruptBlobs, [], what);
      assert.deepEqual(fsck.missingBlobs, [], what);
      assert.deepEqual(fsck.keptIngests, [], what);
      assert.equal(fsck.indexRepaired, false, what);
      assert.equal((await store.getImage(ref))?.manifestDigest, img.manifestDigest);
      const { stdout } = await run("skopeo", ["inspect", `oci:${dir}:${ref}`]);
      const inspected = JSON.parse(stdout) as { Digest: string; Layers: string[] };
      assert.equal(inspected.Digest, img.manifestDigest, what);
      assert.deepEqual(
        inspected.Layers,
        img.layers.map((l) => l.digest),
      );
      report.push(
        `${what}: ${killedAt === "" || first.signal !== "SIGKILL" ? "finished first" : killedAt}; ${state}; next pull fetched ${expected} of ${total} bytes`,
      );
      removeTempDir(dir);
    }
    // The test's own record of where the kills landed (visible with --test-reporter=spec).
    for (const l of report) console.log(`# ${l}`);
  });

  it("a pull killed while it breaks a dead process's lock does not hold up the next", async () => {
    // The window is µs wide (the `.break` file lives while the lock is re-read and unlinked);
    // to kill a real pull inside it, the store lock is a FIFO this test writes a dead owner's
    // record into: the pull reads it, judges it stale, takes `.break`, and blocks re-reading
    // the FIFO. It is SIGKILLed there, holding `.break`.
    const dir = makeTempDir("kimg-kill-break-");
    dirs.push(dir);
    await FsBlobStore.open(dir);
    const lockPath = join(dir, "locks", "store.lock");
    const breaker = `${lockPath}.break`;
    await run("mkfifo", [lockPath]);
    const gone = spawn(process.execPath, ["-e", "0"]);
    await new Promise((ok) => gone.on("close", ok));
    const me = localIdentity();
    const deadRecord = JSON.stringify({
      pid: gone.pid,
      host: me.host,
      boot: me.boot,
      ns: me.ns,
      nonce: "0123456789abcdef01234567",
      since: new Date().toISOString(),
    });
    const child = spawnPull(`${reg.host}/test/kill:v1`, dir);
    // Never leave it blocked on the FIFO when an assertion fails.
    const killTimer = setTimeout(() => child.proc.kill("SIGKILL"), 20_000);
    killTimer.unref();
    after(() => {
      clearTimeout(killTimer);
      child.proc.kill("SIGKILL");
    });
    // Blocks (in the thread pool) until the pull opens the FIFO to read the lock.
    const fifo = await open(lockPath, "w");
    await fifo.writeFile(deadRecord);
    await fifo.close();
    await waitFor(() => existsSync(breaker), 10_000);
    assert.ok(existsSync(breaker), "the pull took .break");
    const record = JSON.parse(readFileSync(breaker, "utf8")) as Record<string, unknown>;
    assert.equal(record.pid, child.proc.pid);
    child.proc.kill("SIGKILL");
    const first = await child.exited;
    assert.equal(first.signal, "SIGKILL", child.stderr());
    // What is left: the dead process's stale lock (a plain file again) and the dead breaker's
    // `.break`. The next taker gets the lock on its first try: the dead breaker is seen dead.
    await unlink(lockPath);
    await writeFile(lockPath, deadRecord);
    assert.equal((await inspectLock(lockPath, lockSettings(dir))).state, "stale");
    const got = await tryLock(lockPath, lockSettings(dir));
    assert.ok(!("busy" in got), "the lock is taken at once");
    assert.ok(!existsSync(breaker), "the dead breaker's file is removed");
    await got.release();

    // And once more for fsck, which clears a dead breaker's file too.
    const breakerText = JSON.stringify(record);
    await writeFile(breaker, breakerText);
    const fsck = await (await FsBlobStore.open(dir)).fsck();
    assert.deepEqual(fsck.brokenLocks, ["store.lock.break"]);

    const second = spawnPull(`${reg.host}/test/kill:v1`, dir);
    const end = await second.exited;
    assert.equal(end.code, 0, second.stderr());
    assert.equal(
      events(second.stdout()).find((e) => e.type === "done")?.result?.digest,
      img.manifestDigest,
    );
    assert.deepEqual(readdirSync(join(dir, "locks")), []);
    const { stdout } = await run("skopeo", ["inspect", `oci:${dir}:${reg.host}/test/kill:v1`]);
    assert.equal((JSON.parse(stdout) as { Digest: string }).Digest, img.manifestDigest);
  });
});
