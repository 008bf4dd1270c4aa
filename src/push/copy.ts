// copyImage: an image from any ImageSource (registry, OCI layout, store) to a registry, as
// `crane copy`, `skopeo copy` and `docker push` do it (distribution-spec spec.md "Pushing"):
// - Blobs first, at most `jobs` at once: skipped when a HEAD shows the repository has them,
//   mounted from the source repository when both are on one registry (`?mount=&from=`), else
//   streamed from the source: one PUT for a blob up to `chunkSize`, PATCH chunks above it,
//   a cut chunk resumed from the session's Range (GET of the session URL). Non-distributable
//   (foreign) layers are not copied, as containerd and crane leave them.
// - Each blob is hashed once as it streams; a source that sends other bytes fails the blob
//   before the registry's digest check would, and nothing refers to it.
// - Manifests after their blobs, child manifests of an index before the index, and the
//   tagged one last: a cut push is never visible under the tag.
// - `allPlatforms` copies an index whole and byte for byte (its digest is kept); otherwise the
//   platform's manifest (`platform`, default this host's) is what the tag names, as skopeo copy
//   does without --all.
// - At the end the destination is asked (one HEAD) and must name the digest that was sent.

import { createHash } from "node:crypto";
import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { isKimgError, KimgError } from "../errors.ts";
import { mapLimit } from "../limit/index.ts";
import {
  type Descriptor,
  isNonDistributable,
  parseManifestOrIndex,
  selectManifest,
} from "../oci/index.ts";
import { parseNormalizedNamed, referenceString, tagNameOnly } from "../ref/index.ts";
import { type BlobPushOutcome, RegistryClient, type UploadSession } from "../registry/index.ts";
import { wantedPlatform } from "../store/index.ts";
import type { ImageSource, RegistryEndpointOptions } from "./sources.ts";

/** Blobs copied at once: 4, as crane's default `--jobs` and containerd's max concurrent uploads bound. */
export const COPY_JOBS = 4;
/** Above this a blob goes in PATCH chunks (resumable); at or below, one PUT. Default: never chunk. */
export const DEFAULT_CHUNK_SIZE = Number.POSITIVE_INFINITY;
/** A cut chunk is resumed this many times before the copy fails. */
const MAX_RESUMES = 3;

export interface CopyEvent {
  readonly digest: string;
  readonly size: number;
  readonly mediaType: string;
  readonly outcome: BlobPushOutcome | "skipped-foreign" | "resumed";
  readonly offset?: number;
}

export interface CopyOptions extends RegistryEndpointOptions {
  /** Copy a whole index (every platform), byte for byte. */
  readonly allPlatforms?: boolean | undefined;
  /** The platform to copy from an index (default this host's). */
  readonly platform?: string | undefined;
  readonly jobs?: number | undefined;
  /** Blobs larger than this go in chunks of this size (resumable). */
  readonly chunkSize?: number | undefined;
  readonly onBlob?: ((e: CopyEvent) => void) | undefined;
}

export interface CopyResult {
  /** `host/repo:tag` written. */
  readonly destination: string;
  /** What the destination tag now names (checked with a HEAD at the end). */
  readonly descriptor: Descriptor;
  readonly blobs: {
    readonly uploaded: number;
    readonly exists: number;
    readonly mounted: number;
    readonly bytes: number;
  };
  readonly manifests: number;
}

