// Kubelet credential-provider exec plugins (KEP-2133): a `CredentialProviderConfig`
// (`kubelet.config.k8s.io/v1`), plugins run from a bin dir with a `CredentialProviderRequest` on
// stdin and a `CredentialProviderResponse` (`credentialprovider.kubelet.k8s.io/v1`) on stdout,
// cached by cacheKeyType, turned into keyring entries.
// Sources (kubernetes): pkg/credentialprovider/plugin/plugin.go (`RegisterCredentialProviderPlugins`,
// `pluginProvider.provide`, `getCachedCredentials`, `execPlugin.ExecPlugin`, `runPlugin`,
// `decodeResponse`, `parseRegistry`, `mergeEnvVars`, `globalCacheKey = "<global>"`, singleflight
// keyed by image), plugin/config.go (`readCredentialProviderConfig`, `decode`,
// `validateCredentialProviderConfig`), plugin/plugins.go (`externalCredentialProviderKeyring.Lookup`:
// every provider's DockerConfig added to ONE BasicDockerKeyring, so overlapping keys keep config
// order), staging k8s.io/kubelet/pkg/apis/credentialprovider/v1/types.go,
// pkg/kubelet/apis/config/v1/types.go (CredentialProviderConfig), apimachinery
// util/validation/field (error texts, `ToAggregate` "[a, b]" de-duplicated),
// util/validation (IsQualifiedName), Go time.ParseDuration; ../../shared/specs/kubelet.md §7.4.
//
// Differences from upstream:
// - Input is a plain object (YAML/JSON parsing is the caller's); decode errors are Go-like, not
//   byte-equal (`strict decoding error: unknown field "providers[0].foo"`, `no kind
//   "CredentialProviderConfig" is registered for version "…"` without the scheme's source place).
// - Service-account-token mode (`tokenAttributes`) is validated as upstream (gate
//   KubeletServiceAccountTokenForCredentialProviders on, as in 1.34+) but NOT supported: kimg has
//   no API server to issue tokens. Such a provider is disabled and reported through `onError`.
// - The exec timeout is injectable (default 1 minute); the whole process group is killed (Go's
//   CommandContext kills the process only). Output is capped (stdout 1 MiB, stderr 64 KiB) and
//   stderr is folded to one line of at most 512 characters in error messages.
// - The error message for a missing plugin keeps Go's quirk: exec.LookPath returns "" on error,
//   so upstream says `plugin binary executable  did not exist` (no path). Matched.
// - Cache purge: expired entries are dropped when looked up and all at once every 15 minutes.

import { constants } from "node:fs";
import { access, stat } from "node:fs/promises";
import { join } from "node:path";
import { KimgError } from "../errors.ts";
import {
  aggregateMessage,
  fieldDuplicate,
  fieldForbidden,
  fieldInvalid,
  fieldNotSupported,
  fieldRequired,
  formatGoDurationNs,
  goQuote,
  goStringer,
  parseGoDuration,
} from "../go/index.ts";
import { AuthCredential, type CredentialProvider, isObject, NODE_ORIGIN } from "./credential.ts";
import { DockerKeyring, parseSchemelessUrl, urlsMatchStr } from "./keyring.ts";
import { runBounded } from "./subprocess.ts";

export const CREDENTIAL_PROVIDER_CONFIG_KIND = "CredentialProviderConfig";
export const CREDENTIAL_PROVIDER_CONFIG_GROUP = "kubelet.config.k8s.io";
/** Versions of the config the kubelet's scheme knows (plugin.go init: v1alpha1, v1beta1, v1). */
export const CREDENTIAL_PROVIDER_CONFIG_VERSIONS = [
  "kubelet.config.k8s.io/v1",
  "kubelet.config.k8s.io/v1alpha1",
  "kubelet.config.k8s.io/v1beta1",
] as const;
/** plugin.go `apiVersions`: the plugin protocol versions. */
export const CREDENTIAL_PROVIDER_API_VERSIONS = [
  "credentialprovider.kubelet.k8s.io/v1",
  "credentialprovider.kubelet.k8s.io/v1alpha1",
  "credentialprovider.kubelet.k8s.io/v1beta1",
] as const;
export const CREDENTIAL_PROVIDER_API_GROUP = "credentialprovider.kubelet.k8s.io";
/** plugin.go: "Use a catch-all timeout of 1 minute for all exec-based plugins". */
export const DEFAULT_PLUGIN_TIMEOUT_MS = 60_000;
/** plugin.go globalCacheKey. */
export const GLOBAL_CACHE_KEY = "<global>";
const CACHE_PURGE_INTERVAL_MS = 15 * 60 * 1000;
const STDOUT_MAX = 1024 * 1024;
const STDERR_MAX = 64 * 1024;

