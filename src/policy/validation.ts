// API validation of a container's `image` and `imagePullPolicy`. Pure.
//
// Owns `validateContainer`: the image- and pull-policy checks of kubernetes/kubernetes
// pkg/apis/core/validation/validation.go, in upstream's order for one container:
// 1. validateContainerCommon (every container, Pods and pod templates alike):
//    `len(image) == 0` → `<path>.image: Required value`;
// 2. validatePullPolicy (also from validateContainerCommon): `""` → Required value, a value
//    outside Always/IfNotPresent/Never → `Unsupported value: "X": supported values: "Always",
//    "IfNotPresent", "Never"` (supportedPullPolicies.List() is sorted);
// 3. Pods only — validateContainersOnlyForPod (create), ValidateContainerUpdates (update),
//    validateContainerOnlyForPod (ephemeral containers): `len(image) != len(strings.TrimSpace(image))`
//    → `Invalid value: " nginx": must not have leading or trailing whitespace`. Templates skip it
//    because some tools use " " as a placeholder image (comment in validateContainerCommon).
//
// The API validates the *defaulted* object: callers should put the effective policy
// (pull-policy.ts `effectivePullPolicy`) into `imagePullPolicy` first, or an omitted policy is
// reported as Required, which the real API server never does for a defaulted object.
//
// Not covered here: the container name (validateContainerCommon also requires a DNS-1123 label)
// and every other container field. Upstream never parses the reference: `Nginx` or `a b` pass
// (the kubelet rejects them later with InvalidImageName — see lint.ts).
//
// Values come from untrusted YAML. `null`/absent is Go's zero value "" (JSON null leaves a Go
// string empty), so it is reported like "". Any other non-string is reported as
// `Invalid value: <value>: must be a string` — our own wording: the real API server rejects it
// earlier, while decoding the request.

import {
  type FieldError,
  fieldInvalid,
  fieldNotSupported,
  fieldRequired,
  hasGoSurroundingSpace,
} from "../go/index.ts";
import { PULL_POLICIES } from "./pull-policy.ts";

export type { FieldError, FieldErrorType } from "../go/index.ts";

/** The container fields this module reads; values are unchecked input. */
export interface ContainerLike {
  readonly name?: unknown;
  readonly image?: unknown;
  readonly imagePullPolicy?: unknown;
}

export interface ValidateContainerOptions {
  /** True for a Pod's container (create, update, ephemeral); false for a pod template's. */
  readonly pod: boolean;
}

const NOT_A_STRING = "must be a string";

/**
 * Validation errors for one container's image and pull policy.
 * `fieldPath` is the container's path, e.g. `spec.containers[0]` or
 * `spec.template.spec.initContainers[1]`.
 */
export function validateContainer(
  container: ContainerLike,
  fieldPath: string,
  opts: ValidateContainerOptions,
): FieldError[] {
  const c: ContainerLike = container !== null && typeof container === "object" ? container : {};
  const errors: FieldError[] = [];
  const imagePath = `${fieldPath}.image`;
  const policyPath = `${fieldPath}.imagePullPolicy`;
  const image = goString(c.image);
  const policy = goString(c.imagePullPolicy);

  if (image === undefined) errors.push(fieldInvalid(imagePath, c.image, NOT_A_STRING));
  else if (image === "") errors.push(fieldRequired(imagePath));

  if (policy === undefined) {
    errors.push(fieldInvalid(policyPath, c.imagePullPolicy, NOT_A_STRING));
  } else if (policy === "") {
    errors.push(fieldRequired(policyPath));
  } else if (!(PULL_POLICIES as readonly string[]).includes(policy)) {
    errors.push(fieldNotSupported(policyPath, policy, PULL_POLICIES));
  }

  if (opts.pod && image !== undefined && hasGoSurroundingSpace(image)) {
    errors.push(fieldInvalid(imagePath, image, "must not have leading or trailing whitespace"));
  }
  return errors;
}

/** The Go string a JSON/YAML value decodes to: null/absent → "", non-strings → undefined. */
function goString(value: unknown): string | undefined {
  if (value === undefined || value === null) return "";
  return typeof value === "string" ? value : undefined;
}
