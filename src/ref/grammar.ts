// The reference grammar of distribution/reference (regexp.go), as JavaScript regular
// expressions. Pure: no I/O.
//
// Built piece by piece exactly like upstream so the two can be compared line by line:
// github.com/distribution/reference regexp.go @ 0965666a (v0.6.0 behaviour). Go's RE2 picks
// submatches with Perl's leftmost-first preferences, which is what V8 does too, so the
// captures agree (see ../../docs/reference.md). Two translations: `[[:xdigit:]]` becomes
// `[0-9A-Fa-f]` and `\w` is ASCII `[A-Za-z0-9_]` in both engines without the `u` flag.

import {
  type Captures,
  isDigest,
  isDomain,
  isGoDigest,
  LONG_INPUT,
  linearName,
  linearReference,
  linearRemote,
} from "./linear-match.ts";

// alphanumeric: one or more lowercase letters and digits.
const alphanumeric = "[a-z0-9]+";
// separator: a period, one or two underscores, or one or more hyphens. Upstream wrote
// `[._]|__|[-]*` before distribution commit d1c186812 (2022); same language, no empty match.
const separator = "(?:[._]|__|[-]+)";
// pathComponent: alphanumerics joined by separators.
const pathComponent = `${alphanumeric}(?:${separator}${alphanumeric})*`;
// domainNameComponent: a DNS label; upper case allowed, no underscore.
const domainNameComponent = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
// ipv6address: brackets around hex digits and colons only (no zone, no dotted tail).
const ipv6address = "\\[(?:[a-fA-F0-9:]+)\\]";
const domainName = `${domainNameComponent}(?:\\.${domainNameComponent})*`;
const host = `(?:${domainName}|${ipv6address})`;
// optionalPort: any number of digits; upstream checks no 0..65535 range.
const optionalPort = "(?::[0-9]+)?";
const domainAndPort = `${host}${optionalPort}`;
const remoteName = `${pathComponent}(?:/${pathComponent})*`;

/** A tag: up to 128 word characters, periods and hyphens, not starting with `.` or `-`. */
export const TAG = "[\\w][\\w.-]{0,127}";
/** A digest: algorithm components joined by `-_+.`, a colon, at least 32 hex digits. */
export const DIGEST = "[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][0-9A-Fa-f]{32,}";

/**
 * The whole reference, anchored. Upstream's ReferenceRegexp captures the name, then splits it
 * with anchoredNameRegexp; capturing domain and path here in one pass gives the same split
 * (the optional `domain/` group is greedy in both) and saves a second match on the hot path.
 * Groups: 1 domain (may be undefined), 2 path, 3 tag, 4 digest.
 */
export const REFERENCE_RE = new RegExp(
  `^(?:(${domainAndPort})/)?(${remoteName})(?::(${TAG}))?(?:@(${DIGEST}))?$`,
);
/**
 * A reference below its domain (path, tag, digest), anchored; groups 1 path, 2 tag, 3 digest.
 * Not upstream's: the fast path of ParseNormalizedNamed uses it once the domain is known. Its
 * digest alternative is the subset of DIGEST that go-digest accepts (a known algorithm, the
 * exact number of lower-case hex digits), so a match needs no further digest check beyond
 * the caller's algorithm set.
 */
export const REMOTE_REFERENCE_RE = new RegExp(
  `^(${remoteName})(?::(${TAG}))?(?:@(sha256:[a-f0-9]{64}|sha384:[a-f0-9]{96}|sha512:[a-f0-9]{128}))?$`,
);
/**
 * The reference regexp below a known valid domain, anchored: groups 1 path, 2 tag, 3 digest.
 * For a valid domain D, REFERENCE_RE matches `D/R` exactly when this matches R, with the same
 * captures (the domain group cannot extend past the first "/").
 */
export const REMOTE_FULL_RE = new RegExp(`^(${remoteName})(?::(${TAG}))?(?:@(${DIGEST}))?$`);
/** A whole domain (host and optional port), anchored. */
export const ANCHORED_DOMAIN_RE = new RegExp(`^${domainAndPort}$`);
/** anchoredNameRegexp: groups 1 domain, 2 path. */
export const ANCHORED_NAME_RE = new RegExp(`^(?:(${domainAndPort})/)?(${remoteName})$`);
/** anchoredTagRegexp */
export const ANCHORED_TAG_RE = new RegExp(`^${TAG}$`);
/** anchoredDigestRegexp */
export const ANCHORED_DIGEST_RE = new RegExp(`^${DIGEST}$`);
/** anchoredIdentifierRegexp: a 64-character lowercase hex image ID. */
export const ANCHORED_IDENTIFIER_RE = /^[a-f0-9]{64}$/;
/** go-digest's DigestRegexp, used to tell "unsupported" from "invalid format". */
export const GO_DIGEST_RE = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;

// ---- Matching, safe on inputs of any length ----
// Short inputs (all real ones) use the regular expressions; very long ones the linear
// scanners, which accept the same language (see linear-match.ts).

/** REFERENCE_RE.exec: [whole, domain, path, tag, digest] or null. */
export function execReference(s: string): Captures | null {
  if (s.length > LONG_INPUT) return linearReference(s);
  return REFERENCE_RE.exec(s) as Captures | null;
}

/** REMOTE_REFERENCE_RE (strict) or REMOTE_FULL_RE exec: [whole, path, tag, digest] or null. */
export function execRemote(
  s: string,
  strict: boolean,
): [string, string, string | undefined, string | undefined] | null {
  if (s.length > LONG_INPUT) return linearRemote(s, strict);
  return (strict ? REMOTE_REFERENCE_RE : REMOTE_FULL_RE).exec(s) as
    | [string, string, string | undefined, string | undefined]
    | null;
}

/** ANCHORED_NAME_RE.exec: [whole, domain, path] or null. */
export function execName(s: string): [string, string | undefined, string] | null {
  if (s.length > LONG_INPUT) return linearName(s);
  return ANCHORED_NAME_RE.exec(s) as [string, string | undefined, string] | null;
}

export function matchesDomain(s: string): boolean {
  return s.length > LONG_INPUT ? isDomain(s, 0, s.length) : ANCHORED_DOMAIN_RE.test(s);
}

export function matchesDigest(s: string): boolean {
  return s.length > LONG_INPUT ? isDigest(s, 0, s.length) : ANCHORED_DIGEST_RE.test(s);
}

export function matchesGoDigest(s: string): boolean {
  return s.length > LONG_INPUT ? isGoDigest(s) : GO_DIGEST_RE.test(s);
}
