// Public API of the credential sources (src/credentials/): `--creds`, Kubernetes pull secrets
// (kubelet keyring rules), docker config.json with credential helpers, containers auth.json, and
// the chain the registry client uses. Re-exports only.

export * from "./auth-json.ts";
export * from "./chain.ts";
export {
  AuthCredential,
  type CredentialInit,
  type CredentialProvider,
  decodeAuthField,
  ERR_AUTH_FIELD,
  type RegistryCredential,
  repoHost,
} from "./credential.ts";
export * from "./docker-config.ts";
export * from "./helper.ts";
export * from "./keyring.ts";
export * from "./pull-secrets.ts";
export * from "./static.ts";
