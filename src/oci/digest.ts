// The Digest type of the OCI model: a string go-digest accepts, branded so that only
// `parseDigest` (or a parser built on it) makes one. Pure: no I/O; hashing lives with the
// bytes (the store), comparison of results lives here (descriptor.ts `verifyContent`).
//
// Validation is go-digest's `Digest.Validate`, reused from ../ref/digest.ts: `<alg>:<hex>`
// with alg sha256, sha384 or sha512 and lower-case hex of that algorithm's length. The image
// spec (descriptor.md "Digests") says implementations SHOULD let unregistered algorithms such
// as `multihash+base58:…` pass; kimg refuses them, as go-digest and containers/image do, because
// it cannot verify such content and because a digest becomes a URL and a file path.
//
// CVE-2024-3727 (containers/image): digests taken from untrusted manifests were used to build
// paths and URLs before validation, so `sha256:../../x` escaped the blob directory.
// `digestPath` re-validates even a branded Digest (a cast can forge the brand).

import { KimgError } from "../errors.ts";
import { checkDigest, type DigestAlgorithm, type ParseOptions, raise } from "../ref/index.ts";

declare const digestBrand: unique symbol;

/** A validated digest, e.g. `sha256:e3b0c442…b855`. Make one with `parseDigest`. */
export type Digest = `${DigestAlgorithm}:${string}` & { readonly [digestBrand]: true };

/**
 * Validates `s` as go-digest does and returns it as a Digest. Throws KimgError with go-digest's
 * code and message: DIGEST_CHECKSUM_FORMAT "invalid checksum digest format",
 * DIGEST_CHECKSUM_LENGTH "invalid checksum digest length", DIGEST_UNSUPPORTED "unsupported
 * digest algorithm". `opts.digestAlgorithms` narrows the accepted algorithms.
 */
export function parseDigest(s: string, opts?: ParseOptions): Digest {
  const f = checkDigest(s, opts);
  if (f !== undefined) raise(f);
  return s as Digest; // validated above: the one place a string becomes a Digest
}

/** True when `s` is a digest `parseDigest` accepts. */
export function isDigest(s: unknown, opts?: ParseOptions): s is Digest {
  return typeof s === "string" && checkDigest(s, opts) === undefined;
}

/** The algorithm part: `sha256`. */
export function digestAlgorithm(d: Digest): DigestAlgorithm {
  return d.slice(0, d.indexOf(":")) as DigestAlgorithm;
}

/** The encoded (hex) part. */
export function digestHex(d: Digest): string {
  return d.slice(d.indexOf(":") + 1);
}

/** A short form for messages: `sha256:0123456789ab`. */
export { shortDigest } from "../format/index.ts";

/**
 * True when `s` can be one component of a relative path on any platform: not empty, not `.`
 * or `..`, no `/`, `\`, `:` (a Windows drive or stream) or control characters (NUL included).
 */
export function isSafePathSegment(s: string): boolean {
  if (s === "" || s === "." || s === "..") return false;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are the point
  return !/[/\\:\u0000-\u001f\u007f]/.test(s);
}

/**
 * The relative path of a digest's blob, `<alg>/<hex>` (image-layout.md `blobs/<alg>/<encoded>`).
 * Re-validates the digest; throws UNSAFE_PATH rather than return a path that could leave the
 * blob directory.
 */
export function digestPath(d: Digest | string): string {
  // A valid digest is `(sha256|sha384|sha512):[a-f0-9]+`: both parts are safe segments.
  const f = checkDigest(d);
  if (f !== undefined) {
    throw new KimgError("UNSAFE_PATH", `refusing to make a path of digest ${q(d)}: ${f.message}`);
  }
  const i = d.indexOf(":");
  return `${d.slice(0, i)}/${d.slice(i + 1)}`;
}

function q(s: string): string {
  return JSON.stringify(s.length > 100 ? `${s.slice(0, 100)}…` : s);
}
