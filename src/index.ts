// kimg's public API. Re-exports only; front ends (CLI, server) import from here and nowhere
// deeper, so the library surface is exactly what they use.

export * from "./errors.ts";
export * from "./explain/index.ts";
export * from "./manifest/index.ts";
export * from "./policy/index.ts";
export * from "./ref/index.ts";
