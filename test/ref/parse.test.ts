// reference.Parse, WithName, WithTag, WithDigest, TrimNamed: the vectors of
// distribution/reference reference_test.go plus kimg's own edge cases.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  isNameOnly,
  parse,
  type Reference,
  referenceName,
  referenceString,
  trimNamed,
  withDigest,
  withName,
  withTag,
} from "../../src/ref/index.ts";
import { assertKimgError, short } from "./helpers.ts";
import {
  DIGEST_ALGORITHM_POLICY,
  DOMAIN_AND_PATH,
  E,
  REFERENCE_PARSE,
  SERIALIZATION,
  UPSTREAM_DISTRIBUTION_OPTS,
  WITH_DIGEST,
  WITH_NAME_FAILURE,
  WITH_TAG,
} from "./vectors.ts";

const isTagged = (r: Reference) => r.kind === "tagged" || r.kind === "reference";
const isDigested = (r: Reference) =>
  r.kind === "canonical" || r.kind === "reference" || r.kind === "digest";

describe("parse: reference_test.go TestReferenceParse", () => {
  for (const v of REFERENCE_PARSE) {
    it(short(v.input), () => {
      if (v.err !== undefined) {
        assertKimgError(() => parse(v.input, UPSTREAM_DISTRIBUTION_OPTS), v.err, v.input);
        return;
      }
      const ref = parse(v.input, UPSTREAM_DISTRIBUTION_OPTS);
      assert.equal(referenceString(ref), v.input);
      assert.equal(referenceName(ref), v.repository ?? "");
      assert.equal(ref.domain, v.domain ?? "");
      assert.equal(ref.tag, v.tag ?? "");
      assert.equal(isTagged(ref), (v.tag ?? "") !== "");
      assert.equal(ref.digest, v.digest ?? "");
      assert.equal(isDigested(ref), (v.digest ?? "") !== "");
      assert.notEqual(ref.kind, "digest", "Parse never returns a digest-only reference");
    });
  }
});

describe("withName: reference_test.go TestWithNameFailure", () => {
  for (const v of WITH_NAME_FAILURE) {
    it(short(v.input), () => assertKimgError(() => withName(v.input), v.err, v.input));
  }
});

describe("withName: reference_test.go TestDomainAndPath", () => {
  for (const v of DOMAIN_AND_PATH) {
    it(v.input, () => {
      const ref = withName(v.input);
      assert.equal(ref.kind, "repository");
      assert.equal(ref.domain, v.domain);
      assert.equal(ref.path, v.path);
    });
  }
});

describe("parse as Field.UnmarshalText: reference_test.go TestSerialization", () => {
  for (const v of SERIALIZATION) {
    it(v.description, () => {
      if (v.err !== undefined) {
        assertKimgError(() => parse(v.input, UPSTREAM_DISTRIBUTION_OPTS), v.err);
        return;
      }
      const ref = parse(v.input, UPSTREAM_DISTRIBUTION_OPTS);
      assert.equal(referenceName(ref), v.name ?? "");
      assert.equal(ref.tag, v.tag ?? "");
      assert.equal(isTagged(ref), (v.tag ?? "") !== "");
      assert.equal(ref.digest, v.digest ?? "");
      assert.equal(isDigested(ref), (v.digest ?? "") !== "");
      // MarshalText gives the same text back; the JSON round trip is lossless.
      const json = JSON.stringify({ Description: v.description, Field: referenceString(ref) });
      assert.equal(json, JSON.stringify({ Description: v.description, Field: v.input }));
    });
  }
});

describe("withTag: reference_test.go TestWithTag", () => {
  for (const v of WITH_TAG) {
    it(v.combined, () => {
      let named = withName(v.name);
      if (v.digest !== undefined) named = withDigest(named, v.digest);
      const tagged = withTag(named, v.tag ?? "");
      assert.equal(referenceString(tagged), v.combined);
      assert.equal(tagged.kind, v.digest !== undefined ? "reference" : "tagged");
    });
  }
});

