// The linear scanners must accept exactly what the regular expressions accept, with the same
// captures; they take over for inputs longer than LONG_INPUT, where V8's backtracking stack
// would overflow.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { KimgError } from "../../src/errors.ts";
import {
  ANCHORED_DIGEST_RE,
  ANCHORED_DOMAIN_RE,
  ANCHORED_NAME_RE,
  GO_DIGEST_RE,
  REFERENCE_RE,
  REMOTE_FULL_RE,
  REMOTE_REFERENCE_RE,
} from "../../src/ref/grammar.ts";
import { parse, parseNormalizedNamed, withName } from "../../src/ref/index.ts";
import {
  isDigest,
  isDomain,
  isGoDigest,
  linearName,
  linearReference,
  linearRemote,
} from "../../src/ref/linear-match.ts";

// Strings from the characters that matter to the grammar, so that both valid and nearly
// valid references come up often.
const ALPHABET = [..."abcz09AZ._-/:@[]+=", "sha256:", "sha512:", "a".repeat(32), "f".repeat(64)];
const grammarish = fc
  .array(fc.constantFrom(...ALPHABET), { maxLength: 24 })
  .map((parts) => parts.join(""));

const norm = (m: RegExpExecArray | readonly unknown[] | null) =>
  m === null ? null : [...m].map((x) => x ?? undefined);

describe("linear matchers agree with the regular expressions", () => {
  const RUNS = { numRuns: 20_000 };
  it("reference", () => {
    fc.assert(
      fc.property(grammarish, (s) => {
        assert.deepEqual(norm(linearReference(s)), norm(REFERENCE_RE.exec(s)), s);
      }),
      RUNS,
    );
  });
  it("remote, full and strict digests", () => {
    fc.assert(
      fc.property(grammarish, (s) => {
        assert.deepEqual(norm(linearRemote(s, false)), norm(REMOTE_FULL_RE.exec(s)), s);
        assert.deepEqual(norm(linearRemote(s, true)), norm(REMOTE_REFERENCE_RE.exec(s)), s);
      }),
      RUNS,
    );
  });
  it("name, domain, digest, go-digest", () => {
    fc.assert(
      fc.property(grammarish, (s) => {
        assert.deepEqual(norm(linearName(s)), norm(ANCHORED_NAME_RE.exec(s)), s);
        assert.equal(isDomain(s, 0, s.length), ANCHORED_DOMAIN_RE.test(s), s);
        assert.equal(isDigest(s, 0, s.length), ANCHORED_DIGEST_RE.test(s), s);
        assert.equal(isGoDigest(s), GO_DIGEST_RE.test(s), s);
      }),
      RUNS,
    );
  });
  it("on hand-picked edge cases", () => {
    const d = `sha256:${"a".repeat(64)}`;
    for (const s of [
      "a",
      "a/b",
      "a__b",
      "a___b",
      "a--b",
      "a-",
      "-a",
      "a/",
      "/a",
      "A/b",
      "a_b.c/d",
      "[::1]:5000/a",
      "[]/a",
      `[::1]/a:b@${d}`,
      "host:/a",
      "host:5000/a",
      "a:b:c",
      "a@b",
      `a@${d}`,
      `a:t@${d}`,
      `a:${"t".repeat(128)}`,
      `a:${"t".repeat(129)}`,
      "a:.t",
      "x-.y/z",
      "x.-y/z",
    ]) {
      assert.deepEqual(norm(linearReference(s)), norm(REFERENCE_RE.exec(s)), s);
      assert.deepEqual(norm(linearName(s)), norm(ANCHORED_NAME_RE.exec(s)), s);
    }
  });
});

describe("very long references", () => {
  // 10 MB: RegExp.exec overflows its backtracking stack here; the answers must be upstream's.
  const huge = `${"a/".repeat(5_000_000)}b`;
  it("a long valid grammar gives upstream's length error, not a crash", () => {
    for (const f of [parse, parseNormalizedNamed]) {
      assert.throws(
        () => f(huge),
        (e: unknown) => e instanceof KimgError && e.code === "NAME_TOO_LONG",
      );
    }
    assert.throws(
      () => withName(huge),
      (e: unknown) => e instanceof KimgError && e.code === "NAME_TOO_LONG",
    );
  });
  it("a long invalid reference gives the format error", () => {
    assert.throws(
      () => parseNormalizedNamed(`${huge}:`),
      (e: unknown) => e instanceof KimgError && e.code === "REFERENCE_INVALID_FORMAT",
    );
    assert.throws(
      () => parse(`${huge}B`),
      (e: unknown) => e instanceof KimgError && e.code === "NAME_CONTAINS_UPPERCASE",
    );
  });
  it("a long digest is checked by go-digest's rules", () => {
    assert.throws(
      () => parseNormalizedNamed(`a@sha256:${"a".repeat(5_000_000)}`),
      (e: unknown) => e instanceof KimgError && e.code === "DIGEST_CHECKSUM_LENGTH",
    );
    assert.throws(
      () => parseNormalizedNamed(`a@${"x.".repeat(2_000_000)}x:${"a".repeat(64)}`),
      (e: unknown) => e instanceof KimgError && e.code === "DIGEST_UNSUPPORTED",
    );
  });
});
