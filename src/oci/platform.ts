// Platforms: parse a specifier ("linux/arm/v7"), normalize, format, match and rank, and pick
// the manifest of an index for a platform. Pure: no I/O. Where containerd reads the host
// (runtime.GOOS, GOARCH, /proc/cpuinfo, uname), the caller passes what it read: `hostPlatform`,
// `fromNodeArch`, `fromNodePlatform`, `cpuVariantFromCpuinfo` turn Node's and Linux's answers
// into containerd's, and `opts.host` / `opts.hostOS` carry them in.
//
// A port of containerd/platforms (checked at 09756f5, 2026-03-31; the source wins over
// ../shared/specs/registry.md §4):
// - database.go: `isKnownOS`, `isKnownArch`, `isArmArch`, `normalizeOS`, `normalizeArch`.
// - platforms.go: `Parse` (incl. `os(version+feature)` options, percent-encoded), `Format`,
//   `FormatAll`, `Normalize`, `NewMatcher` (os/arch/variant equal after normalization, Windows
//   os.version compatibility, candidate os.features ⊆ wanted os.features). os.version is
//   parsed for every OS but only compared for Windows: `linux(7.2)/amd64` matches any linux.
// - compare.go: `platformVector`, `Only`, `OnlyStrict`, `Ordered` and its `Less` (earlier
//   vector entries rank higher; among equal matches more os.features win; if neither matches,
//   compare again without os.features).
// - platform_windows_compat.go: Windows build compatibility (LTSC 2022 / 2025 stable ABI) and
//   the win32k feature that older matchers ignored.
// - defaults_unix.go, cpuinfo.go, cpuinfo_linux.go: the default platform and the ARM variant.
// - containerd core/images/handlers.go `FilterPlatforms` + `LimitManifests` and client/pull.go:
//   how a pull picks one manifest of an index (`selectManifest`).
//
// Differences from containerd (and from the spec's summary):
// - Anything containerd takes from the running process is a parameter. `parsePlatform` of an
//   OS-only or architecture-only specifier needs `opts.host` and throws without it. An empty
//   `os` normalizes to `opts.hostOS`, or stays empty.
// - `platformVector` stops after 128 lower amd64 / arm versions: Go would loop ~2^63 times for
//   `amd64/v9223372036854775807` (Atoi succeeds); no real variant is near the cap.
// - `OnlyOS`, `Any`, `All` and the Windows-host-only `windowsMatchComparer` are not ported.
// - Go compares strings by bytes; the feature sort here compares code points, which is the
//   same order.
// - registry.md §4.1 says `arm64` normalizes v8 away and `Parse` keeps it: both are true.
//   `Parse("linux/arm64/v8")` returns variant "v8" (platforms.go case 3) and `Normalize` then
//   drops it; matching normalizes both sides, so the two forms match each other.
// - The error for "no entry matches" says "no match for platform …" like containerd's
//   LimitManifests, and adds the wanted platform and the platforms the index offers.

import { KimgError } from "../errors.ts";
import { goQuote } from "../go/index.ts";
import { goToLower } from "../ref/index.ts";
import type { Descriptor } from "./descriptor.ts";
import type { ImageIndex } from "./image-index.ts";

/** An OCI platform (image-spec image-index.md `platform`, config.md). */
export interface Platform {
  readonly os: string;
  readonly architecture: string;
  /** CPU variant: `v7` for arm, `v8.2` for arm64, `v3` for amd64… */
  readonly variant?: string;
  /** `os.version`: the Windows build, e.g. `10.0.20348.3091`. */
  readonly osVersion?: string;
  /** `os.features`: e.g. `win32k`. */
  readonly osFeatures?: readonly string[];
}

/** Builds a Platform, leaving out empty optional fields (Go's `omitempty`). */
function platformOf(
  os: string,
  architecture: string,
  variant: string,
  osVersion: string,
  osFeatures: readonly string[] | undefined,
): Platform {
  return {
    os,
    architecture,
    ...(variant === "" ? {} : { variant }),
    ...(osVersion === "" ? {} : { osVersion }),
    ...(osFeatures === undefined || osFeatures.length === 0 ? {} : { osFeatures }),
  };
}

// ---------------------------------------------------------------------------------------------
// database.go

const KNOWN_OS: ReadonlySet<string> = new Set([
  "aix",
  "android",
  "darwin",
  "dragonfly",
  "freebsd",
  "hurd",
  "illumos",
  "ios",
  "js",
  "linux",
  "nacl",
  "netbsd",
  "openbsd",
  "plan9",
  "solaris",
  "windows",
  "zos",
]);

