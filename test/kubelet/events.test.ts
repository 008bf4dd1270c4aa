// Tests for src/kubelet/events.ts: one row per line of kubelet.md §5.6's event table, with the
// exact texts of pkg/kubelet/images/image_manager.go, kuberuntime_container.go and
// kubelet_pods.go (messages quote the raw image with Go's %q). The Pulled rows include
// messages copied from real kubelet output (`kubectl describe pod`).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  alreadyPresentEvent,
  BACK_OFF_PULL_IMAGE,
  backOffEvent,
  containerErrorEvent,
  ERR_IMAGE_NEVER_PULL_POLICY,
  FAILED_TO_CREATE_CONTAINER,
  FAILED_TO_INSPECT_IMAGE,
  FAILED_TO_PULL_IMAGE,
  FAILED_TO_RETRIEVE_IMAGE_PULL_SECRET,
  failedToRetrieveImagePullSecretEvent,
  imageNeverPullEvent,
  inspectFailedEvent,
  invalidImageNameEvent,
  type KubeletEvent,
  PULLED_IMAGE,
  PULLING_IMAGE,
  pulledEvent,
  pullFailedEvent,
  pullingEvent,
} from "../../src/kubelet/index.ts";
import { parseImageName } from "../../src/ref/index.ts";

function parseErrorOf(image: string): string {
  try {
    parseImageName(image);
  } catch (e) {
    return (e as Error).message;
  }
  assert.fail(`${image} parsed`);
}

describe("reason constants (pkg/kubelet/events/event.go)", () => {
  it("match upstream", () => {
    assert.deepEqual(
      [
        PULLING_IMAGE,
        PULLED_IMAGE,
        FAILED_TO_PULL_IMAGE,
        FAILED_TO_INSPECT_IMAGE,
        ERR_IMAGE_NEVER_PULL_POLICY,
        BACK_OFF_PULL_IMAGE,
        FAILED_TO_CREATE_CONTAINER,
        FAILED_TO_RETRIEVE_IMAGE_PULL_SECRET,
      ],
      [
        "Pulling",
        "Pulled",
        "Failed",
        "InspectFailed",
        "ErrImageNeverPull",
        "BackOff",
        "Failed",
        "FailedToRetrieveImagePullSecret",
      ],
    );
  });
});

describe("the event table of kubelet.md §5.6", () => {
  const rows: [string, KubeletEvent, KubeletEvent][] = [
    [
      "unparsable image",
      invalidImageNameEvent("Nginx", parseErrorOf("Nginx")),
      {
        type: "Warning",
        reason: "InspectFailed",
        message:
          'Failed to apply default image tag "Nginx": couldn\'t parse image name "Nginx": invalid reference format: repository name (library/Nginx) must be lowercase',
      },
    ],
    [
      "ImageStatus error (upstream prints the empty imageRef)",
      inspectFailedEvent("rpc error: code = Unavailable desc = connection refused"),
      {
        type: "Warning",
        reason: "InspectFailed",
        message:
          'Failed to inspect image "": rpc error: code = Unavailable desc = connection refused',
      },
    ],
    [
      "Never & absent / not authorized",
      imageNeverPullEvent("registry.example/private/app:1.0"),
      {
        type: "Warning",
        reason: "ErrImageNeverPull",
        message:
          'Container image "registry.example/private/app:1.0" is not present with pull policy of Never',
      },
    ],
    [
      "present, gate off",
      alreadyPresentEvent("nginx", false),
      {
        type: "Normal",
        reason: "Pulled",
        message: 'Container image "nginx" already present on machine',
      },
    ],
    [
      "present & authorized, gate on",
      alreadyPresentEvent("nginx:1.25", true),
      {
        type: "Normal",
        reason: "Pulled",
        message:
          'Container image "nginx:1.25" already present on machine and can be accessed by the pod',
      },
    ],
    [
      "in back-off (type Normal)",
      backOffEvent("missing:latest"),
      { type: "Normal", reason: "BackOff", message: 'Back-off pulling image "missing:latest"' },
    ],
    [
      "pull starts",
      pullingEvent("squidfunk/mkdocs-material:latest"),
      {
        type: "Normal",
        reason: "Pulling",
        message: 'Pulling image "squidfunk/mkdocs-material:latest"',
      },
    ],
    [
      "pull failed",
      pullFailedEvent("missing", "manifest unknown"),
      {
        type: "Warning",
        reason: "Failed",
        message: 'Failed to pull image "missing": manifest unknown',
      },
    ],
    [
      "pull ok (real kubelet output, 626ms)",
      pulledEvent("squidfunk/mkdocs-material:latest", 626, 626, 61822408),
      {
        type: "Normal",
        reason: "Pulled",
        message:
          'Successfully pulled image "squidfunk/mkdocs-material:latest" in 626ms (626ms including waiting). Image size: 61822408 bytes.',
      },
    ],
    [
      "pull ok (real kubelet output, 1.893s)",
      pulledEvent("squidfunk/mkdocs-material:latest", 1893, 1893, 61844112),
      {
        type: "Normal",
        reason: "Pulled",
        message:
          'Successfully pulled image "squidfunk/mkdocs-material:latest" in 1.893s (1.893s including waiting). Image size: 61844112 bytes.',
      },
    ],
    [
      "pull ok, durations truncated to ms, queueing included in the second",
      pulledEvent("nginx", 1234.987, 123_400.4, 0),
      {
        type: "Normal",
        reason: "Pulled",
        message:
          'Successfully pulled image "nginx" in 1.234s (2m3.4s including waiting). Image size: 0 bytes.',
      },
    ],
    [
      "any EnsureImageExists error",
      containerErrorEvent("ErrImagePull"),
      { type: "Warning", reason: "Failed", message: "Error: ErrImagePull" },
    ],
    [
      "back-off error",
      containerErrorEvent("ImagePullBackOff"),
      { type: "Warning", reason: "Failed", message: "Error: ImagePullBackOff" },
    ],
    [
      "missing pull secrets",
      failedToRetrieveImagePullSecretEvent(["a", "b"]),
      {
        type: "Warning",
        reason: "FailedToRetrieveImagePullSecret",
        message:
          "Unable to retrieve some image pull secrets (a, b); attempting to pull the image may not succeed.",
      },
    ],
    [
      "one missing pull secret (real kubelet output)",
      failedToRetrieveImagePullSecretEvent(["ghcr-secret"]),
      {
        type: "Warning",
        reason: "FailedToRetrieveImagePullSecret",
        message:
          "Unable to retrieve some image pull secrets (ghcr-secret); attempting to pull the image may not succeed.",
      },
    ],
  ];
  for (const [name, got, want] of rows) it(name, () => assert.deepEqual(got, want));

  it("messages quote the raw image with Go's %q", () => {
    assert.equal(pullingEvent('we"ird\tname').message, 'Pulling image "we\\"ird\\tname"');
  });
  it("a one-hour pull prints like Go", () => {
    assert.match(pulledEvent("x", 3_600_000, 3_600_001, 1).message, / in 1h0m0s \(1h0m0.001s /);
  });
});