export async function copyImage(
  src: ImageSource,
  dstText: string,
  opts: CopyOptions = {},
): Promise<CopyResult> {
  const dst = tagNameOnly(parseNormalizedNamed(dstText));
  const client = new RegistryClient({
    host: dst.domain,
    insecureHosts: opts.insecureHosts,
    credentials: opts.credentials,
    retry: opts.retry,
  });
  const ro = opts.signal !== undefined ? { signal: opts.signal } : {};
  const repo = dst.path;
  const stats = { uploaded: 0, exists: 0, mounted: 0, bytes: 0 };
  let manifests = 0;
  const done = new Map<string, Promise<void>>();

  const copyBlob = (desc: Descriptor): Promise<void> => {
    let p = done.get(desc.digest);
    if (p === undefined) {
      p = oneBlob(desc);
      done.set(desc.digest, p);
    }
    return p;
  };

  const oneBlob = async (desc: Descriptor): Promise<void> => {
    const event = (outcome: CopyEvent["outcome"], offset?: number) =>
      opts.onBlob?.({
        digest: desc.digest,
        size: desc.size,
        mediaType: desc.mediaType,
        outcome,
        ...(offset !== undefined ? { offset } : {}),
      });
    if (isNonDistributable(desc.mediaType)) {
      event("skipped-foreign");
      return;
    }
    if (await client.hasBlob(repo, desc.digest, ro)) {
      stats.exists++;
      event("exists");
      return;
    }
    let session: UploadSession | undefined;
    const from = src.registry;
    if (from !== undefined && from.host === dst.domain && from.repository !== repo) {
      const m = await client.mountBlob(repo, desc.digest, from.repository, ro);
      if (m === "mounted") {
        stats.mounted++;
        event("mounted");
        return;
      }
      session = m;
    }
    session ??= await client.startUpload(repo, ro);
    const chunk = opts.chunkSize ?? DEFAULT_CHUNK_SIZE;
    if (desc.size <= chunk) {
      const hashed = hashing(desc);
      const body = await src.blob(desc, 0);
      const sending = client.finishUpload(
        repo,
        session,
        desc.digest,
        { stream: hashed, length: desc.size },
        ro,
      );
      // The registry's answer says more than the source stream: when the PUT fails (401, a
      // digest the registry rejects) the stream ends "prematurely" because of it.
      const [piped, sent] = await Promise.allSettled([pipeline(body, hashed), sending]);
      // A source whose bytes do not match is said as such (the hashing stage's own error).
      if (piped.status === "rejected" && isKimgError(piped.reason)) throw piped.reason;
      if (sent.status === "rejected") throw sent.reason;
      if (piped.status === "rejected") throw piped.reason;
    } else {
      await chunked(desc, session, chunk, event);
    }
    stats.uploaded++;
    stats.bytes += desc.size;
    event("uploaded");
  };

  /** PATCH chunks, hashed in order; a failed chunk is resumed where the registry says it is. */
  const chunked = async (
    desc: Descriptor,
    first: UploadSession,
    size: number,
    event: (o: CopyEvent["outcome"], offset?: number) => void,
  ): Promise<void> => {
    let session = first;
    const hash = createHash(desc.digest.split(":")[0] ?? "sha256");
    let hashedTo = 0;
    let resumes = 0;
    while (session.offset < desc.size) {
      const start = session.offset;
      const length = Math.min(size, desc.size - start);
      // Bytes the hash has not seen yet are hashed as they go; a resend after a resume is not hashed twice.
      const src0 = await src.blob(desc, start);
      const limited = take(
        src0,
        length,
        (b, at) => {
          const end = at + b.length;
          if (end > hashedTo) {
            hash.update(b.subarray(Math.max(0, hashedTo - at)));
            hashedTo = end;
          }
        },
        start,
      );
      try {
        session = await client.uploadChunk(repo, session, limited, length, ro);
      } catch (e) {
        src0.destroy();
        if (opts.signal?.aborted === true || resumes >= MAX_RESUMES) throw e;
        resumes++;
        try {
          // The session as the registry has it: resume after its last whole chunk.
          session = await client.uploadStatus(repo, session, ro);
          event("resumed", session.offset);
        } catch (s) {
          // Distribution invalidates a session that took part of a chunk (its _state no
          // longer matches): start the blob again in a new one.
          if (!isKimgError(s) || s.code !== "BLOB_UNKNOWN") throw e;
          session = await client.startUpload(repo, ro);
          event("resumed", 0);
        }
      }
    }
    const got = `${desc.digest.split(":")[0]}:${hash.digest("hex")}`;
    if (got !== desc.digest) {
      throw new KimgError(
        "DIGEST_MISMATCH",
        `${src.name}: blob ${desc.digest} has digest ${got}; not committed`,
      );
    }
    await client.finishUpload(repo, session, desc.digest, undefined, ro);
  };

  /** A document's blobs (or children), then the document under its digest, or `tag` when last. */
  const copyDocument = async (
    desc: Descriptor,
    bytes: Buffer,
    tag: string | undefined,
  ): Promise<Descriptor> => {
    const doc = parseManifestOrIndex(bytes, {
      ...(desc.mediaType ? { mediaType: desc.mediaType } : {}),
      digest: desc.digest,
    });
    if (doc.kind === "index") {
      for (const child of doc.index.manifests) {
        await copyDocument(child, await src.manifest(child), undefined);
      }
    } else {
      const blobs = [doc.manifest.config, ...doc.manifest.layers];
      await mapLimit(blobs, opts.jobs ?? COPY_JOBS, copyBlob);
    }
    const mediaType = doc.kind === "index" ? doc.index.mediaType : doc.manifest.mediaType;
    await client.putManifest(repo, tag ?? desc.digest, bytes, mediaType, ro);
    manifests++;
    return { mediaType, digest: desc.digest, size: bytes.length };
  };

  try {
    const root = await src.root();
    let target = root;
    const top = parseManifestOrIndex(root.bytes, {
      ...(root.descriptor.mediaType ? { mediaType: root.descriptor.mediaType } : {}),
      digest: root.descriptor.digest,
    });
    if (top.kind === "index" && opts.allPlatforms !== true) {
      const entry = selectManifest(top.index, wantedPlatform(opts.platform), { source: src.name });
      target = { descriptor: entry, bytes: await src.manifest(entry) };
    }
    const tag = dst.tag !== "" ? dst.tag : undefined;
    if (tag === undefined && dst.digest !== "" && dst.digest !== target.descriptor.digest) {
      throw new KimgError(
        "DIGEST_MISMATCH",
        `${referenceString(dst)}: the image copied has digest ${target.descriptor.digest}`,
      );
    }
    const sent = await copyDocument(target.descriptor, target.bytes, tag);
    // Verified at the destination: the tag (or digest) must now name what was sent.
    const check = await client.resolve(dst, ro);
    if (check.digest !== sent.digest) {
      throw new KimgError(
        "DIGEST_MISMATCH",
        `${referenceString(dst)}: the registry names ${check.digest} after the copy of ${sent.digest}`,
      );
    }
    return { destination: referenceString(dst), descriptor: sent, blobs: stats, manifests };
  } finally {
    await client.close();
  }
}

