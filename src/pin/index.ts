// Public API of src/pin: Kubernetes manifests rewritten to pin every image to its digest
// (`kimg pin`), and the pull Secrets found in manifest files. Re-exports only.

export {
  PIN_JOBS,
  type PinnedFile,
  type PinnedSite,
  type PinOptions,
  type PinResult,
  type PinStatus,
  pinManifests,
} from "./pin.ts";
export { type SecretsInFileOptions, secretsInFile } from "./secrets.ts";
