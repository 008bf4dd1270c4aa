// containers-registries.conf(5) v2: which endpoints a pull of a reference may use.
// Upstream: containers/image pkg/sysregistriesv2/system_registries_v2.go (`postProcessRegistries`,
// `refMatchingPrefix`, `refMatchingSubdomainPrefix`, `FindRegistry`,
// `PullSourcesFromReference`, `rewriteReference`, `ConvertToV2`, `loadConfigFile`) and
// docs/containers-registries.conf.5.md; ../../shared/specs/registry.md §5.2, §5.4.
//
// - `[[registry]]`: prefix (default: location), location, insecure, blocked,
//   mirror-by-digest-only, `[[registry.mirror]]` (location, insecure, pull-from-mirror).
//   The entry with the LONGEST matching prefix wins; a prefix matches at a path-component
//   boundary (`:`, `/`, `@` or the end); `*.example.com` matches any subdomain depth; the matched
//   part of the name is replaced by the endpoint's location.
// - Matching is on the normalized name (`docker.io/library/nginx`), as containers/image's docker
//   transport does (`FindRegistry(sys, ref.Name())` in docker/docker_image_src.go), so a prefix
//   with a tag or digest never matches.
// - kimg normalizes short names like Kubernetes/containerd (docker.io): `unqualified-search-
//   registries`, `short-name-mode` and `[aliases]` are read (short-name-mode is validated) and
//   otherwise ignored. v1 files (`[registries.search]`, `.insecure`, `.block`) are converted as
//   upstream `ConvertToV2` does; mixing v1 and v2 is an error. `registries.conf.d` drop-ins are not
//   read.
// - Errors: KimgError REGISTRIES_CONF_INVALID, one line `<file>: <field>: <upstream text>`
//   (`<file>:<line>:<col>` for TOML syntax errors).

import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { parse as parseToml } from "smol-toml";
import { errnoText, KimgError } from "../errors.ts";
import { goQuote } from "../go/index.ts";
import { parseNamed, type Reference, referenceName, referenceString } from "../ref/index.ts";

/** `pull-from-mirror` values (system_registries_v2.go MirrorAll, MirrorByDigestOnly, MirrorByTagOnly). */
export type PullFromMirror = "all" | "digest-only" | "tag-only";

export interface MirrorEndpoint {
  /** `host[:port][/namespace…]`, no scheme. */
  readonly location: string;
  /** Plain HTTP allowed and TLS certificates not verified. */
  readonly insecure: boolean;
  /** "" when unset (= all). */
  readonly pullFromMirror: PullFromMirror | "";
}

export interface RegistryEntry {
  /** What references it applies to (defaults to location; `*.example.com` wildcards). */
  readonly prefix: string;
  /** "" only with a wildcard prefix (then the reference is used as is). */
  readonly location: string;
  readonly insecure: boolean;
  readonly blocked: boolean;
  readonly mirrorByDigestOnly: boolean;
  readonly mirrors: readonly MirrorEndpoint[];
}

export interface RegistriesConf {
  /** The file it came from (in messages). */
  readonly source: string;
  /** Deduplicated by prefix (the first wins) and sorted by prefix, as upstream. */
  readonly registries: readonly RegistryEntry[];
  /** Read but not used: kimg normalizes short names to docker.io. */
  readonly unqualifiedSearchRegistries: readonly string[];
  readonly shortNameMode?: "enforcing" | "permissive" | "disabled";
}

/** One endpoint to try, in order: the mirrors that apply, then the primary location. */
export interface PullSource {
  /** Registry host of the endpoint (`mirror.example.com:5000`). */
  readonly host: string;
  /** Repository path on that host after the rewrite (`bar/app`). */
  readonly repository: string;
  /** The rewritten reference (same tag/digest as the original). */
  readonly reference: Reference;
  readonly insecure: boolean;
  readonly mirror: boolean;
}

function invalid(source: string, field: string, msg: string): KimgError {
  return new KimgError("REGISTRIES_CONF_INVALID", `${source}: ${field}: ${msg}`);
}

type Table = Record<string, unknown>;

