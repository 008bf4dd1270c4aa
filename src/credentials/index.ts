// Public API of the credential sources (src/credentials/): `--creds`, Kubernetes pull secrets
// (kubelet keyring rules), docker config.json with credential helpers, containers auth.json, and
// the chain the registry client uses. Re-exports only.

export * from "./auth-json.ts";
export * from "./chain.ts";
export {
  AuthCredential,
  type CredentialInit,
  type CredentialOrigin,
  type CredentialProvider,
  decodeAuthField,
  ERR_AUTH_FIELD,
  NODE_ORIGIN,
  type RegistryCredential,
  repoHost,
} from "./credential.ts";
export * from "./credential-hash.ts";
export * from "./default-sources.ts";
export * from "./docker-config.ts";
export * from "./helper.ts";
export * from "./keyring.ts";
export * from "./login.ts";
export * from "./node-config.ts";
export {
  CREDENTIAL_PROVIDER_API_VERSIONS,
  CREDENTIAL_PROVIDER_CONFIG_VERSIONS,
  type CredentialProviderConfig,
  type CredentialProviderPlugins,
  type CredentialProviderResponse,
  type CredentialProviderSpec,
  credentialProviderPlugins,
  DEFAULT_PLUGIN_TIMEOUT_MS,
  decodeCredentialProviderConfig,
  execCredentialProviderPlugin,
  loadCredentialProviderConfig,
  mergeCredentialProviderConfigs,
  PluginProvider,
  type PluginProviderOptions,
  parseCredentialProviderResponse,
  validateCredentialProviderConfig,
} from "./provider-plugin.ts";
export * from "./pull-secrets.ts";
export * from "./static.ts";
