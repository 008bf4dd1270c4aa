// Parse without normalization, and the With*/Trim builders (distribution/reference
// reference.go @ 0965666a). Pure.

import { KimgError } from "../errors.ts";
import { checkDigest, type ParseOptions } from "./digest.ts";
import { failure, type RefFailure, raise } from "./failure.ts";
import { goToLower } from "./go-lower.ts";
import { ANCHORED_TAG_RE, execName, execReference, execRemote, matchesDigest } from "./grammar.ts";
import { isNamed, kindOf, type Reference } from "./reference.ts";

/**
 * RepositoryNameTotalLengthMax: the longest repository path. Since reference v0.6.0 (commit
 * aaca75e, 2024) it limits the path only, not the domain; older docker/distribution counted
 * the whole name.
 */
export const REPOSITORY_NAME_TOTAL_LENGTH_MAX = 255;

export const ERR_REFERENCE_INVALID_FORMAT = "invalid reference format";
export const ERR_NAME_CONTAINS_UPPERCASE = "repository name must be lowercase";
export const ERR_NAME_EMPTY = "repository name must have at least one component";
export const ERR_NAME_TOO_LONG = `repository name must not be more than ${REPOSITORY_NAME_TOTAL_LENGTH_MAX} characters`;
export const ERR_TAG_INVALID_FORMAT = "invalid tag format";
export const ERR_DIGEST_INVALID_FORMAT = "invalid digest format";

const FAIL_EMPTY = failure("NAME_EMPTY", ERR_NAME_EMPTY);
const FAIL_UPPERCASE = failure("NAME_CONTAINS_UPPERCASE", ERR_NAME_CONTAINS_UPPERCASE);
const FAIL_FORMAT = failure("REFERENCE_INVALID_FORMAT", ERR_REFERENCE_INVALID_FORMAT);
const FAIL_TOO_LONG = failure("NAME_TOO_LONG", ERR_NAME_TOO_LONG);

/** `parse` returning its failure instead of throwing. */
export function tryParse(s: string, opts?: ParseOptions): Reference | RefFailure {
  const m = execReference(s);
  if (m === null) {
    if (s === "") return FAIL_EMPTY;
    const lower = goToLower(s);
    return lower !== s && execReference(lower) !== null ? FAIL_UPPERCASE : FAIL_FORMAT;
  }
  const path = m[2] as string;
  if (path.length > REPOSITORY_NAME_TOTAL_LENGTH_MAX) return FAIL_TOO_LONG;
  const tag = m[3] ?? "";
  const digest = m[4] ?? "";
  if (digest !== "") {
    const f = checkDigest(digest, opts);
    if (f !== undefined) return f;
  }
  return { kind: kindOf(true, tag, digest), domain: m[1] ?? "", path, tag, digest };
}

/**
 * `tryParse(domain + "/" + remainder)` for a domain known to match the domain grammar, without
 * building the string: the reference regexp then necessarily captures exactly that domain.
 */
export function parseBelowDomain(
  domain: string,
  remainder: string,
  opts?: ParseOptions,
): Reference | RefFailure {
  const m = execRemote(remainder, false);
  if (m === null) {
    const lower = goToLower(remainder);
    return lower !== remainder && execRemote(lower, false) !== null ? FAIL_UPPERCASE : FAIL_FORMAT;
  }
  const path = m[1] as string;
  if (path.length > REPOSITORY_NAME_TOTAL_LENGTH_MAX) return FAIL_TOO_LONG;
  const tag = m[2] ?? "";
  const digest = m[3] ?? "";
  if (digest !== "") {
    const f = checkDigest(digest, opts);
    if (f !== undefined) return f;
  }
  return { kind: kindOf(true, tag, digest), domain, path, tag, digest };
}

/**
 * `reference.Parse`: the string as written, no Docker Hub defaults. A first component that
 * looks like a host becomes the domain (`foo/bar` → domain `foo`).
 * Errors, in upstream's order: empty → format / uppercase → path length → digest.
 */
export function parse(s: string, opts?: ParseOptions): Reference {
  const r = tryParse(s, opts);
  return "failed" in r ? raise(r) : r;
}

/** `reference.WithName`: a name without tag or digest. */
export function withName(name: string): Reference {
  const m = execName(name);
  if (m === null) raise(FAIL_FORMAT);
  const path = m[2] ?? "";
  if (path.length > REPOSITORY_NAME_TOTAL_LENGTH_MAX) raise(FAIL_TOO_LONG);
  return { kind: "repository", domain: m[1] ?? "", path, tag: "", digest: "" };
}

function requireNamed(ref: Reference, fn: string): void {
  if (!isNamed(ref)) {
    throw new KimgError("REFERENCE_INVALID_FORMAT", `${fn}: a digest-only reference has no name`);
  }
}

/** `reference.WithTag`: sets the tag, keeping a digest if there is one. */
export function withTag(ref: Reference, tag: string): Reference {
  if (!ANCHORED_TAG_RE.test(tag)) {
    throw new KimgError("TAG_INVALID_FORMAT", ERR_TAG_INVALID_FORMAT);
  }
  requireNamed(ref, "withTag");
  return {
    kind: kindOf(true, tag, ref.digest),
    domain: ref.domain,
    path: ref.path,
    tag,
    digest: ref.digest,
  };
}

/**
 * `reference.WithDigest`: sets the digest, keeping a tag if there is one. Like upstream it
 * checks only the digest grammar (an algorithm, a colon, ≥ 32 hex digits), not go-digest's
 * length and algorithm rules.
 */
export function withDigest(ref: Reference, digest: string): Reference {
  if (!matchesDigest(digest)) {
    throw new KimgError("DIGEST_INVALID_FORMAT", ERR_DIGEST_INVALID_FORMAT);
  }
  requireNamed(ref, "withDigest");
  return {
    kind: kindOf(true, ref.tag, digest),
    domain: ref.domain,
    path: ref.path,
    tag: ref.tag,
    digest,
  };
}

/** `reference.TrimNamed`: the name alone. */
export function trimNamed(ref: Reference): Reference {
  requireNamed(ref, "trimNamed");
  return { kind: "repository", domain: ref.domain, path: ref.path, tag: "", digest: "" };
}
