// kimg's public API. Re-exports only; front ends (CLI, server) import from here (or from
// core.ts, the same minus manifests) and nowhere deeper, so the library surface is exactly
// what they use.

export * from "./core.ts";
export * from "./credentials/index.ts";
export * from "./export/index.ts";
export * from "./kubelet/index.ts";
export * from "./manager/index.ts";
export * from "./manifest/index.ts";
export * from "./pin/index.ts";
export * from "./pull/index.ts";
export * from "./push/index.ts";
export * from "./registry/index.ts";
export * from "./remote/index.ts";
export * from "./store/index.ts";
export * from "./unpack/index.ts";
