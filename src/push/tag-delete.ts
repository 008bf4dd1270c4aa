// tagImage and deleteImage: the two other registry writes a crane user has (`crane tag`,
// `crane delete`).
// - tag: the manifest bytes the reference names, PUT again under the new tag of the same
//   repository: no blob moves, the digest is the same (distribution-spec: a manifest PUT by tag).
// - delete: `DELETE /v2/NAME/manifests/DIGEST`; the API deletes by digest only, so a tag is
//   first resolved (one HEAD), and every tag naming that digest goes with it.

import { KimgError } from "../errors.ts";
import type { Descriptor } from "../oci/index.ts";
import { parseNormalizedNamed, referenceString, tagNameOnly } from "../ref/index.ts";
import { RegistryClient } from "../registry/index.ts";
import type { RegistryEndpointOptions } from "./sources.ts";

const TAG_RE = /^[\w][\w.-]{0,127}$/;

export async function tagImage(
  refText: string,
  newTag: string,
  opts: RegistryEndpointOptions = {},
): Promise<{ reference: string; descriptor: Descriptor }> {
  if (!TAG_RE.test(newTag)) {
    throw new KimgError("TAG_INVALID_FORMAT", `invalid tag format: ${JSON.stringify(newTag)}`);
  }
  const ref = tagNameOnly(parseNormalizedNamed(refText));
  return withClient(ref.domain, opts, async (client, ro) => {
    const target = await client.resolve(ref, ro);
    const m = await client.getManifest(ref.path, target.digest, ro);
    const mediaType = target.mediaType || m.mediaType;
    await client.putManifest(ref.path, newTag, m.bytes, mediaType, ro);
    return {
      reference: `${ref.domain}/${ref.path}:${newTag}`,
      descriptor: { mediaType, digest: m.digest, size: m.size },
    };
  });
}

export async function deleteImage(
  refText: string,
  opts: RegistryEndpointOptions = {},
): Promise<{ reference: string; digest: string }> {
  const ref = parseNormalizedNamed(refText);
  return withClient(ref.domain, opts, async (client, ro) => {
    const digest =
      ref.digest !== "" ? ref.digest : (await client.resolve(tagNameOnly(ref), ro)).digest;
    await client.deleteManifest(ref.path, digest, ro);
    return { reference: referenceString(ref), digest };
  });
}

async function withClient<T>(
  host: string,
  opts: RegistryEndpointOptions,
  fn: (c: RegistryClient, ro: { signal?: AbortSignal }) => Promise<T>,
): Promise<T> {
  const client = new RegistryClient({
    host,
    insecureHosts: opts.insecureHosts,
    credentials: opts.credentials,
    retry: opts.retry,
  });
  try {
    return await fn(client, opts.signal !== undefined ? { signal: opts.signal } : {});
  } finally {
    await client.close();
  }
}
