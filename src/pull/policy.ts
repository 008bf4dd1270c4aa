// pullWithPolicy(): the kubelet's EnsureImageExists over the local store
// (pkg/kubelet/images/image_manager.go): the policy (or the Kubernetes default for the
// reference), the image's presence in the store, then use it, pull it, or fail with
// ErrImageNeverPull — with the kubelet's message texts.

import { KimgError } from "../errors.ts";
import {
  MAX_MANIFEST_BYTES,
  matchPlatform,
  parseManifestOrIndex,
  selectManifest,
} from "../oci/index.ts";
import { defaultPullPolicy, kubeletAction, type PullPolicy } from "../policy/index.ts";
import {
  type ImageRecord,
  readBlobBounded,
  recordFor,
  storedManifests,
  wantedPlatform,
} from "../store/index.ts";
import { type PulledImage, type PullOptions, pull, pullName } from "./pull.ts";

export type PolicyPullResult =
  | {
      readonly action: "use-local";
      readonly policy: PullPolicy;
      /** `Container image "<ref>" already present on machine` */
      readonly message: string;
      readonly record: ImageRecord;
    }
  | {
      readonly action: "pull";
      readonly policy: PullPolicy;
      /** `Successfully pulled image "<ref>"` or `Image is up to date for <ref>` */
      readonly message: string;
      readonly image: PulledImage;
    };

/**
 * Applies `policy` (undefined: `defaultPullPolicy(refText)`, as the API server would):
 * IfNotPresent or Never with the image recorded → no network (its lastUsed is updated);
 * Never without it → ERR_IMAGE_NEVER_PULL; otherwise `pull`.
 */
export async function pullWithPolicy(
  refText: string,
  policy: PullPolicy | undefined,
  opts: PullOptions,
): Promise<PolicyPullResult> {
  const effective = policy ?? defaultPullPolicy(refText).policy;
  const name = pullName(refText);
  const record = effective === "Always" ? undefined : await presentFor(name, opts);
  const action = kubeletAction(effective, record !== undefined);
  if (action === "use-local" && record !== undefined) {
    await opts.store.markImageUsed(name);
    return {
      action: "use-local",
      policy: effective,
      message: `Container image "${refText}" already present on machine`,
      record,
    };
  }
  if (action === "ErrImageNeverPull") {
    throw new KimgError(
      "ERR_IMAGE_NEVER_PULL",
      `Container image "${refText}" is not present with pull policy of Never`,
    );
  }
  const image = await pull(refText, opts);
  return {
    action: "pull",
    policy: effective,
    message: image.upToDate
      ? `Image is up to date for ${image.ref}`
      : `Successfully pulled image "${refText}"`,
    image,
  };
}

/**
 * The stored image `name` for the platform this pull wants, when it is whole: presence is keyed
 * by name and platform (issue 10 item 5), as containerd keys content, so an index stored for
 * arm/v7 is not "present" for arm64 or s390x. For an index, "the platform" is the manifest the
 * pull would select from it; a single-platform image is present whatever its platform unless
 * `--platform` asks for another (containerd accepts any root manifest then; pull.ts).
 */
async function presentFor(name: string, opts: PullOptions): Promise<ImageRecord | undefined> {
  const r = await opts.store.getImage(name);
  if (r === undefined) return undefined;
  let entries = storedManifests(r);
  if (r.indexDigest !== undefined) {
    // The manifest this pull would select from the stored index (selectManifest, containerd's
    // ordered matcher: an exact platform before a compatible one), stored or not.
    let chosen: string;
    try {
      const bytes = await readBlobBounded(opts.store, r.indexDigest, MAX_MANIFEST_BYTES, "index");
      const doc = parseManifestOrIndex(bytes, { digest: r.indexDigest });
      if (doc.kind !== "index") return undefined;
      chosen = selectManifest(doc.index, wantedPlatform(opts.platform), { source: name }).digest;
    } catch {
      return undefined; // no such platform, or a damaged index: the pull says which
    }
    entries = entries.filter((m) => m.manifestDigest === chosen);
  } else if (opts.platform !== undefined) {
    const wanted = wantedPlatform(opts.platform);
    entries = entries.filter((m) => m.platform !== undefined && matchPlatform(wanted, m.platform));
  }
  for (const m of entries) {
    const stats = await Promise.all(m.blobs.map((d) => opts.store.stat(d)));
    if (stats.every((x) => x !== undefined)) return recordFor(r, m);
  }
  return undefined;
}
