// The public API without manifests (src/manifest/ loads `yaml`): what `kimg pull`, `images`
// and `rmi` use, so a pull does not pay for parsing Kubernetes YAML it never reads (35–70 ms of
// start-up, docs/performance.md "Pulling"). Re-exports only, exactly index.ts minus manifest;
// index.ts stays the full API.

export * from "./core.ts";
export * from "./credentials/index.ts";
export * from "./pull/index.ts";
export * from "./push/index.ts";
export * from "./registry/index.ts";
export * from "./remote/index.ts";
export * from "./store/index.ts";
