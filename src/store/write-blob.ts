// The one way to stream a blob into an ingester: ask for a writer, continue at its offset,
// write, commit; keep the partial data on a source failure so the next try resumes. This is
// the store end of `http body → verify → ingest writer` (design-models.md §6.6): the puller
// passes a function that opens the body at an offset (a Range request).

import { KimgError } from "../errors.ts";
import { throwIfAborted } from "./atomic-file.ts";
import type {
  BlobDescriptor,
  BlobIngester,
  BlobValidator,
  IngestOptions,
  IngestResume,
} from "./types.ts";

/** A body that starts at `start` (0 when the server ignored the Range request). */
export interface BlobSource {
  readonly start: number;
  readonly body: AsyncIterable<Uint8Array>;
  /** ETag / Last-Modified of the response, recorded for the next resume. */
  readonly validator?: BlobValidator;
}

export interface WriteBlobResult {
  readonly digest: string;
  readonly resume: IngestResume;
  /** Bytes written by this call (0 when the blob was already there). */
  readonly written: number;
}

/**
 * Streams a blob into `ingester`: `openAt(offset, validator)` is called only when there is
 * something to fetch (not when the blob is committed or its bytes are all on disk). A body that starts at 0 instead of `offset` resets the partial data.
 * On a source error the partial data is kept (closed) for the next call to resume; on a size
 * or digest mismatch it is deleted (by the writer).
 *
 * @example await writeBlob(store, desc, async (offset) => ({ start: offset, body: slice(offset) }))
 */
export async function writeBlob(
  ingester: BlobIngester,
  expected: BlobDescriptor,
  openAt: (offset: number, validator: BlobValidator | undefined) => Promise<BlobSource>,
  opts: IngestOptions = {},
): Promise<WriteBlobResult> {
  const w = await ingester.ingest(expected, opts);
  if (w.committed) return { digest: expected.digest, resume: w.resume, written: 0 };
  let written = 0;
  try {
    if (w.offset === w.size) {
      // All bytes are on disk already (a crash between the last write and the rename): no
      // request, just verify and commit (containerd's remotes.Fetch does the same).
      await w.commit();
      return { digest: expected.digest, resume: w.resume, written };
    }
    const src = await openAt(w.offset, w.validator);
    if (src.start === 0 && w.offset !== 0) await w.reset();
    else if (src.start !== w.offset) {
      throw new KimgError(
        "INPUT_INVALID",
        `write ${expected.digest}: body starts at ${src.start}, expected ${w.offset} or 0`,
      );
    }
    if (src.validator !== undefined) await w.setValidator(src.validator);
    for await (const chunk of src.body) {
      throwIfAborted(opts.signal);
      await w.write(chunk);
      written += chunk.byteLength;
    }
    await w.commit();
    return { digest: expected.digest, resume: w.resume, written };
  } finally {
    // No-op after commit or after the writer deleted bad data; else keeps the progress.
    await w.close();
  }
}