const KNOWN_ARCH: ReadonlySet<string> = new Set([
  "386",
  "amd64",
  "amd64p32",
  "arm",
  "armbe",
  "arm64",
  "arm64be",
  "ppc64",
  "ppc64le",
  "loong64",
  "mips",
  "mipsle",
  "mips64",
  "mips64le",
  "mips64p32",
  "mips64p32le",
  "ppc",
  "riscv",
  "riscv64",
  "s390",
  "s390x",
  "sparc",
  "sparc64",
  "wasm",
]);

/** An operating system Go knows (go/build syslist.go); `os` should be normalized. */
export function isKnownOS(os: string): boolean {
  return KNOWN_OS.has(os);
}

/** An architecture Go knows (go/build syslist.go); `arch` should be normalized. */
export function isKnownArch(arch: string): boolean {
  return KNOWN_ARCH.has(arch);
}

function isArmArch(arch: string): boolean {
  return arch === "arm" || arch === "arm64";
}

/** containerd normalizeOS: lower case, `macos` → `darwin`, empty → the host's OS. */
export function normalizeOS(os: string, hostOS?: string): string {
  if (os === "") return hostOS ?? "";
  const lower = goToLower(os);
  return lower === "macos" ? "darwin" : lower;
}

/** containerd normalizeArch: Go's names for architectures, the default variants dropped. */
export function normalizeArch(
  arch: string,
  variant: string,
): { architecture: string; variant: string } {
  let a = goToLower(arch);
  let v = goToLower(variant);
  switch (a) {
    case "i386":
      a = "386";
      v = "";
      break;
    case "x86_64":
    case "x86-64":
    case "amd64":
      a = "amd64";
      if (v === "v1") v = "";
      break;
    case "aarch64":
    case "arm64":
      a = "arm64";
      if (v === "8" || v === "v8" || v === "v8.0") v = "";
      else if (v === "9" || v === "9.0" || v === "v9.0") v = "v9";
      break;
    case "armhf":
      a = "arm";
      v = "v7";
      break;
    case "armel":
      a = "arm";
      v = "v6";
      break;
    case "arm":
      if (v === "" || v === "7") v = "v7";
      else if (v === "5" || v === "6" || v === "8") v = `v${v}`;
      break;
  }
  return { architecture: a, variant: v };
}

/** Go's string order (by bytes, i.e. by code point for valid UTF-8). */
function goCompare(a: string, b: string): number {
  if (a === b) return 0;
  const ia = a[Symbol.iterator]();
  const ib = b[Symbol.iterator]();
  for (;;) {
    const x = ia.next();
    const y = ib.next();
    if (x.done === true) return y.done === true ? 0 : -1;
    if (y.done === true) return 1;
    const cx = x.value.codePointAt(0) ?? 0;
    const cy = y.value.codePointAt(0) ?? 0;
    if (cx !== cy) return cx < cy ? -1 : 1;
  }
}

export interface NormalizeOptions {
  /** What an empty `os` becomes (containerd: runtime.GOOS). Default: stays empty. */
  readonly hostOS?: string | undefined;
}

/**
 * containerd platforms.Normalize: OS and architecture in Go's spelling, default variants
 * dropped (arm64 v8, amd64 v1; arm's default is spelled out as v7), os.features sorted and
 * de-duplicated. `aarch64` → arm64, `armhf` → arm/v7, `armel` → arm/v6, `x86_64` → amd64,
 * `i386` → 386, `macos` → darwin.
 */
export function normalizePlatform(p: Platform, opts?: NormalizeOptions): Platform {
  const os = normalizeOS(p.os, opts?.hostOS);
  const { architecture, variant } = normalizeArch(p.architecture, p.variant ?? "");
  let features = p.osFeatures;
  if (features !== undefined && features.length > 0) {
    const sorted = [...features].sort(goCompare);
    features = sorted.filter((f, i) => i === 0 || f !== sorted[i - 1]);
  }
  return platformOf(os, architecture, variant, p.osVersion ?? "", features);
}

// ---------------------------------------------------------------------------------------------
// platforms.go: Parse, Format, FormatAll

// The patterns as Go prints them (`%q` of regexp.String()), for messages.
const SPECIFIER_PATTERN = "^[A-Za-z0-9_.-]+$";
const OS_PATTERN = "^([A-Za-z0-9_-]+)(?:\\(([A-Za-z0-9_.%-]*)((?:\\+[A-Za-z0-9_.%-]+)*)\\))?$";
const SPECIFIER_RE = new RegExp(SPECIFIER_PATTERN);
// No nested ambiguity (each repetition starts with "+", which the classes exclude), so this
// backtracking regexp stays linear like Go's RE2.
const OS_RE = new RegExp(OS_PATTERN);

