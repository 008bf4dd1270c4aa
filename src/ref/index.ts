// Public API of the reference library: Docker's and Kubernetes' image-reference grammar,
// normalization and anatomy. Pure: no I/O.

export * from "./anatomy.ts";
export * from "./digest.ts";
export * from "./failure.ts";
export * from "./familiar.ts";
export { goToLower } from "./go-lower.ts";
export * from "./kubernetes.ts";
export * from "./normalize.ts";
export * from "./parse.ts";
export * from "./reference.ts";
