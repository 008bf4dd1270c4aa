// kimg's public API without the manifest reader (and so without the `yaml` dependency):
// references, pull policy, explanations. `kimg parse` imports this, so it starts without
// loading a YAML parser. Re-exports only.

export * from "./errors.ts";
export * from "./explain/index.ts";
export * from "./format/index.ts";
export * from "./go/index.ts";
export * from "./oci/index.ts";
export * from "./policy/index.ts";
export * from "./ref/index.ts";
