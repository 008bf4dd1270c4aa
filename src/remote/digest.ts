// remoteDigest: what `crane digest` and `skopeo inspect --format {{.Digest}}` answer, from the
// registry alone, no store. The manifest digest of a reference is one HEAD when the registry
// sends Docker-Content-Digest (RegistryClient.resolve falls back to a hashed GET otherwise);
// with a platform, the index is fetched (verified) and the platform's entry chosen with
// containerd's matcher, as a pull would (oci/platform.ts selectManifest). Endpoints follow
// registries.conf (mirrors first) through resolveFirst, the pull's own order.

import {
  type Descriptor,
  isIndexMediaType,
  type ManifestOrIndex,
  parseManifestOrIndex,
  selectManifest,
} from "../oci/index.ts";
import { referenceString } from "../ref/index.ts";
import { wantedPlatform } from "../store/index.ts";
import { type RemoteOptions, type Resolved, withResolved } from "./resolved.ts";

export interface DigestOptions extends RemoteOptions {
  /** `os/arch[/variant]`: the digest of that platform's manifest when the reference is an index. */
  readonly platform?: string | undefined;
}

export interface RemoteDigest {
  /** The normalized reference asked for (`docker.io/library/nginx:latest`). */
  readonly reference: string;
  /** The descriptor the reference resolved to (an index or a manifest). */
  readonly resolved: Descriptor;
  /** The answer: `resolved`, or with a platform the index entry chosen for it. */
  readonly descriptor: Descriptor;
  /** `host/repository` that answered (a mirror, or the registry). */
  readonly endpoint: string;
}

/** The digest `refText` names at its registry (or at a registries.conf mirror). */
export function remoteDigest(refText: string, opts: DigestOptions = {}): Promise<RemoteDigest> {
  return withResolved(refText, opts, async (r) => {
    const descriptor =
      opts.platform !== undefined && isIndexMediaType(r.target.mediaType)
        ? await platformEntry(r, opts.platform)
        : r.target;
    return {
      reference: referenceString(r.ref),
      resolved: r.target,
      descriptor,
      endpoint: `${r.source.host}/${r.source.repository}`,
    };
  });
}

/** The verified, parsed document at `desc` in the resolved repository. */
export async function fetchDocument(
  r: Resolved,
  desc: Descriptor,
): Promise<{ bytes: Buffer; doc: ManifestOrIndex; descriptor: Descriptor }> {
  const m = await r.client.getManifest(r.source.repository, desc.digest, r.ro);
  const mediaType = desc.mediaType !== "" ? desc.mediaType : m.mediaType;
  const doc = parseManifestOrIndex(m.bytes, {
    ...(mediaType !== "" ? { mediaType } : {}),
    digest: desc.digest,
  });
  return { bytes: m.bytes, doc, descriptor: { ...desc, mediaType: mediaType || desc.mediaType } };
}

/** The index entry containerd's matcher picks for `platform` (PLATFORM_NOT_FOUND lists the rest). */
async function platformEntry(r: Resolved, platform: string): Promise<Descriptor> {
  const { doc } = await fetchDocument(r, r.target);
  if (doc.kind !== "index") return r.target;
  return selectManifest(doc.index, wantedPlatform(platform), {
    source: referenceString(r.ref),
  });
}
