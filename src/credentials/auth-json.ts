// containers' auth.json (Podman, Skopeo, CRI-O, Buildah).
// Sources: containers/image pkg/docker/config/config.go (`getAuthFilePaths`, `getPathToAuth`,
// `findCredentialsInFile`, `authKeysForKey`, `normalizeAuthFileKey`, `normalizeRegistry`,
// `decodeDockerAuth`); docs/containers-auth.json.5.md; containers/common pkg/auth
// (REGISTRY_AUTH_FILE); registry.md §3.3.
//
// Order: `$REGISTRY_AUTH_FILE` alone when set (a user-specified path disables the others), else
// `${XDG_RUNTIME_DIR}/containers/auth.json` (or `/run/containers/<uid>/auth.json`),
// `${XDG_CONFIG_HOME:-~/.config}/containers/auth.json`, `$DOCKER_CONFIG/config.json` or
// `~/.docker/config.json`, legacy `~/.dockercfg`. The first file with an answer wins.
//
// Differences from upstream: registries.conf `credential-helpers` is not read (the default,
// `containers-auth.json`, is what is implemented); a helper's "not found" falls through to the
// next file as containers/image does; Go ranges over the map for the normalized-key fallback
// (random among equal keys), kimg takes file order. Only `auth` and `identitytoken` are read, as
// upstream (`username`/`password` fields of auth.json are ignored there too); an `auth` without
// ":" makes the entry empty, identity token included (newest config.go; older versions kept it).

import { readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { KimgError } from "../errors.ts";
import {
  AuthCredential,
  type CredentialProvider,
  goBase64Decode,
  goField,
  isObject,
  parseJsonQuietly,
  repoHost,
} from "./credential.ts";
import { type HelperOptions, helperGet } from "./helper.ts";

export interface AuthFilePath {
  path: string;
  /** `.dockercfg` shape: the whole file is the auths map, keys are URLs. */
  legacyFormat: boolean;
}

export interface AuthPathOptions {
  env?: NodeJS.ProcessEnv | undefined;
  home?: string | undefined;
  /** For `/run/containers/<uid>/auth.json`; default process.getuid(). */
  uid?: number | undefined;
}

/** config.go `getAuthFilePaths` (+ REGISTRY_AUTH_FILE as containers/common passes it). */
export function authFilePaths(opts: AuthPathOptions = {}): AuthFilePath[] {
  const env = opts.env ?? process.env;
  const home = opts.home ?? homedir();
  const explicit = env.REGISTRY_AUTH_FILE;
  if (explicit !== undefined && explicit !== "") return [{ path: explicit, legacyFormat: false }];
  const paths: AuthFilePath[] = [];
  const runtime = env.XDG_RUNTIME_DIR;
  const uid = opts.uid ?? process.getuid?.() ?? 0;
  paths.push({
    path:
      runtime !== undefined && runtime !== ""
        ? join(runtime, "containers", "auth.json")
        : join("/run/containers", String(uid), "auth.json"),
    legacyFormat: false,
  });
  const xdg = env.XDG_CONFIG_HOME;
  paths.push({
    path: join(
      xdg !== undefined && xdg !== "" ? xdg : join(home, ".config"),
      "containers",
      "auth.json",
    ),
    legacyFormat: false,
  });
  const dockerConfig = env.DOCKER_CONFIG;
  paths.push({
    path:
      dockerConfig !== undefined && dockerConfig !== ""
        ? join(dockerConfig, "config.json")
        : join(home, ".docker", "config.json"),
    legacyFormat: false,
  });
  paths.push({ path: join(home, ".dockercfg"), legacyFormat: true });
  return paths;
}

/** `reg/ns/repo` → [`reg/ns/repo`, `reg/ns`, `reg`] (config.go `authKeysForKey`). */
export function authKeysForKey(key: string): string[] {
  const out: string[] = [];
  let k = key;
  for (;;) {
    out.push(k);
    const i = k.lastIndexOf("/");
    if (i < 0) return out;
    k = k.slice(0, i);
  }
}

/** config.go `normalizeRegistry`. */
export function normalizeRegistry(registry: string): string {
  return registry === "registry-1.docker.io" || registry === "docker.io"
    ? "index.docker.io"
    : registry;
}

/** config.go `normalizeAuthFileKey`. */
export function normalizeAuthFileKey(key: string, legacyFormat: boolean): string {
  let stripped = key;
  if (stripped.startsWith("http://")) stripped = stripped.slice(7);
  else if (stripped.startsWith("https://")) stripped = stripped.slice(8);
  if (legacyFormat || stripped !== key) {
    const slash = stripped.indexOf("/");
    if (slash >= 0) stripped = stripped.slice(0, slash);
  }
  return normalizeRegistry(stripped);
}

interface ParsedAuthFile {
  auths: [string, Record<string, unknown>][];
  credHelpers: Record<string, string>;
}

function parseAuthFile(text: string, p: AuthFilePath): ParsedAuthFile {
  const what = `reading JSON file "${p.path}": unmarshaling JSON at "${p.path}"`;
  const doc = parseJsonQuietly(text, what);
  if (!isObject(doc)) throw new KimgError("CREDENTIALS_INVALID", `${what}: not an object`);
  const out: ParsedAuthFile = { auths: [], credHelpers: {} };
  const auths = p.legacyFormat ? doc : goField(doc, "auths");
  if (isObject(auths)) {
    for (const [k, v] of Object.entries(auths)) if (isObject(v)) out.auths.push([k, v]);
  }
  if (!p.legacyFormat) {
    const helpers = goField(doc, "credHelpers");
    if (isObject(helpers)) {
      for (const [k, v] of Object.entries(helpers))
        if (typeof v === "string") out.credHelpers[k] = v;
    }
  }
  return out;
}

/** config.go `decodeDockerAuth`: bad base64 is an error; no ":" is an empty entry (skipped). */
function decodeEntry(path: string, key: string, entry: Record<string, unknown>): AuthCredential {
  const auth = goField(entry, "auth");
  const token = goField(entry, "identitytoken");
  const identityToken = typeof token === "string" ? token : "";
  let decoded: string;
  try {
    decoded = goBase64Decode(typeof auth === "string" ? auth : "", true).toString("utf8");
  } catch (e) {
    throw new KimgError(
      "CREDENTIALS_INVALID",
      `${path}: auths[${JSON.stringify(key)}].auth: ${(e as Error).message}`,
    );
  }
  const i = decoded.indexOf(":");
  if (i < 0) return new AuthCredential({ serverAddress: key, source: path });
  return new AuthCredential({
    username: decoded.slice(0, i),
    password: decoded.slice(i + 1).replace(/^\0+|\0+$/g, ""),
    identityToken,
    serverAddress: key,
    source: path,
  });
}

function isEmpty(c: AuthCredential): boolean {
  return c.username === "" && c.password === "" && c.identityToken === "";
}

/**
 * config.go `findCredentialsInFile`: `credHelpers[registry]`; then the keys `key`, its parents,
 * the registry (legacy files: the registry only) exactly; then normalized keys.
 */
export async function findCredentialsInFile(
  text: string,
  p: AuthFilePath,
  key: string,
  registry: string,
  helper: HelperOptions = {},
): Promise<AuthCredential | undefined> {
  const file = parseAuthFile(text, p);
  const helperName = file.credHelpers[registry];
  if (helperName !== undefined) return helperGet(helperName, registry, helper);
  const keys = p.legacyFormat ? [registry] : authKeysForKey(key);
  for (const k of keys) {
    const hit = file.auths.findLast(([name]) => name === k);
    if (hit !== undefined) return decodeEntry(p.path, k, hit[1]);
  }
  const normalized = normalizeRegistry(registry);
  for (const [k, v] of file.auths) {
    if (normalizeAuthFileKey(k, p.legacyFormat) === normalized) return decodeEntry(p.path, k, v);
  }
  return undefined;
}

export interface AuthJsonSourceOptions extends AuthPathOptions {
  /** Explicit files instead of authFilePaths(). */
  paths?: AuthFilePath[] | undefined;
  helper?: HelperOptions | undefined;
}

/** containers/image `GetCredentials` over the auth files: the first file with an answer wins. */
export function authJsonSource(opts: AuthJsonSourceOptions = {}): CredentialProvider {
  const paths = opts.paths ?? authFilePaths(opts);
  const texts = new Map<string, Promise<string | undefined>>();
  const read = (path: string) => {
    let t = texts.get(path);
    if (t === undefined) {
      t = readFile(path, "utf8").catch((e: NodeJS.ErrnoException) => {
        if (e.code === "ENOENT" || e.code === "ENOTDIR") return undefined;
        throw new KimgError("INPUT_UNREADABLE", `reading ${path}: ${e.message}`);
      });
      texts.set(path, t);
    }
    return t;
  };
  return {
    name: "auth.json",
    async lookupAll(repo, signal) {
      const registry = repoHost(repo);
      const helper: HelperOptions = { ...opts.helper };
      if (opts.env !== undefined && helper.env === undefined) helper.env = opts.env;
      if (signal !== undefined) helper.signal = signal;
      for (const p of paths) {
        const text = await read(p.path);
        if (text === undefined) continue;
        const c = await findCredentialsInFile(text, p, repo, registry, helper);
        if (c !== undefined && !isEmpty(c)) return [c];
      }
      return [];
    },
  };
}
