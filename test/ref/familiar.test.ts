// FamiliarName, FamiliarString, FamiliarMatch (distribution/reference helpers.go,
// normalize.go): the vectors of normalize_test.go plus Go path.Match semantics.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  familiarMatch,
  familiarName,
  familiarString,
  parse,
  parseAnyReference,
  parseNormalizedNamed,
  referenceString,
  withName,
} from "../../src/ref/index.ts";
import { assertKimgError } from "./helpers.ts";
import {
  E,
  MATCH,
  MATCH_ERROR,
  REPOSITORY_INFO,
  TAG_AND_DIGEST_SHORT_REF,
  UPSTREAM_DISTRIBUTION_OPTS,
} from "./vectors.ts";

const O = UPSTREAM_DISTRIBUTION_OPTS;

describe("normalize_test.go TestParseRepositoryInfo", () => {
  REPOSITORY_INFO.forEach((v, i) => {
    const inputs = [v.familiarName, v.fullName];
    if (v.ambiguousName !== "") inputs.push(v.ambiguousName);
    for (const r of inputs) {
      it(`${i}/${r}`, () => {
        const named = parseNormalizedNamed(r, O);
        assert.equal(familiarName(named), v.familiarName, "FamiliarName");
        assert.equal(referenceString(named), v.fullName, "FullName");
        assert.equal(named.domain, v.domain, "Domain");
        assert.equal(named.path, v.remoteName, "RemoteName");
      });
    }
  });
});

describe("normalize_test.go TestParseReferenceWithTagAndDigest (FamiliarString)", () => {
  it(TAG_AND_DIGEST_SHORT_REF, () => {
    const ref = parseNormalizedNamed(TAG_AND_DIGEST_SHORT_REF, O);
    assert.equal(familiarString(ref), TAG_AND_DIGEST_SHORT_REF);
  });
});

describe("normalize_test.go TestMatchError", () => {
  it(MATCH_ERROR.pattern, () => {
    const ref = parseAnyReference(MATCH_ERROR.reference, O);
    assertKimgError(() => familiarMatch(MATCH_ERROR.pattern, ref), MATCH_ERROR.err);
  });
});

describe("normalize_test.go TestMatch", () => {
  for (const v of MATCH) {
    it(`${v.reference} ~ ${v.pattern}`, () => {
      const ref = parseAnyReference(v.reference, O);
      assert.equal(familiarMatch(v.pattern, ref), v.expected);
    });
  }
});

describe("familiar forms: kimg's edge cases", () => {
  it("only the exact domain docker.io is dropped", () => {
    assert.equal(familiarString(parse("docker.io/foo:1")), "foo:1");
    assert.equal(
      familiarString(parse("index.docker.io/library/foo")),
      "index.docker.io/library/foo",
    );
    assert.equal(
      familiarString(parse("registry-1.docker.io/library/foo")),
      "registry-1.docker.io/library/foo",
    );
    assert.equal(familiarString(parse("localhost/library/foo")), "localhost/library/foo");
  });
  it("library/ is dropped only when nothing nested follows", () => {
    assert.equal(familiarName(parseNormalizedNamed("library/foo")), "foo");
    assert.equal(familiarName(parseNormalizedNamed("library/foo/bar")), "library/foo/bar");
    assert.equal(familiarName(parseNormalizedNamed("docker.io/libraryfoo/bar")), "libraryfoo/bar");
  });
  it("familiar forms keep tag and digest", () => {
    const d = `sha256:${"c".repeat(64)}`;
    assert.equal(familiarString(parseNormalizedNamed(`nginx:1@${d}`)), `nginx:1@${d}`);
    assert.equal(familiarName(parseNormalizedNamed(`nginx:1@${d}`)), "nginx");
  });
  it("a plain Parse result is familiarized too", () => {
    // docker.io/foo from Parse (no library/ added) familiarizes to foo
    assert.equal(familiarName(withName("docker.io/foo")), "foo");
    assert.equal(familiarName(withName("docker.io/library/foo")), "foo");
  });
  it("a digest-only reference's familiar string is the digest", () => {
    const d = `sha256:${"c".repeat(64)}`;
    assert.equal(familiarString(parseAnyReference(d)), d);
  });
  it("familiarString re-normalizes to the same reference", () => {
    for (const s of ["nginx", "foo/bar:1", "localhost/x", "Foo/bar", "example.com:5000/a/b:c"]) {
      const ref = parseNormalizedNamed(s);
      assert.deepEqual(parseNormalizedNamed(familiarString(ref)), ref, s);
    }
  });
});

