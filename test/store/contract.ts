// The BlobStore contract (containerd's content/testsuite idea): behaviour every implementation
// must have, written against the interfaces only. `blobStoreContract(name, factory)` registers
// the suite; test/store/fs-blob-store.test.ts runs it against FsBlobStore.

import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { isKimgError } from "../../src/errors.ts";
import {
  type BlobDescriptor,
  type BlobSource,
  type BlobStore,
  writeBlob,
} from "../../src/store/index.ts";
import { blobBytes, chunks, descriptorOf, digestOf, readAll } from "./fixtures.ts";

export interface ContractSubject {
  readonly store: BlobStore;
  cleanup(): Promise<void>;
}

async function listDigests(store: BlobStore): Promise<string[]> {
  const out: string[] = [];
  for await (const b of store.list()) out.push(b.digest);
  return out;
}

function code(c: string) {
  return (e: unknown) => isKimgError(e) && e.code === c;
}

/** A source for writeBlob that serves `data` from any offset and counts what it served. */
export function servingSource(data: Buffer, chunk = 4096) {
  const served = { opens: 0, bytes: 0, offsets: [] as number[] };
  const openAt = async (offset: number): Promise<BlobSource> => {
    served.opens++;
    served.offsets.push(offset);
    async function* body() {
      for (const c of chunks(data.subarray(offset), chunk)) {
        served.bytes += c.byteLength;
        await new Promise((r) => setImmediate(r));
        yield c;
      }
    }
    return { start: offset, body: body() };
  };
  return { served, openAt };
}

