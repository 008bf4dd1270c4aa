// Property-based tests (fast-check): references built from generators that follow the grammar
// of distribution/reference regexp.go.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { KimgError } from "../../src/errors.ts";
import { ANCHORED_IDENTIFIER_RE } from "../../src/ref/grammar.ts";
import {
  applyDefaultImageTag,
  familiarMatch,
  familiarName,
  familiarString,
  goToLower,
  type ParseOptions,
  parse,
  parseAnyReference,
  parseDockerRef,
  parseImageName,
  parseNamed,
  parseNormalizedNamed,
  type Reference,
  referenceName,
  referenceString,
  splitDockerDomain,
  trimNamed,
  withDigest,
  withName,
  withTag,
} from "../../src/ref/index.ts";
import { assertKimgError } from "./helpers.ts";
import { E } from "./vectors.ts";

const RUNS = { numRuns: 1_000 };

// ---- generators --------------------------------------------------------------------------

const chars = (s: string, minLength: number, maxLength: number) =>
  fc.string({ unit: fc.constantFrom(...s), minLength, maxLength });

const LOWER_ALNUM = "abcdefghijklmnopqrstuvwxyz0123456789";
const ALNUM = `${LOWER_ALNUM}ABCDEFGHIJKLMNOPQRSTUVWXYZ`;
const WORD = `${ALNUM}_`;
const HEX = "0123456789abcdef";

const alphanumeric = chars(LOWER_ALNUM, 1, 6);
const separator = fc.constantFrom(".", "_", "__", "-", "--", "---");
const pathComponent = fc
  .tuple(alphanumeric, fc.array(fc.tuple(separator, alphanumeric), { maxLength: 3 }))
  .map(([first, rest]) => first + rest.map(([s, a]) => s + a).join(""));
const path = fc
  .array(pathComponent, { minLength: 1, maxLength: 4 })
  .map((cs) => cs.join("/"))
  .filter((p) => p.length <= 255);

const domainComponent = fc.oneof(
  chars(ALNUM, 1, 1),
  fc
    .tuple(chars(ALNUM, 1, 1), chars(`${ALNUM}-`, 0, 6), chars(ALNUM, 1, 1))
    .map(([a, b, c]) => a + b + c),
);
const domainName = fc
  .array(domainComponent, { minLength: 1, maxLength: 4 })
  .map((cs) => cs.join("."));
const ipv6 = chars("0123456789abcdefABCDEF:", 1, 12).map((s) => `[${s}]`);
const port = fc.option(chars("0123456789", 1, 6), { nil: undefined });
const domain = fc
  .tuple(fc.oneof({ weight: 4, arbitrary: domainName }, { weight: 1, arbitrary: ipv6 }), port)
  .map(([h, p]) => (p === undefined ? h : `${h}:${p}`));

const tag = fc
  .tuple(chars(WORD, 1, 1), fc.oneof(chars(`${WORD}.-`, 0, 10), chars(`${WORD}.-`, 0, 127)))
  .map(([a, b]) => a + b);

const digest = fc.oneof(
  chars(HEX, 64, 64).map((h) => `sha256:${h}`),
  chars(HEX, 96, 96).map((h) => `sha384:${h}`),
  chars(HEX, 128, 128).map((h) => `sha512:${h}`),
);

interface Parts {
  domain?: string;
  path: string;
  tag?: string;
  digest?: string;
}

const parts: fc.Arbitrary<Parts> = fc.record(
  { domain, path, tag, digest },
  { requiredKeys: ["path"] },
);

function build(p: Parts): string {
  let s = p.domain === undefined ? p.path : `${p.domain}/${p.path}`;
  if (p.tag !== undefined) s += `:${p.tag}`;
  if (p.digest !== undefined) s += `@${p.digest}`;
  return s;
}

function tryOr<T>(fn: () => T): T | undefined {
  try {
    return fn();
  } catch (e) {
    if (e instanceof KimgError) return undefined;
    throw e;
  }
}

// ---- properties --------------------------------------------------------------------------

