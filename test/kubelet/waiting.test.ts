// Tests for src/kubelet/waiting.ts: the error → state.waiting table of kubelet.md §5.6.
// evalCRIPullErr cases are ported from pkg/kubelet/images/image_manager_test.go
// TestEvalCRIPullErr (image "test"); the back-off message with the remembered previous error
// follows image_manager.go pullImage (prevPullErrMsg).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  backOffWaiting,
  CONTAINER_CREATING,
  defaultWaitingState,
  ERR_IMAGE_INSPECT,
  ERR_IMAGE_NEVER_PULL,
  ERR_IMAGE_PULL,
  ERR_IMAGE_PULL_BACK_OFF,
  ERR_INVALID_IMAGE_NAME,
  ERR_REGISTRY_UNAVAILABLE,
  ERR_SIGNATURE_VALIDATION_FAILED,
  evalCRIPullErr,
  IMAGE_ERROR_NAMES,
  type ImageError,
  imageInspectError,
  imageNeverPullError,
  invalidImageNameError,
  POD_INITIALIZING,
  previousPullError,
  recordPullIntentFailed,
  waitingState,
} from "../../src/kubelet/index.ts";

describe("error values (images/types.go, cri-api/pkg/errors)", () => {
  it("their texts are the waiting reasons", () => {
    assert.deepEqual(
      [
        ERR_IMAGE_PULL_BACK_OFF,
        ERR_IMAGE_INSPECT,
        ERR_IMAGE_PULL,
        ERR_IMAGE_NEVER_PULL,
        ERR_INVALID_IMAGE_NAME,
        ERR_REGISTRY_UNAVAILABLE,
        ERR_SIGNATURE_VALIDATION_FAILED,
      ],
      [
        "ImagePullBackOff",
        "ImageInspectError",
        "ErrImagePull",
        "ErrImageNeverPull",
        "InvalidImageName",
        "RegistryUnavailable",
        "SignatureValidationFailed",
      ],
    );
    assert.equal(IMAGE_ERROR_NAMES.length, 7);
  });
});

describe("evalCRIPullErr (TestEvalCRIPullErr)", () => {
  const cases: [string, string, ImageError][] = [
    ["fallback error", "test", { error: "ErrImagePull", message: "test" }],
    [
      "registry is unavailable",
      "RegistryUnavailable",
      {
        error: "RegistryUnavailable",
        message: "image pull failed for test because the registry is unavailable",
      },
    ],
    [
      "registry is unavailable with additional error message",
      "RegistryUnavailable: foo",
      {
        error: "RegistryUnavailable",
        message: "image pull failed for test because the registry is unavailable: foo",
      },
    ],
    [
      "signature is invalid",
      "SignatureValidationFailed",
      {
        error: "SignatureValidationFailed",
        message: "image pull failed for test because the signature validation failed",
      },
    ],
    [
      "signature is invalid with additional error message (wrapped)",
      "SignatureValidationFailed: bar",
      {
        error: "SignatureValidationFailed",
        message: "image pull failed for test because the signature validation failed: bar",
      },
    ],
    // The rule is a plain prefix test: whatever follows is appended verbatim.
    [
      "prefix without separator",
      "RegistryUnavailableX",
      {
        error: "RegistryUnavailable",
        message: "image pull failed for test because the registry is unavailableX",
      },
    ],
    [
      "prefix only at the start",
      "rpc error: RegistryUnavailable",
      { error: "ErrImagePull", message: "rpc error: RegistryUnavailable" },
    ],
    [
      "case matters",
      "registryunavailable: x",
      { error: "ErrImagePull", message: "registryunavailable: x" },
    ],
  ];
  for (const [name, input, want] of cases) {
    it(name, () => assert.deepEqual(evalCRIPullErr("test", input), want));
  }
  it("the image is printed with %s, not %q", () => {
    assert.equal(
      evalCRIPullErr("nginx:1.25", "RegistryUnavailable: dns error").message,
      "image pull failed for nginx:1.25 because the registry is unavailable: dns error",
    );
  });
});

