// Kubernetes image pull secrets → keyring entries, as the kubelet reads them.
// Sources: kubernetes pkg/credentialprovider/secrets/secrets.go (`secretsToTrackedDockerConfigs`:
// which secrets count), pkg/credentialprovider/config.go (`DockerConfigJSON`, `DockerConfig`,
// `DockerConfigEntry.UnmarshalJSON`, `decodeDockerConfigFieldAuth`); secrets_test.go,
// config_test.go; ../../shared/specs/kubelet.md §7.1.
//
// Secrets arrive as parsed manifests (YAML loading is elsewhere): `data` values are base64 (as
// the API stores them), `stringData` values plain; `stringData` wins, as the API server merges it.
//
// Differences from upstream:
// - JSON syntax errors say `<where>: invalid JSON` (Go: "invalid character … looking for …");
//   type errors carry Go's text (`json: cannot unmarshal …`).
// - `data` that is not base64 (impossible once stored by the API server) is CREDENTIALS_INVALID.
//
// Each credential carries its origin (KEP-2535): `{kind: "secret", namespace, name, uid}` from the
// Secret's metadata (secrets.go `SecretCoordinates{UID, Namespace, Name}`; uid left out when the
// manifest has none). Like the kubelet's keyring entry (keyring.go `BasicDockerKeyring.Add` copies
// only Username, Password and Email into its AuthConfig), the credential does not keep the `auth`
// field once decoded, so credentialHash() of it equals the kubelet's `AuthConfigHash`.

import { KimgError } from "../errors.ts";
import {
  AuthCredential,
  type CredentialOrigin,
  decodeAuthField,
  goBase64Decode,
  goField,
  goJsonKind,
  goStringFields,
  isObject,
  parseJsonQuietly,
} from "./credential.ts";
import { DockerKeyring } from "./keyring.ts";

export const SECRET_TYPE_DOCKER_CONFIG_JSON = "kubernetes.io/dockerconfigjson";
export const SECRET_TYPE_DOCKERCFG = "kubernetes.io/dockercfg";
export const DOCKER_CONFIG_JSON_KEY = ".dockerconfigjson";
export const DOCKERCFG_KEY = ".dockercfg";

/** The parts of a v1 Secret the kubelet reads. */
export interface SecretObject {
  type?: unknown;
  data?: unknown;
  stringData?: unknown;
  metadata?: { name?: unknown; namespace?: unknown; uid?: unknown } | undefined;
}

/** secrets.go: the secret's coordinates, as the credential's origin. */
export function secretOrigin(s: SecretObject): CredentialOrigin {
  const str = (v: unknown) => (typeof v === "string" ? v : "");
  const uid = str(s.metadata?.uid);
  return {
    kind: "secret",
    namespace: str(s.metadata?.namespace),
    name: str(s.metadata?.name),
    ...(uid !== "" ? { uid } : {}),
  };
}

/** Runs `f`; a KimgError it throws is rethrown with `path: ` in front (same code). */
function at<T>(path: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof KimgError) {
      // `auths["h"]` + `.auth: …` reads as one field path: `auths["h"].auth: …`
      const sep = e.message.startsWith(".") ? "" : ": ";
      throw new KimgError(e.code, `${path}${sep}${e.message}`, { cause: e });
    }
    throw e;
  }
}

function secretName(s: SecretObject): string {
  const name = typeof s.metadata?.name === "string" ? s.metadata.name : "";
  const ns = typeof s.metadata?.namespace === "string" ? s.metadata.namespace : "";
  const full = ns === "" ? name : `${ns}/${name}`;
  return full === "" ? '""' : full;
}

/** The secret's value under `key` (undefined when absent), or throws if `data` is not base64. */
function secretValue(s: SecretObject, key: string): string | undefined {
  if (isObject(s.stringData) && typeof s.stringData[key] === "string") return s.stringData[key];
  if (!isObject(s.data)) return undefined;
  const v = s.data[key];
  if (typeof v !== "string") return undefined;
  try {
    return goBase64Decode(v, true).toString("utf8");
  } catch (e) {
    throw new KimgError("CREDENTIALS_INVALID", `data[${key}]: ${(e as Error).message}`);
  }
}

/**
 * config.go `DockerConfigEntry.UnmarshalJSON`: username, password, email; a non-empty `auth`
 * replaces username and password. Throws Go's error texts.
 */
export function parseDockerConfigEntry(
  value: unknown,
  source: string,
  origin?: CredentialOrigin,
  located = false,
): AuthCredential {
  const o = origin === undefined ? {} : { origin };
  if (value === null) return new AuthCredential({ source, ...o });
  if (!isObject(value)) {
    throw new KimgError(
      "CREDENTIALS_INVALID",
      `json: cannot unmarshal ${goJsonKind(value)} into Go value of type credentialprovider.dockerConfigEntryWithAuth`,
    );
  }
  const f = goStringFields(
    value,
    ["username", "password", "email", "auth"] as const,
    "dockerConfigEntryWithAuth",
  );
  let username = f.username ?? "";
  let password = f.password ?? "";
  const auth = f.auth ?? "";
  if (auth !== "") {
    ({ username, password } = located
      ? at(".auth", () => decodeAuthField(auth))
      : decodeAuthField(auth));
  }
  return new AuthCredential({ username, password, email: f.email ?? "", source, ...o });
}

