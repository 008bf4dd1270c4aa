// The store shared by processes: two processes racing for one blob download it once, and
// kill -9 at random moments never leaves a visible partial blob or a torn index.json.

import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { after, describe, it } from "node:test";
import { isKimgError } from "../../src/errors.ts";
import { FsBlobStore, writeBlob } from "../../src/store/index.ts";
import { makeTempDir, removeTempDir, trackProcessGroup } from "../helpers/cleanup.ts";
import { mulberry32 } from "../helpers/prng.ts";
import { servingSource } from "./contract.ts";
import { blobBytes, descriptorOf, readAll } from "./fixtures.ts";

const CHILD = join(import.meta.dirname, "store-child.ts");
const ROOT = join(import.meta.dirname, "../..");
const ITERATIONS = Number(process.env.KIMG_CRASH_ITERATIONS ?? 20);
const CRASH_SEED = Number(process.env.KIMG_CRASH_SEED ?? 11);

interface Child {
  readonly proc: ChildProcess;
  readonly lines: AsyncIterator<string>;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr(): string;
}

function startChild(args: string[]): Child {
  const proc = spawn(process.execPath, ["--import", "tsx", CHILD, ...args], {
    cwd: ROOT,
    stdio: ["pipe", "pipe", "pipe"],
    detached: true,
  });
  trackProcessGroup(proc);
  let err = "";
  proc.stderr?.on("data", (b: Buffer) => {
    err += b.toString();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.once("exit", (code, signal) => resolve({ code, signal })),
  );
  if (proc.stdout === null) throw new Error("no stdout");
  const lines = createInterface({ input: proc.stdout })[Symbol.asyncIterator]();
  return { proc, lines, exited, stderr: () => err };
}

async function nextLine(c: Child): Promise<string> {
  const r = await c.lines.next();
  if (r.done === true) {
    const e = await c.exited;
    throw new Error(`child exited (${e.code ?? e.signal}) before a line: ${c.stderr()}`);
  }
  return r.value;
}

/**
 * Every visible blob hashes to its name; index.json and kimg.json parse; every image's blobs
 * are there. Safe while another process writes: blobs pruned meanwhile are skipped, and the
 * image check runs under the store lock (fsck).
 */
async function checkInvariants(dir: string): Promise<number> {
  const store = await FsBlobStore.open(dir);
  let blobs = 0;
  for await (const b of store.list()) {
    try {
      await readAll(await store.open(b.digest, { verify: true })); // throws on a mismatch
      blobs++;
    } catch (e) {
      if (!isKimgError(e, "BLOB_NOT_FOUND")) throw e;
    }
  }
  const index = JSON.parse(readFileSync(join(dir, "index.json"), "utf8"));
  assert.ok(Array.isArray(index.manifests));
  JSON.parse(readFileSync(join(dir, "kimg.json"), "utf8"));
  assert.deepEqual((await store.fsck()).missingBlobs, []);
  return blobs;
}

describe("store shared between processes", () => {
  const dirs: string[] = [];
  after(() => {
    for (const d of dirs) removeTempDir(d);
  });

  it("two processes racing for one blob download it once", async () => {
    const dir = makeTempDir("store-race");
    dirs.push(dir);
    await FsBlobStore.open(dir);
    const size = 1024 * 1024;
    const kids = [
      startChild(["race", dir, "race", String(size)]),
      startChild(["race", dir, "race", String(size)]),
    ];
    for (const k of kids) assert.equal(await nextLine(k), "ready");
    for (const k of kids) k.proc.stdin?.write("go\n");
    const results = await Promise.all(kids.map(async (k) => JSON.parse(await nextLine(k))));
    for (const k of kids) assert.equal((await k.exited).code, 0, k.stderr());
    const written = results.map((r) => r.written).sort((a, b) => a - b);
    assert.deepEqual(written, [0, size], "one process downloaded, the other found it committed");
    assert.deepEqual(results.map((r) => r.resume).sort(), ["exists", "new"]);
    assert.ok(
      results.some((r) => r.waited),
      "the second one waited for the first",
    );
    const store = await FsBlobStore.open(dir);
    const desc = descriptorOf(blobBytes("race", size));
    assert.deepEqual(
      await readAll(await store.open(desc.digest, { verify: true })),
      blobBytes("race", size),
    );
  });

  it(`survives kill -9 at random moments (${ITERATIONS} rounds of two writers, seed ${CRASH_SEED})`, async () => {
    const dir = makeTempDir("store-crash");
    dirs.push(dir);
    await FsBlobStore.open(dir);
    let maxBlobs = 0;
    // Seeded: a failing round can be replayed (KIMG_CRASH_SEED prints in the test name).
    const random = mulberry32(CRASH_SEED);
    // Each round starts two writers on the same blobs and images and kill -9s each at its own
    // random moment; the next round's writers must break the dead ones' locks and go on.
    for (let round = 0; round < ITERATIONS; round++) {
      const kids = [startChild(["crash", dir, "crash"]), startChild(["crash", dir, "crash"])];
      for (const k of kids) assert.equal(await nextLine(k), "ready", k.stderr());
      await Promise.all(
        kids.map(async (k) => {
          await new Promise((r) => setTimeout(r, random() * 250));
          k.proc.kill("SIGKILL");
          const e = await k.exited;
          // Killed by us, not crashed on its own.
          assert.equal(e.signal, "SIGKILL", `child failed: ${e.code} ${k.stderr()}`);
        }),
      );
      maxBlobs = Math.max(maxBlobs, await checkInvariants(dir));
    }
    assert.ok(maxBlobs > 0, "the children got far enough to commit blobs");
    // A fresh writer finishes every blob the children were writing (resuming or not).
    const store = await FsBlobStore.open(dir);
    for (let k = 0; k < 8; k++) {
      const size = ((k * 7919 + 1) % 16) * 64 * 1024 + k;
      const data = blobBytes(`crash-${k}`, size);
      await writeBlob(store, descriptorOf(data), servingSource(data, 65536).openAt);
      assert.deepEqual(
        await readAll(await store.open(descriptorOf(data).digest, { verify: true })),
        data,
      );
    }
    const report = await store.fsck({ verifyBlobs: true });
    assert.deepEqual(report.corruptBlobs, []);
    assert.deepEqual(report.missingBlobs, []);
    assert.deepEqual(
      report.keptIngests,
      [],
      "no live writers left; finished blobs' ingests removed",
    );
    assert.deepEqual(
      readdirSync(join(dir, "locks")).filter((n) => n.endsWith(".lock")),
      [],
      "every lock of a killed process was broken",
    );
    // After fsck, index.json names every image kimg.json has.
    const names = new Set(
      JSON.parse(readFileSync(join(dir, "index.json"), "utf8")).manifests.map(
        (e: { annotations: Record<string, string> }) =>
          e.annotations["org.opencontainers.image.ref.name"],
      ),
    );
    for (const img of await store.listImages()) assert.ok(names.has(img.name), img.name);
  });
});