describe("withDigest: reference_test.go TestWithDigest", () => {
  for (const v of WITH_DIGEST) {
    it(v.combined, () => {
      let named = withName(v.name);
      if (v.tag !== undefined) named = withTag(named, v.tag);
      const digested = withDigest(named, v.digest ?? "");
      assert.equal(referenceString(digested), v.combined);
      assert.equal(digested.kind, v.tag !== undefined ? "reference" : "canonical");
    });
  }
});

describe("digest algorithms: defaults accept sha256, sha384, sha512; options narrow", () => {
  for (const v of DIGEST_ALGORITHM_POLICY) {
    const label = `${short(v.input, 40)} ${JSON.stringify(v.opts ?? "default")}`;
    it(label, () => {
      if (v.err !== undefined) {
        assertKimgError(() => parse(v.input, v.opts), v.err, label);
        return;
      }
      const ref = parse(v.input, v.opts);
      assert.equal(ref.kind, "canonical");
      assert.equal(ref.digest, v.digest);
    });
  }
});

describe("parse: error order and classification (reference.go Parse)", () => {
  it("empty input is NAME_EMPTY", () => assertKimgError(() => parse(""), E.nameEmpty));
  it("upper case in the path is NAME_CONTAINS_UPPERCASE", () => {
    assertKimgError(() => parse("foo/Bar"), E.nameContainsUppercase);
    assertKimgError(() => parse("FOO"), E.nameContainsUppercase);
    assertKimgError(() => parse("example.com/Foo:tag"), E.nameContainsUppercase);
  });
  it("upper case that lowercasing cannot fix is REFERENCE_INVALID_FORMAT", () => {
    assertKimgError(() => parse("Foo$"), E.referenceInvalidFormat);
    assertKimgError(() => parse("foo/Bar:-tag"), E.referenceInvalidFormat);
  });
  it("upper case in the first of two components makes it a domain", () => {
    const ref = parse("Foo/bar");
    assert.deepEqual(ref, { kind: "repository", domain: "Foo", path: "bar", tag: "", digest: "" });
  });
  it("an upper-case digest algorithm makes the whole input lowercasable", () => {
    // SHA256 is grammatical (algorithm allows A-Z); go-digest rejects it as format.
    assertKimgError(() => parse(`foo@SHA256:${"f".repeat(64)}`), E.checksumFormat);
  });
  it("path length is checked before the digest", () => {
    assertKimgError(() => parse(`${"a".repeat(256)}@sha256:${"f".repeat(32)}`), E.nameTooLong);
    assertKimgError(() => parse(`${"a".repeat(255)}@sha256:${"f".repeat(32)}`), E.checksumLength);
  });
  it("the 255 limit counts the path only, not the domain", () => {
    const ref = parse(`${"d".repeat(300)}.com/${"a".repeat(255)}`);
    assert.equal(ref.path.length, 255);
    assertKimgError(() => parse(`example.com/${"a".repeat(256)}`), E.nameTooLong);
  });
  it("tags are 1..128 word characters", () => {
    assert.equal(parse(`foo:${"t".repeat(128)}`).tag.length, 128);
    assertKimgError(() => parse(`foo:${"t".repeat(129)}`), E.referenceInvalidFormat);
    assertKimgError(() => parse("foo:.tag"), E.referenceInvalidFormat);
    assertKimgError(() => parse("foo:-tag"), E.referenceInvalidFormat);
    assertKimgError(() => parse("foo:"), E.referenceInvalidFormat);
    assert.equal(parse("foo:_tag.-x").tag, "_tag.-x");
  });
  it("digest grammar needs at least 32 hex digits", () => {
    assertKimgError(() => parse(`foo@sha256:${"f".repeat(31)}`), E.referenceInvalidFormat);
    assertKimgError(() => parse(`foo@sha256:${"f".repeat(32)}`), E.checksumLength);
    assertKimgError(() => parse(`foo@sha256:${"F".repeat(64)}`), E.checksumFormat);
  });
  it("a digest-like name is a name with a tag", () => {
    const ref = parse(`sha256:${"f".repeat(64)}`);
    assert.equal(ref.kind, "tagged");
    assert.equal(ref.path, "sha256");
    assert.equal(ref.tag, "f".repeat(64));
  });
  it("ports are digits of any length; IPv6 hosts are hex and colons only", () => {
    assert.equal(parse("host:0000099999999/x").domain, "host:0000099999999");
    assert.equal(parse("[::]/x").domain, "[::]");
    assertKimgError(() => parse("[]/x"), E.referenceInvalidFormat);
    assertKimgError(() => parse("[::ffff:1.2.3.4]/x"), E.referenceInvalidFormat);
  });
  it("separators: one dot, one or two underscores, any run of dashes", () => {
    assert.equal(parse("a.b_c__d---e").path, "a.b_c__d---e");
    assertKimgError(() => parse("a___b"), E.referenceInvalidFormat);
    assertKimgError(() => parse("a..b"), E.referenceInvalidFormat);
    assertKimgError(() => parse("a._b"), E.referenceInvalidFormat);
  });
  it("no newline tolerance at the end ($ is end of text)", () => {
    assertKimgError(() => parse("foo\n"), E.referenceInvalidFormat);
    assertKimgError(() => parse("foo:tag\n"), E.referenceInvalidFormat);
    assertKimgError(() => parse("\nfoo"), E.referenceInvalidFormat);
  });
});

