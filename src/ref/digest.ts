// Digest validation as go-digest v1.0.0 does it (digest.go, algorithm.go). Pure.
//
// An algorithm is "available" when go-digest knows it (sha256, sha384, sha512) and the binary
// links its hash. distribution/reference's own tests link only sha256; Kubernetes links
// sha256 and sha512 (crypto/sha512 also provides sha384), so kimg accepts all three by default
// and `digestAlgorithms` narrows the set.

import { failure, type RefFailure, raise } from "./failure.ts";
import { matchesGoDigest } from "./grammar.ts";

export type DigestAlgorithm = "sha256" | "sha384" | "sha512";

/** Hex length of each algorithm's digest (go-digest Algorithm.Size() × 2). */
export const DIGEST_HEX_LENGTH: Readonly<Record<DigestAlgorithm, number>> = {
  sha256: 64,
  sha384: 96,
  sha512: 128,
};

export const ALL_DIGEST_ALGORITHMS: readonly DigestAlgorithm[] = ["sha256", "sha384", "sha512"];

export interface ParseOptions {
  /**
   * Digest algorithms accepted in references. Default: sha256, sha384 and sha512, as in
   * Kubernetes (pkg/util/parsers imports crypto/sha256 and crypto/sha512).
   */
  readonly digestAlgorithms?: readonly DigestAlgorithm[] | undefined;
}

export function isDigestAlgorithm(s: string): s is DigestAlgorithm {
  return s === "sha256" || s === "sha384" || s === "sha512";
}

const LOWER_HEX = /^[a-f0-9]+$/;
const NON_ASCII = /[\u0080-\uffff]/;

/** Length in UTF-8 bytes, as Go's len(string). */
function utf8Length(s: string): number {
  if (!NON_ASCII.test(s)) return s.length;
  let n = 0;
  for (const ch of s) {
    const cp = ch.codePointAt(0) ?? 0;
    // A lone surrogate would be encoded as U+FFFD: 3 bytes.
    n += cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
  }
  return n;
}

function available(alg: string, opts: ParseOptions | undefined): alg is DigestAlgorithm {
  if (!isDigestAlgorithm(alg)) return false;
  const set = opts?.digestAlgorithms;
  return set === undefined || set.includes(alg);
}

const ERR_FORMAT = failure("DIGEST_CHECKSUM_FORMAT", "invalid checksum digest format");
const ERR_LENGTH = failure("DIGEST_CHECKSUM_LENGTH", "invalid checksum digest length");
const ERR_UNSUPPORTED = failure("DIGEST_UNSUPPORTED", "unsupported digest algorithm");

/**
 * go-digest `Digest.Validate` (what `digest.Parse` runs): undefined when valid, else the
 * go-digest error "invalid checksum digest format", "invalid checksum digest length" or
 * "unsupported digest algorithm".
 */
export function checkDigest(s: string, opts?: ParseOptions): RefFailure | undefined {
  const i = s.indexOf(":");
  // A digest needs a colon with something after it.
  if (i <= 0 || i + 1 === s.length) return ERR_FORMAT;
  const alg = s.slice(0, i);
  if (!available(alg, opts)) return matchesGoDigest(s) ? ERR_UNSUPPORTED : ERR_FORMAT;
  const hex = s.slice(i + 1);
  // Go's len() counts UTF-8 bytes: only differs from .length for non-ASCII text.
  if (utf8Length(hex) !== DIGEST_HEX_LENGTH[alg]) return ERR_LENGTH;
  if (!LOWER_HEX.test(hex)) return ERR_FORMAT;
  return undefined;
}

/** Like checkDigest, but throws a KimgError. */
export function validateDigest(s: string, opts?: ParseOptions): void {
  const f = checkDigest(s, opts);
  if (f !== undefined) raise(f);
}

/** True when `s` is a digest go-digest would accept with these options. */
export function isValidDigest(s: string, opts?: ParseOptions): boolean {
  return checkDigest(s, opts) === undefined;
}
