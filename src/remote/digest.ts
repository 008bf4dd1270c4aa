// remoteDigest: what `crane digest` and `skopeo inspect --format {{.Digest}}` answer, from the
// registry alone, no store. The manifest digest of a reference is one HEAD when the registry
// sends Docker-Content-Digest (RegistryClient.resolve falls back to a hashed GET otherwise);
// with a platform, the index is fetched (verified) and the platform's entry chosen with
// containerd's matcher, as a pull would (oci/platform.ts selectManifest). Endpoints follow
// registries.conf (mirrors first) through resolveFirst, the pull's own order.

import {
  type Descriptor,
  isIndexMediaType,
  parseManifestOrIndex,
  selectManifest,
} from "../oci/index.ts";
import { parseNormalizedNamed, referenceString, tagNameOnly } from "../ref/index.ts";
import {
  ClientPool,
  type CredentialStore,
  pullSources,
  type RegistriesConf,
  type RetryOptions,
  resolveFirst,
} from "../registry/index.ts";
import { wantedPlatform } from "../store/index.ts";

export interface RemoteOptions {
  readonly insecureHosts?: readonly string[] | undefined;
  readonly registriesConf?: RegistriesConf | undefined;
  readonly credentials?: CredentialStore | undefined;
  readonly retry?: Partial<RetryOptions> | undefined;
  readonly signal?: AbortSignal | undefined;
}

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
export async function remoteDigest(
  refText: string,
  opts: DigestOptions = {},
): Promise<RemoteDigest> {
  const ref = tagNameOnly(parseNormalizedNamed(refText));
  const ro = opts.signal !== undefined ? { signal: opts.signal } : {};
  const clients = new ClientPool(opts);
  try {
    const sources = pullSources(ref, opts.registriesConf);
    const { client, source, target } = await resolveFirst(sources, (s) => clients.for(s), ro);
    let descriptor = target;
    if (opts.platform !== undefined && isIndexMediaType(target.mediaType)) {
      const m = await client.getManifest(source.repository, target.digest, ro);
      const doc = parseManifestOrIndex(m.bytes, {
        ...(target.mediaType !== "" ? { mediaType: target.mediaType } : {}),
        digest: target.digest,
      });
      if (doc.kind === "index") {
        descriptor = selectManifest(doc.index, wantedPlatform(opts.platform), {
          source: referenceString(ref),
        });
      }
    }
    return {
      reference: referenceString(ref),
      resolved: target,
      descriptor,
      endpoint: `${source.host}/${source.repository}`,
    };
  } finally {
    await clients.close();
  }
}
