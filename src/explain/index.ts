// Public API of explain/: references explained for people (CLI, web UI). Pure.
export * from "./explain-image.ts";
