// The kubelet's credential keyring: pure matching of registry keys against image repositories.
// Source: kubernetes pkg/credentialprovider/keyring.go (`BasicDockerKeyring.Add`/`Lookup`,
// `isDefaultRegistryMatch`, `ParseSchemelessURL`, `SplitURL`, `URLsMatch`), tests ported from
// keyring_test.go; ../../shared/specs/kubelet.md §7.2–7.3.
//
// Differences from upstream (all where Go has no defined order or we cannot mirror Go exactly):
// - Go ranges over a map when adding one config, so two keys of one config that normalize to the
//   same key (`quay.io` and `https://quay.io/v1/`) come out in random order; here, in JSON order.
// - Go's url.Parse is approximated (parseGoUrl below): control characters, bad ports, bad
//   `%` escapes in the path and characters Go refuses in hosts make the entry skipped, as there;
//   any `%` in a host is refused here (Go allows a few escapes, e.g. in IPv6 zones).

import { Buffer } from "node:buffer";
import { pathMatch } from "../ref/index.ts";
import type { AuthCredential } from "./credential.ts";

/** The key under which `https://index.docker.io/v1/` lands (keyring.go defaultRegistryHost). */
export const DEFAULT_REGISTRY_HOST = "index.docker.io";

export interface GoUrl {
  /** host[:port], as Go's URL.Host. */
  host: string;
  /** Unescaped path, as Go's URL.Path. */
  path: string;
}