describe("familiarMatch: Go path.Match semantics", () => {
  const ref = parseNormalizedNamed("example.com/team/app:1.0");
  const hub = parseNormalizedNamed("nginx:latest");
  const cases: [string, boolean][] = [
    ["example.com/team/app:1.0", true],
    ["example.com/team/app", true], // second try: the familiar name
    ["example.com/*/app", true],
    ["example.com/*", false], // * does not cross /
    ["*", false],
    ["*/*/*", true],
    ["example.com/team/app:?.?", true],
    ["example.com/team/app:[0-9].[!1]", false], // ! is a literal in Go, ^ negates
    ["example.com/team/app:[0-9].[^1]", true],
    ["example.com/team/app:[^0-9]*", false],
    ["example.com/team/ap\\p", true],
    ["example.com/team/ap\\*", false],
    ["example.com/team/a?p", true],
    ["example.com?team/app", false], // ? does not match /
    ["example.com/team/app*", true],
    ["", false],
  ];
  for (const [pattern, expected] of cases) {
    it(`${JSON.stringify(pattern)} → ${expected}`, () =>
      assert.equal(familiarMatch(pattern, ref), expected));
  }
  it("official images match by their familiar name", () => {
    assert.equal(familiarMatch("nginx", hub), true);
    assert.equal(familiarMatch("nginx:*", hub), true);
    assert.equal(familiarMatch("library/nginx", hub), false);
    assert.equal(familiarMatch("docker.io/library/nginx", hub), false);
  });
  it("a digest-only reference matches its digest text only", () => {
    const d = `sha256:${"c".repeat(64)}`;
    const r = parseAnyReference(d);
    assert.equal(familiarMatch("sha256:*", r), true);
    assert.equal(familiarMatch("sha512:*", r), false);
  });
  const bad = ["[", "[a", "[a-", "[a-]", "[]a]", "[^]", "\\", "x\\", "[-x]", "a[", "*[", "[\\"];
  for (const pattern of bad) {
    it(`bad pattern ${JSON.stringify(pattern)}`, () =>
      assertKimgError(() => familiarMatch(pattern, ref), E.badPattern));
  }
  it("a bad pattern is reported even after an early mismatch", () => {
    assertKimgError(() => familiarMatch("zzz[", ref), E.badPattern);
    assertKimgError(() => familiarMatch("zzz*[a-", ref), E.badPattern);
  });
});

describe("familiarMatch on long inputs", () => {
  const ref = parseNormalizedNamed("example.com/team/app:1.0");
  it("10k-char literal pattern", () => assert.equal(familiarMatch("a".repeat(10_000), ref), false));
  it("star then a 10k-char chunk", () =>
    assert.equal(familiarMatch(`*${"a".repeat(10_000)}`, ref), false));
  it("5k stars", () => assert.equal(familiarMatch("*".repeat(5_000), ref), false));
  it("alternating stars and letters", () =>
    assert.equal(familiarMatch("*a".repeat(5_000), ref), false));
  it("10k-char character class", () =>
    assert.equal(familiarMatch(`[${"a".repeat(10_000)}]`, ref), false));
  it("long domain against a star pattern", () => {
    const long = parse(`${"a.".repeat(5_000)}io/x:t`);
    // the familiar string "a.….io/x:t" does not match, the familiar name "a.….io/x" does
    assert.equal(familiarMatch(`*${"a.".repeat(2_000)}*/x`, long), true);
    assert.equal(familiarMatch(`*${"a.".repeat(2_000)}*/y`, long), false);
    assert.equal(familiarMatch("*/x", long), true);
  });
  it("a long bad pattern", () =>
    assertKimgError(() => familiarMatch(`${"*a".repeat(5_000)}[`, ref), E.badPattern));
});
