// Digests: go-digest validation (through ../ref), the branded type's accessors, and safe
// path segments (CVE-2024-3727: a digest must never become a path with "/" or "..").

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  digestAlgorithm,
  digestHex,
  digestPath,
  isDigest,
  isSafePathSegment,
  parseDigest,
  shortDigest,
} from "../../src/oci/index.ts";
import { throwsKimg } from "./helpers.ts";

const SHA256 = `sha256:${"a".repeat(64)}`;
const SHA512 = `sha512:${"0123456789abcdef".repeat(8)}`;

describe("parseDigest", () => {
  it("accepts sha256, sha384 and sha512 digests", () => {
    assert.equal(parseDigest(SHA256), SHA256);
    assert.equal(parseDigest(SHA512), SHA512);
    assert.equal(parseDigest(`sha384:${"b".repeat(96)}`), `sha384:${"b".repeat(96)}`);
  });

  const bad: readonly [
    string,
    "DIGEST_CHECKSUM_FORMAT" | "DIGEST_CHECKSUM_LENGTH" | "DIGEST_UNSUPPORTED",
    string,
  ][] = [
    ["", "DIGEST_CHECKSUM_FORMAT", "invalid checksum digest format"],
    ["sha256", "DIGEST_CHECKSUM_FORMAT", "invalid checksum digest format"],
    [`:${"a".repeat(64)}`, "DIGEST_CHECKSUM_FORMAT", "invalid checksum digest format"],
    [`SHA256:${"a".repeat(64)}`, "DIGEST_CHECKSUM_FORMAT", "invalid checksum digest format"],
    [`sha256:${"A".repeat(64)}`, "DIGEST_CHECKSUM_FORMAT", "invalid checksum digest format"],
    [`sha256:${"a".repeat(63)}`, "DIGEST_CHECKSUM_LENGTH", "invalid checksum digest length"],
    ["sha256:../../../etc/passwd", "DIGEST_CHECKSUM_LENGTH", "invalid checksum digest length"],
    [`sha256:../${"a".repeat(61)}`, "DIGEST_CHECKSUM_FORMAT", "invalid checksum digest format"],
    [
      `sha256:${"a".repeat(31)}/${"a".repeat(32)}`,
      "DIGEST_CHECKSUM_FORMAT",
      "invalid checksum digest format",
    ],
    [`sha256+b64:${"a".repeat(64)}`, "DIGEST_UNSUPPORTED", "unsupported digest algorithm"],
    [
      "multihash+base58:QmRZxt2b1FVZPNqd8hsiykDL3TdBDeTSPX9Kv46HmX4Gx8",
      "DIGEST_UNSUPPORTED",
      "unsupported digest algorithm",
    ],
    [`blake3:${"a".repeat(64)}`, "DIGEST_UNSUPPORTED", "unsupported digest algorithm"],
  ];
  for (const [s, code, message] of bad) {
    it(`refuses ${JSON.stringify(s.slice(0, 40))}`, () => {
      throwsKimg(() => parseDigest(s), code, message);
      assert.equal(isDigest(s), false);
    });
  }

  it("narrows algorithms on request", () => {
    throwsKimg(
      () => parseDigest(SHA512, { digestAlgorithms: ["sha256"] }),
      "DIGEST_UNSUPPORTED",
      "unsupported digest algorithm",
    );
  });

  it("isDigest is a type guard that rejects non-strings", () => {
    assert.equal(isDigest(SHA256), true);
    assert.equal(isDigest(42), false);
    assert.equal(isDigest(null), false);
  });
});

describe("digest parts", () => {
  it("algorithm, hex, short form", () => {
    const d = parseDigest(SHA512);
    assert.equal(digestAlgorithm(d), "sha512");
    assert.equal(digestHex(d), "0123456789abcdef".repeat(8));
    assert.equal(shortDigest(d), "sha512:0123456789ab");
  });
});

describe("digestPath and isSafePathSegment (CVE-2024-3727)", () => {
  it("makes <alg>/<hex>", () => {
    assert.equal(digestPath(parseDigest(SHA256)), `sha256/${"a".repeat(64)}`);
  });

  it("refuses anything that is not a valid digest, even with a forged brand", () => {
    for (const s of [
      "sha256:../../etc/passwd",
      `sha256:${"a".repeat(62)}/.`,
      "../x:y",
      "sha256:",
      "",
    ]) {
      throwsKimg(() => digestPath(s), "UNSAFE_PATH", /^refusing to make a path of digest /, s);
    }
  });

  const segments: readonly [string, boolean][] = [
    ["sha256", true],
    ["a".repeat(64), true],
    ["", false],
    [".", false],
    ["..", false],
    ["a/b", false],
    ["a\\b", false],
    ["c:", false],
    ["a\u0000b", false],
    ["a\nb", false],
    ["...", true],
  ];
  for (const [s, ok] of segments) {
    it(`${JSON.stringify(s)} is ${ok ? "" : "not "}a safe segment`, () => {
      assert.equal(isSafePathSegment(s), ok);
    });
  }
});
