// A child process for the multi-process store tests (run with `node --import tsx`):
//
//   race  <store> <seed> <size>   print "ready", wait for a line on stdin, write the blob
//                                 slowly, print {"resume","written"} and exit
//   crash <store> <seed>          print "ready", then write blobs, record images, prune and
//                                 fsck in a loop until killed (the parent kill -9s it)

import { createInterface } from "node:readline";
import { isKimgError } from "../../src/errors.ts";
import { type BlobSource, FsBlobStore, writeBlob } from "../../src/store/index.ts";
import { blobBytes, chunks, descriptorOf } from "./fixtures.ts";

const [mode, dir, seed, sizeText] = process.argv.slice(2);
if (dir === undefined || seed === undefined) throw new Error("usage: store-child.ts MODE DIR SEED");

function source(data: Buffer, chunk: number, delayMs: number) {
  return async (offset: number): Promise<BlobSource> => ({
    start: offset,
    body: (async function* () {
      for (const c of chunks(data.subarray(offset), chunk)) {
        if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
        yield c;
      }
    })(),
  });
}

if (mode === "race") {
  const store = await FsBlobStore.open(dir);
  const data = blobBytes(seed, Number(sizeText));
  const desc = descriptorOf(data);
  process.stdout.write("ready\n");
  const rl = createInterface({ input: process.stdin });
  await new Promise<void>((resolve) => rl.once("line", () => resolve()));
  rl.close();
  let waited = false;
  const r = await writeBlob(store, desc, source(data, 16 * 1024, 1), {
    onWait: () => {
      waited = true;
    },
  });
  process.stdout.write(`${JSON.stringify({ resume: r.resume, written: r.written, waited })}\n`);
} else if (mode === "crash") {
  // Small checkpoints so kills land between and on them.
  const store = await FsBlobStore.open(dir, { checkpointBytes: 128 * 1024 });
  process.stdout.write("ready\n");
  const MANIFEST = "application/vnd.oci.image.manifest.v1+json";
  for (let i = 0; ; i++) {
    const k = i % 8;
    const size = ((k * 7919 + 1) % 16) * 64 * 1024 + k; // 0 .. ~1 MiB, a few not 64 KiB aligned
    const data = blobBytes(`${seed}-${k}`, size);
    const desc = descriptorOf(data);
    await writeBlob(store, desc, source(data, 64 * 1024, 0));
    try {
      await store.putImage({
        name: `crash/img:${k}`,
        target: { ...desc, mediaType: MANIFEST },
        manifestDigest: desc.digest,
        blobs: [],
      });
    } catch (e) {
      // The other child's prune may have taken it after our commit; try again next round.
      if (!isKimgError(e, "BLOB_NOT_FOUND")) throw e;
    }
    if (i % 5 === 4) await store.removeImage(`crash/img:${(k + 3) % 8}`);
    if (i % 7 === 6) await store.prune({ graceMs: 0 });
    if (i % 11 === 10) await store.fsck();
  }
} else {
  throw new Error(`unknown mode ${mode}`);
}
