// Public API of src/json: small helpers for reading untrusted JSON. Pure. Re-exports only.
export { isJsonObject } from "./object.ts";
