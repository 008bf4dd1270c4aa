// exportImage(): one stored image → something every other tool imports (issue 10 items 6, 7):
//   oci-layout      a directory in OCI image-layout form (skopeo oci:DIR:TAG, umoci, ctr import
//                   of its tar);
//   oci-archive     that layout as a tar (skopeo oci-archive:, podman load, ctr images import);
//   docker-archive  the layout plus Docker's manifest.json in one tar, the form `docker save`
//                   writes since Docker 25 (moby image/tarexport), which docker load, podman
//                   load, skopeo docker-archive: and ctr images import all read.
//
// What goes in: exactly one platform's closure (manifest, config, layers), pointed at directly
// by index.json — never the index the store recorded, whose other platforms' blobs may not be
// stored (ctr import then fails with "content digest … not found", item 7). The digests are
// the registry's: nothing is re-encoded, so a Docker-media-type image stays one. skopeo's and
// podman's oci: transport and umoci find only OCI manifests in a layout, so a Docker-format
// image goes out as docker-archive only (the layout formats refuse it, saying so).
//
// index.json's entry carries `org.opencontainers.image.ref.name` = the tag (image-layout.md;
// what skopeo's oci:DIR:TAG looks up) and containerd's `io.containerd.image.name` = the full
// name (core/images/archive/exporter.go), so ctr names the imported image as kimg did.
// Blobs are streamed from the store, verified while read: nothing is buffered whole.

