// The kubelet's image events: reasons, types and exact message texts (kubelet.md §5.6). Pure.
//
// One constructor per row of the spec's event table. Messages quote the pod's raw image string
// with Go's %q (goQuote), never the tag-defaulted CRI string; durations are Go durations of
// millisecond-truncated values; sizes print as plain decimal integers (%v of a uint64).
//
// Upstream sources (kubernetes/kubernetes), read for this file:
// - pkg/kubelet/events/event.go — the reason constants (PullingImage "Pulling", PulledImage
//   "Pulled", FailedToPullImage "Failed", FailedToInspectImage "InspectFailed",
//   ErrImageNeverPullPolicy "ErrImageNeverPull", BackOffPullImage "BackOff",
//   FailedToCreateContainer "Failed")
// - pkg/kubelet/images/image_manager.go (master, with pullmanager and prevPullErrMsg) —
//   EnsureImageExists, imagePullPrecheck, imageNotPresentOnNeverPolicyError, pullImage: every
//   message below, the BackOff event's type Normal, and the Pulled message
//   `Successfully pulled image %q in %v (%v including waiting). Image size: %v bytes.` whose two
//   durations are `pullDuration.Truncate(time.Millisecond)` and
//   `time.Since(startTime).Truncate(time.Millisecond)`
// - pkg/kubelet/kuberuntime/kuberuntime_container.go startContainer — `Error: %v` with the
//   EnsureImageExists error (reason FailedToCreateContainer = "Failed")
// - pkg/kubelet/kubelet_pods.go getPullSecretsForPod — FailedToRetrieveImagePullSecret

import { formatGoDuration, goQuote, truncateToMs } from "../go/index.ts";
import type { KubeletEvent } from "../policy/index.ts";

/** An event the kubelet records on the container's object reference (one type for the library). */
export type { KubeletEvent } from "../policy/index.ts";

// Reasons (pkg/kubelet/events/event.go; the last one is a literal in kubelet_pods.go).
export const PULLING_IMAGE = "Pulling";
export const PULLED_IMAGE = "Pulled";
export const FAILED_TO_PULL_IMAGE = "Failed";
export const FAILED_TO_INSPECT_IMAGE = "InspectFailed";
export const ERR_IMAGE_NEVER_PULL_POLICY = "ErrImageNeverPull";
export const BACK_OFF_PULL_IMAGE = "BackOff";
export const FAILED_TO_CREATE_CONTAINER = "Failed";
export const FAILED_TO_RETRIEVE_IMAGE_PULL_SECRET = "FailedToRetrieveImagePullSecret";

/**
 * The image does not parse (applyDefaultImageTag failed). `parseError` is the parser's text,
 * `couldn't parse image name "<img>": <lib err>` (src/ref parseImageName's message).
 */
export function invalidImageNameEvent(image: string, parseError: string): KubeletEvent {
  return {
    type: "Warning",
    reason: FAILED_TO_INSPECT_IMAGE,
    message: `Failed to apply default image tag ${goQuote(image)}: ${parseError}`,
  };
}

/**
 * The runtime's ImageStatus failed. Upstream (imagePullPrecheck) interpolates the imageRef it
 * just failed to obtain, which is always empty, so the message reads `Failed to inspect image "":
 * <err>` (kubelet.md §10.10); `imageRef` exists only to show that quirk explicitly.
 */
export function inspectFailedEvent(error: string, imageRef = ""): KubeletEvent {
  return {
    type: "Warning",
    reason: FAILED_TO_INSPECT_IMAGE,
    message: `Failed to inspect image ${goQuote(imageRef)}: ${error}`,
  };
}

/**
 * Policy Never and the image is absent — or present but the pod may not use it (KEP-2535): the
 * same text, so a pod cannot learn that another tenant's image is on the node.
 */
export function imageNeverPullEvent(image: string): KubeletEvent {
  return {
    type: "Warning",
    reason: ERR_IMAGE_NEVER_PULL_POLICY,
    message: `Container image ${goQuote(image)} is not present with pull policy of Never`,
  };
}

/**
 * The image is present and no pull is needed. `verified`: the KubeletEnsureSecretPulledImages
 * gate is on and the pull manager said the pod may use it (`… and can be accessed by the pod`);
 * false: the gate is off.
 */
export function alreadyPresentEvent(image: string, verified: boolean): KubeletEvent {
  const suffix = verified ? " and can be accessed by the pod" : "";
  return {
    type: "Normal",
    reason: PULLED_IMAGE,
    message: `Container image ${goQuote(image)} already present on machine${suffix}`,
  };
}

/**
 * The pull is in back-off. Type Normal (sic). The event has the short text; the container's
 * waiting message adds the remembered previous error (waiting.ts `backOffWaiting`).
 */
export function backOffEvent(image: string): KubeletEvent {
  return {
    type: "Normal",
    reason: BACK_OFF_PULL_IMAGE,
    message: `Back-off pulling image ${goQuote(image)}`,
  };
}

/** A pull starts. */
export function pullingEvent(image: string): KubeletEvent {
  return { type: "Normal", reason: PULLING_IMAGE, message: `Pulling image ${goQuote(image)}` };
}

/** The pull failed; `error` is the raw runtime (or aggregate) error text. */
export function pullFailedEvent(image: string, error: string): KubeletEvent {
  return {
    type: "Warning",
    reason: FAILED_TO_PULL_IMAGE,
    message: `Failed to pull image ${goQuote(image)}: ${error}`,
  };
}

/**
 * The pull succeeded. `pullMs`: measured inside the puller (excludes queueing); `totalMs`: the
 * image manager's whole wait (includes queueing). Both are truncated to milliseconds, as
 * upstream does, before printing as Go durations; `sizeBytes` is the image size.
 */
export function pulledEvent(
  image: string,
  pullMs: number,
  totalMs: number,
  sizeBytes: number,
): KubeletEvent {
  const pull = formatGoDuration(truncateToMs(pullMs));
  const total = formatGoDuration(truncateToMs(totalMs));
  return {
    type: "Normal",
    reason: PULLED_IMAGE,
    message: `Successfully pulled image ${goQuote(image)} in ${pull} (${total} including waiting). Image size: ${sizeText(sizeBytes)} bytes.`,
  };
}

function sizeText(n: number): string {
  return Number.isSafeInteger(n) && n >= 0 ? String(n) : String(Math.max(0, Math.trunc(n)));
}

/**
 * kuberuntime's event for any EnsureImageExists error: `Error: <ErrName>` (e.g. `Error:
 * ErrImagePull`, `Error: ImagePullBackOff`). `error` is the error's text (its waiting reason).
 */
export function containerErrorEvent(error: string): KubeletEvent {
  return { type: "Warning", reason: FAILED_TO_CREATE_CONTAINER, message: `Error: ${error}` };
}

/**
 * Some of the pod's imagePullSecrets could not be fetched (recorded on the pod). `names` in
 * imagePullSecrets order; entries with an empty name are skipped by the kubelet before this.
 */
export function failedToRetrieveImagePullSecretEvent(names: readonly string[]): KubeletEvent {
  return {
    type: "Warning",
    reason: FAILED_TO_RETRIEVE_IMAGE_PULL_SECRET,
    message: `Unable to retrieve some image pull secrets (${names.join(", ")}); attempting to pull the image may not succeed.`,
  };
}
