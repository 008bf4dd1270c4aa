// The image errors of EnsureImageExists and the container `state.waiting` they become
// (kubelet.md §5.6, second table). Pure.
//
// The kubelet keeps (err, msg) per container in its reason cache and reports
// `waiting.reason = err.Error()`, `waiting.message = msg`. The error values are sentinels whose
// text is the reason; a CRI pull error is classified by the prefix of its text, because gRPC
// does not preserve Go error identity.
//
// Upstream sources (kubernetes/kubernetes), read for this file:
// - pkg/kubelet/images/types.go — ErrImagePullBackOff "ImagePullBackOff", ErrImageInspect
//   "ImageInspectError", ErrImagePull "ErrImagePull", ErrImageNeverPull "ErrImageNeverPull",
//   ErrInvalidImageName "InvalidImageName"
// - staging/src/k8s.io/cri-api/pkg/errors/errors.go — ErrRegistryUnavailable
//   "RegistryUnavailable", ErrSignatureValidationFailed "SignatureValidationFailed"
// - pkg/kubelet/images/image_manager.go (master) — evalCRIPullErr (prefix rules and messages),
//   pullImage (`prevPullErrMsg.Store(backOffKey, fmt.Sprintf("%s: %s", err, msg))` after a failed
//   pull; the back-off message `Back-off pulling image %q` + `: <previous>` when remembered),
//   EnsureImageExists (`Failed to record image pull intent for container image %q: %v`)
// - pkg/kubelet/kubelet_pods.go convertToAPIContainerStatuses — default waiting reason
//   ContainerCreating, or PodInitializing for every container of a pod that has init containers;
//   reason-cache entries become Reason = err.Error(), Message = msg
// - pkg/kubelet/reason_cache.go

import { goQuote } from "../go/index.ts";

// Error values (their Error() text is the waiting reason).
export const ERR_IMAGE_PULL_BACK_OFF = "ImagePullBackOff";
export const ERR_IMAGE_INSPECT = "ImageInspectError";
export const ERR_IMAGE_PULL = "ErrImagePull";
export const ERR_IMAGE_NEVER_PULL = "ErrImageNeverPull";
export const ERR_INVALID_IMAGE_NAME = "InvalidImageName";
export const ERR_REGISTRY_UNAVAILABLE = "RegistryUnavailable";
export const ERR_SIGNATURE_VALIDATION_FAILED = "SignatureValidationFailed";

/** The named errors EnsureImageExists returns. */
export type ImageErrorName =
  | typeof ERR_IMAGE_PULL_BACK_OFF
  | typeof ERR_IMAGE_INSPECT
  | typeof ERR_IMAGE_PULL
  | typeof ERR_IMAGE_NEVER_PULL
  | typeof ERR_INVALID_IMAGE_NAME
  | typeof ERR_REGISTRY_UNAVAILABLE
  | typeof ERR_SIGNATURE_VALIDATION_FAILED;

export const IMAGE_ERROR_NAMES: readonly ImageErrorName[] = [
  ERR_IMAGE_PULL_BACK_OFF,
  ERR_IMAGE_INSPECT,
  ERR_IMAGE_PULL,
  ERR_IMAGE_NEVER_PULL,
  ERR_INVALID_IMAGE_NAME,
  ERR_REGISTRY_UNAVAILABLE,
  ERR_SIGNATURE_VALIDATION_FAILED,
];

// Default waiting reasons of containers that have not been started yet.
export const CONTAINER_CREATING = "ContainerCreating";
export const POD_INITIALIZING = "PodInitializing";

/** A container's `state.waiting`. `message` is omitted when empty (omitempty). */
export interface WaitingState {
  readonly reason: string;
  readonly message?: string;
}

/**
 * The waiting state for an EnsureImageExists failure: reason = the error's text, message = the
 * message returned with it. (Errors outside the named set — e.g. a pull-intent write failure or
 * a keyring error — are reported the same way: their whole text becomes the reason.)
 */
