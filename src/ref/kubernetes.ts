// How Kubernetes reads an image string: pkg/util/parsers/parsers.go (ParseImageName) and the
// kubelet's CRI image string (pkg/kubelet/images/image_manager.go applyDefaultImageTag). Pure.

import { goQuote } from "../go/index.ts";
import type { ParseOptions } from "./digest.ts";
import { failure, isFailure, type RefFailure, raise } from "./failure.ts";
import { DEFAULT_TAG, tryParseNormalizedNamed } from "./normalize.ts";
import { referenceName } from "./reference.ts";

export interface ImageName {
  /** Fully qualified repository, e.g. `docker.io/library/nginx`. */
  readonly repoToPull: string;
  /** The tag; `latest` when neither tag nor digest was written; "" with a digest only. */
  readonly tag: string;
  /** "" when absent. Kept together with the tag when both are written. */
  readonly digest: string;
}

/** `parseImageName` returning the (wrapped) failure instead of throwing. */
export function tryParseImageName(image: string, opts?: ParseOptions): ImageName | RefFailure {
  const ref = tryParseNormalizedNamed(image, opts);
  if (isFailure(ref)) {
    return failure(ref.code, `couldn't parse image name ${goQuote(image)}: ${ref.message}`);
  }
  const tag = ref.tag === "" && ref.digest === "" ? DEFAULT_TAG : ref.tag;
  return { repoToPull: referenceName(ref), tag, digest: ref.digest };
}

/**
 * `parsers.ParseImageName`. Errors keep the library's code; the message is wrapped as
 * upstream does: `couldn't parse image name "<image>": <error>`.
 */
export function parseImageName(image: string, opts?: ParseOptions): ImageName {
  const r = tryParseImageName(image, opts);
  return isFailure(r) ? raise(r) : r;
}

/** The kubelet's CRI image string for a parsed image (see applyDefaultImageTag). */
export function criImageOf(image: string, parsed: ImageName): string {
  const { tag, digest } = parsed;
  if (digest === "" && tag !== "" && !image.endsWith(`:${tag}`)) return `${image}:${tag}`;
  return image;
}

/**
 * The image string the kubelet sends to the container runtime: the image as written, with
 * `:<tag>` appended when there is no digest and it does not already end in it, so `nginx`
 * becomes `nginx:latest`. Short names are deliberately not expanded to
 * `docker.io/library/…` ("keep the CRI agnostic wrt image names and default hostnames").
 */
export function applyDefaultImageTag(image: string, opts?: ParseOptions): string {
  return criImageOf(image, parseImageName(image, opts));
}
