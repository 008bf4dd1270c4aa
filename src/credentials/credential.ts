// One registry credential as the kubelet hands it to the CRI (runtimeapi.AuthConfig: username,
// password, auth, server_address, identity_token, registry_token) plus its email and where it came
// from; and the Go decoding helpers the sources share.
// Sources: kubernetes pkg/credentialprovider/keyring.go (AuthConfig, TrackedAuthConfig.Source),
// containerd internal/cri/server/images/image_pull.go `ParseAuth` (which field wins),
// Go encoding/base64 (StdEncoding / RawStdEncoding, "illegal base64 data at input byte N"),
// Go encoding/json (case-insensitive field names, "json: cannot unmarshal …").
//
// Secrets live in #private fields behind getters: they are not enumerable, so neither
// util.inspect, JSON.stringify, String() nor template literals can show them.

import { Buffer } from "node:buffer";
import { KimgError } from "../errors.ts";

/**
 * Where a credential came from, for KEP-2535 pulled records (kubelet keyring.go
 * `CredentialSource{Secret *SecretCoordinates; ServiceAccount *ServiceAccountCoordinates}`; nil =
 * node-wide): a pod pull secret (its coordinates; `uid` absent when the manifest has none), a
 * service-account-token credential provider plugin, or the node (config.json, plain plugins,
 * helpers, `--creds`).
 */
export type CredentialOrigin =
  | {
      readonly kind: "secret";
      readonly namespace: string;
      readonly name: string;
      readonly uid?: string;
    }
  | {
      readonly kind: "serviceAccountToken";
      readonly namespace: string;
      readonly name: string;
      readonly uid: string;
    }
  | { readonly kind: "node" };

/** The origin of node-level credentials (the default). */
export const NODE_ORIGIN: CredentialOrigin = Object.freeze({ kind: "node" });

/** The registry client's credential shape (structurally equal to src/registry Credential). */
export type RegistryCredential = (
  | { username: string; password: string }
  | { identityToken: string }
  | { registryToken: string }
) & {
  /** Where it came from (`--creds`, `secret ns/name`, a file's path): for messages, never secret. */
  source?: string;
};

export interface CredentialInit {
  username?: string;
  password?: string;
  /** base64(username:password), kept as given. */
  auth?: string;
  email?: string;
  serverAddress?: string;
  identityToken?: string;
  registryToken?: string;
  /** Where it came from: `--creds`, `secret ns/name`, a file path, `helper <name>`. */
  source: string;
  /** Structured origin (KEP-2535); default NODE_ORIGIN. */
  origin?: CredentialOrigin;
}

const INSPECT = Symbol.for("nodejs.util.inspect.custom");

export class AuthCredential {
  readonly username: string;
  readonly email: string;
  readonly serverAddress: string;
  readonly source: string;
  readonly origin: CredentialOrigin;
  readonly #password: string;
  readonly #auth: string;
  readonly #identityToken: string;
  readonly #registryToken: string;

  constructor(init: CredentialInit) {
    this.username = init.username ?? "";
    this.email = init.email ?? "";
    this.serverAddress = init.serverAddress ?? "";
    this.source = init.source;
    this.origin = init.origin ?? NODE_ORIGIN;
    this.#password = init.password ?? "";
    this.#auth = init.auth ?? "";
    this.#identityToken = init.identityToken ?? "";
    this.#registryToken = init.registryToken ?? "";
  }

  get password(): string {
    return this.#password;
  }
  get auth(): string {
    return this.#auth;
  }
  get identityToken(): string {
    return this.#identityToken;
  }
  get registryToken(): string {
    return this.#registryToken;
  }

