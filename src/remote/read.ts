// Remote reads that need no store, each what its crane / skopeo counterpart answers:
// - remoteManifest: the manifest or index bytes as the registry holds them (`crane manifest`),
//   verified against the digest they resolved to; with a platform, that platform's manifest.
// - remoteImage: one platform's manifest and image config (`crane config`), verified, parsed.
// - remoteTags / remoteCatalog: every page of tags/list and _catalog (`crane ls`, `crane
//   catalog`), following Link rel="next" (distribution-spec spec.md "Listing Tags").
// - remoteReferrers: the OCI 1.1 referrers API with the tag-schema fallback (`oras discover`).
// - remoteInspect: `skopeo inspect docker://` — digest, platforms, created, labels, env,
//   layers with sizes, and with `tags` the repository's tags.

import { KimgError } from "../errors.ts";
import {
  type Descriptor,
  formatPlatform,
  type ImageConfig,
  type ImageIndex,
  type ImageManifest,
  MAX_CONFIG_BYTES,
  parseImageConfig,
  selectManifest,
} from "../oci/index.ts";
import { parseNormalizedNamed, type Reference, referenceString } from "../ref/index.ts";
import type { ListOptions, ReferrersIndex } from "../registry/index.ts";
import { wantedPlatform } from "../store/index.ts";
import type { DigestOptions } from "./digest.ts";
import { fetchDocument } from "./digest.ts";
import { type RemoteOptions, type Resolved, withRegistry, withResolved } from "./resolved.ts";

export interface RemoteManifest {
  readonly reference: string;
  readonly endpoint: string;
  /** The descriptor of these bytes (the index's when no platform was asked for). */
  readonly descriptor: Descriptor;
  /** The bytes exactly as stored at the registry; their digest is `descriptor.digest`. */
  readonly bytes: Buffer;
  /** The parsed document. */
  readonly document:
    | { readonly kind: "manifest"; readonly manifest: ImageManifest }
    | { readonly kind: "index"; readonly index: ImageIndex };
}

/** The manifest or index `refText` names, byte for byte, or with `platform` that platform's manifest. */
export function remoteManifest(refText: string, opts: DigestOptions = {}): Promise<RemoteManifest> {
  return withResolved(refText, opts, async (r) => {
    let got = await fetchDocument(r, r.target);
    if (opts.platform !== undefined && got.doc.kind === "index") {
      const entry = selectManifest(got.doc.index, wantedPlatform(opts.platform), {
        source: referenceString(r.ref),
      });
      got = await fetchDocument(r, entry);
    }
    return {
      reference: referenceString(r.ref),
      endpoint: endpointOf(r),
      descriptor: got.descriptor,
      bytes: got.bytes,
      document: got.doc,
    };
  });
}

export interface RemoteImage {
  readonly reference: string;
  readonly endpoint: string;
  /** The index the reference names, when it names one. */
  readonly index?: { readonly descriptor: Descriptor; readonly index: ImageIndex } | undefined;
  /** The platform's manifest (the reference's own when it is not an index). */
  readonly manifestDescriptor: Descriptor;
  readonly manifest: ImageManifest;
  readonly configBytes: Buffer;
  readonly config: ImageConfig;
}

/**
 * One platform's image (default: this host's, as a pull picks): manifest and config, both
 * verified. The config is capped at 4 MiB while it streams (containers/image
 * MaxConfigBodySize).
 */
export function remoteImage(refText: string, opts: DigestOptions = {}): Promise<RemoteImage> {
  return withResolved(refText, opts, (r) => imageOf(r, opts.platform));
}

async function imageOf(r: Resolved, platform: string | undefined): Promise<RemoteImage> {
  const top = await fetchDocument(r, r.target);
  let index: RemoteImage["index"];
  let m = top;
  if (top.doc.kind === "index") {
    index = { descriptor: top.descriptor, index: top.doc.index };
    const entry = selectManifest(top.doc.index, wantedPlatform(platform), {
      source: referenceString(r.ref),
    });
    m = await fetchDocument(r, entry);
    if (m.doc.kind !== "manifest") {
      throw new KimgError(
        "INVALID_MANIFEST",
        `${referenceString(r.ref)}: index entry ${entry.digest} is an index, not an image manifest`,
      );
    }
  }
  if (m.doc.kind !== "manifest") throw new Error("unreachable: a manifest was checked above");
  const manifest = m.doc.manifest;
  const configBytes = await r.client.getBlobBytes(r.source.repository, manifest.config, {
    ...r.ro,
    max: MAX_CONFIG_BYTES,
  });
  const config = parseImageConfig(configBytes, {
    mediaType: manifest.config.mediaType,
    digest: manifest.config.digest,
  });
  return {
    reference: referenceString(r.ref),
    endpoint: endpointOf(r),
    index,
    manifestDescriptor: m.descriptor,
    manifest,
    configBytes,
    config,
  };
}

export interface TagsOptions extends RemoteOptions, Omit<ListOptions, "signal"> {}

/** The tags of a repository (`crane ls`), every page; a tag or digest in `repoText` is ignored. */
export function remoteTags(
  repoText: string,
  opts: TagsOptions = {},
): Promise<{ repository: string; tags: string[] }> {
  const ref = parseNormalizedNamed(repoText);
  return withRegistry(ref, opts, async (client, source) => ({
    repository: `${ref.domain}/${ref.path}`,
    tags: await client.listTags(source.repository, listOptions(opts)),
  }));
}

