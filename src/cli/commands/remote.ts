// The registry reads that need no store: kimg manifest, config, ls, catalog, referrers and
// inspect --remote. Thin: the library's src/remote functions do the work; credentials,
// registries.conf, --insecure-registry and retries come from the same flags and files as
// `kimg pull` (commands/pull.ts). Raw output (`manifest --raw`, `config`) is the registry's
// bytes unchanged, as crane prints them, so `| sha256sum` gives the digest.

import {
  type RemoteInspection,
  remoteCatalog,
  remoteImage,
  remoteInspect,
  remoteManifest,
  remoteReferrers,
  remoteTags,
} from "../../pull-api.ts";
import { positiveInteger } from "../flags.ts";
import { type CliIO, EXIT } from "../io.ts";
import { formatBytes } from "../render/bytes.ts";
import { safe, toJson } from "../render/safe.ts";
import { credentialsOf, type RegistryFlags, registryOptionsOf } from "./pull.ts";

export interface RemoteFlags extends RegistryFlags {
  readonly json: boolean;
}

async function optionsOf(ref: string, f: RegistryFlags) {
  const opts = await registryOptionsOf(f); // flag errors before any request
  const { chain } = await credentialsOf(ref, f);
  return { ...opts, credentials: chain, candidates: chain };
}

const rows = (title: string, kv: [string, string][]): string => {
  const width = Math.max(...kv.map(([k]) => k.length)) + 2;
  return [title, ...kv.map(([k, v]) => `  ${k.padEnd(width)}${v}`)].map(safe).join("\n");
};

export async function runManifest(
  ref: string,
  f: RemoteFlags & { raw: boolean },
  io: CliIO,
): Promise<number> {
  const m = await remoteManifest(ref, await optionsOf(ref, f));
  if (f.raw) {
    io.stdout.write(m.bytes);
    return EXIT.OK;
  }
  const d = m.descriptor;
  if (f.json) {
    io.stdout.write(
      `${toJson({
        reference: m.reference,
        digest: d.digest,
        mediaType: d.mediaType,
        size: d.size,
        endpoint: m.endpoint,
        manifest: JSON.parse(m.bytes.toString("utf8")),
      })}\n`,
    );
    return EXIT.OK;
  }
  const kv: [string, string][] = [
    ["digest", d.digest],
    ["mediaType", d.mediaType],
    ["size", formatBytes(d.size)],
  ];
  if (m.document.kind === "index") {
    m.document.index.manifests.forEach((e, i) => {
      const p = e.platform;
      const plat =
        p === undefined ? "-" : [p.os, p.architecture, p.variant].filter(Boolean).join("/");
      kv.push([i === 0 ? "manifests" : "", `${plat}  ${e.digest}  ${formatBytes(e.size)}`]);
    });
  } else {
    const mf = m.document.manifest;
    kv.push(["config", `${mf.config.digest}  ${formatBytes(mf.config.size)}`]);
    mf.layers.forEach((l, i) => {
      kv.push([i === 0 ? "layers" : "", `${l.digest}  ${formatBytes(l.size)}  ${l.mediaType}`]);
    });
    if (mf.subject !== undefined) kv.push(["subject", mf.subject.digest]);
  }
  io.stdout.write(`${rows(m.reference, kv)}\n`);
  return EXIT.OK;
}

export async function runConfig(ref: string, f: RemoteFlags, io: CliIO): Promise<number> {
  const img = await remoteImage(ref, await optionsOf(ref, f));
  if (f.json) {
    io.stdout.write(
      `${toJson({
        reference: img.reference,
        manifest: img.manifestDescriptor.digest,
        digest: img.manifest.config.digest,
        config: JSON.parse(img.configBytes.toString("utf8")),
      })}\n`,
    );
  } else io.stdout.write(img.configBytes);
  return EXIT.OK;
}

export interface LsFlags extends RemoteFlags {
  /** Print `repo:tag` rather than the tag (crane ls --full-ref). */
  readonly fullRef: boolean;
  /** Leave out `sha256-…` tags (signatures, attestations, referrers fallbacks). */
  readonly omitDigestTags: boolean;
  readonly pageSize?: string | undefined;
}