function isTable(v: unknown): v is Table {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

function typeName(v: unknown): string {
  if (Array.isArray(v)) return "array";
  if (v instanceof Date) return "datetime";
  return typeof v === "object" ? "table" : typeof v;
}

function str(source: string, t: Table, key: string, field: string): string {
  const v = t[key];
  if (v === undefined) return "";
  if (typeof v !== "string") {
    throw invalid(source, `${field}.${key}`, `expected a string, got ${typeName(v)}`);
  }
  return v;
}

function bool(source: string, t: Table, key: string, field: string): boolean {
  const v = t[key];
  if (v === undefined) return false;
  if (typeof v !== "boolean") {
    throw invalid(source, `${field}.${key}`, `expected a boolean, got ${typeName(v)}`);
  }
  return v;
}

function strings(source: string, t: Table, key: string, field: string): string[] {
  const v = t[key];
  if (v === undefined) return [];
  if (!Array.isArray(v) || v.some((x) => typeof x !== "string")) {
    throw invalid(source, `${field}${key}`, `expected an array of strings, got ${typeName(v)}`);
  }
  return v as string[];
}

function tables(source: string, t: Table, key: string, field: string): Table[] {
  const v = t[key];
  if (v === undefined) return [];
  if (!Array.isArray(v) || v.some((x) => !isTable(x))) {
    throw invalid(source, `${field}${key}`, `expected an array of tables ([[${key}]])`);
  }
  return v as Table[];
}

/** system_registries_v2.go `parseLocation`: trailing `/` trimmed, URI schemes refused. */
function parseLocation(source: string, field: string, input: string): string {
  const trimmed = input.replace(/\/+$/, "");
  if (trimmed.startsWith("http://") || trimmed.startsWith("https://")) {
    throw invalid(source, field, `invalid location '${input}': URI schemes are not supported`);
  }
  return trimmed;
}

interface RawEntry {
  prefix: string;
  location: string;
  insecure: boolean;
  blocked: boolean;
  mirrorByDigestOnly: boolean;
  pullFromMirror: string;
  mirrors: { location: string; insecure: boolean; pullFromMirror: string }[];
}

/** system_registries_v2.go `ConvertToV2`: v1 block/insecure lists → v2 entries. */
function convertV1(source: string, v1: Table): { entries: RawEntry[]; search: string[] } {
  const list = (k: string): string[] => {
    const t = v1[k];
    if (t === undefined) return [];
    if (!isTable(t)) throw invalid(source, `registries.${k}`, "expected a table");
    return strings(source, t, "registries", `registries.${k}.`);
  };
  const byLocation = new Map<string, RawEntry>();
  const get = (loc: string, field: string): RawEntry => {
    const location = parseLocation(source, field, loc);
    let e = byLocation.get(location);
    if (e === undefined) {
      e = {
        prefix: location,
        location,
        insecure: false,
        blocked: false,
        mirrorByDigestOnly: false,
        pullFromMirror: "",
        mirrors: [],
      };
      byLocation.set(location, e);
    }
    return e;
  };
  for (const b of list("block")) get(b, "registries.block.registries").blocked = true;
  for (const i of list("insecure")) get(i, "registries.insecure.registries").insecure = true;
  return { entries: [...byLocation.values()], search: list("search") };
}

const SHORT_NAME_MODES = new Set(["enforcing", "permissive", "disabled"]);
const V2_KEYS = [
  "registry",
  "unqualified-search-registries",
  "short-name-mode",
  "aliases",
  "credential-helpers",
  "additional-layer-store-auth-helper",
];

/**
 * Parses and validates registries.conf text (v2, or v1 converted).
 * @throws KimgError REGISTRIES_CONF_INVALID: `<source>: <field>: <message>`.
 */
export function parseRegistriesConf(text: string, source = "registries.conf"): RegistriesConf {
  let doc: Table;
  try {
    doc = parseToml(text) as Table;
  } catch (e) {
    const err = e as Error & { line?: number; column?: number };
    const first = err.message.split("\n")[0]?.replace(/^Invalid TOML document: /, "") ?? "";
    const at = err.line !== undefined ? `:${err.line}:${err.column ?? 0}` : "";
    throw new KimgError("REGISTRIES_CONF_INVALID", `${source}${at}: invalid TOML: ${first}`, {
      cause: e,
    });
  }
  const v1 = doc.registries;
  let raw: RawEntry[];
  let search: string[];
  if (v1 !== undefined) {
    if (!isTable(v1)) throw invalid(source, "registries", "expected a table (v1 format)");
    if (V2_KEYS.some((k) => doc[k] !== undefined)) {
      // loadConfigFile: "mixing sysregistry v1/v2 is not supported"
      throw invalid(source, "registries", "mixing sysregistry v1/v2 is not supported");
    }
    ({ entries: raw, search } = convertV1(source, v1));
  } else {
    raw = tables(source, doc, "registry", "").map((t, i) => {
      const f = `registry[${i}]`;
      return {
        prefix: str(source, t, "prefix", f),
        location: str(source, t, "location", f),
        insecure: bool(source, t, "insecure", f),
        blocked: bool(source, t, "blocked", f),
        mirrorByDigestOnly: bool(source, t, "mirror-by-digest-only", f),
        pullFromMirror: str(source, t, "pull-from-mirror", f),
        mirrors: tables(source, t, "mirror", `${f}.`).map((m, j) => ({
          location: str(source, m, "location", `${f}.mirror[${j}]`),
          insecure: bool(source, m, "insecure", `${f}.mirror[${j}]`),
          pullFromMirror: str(source, m, "pull-from-mirror", `${f}.mirror[${j}]`),
        })),
      };
    });
    search = strings(source, doc, "unqualified-search-registries", "");
  }
  const mode = doc["short-name-mode"];
  if (mode !== undefined && (typeof mode !== "string" || !SHORT_NAME_MODES.has(mode))) {
    // parseShortNameMode: `invalid short-name mode: %q`
    throw invalid(
      source,
      "short-name-mode",
      `invalid short-name mode: ${typeof mode === "string" ? goQuote(mode) : typeName(mode)}`,
    );
  }
  const entries = postProcess(source, raw);
  return {
    source,
    registries: entries,
    unqualifiedSearchRegistries: search,
    ...(mode !== undefined
      ? { shortNameMode: mode as "enforcing" | "permissive" | "disabled" }
      : {}),
  };
}

/** system_registries_v2.go `postProcessRegistries` and the wildcard check of `loadConfigFile`. */
function postProcess(source: string, raw: RawEntry[]): RegistryEntry[] {
  const out: RegistryEntry[] = [];
  raw.forEach((r, i) => {
    const f = `registry[${i}]`;
    const location = parseLocation(source, `${f}.location`, r.location);
    let prefix: string;
    if (r.prefix === "") {
      if (location === "") {
        throw invalid(source, f, "invalid condition: both location and prefix are unset");
      }
      prefix = location;
    } else {
      prefix = parseLocation(source, `${f}.prefix`, r.prefix);
      if (!prefix.startsWith("*.") && location === "") {
        throw invalid(
          source,
          `${f}.location`,
          "invalid condition: location is unset and prefix is not in the format: *.example.com",
        );
      }
    }
    if (r.pullFromMirror !== "") {
      throw invalid(
        source,
        `${f}.pull-from-mirror`,
        `pull-from-mirror must not be set for a non-mirror registry ${goQuote(prefix)}`,
      );
    }
    const mirrors = r.mirrors.map((m, j): MirrorEndpoint => {
      const mf = `${f}.mirror[${j}]`;
      const loc = parseLocation(source, `${mf}.location`, m.location);
      if (loc === "")
        throw invalid(source, `${mf}.location`, "invalid condition: mirror location is unset");
      if (r.mirrorByDigestOnly && m.pullFromMirror !== "") {
        throw invalid(
          source,
          `${mf}.pull-from-mirror`,
          `cannot set mirror usage mirror-by-digest-only for the registry (${goQuote(prefix)}) and pull-from-mirror for per-mirror (${goQuote(loc)}) at the same time`,
        );
      }
      if (!["", "all", "digest-only", "tag-only"].includes(m.pullFromMirror)) {
        throw invalid(
          source,
          `${mf}.pull-from-mirror`,
          `unsupported pull-from-mirror value ${goQuote(m.pullFromMirror)} for mirror ${goQuote(loc)}`,
        );
      }
      return {
        location: loc,
        insecure: m.insecure,
        pullFromMirror: m.pullFromMirror as PullFromMirror | "",
      };
    });
    if (prefix.startsWith("*.") && /[/@:]/.test(prefix)) {
      throw invalid(
        source,
        `${f}.prefix`,
        `Wildcarded prefix should be in the format: *.example.com. Current prefix ${goQuote(prefix)} is incorrectly formatted`,
      );
    }
    out.push({
      prefix,
      location,
      insecure: r.insecure,
      blocked: r.blocked,
      mirrorByDigestOnly: r.mirrorByDigestOnly,
      mirrors,
    });
  });
  // The same location defined several times must agree on insecure and blocked.
  const key = (e: RegistryEntry) => (e.location === "" ? e.prefix : e.location);
  for (const e of out) {
    for (const o of out) {
      if (key(o) !== key(e)) continue;
      for (const setting of ["insecure", "blocked"] as const) {
        if (o[setting] !== e[setting]) {
          throw invalid(
            source,
            "registry",
            `registry '${e.location}' is defined multiple times with conflicting '${setting}' setting`,
          );
        }
      }
    }
  }
  // The first entry of a prefix wins; sorted by prefix (upstream sorts too).
  const unique = new Map<string, RegistryEntry>();
  for (const e of out) if (!unique.has(e.prefix)) unique.set(e.prefix, e);
  return [...unique.keys()].sort().map((p) => unique.get(p) as RegistryEntry);
}

/**
 * system_registries_v2.go `refMatchingSubdomainPrefix`: `*.example.com` matches a host ending in
 * `.example.com` (any depth) before the first `/`; returns the end of the match or -1.
 */
function refMatchingSubdomainPrefix(ref: string, prefix: string): number {
  const suffix = prefix.slice(1);
  let index = ref.indexOf(suffix);
  if (index === -1) return -1;
  if (ref.slice(0, index).includes("/")) return -1;
  index += suffix.length;
  if (index === ref.length) return index;
  const c = ref[index];
  return c === ":" || c === "/" || c === "@" ? index : -1;
}

/**
 * system_registries_v2.go `refMatchingPrefix`: the length of the matched part of `ref` when
 * `prefix` matches it at a component boundary (`:`, `/`, `@`, or the end), else -1.
 * (Upstream notes that `example.com:5000` matching `example.com` is unintended; kept.)
 */
export function refMatchingPrefix(ref: string, prefix: string): number {
  if (prefix.startsWith("*.")) return refMatchingSubdomainPrefix(ref, prefix);
  if (ref.length < prefix.length) return -1;
  if (ref.length === prefix.length) return ref === prefix ? prefix.length : -1;
  if (!ref.startsWith(prefix)) return -1;
  const c = ref[prefix.length];
  return c === ":" || c === "/" || c === "@" ? prefix.length : -1;
}

/** system_registries_v2.go `FindRegistry`: the entry with the longest matching prefix. */
export function findRegistry(conf: RegistriesConf, name: string): RegistryEntry | undefined {
  let best: RegistryEntry | undefined;
  for (const r of conf.registries) {
    if (refMatchingPrefix(name, r.prefix) !== -1 && r.prefix.length > (best?.prefix.length ?? 0)) {
      best = r;
    }
  }
  return best;
}

/** system_registries_v2.go `rewriteReference`: the matched prefix replaced by `location`. */
function rewrite(
  conf: RegistriesConf,
  ref: Reference,
  prefix: string,
  location: string,
): Reference {
  const s = referenceString(ref);
  const n = refMatchingPrefix(s, prefix);
  if (n === -1) {
    throw new KimgError(
      "REGISTRIES_CONF_INVALID",
      `invalid prefix '${prefix}' for reference '${s}'`,
    );
  }
  if (location === "") {
    if (!prefix.startsWith("*.")) {
      throw new KimgError(
        "REGISTRIES_CONF_INVALID",
        `invalid prefix '${prefix}' for empty location, should be in the format: *.example.com`,
      );
    }
    return ref;
  }
  const rewritten = location + s.slice(n);
  try {
    return parseNamed(rewritten);
  } catch (e) {
    throw new KimgError(
      "REGISTRIES_CONF_INVALID",
      `${conf.source}: rewriting reference: ${rewritten}: ${(e as Error).message}`,
      { cause: e },
    );
  }
}

function source(ref: Reference, insecure: boolean, mirror: boolean): PullSource {
  return { host: ref.domain, repository: ref.path, reference: ref, insecure, mirror };
}

/**
 * The endpoints a pull of `ref` (normalized, with a domain) tries, in order: the mirrors that
 * apply (`mirror-by-digest-only` / `pull-from-mirror` against whether `ref` has a digest), then
 * the primary location (system_registries_v2.go `PullSourcesFromReference`). Without a config
 * or a matching entry: the reference itself.
 * @throws KimgError REGISTRY_BLOCKED when the matching entry (or the primary location's own
 *   entry) is blocked; mirrors whose rewritten name falls under a blocked entry are left out.
 */
export function pullSources(ref: Reference, conf: RegistriesConf | undefined): PullSource[] {
  const name = referenceName(ref);
  const reg = conf === undefined ? undefined : findRegistry(conf, name);
  if (conf === undefined || reg === undefined) return [source(ref, false, false)];
  const blockedBy = (r: Reference): RegistryEntry | undefined => {
    const e = findRegistry(conf, referenceName(r));
    return e?.blocked === true ? e : undefined;
  };
  const blockedError = (e: RegistryEntry) =>
    new KimgError("REGISTRY_BLOCKED", `registry ${e.prefix} is blocked in ${conf.source}`);
  if (reg.blocked) throw blockedError(reg);
  const digested = ref.digest !== "";
  const mirrors = reg.mirrors.filter((m) => {
    if (reg.mirrorByDigestOnly) return digested;
    if (m.pullFromMirror === "digest-only") return digested;
    if (m.pullFromMirror === "tag-only") return !digested;
    return true;
  });
  const out: PullSource[] = [];
  for (const m of mirrors) {
    const r = rewrite(conf, ref, reg.prefix, m.location);
    if (blockedBy(r) === undefined) out.push(source(r, m.insecure, true));
  }
  const primary = rewrite(conf, ref, reg.prefix, reg.location);
  const b = blockedBy(primary);
  if (b !== undefined) throw blockedError(b);
  out.push(source(primary, reg.insecure, false));
  return out;
}

export interface RegistriesConfLookup {
  /** `--registries-conf FILE`: must be readable. */
  readonly path?: string | undefined;
  /** Default `process.env`: CONTAINERS_REGISTRIES_CONF (must be readable when set). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** The user's home: `$HOME/.config/containers/registries.conf` is used when it exists. */
  readonly home?: string | undefined;
  /** Default `/etc/containers/registries.conf` (used when it exists). */
  readonly systemPath?: string | undefined;
}

async function exists(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isFile();
  } catch {
    return false;
  }
}

