// Public API of src/pull: pulling images from registries into the local store, with progress
// events and the kubelet's pull-policy rules. Orchestration over registry/ and store/.
// Re-exports only.

export { type PolicyPullResult, pullWithPolicy } from "./policy.ts";
export {
  PROGRESS_BYTES,
  PROGRESS_MS,
  type ProgressEvent,
  type ProgressListener,
  type PullResult,
  progressThrottle,
} from "./progress.ts";
export { type PulledImage, type PullOptions, type PullSettings, pull, pullName } from "./pull.ts";
export {
  type CandidateCredential,
  type CredentialCandidates,
  pullTryingCredentials,
  type TryingCredentialsOptions,
} from "./try-credentials.ts";
