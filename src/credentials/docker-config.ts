// Docker's client config: `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`.
// Sources: docker/cli cli/config/config.go (`Dir`, `ConfigFileName`, DOCKER_CONFIG is a directory),
// cli/config/configfile/file.go (`LoadFromReader`, `decodeAuth`, `GetAuthConfig`,
// `getConfiguredCredentialStore`, `getAuthConfigKey`), cli/config/credentials/file_store.go
// (`Get`, `ConvertToHostname`), native_store.go (helper lookups); registry.md §3.1.
//
// Differences from upstream:
// - Docker warns and carries on with an empty config when config.json is broken; kimg throws
//   CREDENTIALS_INVALID (`loading config file: <path>: <reason>`), since the user pointed at it.
// - `DOCKER_AUTH_CONFIG` (newer docker/cli) is not read.
// - Go ranges over the `auths` map for the legacy-key fallback (random pick when two keys have
//   the same host); kimg takes the first in file order.
// - A helper's answer does not get the file's `email` merged in (unused for pulls).

import { readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { KimgError } from "../errors.ts";
import {
  AuthCredential,
  type CredentialProvider,
  goBase64Decode,
  goField,
  goJsonKind,
  goStringFields,
  isObject,
  parseJsonQuietly,
  repoHost,
} from "./credential.ts";
import { type HelperOptions, helperGet } from "./helper.ts";

/** registry.IndexServer: the key docker uses for Docker Hub. */
export const INDEX_SERVER = "https://index.docker.io/v1/";

export interface DockerConfigFile {
  path: string;
  /** `auths`, in file order, secrets decoded. */
  auths: [string, AuthCredential][];
  credsStore: string;
  credHelpers: Record<string, string>;
}

/** config.go: `$DOCKER_CONFIG/config.json`, else `<home>/.docker/config.json`. */
export function dockerConfigPath(env: NodeJS.ProcessEnv = process.env, home = homedir()): string {
  const dir = env.DOCKER_CONFIG;
  return join(dir !== undefined && dir !== "" ? dir : join(home, ".docker"), "config.json");
}

/** file.go `getAuthConfigKey`: Docker Hub's key is `https://index.docker.io/v1/`. */
export function getAuthConfigKey(host: string): string {
  return host === "docker.io" || host === "index.docker.io" ? INDEX_SERVER : host;
}

/** file_store.go `ConvertToHostname`: strip `http(s)://` and any path. */
export function convertToHostname(url: string): string {
  let s = url;
  if (s.startsWith("http://")) s = s.slice(7);
  else if (s.startsWith("https://")) s = s.slice(8);
  const slash = s.indexOf("/");
  return slash < 0 ? s : s.slice(0, slash);
}

/** file.go `decodeAuth`: padded base64, split at the first ":", user non-empty, NULs trimmed. */
export function decodeDockerAuth(auth: string): { username: string; password: string } {
  let decoded: string;
  try {
    decoded = goBase64Decode(auth, true).toString("utf8");
  } catch (e) {
    throw new KimgError("CREDENTIALS_INVALID", (e as Error).message);
  }
  const i = decoded.indexOf(":");
  if (i <= 0) throw new KimgError("CREDENTIALS_INVALID", "invalid auth configuration file");
  return {
    username: decoded.slice(0, i),
    password: decoded.slice(i + 1).replace(/^\0+|\0+$/g, ""),
  };
}

const AUTH_FIELDS = [
  "username",
  "password",
  "auth",
  "email",
  "serveraddress",
  "identitytoken",
  "registrytoken",
] as const;

/** file.go `LoadFromReader`. Throws CREDENTIALS_INVALID naming the file, never its content. */
export function parseDockerConfig(text: string, path: string): DockerConfigFile {
  const wrap = (msg: string) =>
    new KimgError("CREDENTIALS_INVALID", `loading config file: ${path}: ${msg}`);
  let doc: unknown;
  try {
    doc = parseJsonQuietly(text, "config");
  } catch {
    throw wrap("invalid JSON");
  }
  if (!isObject(doc)) throw wrap(`json: cannot unmarshal ${goJsonKind(doc)} into Go value`);
  const file: DockerConfigFile = { path, auths: [], credsStore: "", credHelpers: {} };
  const auths = goField(doc, "auths");
  if (auths !== undefined && auths !== null) {
    if (!isObject(auths)) throw wrap(`json: cannot unmarshal ${goJsonKind(auths)} into auths`);
    for (const [key, entry] of Object.entries(auths)) {
      // Located: the registry key and the field (docker says only the file).
      const at = `auths[${JSON.stringify(key)}]`;
      if (entry !== null && !isObject(entry)) {
        throw wrap(`${at}: json: cannot unmarshal ${goJsonKind(entry)} into auths entry`);
      }
      let f: Partial<Record<(typeof AUTH_FIELDS)[number], string>>;
      try {
        f = entry === null ? {} : goStringFields(entry, AUTH_FIELDS, "types.AuthConfig");
      } catch (e) {
        throw wrap(`${at}: ${(e as Error).message}`);
      }
      let username = f.username ?? "";
      let password = f.password ?? "";
      if ((f.auth ?? "") !== "") {
        try {
          ({ username, password } = decodeDockerAuth(f.auth ?? ""));
        } catch (e) {
          throw wrap(`${at}.auth: ${(e as Error).message}`);
        }
      }
      file.auths.push([
        key,
        new AuthCredential({
          username,
          password,
          email: f.email ?? "",
          serverAddress: key, // LoadFromReader: ac.ServerAddress = addr
          identityToken: f.identitytoken ?? "",
          registryToken: f.registrytoken ?? "",
          source: path,
        }),
      ]);
    }
  }
  const store = goField(doc, "credsStore");
  if (typeof store === "string") file.credsStore = store;
  const helpers = goField(doc, "credHelpers");
  if (isObject(helpers)) {
    for (const [k, v] of Object.entries(helpers))
      if (typeof v === "string") file.credHelpers[k] = v;
  }
  return file;
}

/** file_store.go `Get`: exact key, else the first key whose hostname equals `key`. */
export function fileStoreGet(file: DockerConfigFile, key: string): AuthCredential | undefined {
  const exact = file.auths.findLast(([k]) => k === key);
  if (exact !== undefined) return exact[1];
  return file.auths.find(([k]) => convertToHostname(k) === key)?.[1];
}

function hasSecret(c: AuthCredential): boolean {
  return c.username !== "" || c.password !== "" || c.identityToken !== "" || c.registryToken !== "";
}

/**
 * file.go `GetAuthConfig(key)` for a registry host: `credHelpers[key]`, else `credsStore`, else
 * the file's `auths`. Undefined when nothing (or an empty placeholder) is stored.
 */
export async function dockerConfigLookup(
  file: DockerConfigFile,
  host: string,
  helper: HelperOptions = {},
): Promise<AuthCredential | undefined> {
  const key = getAuthConfigKey(host);
  const helperName = file.credHelpers[key] ?? (file.credsStore !== "" ? file.credsStore : "");
  if (helperName !== "") return helperGet(helperName, key, helper);
  const c = fileStoreGet(file, key);
  return c !== undefined && hasSecret(c) ? c : undefined;
}

export interface DockerConfigSourceOptions {
  /** The config.json to read; default from DOCKER_CONFIG / home. */
  path?: string | undefined;
  env?: NodeJS.ProcessEnv | undefined;
  home?: string | undefined;
  helper?: HelperOptions | undefined;
}

/** Reads `path` once (missing file = no credentials), then looks hosts up as docker does. */
export function dockerConfigSource(opts: DockerConfigSourceOptions = {}): CredentialProvider {
  const path = opts.path ?? dockerConfigPath(opts.env, opts.home);
  let loaded: Promise<DockerConfigFile | undefined> | undefined;
  const load = async () => {
    let text: string;
    try {
      text = await readFile(path, "utf8");
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw new KimgError(
        "INPUT_UNREADABLE",
        `loading config file: ${path}: ${(e as Error).message}`,
      );
    }
    return parseDockerConfig(text, path);
  };
  return {
    name: path,
    async lookupAll(repo, signal) {
      loaded ??= load();
      const file = await loaded;
      if (file === undefined) return [];
      const helper: HelperOptions = { ...opts.helper };
      if (opts.env !== undefined && helper.env === undefined) helper.env = opts.env;
      if (signal !== undefined) helper.signal = signal;
      const c = await dockerConfigLookup(file, repoHost(repo), helper);
      return c === undefined ? [] : [c];
    },
  };
}