export type PluginCacheKeyType = "Image" | "Registry" | "Global";

export interface ExecEnvVar {
  name: string;
  value: string;
}

export interface ServiceAccountTokenAttributes {
  serviceAccountTokenAudience: string;
  cacheType?: string;
  requireServiceAccount?: boolean;
  requiredServiceAccountAnnotationKeys: string[];
  optionalServiceAccountAnnotationKeys: string[];
}

/** One `providers[]` entry, decoded. Durations in ms; undefined when absent. */
export interface CredentialProviderSpec {
  name: string;
  matchImages: string[];
  defaultCacheDurationMs: number | undefined;
  apiVersion: string;
  args: string[];
  env: ExecEnvVar[];
  tokenAttributes?: ServiceAccountTokenAttributes;
}

export interface CredentialProviderConfig {
  providers: CredentialProviderSpec[];
}

// ---- Go url.Parse errors for matchImages -----------------------------------------------------

const HOST_OK = /^[A-Za-z0-9\-._~!$&'()*+,;=:[\]<>"]$/;

/** The error Go's `url.Parse("https://" + s)` reports, or undefined when it parses. */
export function schemelessUrlError(s: string): string | undefined {
  const raw = `https://${s}`;
  const wrap = (msg: string) => `parse ${goQuote(raw)}: ${msg}`;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: Go rejects control characters
  if (/[\x00-\x1f\x7f]/.test(raw)) return wrap("net/url: invalid control character in URL");
  let rest = s;
  const hash = rest.indexOf("#");
  const fragment = hash >= 0 ? rest.slice(hash + 1) : "";
  if (hash >= 0) rest = rest.slice(0, hash);
  const q = rest.indexOf("?");
  if (q >= 0) rest = rest.slice(0, q);
  const slash = rest.indexOf("/");
  let authority = slash >= 0 ? rest.slice(0, slash) : rest;
  const path = slash >= 0 ? rest.slice(slash) : "";
  const at = authority.lastIndexOf("@");
  if (at >= 0) authority = authority.slice(at + 1);
  const host = authority;
  if (host.startsWith("[")) {
    const end = host.indexOf("]");
    if (end < 0) return wrap("missing ']' in host");
    const port = host.slice(end + 1);
    if (port !== "" && !/^:[0-9]*$/.test(port))
      return wrap(`invalid port ${goQuote(port)} after host`);
  } else {
    const colon = host.lastIndexOf(":");
    if (colon >= 0 && !/^:[0-9]*$/.test(host.slice(colon))) {
      return wrap(`invalid port ${goQuote(host.slice(colon))} after host`);
    }
  }
  for (const c of host) {
    if (c.charCodeAt(0) < 0x80 && c !== "%" && !HOST_OK.test(c)) {
      return wrap(`invalid character ${goQuote(c)} in host name`);
    }
  }
  for (const part of [host, path, fragment]) {
    const m = /%(?![0-9A-Fa-f]{2})/.exec(part);
    if (m !== null) return wrap(`invalid URL escape ${goQuote(part.slice(m.index, m.index + 3))}`);
  }
  if (parseSchemelessUrl(s) === undefined) return wrap("invalid URL");
  return undefined;
}

// ---- util/validation IsQualifiedName ---------------------------------------------------------

const QNAME_FMT = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]";
const QNAME_RE = new RegExp(`^${QNAME_FMT}$`);
const DNS1123_LABEL = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
const DNS1123_SUBDOMAIN_FMT = `${DNS1123_LABEL}(\\.${DNS1123_LABEL})*`;
const DNS1123_SUBDOMAIN_RE = new RegExp(`^${DNS1123_SUBDOMAIN_FMT}$`);

// util/validation RegexError: each example is followed by "', " and joined with " or ", hence
// upstream's double spaces ("'MyName',  or 'my.name',  or '123-abc', regex used …").
function regexError(msg: string, fmt: string, ...examples: string[]): string {
  let out = `${msg} (e.g. `;
  examples.forEach((e, i) => {
    if (i > 0) out += " or ";
    out += `'${e}', `;
  });
  return `${out}regex used for validation is '${fmt}')`;
}
const QNAME_MSG =
  "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";

