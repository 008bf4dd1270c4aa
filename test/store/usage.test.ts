// store/usage.ts on a real store in a temp dir: which records share which blobs, finding
// records by reference or digest prefix, bounded verified reads, and the partial downloads
// under ingest/ with fsck's staleness rules (checked against what fsck then really removes).

import assert from "node:assert/strict";
import { chmodSync, mkdirSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { isKimgError } from "../../src/errors.ts";
import {
  blobUsers,
  FsBlobStore,
  findImageRecords,
  type ImageRecord,
  listIngests,
  readBlobBounded,
  STORE_DEFAULTS,
  sharedBlobs,
  writeBlob,
} from "../../src/store/index.ts";
import { blobBytes, descriptorOf, type TempStore, tempStore } from "./fixtures.ts";

async function put(store: FsBlobStore, data: Buffer): Promise<string> {
  const d = descriptorOf(data);
  await writeBlob(store, d, async () => ({
    start: 0,
    body: (async function* () {
      yield data;
    })(),
  }));
  return d.digest;
}

const MT = "application/vnd.oci.image.manifest.v1+json";

describe("store usage", () => {
  const stores: TempStore[] = [];
  after(async () => {
    for (const s of stores) await s.cleanup();
  });
  const fresh = async (opts?: Parameters<typeof tempStore>[0]) => {
    const s = await tempStore(opts);
    stores.push(s);
    return s;
  };

  /** Two images sharing a base blob; `c` is a second name of image a. */
  async function twoImages() {
    const t = await fresh();
    const base = await put(t.store, blobBytes("base", 1000));
    const onlyA = await put(t.store, blobBytes("a", 10));
    const onlyB = await put(t.store, blobBytes("b", 20));
    const mA = await put(t.store, Buffer.from('{"a":1}'));
    const mB = await put(t.store, Buffer.from('{"b":1}'));
    const a = await t.store.putImage({
      name: "example.com/app:a",
      target: { mediaType: MT, digest: mA, size: 7 },
      manifestDigest: mA,
      blobs: [base, onlyA],
    });
    const b = await t.store.putImage({
      name: "example.com/app:b",
      target: { mediaType: MT, digest: mB, size: 7 },
      manifestDigest: mB,
      blobs: [base, onlyB],
    });
    const c = await t.store.putImage({
      name: "example.com/other:c",
      target: { mediaType: MT, digest: mA, size: 7 },
      manifestDigest: mA,
      blobs: [base, onlyA],
    });
    return { t, base, onlyA, onlyB, mA, mB, a, b, c };
  }

  it("blobUsers and sharedBlobs: every record of a blob, and the others of one image", async () => {
    const { t, base, onlyA, onlyB, mB, a, b } = await twoImages();
    const records = await t.store.listImages();
    const users = blobUsers(records);
    assert.deepEqual(users.get(base), [
      "example.com/app:a",
      "example.com/app:b",
      "example.com/other:c",
    ]);
    assert.deepEqual(users.get(onlyB), ["example.com/app:b"]);
    assert.deepEqual(users.get(mB), ["example.com/app:b"]);
    assert.equal(users.get("sha256:0"), undefined);

    const sa = sharedBlobs(a, records);
    assert.deepEqual(sa.get(base), ["example.com/app:b", "example.com/other:c"]);
    assert.deepEqual(sa.get(onlyA), ["example.com/other:c"]);
    assert.deepEqual([...sa.keys()].sort(), [...a.blobs].sort());
    const sb = sharedBlobs(b, records);
    assert.deepEqual(sb.get(onlyB), []);
    // Order of the records does not matter.
    assert.deepEqual(sharedBlobs(b, [...records].reverse()).get(base), sb.get(base));

    // After rmi of b (untag + prune without grace), the base stays for a and c.
    assert.equal(await t.store.removeImage("example.com/app:b"), true);
    const pr = await t.store.prune({ graceMs: 0 });
    assert.deepEqual(pr.deleted.map((x) => x.digest).sort(), [mB, onlyB].sort());
    assert.ok((await t.store.stat(base)) !== undefined);
    assert.deepEqual(sharedBlobs(a, await t.store.listImages()).get(base), ["example.com/other:c"]);
  });

  it("findImageRecords: by any reference form, then by digest or digest prefix", async () => {
    const { t, mA, mB } = await twoImages();
    const recs = await t.store.listImages();
    const names = (q: string) => findImageRecords(recs, q)?.records.map((r) => r.name);
    assert.deepEqual(names("example.com/app:a"), ["example.com/app:a"]);
    assert.equal(findImageRecords(recs, "example.com/app:a")?.by, "name");
    assert.equal(findImageRecords(recs, "example.com/app"), undefined); // :latest is not stored
    assert.deepEqual(names(mB), ["example.com/app:b"]);
    assert.equal(findImageRecords(recs, mB)?.by, "digest");
    // Both names of image a, sorted, by full digest, sha256: prefix and bare hex prefix.
    assert.deepEqual(names(mA), ["example.com/app:a", "example.com/other:c"]);
    assert.deepEqual(names(mA.slice(0, 19)), ["example.com/app:a", "example.com/other:c"]);
    assert.deepEqual(names(mA.slice(7, 19)), ["example.com/app:a", "example.com/other:c"]);
    assert.equal(findImageRecords(recs, "sha512:abc"), undefined);
    assert.equal(findImageRecords(recs, "nothing:here"), undefined);
    assert.equal(findImageRecords(recs, "NOT A REF"), undefined);
    // A prefix of both manifests is ambiguous (the empty common prefix is not a query, so use
    // records whose digests start alike).
    const fake = (name: string, digest: string): ImageRecord => ({
      name,
      target: { mediaType: MT, digest, size: 1 },
      manifestDigest: digest,
      size: 1,
      pulledAt: "",
      lastUsed: "",
      blobs: [digest],
    });
    const twins = [
      fake("x.io/a:1", `sha256:abcd${"0".repeat(60)}`),
      fake("x.io/b:1", `sha256:abce${"0".repeat(60)}`),
    ];
    assert.throws(
      () => findImageRecords(twins, "sha256:abc"),
      (e: unknown) => isKimgError(e) && e.code === "INPUT_INVALID" && /ambiguous/.test(e.message),
    );
    assert.deepEqual(
      findImageRecords(twins, "abcd")?.records.map((r) => r.name),
      ["x.io/a:1"],
    );
  });

  it("readBlobBounded: verified bytes, a cap before reading, BLOB_NOT_FOUND", async () => {
    const t = await fresh();
    const data = blobBytes("doc", 5000);
    const dg = await put(t.store, data);
    assert.deepEqual(await readBlobBounded(t.store, dg, 5000, "config"), data);
    await assert.rejects(
      readBlobBounded(t.store, dg, 4999, "config"),
      (e: unknown) =>
        isKimgError(e) &&
        e.code === "MANIFEST_TOO_LARGE" &&
        e.message === `config ${dg}: rejecting 5000 byte config`,
    );
    await assert.rejects(
      readBlobBounded(t.store, `sha256:${"1".repeat(64)}`, 10, "manifest"),
      (e: unknown) => isKimgError(e) && e.code === "BLOB_NOT_FOUND",
    );
    // Bit rot (same size, other bytes) fails verification.
    const p = t.store.path(dg);
    chmodSync(p, 0o644);
    const bad = Buffer.from(data);
    bad[10] = (bad[10] ?? 0) ^ 0xff;
    writeFileSync(p, bad);
    await assert.rejects(
      readBlobBounded(t.store, dg, 5000, "config"),
      (e: unknown) => isKimgError(e) && e.code === "DIGEST_MISMATCH",
    );
  });

  it("listIngests: sizes, and stale exactly when fsck removes the ingest", async () => {
    const day = 24 * 60 * 60_000;
    const t = await fresh();
    const past = await fresh();
    // Partials: fresh (kept), two days old (removed), no sidecar (removed).
    const freshData = blobBytes("fresh", 4000);
    const w1 = await t.store.ingest(descriptorOf(freshData));
    await w1.write(freshData.subarray(0, 1500));
    await w1.close();
    const oldData = blobBytes("old", 3000);
    const oldStore = await FsBlobStore.open(t.dir, {
      now: () => Date.now() - 2 * day,
    });
    const w2 = await oldStore.ingest(descriptorOf(oldData));
    await w2.write(oldData.subarray(0, 700));
    await w2.close();
    const twoDaysAgo = new Date(Date.now() - 2 * day);
    utimesSync(
      join(t.dir, "ingest", `sha256-${descriptorOf(oldData).digest.slice(7)}`, "data"),
      twoDaysAgo,
      twoDaysAgo,
    );
    // Data without a sidecar (not resumable): stale whatever its age.
    const orphan = descriptorOf(blobBytes("orphan", 100)).digest;
    const orphanDir = join(t.dir, "ingest", `sha256-${orphan.slice(7)}`);
    mkdirSync(orphanDir);
    writeFileSync(join(orphanDir, "data"), blobBytes("orphan", 100).subarray(0, 40));
    const list = await listIngests(t.dir, STORE_DEFAULTS);
    const by = new Map(list.map((x) => [x.digest, x]));
    assert.deepEqual(
      {
        bytes: by.get(descriptorOf(freshData).digest)?.bytes,
        size: by.get(descriptorOf(freshData).digest)?.size,
        stale: by.get(descriptorOf(freshData).digest)?.stale,
      },
      { bytes: 1500, size: 4000, stale: false },
    );
    assert.equal(by.get(descriptorOf(oldData).digest)?.bytes, 700);
    assert.equal(by.get(descriptorOf(oldData).digest)?.stale, true);
    assert.deepEqual(by.get(orphan), {
      digest: orphan,
      bytes: 40,
      touchedMs: by.get(orphan)?.touchedMs,
      stale: true,
    });
    const stale = list.filter((x) => x.stale).map((x) => x.digest);
    const fsck = await t.store.fsck();
    assert.deepEqual([...fsck.removedIngests].sort(), stale.sort());
    assert.deepEqual(
      [...fsck.keptIngests].sort(),
      list
        .filter((x) => !x.stale)
        .map((x) => x.digest)
        .sort(),
    );
    assert.deepEqual(await listIngests(past.dir, STORE_DEFAULTS), []);
  });
});
