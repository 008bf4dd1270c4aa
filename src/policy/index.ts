// Public API of src/policy: pull-policy defaulting and kubelet decisions, API validation of
// image fields, Pod update rules, the AlwaysPullImages admission plugin and image lint. Pure
// (no I/O).

export {
  type AdmissionOperation,
  type AdmissionRequest,
  type AdmissionResult,
  type AdmissionStatus,
  type AlwaysPullImagesOptions,
  admitAlwaysPullImages,
  type GroupResource,
  type GroupVersionKind,
  type IgnoreReason,
  type PolicyChange,
  podCreateRequest,
  validateAlwaysPullImages,
} from "./admission.ts";
export {
  type Finding,
  type FindingCode,
  type FindingSeverity,
  type LintInput,
  type LintOptions,
  lintContainer,
} from "./lint.ts";
export {
  defaultPodPullPolicies,
  validatePodEphemeralContainersUpdate,
  validatePodUpdate,
} from "./pod-update.ts";
export {
  type CredentialVerification,
  type DefaultedPullPolicy,
  type DefaultingRule,
  type DescribeKubeletActionOptions,
  defaultPullPolicy,
  describeKubeletAction,
  type EffectivePullPolicy,
  effectivePullPolicy,
  isPullPolicy,
  type KubeletAction,
  type KubeletActionDescription,
  type KubeletEvent,
  kubeletAction,
  PULL_POLICIES,
  type PullPolicy,
} from "./pull-policy.ts";
export {
  type ContainerLike,
  type ValidateContainerOptions,
  validateContainer,
} from "./validation.ts";
