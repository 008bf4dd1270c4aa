// kimg push / copy / tag / delete: the registry writes. Thin: the library's copyImage,
// tagImage and deleteImage (src/push) do the work.
// - Sources: a store image by name (push's default), `store:NAME`, `oci:DIR[:TAG]` (an OCI
//   layout), `docker://REF` or a plain reference (copy's default: a registry).
// - `kimg copy REF store:` pulls into the store (registry → store).
// - Credentials: registries.conf, --insecure-registry and the docker config / auth.json as
//   `kimg pull`; `--creds` is for the destination registry only (skopeo's --dest-creds).
// - A line per blob on standard error (uploaded, exists, mounted, resumed), then `DEST@DIGEST`
//   on standard output (as `crane push` prints it), or with --json one object.

// parseByteSize lives with the GC's capacity flag; --chunk-size reads sizes the same way (16Mi).
import { parseByteSize } from "../../index.ts";
import {
  type CopyEvent,
  copyImage,
  defaultStoreDir,
  deleteImage,
  FsBlobStore,
  type ImageSource,
  KimgError,
  layoutSource,
  parseNormalizedNamed,
  pull,
  registrySource,
  shortDigest,
  storeSource,
  tagImage,
} from "../../pull-api.ts";
import { positiveInteger } from "../flags.ts";
import { type CliIO, EXIT } from "../io.ts";
import { formatBytes } from "../render/bytes.ts";
import { safe, toJson } from "../render/safe.ts";
import { credentialsOf, type RegistryFlags, registryOptionsOf } from "./pull.ts";

export interface PushFlags extends RegistryFlags {
  readonly json: boolean;
  readonly store?: string | undefined;
  readonly allPlatforms: boolean;
  readonly jobs?: string | undefined;
  readonly chunkSize?: string | undefined;
  readonly quiet: boolean;
  /** `plain` (a line per blob, the default) or `json` (one JSON event per line, as `kimg pull --progress json`). */
  readonly progress?: string | undefined;
}

/** `oci:DIR[:TAG]` → dir and tag (a last `:part` without `/` is the tag). */
function parseOci(text: string): { dir: string; tag: string | undefined } {
  const rest = text.slice(4);
  const i = rest.lastIndexOf(":");
  if (i > 0 && !rest.slice(i + 1).includes("/"))
    return { dir: rest.slice(0, i), tag: rest.slice(i + 1) };
  return { dir: rest, tag: undefined };
}

async function openSource(
  text: string,
  defaultKind: "store" | "registry",
  f: PushFlags,
  remote: Awaited<ReturnType<typeof registryOptionsOf>> & { credentials: unknown },
): Promise<ImageSource> {
  if (text.startsWith("oci:")) {
    const { dir, tag } = parseOci(text);
    return layoutSource(dir, tag);
  }
  const storeName = text.startsWith("store:")
    ? text.slice(6)
    : defaultKind === "store" && !text.startsWith("docker://")
      ? text
      : undefined;
  if (storeName !== undefined) {
    const store = await FsBlobStore.openExisting(f.store ?? defaultStoreDir(f.env, f.homedir));
    return storeSource(store, storeName, { index: f.allPlatforms });
  }
  const ref = text.startsWith("docker://") ? text.slice(9) : text;
  return registrySource(ref, remote as Parameters<typeof registrySource>[1]);
}

function blobLine(e: CopyEvent): string {
  const what = {
    uploaded: "pushed",
    exists: "exists",
    mounted: "mounted",
    resumed: `resumed at ${formatBytes(e.offset ?? 0)}`,
    "skipped-foreign": "skipped (non-distributable)",
  }[e.outcome];
  return `${shortDigest(e.digest)}  ${formatBytes(e.size)}  ${what}`;
}