/** A pass-through that hashes and counts, and fails the stream when the bytes are not `desc`'s. */
function hashing(desc: Descriptor): Transform {
  const alg = desc.digest.split(":")[0] ?? "sha256";
  const h = createHash(alg);
  let n = 0;
  return new Transform({
    transform(chunk: Buffer, _e, cb) {
      n += chunk.length;
      if (n > desc.size) return cb(mismatch(desc, `more than ${desc.size} bytes`));
      h.update(chunk);
      cb(null, chunk);
    },
    flush(cb) {
      const got = `${alg}:${h.digest("hex")}`;
      if (n !== desc.size) return cb(mismatch(desc, `${n} bytes, not ${desc.size}`));
      if (got !== desc.digest) return cb(mismatch(desc, `digest ${got}`));
      cb();
    },
  });
}

function mismatch(desc: Descriptor, what: string): KimgError {
  return new KimgError(
    "DIGEST_MISMATCH",
    `blob ${desc.digest}: the source sent ${what}; not committed`,
  );
}

/** The first `length` bytes of `s`, each chunk shown to `seen` with its offset; the rest is not read. */
function take(
  s: Readable,
  length: number,
  seen: (b: Buffer, at: number) => void,
  start: number,
): Readable {
  return Readable.from(
    (async function* () {
      let left = length;
      let at = start;
      // Leaving the loop early destroys `s` (for-await's return), so the source stops reading.
      for await (const chunk of s) {
        const c = chunk as Buffer;
        const b = c.length > left ? c.subarray(0, left) : c;
        left -= b.length;
        seen(b, at);
        at += b.length;
        yield b;
        if (left <= 0) break;
      }
    })(),
    { objectMode: false },
  );
}