export function waitingState(error: string, message: string): WaitingState {
  return message === "" ? { reason: error } : { reason: error, message };
}

/**
 * The waiting state of a container the kubelet has not tried to start yet: `PodInitializing`
 * for every container (init and regular) of a pod that has init containers, else
 * `ContainerCreating`.
 */
export function defaultWaitingState(podHasInitContainers: boolean): WaitingState {
  return { reason: podHasInitContainers ? POD_INITIALIZING : CONTAINER_CREATING };
}

/** The (error, message) pair EnsureImageExists returns for a failure. */
export interface ImageError {
  readonly error: string;
  readonly message: string;
}

/**
 * evalCRIPullErr: classify a failed pull by its error text. `image` is the pod's raw image.
 * - text starting `RegistryUnavailable` → RegistryUnavailable, `image pull failed for <img>
 *   because the registry is unavailable<rest>` (rest = the text after that prefix, e.g. `: dns`)
 * - text starting `SignatureValidationFailed` → SignatureValidationFailed, `… because the
 *   signature validation failed<rest>`
 * - anything else → ErrImagePull with the raw text.
 * Note: the image is interpolated with %s here, not %q (upstream).
 */
export function evalCRIPullErr(image: string, errorText: string): ImageError {
  if (errorText.startsWith(ERR_REGISTRY_UNAVAILABLE)) {
    return {
      error: ERR_REGISTRY_UNAVAILABLE,
      message: `image pull failed for ${image} because the registry is unavailable${errorText.slice(ERR_REGISTRY_UNAVAILABLE.length)}`,
    };
  }
  if (errorText.startsWith(ERR_SIGNATURE_VALIDATION_FAILED)) {
    return {
      error: ERR_SIGNATURE_VALIDATION_FAILED,
      message: `image pull failed for ${image} because the signature validation failed${errorText.slice(ERR_SIGNATURE_VALIDATION_FAILED.length)}`,
    };
  }
  return { error: ERR_IMAGE_PULL, message: errorText };
}

/**
 * What the image manager remembers about a failed pull for the next back-off message:
 * `"<ErrName>: <msg>"` of the classified error (image_manager.go prevPullErrMsg).
 */
export function previousPullError(e: ImageError): string {
  return `${e.error}: ${e.message}`;
}

/**
 * The ImagePullBackOff error: message `Back-off pulling image "<img>"`, plus
 * `: <previous error>` when a previous failure for the back-off key is remembered.
 */
export function backOffWaiting(image: string, previous?: string): ImageError {
  const base = `Back-off pulling image ${goQuote(image)}`;
  return {
    error: ERR_IMAGE_PULL_BACK_OFF,
    message: previous === undefined ? base : `${base}: ${previous}`,
  };
}

/** InvalidImageName with the InspectFailed event's text (events.ts invalidImageNameEvent). */
export function invalidImageNameError(image: string, parseError: string): ImageError {
  return {
    error: ERR_INVALID_IMAGE_NAME,
    message: `Failed to apply default image tag ${goQuote(image)}: ${parseError}`,
  };
}

/** ImageInspectError; the message prints the (empty) imageRef, as upstream does. */
export function imageInspectError(error: string, imageRef = ""): ImageError {
  return {
    error: ERR_IMAGE_INSPECT,
    message: `Failed to inspect image ${goQuote(imageRef)}: ${error}`,
  };
}

/** ErrImageNeverPull (absent, or present but not accessible to the pod). */
export function imageNeverPullError(image: string): ImageError {
  return {
    error: ERR_IMAGE_NEVER_PULL,
    message: `Container image ${goQuote(image)} is not present with pull policy of Never`,
  };
}

/**
 * A pull intent could not be recorded (KEP-2535): the error is the write error itself, so its
 * text becomes the waiting reason.
 */
export function recordPullIntentFailed(image: string, error: string): ImageError {
  return {
    error,
    message: `Failed to record image pull intent for container image ${goQuote(image)}: ${error}`,
  };
}
