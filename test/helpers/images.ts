// Test harness: owns building test images as OCI image layouts on disk, with real content:
// gzip (or plain) tar layers made with tar-stream (files, dirs, symlinks, hardlinks, FIFOs, char
// devices,
// extra PAX records such as xattrs, sized
// pseudo-random files streamed from a seeded AES-CTR keystream, so 64 MiB layers never sit in
// memory), image configs with correct rootfs.diff_ids and history, OCI manifests and indexes or
// Docker schema2 manifests and manifest lists, and index.json entries named by
// `org.opencontainers.image.ref.name`. Same options and seed ⇒ same bytes ⇒ same digests.

import { createCipheriv, createHash, randomBytes } from "node:crypto";
import { createReadStream, createWriteStream, existsSync } from "node:fs";
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGzip } from "node:zlib";
import tar from "tar-stream";
import { makeTempDir } from "./cleanup.ts";

export const MediaType = {
  ociIndex: "application/vnd.oci.image.index.v1+json",
  ociManifest: "application/vnd.oci.image.manifest.v1+json",
  ociConfig: "application/vnd.oci.image.config.v1+json",
  ociLayerGzip: "application/vnd.oci.image.layer.v1.tar+gzip",
  ociLayer: "application/vnd.oci.image.layer.v1.tar",
  dockerList: "application/vnd.docker.distribution.manifest.list.v2+json",
  dockerManifest: "application/vnd.docker.distribution.manifest.v2+json",
  dockerConfig: "application/vnd.docker.container.image.v1+json",
  dockerLayerGzip: "application/vnd.docker.image.rootfs.diff.tar.gzip",
  dockerLayer: "application/vnd.docker.image.rootfs.diff.tar",
} as const;

export const REF_NAME_ANNOTATION = "org.opencontainers.image.ref.name";

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

export const PLATFORMS = {
  linuxAmd64: { os: "linux", architecture: "amd64" },
  linuxArm64: { os: "linux", architecture: "arm64", variant: "v8" },
  linuxArmV7: { os: "linux", architecture: "arm", variant: "v7" },
  linuxS390x: { os: "linux", architecture: "s390x" },
  linuxPpc64le: { os: "linux", architecture: "ppc64le" },
} as const satisfies Record<string, Platform>;

export type FileType = "file" | "dir" | "symlink" | "hardlink" | "fifo" | "chardev" | "blockdev";

export interface FileSpec {
  /** Path inside the layer ("etc/hosts"; a leading "/" is dropped). */
  path: string;
  /** Default "file". */
  type?: FileType;
  /** Content of a file. */
  content?: string | Uint8Array;
  /** Size of a file of seeded pseudo-random bytes (streamed; instead of `content`). */
  size?: number;
  /** Default 0o644 for files, 0o755 for dirs, 0o777 for symlinks. */
  mode?: number;
  /** Target of a symlink (any string) or hardlink (a path earlier in the same layer). */
  linkname?: string;
  uid?: number;
  gid?: number;
  /** Default 2024-01-01T00:00:00Z. */
  mtime?: Date;
  /** Device numbers of a "chardev" or "blockdev". */
  devmajor?: number;
  devminor?: number;
  /** Extra PAX records of the entry (e.g. `"SCHILY.xattr.user.k": "v"` for an xattr). */
  pax?: Record<string, string>;
}

interface LayerCommon {
  /** Default "gzip". */
  compression?: "gzip" | "none";
  /** zlib level, 0–9. Default 6. Random data does not compress: 0 is ~7x faster for it. */
  gzipLevel?: number;
  /** `created_by` of the layer's history entry. */
  createdBy?: string;
}

export type LayerSpec =
  | (LayerCommon & { files: readonly FileSpec[] })
  /** One file of N seeded pseudo-random bytes (at `path`, default "random.bin"). */
  | (LayerCommon & { randomBytes: number; path?: string });

export interface BuildImageOptions {
  layers: readonly LayerSpec[];
  /** Default linux/amd64. */
  platform?: Platform;
  /** Merged into the config's `config` (Env, Cmd, Entrypoint, Labels, WorkingDir, User…). */
  config?: Record<string, unknown>;
  /** Extra top-level config fields (author, …); may override `created`. */
  configExtras?: Record<string, unknown>;
  /** Seeds every pseudo-random file. Default "kimg". */
  seed?: string;
  /** Layout to write into (created if missing; added to if present). Default: a new temp dir. */
  dir?: string;
  /** index.json ref name. Default "latest"; null: the manifest is not listed in index.json. */
  ref?: string | null;
  /** "oci" (default) or "docker" (schema2 manifest and Docker media types). */
  format?: "oci" | "docker";
  /** Manifest annotations (OCI only). */
  annotations?: Record<string, string>;
}

