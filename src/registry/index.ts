// Public API of the registry client (src/registry/): HTTP pulls from OCI/Docker registries,
// no disk I/O. Re-exports only.

export {
  type Authorization,
  Authorizer,
  basicHeader,
  type Challenge,
  type Credential,
  type CredentialStore,
  parseWWWAuthenticate,
  pullScope,
} from "./auth.ts";
export {
  type BlobPushOutcome,
  type BlobResponse,
  isLoopbackHost,
  type ListOptions,
  type ManifestResponse,
  nextLink,
  type PingResult,
  type ReferrerDescriptor,
  type ReferrersIndex,
  RegistryClient,
  type RegistryClientOptions,
  type RequestOptions,
  type UploadSession,
} from "./client.ts";
export {
  type CandidateCredential,
  type CredentialCandidates,
  type CredentialLoopOptions,
  hostOfName,
  repositoryOfName,
  withEachCredential,
} from "./credential-loop.ts";
export { createHttpAgent, type HttpAgent, type HttpAgentOptions } from "./http.ts";
export {
  findRegistry,
  loadRegistriesConf,
  type MirrorEndpoint,
  type PullFromMirror,
  type PullSource,
  parseRegistriesConf,
  pullSources,
  type RegistriesConf,
  type RegistriesConfLookup,
  type RegistryEntry,
  refMatchingPrefix,
  registriesConfPath,
} from "./registries-conf.ts";
export {
  backoffDelay,
  parseRetryAfter,
  type RetryOptions,
  type RetryWait,
  retryOptions,
  STALL_MIN_BYTES,
} from "./retry.ts";
export { ClientPool, type ClientPoolOptions, resolveFirst } from "./sources.ts";