/** apimachinery util/validation `IsQualifiedName`. */
export function isQualifiedName(value: string): string[] {
  const errs: string[] = [];
  const parts = value.split("/");
  let name: string;
  if (parts.length === 1) name = parts[0] ?? "";
  else if (parts.length === 2) {
    const prefix = parts[0] ?? "";
    name = parts[1] ?? "";
    if (prefix.length === 0) errs.push("prefix part must be non-empty");
    else {
      if (prefix.length > 253) errs.push("prefix part must be no more than 253 bytes");
      if (!DNS1123_SUBDOMAIN_RE.test(prefix)) {
        errs.push(
          `prefix part ${regexError(
            "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character",
            DNS1123_SUBDOMAIN_FMT,
            "example.com",
          )}`,
        );
      }
    }
  } else {
    return [
      `a qualified name ${regexError(QNAME_MSG, QNAME_FMT, "MyName", "my.name", "123-abc")} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`,
    ];
  }
  if (name.length === 0) errs.push("name part must be non-empty");
  else if (name.length > 63) errs.push("name part must be no more than 63 bytes");
  if (!QNAME_RE.test(name)) {
    errs.push(`name part ${regexError(QNAME_MSG, QNAME_FMT, "MyName", "my.name", "123-abc")}`);
  }
  return errs;
}

// ---- decoding the config ---------------------------------------------------------------------

function decodeError(msg: string): KimgError {
  return new KimgError("INPUT_INVALID", `error decoding credential provider config: ${msg}`);
}

function kindOf(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  if (typeof v === "object") return "object";
  if (typeof v === "boolean") return "bool";
  return typeof v;
}

function strictFields(obj: Record<string, unknown>, allowed: readonly string[], at: string): void {
  for (const k of Object.keys(obj)) {
    if (!allowed.includes(k)) {
      throw decodeError(`strict decoding error: unknown field "${at === "" ? k : `${at}.${k}`}"`);
    }
  }
}

function str(v: unknown, goField: string): string {
  if (v === undefined || v === null) return "";
  if (typeof v !== "string") {
    throw decodeError(
      `json: cannot unmarshal ${kindOf(v)} into Go struct field ${goField} of type string`,
    );
  }
  return v;
}

function strList(v: unknown, goField: string): string[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) {
    throw decodeError(
      `json: cannot unmarshal ${kindOf(v)} into Go struct field ${goField} of type []string`,
    );
  }
  return v.map((x) => str(x, goField));
}

function duration(v: unknown, goField: string): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "string") {
    throw decodeError(
      `json: cannot unmarshal ${kindOf(v)} into Go struct field ${goField} of type string`,
    );
  }
  try {
    return parseGoDuration(v);
  } catch (e) {
    throw decodeError((e as Error).message);
  }
}

function decodeProvider(v: unknown, i: number): CredentialProviderSpec {
  const at = `providers[${i}]`;
  if (!isObject(v)) {
    throw decodeError(
      `json: cannot unmarshal ${kindOf(v)} into Go struct field CredentialProviderConfig.providers of type v1.CredentialProvider`,
    );
  }
  strictFields(
    v,
    ["name", "matchImages", "defaultCacheDuration", "apiVersion", "args", "env", "tokenAttributes"],
    at,
  );
  const env: ExecEnvVar[] = [];
  if (v.env !== undefined && v.env !== null) {
    if (!Array.isArray(v.env)) {
      throw decodeError(
        `json: cannot unmarshal ${kindOf(v.env)} into Go struct field CredentialProvider.providers.env of type []v1.ExecEnvVar`,
      );
    }
    v.env.forEach((e: unknown, j: number) => {
      if (!isObject(e)) {
        throw decodeError(
          `json: cannot unmarshal ${kindOf(e)} into Go struct field CredentialProvider.providers.env of type v1.ExecEnvVar`,
        );
      }
      strictFields(e, ["name", "value"], `${at}.env[${j}]`);
      env.push({
        name: str(e.name, "ExecEnvVar.providers.env.name"),
        value: str(e.value, "ExecEnvVar.providers.env.value"),
      });
    });
  }
  const spec: CredentialProviderSpec = {
    name: str(v.name, "CredentialProvider.providers.name"),
    matchImages: strList(v.matchImages, "CredentialProvider.providers.matchImages"),
    defaultCacheDurationMs: duration(
      v.defaultCacheDuration,
      "CredentialProvider.providers.defaultCacheDuration",
    ),
    apiVersion: str(v.apiVersion, "CredentialProvider.providers.apiVersion"),
    args: strList(v.args, "CredentialProvider.providers.args"),
    env,
  };
  const ta = v.tokenAttributes;
  if (ta !== undefined && ta !== null) {
    if (!isObject(ta)) {
      throw decodeError(
        `json: cannot unmarshal ${kindOf(ta)} into Go struct field CredentialProvider.providers.tokenAttributes of type v1.ServiceAccountTokenAttributes`,
      );
    }
    strictFields(
      ta,
      [
        "serviceAccountTokenAudience",
        "cacheType",
        "requireServiceAccount",
        "requiredServiceAccountAnnotationKeys",
        "optionalServiceAccountAnnotationKeys",
      ],
      `${at}.tokenAttributes`,
    );
    const rsa = ta.requireServiceAccount;
    if (rsa !== undefined && rsa !== null && typeof rsa !== "boolean") {
      throw decodeError(
        `json: cannot unmarshal ${kindOf(rsa)} into Go struct field ServiceAccountTokenAttributes.providers.tokenAttributes.requireServiceAccount of type bool`,
      );
    }
    const G = "ServiceAccountTokenAttributes.providers.tokenAttributes";
    spec.tokenAttributes = {
      serviceAccountTokenAudience: str(
        ta.serviceAccountTokenAudience,
        `${G}.serviceAccountTokenAudience`,
      ),
      cacheType: str(ta.cacheType, `${G}.cacheType`),
      ...(typeof rsa === "boolean" ? { requireServiceAccount: rsa } : {}),
      requiredServiceAccountAnnotationKeys: strList(
        ta.requiredServiceAccountAnnotationKeys,
        `${G}.requiredServiceAccountAnnotationKeys`,
      ),
      optionalServiceAccountAnnotationKeys: strList(
        ta.optionalServiceAccountAnnotationKeys,
        `${G}.optionalServiceAccountAnnotationKeys`,
      ),
    };
  }
  return spec;
}