  /**
   * What the registry client sends, as containerd's ParseAuth chooses: username+password, else
   * identity token, else the decoded `auth` field, else the registry token (containerd ignores
   * registry_token; kimg's client sends it as Bearer, like ggcr). Undefined: nothing usable.
   */
  toRegistryCredential(): RegistryCredential | undefined {
    // The source rides along, not enumerable: messages can name it, comparisons and JSON skip it.
    const labelled = (c: RegistryCredential): RegistryCredential =>
      this.source === ""
        ? c
        : Object.defineProperty(c, "source", { value: this.source, enumerable: false });
    if (this.username !== "")
      return labelled({ username: this.username, password: this.#password });
    if (this.#identityToken !== "") return labelled({ identityToken: this.#identityToken });
    if (this.#auth !== "") {
      try {
        const { username, password } = decodeAuthField(this.#auth);
        return labelled({ username, password });
      } catch {
        // fall through: an undecodable auth is no credential
      }
    }
    if (this.#registryToken !== "") return labelled({ registryToken: this.#registryToken });
    return undefined;
  }

  /** Safe summary: no secret, only which kinds of secret are present. */
  toString(): string {
    const kinds = [
      this.#password !== "" ? "password" : "",
      this.#auth !== "" ? "auth" : "",
      this.#identityToken !== "" ? "identityToken" : "",
      this.#registryToken !== "" ? "registryToken" : "",
    ].filter((k) => k !== "");
    return `AuthCredential(${JSON.stringify(this.username)} from ${this.source}${
      kinds.length > 0 ? `; has ${kinds.join(", ")}` : ""
    })`;
  }

  toJSON(): Record<string, string> {
    return { username: this.username, source: this.source, secrets: "[redacted]" };
  }

  [INSPECT](): string {
    return this.toString();
  }
}

// ---- Go encoding/base64 ----------------------------------------------------------------------

const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const DECODE = new Int16Array(256).fill(-1);
for (let i = 0; i < B64.length; i++) DECODE[B64.charCodeAt(i)] = i;

/** Go's base64.CorruptInputError text. */
export class Base64Error extends Error {
  constructor(readonly offset: number) {
    super(`illegal base64 data at input byte ${offset}`);
  }
}

/**
 * Go `base64.StdEncoding.DecodeString` (padded) / `RawStdEncoding.DecodeString` (unpadded),
 * non-strict (CR and LF skipped, trailing bits ignored). Offsets are byte offsets, as in Go.
 */
export function goBase64Decode(text: string, padded: boolean): Buffer {
  const src = Buffer.from(text, "utf8");
  const out: number[] = [];
  let si = 0;
  while (si < src.length) {
    const q: number[] = [];
    let dlen = 4;
    let j = 0;
    for (; j < 4; j++) {
      if (si === src.length) {
        if (j === 0) return Buffer.from(out);
        if (j === 1 || padded) throw new Base64Error(si - j);
        dlen = j;
        break;
      }
      const c = src[si] ?? 0;
      si++;
      const v = DECODE[c] ?? -1;
      if (v >= 0) {
        q.push(v);
        continue;
      }
      if (c === 0x0a || c === 0x0d) {
        j--;
        continue;
      }
      if (c !== 0x3d || !padded) throw new Base64Error(si - 1);
      // padding
      if (j === 0 || j === 1) throw new Base64Error(si - 1);
      if (j === 2) {
        while (si < src.length && (src[si] === 0x0a || src[si] === 0x0d)) si++;
        if (si === src.length) throw new Base64Error(src.length);
        if (src[si] !== 0x3d) throw new Base64Error(si - 1);
        si++;
      }
      while (si < src.length && (src[si] === 0x0a || src[si] === 0x0d)) si++;
      if (si < src.length) throw new Base64Error(si);
      dlen = j;
      break;
    }
    const [a = 0, b = 0, c = 0, d = 0] = q;
    const n = (a << 18) | (b << 12) | (c << 6) | d;
    if (dlen >= 2) out.push((n >> 16) & 0xff);
    if (dlen >= 3) out.push((n >> 8) & 0xff);
    if (dlen >= 4) out.push(n & 0xff);
    if (dlen < 4) return Buffer.from(out);
  }
  return Buffer.from(out);
}

export const ERR_AUTH_FIELD =
  "unable to parse auth field, must be formatted as base64(username:password)";

/**
 * kubelet `decodeDockerConfigFieldAuth` (pkg/credentialprovider/config.go): padded when the
 * trimmed field ends in "=", else unpadded; split at the first ":". Throws CREDENTIALS_INVALID
 * with Go's text; never includes the field or its decoding.
 */
export function decodeAuthField(field: string): { username: string; password: string } {
  let decoded: string;
  try {
    decoded = goBase64Decode(field, field.trim().endsWith("=")).toString("utf8");
  } catch (e) {
    throw new KimgError("CREDENTIALS_INVALID", (e as Error).message);
  }
  const i = decoded.indexOf(":");
  if (i < 0) throw new KimgError("CREDENTIALS_INVALID", ERR_AUTH_FIELD);
  return { username: decoded.slice(0, i), password: decoded.slice(i + 1) };
}

// ---- Go encoding/json helpers ----------------------------------------------------------------

/** Go's name for a JSON value's kind in UnmarshalTypeError messages. */
export function goJsonKind(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  if (typeof v === "object") return "object";
  if (typeof v === "boolean") return "bool";
  return typeof v; // "number" | "string"
}

export { isJsonObject as isObject } from "../json/index.ts";

/**
 * Reads string fields of a JSON object as Go's json.Unmarshal into a struct does: names match
 * case-insensitively, later keys win, null leaves the field alone, other kinds are an error
 * `json: cannot unmarshal <kind> into Go struct field <goType>.<name> of type string`.
 */
export function goStringFields<K extends string>(
  obj: Record<string, unknown>,
  names: readonly K[],
  goType: string,
): Partial<Record<K, string>> {
  const out: Partial<Record<K, string>> = {};
  for (const [key, value] of Object.entries(obj)) {
    const name = names.find((n) => n.toLowerCase() === key.toLowerCase());
    if (name === undefined || value === null) continue;
    if (typeof value !== "string") {
      throw new KimgError(
        "CREDENTIALS_INVALID",
        `json: cannot unmarshal ${goJsonKind(value)} into Go struct field ${goType}.${name} of type string`,
      );
    }
    out[name] = value;
  }
  return out;
}

/** The value of a field matched case-insensitively (last wins), as Go's decoder does. */
export function goField(obj: Record<string, unknown>, name: string): unknown {
  let found: unknown;
  for (const [key, value] of Object.entries(obj)) {
    if (key.toLowerCase() === name.toLowerCase()) found = value;
  }
  return found;
}

/** JSON.parse without echoing the input (V8's messages quote it; it may hold secrets). */
export function parseJsonQuietly(text: string, what: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new KimgError(
      "CREDENTIALS_INVALID",
      what === "" ? "invalid JSON" : `${what}: invalid JSON`,
    );
  }
}

// ---- sources ---------------------------------------------------------------------------------

/** One place credentials come from; the chain asks each in order. */
export interface CredentialProvider {
  /** For messages and `AuthCredential.source`-style explanations. */
  readonly name: string;
  /**
   * The credentials for `repo`: a normalized repository without tag or digest
   * (`docker.io/library/nginx`, `quay.io/org/app`) or a host alone, written `localhost:5000/` (see chain.ts `lookup`).
   * In the order they should be tried; empty when none.
   */
  lookupAll(repo: string, signal?: AbortSignal): Promise<AuthCredential[]>;
}

/** The registry host of a normalized repository (its first `/`-separated component). */
export function repoHost(repo: string): string {
  const slash = repo.indexOf("/");
  return slash < 0 ? repo : repo.slice(0, slash);
}