// Go net/url shouldEscape(c, encodeHost) == false for these ASCII characters.
const HOST_OK = /^[A-Za-z0-9\-._~!$&'()*+,;=:[\]<>"]*$/;

function unescapePath(s: string): string | undefined {
  if (!s.includes("%")) return s;
  const bytes: number[] = [];
  const enc = new TextEncoder();
  for (let i = 0; i < s.length; i++) {
    if (s[i] === "%") {
      const h = s.slice(i + 1, i + 3);
      if (!/^[0-9A-Fa-f]{2}$/.test(h)) return undefined;
      bytes.push(Number.parseInt(h, 16));
      i += 2;
    } else {
      bytes.push(...enc.encode(s[i] ?? ""));
    }
  }
  return new TextDecoder().decode(new Uint8Array(bytes));
}

/** Go `url.Parse` for `http(s)://…` strings, reduced to Host and Path; undefined = error. */
export function parseGoUrl(value: string): GoUrl | undefined {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: Go rejects control characters
  if (/[\x00-\x1f\x7f]/.test(value)) return undefined;
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/(.*)$/s.exec(value);
  if (m === null) return undefined;
  let rest = m[2] ?? "";
  const hash = rest.indexOf("#");
  if (hash >= 0) rest = rest.slice(0, hash);
  const q = rest.indexOf("?");
  if (q >= 0) rest = rest.slice(0, q);
  const slash = rest.indexOf("/");
  let authority = slash >= 0 ? rest.slice(0, slash) : rest;
  const rawPath = slash >= 0 ? rest.slice(slash) : "";
  const at = authority.lastIndexOf("@");
  if (at >= 0) authority = authority.slice(at + 1);
  const host = authority;
  if (host.startsWith("[")) {
    const end = host.indexOf("]");
    if (end < 0) return undefined;
    const port = host.slice(end + 1);
    if (port !== "" && !/^:[0-9]*$/.test(port)) return undefined;
  } else {
    const colon = host.lastIndexOf(":");
    if (colon >= 0 && !/^:[0-9]*$/.test(host.slice(colon))) return undefined;
  }
  if (!HOST_OK.test(host.replace(/[\u0080-\uffff]/g, ""))) return undefined;
  const path = unescapePath(rawPath);
  if (path === undefined) return undefined;
  return { host, path };
}

/** keyring.go `ParseSchemelessURL`: parse `https://` + s. */
export function parseSchemelessUrl(s: string): GoUrl | undefined {
  return parseGoUrl(`https://${s}`);
}

/** Go `net.SplitHostPort`; undefined on error. */
function splitHostPort(hostport: string): [string, string] | undefined {
  let host: string;
  let port: string;
  if (hostport.startsWith("[")) {
    const end = hostport.indexOf("]");
    if (end < 0 || end + 1 === hostport.length || hostport[end + 1] !== ":") return undefined;
    host = hostport.slice(1, end);
    port = hostport.slice(end + 2);
    if (host.includes("[")) return undefined;
  } else {
    const i = hostport.lastIndexOf(":");
    if (i < 0) return undefined;
    host = hostport.slice(0, i);
    port = hostport.slice(i + 1);
    if (host.includes(":") || host.includes("[") || host.includes("]")) return undefined;
  }
  if (port.includes("[") || port.includes("]")) return undefined;
  return [host, port];
}

/** keyring.go `SplitURL`: host labels and port ("" when none or unparsable). */
export function splitUrl(url: GoUrl): { parts: string[]; port: string } {
  const hp = splitHostPort(url.host);
  const [host, port] = hp ?? [url.host, ""];
  return { parts: host.split("."), port };
}

/**
 * keyring.go `URLsMatch`: ports string-equal, same number of host labels, each key label a
 * `filepath.Match` glob of the target's, key path a plain prefix of the target path.
 */
export function urlsMatch(glob: GoUrl, target: GoUrl): boolean {
  const g = splitUrl(glob);
  const t = splitUrl(target);
  if (g.port !== t.port) return false;
  if (g.parts.length !== t.parts.length) return false;
  if (!target.path.startsWith(glob.path)) return false;
  for (let i = 0; i < g.parts.length; i++) {
    try {
      if (!pathMatch(g.parts[i] ?? "", t.parts[i] ?? "")) return false;
    } catch {
      return false; // ErrBadPattern: Lookup ignores the error and skips the key
    }
  }
  return true;
}

/** keyring.go `URLsMatchStr`. */
export function urlsMatchStr(glob: string, target: string): boolean {
  const g = parseSchemelessUrl(glob);
  const t = parseSchemelessUrl(target);
  return g !== undefined && t !== undefined && urlsMatch(g, t);
}

/** keyring.go `isDefaultRegistryMatch`: would `image` be pulled from Docker Hub? */
export function isDefaultRegistryMatch(image: string): boolean {
  const slash = image.indexOf("/");
  const first = slash < 0 ? image : image.slice(0, slash);
  if (first === "") return false;
  if (slash < 0) return true;
  if (first === "docker.io" || first === "index.docker.io") return true;
  return !/[.:]/.test(first);
}

/**
 * The keyring key of a config key (BasicDockerKeyring.Add): `https://` prepended unless a scheme
 * is there, parsed, a leading `/v1/` or `/v2/` path loses its first 3 characters, host or
 * host+path. Undefined: Go's url.Parse would fail (the entry is skipped).
 */
export function keyringKey(location: string): string | undefined {
  const value =
    location.startsWith("https://") || location.startsWith("http://")
      ? location
      : `https://${location}`;
  const parsed = parseGoUrl(value);
  if (parsed === undefined) return undefined;
  let path = parsed.path;
  if (path.startsWith("/v2/") || path.startsWith("/v1/")) path = path.slice(3);
  return path.length > 0 && path !== "/" ? parsed.host + path : parsed.host;
}

function byteCompare(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
}

/** kubelet `BasicDockerKeyring`. */
export class DockerKeyring {
  #index: string[] = [];
  readonly #creds = new Map<string, AuthCredential[]>();

  /** Adds one docker config's entries (`location → credential`), in order. */
  add(entries: Iterable<readonly [string, AuthCredential]>): void {
    for (const [location, cred] of entries) {
      const key = keyringKey(location);
      if (key === undefined) continue; // "Entry %q in dockercfg invalid (%v), ignoring"
      const list = this.#creds.get(key);
      if (list === undefined) this.#creds.set(key, [cred]);
      else list.push(cred);
    }
    // de-duplicated, reverse byte-wise sorted: the more specific key first
    this.#index = [...this.#creds.keys()].sort((a, b) => byteCompare(b, a));
  }

  /** The index, most specific first (for tests and explanations). */
  get keys(): readonly string[] {
    return this.#index;
  }

  /**
   * Every credential whose key matches `repo` (normalized, no tag: `docker.io/library/nginx`),
   * most specific key first; else, for Docker Hub repos, those under `index.docker.io`.
   */
  lookup(repo: string): AuthCredential[] {
    const target = parseSchemelessUrl(repo);
    const out: AuthCredential[] = [];
    if (target !== undefined) {
      for (const k of this.#index) {
        const glob = parseSchemelessUrl(k);
        if (glob === undefined || !urlsMatch(glob, target)) continue;
        out.push(...(this.#creds.get(k) ?? []));
      }
    }
    if (out.length > 0) return out;
    if (isDefaultRegistryMatch(repo)) {
      const hub = this.#creds.get(DEFAULT_REGISTRY_HOST);
      if (hub !== undefined) return [...hub];
    }
    return [];
  }
}