/** config.go `decode` (strict): kind, group/version, known fields, Go types. */
export function decodeCredentialProviderConfig(doc: unknown): CredentialProviderConfig {
  if (!isObject(doc)) {
    throw decodeError(`json: cannot unmarshal ${kindOf(doc)} into Go value of type struct`);
  }
  const kind = doc.kind;
  const apiVersion = doc.apiVersion;
  if (typeof kind !== "string" || kind === "") {
    throw decodeError("Object 'Kind' is missing in credential provider config");
  }
  if (typeof apiVersion !== "string" || apiVersion === "") {
    throw decodeError("Object 'apiVersion' is missing in credential provider config");
  }
  const group = apiVersion.includes("/") ? apiVersion.slice(0, apiVersion.indexOf("/")) : "";
  if (!(CREDENTIAL_PROVIDER_CONFIG_VERSIONS as readonly string[]).includes(apiVersion)) {
    throw decodeError(`no kind ${goQuote(kind)} is registered for version ${goQuote(apiVersion)}`);
  }
  if (kind !== CREDENTIAL_PROVIDER_CONFIG_KIND) {
    if (group !== CREDENTIAL_PROVIDER_CONFIG_GROUP) {
      throw decodeError(`failed to decode CredentialProviderConfig, unexpected Group: ${group}`);
    }
    throw decodeError(`failed to decode ${goQuote(kind)} (wrong Kind)`);
  }
  strictFields(doc, ["kind", "apiVersion", "providers"], "");
  const providers = doc.providers;
  if (providers !== undefined && providers !== null && !Array.isArray(providers)) {
    throw decodeError(
      `json: cannot unmarshal ${kindOf(providers)} into Go struct field CredentialProviderConfig.providers of type []v1.CredentialProvider`,
    );
  }
  return { providers: (providers ?? []).map((p: unknown, i: number) => decodeProvider(p, i)) };
}

/** config.go `readCredentialProviderConfig` for several documents (a config dir, in file order). */
export function mergeCredentialProviderConfigs(
  configs: readonly CredentialProviderConfig[],
): CredentialProviderConfig {
  const seen = new Set<string>();
  const providers: CredentialProviderSpec[] = [];
  for (const c of configs) {
    for (const p of c.providers) {
      if (seen.has(p.name)) {
        throw new KimgError(
          "INPUT_INVALID",
          `duplicate provider name ${goQuote(p.name)} found in configuration file(s)`,
        );
      }
      seen.add(p.name);
      providers.push(p);
    }
  }
  return { providers };
}

const VALID_SA_CACHE_TYPES = ["ServiceAccount", "Token"];

/**
 * config.go `validateCredentialProviderConfig` (SA-token gate on): the field errors, in
 * upstream's order and texts. Field paths are not indexed (`providers.name`), as upstream.
 */
