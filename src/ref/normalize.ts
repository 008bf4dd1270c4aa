// Docker's normalization (distribution/reference normalize.go, helpers.go @ 0965666a). Pure.
//
// `nginx` → `docker.io/library/nginx`, `index.docker.io/x` → `docker.io/library/x`, and back
// to the familiar short forms.

import { type DigestAlgorithm, isValidDigest, type ParseOptions } from "./digest.ts";
import { failure, type RefFailure, raise } from "./failure.ts";
import { goLowerChanges } from "./go-lower.ts";
import { ANCHORED_IDENTIFIER_RE, execRemote, matchesDomain } from "./grammar.ts";
import {
  parseBelowDomain,
  REPOSITORY_NAME_TOTAL_LENGTH_MAX,
  tryParse,
  withDigest,
  withName,
} from "./parse.ts";
import { isNameOnly, kindOf, type Reference, referenceName, referenceString } from "./reference.ts";

/** Docker Hub's canonical domain. */
export const DEFAULT_DOMAIN = "docker.io";
/** The historical Docker Hub host, rewritten to DEFAULT_DOMAIN. */
export const LEGACY_DEFAULT_DOMAIN = "index.docker.io";
/** Namespace of Docker Hub's official images. */
export const OFFICIAL_REPO_PREFIX = "library/";
/** Tag added by TagNameOnly / ParseDockerRef and by Kubernetes. */
export const DEFAULT_TAG = "latest";
/** The only dot-less, colon-less first component treated as a registry. */
export const LOCALHOST = "localhost";

export const ERR_NAME_NOT_CANONICAL = "repository name must be canonical";
const FAIL_NOT_CANONICAL = failure("NAME_NOT_CANONICAL", ERR_NAME_NOT_CANONICAL);

export interface DomainSplit {
  readonly domain: string;
  readonly remainder: string;
  /** The input's first component was taken as the registry (possibly rewritten). */
  readonly domainWritten: boolean;
  /** `library/` was added. */
  readonly libraryAdded: boolean;
}

/**
 * `splitDockerDomain`. The first component (before the first `/`) is a registry when it is
 * `localhost`, contains `.` or `:`, or is not all lower case; otherwise the registry is
 * `docker.io`. Without any `/`, bare `localhost:5000` is therefore an official image name
 * with tag 5000 (an upstream FIXME we keep).
 */
export function splitDockerDomain(name: string): DomainSplit {
  const i = name.indexOf("/");
  let domain: string;
  let remainder: string;
  let domainWritten = false;
  if (i === -1) {
    domain = DEFAULT_DOMAIN;
    remainder = name;
  } else {
    const first = name.slice(0, i);
    if (
      first.includes(".") ||
      first.includes(":") ||
      first === LOCALHOST ||
      goLowerChanges(first)
    ) {
      domain = first;
      remainder = name.slice(i + 1);
      domainWritten = true;
    } else {
      domain = DEFAULT_DOMAIN;
      remainder = name;
    }
  }
  if (domain === LEGACY_DEFAULT_DOMAIN) domain = DEFAULT_DOMAIN;
  let libraryAdded = false;
  if (domain === DEFAULT_DOMAIN && !remainder.includes("/")) {
    remainder = OFFICIAL_REPO_PREFIX + remainder;
    libraryAdded = true;
  }
  return { domain, remainder, domainWritten, libraryAdded };
}

