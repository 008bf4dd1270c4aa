// How Kubernetes reads an image string: pkg/util/parsers/parsers.go (ParseImageName) and the
// kubelet's CRI image string (pkg/kubelet/images/image_manager.go applyDefaultImageTag). Pure.

import { KimgError } from "../errors.ts";
import type { ParseOptions } from "./digest.ts";
import { goQuote } from "./go-quote.ts";
import { DEFAULT_TAG, parseNormalizedNamed } from "./normalize.ts";
import { referenceName } from "./reference.ts";

export interface ImageName {
  /** Fully qualified repository, e.g. `docker.io/library/nginx`. */
  readonly repoToPull: string;
  /** The tag; `latest` when neither tag nor digest was written; "" with a digest only. */
  readonly tag: string;
  /** "" when absent. Kept together with the tag when both are written. */
  readonly digest: string;
}

/**
 * `parsers.ParseImageName`. Errors keep the library's code; the message is wrapped as
 * upstream does: `couldn't parse image name "<image>": <error>`.
 */
export function parseImageName(image: string, opts?: ParseOptions): ImageName {
  let ref: ReturnType<typeof parseNormalizedNamed>;
  try {
    ref = parseNormalizedNamed(image, opts);
  } catch (e) {
    if (e instanceof KimgError) {
      throw new KimgError(e.code, `couldn't parse image name ${goQuote(image)}: ${e.message}`, {
        cause: e,
      });
    }
    throw e;
  }
  const tag = ref.tag === "" && ref.digest === "" ? DEFAULT_TAG : ref.tag;
  return { repoToPull: referenceName(ref), tag, digest: ref.digest };
}

/**
 * The image string the kubelet sends to the container runtime: the image as written, with
 * `:<tag>` appended when there is no digest and it does not already end in it, so `nginx`
 * becomes `nginx:latest`. Short names are deliberately not expanded to
 * `docker.io/library/…` ("keep the CRI agnostic wrt image names and default hostnames").
 */
export function applyDefaultImageTag(image: string, opts?: ParseOptions): string {
  const { tag, digest } = parseImageName(image, opts);
  if (digest === "" && tag !== "" && !image.endsWith(`:${tag}`)) return `${image}:${tag}`;
  return image;
}
