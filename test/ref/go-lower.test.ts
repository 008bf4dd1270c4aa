// Go's strings.ToLower (simple, rune-by-rune case mapping) versus JavaScript's toLowerCase
// (full, context-sensitive mapping). Upstream classifies errors by lowercasing the input, so
// the difference decides between "repository name must be lowercase" and "invalid reference
// format" on non-ASCII input.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { goToLower, parse, parseNormalizedNamed, splitDockerDomain } from "../../src/ref/index.ts";
import { assertKimgError } from "./helpers.ts";
import { E, notLowercaseError } from "./vectors.ts";

describe("goToLower", () => {
  const cases: [string, string, string][] = [
    ["ASCII", "ABC/Def:TAG", "abc/def:tag"],
    ["empty", "", ""],
    ["İ (U+0130) → i, not i + U+0307", "\u0130", "i"],
    ["KELVIN SIGN (U+212A) → k", "\u212a", "k"],
    ["ANGSTROM SIGN (U+212B) → å", "\u212b", "\u00e5"],
    ["final sigma: Go has no context rule", "\u0391\u03a3", "\u03b1\u03c3"],
    ["sigma between letters", "\u03a3\u0391\u03a3\u0391", "\u03c3\u03b1\u03c3\u03b1"],
    ["final small sigma stays", "\u03c2", "\u03c2"],
    ["long s stays (it is lower case)", "\u017f", "\u017f"],
    ["capital sharp s", "\u1e9e", "\u00df"],
    ["title case Dž", "\u01c5", "\u01c6"],
    ["roman numeral twelve", "\u216b", "\u217b"],
    ["circled A", "\u24b6", "\u24d0"],
    ["Deseret (astral)", "\u{10400}", "\u{10428}"],
    ["Cherokee", "\u13a0", "\uab70"],
    ["already lower", "nginx", "nginx"],
  ];
  for (const [name, input, expected] of cases) {
    it(name, () => assert.equal(goToLower(input), expected));
  }
  it("differs from JavaScript exactly where Go's mapping is simple", () => {
    assert.notEqual("\u0130".toLowerCase(), goToLower("\u0130"));
    assert.notEqual("\u0391\u03a3".toLowerCase(), goToLower("\u0391\u03a3"));
  });
});

describe("parse: non-ASCII upper case", () => {
  it("İmage is NAME_CONTAINS_UPPERCASE (Go lowers it to image)", () =>
    assertKimgError(() => parse("\u0130mage"), E.nameContainsUppercase));
  it("foo/İ is NAME_CONTAINS_UPPERCASE", () =>
    assertKimgError(() => parse("foo/\u0130"), E.nameContainsUppercase));
  it("Kelvin sign: Kube is NAME_CONTAINS_UPPERCASE", () =>
    assertKimgError(() => parse("\u212aube"), E.nameContainsUppercase));
  it("Angstrom sign lowers to å, still not ASCII: REFERENCE_INVALID_FORMAT", () =>
    assertKimgError(() => parse("\u212b"), E.referenceInvalidFormat));
  it("final sigma: REFERENCE_INVALID_FORMAT either way", () => {
    assertKimgError(() => parse("foo\u03a3"), E.referenceInvalidFormat);
    assertKimgError(() => parse("foo\u03c2"), E.referenceInvalidFormat);
  });
  it("long s: REFERENCE_INVALID_FORMAT", () =>
    assertKimgError(() => parse("\u017f"), E.referenceInvalidFormat));
  it("İ in a tag also reports the name (Go lowercases the whole input)", () =>
    assertKimgError(() => parse("foo:\u0130"), E.nameContainsUppercase));
  it("Kelvin sign in a domain", () =>
    assertKimgError(() => parse("\u212a8s.io/foo"), E.nameContainsUppercase));
  it("a 10k-char İ name", () =>
    assertKimgError(() => parse("\u0130".repeat(10_000)), E.nameContainsUppercase));
  it("a 10k-char final-sigma name", () =>
    assertKimgError(() => parse("\u03a3".repeat(10_000)), E.referenceInvalidFormat));
});

describe("parseNormalizedNamed and splitDockerDomain: non-ASCII upper case", () => {
  it("İmage: the remote is not lowercase", () =>
    assertKimgError(
      () => parseNormalizedNamed("\u0130mage"),
      notLowercaseError("library/\u0130mage"),
    ));
  it("Kelvin sign in the remote", () =>
    assertKimgError(
      () => parseNormalizedNamed("foo/\u212aube"),
      notLowercaseError("foo/\u212aube"),
    ));
  it("a non-ASCII upper-case first component is a domain", () => {
    assert.equal(splitDockerDomain("\u0130/foo").domain, "\u0130");
    assert.equal(splitDockerDomain("\u212a/foo").domain, "\u212a");
    assert.equal(splitDockerDomain("\u03a3/foo").domain, "\u03a3");
    assert.equal(splitDockerDomain("\u03c3/foo").domain, "docker.io");
    assert.equal(splitDockerDomain("\u017f/foo").domain, "docker.io");
  });
  it("İ as the domain: Parse then reports NAME_CONTAINS_UPPERCASE", () =>
    assertKimgError(() => parseNormalizedNamed("\u0130/foo"), E.nameContainsUppercase));
  it("Kelvin-sign domain: NAME_CONTAINS_UPPERCASE", () =>
    assertKimgError(() => parseNormalizedNamed("\u212aube/foo"), E.nameContainsUppercase));
  it("sigma as the domain: REFERENCE_INVALID_FORMAT", () =>
    assertKimgError(() => parseNormalizedNamed("\u03a3/foo"), E.referenceInvalidFormat));
  it("long s as the namespace: REFERENCE_INVALID_FORMAT", () =>
    assertKimgError(() => parseNormalizedNamed("\u017f/foo"), E.referenceInvalidFormat));
  it("İ in a tag after normalization: NAME_CONTAINS_UPPERCASE", () =>
    assertKimgError(() => parseNormalizedNamed("foo:\u0130"), E.nameContainsUppercase));
});
