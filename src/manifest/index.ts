// Public API of src/manifest: load Kubernetes manifests (YAML 1.1 / JSON), inspect every
// container's image and pull policy as the API server and kubelet would, and write the stored
// policies back with comments and layout kept. No I/O: callers pass text in and get text out.

export type { EditPlan, PairPlacement, ScalarQuote, TextEdit } from "./edit-plan.ts";
export {
  type InspectOptions,
  inspectManifests,
  type PolicyEdit,
  plannedEdits,
} from "./inspect.ts";
export { loadManifests, MAX_DEPTH, type ManifestDocument, type ManifestFile } from "./load.ts";
export {
  findImageSites,
  type ImageSite,
  imageEdit,
  type PinPolicyChange,
  pinnedImage,
  policyChange,
  spliceText,
} from "./pin.ts";
export { offsetAt } from "./tree.ts";
export type * from "./types.ts";
export { CONTAINER_FIELDS, type ContainerField, POD_SPEC_PATHS } from "./walk.ts";
export { applyToDocuments, joinManifestTexts, toYaml } from "./write-back.ts";
