// The grammar (distribution/reference regexp.go) and go-digest's digest.Parse: the vectors of
// regexp_test.go and go-digest digest_test.go, checked on the exported regular expressions and
// through the public functions.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import {
  ANCHORED_DIGEST_RE,
  ANCHORED_DOMAIN_RE,
  ANCHORED_IDENTIFIER_RE,
  ANCHORED_NAME_RE,
  ANCHORED_TAG_RE,
  REFERENCE_RE,
} from "../../src/ref/grammar.ts";
import {
  isValidDigest,
  parse,
  parseAnyReference,
  validateDigest,
  withName,
} from "../../src/ref/index.ts";
import { assertKimgError, short } from "./helpers.ts";
import {
  DOMAIN_REGEXP,
  E,
  FULL_NAME_REGEXP,
  IDENTIFIER_REGEXP,
  PARSE_DIGEST,
  REFERENCE_REGEXP,
} from "./vectors.ts";

describe("domain grammar: regexp_test.go TestDomainRegexp (through withName and parse)", () => {
  for (const v of DOMAIN_REGEXP) {
    it(`${v.input} ${v.match ? "is" : "is not"} a domain`, () => {
      assert.equal(ANCHORED_DOMAIN_RE.test(v.input), v.match, "ANCHORED_DOMAIN_RE");
      const name = `${v.input}/x`;
      let domain: string | undefined;
      try {
        domain = withName(name).domain;
      } catch {
        domain = undefined;
      }
      assert.equal(domain === v.input, v.match, `withName(${name}).domain = ${domain}`);
      let parsedDomain: string | undefined;
      try {
        parsedDomain = parse(`${name}:tag`).domain;
      } catch {
        parsedDomain = undefined;
      }
      assert.equal(
        parsedDomain === v.input,
        v.match,
        `parse(${name}:tag).domain = ${parsedDomain}`,
      );
    });
  }
});

describe("anchored name: regexp_test.go TestFullNameRegexp", () => {
  for (const v of FULL_NAME_REGEXP) {
    it(short(v.input), () => {
      const m = ANCHORED_NAME_RE.exec(v.input);
      assert.equal(m !== null, v.match);
      if (m === null) return;
      assert.equal(m[0], v.input);
      if (v.subs !== undefined) assert.deepEqual([m[1] ?? "", m[2] ?? ""], v.subs);
      // the same split through the public builder
      const named = withName(v.input);
      assert.deepEqual([named.domain, named.path], [m[1] ?? "", m[2] ?? ""]);
    });
  }
});

describe("reference: regexp_test.go TestReferenceRegexp", () => {
  for (const v of REFERENCE_REGEXP) {
    it(short(v.input), () => {
      const m = REFERENCE_RE.exec(v.input);
      assert.equal(m !== null, v.match);
      if (m === null) return;
      assert.equal(m[0], v.input);
      const domain = m[1] ?? "";
      const path = m[2] ?? "";
      const name = domain === "" ? path : `${domain}/${path}`;
      if (v.subs !== undefined) assert.deepEqual([name, m[3] ?? "", m[4] ?? ""], v.subs);
    });
  }
});

describe("identifier: regexp_test.go TestIdentifierRegexp", () => {
  for (const v of IDENTIFIER_REGEXP) {
    it(short(v.input), () => {
      assert.equal(ANCHORED_IDENTIFIER_RE.test(v.input), v.match);
      // an identifier is what parseAnyReference turns into a sha256 digest
      let kind: string | undefined;
      try {
        kind = parseAnyReference(v.input).kind;
      } catch {
        kind = undefined;
      }
      if (v.match) assert.equal(kind, "digest");
    });
  }
});

describe("tag and digest grammar (regexp.go tag, digestPat)", () => {
  const tags: [string, boolean][] = [
    ["latest", true],
    ["_", true],
    ["0", true],
    ["A.b-C_d", true],
    [".x", false],
    ["-x", false],
    ["", false],
    ["t".repeat(128), true],
    ["t".repeat(129), false],
    ["a b", false],
    ["é", false],
    ["a+b", false],
  ];
  for (const [t, ok] of tags) {
    it(`tag ${short(t, 30)}: ${ok}`, () => assert.equal(ANCHORED_TAG_RE.test(t), ok));
  }
  const digests: [string, boolean][] = [
    [`sha256:${"a".repeat(32)}`, true],
    [`sha256:${"a".repeat(31)}`, false],
    [`SHA256:${"A".repeat(32)}`, true],
    [`a.b-c_d+e:${"0".repeat(32)}`, true],
    [`a..b:${"0".repeat(32)}`, false],
    [`a.1b:${"0".repeat(32)}`, false],
    [`1a:${"0".repeat(32)}`, false],
    [`:${"0".repeat(32)}`, false],
    [`sha256:${"g".repeat(32)}`, false],
    [`sha256+b64:${"a".repeat(32)}`, true],
  ];
  for (const [d, ok] of digests) {
    it(`digest ${short(d, 40)}: ${ok}`, () => assert.equal(ANCHORED_DIGEST_RE.test(d), ok));
  }
});

describe("digest.Parse: go-digest v1.0.0 digest_test.go TestParseDigest", () => {
  for (const v of PARSE_DIGEST) {
    it(short(v.input), () => {
      if (v.err !== undefined) {
        assertKimgError(() => validateDigest(v.input), v.err, v.input);
        assert.equal(isValidDigest(v.input), false);
        return;
      }
      validateDigest(v.input);
      assert.equal(isValidDigest(v.input), true);
      const i = v.input.indexOf(":");
      assert.equal(v.input.slice(0, i), v.algorithm);
      assert.equal(v.input.slice(i + 1), v.encoded);
      // a valid digest alone is a digest-only reference
      assert.deepEqual(parseAnyReference(v.input), {
        kind: "digest",
        domain: "",
        path: "",
        tag: "",
        digest: v.input,
      });
    });
  }
});

