// Where a push or copy reads an image from: a registry (streamed, never written to disk), an
// OCI image layout directory (`oci:DIR[:TAG]`, image-spec image-layout.md), or kimg's store.
// Each gives the root manifest or index with its bytes, any manifest by digest (verified), and
// blobs as streams from an offset (for a resumed chunk).

import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { type Readable, Transform } from "node:stream";
import { errnoText, KimgError } from "../errors.ts";
import { type Descriptor, type Digest, isDigest, parseManifestOrIndex } from "../oci/index.ts";
import {
  parseNormalizedNamed,
  type Reference,
  referenceString,
  tagNameOnly,
} from "../ref/index.ts";
import {
  ClientPool,
  type PullSource,
  pullSources,
  type RegistryClient,
  resolveFirst,
} from "../registry/index.ts";
import type { RemoteOptions } from "../remote/index.ts";
import type { FsBlobStore } from "../store/index.ts";

export interface ImageSource {
  /** For messages: `docker://…`, `oci:DIR:TAG`, `store:NAME`. */
  readonly name: string;
  /** Set for a registry source: where its blobs live (a mount needs the same host). */
  readonly registry?: { readonly host: string; readonly repository: string } | undefined;
  /** The manifest or index the source names, with its bytes exactly as stored. */
  root(): Promise<{ descriptor: Descriptor; bytes: Buffer }>;
  /** A manifest or index by digest, verified. */
  manifest(desc: Descriptor): Promise<Buffer>;
  /** A blob's bytes from `offset` (not verified here: the copy hashes what it sends). */
  blob(desc: Descriptor, offset: number): Promise<Readable>;
  close(): Promise<void>;
}

/** Registry settings of a push or copy: the remote reads' own (insecure hosts, registries.conf, credentials, retries). */
export type RegistryEndpointOptions = Omit<RemoteOptions, "candidates" | "clients">;

/** An image at a registry (mirrors from registries.conf first, as a pull reads it). */
export async function registrySource(
  refText: string,
  opts: RegistryEndpointOptions,
): Promise<ImageSource> {
  const ref = tagNameOnly(parseNormalizedNamed(refText));
  const pool = new ClientPool(opts);
  const ro = opts.signal !== undefined ? { signal: opts.signal } : {};
  let found: { client: RegistryClient; source: PullSource; target: Descriptor };
  try {
    found = await resolveFirst(pullSources(ref, opts.registriesConf), (s) => pool.for(s), ro);
  } catch (e) {
    await pool.close();
    throw e;
  }
  const { client, source, target } = found;
  const repo = source.repository;
  return {
    name: `docker://${referenceString(ref)}`,
    registry: { host: source.host, repository: repo },
    async root() {
      const m = await client.getManifest(repo, target.digest, ro);
      return {
        descriptor: { ...target, mediaType: target.mediaType || m.mediaType },
        bytes: m.bytes,
      };
    },
    async manifest(desc) {
      return (await client.getManifest(repo, desc.digest, ro)).bytes;
    },
    async blob(desc, offset) {
      const r = await client.getBlob(repo, desc, { ...ro, offset });
      if (r.offset !== offset) {
        // The registry ignored Range: skip to the offset ourselves.
        return skip(r.stream, offset);
      }
      return r.stream;
    },
    close: () => pool.close(),
  };
}