describe("the waiting-state table of kubelet.md §5.6", () => {
  const rows: [string, ImageError, { reason: string; message?: string }][] = [
    [
      "ErrInvalidImageName",
      invalidImageNameError(
        "Nginx",
        'couldn\'t parse image name "Nginx": invalid reference format: repository name (library/Nginx) must be lowercase',
      ),
      {
        reason: "InvalidImageName",
        message:
          'Failed to apply default image tag "Nginx": couldn\'t parse image name "Nginx": invalid reference format: repository name (library/Nginx) must be lowercase',
      },
    ],
    [
      "ErrImageInspect",
      imageInspectError("rpc error: boom"),
      { reason: "ImageInspectError", message: 'Failed to inspect image "": rpc error: boom' },
    ],
    [
      "ErrImageNeverPull",
      imageNeverPullError("app:1"),
      {
        reason: "ErrImageNeverPull",
        message: 'Container image "app:1" is not present with pull policy of Never',
      },
    ],
    [
      "ErrImagePull (generic): the raw CRI/aggregate text",
      evalCRIPullErr("app:1", "[pull access denied, manifest unknown]"),
      { reason: "ErrImagePull", message: "[pull access denied, manifest unknown]" },
    ],
    [
      "ImagePullBackOff without a remembered error",
      backOffWaiting("app:1"),
      { reason: "ImagePullBackOff", message: 'Back-off pulling image "app:1"' },
    ],
    [
      "ImagePullBackOff with the previous error",
      backOffWaiting("app:1", previousPullError(evalCRIPullErr("app:1", "manifest unknown"))),
      {
        reason: "ImagePullBackOff",
        message: 'Back-off pulling image "app:1": ErrImagePull: manifest unknown',
      },
    ],
    [
      "ImagePullBackOff after a RegistryUnavailable failure",
      backOffWaiting(
        "example.com/app:v1",
        previousPullError(evalCRIPullErr("example.com/app:v1", "RegistryUnavailable: dns error")),
      ),
      {
        reason: "ImagePullBackOff",
        message:
          'Back-off pulling image "example.com/app:v1": RegistryUnavailable: image pull failed for example.com/app:v1 because the registry is unavailable: dns error',
      },
    ],
    [
      "RegistryUnavailable",
      evalCRIPullErr("app:1", "RegistryUnavailable: dial tcp: lookup x: no such host"),
      {
        reason: "RegistryUnavailable",
        message:
          "image pull failed for app:1 because the registry is unavailable: dial tcp: lookup x: no such host",
      },
    ],
    [
      "SignatureValidationFailed",
      evalCRIPullErr("app:1", "SignatureValidationFailed: no signature"),
      {
        reason: "SignatureValidationFailed",
        message:
          "image pull failed for app:1 because the signature validation failed: no signature",
      },
    ],
    [
      "a pull-intent write failure: the error text is the reason",
      recordPullIntentFailed("app:1", "open /x: permission denied"),
      {
        reason: "open /x: permission denied",
        message:
          'Failed to record image pull intent for container image "app:1": open /x: permission denied',
      },
    ],
  ];
  for (const [name, e, want] of rows) {
    it(name, () => assert.deepEqual(waitingState(e.error, e.message), want));
  }
  it("an empty message is omitted", () => {
    assert.deepEqual(waitingState("ErrImagePull", ""), { reason: "ErrImagePull" });
  });
});

describe("default waiting state (convertToAPIContainerStatuses)", () => {
  it("ContainerCreating without init containers", () => {
    assert.equal(CONTAINER_CREATING, "ContainerCreating");
    assert.deepEqual(defaultWaitingState(false), { reason: "ContainerCreating" });
  });
  it("PodInitializing for every container of a pod with init containers", () => {
    assert.equal(POD_INITIALIZING, "PodInitializing");
    assert.deepEqual(defaultWaitingState(true), { reason: "PodInitializing" });
  });
});