function invalidPlatform(message: string): never {
  throw new KimgError("INVALID_PLATFORM", `${message}: invalid argument`);
}

const HEX = /^[0-9A-Fa-f]$/;

/**
 * Go's url.PathUnescape (`+` stays `+`). Its input here passed OS_RE, so it is ASCII. Go keeps
 * escaped bytes that are not UTF-8 as they are; they become U+FFFD here.
 */
function pathUnescape(s: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    if (s.charAt(i) === "%") {
      if (i + 2 >= s.length || !HEX.test(s.charAt(i + 1)) || !HEX.test(s.charAt(i + 2))) {
        // EscapeError: "invalid URL escape " + strconv.Quote(s[i:i+3])
        throw new Error(`invalid URL escape ${goQuote(s.slice(i, i + 3))}`);
      }
      bytes.push(Number.parseInt(s.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      bytes.push(s.charCodeAt(i) & 0xff);
    }
  }
  return new TextDecoder().decode(new Uint8Array(bytes));
}

function decodeOSOption(v: string): string {
  return v.includes("%") ? pathUnescape(v) : v;
}

function encodeOSOption(v: string): string {
  // strings.NewReplacer: one pass, so "%" is never encoded twice.
  return v.replace(/[%+()/]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function parseOSFeatures(s: string): string[] {
  if (s === "") return [];
  const features: string[] = [];
  for (const piece of s.split("+")) {
    const raw = piece.trim();
    if (raw === "") throw new Error("empty os feature: invalid argument");
    let feature: string;
    try {
      feature = decodeOSOption(raw);
    } catch (e) {
      throw new Error(`invalid os feature ${goQuote(raw)}: ${(e as Error).message}`);
    }
    if (feature !== "") features.push(feature);
  }
  return features;
}

export interface ParsePlatformOptions {
  /**
   * The host platform (see `hostPlatform`): an OS-only specifier takes its architecture (and
   * its variant, on arm when not v7), an architecture-only one its OS. Needed only for those.
   */
  readonly host?: Platform | undefined;
}

/**
 * containerd platforms.Parse: `<os>[(<os.version>[+<feature>]*)]`, `<arch>` or
 * `<os>/<arch>[/<variant>]`. OS and architecture are normalized; `linux/arm` and `linux/arm/v7`
 * differ only in how they print (variant "" versus "v7"); `linux/arm64/v8` keeps "v8". A
 * single word is an OS if Go knows it, else an architecture if Go knows that (the missing half
 * comes from `opts.host`). Throws INVALID_PLATFORM with containerd's message.
 *
 * @example parsePlatform("linux/arm/v7") // { os: "linux", architecture: "arm", variant: "v7" }
 */
export function parsePlatform(specifier: string, opts?: ParsePlatformOptions): Platform {
  if (specifier.includes("*")) {
    invalidPlatform(`${goQuote(specifier)}: wildcards not yet supported`);
  }
  // strings.SplitN(specifier, "/", 4)
  const all = specifier.split("/");
  const parts = all.length > 4 ? [...all.slice(0, 3), all.slice(3).join("/")] : all;

  let os = "";
  let osVersion = "";
  let osFeatures: string[] = [];
  for (const [i, part] of parts.entries()) {
    if (i === 0) {
      const m = OS_RE.exec(part);
      if (m === null) {
        invalidPlatform(
          `${goQuote(part)} is an invalid OS component of ${goQuote(specifier)}: OSAndVersion specifier component must match ${goQuote(OS_PATTERN)}`,
        );
      }
      os = normalizeOS(m[1] ?? "");
      const version = m[2] ?? "";
      try {
        osVersion = decodeOSOption(version);
      } catch (e) {
        throw new KimgError(
          "INVALID_PLATFORM",
          `${goQuote(specifier)} has an invalid OS version ${goQuote(version)}: ${(e as Error).message}`,
        );
      }
      const features = m[3] ?? "";
      if (features !== "") {
        try {
          osFeatures = parseOSFeatures(features.slice(1));
        } catch (e) {
          throw new KimgError(
            "INVALID_PLATFORM",
            `${goQuote(specifier)} has invalid OS features: ${(e as Error).message}`,
          );
        }
      }
    } else if (!SPECIFIER_RE.test(part)) {
      invalidPlatform(
        `${goQuote(part)} is an invalid component of ${goQuote(specifier)}: platform specifier component must match ${goQuote(SPECIFIER_PATTERN)}`,
      );
    }
  }

  const host = opts?.host;
  const needHost = (): Platform => {
    if (host === undefined) {
      throw new KimgError(
        "INVALID_PLATFORM",
        `${goQuote(specifier)}: an OS-only or architecture-only specifier needs the host platform (opts.host)`,
      );
    }
    return host;
  };

  switch (parts.length) {
    case 1: {
      if (isKnownOS(os)) {
        // "picks a default architecture": the host's, with its variant on arm unless v7.
        const h = needHost();
        const variant = h.architecture === "arm" && h.variant !== "v7" ? (h.variant ?? "") : "";
        return platformOf(os, h.architecture, variant, osVersion, osFeatures);
      }
      const a = normalizeArch(parts[0] ?? "", "");
      const variant = a.architecture === "arm" && a.variant === "v7" ? "" : a.variant;
      if (isKnownArch(a.architecture)) {
        return platformOf(needHost().os, a.architecture, variant, osVersion, osFeatures);
      }
      return invalidPlatform(`${goQuote(specifier)}: unknown operating system or architecture`);
    }
    case 2: {
      const a = normalizeArch(parts[1] ?? "", "");
      const variant = a.architecture === "arm" && a.variant === "v7" ? "" : a.variant;
      return platformOf(os, a.architecture, variant, osVersion, osFeatures);
    }
    case 3: {
      const a = normalizeArch(parts[1] ?? "", parts[2] ?? "");
      const variant = a.architecture === "arm64" && a.variant === "" ? "v8" : a.variant;
      return platformOf(os, a.architecture, variant, osVersion, osFeatures);
    }
    default:
      return invalidPlatform(`${goQuote(specifier)}: cannot parse platform specifier`);
  }
}

/** Go's path.Clean. */
function cleanPath(p: string): string {
  if (p === "") return ".";
  const rooted = p.startsWith("/");
  const out: string[] = [];
  for (const seg of p.split("/")) {
    if (seg === "" || seg === ".") continue;
    if (seg === "..") {
      if (out.length > 0 && out[out.length - 1] !== "..") out.pop();
      else if (!rooted) out.push("..");
      continue;
    }
    out.push(seg);
  }
  const s = (rooted ? "/" : "") + out.join("/");
  return s === "" ? "." : s;
}

/** Go's path.Join: the non-empty elements joined with "/" and cleaned; "" if all are empty. */
function pathJoin(...elems: string[]): string {
  const joined = elems.filter((e) => e !== "").join("/");
  return joined === "" ? "" : cleanPath(joined);
}

/**
 * containerd platforms.Format: `os/arch[/variant]`, or "unknown" without an OS. Leaves out
 * os.version and os.features (see `formatPlatformAll`).
 */
export function formatPlatform(p: Platform): string {
  if (p.os === "") return "unknown";
  return pathJoin(p.os, p.architecture, p.variant ?? "");
}

function formatOSFeatures(features: readonly string[] | undefined): string {
  if (features === undefined || features.length === 0) return "";
  const sorted = [...features].sort(goCompare);
  const out: string[] = [];
  let prev = "";
  for (const f of sorted) {
    if (f === "" || f === prev) continue; // skip empty and duplicate values
    prev = f;
    out.push(encodeOSOption(f));
  }
  return out.join("+");
}

/**
 * containerd platforms.FormatAll: like `formatPlatform`, with `(os.version+feature…)` after the
 * OS when either is set; `%`, `+`, `(`, `)` and `/` in them are percent-encoded, so
 * `parsePlatform` reads the result back.
 */
export function formatPlatformAll(p: Platform): string {
  if (p.os === "") return "unknown";
  const osv = encodeOSOption(p.osVersion ?? "");
  const features = formatOSFeatures(p.osFeatures);
  if (osv === "" && features === "") return pathJoin(p.os, p.architecture, p.variant ?? "");
  return pathJoin(
    `${p.os}(${osv}${features === "" ? "" : `+${features}`})`,
    p.architecture,
    p.variant ?? "",
  );
}

// ---------------------------------------------------------------------------------------------
// platform_windows_compat.go

interface WindowsOSVersion {
  readonly major: number;
  readonly minor: number;
  readonly build: number;
}

const EMPTY_WINDOWS_VERSION: WindowsOSVersion = { major: 0, minor: 0, build: 0 };
const LTSC2022 = 20348;
/** Stable-ABI LTSC releases, ascending: LTSC 2022 (20348), LTSC 2025 (26100). */
const COMPAT_LTSC_RELEASES: readonly number[] = [LTSC2022, 26100];

/** strconv.ParseUint(s, 10, bits): decimal digits only, within range. */
function parseUint(s: string, max: number): number | undefined {
  if (!/^[0-9]+$/.test(s)) return undefined;
  const n = Number(s);
  return n <= max ? n : undefined;
}

function windowsOSVersion(prefix: string): WindowsOSVersion {
  const dots = prefix.split(".").length - 1;
  if (dots < 2) return EMPTY_WINDOWS_VERSION;
  const [major = "", minor = "", build = ""] = prefix.split(".");
  const ma = parseUint(major, 255);
  const mi = parseUint(minor, 255);
  const b = parseUint(build, 65535);
  if (ma === undefined || mi === undefined || b === undefined) return EMPTY_WINDOWS_VERSION;
  return { major: ma, minor: mi, build: b };
}

/** Can a Windows host of this version run a container image built for `ctr`? */
function windowsCompatible(host: WindowsOSVersion, ctr: WindowsOSVersion): boolean {
  if (host.major !== ctr.major || host.minor !== ctr.minor) return false;
  // Before LTSC 2022 the build must be equal.
  if (host.build < LTSC2022) return host.build === ctr.build;
  // From LTSC 2022 on, a host runs images from the latest LTSC before it up to itself.
  let supported = LTSC2022;
  for (let i = COMPAT_LTSC_RELEASES.length - 1; i >= 0; i--) {
    const r = COMPAT_LTSC_RELEASES[i] ?? LTSC2022;
    if (host.build > r) {
      supported = r;
      break;
    }
  }
  return supported <= ctr.build && ctr.build <= host.build;
}

/**
 * True when a Windows host of version `hostVersion` can run an image of `imageVersion`
 * (`10.0.20348.3091`-style strings). An empty or unparsable host version accepts anything, as
 * does an empty image version (containerd windowsVersionMatcher).
 */
export function windowsVersionCompatible(hostVersion: string, imageVersion: string): boolean {
  const host = windowsOSVersion(hostVersion);
  if ((host.major === 0 && host.minor === 0 && host.build === 0) || imageVersion === "") {
    return true;
  }
  return windowsCompatible(host, windowsOSVersion(imageVersion));
}

// ---------------------------------------------------------------------------------------------
// Matchers (platforms.go NewMatcher, compare.go)

/** containerd's MatchComparer: which platforms match, and which of two is preferred. */
export interface PlatformMatcher {
  /** True when an image of platform `p` suits. */
  match(p: Platform): boolean;
  /** True when `a` is preferred over `b` (sorts first). */
  less(a: Platform, b: Platform): boolean;
}

export interface PlatformMatchOptions extends NormalizeOptions {
  /**
   * containerd OnlyStrict: only the wanted platform itself, no lower variants and no 386 for
   * amd64. Default false (containerd Only, what a pull uses).
   */
  readonly strict?: boolean | undefined;
}

type Match = (p: Platform) => boolean;

function isSubset(features: readonly string[] | undefined, of: readonly string[] | undefined) {
  if (features === undefined || features.length === 0) return true;
  const set = new Set(of ?? []);
  return features.every((f) => set.has(f));
}

/** containerd NewMatcher. */
function newMatcher(platform: Platform, opts: NormalizeOptions | undefined): Match {
  const m = normalizePlatform(platform, opts);
  const windows = platform.os === "windows";
  const hostVersion = windows ? (platform.osVersion ?? "") : "";
  const match: Match = (p) => {
    const n = normalizePlatform(p, opts);
    return (
      m.os === n.os &&
      m.architecture === n.architecture &&
      (m.variant ?? "") === (n.variant ?? "") &&
      (!windows || windowsVersionCompatible(hostVersion, p.osVersion ?? "")) &&
      isSubset(n.osFeatures, m.osFeatures)
    );
  };
  if (!windows) return match;
  // windowsStripFeaturesMatcher: older matchers ignored win32k; drop its first occurrence.
  return (p) => {
    const i = p.osFeatures?.indexOf("win32k") ?? -1;
    if (i < 0 || p.osFeatures === undefined) return match(p);
    return match({ ...p, osFeatures: p.osFeatures.filter((_, j) => j !== i) });
  };
}

function withoutFeatures(p: Platform): Platform {
  const { osFeatures: _, ...rest } = p;
  return rest;
}

function featureCount(p: Platform): number {
  return p.osFeatures?.length ?? 0;
}

/** containerd Ordered: matches any of `platforms`, earlier ones preferred. */
export function orderedPlatformMatcher(
  platforms: readonly Platform[],
  opts?: NormalizeOptions,
): PlatformMatcher {
  const matchers = platforms.map((p) => newMatcher(p, opts));
  const less = (a: Platform, b: Platform): boolean => {
    for (const m of matchers) {
      const am = m(a);
      const bm = m(b);
      if (am && !bm) return true;
      if (am || bm) {
        // Both match: prefer the one with more matching features.
        if (am && bm && featureCount(a) !== featureCount(b)) {
          return featureCount(a) > featureCount(b);
        }
        return false;
      }
    }
    // Neither matched anything: compare again without features.
    if (featureCount(a) > 0 || featureCount(b) > 0) {
      return less(withoutFeatures(a), withoutFeatures(b));
    }
    return false;
  };
  return { match: (p) => matchers.some((m) => m(p)), less };
}

/** The most lower amd64 / arm versions a vector lists (Go has no limit; see header). */
const MAX_VECTOR_VERSIONS = 128;

/** arm64 variant → [majors, highest minor of each] (compare.go arm64variantToVersion). */
const ARM64_VERSIONS: Readonly<Record<string, readonly (readonly [number, number])[]>> = {
  v8: [[8, 0]],
  "v8.0": [[8, 0]],
  "v8.1": [[8, 1]],
  "v8.2": [[8, 2]],
  "v8.3": [[8, 3]],
  "v8.4": [[8, 4]],
  "v8.5": [[8, 5]],
  "v8.6": [[8, 6]],
  "v8.7": [[8, 7]],
  "v8.8": [[8, 8]],
  "v8.9": [[8, 9]],
  v9: [
    [9, 0],
    [8, 5],
  ],
  "v9.0": [
    [9, 0],
    [8, 5],
  ],
  "v9.1": [
    [9, 1],
    [8, 6],
  ],
  "v9.2": [
    [9, 2],
    [8, 7],
  ],
  "v9.3": [
    [9, 3],
    [8, 8],
  ],
  "v9.4": [
    [9, 4],
    [8, 9],
  ],
  "v9.5": [
    [9, 5],
    [8, 9],
  ],
  "v9.6": [
    [9, 6],
    [8, 9],
  ],
  "v9.7": [
    [9, 7],
    [8, 9],
  ],
};

/** strconv.Atoi: optional sign, decimal digits. */
function atoi(s: string): number | undefined {
  return /^[+-]?[0-9]+$/.test(s) ? Number(s) : undefined;
}

/**
 * containerd platformVector: the platforms a host of platform `p` (normalized) can run, best
 * first. amd64/vN → vN…v1, then 386; arm/vN → vN…v5; arm64/v8.x → v8.x…v8, then arm/v8…v5;
 * arm64/v9.x → v9.x…v9, v8.(x+5)…v8, then arm/v8…v5. An arm64 variant containerd does not
 * know gives an EMPTY vector (containerd matches nothing then, not even itself).
 */
export function platformVector(p: Platform): Platform[] {
  const variantOf = (base: Platform, variant: string): Platform =>
    platformOf(base.os, base.architecture, variant, base.osVersion ?? "", base.osFeatures);
  const withArch = (arch: string, variant: string): Platform =>
    platformOf(p.os, arch, variant, p.osVersion ?? "", p.osFeatures);
  const vector: Platform[] = [p];
  switch (p.architecture) {
    case "amd64": {
      const n = atoi((p.variant ?? "").replace(/^v/, ""));
      if (n !== undefined && n > 1) {
        for (let v = n - 1, k = 0; v >= 1 && k < MAX_VECTOR_VERSIONS; v--, k++) {
          vector.push(variantOf(p, `v${v}`));
        }
      }
      vector.push(withArch("386", ""));
      return vector;
    }
    case "arm": {
      const n = atoi((p.variant ?? "").replace(/^v/, ""));
      if (n !== undefined && n > 5) {
        for (let v = n - 1, k = 0; v >= 5 && k < MAX_VECTOR_VERSIONS; v--, k++) {
          vector.push(variantOf(p, `v${v}`));
        }
      }
      return vector;
    }
    case "arm64": {
      const variant = p.variant === undefined || p.variant === "" ? "v8" : p.variant;
      const versions = Object.hasOwn(ARM64_VERSIONS, variant) ? ARM64_VERSIONS[variant] : undefined;
      if (versions === undefined) return [];
      const out: Platform[] = [];
      for (const [major, highest] of versions) {
        for (let minor = highest; minor >= 0; minor--) {
          out.push(withArch("arm64", minor === 0 ? `v${major}` : `v${major}.${minor}`));
        }
      }
      // Every arm64 v8.x / v9.x runs 32-bit arm v8 and below.
      out.push(...platformVector(withArch("arm", "v8")));
      return out;
    }
    default:
      return vector;
  }
}

/**
 * The matcher a pull uses for `wanted` (containerd Only: the platform, then what it can also
 * run, in order), or with `strict` only the platform itself (OnlyStrict). Both normalize.
 */
export function platformMatcher(wanted: Platform, opts?: PlatformMatchOptions): PlatformMatcher {
  const n = normalizePlatform(wanted, opts);
  return orderedPlatformMatcher(opts?.strict === true ? [n] : platformVector(n), opts);
}

/** True when a host wanting `wanted` can use an image for `candidate` (containerd Only). */
export function matchPlatform(
  wanted: Platform,
  candidate: Platform,
  opts?: PlatformMatchOptions,
): boolean {
  return platformMatcher(wanted, opts).match(candidate);
}

/**
 * Orders two candidates for `wanted`: negative when `a` is preferred, positive when `b` is, 0
 * when neither is (keep their order: sort stably). For Array.prototype.sort.
 */
export function comparePlatforms(
  wanted: Platform,
  a: Platform,
  b: Platform,
  opts?: PlatformMatchOptions,
): number {
  const m = platformMatcher(wanted, opts);
  return m.less(a, b) ? -1 : m.less(b, a) ? 1 : 0;
}

// ---------------------------------------------------------------------------------------------
// Picking a manifest (core/images/handlers.go FilterPlatforms + LimitManifests)

export interface SelectManifestOptions extends PlatformMatchOptions {
  /** Names the index in the PLATFORM_NOT_FOUND message (a reference or digest). */
  readonly source?: string | undefined;
}

function entriesOf(index: ImageIndex | readonly Descriptor[]): readonly Descriptor[] {
  return "manifests" in index ? index.manifests : index;
}

/**
 * Every entry of the index a host wanting `wanted` can use, best first: entries whose platform
 * matches, stably sorted by preference, then the entries without a platform (containerd keeps
 * those; the caller decides by their config's platform, see config.ts `configPlatform`).
 * Media types are not looked at, as in containerd.
 */
export function filterManifests(
  index: ImageIndex | readonly Descriptor[],
  wanted: Platform,
  opts?: PlatformMatchOptions,
): Descriptor[] {
  const m = platformMatcher(wanted, opts);
  const kept = entriesOf(index).filter((d) => d.platform === undefined || m.match(d.platform));
  // sort.SliceStable with containerd's less: platform-less entries go last.
  return kept.sort((a, b) => {
    if (a.platform === undefined) return b.platform === undefined ? 0 : 1;
    if (b.platform === undefined) return -1;
    return m.less(a.platform, b.platform) ? -1 : m.less(b.platform, a.platform) ? 1 : 0;
  });
}

/**
 * The entry of an index a pull for `wanted` uses (containerd pull: LimitManifests(…, 1)).
 * Throws PLATFORM_NOT_FOUND naming the wanted platform and those the index offers (BuildKit's
 * `unknown/unknown` attestation entries left out):
 * `no match for platform linux/s390x in index; available: linux/amd64, linux/arm64/v8`.
 */
export function selectManifest(
  index: ImageIndex | readonly Descriptor[],
  wanted: Platform,
  opts?: SelectManifestOptions,
): Descriptor {
  const best = filterManifests(index, wanted, opts)[0];
  if (best !== undefined) return best;
  const offered: string[] = [];
  for (const d of entriesOf(index)) {
    const p = d.platform;
    if (p === undefined || p.os === "unknown" || p.architecture === "unknown") continue;
    const s = formatPlatformAll(p);
    if (!offered.includes(s)) offered.push(s);
  }
  throw new KimgError(
    "PLATFORM_NOT_FOUND",
    `no match for platform ${formatPlatformAll(wanted)} in ${opts?.source ?? "index"}; available: ${offered.length === 0 ? "none" : offered.join(", ")}`,
  );
}

// ---------------------------------------------------------------------------------------------
// The host (defaults_unix.go, cpuinfo.go, cpuinfo_linux.go), from values the caller read

/** What the caller knows of the host, in Go's or Node's spelling. */
export interface HostInfo {
  /** GOOS, or Node's `process.platform` ("win32" → windows). */
  readonly os: string;
  /** GOARCH, or Node's `process.arch` ("x64" → amd64). */
  readonly architecture: string;
  /** The ARM variant (`cpuVariantFromCpuinfo`); ignored for other architectures. */
  readonly variant?: string;
  /** For Node's "ppc64": `os.endianness()`; "LE" means ppc64le. */
  readonly endianness?: "BE" | "LE";
}

/**
 * containerd DefaultSpec: the host's OS and architecture, with the variant only on arm and
 * arm64 (not normalized: arm64 hosts report "v8"). Match with `platformMatcher`, which
 * normalizes. (containerd on darwin also accepts linux/<arch> images, defaults_darwin.go: a
 * caller pulling Kubernetes images on a Mac usually wants `{ ...host, os: "linux" }`.)
 */
export function hostPlatform(host: HostInfo): Platform {
  const os = fromNodePlatform(host.os);
  const architecture = fromNodeArch(host.architecture, host.endianness);
  const variant = isArmArch(architecture) ? (host.variant ?? "") : "";
  return platformOf(os, architecture, variant, "", undefined);
}

/** Node's `process.arch` as GOARCH; Go names pass through. */
export function fromNodeArch(arch: string, endianness?: "BE" | "LE"): string {
  switch (arch) {
    case "x64":
      return "amd64";
    case "ia32":
      return "386";
    case "mipsel":
      return "mipsle";
    case "mips64el":
      return "mips64le";
    case "ppc64":
      // Node says "ppc64" for both byte orders; Linux on POWER is little-endian.
      return endianness === "LE" ? "ppc64le" : "ppc64";
    default:
      return arch;
  }
}

/** Node's `process.platform` as GOOS; Go names pass through. */
export function fromNodePlatform(platform: string): string {
  switch (platform) {
    case "win32":
      return "windows";
    case "sunos":
      return "solaris";
    default:
      return platform;
  }
}

/** The first `key : value` line of /proc/cpuinfo whose key equals `pattern` (any case). */
function cpuinfoField(cpuinfo: string, pattern: string): string | undefined {
  const want = pattern.toLowerCase();
  for (const line of cpuinfo.split("\n")) {
    const list = line.split(":");
    if (list.length > 1 && (list[0] ?? "").trim().toLowerCase() === want) {
      return (list[1] ?? "").trim();
    }
  }
  return undefined;
}

/** containerd getCPUVariantFromArch: the variant number in `uname -m` ("armv7l" → "7"). */
export function cpuVariantFromMachine(machine: string): string | undefined {
  const arch = machine.toLowerCase();
  if (arch === "aarch64") return "8";
  // Go slices arch[0:4] first (and panics when shorter); here short input is just invalid.
  if (arch.startsWith("armv") && arch.length >= 5) {
    const v = arch.slice(3, 5);
    const known: Readonly<Record<string, string>> = {
      v8: "8",
      v7: "7",
      v6: "6",
      v5: "5",
      v4: "4",
      v3: "3",
    };
    return known[v] ?? "unknown";
  }
  return undefined;
}

export interface CpuVariantInput {
  /** GOARCH of the host (or Node's `process.arch`). Only arm and arm64 have variants. */
  readonly architecture: string;
  /** GOOS (or Node's `process.platform`). Default "linux". */
  readonly os?: string | undefined;
  /** The text of /proc/cpuinfo; undefined when it could not be read. */
  readonly cpuinfo?: string | undefined;
  /** `uname -m` (Node: `os.machine()`), used when cpuinfo has no "CPU architecture". */
  readonly machine?: string | undefined;
}

/**
 * containerd's cpuVariant for the host: "v8", "v7", "v6", "v5", "v4", "v3" or "unknown" on
 * arm and arm64, "" elsewhere or when nothing tells (containerd logs the error and uses "").
 * On Linux (cpuinfo_linux.go) it reads the "CPU architecture" field of /proc/cpuinfo, else the
 * machine name when cpuinfo lacks the field (not when it is unreadable), and reports ARMv6 for
 * the Raspberry Pi kernels that say 7 (model name "ARMv6-compatible"). On darwin and windows
 * arm64 is v8 and arm v7; on freebsd arm64 is v8, arm "unknown" (cpuinfo_other.go).
 */
export function cpuVariantFromCpuinfo(input: CpuVariantInput): string {
  const arch = fromNodeArch(input.architecture);
  if (!isArmArch(arch)) return "";
  const os = fromNodePlatform(input.os ?? "linux");
  if (os === "darwin" || os === "windows") return arch === "arm64" ? "v8" : "v7";
  if (os === "freebsd") return arch === "arm64" ? "v8" : "unknown";
  if (os !== "linux") return "";
  const cpuinfo = input.cpuinfo;
  if (cpuinfo === undefined) return "";
  let variant = cpuinfoField(cpuinfo, "Cpu architecture");
  if (variant === undefined) {
    variant = input.machine === undefined ? undefined : cpuVariantFromMachine(input.machine);
    if (variant === undefined) return "";
  }
  if (arch === "arm" && variant === "7") {
    const model = cpuinfoField(cpuinfo, "model name");
    if (model?.toLowerCase().startsWith("armv6-compatible") === true) variant = "6";
  }
  switch (variant.toLowerCase()) {
    case "8":
    case "aarch64":
      return "v8";
    case "7":
    case "7m":
    case "?(12)":
    case "?(13)":
    case "?(14)":
    case "?(15)":
    case "?(16)":
    case "?(17)":
      return "v7";
    case "6":
    case "6tej":
      return "v6";
    case "5":
    case "5t":
    case "5te":
    case "5tej":
      return "v5";
    case "4":
    case "4t":
      return "v4";
    case "3":
      return "v3";
    default:
      return "unknown";
  }
}