export async function runLs(repo: string, f: LsFlags, io: CliIO): Promise<number> {
  const pageSize =
    f.pageSize === undefined ? undefined : positiveInteger(f.pageSize, "--page-size");
  const r = await remoteTags(repo, { ...(await optionsOf(repo, f)), pageSize });
  const tags = f.omitDigestTags ? r.tags.filter((t) => !/^sha256-[0-9a-f]{64}/.test(t)) : r.tags;
  if (f.json) io.stdout.write(`${toJson({ repository: r.repository, tags })}\n`);
  else {
    const line = (t: string) => safe(f.fullRef ? `${r.repository}:${t}` : t);
    io.stdout.write(tags.map((t) => `${line(t)}\n`).join(""));
  }
  return EXIT.OK;
}

export async function runCatalog(
  host: string,
  f: RemoteFlags & { pageSize?: string | undefined },
  io: CliIO,
): Promise<number> {
  const pageSize =
    f.pageSize === undefined ? undefined : positiveInteger(f.pageSize, "--page-size");
  const probe = `${host.replace(/\/+$/, "")}/catalog`;
  const r = await remoteCatalog(host, { ...(await optionsOf(probe, f)), pageSize });
  if (f.json) io.stdout.write(`${toJson(r)}\n`);
  else io.stdout.write(r.repositories.map((x) => `${safe(x)}\n`).join(""));
  return EXIT.OK;
}

export async function runReferrers(
  ref: string,
  f: RemoteFlags & { artifactType?: string | undefined },
  io: CliIO,
): Promise<number> {
  const r = await remoteReferrers(ref, {
    ...(await optionsOf(ref, f)),
    artifactType: f.artifactType,
  });
  if (f.json) {
    io.stdout.write(
      `${toJson({ reference: r.reference, subject: r.subject.digest, via: r.via, ...r.index })}\n`,
    );
    return EXIT.OK;
  }
  const head = `${r.reference}@${r.subject.digest} (${r.via === "api" ? "referrers API" : "referrers tag schema"})`;
  const lines = r.index.manifests.map(
    (d) => `  ${d.digest}  ${d.artifactType ?? d.mediaType}  ${formatBytes(d.size)}`,
  );
  io.stdout.write(
    `${[head, ...(lines.length === 0 ? ["  (no referrers)"] : lines)].map(safe).join("\n")}\n`,
  );
  return EXIT.OK;
}

export async function runInspectRemote(
  ref: string,
  f: RemoteFlags & { tags: boolean },
  io: CliIO,
): Promise<number> {
  const i = await remoteInspect(ref, { ...(await optionsOf(ref, f)), tags: f.tags });
  io.stdout.write(f.json ? `${toJson(i, 2)}\n` : `${renderRemoteInspection(i)}\n`);
  return EXIT.OK;
}

/** The text form of `inspect --remote`: skopeo inspect's fields as aligned rows. */
export function renderRemoteInspection(i: RemoteInspection): string {
  const kv: [string, string][] = [["digest", `${i.digest} (${i.mediaType})`]];
  (i.platforms ?? []).forEach((p, n) => {
    kv.push([n === 0 ? "platforms" : "", `${p.platform}  ${p.digest}`]);
  });
  kv.push(
    ["platform", i.platform],
    ["manifest", i.manifestDigest],
    ["config", i.configDigest],
    ["created", i.created ?? "-"],
    ["author", i.author ?? "-"],
    ["entrypoint", i.entrypoint === undefined ? "-" : toJson(i.entrypoint)],
    ["cmd", i.cmd === undefined ? "-" : toJson(i.cmd)],
  );
  const multi = (key: string, values: readonly string[]) => {
    if (values.length === 0) kv.push([key, "-"]);
    values.forEach((v, n) => {
      kv.push([n === 0 ? key : "", v]);
    });
  };
  multi("env", i.env);
  multi(
    "labels",
    Object.entries(i.labels).map(([k, v]) => `${k}=${v}`),
  );
  kv.push(["size", `${formatBytes(i.size)} in ${i.layers.length} layers`]);
  i.layers.forEach((l, n) => {
    kv.push([n === 0 ? "layers" : "", `${l.digest}  ${formatBytes(l.size)}`]);
  });
  if (i.tags !== undefined) multi("tags", i.tags);
  return rows(i.name, kv);
}
