// The kubelet's credential hash (KEP-2535 pulled records: `credentialHash` of a secret).
// Source: kubernetes pkg/credentialprovider/keyring.go — `hashAuthConfig(creds *AuthConfig)` =
// hex(sha256(json.Marshal(creds))), computed by `NewTrackedAuthConfig` into
// `TrackedAuthConfig.AuthConfigHash`; the struct, in Go field order, with its JSON tags:
//
//   type AuthConfig struct {
//     Username      string `json:"username,omitempty"`
//     Password      string `json:"password,omitempty"`
//     Auth          string `json:"auth,omitempty"`
//     Email         string `json:"email,omitempty"`
//     ServerAddress string `json:"serveraddress,omitempty"`
//     IdentityToken string `json:"identitytoken,omitempty"`
//     RegistryToken string `json:"registrytoken,omitempty"`
//   }
//
// so empty fields are left out and an all-empty credential hashes `{}`. Go's encoding/json escapes
// `<`, `>`, `&`, U+2028 and U+2029 (HTML-safe by default); JSON.stringify does not, so they are
// escaped here. Keyring credentials (pod secrets, node config.json, plugins) carry only
// username, password and email, as `BasicDockerKeyring.Add` builds them (see pull-secrets.ts).
//
// Difference: a JS string with a lone surrogate is escaped as `\udXXX` (Go would see invalid
// UTF-8 and write U+FFFD); such strings cannot come from JSON input.

import { createHash } from "node:crypto";
import type { AuthCredential } from "./credential.ts";

/** Go `json.Marshal` of a string (HTML-safe escaping). */
function goJsonString(s: string): string {
  return JSON.stringify(s).replace(/[<>&\u2028\u2029]/g, (c) => {
    const hex = c.charCodeAt(0).toString(16).padStart(4, "0");
    return `\\u${hex}`;
  });
}

/** The JSON the kubelet hashes: keyring.go AuthConfig, Go field order, empty fields omitted. */
export function authConfigJson(cred: AuthCredential): string {
  const fields: [string, string][] = [
    ["username", cred.username],
    ["password", cred.password],
    ["auth", cred.auth],
    ["email", cred.email],
    ["serveraddress", cred.serverAddress],
    ["identitytoken", cred.identityToken],
    ["registrytoken", cred.registryToken],
  ];
  const parts = fields.filter(([, v]) => v !== "").map(([k, v]) => `"${k}":${goJsonString(v)}`);
  return `{${parts.join(",")}}`;
}

/** keyring.go `hashAuthConfig`: lowercase hex SHA-256 of authConfigJson(cred). */
export function credentialHash(cred: AuthCredential): string {
  return createHash("sha256").update(authConfigJson(cred), "utf8").digest("hex");
}
