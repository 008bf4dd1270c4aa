// ParseNormalizedNamed, ParseNamed, ParseAnyReference, ParseDockerRef, TagNameOnly and
// splitDockerDomain: the vectors of distribution/reference normalize_test.go and
// reference_test.go TestParseNamed, plus kimg's own edge cases.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  parse,
  parseAnyReference,
  parseDockerRef,
  parseNamed,
  parseNormalizedNamed,
  type Reference,
  referenceName,
  referenceString,
  splitDockerDomain,
  tagNameOnly,
  withName,
  withTag,
} from "../../src/ref/index.ts";
import { assertKimgError, short } from "./helpers.ts";
import {
  DIGEST_ALGORITHM_POLICY,
  E,
  INVALID_REFERENCE_COMPONENTS,
  INVALID_REFERENCE_NAMES,
  INVALID_REMOTE_NAMES,
  identifierError,
  NORMALIZED_SPLIT_HOSTNAME,
  notLowercaseError,
  PARSE_ANY_REFERENCE,
  PARSE_DOCKER_REF,
  PARSE_NAMED,
  SHA512_HEX,
  TAG_AND_DIGEST_SHORT_REF,
  UPSTREAM_DISTRIBUTION_OPTS,
  VALID_REFERENCE_NAMES,
  VALID_REMOTE_NAMES,
} from "./vectors.ts";

const O = UPSTREAM_DISTRIBUTION_OPTS;

describe("parseNamed: reference_test.go TestParseNamed", () => {
  for (const v of PARSE_NAMED) {
    it(v.input, () => {
      if (v.err !== undefined) {
        assertKimgError(() => parseNamed(v.input, O), v.err, v.input);
        return;
      }
      const ref = parseNamed(v.input, O);
      assert.equal(ref.domain, v.domain);
      assert.equal(ref.path, v.path);
    });
  }
});

describe("parseNormalizedNamed: normalize_test.go TestValidateReferenceName", () => {
  for (const name of VALID_REFERENCE_NAMES) {
    it(`valid ${name}`, () => {
      parseNormalizedNamed(name, O);
    });
  }
  for (const v of INVALID_REFERENCE_NAMES) {
    it(`invalid ${v.input}`, () => assertKimgError(() => parseNormalizedNamed(v.input, O), v.err));
  }
});

describe("parseNormalizedNamed: normalize_test.go TestValidateRemoteName", () => {
  for (const name of VALID_REMOTE_NAMES) {
    it(`valid ${name}`, () => {
      parseNormalizedNamed(name, O);
    });
  }
  for (const v of INVALID_REMOTE_NAMES) {
    it(`invalid ${short(v.input)}`, () =>
      assertKimgError(() => parseNormalizedNamed(v.input, O), v.err));
  }
});

describe("parseNormalizedNamed: normalize_test.go TestParseReferenceWithTagAndDigest", () => {
  it(TAG_AND_DIGEST_SHORT_REF, () => {
    const ref = parseNormalizedNamed(TAG_AND_DIGEST_SHORT_REF, O);
    assert.equal(referenceString(ref), `docker.io/library/${TAG_AND_DIGEST_SHORT_REF}`);
    assert.equal(ref.kind, "reference"); // both NamedTagged and Canonical
  });
});

describe("normalize_test.go TestInvalidReferenceComponents", () => {
  const c = INVALID_REFERENCE_COMPONENTS;
  it("name", () => assertKimgError(() => parseNormalizedNamed(c.name.input, O), c.name.err));
  it("tag", () => {
    const ref = parseNormalizedNamed(c.base, O);
    assertKimgError(() => withTag(ref, c.tag.input), c.tag.err);
  });
  it("digest", async () => {
    const { withDigest } = await import("../../src/ref/index.ts");
    const ref = parseNormalizedNamed(c.base, O);
    assertKimgError(() => withDigest(ref, c.digest.input), c.digest.err);
  });
});

describe("parseAnyReference: normalize_test.go TestParseAnyReference", () => {
  for (const v of PARSE_ANY_REFERENCE) {
    it(v.reference, () => {
      const ref = parseAnyReference(v.reference, O);
      assert.equal(referenceString(ref), v.equivalent);
      const expected: Reference = v.digestOnly
        ? { kind: "digest", domain: "", path: "", tag: "", digest: v.equivalent }
        : parse(v.equivalent, O);
      assert.deepEqual(ref, expected);
    });
  }
});