export interface BuiltLayer {
  digest: string;
  size: number;
  diffId: string;
  uncompressedSize: number;
  mediaType: string;
}

export interface BuiltImage {
  layoutDir: string;
  ref: string | null;
  platform: Platform;
  manifestDigest: string;
  manifestSize: number;
  manifestMediaType: string;
  manifest: Buffer;
  configDigest: string;
  configSize: number;
  config: Buffer;
  layers: BuiltLayer[];
}

export interface BuildIndexOptions {
  /** One image per platform (give each a `platform`). */
  images: readonly Omit<BuildImageOptions, "dir" | "ref" | "format">[];
  dir?: string;
  /** Default "latest". */
  ref?: string | null;
  /** "oci" (index) or "docker" (manifest list). Default "oci". */
  format?: "oci" | "docker";
  /** Default seed of each image: `${seed}/${os}/${arch}/${variant}`. Default "kimg". */
  seed?: string;
  annotations?: Record<string, string>;
}

export interface BuiltIndex {
  layoutDir: string;
  ref: string | null;
  indexDigest: string;
  indexSize: number;
  indexMediaType: string;
  index: Buffer;
  images: BuiltImage[];
}

const EPOCH = new Date("2024-01-01T00:00:00Z");

export function platformString(p: Platform): string {
  return `${p.os}/${p.architecture}${p.variant === undefined ? "" : `/${p.variant}`}`;
}

/** Path of a blob in an OCI layout. */
export function blobPath(layoutDir: string, digest: string): string {
  const [alg, hex] = digest.split(":");
  if (alg === undefined || hex === undefined) throw new Error(`bad digest ${digest}`);
  return join(layoutDir, "blobs", alg, hex);
}

export function sha256(data: Uint8Array | string): string {
  return `sha256:${createHash("sha256").update(data).digest("hex")}`;
}

/** sha256 digest and size of a file, streamed. */
export async function digestFile(path: string): Promise<{ digest: string; size: number }> {
  const h = createHash("sha256");
  let size = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) {
    const b = chunk as Buffer;
    h.update(b);
    size += b.length;
  }
  return { digest: `sha256:${h.digest("hex")}`, size };
}

/** Seeded pseudo-random bytes: AES-256-CTR keystream keyed by sha256(seed). */
export function* seededChunks(seed: string, size: number, chunk = 1 << 20): Generator<Buffer> {
  const key = createHash("sha256").update(seed).digest();
  const cipher = createCipheriv("aes-256-ctr", key, Buffer.alloc(16));
  const zeros = Buffer.alloc(Math.min(chunk, Math.max(size, 1)));
  let left = size;
  while (left > 0) {
    const n = Math.min(left, zeros.length);
    yield cipher.update(zeros.subarray(0, n));
    left -= n;
  }
}

export function seededBytes(seed: string, size: number): Buffer {
  return Buffer.concat([...seededChunks(seed, size)]);
}

async function ensureLayout(dir: string): Promise<void> {
  await mkdir(join(dir, "blobs", "sha256"), { recursive: true });
  const marker = join(dir, "oci-layout");
  if (!existsSync(marker)) {
    await writeFile(marker, `${JSON.stringify({ imageLayoutVersion: "1.0.0" })}\n`);
  }
  const index = join(dir, "index.json");
  if (!existsSync(index)) {
    await writeFile(
      index,
      `${JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: [] })}\n`,
    );
  }
}

async function writeBlob(
  layoutDir: string,
  data: Buffer,
): Promise<{ digest: string; size: number }> {
  const digest = sha256(data);
  const path = blobPath(layoutDir, digest);
  if (!existsSync(path)) await writeFile(path, data);
  return { digest, size: data.length };
}

/** A pass-through that hashes and counts what flows through it. */
class Tap extends Transform {
  size = 0;
  readonly #hash = createHash("sha256");
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: (e: null, c: Buffer) => void) {
    this.#hash.update(chunk);
    this.size += chunk.length;
    cb(null, chunk);
  }
  digest(): string {
    return `sha256:${this.#hash.digest("hex")}`;
  }
}

function waitDrain(w: { once(event: "drain", fn: () => void): unknown }): Promise<void> {
  return new Promise((resolve) => w.once("drain", () => resolve()));
}

function entryCallback(): { cb: (err?: Error | null) => void; done: Promise<void> } {
  let cb: (err?: Error | null) => void = () => {};
  const done = new Promise<void>((resolve, reject) => {
    cb = (err) => (err ? reject(err) : resolve());
  });
  return { cb, done };
}

