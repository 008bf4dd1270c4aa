// unpackImage(): a stored image → its root filesystem. The image record, manifest and config are
// read and verified from the store by inspectImage (src/pull/inspect.ts: digests checked while
// read, size caps, layers paired with rootfs.diff_ids as containerd's unpacker does in
// core/unpack/unpacker.go); each layer blob is then streamed from the store into unpackLayers.

import { KimgError } from "../errors.ts";
import { matchPlatform, parsePlatform } from "../oci/index.ts";
import { defaultPlatform, inspectImage, type LocalStore } from "../store/index.ts";
import {
  isUnpackableLayer,
  type LayerInput,
  type UnpackOptions,
  type UnpackReport,
  unpackLayers,
} from "./unpack.ts";

export interface UnpackImageOptions extends UnpackOptions {
  /** When given, the stored image must be for this platform (`os/arch[/variant]`). */
  readonly platform?: string | undefined;
}

/**
 * A stored image (any reference form `kimg inspect` accepts) → its layers from the store →
 * unpackLayers into DIR. On success the image's lastUsed is updated (image GC sees it used).
 * @throws KimgError IMAGE_NOT_FOUND, PLATFORM_NOT_FOUND (stored for another platform),
 *   UNSUPPORTED_MEDIA_TYPE (a non-layer entry in `layers`), LAYER_COUNT_MISMATCH, and all of
 *   unpackLayers' errors.
 */
export async function unpackImage(
  store: LocalStore,
  ref: string,
  dir: string,
  opts: UnpackImageOptions = {},
): Promise<
  UnpackReport & { readonly image: string; readonly digest: string; readonly platform: string }
> {
  const wantedPlatform =
    opts.platform !== undefined
      ? parsePlatform(opts.platform, { host: defaultPlatform() })
      : undefined;
  const img = await inspectImage(
    store,
    ref,
    wantedPlatform !== undefined ? { platform: wantedPlatform } : {},
  );
  if (opts.platform !== undefined) {
    const wanted = wantedPlatform ?? defaultPlatform();
    const have = parsePlatform(img.platform, { host: defaultPlatform() });
    if (!matchPlatform(wanted, have)) {
      throw new KimgError(
        "PLATFORM_NOT_FOUND",
        `${img.name}: stored for ${img.platform}, not ${opts.platform} (pull it with --platform)`,
      );
    }
  }
  const layers: LayerInput[] = img.layers.map((l) => {
    if (!isUnpackableLayer(l.mediaType)) {
      throw new KimgError(
        "UNSUPPORTED_MEDIA_TYPE",
        `${img.name}: layer ${l.digest} has media type ${l.mediaType}, not a layer`,
      );
    }
    if (l.diffId === undefined) {
      throw new KimgError(
        "LAYER_COUNT_MISMATCH",
        `${img.name}: layer ${l.digest} has no diff_id in the config`,
      );
    }
    return {
      digest: l.digest,
      mediaType: l.mediaType,
      diffId: l.diffId,
      // verify: the blob's own digest is checked while read (a store damaged after the pull).
      open: () => store.open(l.digest, { verify: true }),
      damaged: async () => {
        const bad = await store.checkBlob(l.digest);
        return bad === undefined
          ? undefined
          : new KimgError(
              "DIGEST_MISMATCH",
              `layer ${l.digest} in the store is damaged: ${bad}; run kimg verify --repair, then pull ${img.name} again`,
            );
      },
    };
  });
  const { platform: _p, ...rest } = opts;
  const report = await unpackLayers(layers, dir, rest);
  // An unpack is a use of the image (as a container start is for the kubelet's image GC).
  await store.markImageUsed(img.name);
  return { ...report, image: img.name, digest: img.manifestDigest, platform: img.platform };
}