describe("parse on grammar-conforming references", () => {
  it("accepts them, keeps the parts, and String() gives the input back", () => {
    fc.assert(
      fc.property(parts, (p) => {
        const s = build(p);
        const ref = parse(s);
        assert.equal(referenceString(ref), s);
        if (p.domain !== undefined) {
          assert.equal(ref.domain, p.domain);
          assert.equal(ref.path, p.path);
        } else {
          assert.equal(referenceName(ref), p.path);
        }
        assert.equal(ref.tag, p.tag ?? "");
        assert.equal(ref.digest, p.digest ?? "");
      }),
      RUNS,
    );
  });
  it("parse → referenceString → parse is stable", () => {
    fc.assert(
      fc.property(parts, (p) => {
        const ref = parse(build(p));
        assert.deepEqual(parse(referenceString(ref)), ref);
      }),
      RUNS,
    );
  });
  it("the builders rebuild what parse returns", () => {
    fc.assert(
      fc.property(parts, (p) => {
        const ref = parse(build(p));
        let rebuilt = withName(referenceName(ref));
        if (ref.tag !== "") rebuilt = withTag(rebuilt, ref.tag);
        if (ref.digest !== "") rebuilt = withDigest(rebuilt, ref.digest);
        assert.deepEqual(rebuilt, ref);
        assert.deepEqual(trimNamed(ref), withName(referenceName(ref)));
      }),
      RUNS,
    );
  });
  it("upper case in the last path component is NAME_CONTAINS_UPPERCASE", () => {
    fc.assert(
      fc.property(parts, fc.nat(), (p, n) => {
        const slash = p.path.lastIndexOf("/");
        const last = p.path.slice(slash + 1);
        const letters = [...last.matchAll(/[a-z]/g)].map((m) => m.index);
        fc.pre(letters.length > 0);
        const at = slash + 1 + (letters[n % letters.length] ?? 0);
        const upper = p.path.slice(0, at) + p.path.charAt(at).toUpperCase() + p.path.slice(at + 1);
        assertKimgError(() => parse(build({ ...p, path: upper })), E.nameContainsUppercase);
      }),
      RUNS,
    );
  });
  it("a sha256-only policy rejects exactly the other algorithms", () => {
    fc.assert(
      fc.property(parts, (p) => {
        fc.pre(p.digest !== undefined);
        const s = build(p);
        if (p.digest?.startsWith("sha256:")) {
          parse(s, { digestAlgorithms: ["sha256"] });
        } else {
          assertKimgError(() => parse(s, { digestAlgorithms: ["sha256"] }), E.digestUnsupported);
        }
      }),
      RUNS,
    );
  });
});

// A familiar string re-normalizes to the same reference unless a Docker Hub path starts with
// a component that splitDockerDomain takes for a registry (upstream behaviour: for example
// docker.io/a.b/c familiarizes to a.b/c, which is registry a.b).
function familiarIsAmbiguous(ref: Reference): boolean {
  if (ref.domain !== "docker.io") return false;
  const fam = familiarName(ref);
  const slash = fam.indexOf("/");
  if (slash === -1) return false;
  const first = fam.slice(0, slash);
  return first === "localhost" || first.includes(".") || first.includes(":");
}