export async function runCopy(
  srcText: string,
  dstText: string,
  f: PushFlags,
  io: CliIO,
  defaultKind: "store" | "registry",
): Promise<number> {
  const opts = await registryOptionsOf(f);
  if (f.progress !== undefined && f.progress !== "plain" && f.progress !== "json") {
    throw new KimgError("INPUT_INVALID", `--progress must be plain or json, got ${f.progress}`);
  }
  const jobs = f.jobs === undefined ? undefined : positiveInteger(f.jobs, "--jobs");
  const chunkSize = f.chunkSize === undefined ? undefined : parseByteSize(f.chunkSize);
  if (chunkSize === 0) throw new KimgError("INPUT_INVALID", "--chunk-size must be more than 0");
  if (dstText.startsWith("oci:")) {
    throw new KimgError(
      "INPUT_INVALID",
      `${dstText}: copy writes to registries and the store; for an OCI layout, pull then kimg export`,
    );
  }
  if (dstText.startsWith("store:")) {
    // Registry → store is a pull.
    const ref = srcText.startsWith("docker://") ? srcText.slice(9) : srcText;
    const name = dstText.slice(6);
    if (name !== "" && parseNormalizedNamed(name).path !== parseNormalizedNamed(ref).path) {
      throw new KimgError(
        "INPUT_INVALID",
        `${dstText}: the store keeps an image under its own name; use store: (empty) or store:${ref}`,
      );
    }
    const { chain } = await credentialsOf(ref, f);
    const store = await FsBlobStore.open(f.store ?? defaultStoreDir(f.env, f.homedir));
    const r = await pull(ref, { ...opts, store, credentials: chain, jobs });
    io.stdout.write(f.json ? `${toJson(r)}\n` : `${safe(r.ref)}@${r.digest}\n`);
    return EXIT.OK;
  }
  const dst = dstText.startsWith("docker://") ? dstText.slice(9) : dstText;
  const { chain } = await credentialsOf(dst, f);
  const remote = { ...opts, credentials: chain };
  const src = await openSource(srcText, defaultKind, f, remote);
  try {
    const r = await copyImage(src, dst, {
      ...remote,
      allPlatforms: f.allPlatforms,
      jobs,
      chunkSize,
      onBlob:
        f.progress === "json"
          ? (e) => io.stderr.write(`${toJson({ event: "blob", ...e })}\n`)
          : f.quiet || f.json
            ? undefined
            : (e) => io.stderr.write(`${safe(blobLine(e))}\n`),
    });
    if (f.json) io.stdout.write(`${toJson({ source: src.name, ...r })}\n`);
    else {
      io.stderr.write(
        `${r.manifests} manifest${r.manifests === 1 ? "" : "s"}, ${r.blobs.uploaded} blobs pushed (${formatBytes(r.blobs.bytes)}), ${r.blobs.exists} already there, ${r.blobs.mounted} mounted\n`,
      );
      io.stdout.write(`${safe(r.destination.replace(/:[^:/@]+$/, ""))}@${r.descriptor.digest}\n`);
    }
    return EXIT.OK;
  } finally {
    await src.close();
  }
}

export async function runTag(
  ref: string,
  tag: string,
  f: RegistryFlags & { json: boolean },
  io: CliIO,
): Promise<number> {
  const opts = await registryOptionsOf(f);
  const { chain } = await credentialsOf(ref, f);
  const r = await tagImage(ref, tag, { ...opts, credentials: chain });
  io.stdout.write(f.json ? `${toJson(r)}\n` : `${safe(r.reference)}@${r.descriptor.digest}\n`);
  return EXIT.OK;
}

export async function runDelete(
  ref: string,
  f: RegistryFlags & { json: boolean },
  io: CliIO,
): Promise<number> {
  const opts = await registryOptionsOf(f);
  const { chain } = await credentialsOf(ref, f);
  const r = await deleteImage(ref, { ...opts, credentials: chain });
  io.stdout.write(f.json ? `${toJson(r)}\n` : `deleted ${safe(r.reference)}@${r.digest}\n`);
  return EXIT.OK;
}