/** `parseNormalizedNamed` returning its failure instead of throwing. */
export function tryParseNormalizedNamed(s: string, opts?: ParseOptions): Reference | RefFailure {
  if (s.length === 64 && ANCHORED_IDENTIFIER_RE.test(s)) {
    return failure(
      "NAME_IS_IDENTIFIER",
      `invalid repository name (${s}), cannot specify 64-byte hexadecimal strings`,
    );
  }
  // splitDockerDomain, inlined: this is the hot path of every bulk parse.
  const slash = s.indexOf("/");
  let domain = DEFAULT_DOMAIN;
  let remainder = s;
  if (slash !== -1) {
    const first = s.slice(0, slash);
    if (
      first.includes(".") ||
      first.includes(":") ||
      first === LOCALHOST ||
      goLowerChanges(first)
    ) {
      domain = first === LEGACY_DEFAULT_DOMAIN ? DEFAULT_DOMAIN : first;
      remainder = s.slice(slash + 1);
    }
  }
  const prefix = domain === DEFAULT_DOMAIN && !remainder.includes("/") ? OFFICIAL_REPO_PREFIX : "";
  // Upstream now checks that the repository is lower case, then runs
  // Parse(domain + "/" + remainder). Fast path, same results: when the domain is a valid
  // domain the reference regexp necessarily takes it as the domain (it cannot contain "/"),
  // so matching the remainder alone gives the same captures without building and rescanning
  // the string; and a remainder that matches with a valid digest is lower case up to its
  // first ":" (path characters are; the digest algorithm is sha256/384/512), so the
  // lower-case check cannot fail. Every failure takes upstream's own order below, which
  // decides the exact error.
  const validDomain = domain === DEFAULT_DOMAIN || matchesDomain(domain);
  if (validDomain) {
    const m = execRemote(remainder, true);
    if (m !== null) {
      const path = prefix === "" ? (m[1] as string) : prefix + (m[1] as string);
      const tag = m[2] ?? "";
      const digest = m[3] ?? "";
      if (
        path.length <= REPOSITORY_NAME_TOTAL_LENGTH_MAX &&
        (digest === "" || algorithmAllowed(digest, opts))
      ) {
        return { kind: kindOf(true, tag, digest), domain, path, tag, digest };
      }
    }
  }
  const colon = remainder.indexOf(":");
  const remote = colon === -1 ? remainder : remainder.slice(0, colon);
  if (goLowerChanges(remote)) {
    return failure(
      "REPOSITORY_NOT_LOWERCASE",
      `invalid reference format: repository name (${prefix}${remote}) must be lowercase`,
    );
  }
  // Parse(domain + "/" + remainder). With a valid domain, matching the remainder alone is the
  // same (see REMOTE_FULL_RE), and Go's lower-casing leaves a valid domain valid.
  if (validDomain) return parseBelowDomain(domain, prefix + remainder, opts);
  // Upstream's "reference %s has no name" cannot happen: Parse always yields a name here.
  return tryParse(`${domain}/${prefix}${remainder}`, opts);
}

/** For a digest matched by REMOTE_REFERENCE_RE: is its algorithm in the caller's set? */
function algorithmAllowed(digest: string, opts: ParseOptions | undefined): boolean {
  const set = opts?.digestAlgorithms;
  return set === undefined || set.includes(digest.slice(0, 6) as DigestAlgorithm);
}

/**
 * `ParseNormalizedNamed`: how `docker pull` and Kubernetes read an image. Always returns a
 * fully qualified name (`docker.io/library/nginx`); tag and digest as written.
 */
export function parseNormalizedNamed(s: string, opts?: ParseOptions): Reference {
  const r = tryParseNormalizedNamed(s, opts);
  return "failed" in r ? raise(r) : r;
}

/**
 * `ParseNamed`: ParseNormalizedNamed, and the input must already be the canonical string
 * (`docker.io/library/foo` passes, `foo` and `docker.io/foo` don't).
 */
export function parseNamed(s: string, opts?: ParseOptions): Reference {
  const ref = parseNormalizedNamed(s, opts);
  if (referenceString(ref) !== s) raise(FAIL_NOT_CANONICAL);
  return ref;
}

/** `TagNameOnly`: adds `:latest` to a name-only reference, leaves others alone. */
export function tagNameOnly(ref: Reference): Reference {
  if (!isNameOnly(ref)) return ref;
  return { kind: "tagged", domain: ref.domain, path: ref.path, tag: DEFAULT_TAG, digest: "" };
}

/**
 * `ParseDockerRef`: what the Docker daemon stores. A reference with both tag and digest
 * keeps only the digest; a name alone gets `:latest`.
 */
export function parseDockerRef(s: string, opts?: ParseOptions): Reference {
  const ref = parseNormalizedNamed(s, opts);
  if (ref.kind === "reference") {
    return withDigest(withName(referenceName(ref)), ref.digest);
  }
  return tagNameOnly(ref);
}

/**
 * `ParseAnyReference`: also accepts an image ID (64 lowercase hex → `sha256:<id>`) and a bare
 * digest that go-digest accepts; anything else is a normalized name.
 */
export function parseAnyReference(s: string, opts?: ParseOptions): Reference {
  if (ANCHORED_IDENTIFIER_RE.test(s)) {
    return { kind: "digest", domain: "", path: "", tag: "", digest: `sha256:${s}` };
  }
  if (isValidDigest(s, opts)) {
    return { kind: "digest", domain: "", path: "", tag: "", digest: s };
  }
  return parseNormalizedNamed(s, opts);
}