describe("builders (reference.go WithName / WithTag / WithDigest / TrimNamed)", () => {
  it("withName rejects tags and digests but reports no upper-case error", () => {
    assertKimgError(() => withName("foo/Bar"), E.referenceInvalidFormat);
    assertKimgError(() => withName("foo:tag"), E.referenceInvalidFormat);
  });
  it("withName has the path-only length limit", () => {
    assert.equal(withName(`${"d".repeat(300)}.io/${"a".repeat(255)}`).path.length, 255);
    assertKimgError(() => withName("a".repeat(256)), E.nameTooLong);
  });
  it("withTag validates the tag", () => {
    const named = withName("foo");
    assertKimgError(() => withTag(named, ""), E.tagInvalidFormat);
    assertKimgError(() => withTag(named, "-x"), E.tagInvalidFormat);
    assertKimgError(() => withTag(named, "t".repeat(129)), E.tagInvalidFormat);
    assertKimgError(() => withTag(named, "a:b"), E.tagInvalidFormat);
  });
  it("withDigest checks only the digest grammar, not go-digest", () => {
    const named = withName("foo");
    const d = withDigest(named, `sha256:${"a".repeat(37)}`);
    assert.equal(referenceString(d), `foo@sha256:${"a".repeat(37)}`);
    assert.equal(
      withDigest(named, `weird+alg:${"A".repeat(32)}`).digest,
      `weird+alg:${"A".repeat(32)}`,
    );
    assertKimgError(() => withDigest(named, "foo"), E.digestInvalidFormat);
    assertKimgError(() => withDigest(named, `sha256:${"a".repeat(31)}`), E.digestInvalidFormat);
    assertKimgError(() => withDigest(named, `1sha:${"a".repeat(32)}`), E.digestInvalidFormat);
  });
  it("withTag replaces a tag and keeps a digest; withDigest keeps a tag", () => {
    const d = `sha256:${"c".repeat(64)}`;
    const ref = parse(`ex.com/foo:old@${d}`);
    assert.equal(referenceString(withTag(ref, "new")), `ex.com/foo:new@${d}`);
    const e = `sha256:${"e".repeat(64)}`;
    assert.equal(referenceString(withDigest(parse("ex.com/foo:t"), e)), `ex.com/foo:t@${e}`);
  });
  it("trimNamed drops tag and digest", () => {
    const ref = parse(`ex.com:5000/foo/bar:t@sha256:${"c".repeat(64)}`);
    const trimmed = trimNamed(ref);
    assert.deepEqual(trimmed, {
      kind: "repository",
      domain: "ex.com:5000",
      path: "foo/bar",
      tag: "",
      digest: "",
    });
    assert.ok(isNameOnly(trimmed));
    assert.ok(!isNameOnly(ref));
  });
  it("isNameOnly: neither tagged nor canonical", () => {
    assert.ok(isNameOnly(parse("foo")));
    assert.ok(!isNameOnly(parse("foo:t")));
    assert.ok(!isNameOnly(parse(`foo@sha256:${"c".repeat(64)}`)));
  });
});