/** An image of an OCI layout: `DIR` and the `org.opencontainers.image.ref.name` of an entry. */
export async function layoutSource(dir: string, tag: string | undefined): Promise<ImageSource> {
  let index: { manifests?: unknown };
  try {
    index = JSON.parse(await readFile(join(dir, "index.json"), "utf8")) as { manifests?: unknown };
  } catch (e) {
    throw new KimgError("INPUT_UNREADABLE", `oci:${dir}: cannot read index.json: ${errnoText(e)}`);
  }
  const entries = Array.isArray(index.manifests)
    ? (index.manifests as Record<string, unknown>[])
    : [];
  const refName = (e: Record<string, unknown>) =>
    (e.annotations as Record<string, unknown> | undefined)?.["org.opencontainers.image.ref.name"];
  const pick =
    tag === undefined || tag === ""
      ? entries.length === 1
        ? entries[0]
        : undefined
      : entries.find((e) => refName(e) === tag);
  if (pick === undefined) {
    const names = entries.map(refName).filter((n): n is string => typeof n === "string");
    throw new KimgError(
      "IMAGE_NOT_FOUND",
      tag === undefined || tag === ""
        ? `oci:${dir}: ${entries.length} images in the layout; name one as oci:${dir}:TAG (${names.join(", ") || "none named"})`
        : `oci:${dir}: no image named "${tag}" (the layout has ${names.join(", ") || "no named images"})`,
    );
  }
  const root = layoutDescriptor(pick, `oci:${dir}: index.json`);
  const path = (d: string) => {
    if (!isDigest(d))
      throw new KimgError("UNSAFE_PATH", `oci:${dir}: invalid digest ${JSON.stringify(d)}`);
    const [alg, hex] = d.split(":");
    return join(dir, "blobs", alg ?? "", hex ?? "");
  };
  const readVerified = async (desc: Descriptor): Promise<Buffer> => {
    let bytes: Buffer;
    try {
      bytes = await readFile(path(desc.digest));
    } catch (e) {
      throw new KimgError("BLOB_NOT_FOUND", `oci:${dir}: blob ${desc.digest}: ${errnoText(e)}`);
    }
    const [alg = "sha256"] = desc.digest.split(":");
    const got = `${alg}:${createHash(alg).update(bytes).digest("hex")}`;
    if (got !== desc.digest) {
      throw new KimgError("DIGEST_MISMATCH", `oci:${dir}: blob ${desc.digest} has digest ${got}`);
    }
    return bytes;
  };
  return {
    name: `oci:${dir}${tag ? `:${tag}` : ""}`,
    async root() {
      return { descriptor: root, bytes: await readVerified(root) };
    },
    manifest: readVerified,
    async blob(desc, offset) {
      const p = path(desc.digest);
      return createReadStream(p, { start: offset, highWaterMark: 1 << 20 });
    },
    close: async () => {},
  };
}

/** An image in kimg's store, by name: its platform manifest, or with `index` its index. */
export async function storeSource(
  store: FsBlobStore,
  nameText: string,
  opts: { index?: boolean } = {},
): Promise<ImageSource> {
  const ref: Reference = tagNameOnly(parseNormalizedNamed(nameText));
  const name = referenceString(ref);
  const rec = await store.getImage(name);
  if (rec === undefined) {
    throw new KimgError("IMAGE_NOT_FOUND", `No such image: ${name} (kimg images lists the store)`);
  }
  const readVerified = async (desc: Pick<Descriptor, "digest">): Promise<Buffer> => {
    const s = await store.open(desc.digest, { verify: true });
    const chunks: Buffer[] = [];
    for await (const c of s) chunks.push(c as Buffer);
    return Buffer.concat(chunks);
  };
  const rootDigest =
    opts.index === true && rec.indexDigest !== undefined ? rec.indexDigest : rec.manifestDigest;
  return {
    name: `store:${name}`,
    async root() {
      const bytes = await readVerified({ digest: rootDigest as Digest });
      const doc = parseManifestOrIndex(bytes, { digest: rootDigest });
      const mediaType = doc.kind === "index" ? doc.index.mediaType : doc.manifest.mediaType;
      return { descriptor: { mediaType, digest: rootDigest as Digest, size: bytes.length }, bytes };
    },
    manifest: readVerified,
    blob: (desc, offset) => store.open(desc.digest, { start: offset }),
    close: async () => {},
  };
}

function layoutDescriptor(e: Record<string, unknown>, where: string): Descriptor {
  if (
    typeof e.mediaType !== "string" ||
    typeof e.digest !== "string" ||
    !isDigest(e.digest) ||
    typeof e.size !== "number"
  ) {
    throw new KimgError(
      "INVALID_MANIFEST",
      `${where}: an entry is not a descriptor (mediaType, digest, size)`,
    );
  }
  return { mediaType: e.mediaType, digest: e.digest as Digest, size: e.size };
}

/** Drops the first `n` bytes of a stream. */
function skip(stream: Readable, n: number): Readable {
  let left = n;
  return stream.pipe(
    new Transform({
      transform(chunk: Buffer, _e, cb) {
        if (left >= chunk.length) {
          left -= chunk.length;
          return cb();
        }
        const out = left > 0 ? chunk.subarray(left) : chunk;
        left = 0;
        cb(null, out);
      },
    }),
  );
}