describe("normalization", () => {
  it("parseNormalizedNamed(familiarString(x)) equals x for normalized x", () => {
    fc.assert(
      fc.property(parts, (p) => {
        const x = tryOr(() => parseNormalizedNamed(build(p)));
        fc.pre(x !== undefined && !familiarIsAmbiguous(x));
        assert.deepEqual(parseNormalizedNamed(familiarString(x)), x);
        assert.deepEqual(parseNormalizedNamed(referenceString(x)), x);
      }),
      RUNS,
    );
  });
  it("upstream quirk: IPv6 brackets are a character class in FamiliarMatch", () => {
    const x = parseNormalizedNamed("[::1]:5000/a");
    assert.equal(familiarMatch(familiarString(x), x), false);
    assert.equal(familiarMatch("\\[::1\\]:5000/a", x), true);
  });
  it("the ambiguity is upstream's: docker.io/a.b/c familiarizes to a registry name", () => {
    const x = parseNormalizedNamed("docker.io/a.b/c");
    assert.equal(familiarString(x), "a.b/c");
    assert.equal(parseNormalizedNamed("a.b/c").domain, "a.b");
  });
  it("parseNamed accepts the canonical string of any normalized reference", () => {
    fc.assert(
      fc.property(parts, (p) => {
        const x = tryOr(() => parseNormalizedNamed(build(p)));
        fc.pre(x !== undefined);
        assert.deepEqual(parseNamed(referenceString(x)), x);
      }),
      RUNS,
    );
  });
  it("normalizing is idempotent; Docker Hub paths always have a namespace", () => {
    fc.assert(
      fc.property(parts, (p) => {
        const x = tryOr(() => parseNormalizedNamed(build(p)));
        fc.pre(x !== undefined);
        assert.deepEqual(parseNormalizedNamed(referenceString(x)), x);
        if (x.domain === "docker.io") assert.ok(x.path.includes("/"));
      }),
      RUNS,
    );
  });
  it("upstream quirk: a dotted first component that is no valid host leaves the domain empty", () => {
    // splitDockerDomain takes "a__a.a" for a registry (it has a dot); Parse then cannot read it
    // as a domain (underscores) and keeps the whole input as the path, with no domain.
    const x = parseNormalizedNamed("a__a.a/a");
    assert.deepEqual(x, { kind: "repository", domain: "", path: "a__a.a/a", tag: "", digest: "" });
    assert.equal(referenceString(x), "a__a.a/a");
    assert.equal(referenceString(parseNormalizedNamed("foo_bar.com/x:1")), "foo_bar.com/x:1");
  });
  it("parseDockerRef keeps exactly one of tag and digest", () => {
    fc.assert(
      fc.property(parts, (p) => {
        const s = build(p);
        const x = tryOr(() => parseNormalizedNamed(s));
        fc.pre(x !== undefined);
        const d = parseDockerRef(s);
        assert.ok((d.tag === "") !== (d.digest === ""), referenceString(d));
        assert.equal(referenceName(d), referenceName(x));
        assert.equal(d.digest, x.digest);
        assert.equal(d.tag, x.digest !== "" ? "" : x.tag || "latest");
        assert.deepEqual(parse(referenceString(d)), d);
      }),
      RUNS,
    );
  });
  it("parseImageName and applyDefaultImageTag agree with parseNormalizedNamed", () => {
    fc.assert(
      fc.property(parts, (p) => {
        const s = build(p);
        const x = tryOr(() => parseNormalizedNamed(s));
        fc.pre(x !== undefined);
        const k = parseImageName(s);
        assert.equal(k.repoToPull, referenceName(x));
        assert.equal(k.digest, x.digest);
        assert.equal(k.tag, x.tag === "" && x.digest === "" ? "latest" : x.tag);
        const applied = applyDefaultImageTag(s);
        if (x.tag !== "" || x.digest !== "") assert.equal(applied, s);
        else assert.equal(applied, `${s}:latest`);
        const y = parseNormalizedNamed(applied);
        assert.ok(y.tag !== "" || y.digest !== "");
      }),
      RUNS,
    );
  });
  it("a reference matches its own familiar string and familiar name", () => {
    fc.assert(
      fc.property(parts, (p) => {
        const x = tryOr(() => parseNormalizedNamed(build(p)));
        // an IPv6 host's brackets are a character class in path.Match
        fc.pre(x !== undefined && !x.domain.startsWith("["));
        assert.ok(familiarMatch(familiarString(x), x));
        assert.ok(familiarMatch(familiarName(x), x));
      }),
      RUNS,
    );
  });
});

describe("arbitrary input", () => {
  const noisy = fc.oneof(
    fc.string({ maxLength: 40 }),
    fc.string({ unit: "grapheme", maxLength: 20 }),
    fc.string({ unit: fc.constantFrom(...`aA0:/@._-[]${"\u0130\u212a\u03a3"}`), maxLength: 30 }),
    parts
      .map(build)
      .chain((s) =>
        fc
          .tuple(fc.nat(s.length), fc.string({ maxLength: 3 }))
          .map(([i, ins]) => s.slice(0, i) + ins + s.slice(i)),
      ),
  );
  it("every parser returns a re-parseable reference or throws a KimgError", () => {
    fc.assert(
      fc.property(noisy, (s) => {
        const fns = [parse, parseNormalizedNamed, parseNamed, parseDockerRef, parseAnyReference];
        for (const fn of fns) {
          const r = tryOr(() => fn(s));
          if (r === undefined) continue;
          if (r.kind === "digest") assert.deepEqual(parseAnyReference(referenceString(r)), r);
          else assert.deepEqual(parse(referenceString(r)), r);
        }
        tryOr(() => parseImageName(s));
        tryOr(() => applyDefaultImageTag(s));
      }),
      { numRuns: 3_000 },
    );
  });
  it("whatever parse accepts it prints back unchanged", () => {
    fc.assert(
      fc.property(noisy, (s) => {
        const r = tryOr(() => parse(s));
        if (r !== undefined) assert.equal(referenceString(r), s);
      }),
      { numRuns: 3_000 },
    );
  });
});