export function validateCredentialProviderConfig(config: CredentialProviderConfig): string[] {
  const errs: string[] = [];
  if (config.providers.length === 0) {
    errs.push(fieldRequired("providers", "at least 1 item in plugins is required").message);
  }
  const seen = new Set<string>();
  for (const p of config.providers) {
    if (p.name.includes("/"))
      errs.push(fieldInvalid("providers.name", p.name, "provider name cannot contain '/'").message);
    if (p.name.includes(" "))
      errs.push(
        fieldInvalid("providers.name", p.name, "provider name cannot contain spaces").message,
      );
    if (p.name === ".")
      errs.push(fieldInvalid("providers.name", p.name, "provider name cannot be '.'").message);
    if (p.name === "..")
      errs.push(fieldInvalid("providers.name", p.name, "provider name cannot be '..'").message);
    if (seen.has(p.name)) errs.push(fieldDuplicate("providers.name", p.name).message);
    seen.add(p.name);
    if (p.apiVersion === "") errs.push(fieldRequired("providers.apiVersion").message);
    else if (!(CREDENTIAL_PROVIDER_API_VERSIONS as readonly string[]).includes(p.apiVersion)) {
      errs.push(
        fieldNotSupported("providers.apiVersion", p.apiVersion, CREDENTIAL_PROVIDER_API_VERSIONS)
          .message,
      );
    }
    if (p.matchImages.length === 0) {
      errs.push(
        fieldRequired("providers.matchImages", "at least 1 item in matchImages is required")
          .message,
      );
    }
    for (const m of p.matchImages) {
      const e = schemelessUrlError(m);
      if (e !== undefined)
        errs.push(fieldInvalid("providers.matchImages", m, `match image is invalid: ${e}`).message);
    }
    if (p.defaultCacheDurationMs === undefined)
      errs.push(fieldRequired("providers.defaultCacheDuration").message);
    else if (p.defaultCacheDurationMs < 0) {
      errs.push(
        fieldInvalid(
          "providers.defaultCacheDuration",
          goStringer(formatGoDurationNs(BigInt(Math.round(p.defaultCacheDurationMs * 1e6)))),
          "must be greater than or equal to 0",
        ).message,
      );
    }
    const ta = p.tokenAttributes;
    if (ta !== undefined) {
      const fp = "providers.tokenAttributes";
      if (ta.serviceAccountTokenAudience === "")
        errs.push(fieldRequired(`${fp}.serviceAccountTokenAudience`).message);
      if (ta.requireServiceAccount === undefined)
        errs.push(fieldRequired(`${fp}.requireServiceAccount`).message);
      if (p.apiVersion !== "credentialprovider.kubelet.k8s.io/v1") {
        errs.push(
          fieldForbidden(
            fp,
            "tokenAttributes is only supported for credentialprovider.kubelet.k8s.io/v1 API version",
          ).message,
        );
      }
      if (
        ta.requireServiceAccount === false &&
        ta.requiredServiceAccountAnnotationKeys.length > 0
      ) {
        errs.push(
          fieldForbidden(
            `${fp}.requiredServiceAccountAnnotationKeys`,
            "requireServiceAccount cannot be false when requiredServiceAccountAnnotationKeys is set",
          ).message,
        );
      }
      for (const [field, keys] of [
        ["requiredServiceAccountAnnotationKeys", ta.requiredServiceAccountAnnotationKeys],
        ["optionalServiceAccountAnnotationKeys", ta.optionalServiceAccountAnnotationKeys],
      ] as const) {
        const seenKeys = new Set<string>();
        for (const k of keys) {
          for (const msg of isQualifiedName(k.toLowerCase())) {
            errs.push(fieldInvalid(`${fp}.${field}`, k, msg).message);
          }
          if (seenKeys.has(k)) errs.push(fieldDuplicate(`${fp}.${field}`, k).message);
          seenKeys.add(k);
        }
      }
      const optional = new Set(ta.optionalServiceAccountAnnotationKeys);
      const both = [
        ...new Set(ta.requiredServiceAccountAnnotationKeys.filter((k) => optional.has(k))),
      ].sort();
      if (both.length > 0) {
        errs.push(
          fieldInvalid(
            fp,
            goStringer(`[]string{${both.map(goQuote).join(", ")}}`),
            "annotation keys cannot be both required and optional",
          ).message,
        );
      }
      const ct = ta.cacheType ?? "";
      if (ct === "") {
        errs.push(
          fieldRequired(
            `${fp}.cacheType`,
            `cacheType is required to be set when tokenAttributes is specified. Supported values are: ${VALID_SA_CACHE_TYPES.join(", ")}`,
          ).message,
        );
      } else if (!VALID_SA_CACHE_TYPES.includes(ct)) {
        errs.push(fieldNotSupported(`${fp}.cacheType`, ct, VALID_SA_CACHE_TYPES).message);
      }
    }
  }
  return errs;
}

/**
 * Decode + validate (plugin.go RegisterCredentialProviderPlugins): throws INPUT_INVALID
 * `failed to validate credential provider config: <aggregate>`.
 */
export function loadCredentialProviderConfig(doc: unknown): CredentialProviderConfig {
  const config = decodeCredentialProviderConfig(doc);
  const errs = validateCredentialProviderConfig(config);
  if (errs.length > 0) {
    throw new KimgError(
      "INPUT_INVALID",
      `failed to validate credential provider config: ${aggregateMessage(errs)}`,
    );
  }
  return config;
}

// ---- the plugin protocol ---------------------------------------------------------------------

export interface CredentialProviderResponse {
  cacheKeyType: string;
  /** ms; undefined when absent (→ the provider's default). */
  cacheDurationMs: number | undefined;
  /** `auth` map in JSON order: match pattern → username/password. */
  auth: [string, { username: string; password: string }][];
}