import { createWriteStream } from "node:fs";
import { mkdir, open, rename, rm, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { pipeline } from "node:stream/promises";
import tar from "tar-stream";
import { KimgError } from "../errors.ts";
import { matchPlatform, type Platform, parsePlatform } from "../oci/index.ts";
import { parseNormalizedNamed } from "../ref/index.ts";
import {
  defaultPlatform,
  type ImageInspection,
  inspectImage,
  type LocalStore,
} from "../store/index.ts";

const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";

export type ExportFormat = "oci-layout" | "oci-archive" | "docker-archive";
export const EXPORT_FORMATS: readonly ExportFormat[] = [
  "oci-layout",
  "oci-archive",
  "docker-archive",
];

export interface ExportOptions {
  readonly format: ExportFormat;
  /** A directory for oci-layout (must not exist or be empty), a file for the archives. */
  readonly output: string;
  /** Which stored platform; default the one last pulled. */
  readonly platform?: string | undefined;
}

export interface ExportReport {
  readonly image: string;
  readonly format: ExportFormat;
  readonly output: string;
  readonly digest: string;
  readonly platform: string;
  readonly blobs: number;
  readonly bytes: number;
}

interface Blob {
  readonly digest: string;
  readonly size: number;
}

const hexOf = (digest: string): string => digest.slice(digest.indexOf(":") + 1);
const pathOf = (digest: string): string =>
  `blobs/${digest.slice(0, digest.indexOf(":"))}/${hexOf(digest)}`;

function tagOf(name: string): string {
  const r = parseNormalizedNamed(name);
  return r.tag !== "" ? r.tag : "latest";
}

function layoutIndex(img: ImageInspection): string {
  const entry = {
    mediaType: img.mediaTypes.manifest,
    digest: img.manifestDigest,
    size: img.manifestSize,
    annotations: {
      "io.containerd.image.name": img.name,
      "org.opencontainers.image.ref.name": tagOf(img.name),
    },
  };
  return `${JSON.stringify({
    schemaVersion: 2,
    mediaType: "application/vnd.oci.image.index.v1+json",
    manifests: [entry],
  })}\n`;
}

/** Docker's manifest.json (moby image/tarexport/save.go: Config, RepoTags, Layers paths). */
function dockerManifest(img: ImageInspection): string {
  const r = parseNormalizedNamed(img.name);
  const repoTags = r.tag !== "" ? [`${r.domain}/${r.path}:${r.tag}`] : [];
  return `${JSON.stringify([
    {
      Config: pathOf(img.configDigest),
      RepoTags: repoTags,
      Layers: img.layers.map((l) => pathOf(l.digest)),
    },
  ])}\n`;
}

function blobsOf(img: ImageInspection): Blob[] {
  const seen = new Set<string>();
  const out: Blob[] = [];
  for (const b of [
    { digest: img.manifestDigest, size: img.manifestSize },
    { digest: img.configDigest, size: img.configSize },
    ...img.layers.map((l) => ({ digest: l.digest, size: l.size })),
  ]) {
    if (seen.has(b.digest)) continue;
    seen.add(b.digest);
    out.push(b);
  }
  return out;
}

/**
 * Writes `ref` (any form `kimg inspect` takes) from the store in `opts.format`. The output
 * appears whole or not at all: written beside under a temporary name, then renamed.
 * @throws KimgError IMAGE_NOT_FOUND, PLATFORM_NOT_FOUND, INPUT_INVALID (output exists),
 *   BLOB_NOT_FOUND / DIGEST_MISMATCH (the store is damaged: kimg verify)
 */
export async function exportImage(
  store: LocalStore,
  ref: string,
  opts: ExportOptions,
): Promise<ExportReport> {
  let wanted: Platform | undefined;
  if (opts.platform !== undefined) {
    wanted = parsePlatform(opts.platform, { host: defaultPlatform() });
  }
  const img = await inspectImage(store, ref, wanted !== undefined ? { platform: wanted } : {});
  if (wanted !== undefined) {
    const have = parsePlatform(img.platform, { host: defaultPlatform() });
    if (!matchPlatform(wanted, have)) {
      throw new KimgError(
        "PLATFORM_NOT_FOUND",
        `${img.name}: stored for ${img.platform}, not ${opts.platform} (pull it with --platform)`,
      );
    }
  }
  if (opts.format !== "docker-archive" && img.mediaTypes.manifest !== OCI_MANIFEST) {
    // containers/image's oci: transport (skopeo, podman) and umoci accept only OCI manifests in
    // a layout ("no descriptor found for reference"); converting would change the digests.
    throw new KimgError(
      "INPUT_INVALID",
      `${img.name} is a Docker-format image (${img.mediaTypes.manifest}): skopeo, podman and umoci read only OCI manifests from an OCI layout; use --format docker-archive, which keeps its digests`,
    );
  }
  const blobs = blobsOf(img);
  for (const b of blobs) {
    if ((await store.stat(b.digest)) === undefined) {
      throw new KimgError(
        "BLOB_NOT_FOUND",
        `${img.name}: blob ${b.digest} is not in the store (kimg verify; pull it again)`,
      );
    }
  }
  const out = opts.output;
  const tmp = join(dirname(out), `.${basename(out)}.kimg-export-${process.pid}`);
  await rm(tmp, { recursive: true, force: true });
  try {
    if (opts.format === "oci-layout") await writeLayoutDir(store, img, blobs, tmp);
    else await writeArchive(store, img, blobs, tmp, opts.format === "docker-archive");
    await moveIntoPlace(tmp, out, opts.format === "oci-layout");
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    throw e;
  }
  return {
    image: img.name,
    format: opts.format,
    output: out,
    digest: img.manifestDigest,
    platform: img.platform,
    blobs: blobs.length,
    bytes: blobs.reduce((n, b) => n + b.size, 0),
  };
}

async function moveIntoPlace(tmp: string, out: string, isDir: boolean): Promise<void> {
  if (isDir) {
    // An empty directory may be replaced (rename(2) replaces an empty one); any other fails.
    try {
      await rename(tmp, out);
    } catch (e) {
      const code = (e as { code?: string }).code;
      if (code === "ENOTEMPTY" || code === "EEXIST" || code === "ENOTDIR") {
        throw new KimgError("INPUT_INVALID", `${out}: exists and is not an empty directory`);
      }
      throw e;
    }
    return;
  }
  await rename(tmp, out);
}

async function writeLayoutDir(
  store: LocalStore,
  img: ImageInspection,
  blobs: readonly Blob[],
  dir: string,
): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, "oci-layout"), '{"imageLayoutVersion":"1.0.0"}\n');
  for (const b of blobs) {
    const p = join(dir, pathOf(b.digest));
    await mkdir(dirname(p), { recursive: true });
    await pipeline(await store.open(b.digest, { verify: true }), createWriteStream(p));
  }
  await writeFile(join(dir, "index.json"), layoutIndex(img));
}

async function writeArchive(
  store: LocalStore,
  img: ImageInspection,
  blobs: readonly Blob[],
  file: string,
  docker: boolean,
): Promise<void> {
  const pack = tar.pack();
  const fh = await open(file, "wx", 0o644);
  const done = pipeline(pack, fh.createWriteStream());
  const add = (name: string, body: string): void => {
    pack.entry({ name, mode: 0o644, mtime: new Date(0) }, body);
  };
  try {
    add("oci-layout", '{"imageLayoutVersion":"1.0.0"}\n');
    const algs = [...new Set(blobs.map((b) => b.digest.slice(0, b.digest.indexOf(":"))))];
    for (const dir of ["blobs/", ...algs.map((a) => `blobs/${a}/`)]) {
      pack.entry({ name: dir, type: "directory", mode: 0o755, mtime: new Date(0) });
    }
    for (const b of blobs) {
      const entry = pack.entry({
        name: pathOf(b.digest),
        size: b.size,
        mode: 0o644,
        mtime: new Date(0),
      });
      await pipeline(await store.open(b.digest, { verify: true }), entry);
    }
    add("index.json", layoutIndex(img));
    if (docker) add("manifest.json", dockerManifest(img));
    pack.finalize();
    await done;
  } catch (e) {
    pack.destroy(e as Error);
    await done.catch(() => {});
    throw e;
  }
}