export function blobStoreContract(name: string, factory: () => Promise<ContractSubject>): void {
  describe(`BlobStore contract: ${name}`, () => {
    const subjects: ContractSubject[] = [];
    after(async () => {
      for (const s of subjects) await s.cleanup();
    });
    const fresh = async (): Promise<BlobStore> => {
      const s = await factory();
      subjects.push(s);
      return s.store;
    };

    it("makes a blob visible only after commit verified it", async () => {
      const store = await fresh();
      const data = blobBytes("visible", 100_000);
      const desc = descriptorOf(data);
      const w = await store.ingest(desc);
      assert.equal(w.resume, "new");
      assert.equal(w.offset, 0);
      await w.write(data.subarray(0, 60_000));
      assert.equal(await store.stat(desc.digest), undefined);
      await assert.rejects(store.open(desc.digest), code("BLOB_NOT_FOUND"));
      await w.write(data.subarray(60_000));
      assert.equal(await store.stat(desc.digest), undefined, "complete but not committed");
      assert.deepEqual(await listDigests(store), []);
      await w.commit();
      assert.equal(w.committed, true);
      assert.equal((await store.stat(desc.digest))?.size, data.byteLength);
      assert.deepEqual(await readAll(await store.open(desc.digest)), data);
      assert.deepEqual(await listDigests(store), [desc.digest]);
    });

    it("reads from an offset and verifies on read", async () => {
      const store = await fresh();
      const data = blobBytes("offset", 10_000);
      const desc = descriptorOf(data);
      await writeBlob(store, desc, servingSource(data).openAt);
      assert.deepEqual(
        await readAll(await store.open(desc.digest, { start: 1234 })),
        data.subarray(1234),
      );
      assert.deepEqual(await readAll(await store.open(desc.digest, { verify: true })), data);
    });

    it("deletes content with the wrong digest and never shows it", async () => {
      const store = await fresh();
      const data = blobBytes("wrong", 5000);
      const desc = { ...descriptorOf(data), digest: digestOf(blobBytes("other", 5000)) };
      const w = await store.ingest(desc);
      await w.write(data);
      await assert.rejects(w.commit(), code("DIGEST_MISMATCH"));
      assert.equal(await store.stat(desc.digest), undefined);
      const again = await store.ingest(desc);
      assert.equal(again.offset, 0, "the bad data was deleted, not kept for resume");
      assert.equal(again.resume, "new");
      await again.abort();
    });

    it("fails at once when more bytes than the size arrive, and deletes them", async () => {
      const store = await fresh();
      const data = blobBytes("oversize", 3000);
      const desc = { ...descriptorOf(data), size: 2000 };
      const w = await store.ingest(desc);
      await w.write(data.subarray(0, 1500));
      await assert.rejects(w.write(data.subarray(1500)), code("SIZE_MISMATCH"));
      await assert.rejects(w.write(data.subarray(0, 1)), code("WRITER_CLOSED"));
      const again = await store.ingest(desc);
      assert.equal(again.offset, 0);
      await again.abort();
    });

    it("keeps a short blob's bytes for resume when commit finds it incomplete", async () => {
      const store = await fresh();
      const data = blobBytes("short", 8000);
      const desc = descriptorOf(data);
      const w = await store.ingest(desc);
      await w.write(data.subarray(0, 5000));
      await assert.rejects(w.commit(), code("SIZE_MISMATCH"));
      assert.equal(await store.stat(desc.digest), undefined);
      const again = await store.ingest(desc);
      assert.equal(again.resume, "resumed");
      assert.equal(again.offset, 5000);
      await again.write(data.subarray(5000));
      await again.commit();
      assert.deepEqual(await readAll(await store.open(desc.digest, { verify: true })), data);
    });

    it("resumes a dropped writer at its offset and commits", async () => {
      const store = await fresh();
      const data = blobBytes("resume", 50_000);
      const desc = descriptorOf(data);
      const w = await store.ingest(desc);
      await w.write(data.subarray(0, 20_000));
      await w.write(data.subarray(20_000, 31_337));
      await w.close();
      const r = await store.ingest(desc);
      assert.equal(r.resume, "resumed");
      assert.equal(r.offset, 31_337);
      await r.write(data.subarray(r.offset));
      await r.commit();
      assert.deepEqual(await readAll(await store.open(desc.digest)), data);
    });

    it("writeBlob asks for the rest from the offset after a failed source", async () => {
      const store = await fresh();
      const data = blobBytes("flaky", 40_000);
      const desc = descriptorOf(data);
      const failing = async (offset: number): Promise<BlobSource> => ({
        start: offset,
        body: (async function* () {
          yield data.subarray(offset, 10_000);
          throw new Error("connection reset");
        })(),
      });
      await assert.rejects(writeBlob(store, desc, failing), /connection reset/);
      const src = servingSource(data);
      const r = await writeBlob(store, desc, src.openAt);
      assert.equal(r.resume, "resumed");
      assert.deepEqual(src.served.offsets, [10_000]);
      assert.equal(r.written, 30_000);
      assert.equal((await store.stat(desc.digest))?.size, 40_000);
    });

    it("commits a complete but uncommitted ingest without fetching anything", async () => {
      const store = await fresh();
      const data = blobBytes("complete", 7000);
      const desc = descriptorOf(data);
      const w = await store.ingest(desc);
      await w.write(data);
      await w.close(); // as if killed just before commit
      const src = servingSource(data);
      const r = await writeBlob(store, desc, src.openAt);
      assert.equal(r.resume, "resumed");
      assert.equal(src.served.opens, 0);
      assert.deepEqual(await readAll(await store.open(desc.digest, { verify: true })), data);
    });

    it("restarts from 0 when the server ignores Range", async () => {
      const store = await fresh();
      const data = blobBytes("norange", 9000);
      const desc = descriptorOf(data);
      const w = await store.ingest(desc);
      await w.write(data.subarray(0, 4000));
      await w.close();
      const r = await writeBlob(store, desc, async () => ({
        start: 0,
        body: (async function* () {
          yield* chunks(data, 1000);
        })(),
      }));
      assert.equal(r.written, 9000);
      assert.equal((await store.stat(desc.digest))?.size, 9000);
    });

    it("stores sha512 blobs", async () => {
      const store = await fresh();
      const data = blobBytes("sha512", 70_000);
      const desc = descriptorOf(data, "sha512");
      await writeBlob(store, desc, servingSource(data).openAt);
      assert.equal((await store.stat(desc.digest))?.size, 70_000);
      assert.ok(store.path(desc.digest).endsWith(`sha512/${desc.digest.slice(7)}`));
      const bad = { ...descriptorOf(blobBytes("x", 10), "sha512") };
      const w = await store.ingest(bad);
      await w.write(blobBytes("y", 10));
      await assert.rejects(w.commit(), code("DIGEST_MISMATCH"));
    });

    it("stores the empty blob", async () => {
      const store = await fresh();
      const desc = descriptorOf(Buffer.alloc(0));
      const w = await store.ingest(desc);
      await w.commit();
      assert.equal((await store.stat(desc.digest))?.size, 0);
      assert.equal((await readAll(await store.open(desc.digest))).byteLength, 0);
    });

    it("hands out a committed writer for a blob it already has: nothing to download", async () => {
      const store = await fresh();
      const data = blobBytes("exists", 1000);
      const desc = descriptorOf(data);
      await writeBlob(store, desc, servingSource(data).openAt);
      const w = await store.ingest(desc);
      assert.equal(w.resume, "exists");
      assert.equal(w.committed, true);
      assert.equal(w.offset, 1000);
      await w.commit();
      await assert.rejects(w.write(data), code("WRITER_CLOSED"));
      const src = servingSource(data);
      assert.equal((await writeBlob(store, desc, src.openAt)).written, 0);
      assert.equal(src.served.opens, 0);
    });

    it("downloads a digest once when two writers ask at the same time", async () => {
      const store = await fresh();
      const data = blobBytes("twice", 200_000);
      const desc = descriptorOf(data);
      const a = servingSource(data, 8192);
      const b = servingSource(data, 8192);
      const waits: string[] = [];
      const [ra, rb] = await Promise.all([
        writeBlob(store, desc, a.openAt, { onWait: (i) => waits.push(i.holder) }),
        writeBlob(store, desc, b.openAt, { onWait: (i) => waits.push(i.holder) }),
      ]);
      assert.equal(a.served.bytes + b.served.bytes, data.byteLength, "downloaded once");
      assert.deepEqual([ra.resume, rb.resume].sort(), ["exists", "new"]);
      assert.equal(waits.length, 1, "the later one was told it waits");
      assert.deepEqual(await readAll(await store.open(desc.digest, { verify: true })), data);
    });

    it("abort deletes the partial data", async () => {
      const store = await fresh();
      const data = blobBytes("abort", 5000);
      const desc = descriptorOf(data);
      const w = await store.ingest(desc);
      await w.write(data.subarray(0, 2500));
      await w.abort();
      await assert.rejects(w.write(data), code("WRITER_CLOSED"));
      const again = await store.ingest(desc);
      assert.equal(again.offset, 0);
      await again.abort();
    });

    it("reset starts over at 0", async () => {
      const store = await fresh();
      const data = blobBytes("reset", 5000);
      const desc = descriptorOf(data);
      const w = await store.ingest(desc);
      await w.write(blobBytes("garbage", 3000));
      await w.reset();
      assert.equal(w.offset, 0);
      await w.write(data);
      await w.commit();
      assert.equal((await store.stat(desc.digest))?.size, 5000);
    });

    it("lists and deletes blobs", async () => {
      const store = await fresh();
      const descs: BlobDescriptor[] = [];
      for (const seed of ["l1", "l2", "l3"]) {
        const data = blobBytes(seed, 100);
        const desc = descriptorOf(data);
        descs.push(desc);
        await writeBlob(store, desc, servingSource(data).openAt);
      }
      assert.deepEqual((await listDigests(store)).sort(), descs.map((d) => d.digest).sort());
      const first = descs[0];
      assert.ok(first);
      assert.equal(await store.delete(first.digest), true);
      assert.equal(await store.delete(first.digest), false);
      assert.equal(await store.stat(first.digest), undefined);
      assert.equal((await listDigests(store)).length, 2);
    });

    it("rejects bad digests and sizes before touching the disk", async () => {
      const store = await fresh();
      for (const digest of [
        "sha256:../../../etc/passwd",
        "md5:abc",
        "sha256:ABC",
        `sha384:${"a".repeat(96)}`,
      ]) {
        await assert.rejects(store.ingest({ digest, size: 1 }), (e: unknown) => isKimgError(e));
        await assert.rejects(store.stat(digest), (e: unknown) => isKimgError(e));
      }
      const d = digestOf(Buffer.from("x"));
      await assert.rejects(store.ingest({ digest: d, size: -1 }), code("INPUT_INVALID"));
      await assert.rejects(store.ingest({ digest: d, size: 1.5 }), code("INPUT_INVALID"));
    });
  });
}