function pluginError(msg: string, withheld?: { from: string; text: string }): KimgError {
  return new KimgError("CREDENTIAL_HELPER_FAILED", msg, withheld === undefined ? {} : { withheld });
}

const DECODE_RESPONSE_ERROR = "error decoding credential provider plugin response from stdout";

/**
 * plugin.go ExecPlugin after the run: GVK read from stdout, apiVersion must equal the configured
 * one, then a strict decode (kind CredentialProviderResponse, known fields only, Go types). The
 * decode error never says more (upstream: "it may contain credentials").
 */
export function parseCredentialProviderResponse(
  stdout: string,
  apiVersion: string,
): CredentialProviderResponse {
  let doc: unknown;
  try {
    doc = JSON.parse(stdout);
  } catch {
    throw pluginError("error reading GVK from response: invalid JSON");
  }
  if (!isObject(doc)) {
    throw pluginError(
      `error reading GVK from response: json: cannot unmarshal ${kindOf(doc)} into Go value of type struct`,
    );
  }
  for (const f of ["apiVersion", "kind"]) {
    const v = doc[f];
    if (v !== undefined && v !== null && typeof v !== "string") {
      throw pluginError(
        `error reading GVK from response: json: cannot unmarshal ${kindOf(v)} into Go struct field .${f} of type string`,
      );
    }
  }
  const actual = typeof doc.apiVersion === "string" ? doc.apiVersion : "";
  if (actual !== apiVersion) {
    throw pluginError(
      `apiVersion from credential plugin response did not match expected apiVersion:${apiVersion}, actual apiVersion:${actual}`,
    );
  }
  const bad = () => pluginError(DECODE_RESPONSE_ERROR);
  if (doc.kind !== "CredentialProviderResponse") throw bad();
  for (const k of Object.keys(doc)) {
    if (!["kind", "apiVersion", "cacheKeyType", "cacheDuration", "auth"].includes(k)) throw bad();
  }
  const ckt = doc.cacheKeyType;
  if (ckt !== undefined && ckt !== null && typeof ckt !== "string") throw bad();
  let cacheDurationMs: number | undefined;
  const cd = doc.cacheDuration;
  if (cd !== undefined && cd !== null) {
    if (typeof cd !== "string") throw bad();
    try {
      cacheDurationMs = parseGoDuration(cd);
    } catch {
      throw bad();
    }
  }
  const auth: CredentialProviderResponse["auth"] = [];
  const a = doc.auth;
  if (a !== undefined && a !== null) {
    if (!isObject(a)) throw bad();
    for (const [pattern, entry] of Object.entries(a)) {
      if (entry === null) {
        auth.push([pattern, { username: "", password: "" }]);
        continue;
      }
      if (!isObject(entry)) throw bad();
      for (const k of Object.keys(entry)) if (k !== "username" && k !== "password") throw bad();
      const { username = "", password = "" } = entry as { username?: unknown; password?: unknown };
      if (
        (username !== null && typeof username !== "string") ||
        (password !== null && typeof password !== "string")
      ) {
        throw bad();
      }
      auth.push([pattern, { username: username ?? "", password: password ?? "" }]);
    }
  }
  return { cacheKeyType: typeof ckt === "string" ? ckt : "", cacheDurationMs, auth };
}

/** The request the kubelet writes (runtime JSON encoder: TypeMeta first, trailing newline). */
export function credentialProviderRequest(apiVersion: string, image: string): string {
  return `${JSON.stringify({ kind: "CredentialProviderRequest", apiVersion, image })}\n`;
}

function oneLine(s: string): string {
  const t = s.replace(/\s*\n\s*/g, " ").trim();
  return t.length > 512 ? `${t.slice(0, 512)}…` : t;
}

export interface ExecPluginOptions {
  binDir: string;
  name: string;
  apiVersion: string;
  args?: readonly string[] | undefined;
  env?: readonly ExecEnvVar[] | undefined;
  /** The kubelet's environment (os.Environ); default process.env. */
  baseEnv?: NodeJS.ProcessEnv | undefined;
  timeoutMs?: number | undefined;
}