describe("digest.Parse: kimg's edge cases", () => {
  it("algorithm availability follows the options", () => {
    const d = `sha384:${"a".repeat(96)}`;
    validateDigest(d);
    assertKimgError(() => validateDigest(d, { digestAlgorithms: ["sha256"] }), E.digestUnsupported);
  });
  it("an unavailable algorithm outside go-digest's regexp is a format error", () => {
    assertKimgError(() => validateDigest(`SHA256:${"a".repeat(64)}`), E.checksumFormat);
    assertKimgError(
      () => validateDigest(`sha256:${"a".repeat(64)}`, { digestAlgorithms: [] }),
      E.digestUnsupported,
    );
    assertKimgError(() => validateDigest("sha256:a b", { digestAlgorithms: [] }), E.checksumFormat);
  });
  it("hex length is checked before hex case", () => {
    assertKimgError(() => validateDigest(`sha256:${"A".repeat(63)}`), E.checksumLength);
    assertKimgError(() => validateDigest(`sha256:${"A".repeat(64)}`), E.checksumFormat);
  });
  it("the first colon separates algorithm and hex", () => {
    assertKimgError(() => validateDigest(`sha256:${"a".repeat(63)}:`), E.checksumFormat);
    assertKimgError(() => validateDigest(`sha256:${"a".repeat(62)}:`), E.checksumLength);
    assertKimgError(() => validateDigest(`sha256::${"a".repeat(63)}`), E.checksumFormat);
  });
  it("a trailing newline is not tolerated", () => {
    assertKimgError(() => validateDigest(`sha256:${"a".repeat(63)}\n`), E.checksumFormat);
  });
  // go-digest algorithm.go Validate: `a.Size()*2 != len(encoded)`, and Go's len() counts
  // UTF-8 bytes. Only visible through validateDigest itself.
  it("go-digest measures the hex in bytes (non-ASCII input)", () => {
    // Go: len("é") == 2, so 32 × "é" has the sha256 length and fails the hex check instead.
    assertKimgError(() => validateDigest(`sha256:${"é".repeat(32)}`), E.checksumFormat);
    assertKimgError(() => validateDigest(`sha256:${"a".repeat(63)}é`), E.checksumLength);
  });
  it("10k-char digests finish", () => {
    assertKimgError(() => validateDigest(`sha256:${"a".repeat(10_000)}`), E.checksumLength);
    assertKimgError(() => validateDigest(`${"a.".repeat(5_000)}a:b`), E.digestUnsupported);
    assertKimgError(() => validateDigest(`${"a.".repeat(5_000)}:b`), E.checksumFormat);
  });
});

// An independent restatement of upstream's regexp composition: Parse matches the reference
// regexp, then re-splits the captured name with the anchored name regexp. kimg captures
// domain and path in one pass; both must split every input the same way.
describe("one-pass capture equals upstream's two-step split (fast-check)", () => {
  const alnum = "[a-z0-9]+";
  const sep = "(?:[._]|__|[-]+)";
  const comp = `${alnum}(?:${sep}${alnum})*`;
  const dcomp = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
  const host = `(?:${dcomp}(?:\\.${dcomp})*|\\[(?:[a-fA-F0-9:]+)\\])`;
  const domainAndPort = `${host}(?::[0-9]+)?`;
  const remote = `${comp}(?:/${comp})*`;
  const namePat = `(?:${domainAndPort}/)?${remote}`;
  const tag = "[\\w][\\w.-]{0,127}";
  const digest = "[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][0-9A-Fa-f]{32,}";
  const upstreamReference = new RegExp(`^(${namePat})(?::(${tag}))?(?:@(${digest}))?$`);
  const upstreamName = new RegExp(`^(?:(${domainAndPort})/)?(${remote})$`);

  function upstreamSplit(s: string): [string, string, string, string] | null {
    const m = upstreamReference.exec(s);
    if (m === null) return null;
    const n = upstreamName.exec(m[1] ?? "");
    if (n === null) return ["", m[1] ?? "", m[2] ?? "", m[3] ?? ""];
    return [n[1] ?? "", n[2] ?? "", m[2] ?? "", m[3] ?? ""];
  }
  function oursSplit(s: string): [string, string, string, string] | null {
    const m = REFERENCE_RE.exec(s);
    if (m === null) return null;
    return [m[1] ?? "", m[2] ?? "", m[3] ?? "", m[4] ?? ""];
  }

  const piece = fc.constantFrom(
    "a",
    "b0",
    "A",
    ".",
    "_",
    "__",
    "-",
    "/",
    ":",
    "@",
    "1",
    "[",
    "]",
    "::1",
    "5000",
    "sha256:",
    "f".repeat(32),
    "localhost",
    "x.io",
  );
  const input = fc.array(piece, { maxLength: 14 }).map((a) => a.join(""));

  it("same verdict and same split on random strings", () => {
    fc.assert(
      fc.property(input, (s) => {
        assert.deepEqual(oursSplit(s), upstreamSplit(s), s);
      }),
      { numRuns: 5_000 },
    );
  });
  it("same split on every table input", () => {
    for (const v of [...FULL_NAME_REGEXP, ...REFERENCE_REGEXP, ...DOMAIN_REGEXP]) {
      assert.deepEqual(oursSplit(v.input), upstreamSplit(v.input), v.input);
    }
  });
});