/**
 * Which registries.conf applies, as podman/CRI-O pick it: the explicit path, else
 * $CONTAINERS_REGISTRIES_CONF, else `$HOME/.config/containers/registries.conf` if it exists,
 * else `/etc/containers/registries.conf` if it exists, else none (system_registries_v2.go
 * `newConfigWrapperWithHomeDir`; containers-registries.conf.5.md "FILES").
 */
export async function registriesConfPath(
  opts: RegistriesConfLookup = {},
): Promise<string | undefined> {
  if (opts.path !== undefined && opts.path !== "") return opts.path;
  const env = opts.env ?? process.env;
  const fromEnv = env.CONTAINERS_REGISTRIES_CONF;
  if (fromEnv !== undefined && fromEnv !== "") return fromEnv;
  if (opts.home !== undefined && opts.home !== "") {
    const user = join(opts.home, ".config", "containers", "registries.conf");
    if (await exists(user)) return user;
  }
  const system = opts.systemPath ?? "/etc/containers/registries.conf";
  return (await exists(system)) ? system : undefined;
}

/**
 * Finds (registriesConfPath) and parses the registries.conf that applies; undefined when none.
 * @throws KimgError REGISTRIES_CONF_INVALID when the chosen file cannot be read or is invalid.
 */
export async function loadRegistriesConf(
  opts: RegistriesConfLookup = {},
): Promise<RegistriesConf | undefined> {
  const path = await registriesConfPath(opts);
  if (path === undefined) return undefined;
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    throw new KimgError(
      "REGISTRIES_CONF_INVALID",
      `${path}: cannot read registries configuration: ${errnoText(e)}`,
      { cause: e },
    );
  }
  return parseRegistriesConf(text, path);
}