describe("long inputs finish with the right answer", () => {
  const cases: {
    name: string;
    input: string;
    err?: (typeof E)[keyof typeof E];
    check?: (r: Reference) => void;
  }[] = [
    { name: "10k a: path too long", input: "a".repeat(10_000), err: E.nameTooLong },
    { name: "10k a then !", input: `${"a".repeat(10_000)}!`, err: E.referenceInvalidFormat },
    { name: "a- × 5000", input: "a-".repeat(5_000), err: E.referenceInvalidFormat },
    { name: "a-- … ending in -", input: `${"a--".repeat(3_333)}-`, err: E.referenceInvalidFormat },
    { name: "a__ × 3333 + a: too long", input: `${"a__".repeat(3_333)}a`, err: E.nameTooLong },
    { name: "a_ × 5000: trailing _", input: "a_".repeat(5_000), err: E.referenceInvalidFormat },
    { name: "a/ × 5000: trailing /", input: "a/".repeat(5_000), err: E.referenceInvalidFormat },
    {
      name: "a/ × 5000 + A: upper case",
      input: `${"a/".repeat(5_000)}A`,
      err: E.nameContainsUppercase,
    },
    { name: "a. × 5000 + !", input: `${"a.".repeat(5_000)}!`, err: E.referenceInvalidFormat },
    {
      name: "10k-char domain is allowed",
      input: `${"a.".repeat(5_000)}com/b`,
      check: (r) => {
        assert.equal(r.domain.length, 10_003);
        assert.equal(r.path, "b");
      },
    },
    {
      name: "a.a.a… with a long port and no slash",
      input: `${"a.".repeat(5_000)}a:${"1".repeat(5_000)}`,
      err: E.referenceInvalidFormat,
    },
    { name: "tag of 10k chars", input: `a:${"b".repeat(10_000)}`, err: E.referenceInvalidFormat },
    {
      name: "digest of 10k hex",
      input: `a@sha256:${"f".repeat(10_000)}`,
      err: E.checksumLength,
    },
    {
      name: "digest algorithm of 10k chars",
      input: `a@${"s.".repeat(5_000)}s:${"f".repeat(32)}`,
      err: E.digestUnsupported,
    },
    {
      name: "IPv6 of 10k colons",
      input: `[${":".repeat(10_000)}]/a`,
      check: (r) => assert.equal(r.domain.length, 10_002),
    },
    { name: "unclosed IPv6", input: `[${":".repeat(10_000)}/a`, err: E.referenceInvalidFormat },
    { name: "a: × 5000", input: "a:".repeat(5_000), err: E.referenceInvalidFormat },
    { name: "a:1/ × 3333", input: "a:1/".repeat(3_333), err: E.referenceInvalidFormat },
    { name: "@ × 10k", input: "@".repeat(10_000), err: E.referenceInvalidFormat },
    {
      name: "mixed separators with a bad end",
      input: `${"a.b_c__d-e/".repeat(900)}-`,
      err: E.referenceInvalidFormat,
    },
    {
      name: "A × 10k: upper case",
      input: "A".repeat(10_000),
      err: E.nameContainsUppercase,
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      if (c.err !== undefined) {
        assertKimgError(() => parse(c.input), c.err, c.name);
      } else {
        const r = parse(c.input);
        c.check?.(r);
      }
    });
  }
});