async function addEntry(pack: tar.Pack, f: FileSpec, seed: string): Promise<void> {
  const type = f.type ?? "file";
  const name = f.path.replace(/^\/+/, "");
  if (name === "") throw new Error("buildImage: empty path");
  const base = {
    name,
    mtime: f.mtime ?? EPOCH,
    uid: f.uid ?? 0,
    gid: f.gid ?? 0,
    uname: "",
    gname: "",
    ...(f.pax === undefined ? {} : { pax: f.pax }),
  };
  const { cb, done } = entryCallback();
  switch (type) {
    case "dir":
      pack.entry({ ...base, type: "directory", mode: f.mode ?? 0o755 }, cb);
      break;
    case "fifo":
      pack.entry({ ...base, type: "fifo", mode: f.mode ?? 0o644 }, cb);
      break;
    case "chardev":
    case "blockdev":
      pack.entry(
        {
          ...base,
          type: type === "chardev" ? "character-device" : "block-device",
          mode: f.mode ?? 0o644,
          devmajor: f.devmajor ?? 0,
          devminor: f.devminor ?? 0,
        },
        cb,
      );
      break;
    case "symlink":
    case "hardlink":
      if (f.linkname === undefined) throw new Error(`buildImage: ${name}: ${type} needs linkname`);
      pack.entry(
        {
          ...base,
          type: type === "symlink" ? "symlink" : "link",
          // A hardlink names a path in the archive (relative); a symlink target is kept as is.
          linkname: type === "hardlink" ? f.linkname.replace(/^\/+/, "") : f.linkname,
          mode: f.mode ?? (type === "symlink" ? 0o777 : 0o644),
        },
        cb,
      );
      break;
    case "file": {
      if (f.content !== undefined && f.size !== undefined) {
        throw new Error(`buildImage: ${name}: give content or size, not both`);
      }
      if (f.size === undefined) {
        const content = Buffer.from(f.content ?? "");
        pack.entry(
          { ...base, type: "file", mode: f.mode ?? 0o644, size: content.length },
          content,
          cb,
        );
        break;
      }
      const entry = pack.entry({ ...base, type: "file", mode: f.mode ?? 0o644, size: f.size }, cb);
      for (const chunk of seededChunks(`${seed}\0${name}`, f.size)) {
        if (!entry.write(chunk)) await waitDrain(entry);
      }
      entry.end(null); // streamx's types want an argument; null writes nothing
      break;
    }
  }
  await done;
}

async function buildLayer(
  layoutDir: string,
  spec: LayerSpec,
  seed: string,
  format: "oci" | "docker",
): Promise<BuiltLayer> {
  const files: readonly FileSpec[] =
    "files" in spec ? spec.files : [{ path: spec.path ?? "random.bin", size: spec.randomBytes }];
  const gzip = (spec.compression ?? "gzip") === "gzip";
  const pack = tar.pack();
  const tarTap = new Tap();
  const blobTap = new Tap();
  const tmp = join(layoutDir, "blobs", "sha256", `.tmp-${randomBytes(8).toString("hex")}`);
  const stages: NodeJS.ReadWriteStream[] = [tarTap];
  if (gzip) stages.push(createGzip({ level: spec.gzipLevel ?? 6 }), blobTap);
  const written = pipeline(
    pack as unknown as NodeJS.ReadableStream,
    ...(stages as [NodeJS.ReadWriteStream]),
    createWriteStream(tmp),
  );
  try {
    for (const f of files) await addEntry(pack, f, seed);
    pack.finalize();
    await written;
  } catch (e) {
    pack.destroy();
    await written.catch(() => {});
    await rm(tmp, { force: true });
    throw e;
  }
  const diffId = tarTap.digest();
  const digest = gzip ? blobTap.digest() : diffId;
  const size = gzip ? blobTap.size : tarTap.size;
  const final = blobPath(layoutDir, digest);
  if (existsSync(final)) await rm(tmp);
  else await rename(tmp, final);
  const mediaType =
    format === "oci"
      ? gzip
        ? MediaType.ociLayerGzip
        : MediaType.ociLayer
      : gzip
        ? MediaType.dockerLayerGzip
        : MediaType.dockerLayer;
  return { digest, size, diffId, uncompressedSize: tarTap.size, mediaType };
}

interface IndexJson {
  schemaVersion: number;
  mediaType?: string;
  manifests: Array<{ annotations?: Record<string, string> } & Record<string, unknown>>;
}

/** Adds (or replaces, by ref name) a descriptor in the layout's index.json. */
async function addToIndexJson(
  layoutDir: string,
  ref: string,
  descriptor: Record<string, unknown>,
): Promise<void> {
  const path = join(layoutDir, "index.json");
  const index = JSON.parse(await readFile(path, "utf8")) as IndexJson;
  index.manifests = index.manifests.filter((m) => m.annotations?.[REF_NAME_ANNOTATION] !== ref);
  index.manifests.push({ ...descriptor, annotations: { [REF_NAME_ANNOTATION]: ref } });
  await writeFile(path, `${JSON.stringify(index)}\n`);
}

