// The kubelet's node credentials: a Docker `config.json` (or legacy `.dockercfg`) found on the
// node, matched with the keyring rules (keyring.ts), re-read at most every 5 minutes.
// Sources: kubernetes pkg/credentialprovider/config.go (`DefaultDockerConfigJSONPaths`,
// `DefaultDockercfgPaths`, `ReadDockerConfigJSONFile`, `ReadDockercfgFile`,
// `ReadDockerConfigFile`: config.json first in every path, `.dockercfg` only when none is
// valid), provider.go (`defaultDockerConfigProvider`, `CachingDockerConfigProvider` with
// `Lifetime: 5 * time.Minute`: the result, even an empty one, is kept until
// `time.Now().Before(expiration)` fails), cmd/kubelet/app/server.go
// (`SetPreferredDockercfgPath(rootDirectory)`); ../../shared/specs/kubelet.md §7.1.
//
// Search order — config.json: `<rootDir>`, `<cwd>` (Go's workingDirPath "" made absolute),
// `$HOME/.docker`, `/.docker`; `.dockercfg`: `<rootDir>`, `<cwd>`, `$HOME`, `/`. A file that is
// missing, unreadable or not valid (bad JSON, bad `auth`) is skipped, as upstream does (it logs at
// V(4)); `onError` hears about the unreadable and invalid ones. Credentials are node-level
// (origin `{kind: "node"}`, so KEP-2535 records them as `nodePodsAccessible`).
//
// Differences: `rootDir` defaults to "" (Go's preferredPath before the kubelet sets it, which
// resolves to the working directory) — callers pass the kubelet root dir; kimg caps node files at
// 10 MiB (a bigger one is skipped).

import { readFile, stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import { KimgError } from "../errors.ts";
import type { AuthCredential, CredentialProvider } from "./credential.ts";
import { NODE_ORIGIN } from "./credential.ts";
import { DockerKeyring } from "./keyring.ts";
import { parseDockerConfigJson, parseDockercfg } from "./pull-secrets.ts";

/** provider.go: `CachingDockerConfigProvider.Lifetime` of the node's config. */
export const NODE_CONFIG_LIFETIME_MS = 5 * 60 * 1000;
const MAX_FILE = 10 * 1024 * 1024;

export interface NodeDockerConfigOptions {
  /** The kubelet root dir (`--root-dir`, default /var/lib/kubelet upstream); default "". */
  rootDir?: string | undefined;
  /** The kubelet's working directory; default process.cwd(). */
  cwd?: string | undefined;
  /** `$HOME` (Go os.UserHomeDir); default process.env.HOME ?? "". */
  home?: string | undefined;
  /** Clock in ms; default Date.now. */
  now?: (() => number) | undefined;
  /** Cache lifetime; default 5 minutes. */
  lifetimeMs?: number | undefined;
  /** Told about node files that exist but were skipped (unreadable or invalid). */
  onError?: ((error: KimgError) => void) | undefined;
}

export interface NodeDockerConfig {
  /** The file the entries came from; undefined when none was found. */
  path: string | undefined;
  entries: [string, AuthCredential][];
}

/** config.go DefaultDockerConfigJSONPaths / DefaultDockercfgPaths, made absolute as Go does. */
export function nodeDockerConfigPaths(opts: NodeDockerConfigOptions = {}): {
  configJson: string[];
  dockercfg: string[];
} {
  const cwd = opts.cwd ?? process.cwd();
  const root = opts.rootDir ?? "";
  const home = opts.home ?? process.env.HOME ?? "";
  // filepath.Abs(filepath.Join(dir, file)): a relative dir ("" included) resolves against cwd
  const abs = (dir: string, file: string) => resolve(cwd, join(dir, file));
  return {
    configJson: [root, "", join(home, ".docker"), "/.docker"].map((d) => abs(d, "config.json")),
    dockercfg: [root, "", home, "/"].map((d) => abs(d, ".dockercfg")),
  };
}

async function readNodeFile(
  path: string,
  parse: (text: string) => [string, AuthCredential][],
  onError: ((e: KimgError) => void) | undefined,
): Promise<[string, AuthCredential][] | undefined> {
  let text: string;
  try {
    const st = await stat(path);
    if (st.isFile() && st.size > MAX_FILE) {
      onError?.(new KimgError("INPUT_UNREADABLE", `${path}: larger than ${MAX_FILE} bytes`));
      return undefined;
    }
    text = await readFile(path, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== "ENOENT" && code !== "ENOTDIR") {
      onError?.(
        new KimgError("INPUT_UNREADABLE", `while trying to read ${path}: ${code ?? "error"}`),
      );
    }
    return undefined;
  }
  try {
    return parse(text);
  } catch (e) {
    onError?.(new KimgError("CREDENTIALS_INVALID", `${path}: ${(e as Error).message}`));
    return undefined;
  }
}

/**
 * config.go `ReadDockerConfigFile`: the first valid config.json of the search path, else the
 * first valid `.dockercfg`, else no entries.
 */
export async function readNodeDockerConfig(
  opts: NodeDockerConfigOptions = {},
): Promise<NodeDockerConfig> {
  const paths = nodeDockerConfigPaths(opts);
  for (const path of paths.configJson) {
    const entries = await readNodeFile(
      path,
      (t) => parseDockerConfigJson(t, path, NODE_ORIGIN),
      opts.onError,
    );
    if (entries !== undefined) return { path, entries };
  }
  for (const path of paths.dockercfg) {
    const entries = await readNodeFile(
      path,
      (t) => parseDockercfg(t, path, NODE_ORIGIN),
      opts.onError,
    );
    if (entries !== undefined) return { path, entries };
  }
  return { path: undefined, entries: [] };
}

/** The node's credentials as a source: provider.go's caching provider + BasicDockerKeyring. */
export function nodeDockerConfigSource(
  opts: NodeDockerConfigOptions = {},
): CredentialProvider & { current(): Promise<NodeDockerConfig> } {
  const now = opts.now ?? Date.now;
  const lifetime = opts.lifetimeMs ?? NODE_CONFIG_LIFETIME_MS;
  let cached: Promise<{ config: NodeDockerConfig; keyring: DockerKeyring }> | undefined;
  let expiration = Number.NEGATIVE_INFINITY;
  const load = () => {
    // CachingDockerConfigProvider.Provide: cached while now < expiration
    if (cached === undefined || !(now() < expiration)) {
      cached = readNodeDockerConfig(opts).then((config) => {
        const keyring = new DockerKeyring();
        keyring.add(config.entries);
        return { config, keyring };
      });
      expiration = now() + lifetime;
    }
    return cached;
  };
  return {
    name: "node docker config",
    async current() {
      return (await load()).config;
    },
    async lookupAll(repo) {
      return (await load()).keyring.lookup(repo);
    },
  };
}