/** plugin.go `execPlugin.ExecPlugin`: run the plugin for `image`, return its decoded response. */
export async function execCredentialProviderPlugin(
  opts: ExecPluginOptions,
  image: string,
): Promise<CredentialProviderResponse> {
  const program = join(opts.binDir, opts.name);
  const timeoutMs = opts.timeoutMs ?? DEFAULT_PLUGIN_TIMEOUT_MS;
  // mergeEnvVars: the kubelet's environment, then the config's (a later duplicate wins in Go exec)
  const env: NodeJS.ProcessEnv = { ...(opts.baseEnv ?? process.env) };
  for (const v of opts.env ?? []) env[v.name] = v.value;
  const prefix = `error execing credential provider plugin ${opts.name} for image ${image}`;
  const r = await runBounded({
    program,
    args: opts.args ?? [],
    input: credentialProviderRequest(opts.apiVersion, image),
    env,
    timeoutMs,
    stdoutMax: STDOUT_MAX,
    stderrMax: STDERR_MAX,
  });
  if (r.kind === "spawn-error") {
    const e = r.error;
    const msg =
      e.code === "ENOENT"
        ? "no such file or directory"
        : e.code === "EACCES"
          ? "permission denied"
          : e.message;
    throw pluginError(`${prefix}: fork/exec ${program}: ${msg}: `);
  }
  // Upstream appends the plugin's stderr to the error; kimg never does (it may hold a secret,
  // issue 18): the error keeps it as `withheld`, shown only with --debug.
  const stderr = oneLine(r.stderr);
  const hidden = (why: string): KimgError =>
    pluginError(
      `${prefix}: ${why}: ${stderr === "" ? "" : `stderr not shown (it may hold secrets; to see it, run ${program} with the request on stdin)`}`,
      stderr === "" ? undefined : { from: program, text: stderr },
    );
  if (r.kind === "timeout" || r.kind === "aborted") throw hidden("context deadline exceeded");
  if (r.kind === "overflow") throw hidden(`output over ${STDOUT_MAX} bytes`);
  if (r.code !== 0) {
    throw hidden(
      r.signal !== null
        ? `signal: ${r.signal === "SIGKILL" ? "killed" : r.signal}`
        : `exit status ${r.code}`,
    );
  }
  return parseCredentialProviderResponse(r.stdout, opts.apiVersion);
}

// ---- the provider: cache, singleflight, keyring entries --------------------------------------

export interface PluginProviderOptions {
  /** `--image-credential-provider-bin-dir`. */
  binDir: string;
  /** Clock in ms; default Date.now. */
  now?: (() => number) | undefined;
  /** Exec timeout; default 1 minute. */
  timeoutMs?: number | undefined;
  /** The kubelet's environment; default process.env. */
  env?: NodeJS.ProcessEnv | undefined;
  /** A plugin failure (the provider then contributes nothing), or a disabled provider. */
  onError?: ((error: KimgError, provider: string) => void) | undefined;
}

interface CacheEntry {
  entries: [string, AuthCredential][];
  expiresAt: number;
}

/** One configured plugin: plugin.go `pluginProvider` (without service-account-token mode). */
export class PluginProvider {
  readonly spec: CredentialProviderSpec;
  readonly #opts: PluginProviderOptions;
  readonly #now: () => number;
  readonly #cache = new Map<string, CacheEntry>();
  readonly #inflight = new Map<string, Promise<CredentialProviderResponse>>();
  #lastPurge: number;
  /** Number of plugin executions (for tests and diagnostics). */
  execCount = 0;

  constructor(spec: CredentialProviderSpec, opts: PluginProviderOptions) {
    this.spec = spec;
    this.#opts = opts;
    this.#now = opts.now ?? Date.now;
    this.#lastPurge = this.#now();
  }

  /** plugin.go `isImageAllowed`: some matchImages pattern matches (URLsMatchStr). */
  isImageAllowed(image: string): boolean {
    return this.spec.matchImages.some((m) => urlsMatchStr(m, image));
  }

  #cached(image: string): CacheEntry | undefined {
    const now = this.#now();
    if (now > this.#lastPurge + CACHE_PURGE_INTERVAL_MS) {
      for (const [k, e] of this.#cache) if (now > e.expiresAt) this.#cache.delete(k);
      this.#lastPurge = now;
    }
    for (const key of [image, parseRegistry(image), GLOBAL_CACHE_KEY]) {
      const e = this.#cache.get(key);
      if (e === undefined) continue;
      // cacheExpirationPolicy.IsExpired: clock.Now().After(expiresAt)
      if (now > e.expiresAt) {
        this.#cache.delete(key);
        continue;
      }
      return e;
    }
    return undefined;
  }