function platformJson(p: Platform): Record<string, string> {
  return {
    architecture: p.architecture,
    os: p.os,
    ...(p.variant === undefined ? {} : { variant: p.variant }),
  };
}

/** Builds one image into an OCI layout and returns its digests. */
export async function buildImage(opts: BuildImageOptions): Promise<BuiltImage> {
  const layoutDir = opts.dir ?? makeTempDir("image");
  await ensureLayout(layoutDir);
  const format = opts.format ?? "oci";
  const seed = opts.seed ?? "kimg";
  const platform: Platform = opts.platform ?? PLATFORMS.linuxAmd64;
  const layers: BuiltLayer[] = [];
  for (const [i, spec] of opts.layers.entries()) {
    layers.push(await buildLayer(layoutDir, spec, `${seed}\0layer${i}`, format));
  }
  const created = EPOCH.toISOString().replace(".000Z", "Z");
  const configJson = {
    created,
    architecture: platform.architecture,
    os: platform.os,
    ...(platform.variant === undefined ? {} : { variant: platform.variant }),
    config: {
      Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
      Cmd: ["/bin/sh"],
      ...opts.config,
    },
    rootfs: { type: "layers", diff_ids: layers.map((l) => l.diffId) },
    history: opts.layers.map((spec, i) => ({
      created,
      created_by: spec.createdBy ?? `kimg test layer ${i}`,
    })),
    ...opts.configExtras,
  };
  const config = Buffer.from(JSON.stringify(configJson));
  const configBlob = await writeBlob(layoutDir, config);
  const oci = format === "oci";
  const manifestMediaType = oci ? MediaType.ociManifest : MediaType.dockerManifest;
  const manifestJson = {
    schemaVersion: 2,
    mediaType: manifestMediaType,
    config: {
      mediaType: oci ? MediaType.ociConfig : MediaType.dockerConfig,
      digest: configBlob.digest,
      size: configBlob.size,
    },
    layers: layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.size })),
    ...(oci && opts.annotations !== undefined ? { annotations: opts.annotations } : {}),
  };
  const manifest = Buffer.from(JSON.stringify(manifestJson));
  const m = await writeBlob(layoutDir, manifest);
  const ref = opts.ref === undefined ? "latest" : opts.ref;
  if (ref !== null) {
    await addToIndexJson(layoutDir, ref, {
      mediaType: manifestMediaType,
      digest: m.digest,
      size: m.size,
      platform: platformJson(platform),
    });
  }
  return {
    layoutDir,
    ref,
    platform,
    manifestDigest: m.digest,
    manifestSize: m.size,
    manifestMediaType,
    manifest,
    configDigest: configBlob.digest,
    configSize: configBlob.size,
    config,
    layers,
  };
}

/** Builds a multi-platform OCI index (or Docker manifest list) and its images into a layout. */
export async function buildIndex(opts: BuildIndexOptions): Promise<BuiltIndex> {
  if (opts.images.length === 0) throw new Error("buildIndex: no images");
  const layoutDir = opts.dir ?? makeTempDir("index");
  await ensureLayout(layoutDir);
  const format = opts.format ?? "oci";
  const seed = opts.seed ?? "kimg";
  const images: BuiltImage[] = [];
  for (const img of opts.images) {
    const platform: Platform = img.platform ?? PLATFORMS.linuxAmd64;
    images.push(
      await buildImage({
        ...img,
        seed: img.seed ?? `${seed}/${platformString(platform)}`,
        dir: layoutDir,
        ref: null,
        format,
      }),
    );
  }
  const oci = format === "oci";
  const indexMediaType = oci ? MediaType.ociIndex : MediaType.dockerList;
  const indexJson = {
    schemaVersion: 2,
    mediaType: indexMediaType,
    manifests: images.map((i) => ({
      mediaType: i.manifestMediaType,
      digest: i.manifestDigest,
      size: i.manifestSize,
      platform: platformJson(i.platform),
    })),
    ...(oci && opts.annotations !== undefined ? { annotations: opts.annotations } : {}),
  };
  const index = Buffer.from(JSON.stringify(indexJson));
  const b = await writeBlob(layoutDir, index);
  const ref = opts.ref === undefined ? "latest" : opts.ref;
  if (ref !== null) {
    await addToIndexJson(layoutDir, ref, {
      mediaType: indexMediaType,
      digest: b.digest,
      size: b.size,
    });
  }
  return {
    layoutDir,
    ref,
    indexDigest: b.digest,
    indexSize: b.size,
    indexMediaType,
    index,
    images,
  };
}