/** The repositories of a registry host (`crane catalog`), every page. */
export function remoteCatalog(
  host: string,
  opts: TagsOptions = {},
): Promise<{ host: string; repositories: string[] }> {
  const h = host.replace(/\/+$/, "");
  // The host is parsed as a reference's domain so `localhost:5000` and `docker.io` follow the
  // reference rules (a bare `docker.io` is Docker Hub's registry-1.docker.io).
  const ref = parseNormalizedNamed(`${h}/catalog-probe`);
  if (ref.domain !== h && !(h === "docker.io" && ref.domain === "docker.io")) {
    throw new KimgError("REFERENCE_INVALID_FORMAT", `not a registry host: "${host}"`);
  }
  return withRegistry(ref, opts, async (client) => ({
    host: ref.domain,
    repositories: await client.catalog(listOptions(opts)),
  }));
}

export interface ReferrersOptions extends RemoteOptions {
  readonly artifactType?: string | undefined;
}

/** The referrers of what `refText` names (a tag is resolved first), OCI 1.1 API or tag schema. */
export function remoteReferrers(
  refText: string,
  opts: ReferrersOptions = {},
): Promise<{
  reference: string;
  subject: Descriptor;
  via: "api" | "tag-schema";
  index: ReferrersIndex;
}> {
  return withResolved(refText, opts, async (r) => {
    const { index, via } = await r.client.referrers(r.source.repository, r.target.digest, {
      ...r.ro,
      ...(opts.artifactType !== undefined ? { artifactType: opts.artifactType } : {}),
    });
    return { reference: referenceString(r.ref), subject: r.target, via, index };
  });
}

export interface InspectRemoteOptions extends DigestOptions {
  /** Also list the repository's tags (skopeo inspect lists them unless --no-tags). */
  readonly tags?: boolean | undefined;
}

/** `skopeo inspect docker://REF` in kimg's terms. */
export interface RemoteInspection {
  readonly name: string;
  /** The digest the reference names (the index's for a multi-platform image). */
  readonly digest: string;
  readonly mediaType: string;
  /** The platforms of the index, when there is one. */
  readonly platforms?: readonly { platform: string; digest: string; size: number }[];
  /** The platform inspected, its manifest and config. */
  readonly platform: string;
  readonly manifestDigest: string;
  readonly configDigest: string;
  readonly created?: string;
  readonly author?: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly env: readonly string[];
  readonly entrypoint?: readonly string[];
  readonly cmd?: readonly string[];
  readonly layers: readonly { digest: string; size: number; mediaType: string }[];
  /** Sum of layer sizes (compressed, as stored). */
  readonly size: number;
  readonly tags?: readonly string[];
}

export function remoteInspect(
  refText: string,
  opts: InspectRemoteOptions = {},
): Promise<RemoteInspection> {
  return withResolved(refText, opts, async (r) => {
    const img = await imageOf(r, opts.platform);
    const tags =
      opts.tags === true ? await r.client.listTags(r.source.repository, r.ro) : undefined;
    return inspection(r.ref, r.target, img, tags);
  });
}

function inspection(
  ref: Reference,
  target: Descriptor,
  img: RemoteImage,
  tags: string[] | undefined,
): RemoteInspection {
  const c = img.config;
  const cc = c.config ?? {};
  const layers = img.manifest.layers.map((l) => ({
    digest: l.digest,
    size: l.size,
    mediaType: l.mediaType,
  }));
  return {
    name: `${ref.domain}/${ref.path}`,
    digest: target.digest,
    mediaType: target.mediaType,
    ...(img.index !== undefined
      ? {
          platforms: img.index.index.manifests.map((d) => ({
            platform: d.platform !== undefined ? formatPlatform(d.platform) : "unknown",
            digest: d.digest,
            size: d.size,
          })),
        }
      : {}),
    platform: formatPlatform({
      os: c.os,
      architecture: c.architecture,
      ...(c.variant !== undefined ? { variant: c.variant } : {}),
    }),
    manifestDigest: img.manifestDescriptor.digest,
    configDigest: img.manifest.config.digest,
    ...(c.created !== undefined ? { created: c.created } : {}),
    ...(c.author !== undefined ? { author: c.author } : {}),
    labels: cc.labels ?? {},
    env: cc.env ?? [],
    ...(cc.entrypoint !== undefined ? { entrypoint: cc.entrypoint } : {}),
    ...(cc.cmd !== undefined ? { cmd: cc.cmd } : {}),
    layers,
    size: layers.reduce((n, l) => n + l.size, 0),
    ...(tags !== undefined ? { tags } : {}),
  };
}

function endpointOf(r: Resolved): string {
  return `${r.source.host}/${r.source.repository}`;
}

function listOptions(opts: TagsOptions): ListOptions {
  return {
    ...(opts.pageSize !== undefined ? { pageSize: opts.pageSize } : {}),
    ...(opts.last !== undefined ? { last: opts.last } : {}),
    ...(opts.limit !== undefined ? { limit: opts.limit } : {}),
    ...(opts.signal !== undefined ? { signal: opts.signal } : {}),
  };
}