describe("parseNormalizedNamed: normalize_test.go TestNormalizedSplitHostname", () => {
  for (const v of NORMALIZED_SPLIT_HOSTNAME) {
    it(v.input, () => {
      const ref = parseNormalizedNamed(v.input, O);
      assert.equal(ref.domain, v.domain);
      assert.equal(ref.path, v.path);
    });
  }
});

describe("parseDockerRef: normalize_test.go TestParseDockerRef", () => {
  for (const v of PARSE_DOCKER_REF) {
    it(v.name, () => {
      const ref = parseDockerRef(v.input, O);
      const out = referenceString(ref);
      assert.equal(out, v.expected);
      parse(out, O);
    });
  }
});

describe("digest algorithms through the normalizing parsers", () => {
  for (const v of DIGEST_ALGORITHM_POLICY) {
    const label = `${short(v.input, 40)} ${JSON.stringify(v.opts ?? "default")}`;
    it(label, () => {
      if (v.err !== undefined) {
        assertKimgError(() => parseNormalizedNamed(v.input, v.opts), v.err, label);
        assertKimgError(() => parseDockerRef(v.input, v.opts), v.err, label);
        return;
      }
      assert.equal(parseNormalizedNamed(v.input, v.opts).digest, v.digest);
    });
  }
  it("parseAnyReference: a bare sha512 digest is a digest by default", () => {
    const d = `sha512:${SHA512_HEX}`;
    assert.deepEqual(parseAnyReference(d), {
      kind: "digest",
      domain: "",
      path: "",
      tag: "",
      digest: d,
    });
  });
  it("parseAnyReference: with sha256 only, a sha512 digest becomes a tagged official name", () => {
    const d = `sha512:${SHA512_HEX}`;
    const ref = parseAnyReference(d, O);
    assert.equal(ref.kind, "tagged");
    assert.equal(referenceString(ref), `docker.io/library/${d}`);
  });
  it("parseAnyReference: an invalid digest falls back to a name", () => {
    assert.equal(referenceString(parseAnyReference("sha256:abc")), "docker.io/library/sha256:abc");
    // upper-case hex is no digest; the remote is "library/sha256" and the hex is a tag
    const ref = parseAnyReference(`sha256:${"A".repeat(64)}`);
    assert.equal(referenceString(ref), `docker.io/library/sha256:${"A".repeat(64)}`);
  });
  it("parseAnyReference: upper-case 64-hex is not an identifier", () => {
    const hex = "A".repeat(64);
    assertKimgError(() => parseAnyReference(hex), notLowercaseError(`library/${hex}`));
  });
});

describe("splitDockerDomain (normalize.go)", () => {
  const cases: [string, string, string][] = [
    ["foo", "docker.io", "library/foo"],
    ["foo:tag", "docker.io", "library/foo:tag"],
    ["localhost", "docker.io", "library/localhost"],
    ["localhost:5000", "docker.io", "library/localhost:5000"],
    ["example.com", "docker.io", "library/example.com"],
    ["docker.io", "docker.io", "library/docker.io"],
    ["localhost/foo", "localhost", "foo"],
    ["LOCALHOST/foo", "LOCALHOST", "foo"],
    ["Docker/foo", "Docker", "foo"],
    ["index.docker.io/foo", "docker.io", "library/foo"],
    ["index.docker.io/a/b", "docker.io", "a/b"],
    ["docker.io/foo/bar", "docker.io", "foo/bar"],
    ["registry-1.docker.io/foo", "registry-1.docker.io", "foo"],
    ["foo:bar/baz", "foo:bar", "baz"],
    ["[::1]:5000/foo", "[::1]:5000", "foo"],
    ["library/foo", "docker.io", "library/foo"],
    ["a/b/c", "docker.io", "a/b/c"],
    ["/foo", "docker.io", "/foo"],
  ];
  for (const [input, domain, remainder] of cases) {
    it(input, () => {
      const s = splitDockerDomain(input);
      assert.equal(s.domain, domain);
      assert.equal(s.remainder, remainder);
    });
  }
});