  /** plugin.go `provide`: the DockerConfig entries for `image` (empty on any failure). */
  async provide(image: string): Promise<[string, AuthCredential][]> {
    if (!this.isImageAllowed(image)) return [];
    const hit = this.#cached(image);
    if (hit !== undefined) return hit.entries;
    let pending = this.#inflight.get(image);
    if (pending === undefined) {
      this.execCount++;
      pending = execCredentialProviderPlugin(
        {
          binDir: this.#opts.binDir,
          name: this.spec.name,
          apiVersion: this.spec.apiVersion,
          args: this.spec.args,
          env: this.spec.env,
          ...(this.#opts.env !== undefined ? { baseEnv: this.#opts.env } : {}),
          ...(this.#opts.timeoutMs !== undefined ? { timeoutMs: this.#opts.timeoutMs } : {}),
        },
        image,
      );
      const p = pending;
      this.#inflight.set(image, p);
      p.then(
        () => this.#inflight.delete(image),
        () => this.#inflight.delete(image),
      );
    }
    let response: CredentialProviderResponse;
    try {
      response = await pending;
    } catch (e) {
      this.#report(e);
      return [];
    }
    let key: string;
    switch (response.cacheKeyType) {
      case "Image":
        key = image;
        break;
      case "Registry":
        key = parseRegistry(image);
        break;
      case "Global":
        key = GLOBAL_CACHE_KEY;
        break;
      default:
        this.#report(
          pluginError(
            `credential provider plugin did not return a valid cacheKeyType: ${goQuote(response.cacheKeyType)}`,
          ),
        );
        return [];
    }
    const source = `credential provider ${this.spec.name}`;
    const entries: [string, AuthCredential][] = response.auth.map(([pattern, a]) => [
      pattern,
      new AuthCredential({
        username: a.username,
        password: a.password,
        source,
        origin: NODE_ORIGIN,
      }),
    ]);
    // explicit 0: not cached; absent: the provider's default (0 → not cached)
    if (response.cacheDurationMs === 0) return entries;
    const ttl = response.cacheDurationMs ?? this.spec.defaultCacheDurationMs ?? 0;
    if (response.cacheDurationMs === undefined && ttl === 0) return entries;
    this.#cache.set(key, { entries, expiresAt: this.#now() + ttl });
    return entries;
  }

  #report(e: unknown): void {
    const err =
      e instanceof KimgError ? e : pluginError(e instanceof Error ? e.message : String(e));
    this.#opts.onError?.(err, this.spec.name);
  }
}

/** plugin.go `parseRegistry`: the first `/`-separated part of the image. */
export function parseRegistry(image: string): string {
  const i = image.indexOf("/");
  return i < 0 ? image : image.slice(0, i);
}

export interface CredentialProviderPlugins extends CredentialProvider {
  readonly providers: readonly PluginProvider[];
}

async function isExecutableFile(path: string): Promise<"ok" | "missing" | "noexec"> {
  try {
    const st = await stat(path);
    if (st.isDirectory()) return "noexec";
    await access(path, constants.X_OK);
    return "ok";
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return code === "ENOENT" || code === "ENOTDIR" ? "missing" : "noexec";
  }
}

/**
 * plugin.go `RegisterCredentialProviderPlugins` + plugins.go keyring: checks the bin dir and every
 * plugin binary, then answers lookups with every allowed provider's entries in one keyring
 * (config order for equal keys). Providers in service-account-token mode are disabled (reported).
 */
export async function credentialProviderPlugins(
  config: CredentialProviderConfig,
  opts: PluginProviderOptions,
): Promise<CredentialProviderPlugins> {
  try {
    await stat(opts.binDir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") {
      throw new KimgError(
        "INPUT_UNREADABLE",
        `plugin binary directory ${opts.binDir} did not exist`,
      );
    }
    throw new KimgError(
      "INPUT_UNREADABLE",
      `error inspecting binary directory ${opts.binDir}: ${(e as Error).message}`,
    );
  }
  const errs = validateCredentialProviderConfig(config);
  if (errs.length > 0) {
    throw new KimgError(
      "INPUT_INVALID",
      `failed to validate credential provider config: ${aggregateMessage(errs)}`,
    );
  }
  const providers: PluginProvider[] = [];
  for (const spec of config.providers) {
    const path = join(opts.binDir, spec.name);
    const state = await isExecutableFile(path);
    // exec.LookPath returns "" with its error, hence upstream's empty path in this message
    if (state === "missing") {
      throw new KimgError("INPUT_UNREADABLE", "plugin binary executable  did not exist");
    }
    if (state === "noexec") {
      throw new KimgError(
        "INPUT_UNREADABLE",
        `error inspecting binary executable : exec: ${goQuote(path)}: permission denied`,
      );
    }
    if (spec.tokenAttributes !== undefined) {
      opts.onError?.(
        new KimgError(
          "CREDENTIAL_HELPER_FAILED",
          `credential provider ${spec.name}: service account token mode (tokenAttributes) is not supported by kimg (no API server to issue tokens); provider disabled`,
        ),
        spec.name,
      );
      continue;
    }
    providers.push(new PluginProvider(spec, opts));
  }
  return {
    name: "credential provider plugins",
    providers,
    async lookupAll(repo) {
      const configs = await Promise.all(providers.map((p) => p.provide(repo)));
      const keyring = new DockerKeyring();
      for (const c of configs) keyring.add(c);
      return keyring.lookup(repo);
    },
  };
}