// ParseNormalizedNamed transliterated line by line from upstream normalize.go, on top of
// kimg's parse and splitDockerDomain. kimg's parseNormalizedNamed has a fast path that skips
// steps; it must give the same result or the same error for every input.
function modelParseNormalizedNamed(s: string, opts?: ParseOptions): Reference {
  if (ANCHORED_IDENTIFIER_RE.test(s)) {
    throw new KimgError(
      "NAME_IS_IDENTIFIER",
      `invalid repository name (${s}), cannot specify 64-byte hexadecimal strings`,
    );
  }
  const { domain, remainder } = splitDockerDomain(s);
  const colon = remainder.indexOf(":");
  const remote = colon === -1 ? remainder : remainder.slice(0, colon);
  if (goToLower(remote) !== remote) {
    throw new KimgError(
      "REPOSITORY_NOT_LOWERCASE",
      `invalid reference format: repository name (${remote}) must be lowercase`,
    );
  }
  return parse(`${domain}/${remainder}`, opts);
}

function outcome(fn: () => Reference): unknown {
  try {
    return fn();
  } catch (e) {
    if (e instanceof KimgError) return { code: e.code, message: e.message };
    throw e;
  }
}

describe("parseNormalizedNamed equals a line-by-line model of upstream", () => {
  const mutate = (s: string) =>
    fc
      .tuple(
        fc.nat(s.length),
        fc.nat(s.length),
        fc.constantFrom(
          "",
          "A",
          "Z",
          "\u0130",
          "\u212a",
          ":",
          "@",
          "/",
          ".",
          "_",
          "-",
          "::1",
          "SHA256",
          "sha512",
        ),
      )
      .map(([i, j, ins]) => {
        const [a, b] = i <= j ? [i, j] : [j, i];
        // insert at a, replacing s[a..b) (nothing when a === b)
        return s.slice(0, a) + ins + s.slice(b);
      });
  const uppercaseSome = (s: string) =>
    fc
      .array(fc.boolean(), { minLength: s.length, maxLength: s.length })
      .map((flags) => [...s].map((c, i) => (flags[i] ? c.toUpperCase() : c)).join(""));
  const badDigest = fc.oneof(
    chars(HEX, 63, 65).map((h) => `sha256:${h}`),
    chars("0123456789ABCDEF", 64, 64).map((h) => `sha256:${h}`),
    chars(HEX, 64, 64).map((h) => `SHA256:${h}`),
    chars(HEX, 32, 40).map((h) => `foo+bar:${h}`),
    chars(HEX, 128, 128).map((h) => `sha512:${h}`),
    chars(HEX, 96, 96).map((h) => `sha384:${h}`),
  );
  const hubish = fc
    .tuple(
      fc.constantFrom(
        "",
        "docker.io/",
        "index.docker.io/",
        "localhost/",
        "library/",
        "Foo/",
        "a.b/",
        "x:1/",
        "a_b.c/",
        "[::1]:5/",
      ),
      path,
      fc.option(tag, { nil: undefined }),
      fc.option(fc.oneof(digest, badDigest), { nil: undefined }),
    )
    .map(
      ([d, p, t, g]) => d + p + (t === undefined ? "" : `:${t}`) + (g === undefined ? "" : `@${g}`),
    );
  const input = fc.oneof(
    parts.map(build),
    hubish,
    hubish.chain(mutate),
    hubish.chain(uppercaseSome),
    parts.map(build).chain(mutate),
    chars(HEX, 64, 64),
    fc.string({ maxLength: 30 }),
    fc.string({ unit: fc.constantFrom(..."aA0:/@._-[]"), maxLength: 30 }),
  );
  const options = fc.constantFrom<ParseOptions | undefined>(
    undefined,
    { digestAlgorithms: ["sha256"] },
    { digestAlgorithms: ["sha512", "sha384"] },
    { digestAlgorithms: [] },
  );
  it("same reference or same error", () => {
    fc.assert(
      fc.property(input, options, (s, opts) => {
        assert.deepEqual(
          outcome(() => parseNormalizedNamed(s, opts)),
          outcome(() => modelParseNormalizedNamed(s, opts)),
          s,
        );
      }),
      { numRuns: 20_000 },
    );
  });
  it("long prefixes of 255-char paths", () => {
    for (const n of [246, 247, 248, 254, 255, 256]) {
      for (const pre of ["", "docker.io/", "a/", "ex.com/"]) {
        const s = pre + "a".repeat(n);
        assert.deepEqual(
          outcome(() => parseNormalizedNamed(s)),
          outcome(() => modelParseNormalizedNamed(s)),
          s,
        );
      }
    }
  });
});
