// Public API of src/serve: `kimg serve`, the store as a read-only OCI registry. Re-exports only.

export { type Answered, type RegistryHandlerOptions, registryHandler } from "./registry-server.ts";
export {
  type RegistryServer,
  SERVE_DEFAULTS,
  type ServeOptions,
  startRegistryServer,
} from "./server.ts";