describe("parseNormalizedNamed: kimg's edge cases", () => {
  it("bare localhost:5000 is an official image with tag 5000 (upstream FIXME)", () => {
    const ref = parseNormalizedNamed("localhost:5000");
    assert.equal(referenceString(ref), "docker.io/library/localhost:5000");
    assert.equal(ref.tag, "5000");
  });
  it("the lowercase error names the remote, with library/ when added", () => {
    assertKimgError(() => parseNormalizedNamed("Foo"), notLowercaseError("library/Foo"));
    assertKimgError(() => parseNormalizedNamed("foo/Bar:tag"), notLowercaseError("foo/Bar"));
    assertKimgError(
      () => parseNormalizedNamed("example.com/Foo@sha256:abc"),
      notLowercaseError("Foo@sha256"),
    );
  });
  it("the remote is cut at the first colon only", () => {
    assert.equal(parseNormalizedNamed("foo:Tag").tag, "Tag");
    assertKimgError(
      () => parseNormalizedNamed(`foo@SHA256:${"f".repeat(64)}`),
      notLowercaseError("library/foo@SHA256"),
    );
  });
  it("an uppercase first component is a domain, and upper case after it is rejected", () => {
    assert.equal(referenceString(parseNormalizedNamed("LOCALHOST/foo")), "LOCALHOST/foo");
    assertKimgError(() => parseNormalizedNamed("Docker/Foo"), notLowercaseError("Foo"));
  });
  it("the 64-hex identifier check is on the whole input only", () => {
    const hex = "a".repeat(64);
    assertKimgError(() => parseNormalizedNamed(hex), identifierError(hex));
    assert.equal(parseNormalizedNamed(`${hex}:tag`).tag, "tag");
    assert.equal(referenceName(parseNormalizedNamed(`library/${hex}`)), `docker.io/library/${hex}`);
  });
  it("library/ counts toward the 255-char path limit", () => {
    assert.equal(parseNormalizedNamed("a".repeat(247)).path.length, 255);
    assertKimgError(() => parseNormalizedNamed("a".repeat(248)), E.nameTooLong);
  });
  it("errors from Parse pass through", () => {
    assertKimgError(() => parseNormalizedNamed(""), E.referenceInvalidFormat);
    assertKimgError(() => parseNormalizedNamed("foo@sha256:abc"), E.referenceInvalidFormat);
    assertKimgError(() => parseNormalizedNamed(`foo@sha256:${"f".repeat(40)}`), E.checksumLength);
  });
  it("parseNamed accepts only already-canonical input", () => {
    assertKimgError(() => parseNamed("index.docker.io/library/foo"), E.nameNotCanonical);
    assertKimgError(() => parseNamed("foo:tag"), E.nameNotCanonical);
    assert.equal(parseNamed("docker.io/library/foo:tag").tag, "tag");
    assertKimgError(() => parseNamed("Foo"), notLowercaseError("library/Foo"));
  });
});

describe("parseDockerRef and tagNameOnly: kimg's edge cases", () => {
  it("tag and digest: the tag is dropped", () => {
    const d = `sha256:${"c".repeat(64)}`;
    const ref = parseDockerRef(`foo:1.0@${d}`);
    assert.deepEqual(ref, {
      kind: "canonical",
      domain: "docker.io",
      path: "library/foo",
      tag: "",
      digest: d,
    });
  });
  it("tagNameOnly adds latest only to a name alone", () => {
    assert.equal(referenceString(tagNameOnly(withName("foo"))), "foo:latest");
    assert.equal(referenceString(tagNameOnly(parse("foo:1"))), "foo:1");
    const d = `sha256:${"c".repeat(64)}`;
    assert.equal(referenceString(tagNameOnly(parse(`foo@${d}`))), `foo@${d}`);
    const digestOnly = parseAnyReference(d);
    assert.deepEqual(tagNameOnly(digestOnly), digestOnly);
  });
});

describe("normalizing parsers on long inputs", () => {
  it("10k-char official name: too long", () =>
    assertKimgError(() => parseNormalizedNamed("a".repeat(10_000)), E.nameTooLong));
  it("10k-char name with upper case at the end", () =>
    assertKimgError(
      () => parseNormalizedNamed(`${"a/".repeat(5_000)}A`),
      notLowercaseError(`${"a/".repeat(5_000)}A`),
    ));
  it("10k colons", () =>
    assertKimgError(() => parseNormalizedNamed(":".repeat(10_000)), E.referenceInvalidFormat));
  it("10k slashes", () =>
    assertKimgError(() => parseNormalizedNamed("/".repeat(10_000)), E.referenceInvalidFormat));
  it("parseAnyReference on a 10k-char digest-like string", () =>
    assertKimgError(
      () => parseAnyReference(`sha256:${"f".repeat(10_000)}`),
      E.referenceInvalidFormat,
    ));
  it("parseDockerRef on a long valid domain", () => {
    const ref = parseDockerRef(`${"a.".repeat(5_000)}io/x`);
    assert.equal(ref.tag, "latest");
  });
});