/** A `DockerConfig` map (legacy `.dockercfg` shape) → entries in JSON order. */
export function parseDockerConfigMap(
  value: unknown,
  source: string,
  goType = "credentialprovider.DockerConfig",
  origin?: CredentialOrigin,
  pathPrefix = "",
): [string, AuthCredential][] {
  if (value === null || value === undefined) return [];
  if (!isObject(value)) {
    throw new KimgError(
      "CREDENTIALS_INVALID",
      `json: cannot unmarshal ${goJsonKind(value)} into Go value of type ${goType}`,
    );
  }
  return Object.entries(value).map(([k, v]) => [
    k,
    at(`${pathPrefix}[${JSON.stringify(k)}]`, () =>
      parseDockerConfigEntry(v, source, origin, true),
    ),
  ]);
}

/** A `.dockerconfigjson` text (`{"auths": …}`) → entries. */
export function parseDockerConfigJson(
  text: string,
  source: string,
  origin?: CredentialOrigin,
  what = source,
): [string, AuthCredential][] {
  const doc = parseJsonQuietly(text, what);
  if (doc === null) return [];
  if (!isObject(doc)) {
    throw new KimgError(
      "CREDENTIALS_INVALID",
      `json: cannot unmarshal ${goJsonKind(doc)} into Go value of type credentialprovider.DockerConfigJSON`,
    );
  }
  const auths = goField(doc, "auths");
  if (auths !== undefined && auths !== null && !isObject(auths)) {
    throw new KimgError(
      "CREDENTIALS_INVALID",
      `json: cannot unmarshal ${goJsonKind(auths)} into Go struct field DockerConfigJSON.auths of type credentialprovider.DockerConfig`,
    );
  }
  return parseDockerConfigMap(auths, source, undefined, origin, "auths");
}

/** A `.dockercfg` text (legacy map) → entries. */
export function parseDockercfg(
  text: string,
  source: string,
  origin?: CredentialOrigin,
  what = source,
): [string, AuthCredential][] {
  return parseDockerConfigMap(parseJsonQuietly(text, what), source, undefined, origin);
}

/**
 * secrets.go `secretsToTrackedDockerConfigs`: a keyring of the secrets of type
 * `kubernetes.io/dockerconfigjson` with a non-empty `.dockerconfigjson`, or of type
 * `kubernetes.io/dockercfg` with a non-empty `.dockercfg`, in order; other secrets are ignored.
 * Any error aborts (the kubelet fails the pull with it). Undefined: no valid secret.
 */
export function keyringFromSecrets(secrets: readonly SecretObject[]): DockerKeyring | undefined {
  const keyring = new DockerKeyring();
  let found = 0;
  for (const s of secrets) {
    const entries = at(`secret ${secretName(s)}`, () => secretEntries(s));
    if (entries !== undefined) {
      keyring.add(entries);
      found++;
    }
  }
  return found === 0 ? undefined : keyring;
}

/** One pull secret's entries (undefined: not a pull secret, or empty); errors located in it. */
function secretEntries(s: SecretObject): [string, AuthCredential][] | undefined {
  const source = `secret ${secretName(s)}`;
  const origin = secretOrigin(s);
  if (s.type === SECRET_TYPE_DOCKER_CONFIG_JSON) {
    const text = secretValue(s, DOCKER_CONFIG_JSON_KEY);
    if (text !== undefined && text.length > 0) {
      return at(`data[${DOCKER_CONFIG_JSON_KEY}]`, () =>
        parseDockerConfigJson(text, source, origin, ""),
      );
    }
  }
  if (s.type === SECRET_TYPE_DOCKERCFG) {
    const text = secretValue(s, DOCKERCFG_KEY);
    if (text !== undefined && text.length > 0) {
      return at(`data[${DOCKERCFG_KEY}]`, () => parseDockercfg(text, source, origin, ""));
    }
  }
  return undefined;
}

/**
 * Checks one Secret given as a pull secret, as keyringFromSecrets reads it, before any pull:
 * throws CREDENTIALS_INVALID `secret NS/NAME: data[.dockerconfigjson]: auths["HOST"].auth: …`
 * (the upstream text, located). `requirePullType`: a Secret of another type, or without its
 * key, is an error too (the kubelet silently ignores it; named on purpose, it is a mistake).
 */
export function checkPullSecret(
  s: SecretObject,
  opts: { readonly requirePullType?: boolean } = {},
): void {
  const entries = at(`secret ${secretName(s)}`, () => secretEntries(s));
  if (entries !== undefined || opts.requirePullType !== true) return;
  const type = typeof s.type === "string" ? s.type : "";
  const key = type === SECRET_TYPE_DOCKERCFG ? DOCKERCFG_KEY : DOCKER_CONFIG_JSON_KEY;
  const why =
    type === SECRET_TYPE_DOCKER_CONFIG_JSON || type === SECRET_TYPE_DOCKERCFG
      ? `data[${key}] is missing or empty`
      : `type ${JSON.stringify(type)} is not ${SECRET_TYPE_DOCKER_CONFIG_JSON} or ${SECRET_TYPE_DOCKERCFG}: not a pull secret`;
  throw new KimgError("CREDENTIALS_INVALID", `secret ${secretName(s)}: ${why}`);
}
