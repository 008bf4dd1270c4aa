// Test vectors transcribed from the upstream test suites, as plain data. Each table names the
// upstream file and test function it comes from; the expected errors are given as kimg's
// { code, message } pairs. Upstream's messages are compared byte for byte.
//
// Sources:
// - distribution/reference @ 0965666a: reference_test.go, normalize_test.go, regexp_test.go
//   (these tests link only crypto/sha256, so they run with UPSTREAM_DISTRIBUTION_OPTS)
// - opencontainers/go-digest @ v1.0.0: digest_test.go (sha256, sha384, sha512 all available)
// - kubernetes/kubernetes: pkg/util/parsers/parsers_test.go,
//   pkg/kubelet/images/image_manager_test.go
//
// Where upstream only checks "some error", the exact error here was derived from upstream's
// code path and is marked "(exact error: ours)".

import type { ErrorCode } from "../../src/errors.ts";
import type { ParseOptions } from "../../src/ref/index.ts";

export interface ExpectedError {
  readonly code: ErrorCode;
  readonly message: string;
}

/** distribution/reference's test binary registers sha256 only. */
export const UPSTREAM_DISTRIBUTION_OPTS: ParseOptions = { digestAlgorithms: ["sha256"] };

export const E = {
  referenceInvalidFormat: { code: "REFERENCE_INVALID_FORMAT", message: "invalid reference format" },
  tagInvalidFormat: { code: "TAG_INVALID_FORMAT", message: "invalid tag format" },
  digestInvalidFormat: { code: "DIGEST_INVALID_FORMAT", message: "invalid digest format" },
  nameContainsUppercase: {
    code: "NAME_CONTAINS_UPPERCASE",
    message: "repository name must be lowercase",
  },
  nameEmpty: { code: "NAME_EMPTY", message: "repository name must have at least one component" },
  nameTooLong: {
    code: "NAME_TOO_LONG",
    message: "repository name must not be more than 255 characters",
  },
  nameNotCanonical: { code: "NAME_NOT_CANONICAL", message: "repository name must be canonical" },
  checksumFormat: { code: "DIGEST_CHECKSUM_FORMAT", message: "invalid checksum digest format" },
  checksumLength: { code: "DIGEST_CHECKSUM_LENGTH", message: "invalid checksum digest length" },
  digestUnsupported: { code: "DIGEST_UNSUPPORTED", message: "unsupported digest algorithm" },
  badPattern: { code: "BAD_PATTERN", message: "syntax error in pattern" },
} as const satisfies Record<string, ExpectedError>;

/** normalize.go ParseNormalizedNamed: the 64-hex identifier error. */
export function identifierError(s: string): ExpectedError {
  return {
    code: "NAME_IS_IDENTIFIER",
    message: `invalid repository name (${s}), cannot specify 64-byte hexadecimal strings`,
  };
}

/** normalize.go ParseNormalizedNamed: the remote-name lowercase error. */
export function notLowercaseError(remote: string): ExpectedError {
  return {
    code: "REPOSITORY_NOT_LOWERCASE",
    message: `invalid reference format: repository name (${remote}) must be lowercase`,
  };
}

const F64 = "f".repeat(64);
const SHA256_F = `sha256:${F64}`;

// ---------------------------------------------------------------------------------------------
// distribution/reference reference_test.go
// ---------------------------------------------------------------------------------------------

export interface ParseVector {
  readonly input: string;
  readonly err?: ExpectedError;
  /** Name() */
  readonly repository?: string;
  readonly domain?: string;
  readonly tag?: string;
  readonly digest?: string;
}

/** reference_test.go TestReferenceParse (Parse; String() must give the input back). */
export const REFERENCE_PARSE: readonly ParseVector[] = [
  { input: "test_com", repository: "test_com" },
  { input: "test.com:tag", repository: "test.com", tag: "tag" },
  { input: "test.com:5000", repository: "test.com", tag: "5000" },
  { input: "test.com/repo:tag", domain: "test.com", repository: "test.com/repo", tag: "tag" },
  { input: "test:5000/repo", domain: "test:5000", repository: "test:5000/repo" },
  { input: "test:5000/repo:tag", domain: "test:5000", repository: "test:5000/repo", tag: "tag" },
  {
    input: `test:5000/repo@${SHA256_F}`,
    domain: "test:5000",
    repository: "test:5000/repo",
    digest: SHA256_F,
  },
  {
    input: `test:5000/repo:tag@${SHA256_F}`,
    domain: "test:5000",
    repository: "test:5000/repo",
    tag: "tag",
    digest: SHA256_F,
  },
  { input: "test:5000/repo", domain: "test:5000", repository: "test:5000/repo" },
  { input: "", err: E.nameEmpty },
  { input: ":justtag", err: E.referenceInvalidFormat },
  { input: `@${SHA256_F}`, err: E.referenceInvalidFormat },
  { input: "repo@sha256:ffffffffffffffffffffffffffffffffff", err: E.checksumLength },
  { input: `validname@invaliddigest:${F64}`, err: E.digestUnsupported },
  // sha512 is a known algorithm, but the upstream test binary does not link crypto/sha512.
  { input: `validname@sha512:${"f".repeat(128)}`, err: E.digestUnsupported },
  { input: "Uppercase:tag", err: E.nameContainsUppercase },
  // (upstream keeps "Uppercase/lowercase:tag" commented out: "Uppercase" is a domain there)
  { input: "test:5000/Uppercase/lowercase:tag", err: E.nameContainsUppercase },
  { input: "lowercase:Uppercase", repository: "lowercase", tag: "Uppercase" },
  { input: `domain/${"a".repeat(256)}:tag`, err: E.nameTooLong },
  {
    input: `${"a/".repeat(127)}a:tag-puts-this-over-max`,
    domain: "a",
    repository: `${"a/".repeat(127)}a`,
    tag: "tag-puts-this-over-max",
  },
  { input: "aa/asdf$$^/aa", err: E.referenceInvalidFormat },
  {
    input: "sub-dom1.foo.com/bar/baz/quux",
    domain: "sub-dom1.foo.com",
    repository: "sub-dom1.foo.com/bar/baz/quux",
  },
  {
    input: "sub-dom1.foo.com/bar/baz/quux:some-long-tag",
    domain: "sub-dom1.foo.com",
    repository: "sub-dom1.foo.com/bar/baz/quux",
    tag: "some-long-tag",
  },
  {
    input: "b.gcr.io/test.example.com/my-app:test.example.com",
    domain: "b.gcr.io",
    repository: "b.gcr.io/test.example.com/my-app",
    tag: "test.example.com",
  },
  {
    input: "xn--n3h.com/myimage:xn--n3h.com",
    domain: "xn--n3h.com",
    repository: "xn--n3h.com/myimage",
    tag: "xn--n3h.com",
  },
  {
    input: `xn--7o8h.com/myimage:xn--7o8h.com@${SHA256_F}`,
    domain: "xn--7o8h.com",
    repository: "xn--7o8h.com/myimage",
    tag: "xn--7o8h.com",
    digest: SHA256_F,
  },
  { input: "foo_bar.com:8080", repository: "foo_bar.com", tag: "8080" },
  { input: "foo/foo_bar.com:8080", domain: "foo", repository: "foo/foo_bar.com", tag: "8080" },
  { input: "192.168.1.1", repository: "192.168.1.1" },
  { input: "192.168.1.1:tag", repository: "192.168.1.1", tag: "tag" },
  { input: "192.168.1.1:5000", repository: "192.168.1.1", tag: "5000" },
  { input: "192.168.1.1/repo", domain: "192.168.1.1", repository: "192.168.1.1/repo" },
  {
    input: "192.168.1.1:5000/repo",
    domain: "192.168.1.1:5000",
    repository: "192.168.1.1:5000/repo",
  },
  {
    input: "192.168.1.1:5000/repo:5050",
    domain: "192.168.1.1:5000",
    repository: "192.168.1.1:5000/repo",
    tag: "5050",
  },
  { input: "[2001:db8::1]", err: E.referenceInvalidFormat },
  { input: "[2001:db8::1]:5000", err: E.referenceInvalidFormat },
  { input: "[2001:db8::1]:tag", err: E.referenceInvalidFormat },
  { input: "[2001:db8::1]/repo", domain: "[2001:db8::1]", repository: "[2001:db8::1]/repo" },
  {
    input: "[2001:db8:1:2:3:4:5:6]/repo:tag",
    domain: "[2001:db8:1:2:3:4:5:6]",
    repository: "[2001:db8:1:2:3:4:5:6]/repo",
    tag: "tag",
  },
  {
    input: "[2001:db8::1]:5000/repo",
    domain: "[2001:db8::1]:5000",
    repository: "[2001:db8::1]:5000/repo",
  },
  {
    input: "[2001:db8::1]:5000/repo:tag",
    domain: "[2001:db8::1]:5000",
    repository: "[2001:db8::1]:5000/repo",
    tag: "tag",
  },
  {
    input: `[2001:db8::1]:5000/repo@${SHA256_F}`,
    domain: "[2001:db8::1]:5000",
    repository: "[2001:db8::1]:5000/repo",
    digest: SHA256_F,
  },
  {
    input: `[2001:db8::1]:5000/repo:tag@${SHA256_F}`,
    domain: "[2001:db8::1]:5000",
    repository: "[2001:db8::1]:5000/repo",
    tag: "tag",
    digest: SHA256_F,
  },
  {
    input: "[2001:db8::]:5000/repo",
    domain: "[2001:db8::]:5000",
    repository: "[2001:db8::]:5000/repo",
  },
  { input: "[::1]:5000/repo", domain: "[::1]:5000", repository: "[::1]:5000/repo" },
  { input: "[fe80::1%eth0]:5000/repo", err: E.referenceInvalidFormat },
  { input: "[fe80::1%@invalidzone]:5000/repo", err: E.referenceInvalidFormat },
  {
    input: `example.com/${"a".repeat(255)}:tag`,
    domain: "example.com",
    repository: `example.com/${"a".repeat(255)}`,
    tag: "tag",
  },
];

export interface ErrorVector {
  readonly input: string;
  readonly err: ExpectedError;
}

/** reference_test.go TestWithNameFailure (WithName). */
export const WITH_NAME_FAILURE: readonly ErrorVector[] = [
  { input: "", err: E.referenceInvalidFormat },
  { input: ":justtag", err: E.referenceInvalidFormat },
  { input: `@${SHA256_F}`, err: E.referenceInvalidFormat },
  { input: `validname@invaliddigest:${F64}`, err: E.referenceInvalidFormat },
  { input: "example.com/repo:tag", err: E.referenceInvalidFormat },
  { input: `example.com/${"a".repeat(256)}`, err: E.nameTooLong },
  { input: "aa/asdf$$^/aa", err: E.referenceInvalidFormat },
];

export interface DomainPathVector {
  readonly input: string;
  readonly domain: string;
  readonly path: string;
}

/** reference_test.go TestDomainAndPath (WithName, then Domain / Path). */
export const DOMAIN_AND_PATH: readonly DomainPathVector[] = [
  { input: "test.com/foo", domain: "test.com", path: "foo" },
  { input: "test_com/foo", domain: "", path: "test_com/foo" },
  { input: "test:8080/foo", domain: "test:8080", path: "foo" },
  { input: "test.com:8080/foo", domain: "test.com:8080", path: "foo" },
  { input: "test-com:8080/foo", domain: "test-com:8080", path: "foo" },
  { input: "xn--n3h.com:18080/foo", domain: "xn--n3h.com:18080", path: "foo" },
];

export interface SerializationVector {
  readonly description: string;
  readonly input: string;
  readonly err?: ExpectedError;
  readonly name?: string;
  readonly tag?: string;
  readonly digest?: string;
}

/** reference_test.go TestSerialization (Field.UnmarshalText = Parse; MarshalText = String). */
export const SERIALIZATION: readonly SerializationVector[] = [
  { description: "empty value", input: "", err: E.nameEmpty },
  { description: "just a name", input: "example.com:8000/named", name: "example.com:8000/named" },
  {
    description: "name with a tag",
    input: "example.com:8000/named:tagged",
    name: "example.com:8000/named",
    tag: "tagged",
  },
  {
    description: "name with digest",
    input:
      "other.com/named@sha256:1234567890098765432112345667890098765432112345667890098765432112",
    name: "other.com/named",
    digest: "sha256:1234567890098765432112345667890098765432112345667890098765432112",
  },
];

export interface CombineVector {
  readonly name: string;
  readonly digest?: string;
  readonly tag?: string;
  readonly combined: string;
}

/** reference_test.go TestWithTag (WithName, optional WithDigest, then WithTag). */
export const WITH_TAG: readonly CombineVector[] = [
  { name: "test.com/foo", tag: "tag", combined: "test.com/foo:tag" },
  { name: "foo", tag: "tag2", combined: "foo:tag2" },
  { name: "test.com:8000/foo", tag: "tag4", combined: "test.com:8000/foo:tag4" },
  { name: "test.com:8000/foo", tag: "TAG5", combined: "test.com:8000/foo:TAG5" },
  {
    name: "test.com:8000/foo",
    digest: "sha256:1234567890098765432112345667890098765",
    tag: "TAG5",
    combined: "test.com:8000/foo:TAG5@sha256:1234567890098765432112345667890098765",
  },
];

/** reference_test.go TestWithDigest (WithName, optional WithTag, then WithDigest). */
export const WITH_DIGEST: readonly CombineVector[] = [
  {
    name: "test.com/foo",
    digest: "sha256:1234567890098765432112345667890098765",
    combined: "test.com/foo@sha256:1234567890098765432112345667890098765",
  },
  {
    name: "foo",
    digest: "sha256:1234567890098765432112345667890098765",
    combined: "foo@sha256:1234567890098765432112345667890098765",
  },
  {
    name: "test.com:8000/foo",
    digest: "sha256:1234567890098765432112345667890098765",
    combined: "test.com:8000/foo@sha256:1234567890098765432112345667890098765",
  },
  {
    name: "test.com:8000/foo",
    digest: "sha256:1234567890098765432112345667890098765",
    tag: "latest",
    combined: "test.com:8000/foo:latest@sha256:1234567890098765432112345667890098765",
  },
];

export interface ParseNamedVector {
  readonly input: string;
  readonly domain?: string;
  readonly path?: string;
  readonly err?: ExpectedError;
}

/** reference_test.go TestParseNamed (ParseNamed). */
export const PARSE_NAMED: readonly ParseNamedVector[] = [
  { input: "test.com/foo", domain: "test.com", path: "foo" },
  { input: "test:8080/foo", domain: "test:8080", path: "foo" },
  { input: "test_com/foo", err: E.nameNotCanonical },
  { input: "test.com", err: E.nameNotCanonical },
  { input: "foo", err: E.nameNotCanonical },
  { input: "library/foo", err: E.nameNotCanonical },
  { input: "docker.io/library/foo", domain: "docker.io", path: "library/foo" },
  // Ambiguous: the parser adds "library/" to foo.
  { input: "docker.io/foo", err: E.nameNotCanonical },
];

// ---------------------------------------------------------------------------------------------
// distribution/reference normalize_test.go
// ---------------------------------------------------------------------------------------------

const HEX64_A = "1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a";

/** normalize_test.go TestValidateReferenceName, valid names (ParseNormalizedNamed). */
export const VALID_REFERENCE_NAMES: readonly string[] = [
  "docker/docker",
  "library/debian",
  "debian",
  "localhost/library/debian",
  "localhost/debian",
  "LOCALDOMAIN/library/debian",
  "LOCALDOMAIN/debian",
  "docker.io/docker/docker",
  "docker.io/library/debian",
  "docker.io/debian",
  "index.docker.io/docker/docker",
  "index.docker.io/library/debian",
  "index.docker.io/debian",
  "127.0.0.1:5000/docker/docker",
  "127.0.0.1:5000/library/debian",
  "127.0.0.1:5000/debian",
  "192.168.0.1",
  "192.168.0.1:80",
  "192.168.0.1:8/debian",
  "192.168.0.2:25000/debian",
  "thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev",
  "[fc00::1]:5000/docker",
  "[fc00::1]:5000/docker/docker",
  "[fc00:1:2:3:4:5:6:7]:5000/library/debian",
  // valid with a host: no longer ambiguous with an identifier
  `docker.io/${HEX64_A}`,
  "Docker/docker",
  "DOCKER/docker",
];

/**
 * normalize_test.go TestValidateReferenceName, invalid names (ParseNormalizedNamed).
 * Upstream asserts only that parsing fails (exact error: ours).
 */
export const INVALID_REFERENCE_NAMES: readonly ErrorVector[] = [
  { input: "https://github.com/docker/docker", err: E.referenceInvalidFormat },
  { input: "docker/Docker", err: notLowercaseError("docker/Docker") },
  { input: "-docker", err: E.referenceInvalidFormat },
  { input: "-docker/docker", err: E.referenceInvalidFormat },
  { input: "-docker.io/docker/docker", err: E.referenceInvalidFormat },
  { input: "docker///docker", err: E.referenceInvalidFormat },
  { input: "docker.io/docker/Docker", err: notLowercaseError("docker/Docker") },
  { input: "docker.io/docker///docker", err: E.referenceInvalidFormat },
  { input: "[fc00::1]", err: E.referenceInvalidFormat },
  { input: "[fc00::1]:5000", err: E.referenceInvalidFormat },
  { input: "fc00::1:5000/debian", err: E.referenceInvalidFormat },
  { input: "[fe80::1%eth0]:5000/debian", err: E.referenceInvalidFormat },
  { input: "[2001:db8:3:4::192.0.2.33]:5000/debian", err: E.referenceInvalidFormat },
  { input: HEX64_A, err: identifierError(HEX64_A) },
];

/** normalize_test.go TestValidateRemoteName, valid names (ParseNormalizedNamed). */
export const VALID_REMOTE_NAMES: readonly string[] = [
  "docker/docker",
  "thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev",
  "docker-rules/docker",
  "docker---rules/docker",
  "doc/docker",
  "d/docker",
  "jess/t",
  "dock__er/docker",
];

const LONG_NAMESPACE =
  "this_is_not_a_valid_namespace_because_its_lenth_is_greater_than_255_this_is_not_a_valid_namespace_because_its_lenth_is_greater_than_255_this_is_not_a_valid_namespace_because_its_lenth_is_greater_than_255_this_is_not_a_valid_namespace_because_its_lenth_is_greater_than_255";

/**
 * normalize_test.go TestValidateRemoteName, invalid names (ParseNormalizedNamed).
 * Upstream asserts only that parsing fails (exact error: ours).
 */
export const INVALID_REMOTE_NAMES: readonly ErrorVector[] = [
  { input: "docker/Docker", err: notLowercaseError("docker/Docker") },
  { input: "docker///docker", err: E.referenceInvalidFormat },
  { input: HEX64_A, err: identifierError(HEX64_A) },
  { input: "-docker/docker", err: E.referenceInvalidFormat },
  { input: "docker-/docker", err: E.referenceInvalidFormat },
  { input: "-docker-/docker", err: E.referenceInvalidFormat },
  { input: "____/____", err: E.referenceInvalidFormat },
  { input: "_docker/_docker", err: E.referenceInvalidFormat },
  { input: "dock..er/docker", err: E.referenceInvalidFormat },
  { input: "dock_.er/docker", err: E.referenceInvalidFormat },
  { input: "dock-.er/docker", err: E.referenceInvalidFormat },
  { input: "docker/", err: E.referenceInvalidFormat },
  // namespace too long
  { input: `${LONG_NAMESPACE}/docker`, err: E.nameTooLong },
];

export interface RepositoryInfoVector {
  readonly remoteName: string;
  readonly familiarName: string;
  readonly fullName: string;
  /** "" when upstream has none */
  readonly ambiguousName: string;
  readonly domain: string;
}

/**
 * normalize_test.go TestParseRepositoryInfo: each of familiarName, fullName and (when set)
 * ambiguousName parses (ParseNormalizedNamed) to FamiliarName = familiarName,
 * String() = fullName, Domain = domain, Path = remoteName.
 */
export const REPOSITORY_INFO: readonly RepositoryInfoVector[] = [
  {
    remoteName: "fooo",
    familiarName: "localhost/fooo",
    fullName: "localhost/fooo",
    ambiguousName: "localhost/fooo",
    domain: "localhost",
  },
  {
    remoteName: "fooo/bar",
    familiarName: "localhost/fooo/bar",
    fullName: "localhost/fooo/bar",
    ambiguousName: "localhost/fooo/bar",
    domain: "localhost",
  },
  {
    remoteName: "fooo",
    familiarName: "LOCALDOMAIN/fooo",
    fullName: "LOCALDOMAIN/fooo",
    ambiguousName: "LOCALDOMAIN/fooo",
    domain: "LOCALDOMAIN",
  },
  {
    remoteName: "fooo/bar",
    familiarName: "LOCALDOMAIN/fooo/bar",
    fullName: "LOCALDOMAIN/fooo/bar",
    ambiguousName: "LOCALDOMAIN/fooo/bar",
    domain: "LOCALDOMAIN",
  },
  {
    remoteName: "fooo/bar",
    familiarName: "fooo/bar",
    fullName: "docker.io/fooo/bar",
    ambiguousName: "index.docker.io/fooo/bar",
    domain: "docker.io",
  },
  {
    remoteName: "library/ubuntu",
    familiarName: "ubuntu",
    fullName: "docker.io/library/ubuntu",
    ambiguousName: "library/ubuntu",
    domain: "docker.io",
  },
  {
    remoteName: "nonlibrary/ubuntu",
    familiarName: "nonlibrary/ubuntu",
    fullName: "docker.io/nonlibrary/ubuntu",
    ambiguousName: "",
    domain: "docker.io",
  },
  {
    remoteName: "other/library",
    familiarName: "other/library",
    fullName: "docker.io/other/library",
    ambiguousName: "",
    domain: "docker.io",
  },
  {
    remoteName: "private/moonbase",
    familiarName: "127.0.0.1:8000/private/moonbase",
    fullName: "127.0.0.1:8000/private/moonbase",
    ambiguousName: "",
    domain: "127.0.0.1:8000",
  },
  {
    remoteName: "privatebase",
    familiarName: "127.0.0.1:8000/privatebase",
    fullName: "127.0.0.1:8000/privatebase",
    ambiguousName: "",
    domain: "127.0.0.1:8000",
  },
  {
    remoteName: "private/moonbase",
    familiarName: "example.com/private/moonbase",
    fullName: "example.com/private/moonbase",
    ambiguousName: "",
    domain: "example.com",
  },
  {
    remoteName: "privatebase",
    familiarName: "example.com/privatebase",
    fullName: "example.com/privatebase",
    ambiguousName: "",
    domain: "example.com",
  },
  {
    remoteName: "private/moonbase",
    familiarName: "example.com:8000/private/moonbase",
    fullName: "example.com:8000/private/moonbase",
    ambiguousName: "",
    domain: "example.com:8000",
  },
  {
    remoteName: "privatebasee",
    familiarName: "example.com:8000/privatebasee",
    fullName: "example.com:8000/privatebasee",
    ambiguousName: "",
    domain: "example.com:8000",
  },
  {
    remoteName: "library/ubuntu-12.04-base",
    familiarName: "ubuntu-12.04-base",
    fullName: "docker.io/library/ubuntu-12.04-base",
    ambiguousName: "index.docker.io/library/ubuntu-12.04-base",
    domain: "docker.io",
  },
  {
    remoteName: "library/foo",
    familiarName: "foo",
    fullName: "docker.io/library/foo",
    ambiguousName: "docker.io/foo",
    domain: "docker.io",
  },
  {
    remoteName: "library/foo/bar",
    familiarName: "library/foo/bar",
    fullName: "docker.io/library/foo/bar",
    ambiguousName: "",
    domain: "docker.io",
  },
  {
    remoteName: "store/foo/bar",
    familiarName: "store/foo/bar",
    fullName: "docker.io/store/foo/bar",
    ambiguousName: "",
    domain: "docker.io",
  },
  {
    remoteName: "bar",
    familiarName: "Foo/bar",
    fullName: "Foo/bar",
    ambiguousName: "",
    domain: "Foo",
  },
  {
    remoteName: "bar",
    familiarName: "FOO/bar",
    fullName: "FOO/bar",
    ambiguousName: "",
    domain: "FOO",
  },
];

/** normalize_test.go TestParseReferenceWithTagAndDigest (ParseNormalizedNamed). */
export const TAG_AND_DIGEST_SHORT_REF =
  "busybox:latest@sha256:86e0e091d0da6bde2456dbb48306f3956bbeb2eae1b5b9a43045843f69fe4aaa";

/**
 * normalize_test.go TestInvalidReferenceComponents: ParseNormalizedNamed("-foo") fails;
 * WithTag(busybox, "-foo") and WithDigest(busybox, "foo") fail (exact errors: ours).
 */
export const INVALID_REFERENCE_COMPONENTS = {
  name: { input: "-foo", err: E.referenceInvalidFormat },
  base: "busybox",
  tag: { input: "-foo", err: E.tagInvalidFormat },
  digest: { input: "foo", err: E.digestInvalidFormat },
} as const;

export interface AnyReferenceVector {
  readonly reference: string;
  /** String() of the result */
  readonly equivalent: string;
  /** true: the result is a digest-only reference; otherwise it equals Parse(equivalent) */
  readonly digestOnly?: boolean;
}

const DBCC = "dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9c";

/** normalize_test.go TestParseAnyReference (ParseAnyReference). */
export const PARSE_ANY_REFERENCE: readonly AnyReferenceVector[] = [
  { reference: "redis", equivalent: "docker.io/library/redis" },
  { reference: "redis:latest", equivalent: "docker.io/library/redis:latest" },
  {
    reference: "docker.io/library/redis:latest",
    equivalent: "docker.io/library/redis:latest",
  },
  {
    reference: `redis@sha256:${DBCC}`,
    equivalent: `docker.io/library/redis@sha256:${DBCC}`,
  },
  {
    reference: `docker.io/library/redis@sha256:${DBCC}`,
    equivalent: `docker.io/library/redis@sha256:${DBCC}`,
  },
  { reference: "dmcgowan/myapp", equivalent: "docker.io/dmcgowan/myapp" },
  { reference: "dmcgowan/myapp:latest", equivalent: "docker.io/dmcgowan/myapp:latest" },
  {
    reference: "docker.io/mcgowan/myapp:latest",
    equivalent: "docker.io/mcgowan/myapp:latest",
  },
  {
    reference: `dmcgowan/myapp@sha256:${DBCC}`,
    equivalent: `docker.io/dmcgowan/myapp@sha256:${DBCC}`,
  },
  {
    reference: `docker.io/dmcgowan/myapp@sha256:${DBCC}`,
    equivalent: `docker.io/dmcgowan/myapp@sha256:${DBCC}`,
  },
  { reference: DBCC, equivalent: `sha256:${DBCC}`, digestOnly: true },
  { reference: `sha256:${DBCC}`, equivalent: `sha256:${DBCC}`, digestOnly: true },
  {
    reference: DBCC.slice(0, 63),
    equivalent: `docker.io/library/${DBCC.slice(0, 63)}`,
  },
  { reference: "dbcc1", equivalent: "docker.io/library/dbcc1" },
];

/** normalize_test.go TestNormalizedSplitHostname (ParseNormalizedNamed, Domain / Path). */
export const NORMALIZED_SPLIT_HOSTNAME: readonly DomainPathVector[] = [
  { input: "test.com/foo", domain: "test.com", path: "foo" },
  { input: "test_com/foo", domain: "docker.io", path: "test_com/foo" },
  { input: "docker/migrator", domain: "docker.io", path: "docker/migrator" },
  { input: "test.com:8080/foo", domain: "test.com:8080", path: "foo" },
  { input: "test-com:8080/foo", domain: "test-com:8080", path: "foo" },
  { input: "foo", domain: "docker.io", path: "library/foo" },
  { input: "xn--n3h.com/foo", domain: "xn--n3h.com", path: "foo" },
  { input: "xn--n3h.com:18080/foo", domain: "xn--n3h.com:18080", path: "foo" },
  { input: "docker.io/foo", domain: "docker.io", path: "library/foo" },
  { input: "docker.io/library/foo", domain: "docker.io", path: "library/foo" },
  { input: "docker.io/library/foo/bar", domain: "docker.io", path: "library/foo/bar" },
];

/** normalize_test.go TestMatchError: FamiliarMatch with a bad pattern on ParseAnyReference. */
export const MATCH_ERROR = { reference: "foo", pattern: "[-x]", err: E.badPattern } as const;

export interface MatchVector {
  readonly reference: string;
  readonly pattern: string;
  readonly expected: boolean;
}

/** normalize_test.go TestMatch (ParseAnyReference, then FamiliarMatch). */
export const MATCH: readonly MatchVector[] = [
  { reference: "foo", pattern: "foo/**/ba[rz]", expected: false },
  { reference: "foo/any/bat", pattern: "foo/**/ba[rz]", expected: false },
  { reference: "foo/a/bar", pattern: "foo/**/ba[rz]", expected: true },
  { reference: "foo/b/baz", pattern: "foo/**/ba[rz]", expected: true },
  { reference: "foo/c/baz:tag", pattern: "foo/**/ba[rz]", expected: true },
  { reference: "foo/c/baz:tag", pattern: "foo/*/baz:tag", expected: true },
  { reference: "foo/c/baz:tag", pattern: "foo/c/baz:tag", expected: true },
  { reference: "example.com/foo/c/baz:tag", pattern: "*/foo/c/baz", expected: true },
  { reference: "example.com/foo/c/baz:tag", pattern: "example.com/foo/c/baz", expected: true },
];

export interface DockerRefVector {
  readonly name: string;
  readonly input: string;
  readonly expected: string;
}

const E669 = "sha256:e6693c20186f837fc393390135d8a598a96a833917917789d63766cab6c59582";

/** normalize_test.go TestParseDockerRef (ParseDockerRef; the result re-parses with Parse). */
export const PARSE_DOCKER_REF: readonly DockerRefVector[] = [
  { name: "nothing", input: "busybox", expected: "docker.io/library/busybox:latest" },
  { name: "tag only", input: "busybox:latest", expected: "docker.io/library/busybox:latest" },
  {
    name: "digest only",
    input: `busybox@${E669}`,
    expected: `docker.io/library/busybox@${E669}`,
  },
  { name: "path only", input: "library/busybox", expected: "docker.io/library/busybox:latest" },
  {
    name: "hostname only",
    input: "docker.io/busybox",
    expected: "docker.io/library/busybox:latest",
  },
  {
    name: "no tag",
    input: "docker.io/library/busybox",
    expected: "docker.io/library/busybox:latest",
  },
  {
    name: "no path",
    input: "docker.io/busybox:latest",
    expected: "docker.io/library/busybox:latest",
  },
  {
    name: "no hostname",
    input: "library/busybox:latest",
    expected: "docker.io/library/busybox:latest",
  },
  {
    name: "full reference with tag",
    input: "docker.io/library/busybox:latest",
    expected: "docker.io/library/busybox:latest",
  },
  {
    name: "gcr reference without tag",
    input: "gcr.io/library/busybox",
    expected: "gcr.io/library/busybox:latest",
  },
  {
    name: "both tag and digest",
    input: `gcr.io/library/busybox:latest@${E669}`,
    expected: `gcr.io/library/busybox@${E669}`,
  },
];

// ---------------------------------------------------------------------------------------------
// distribution/reference regexp_test.go
// ---------------------------------------------------------------------------------------------

export interface MatchOnlyVector {
  readonly input: string;
  readonly match: boolean;
}

/** regexp_test.go TestDomainRegexp (`^` + domainAndPort + `$`). */
export const DOMAIN_REGEXP: readonly MatchOnlyVector[] = [
  { input: "test.com", match: true },
  { input: "test.com:10304", match: true },
  { input: "test.com:http", match: false },
  { input: "localhost", match: true },
  { input: "localhost:8080", match: true },
  { input: "a", match: true },
  { input: "a.b", match: true },
  { input: "ab.cd.com", match: true },
  { input: "a-b.com", match: true },
  { input: "-ab.com", match: false },
  { input: "ab-.com", match: false },
  { input: "ab.c-om", match: true },
  { input: "ab.-com", match: false },
  { input: "ab.com-", match: false },
  { input: "0101.com", match: true },
  { input: "001a.com", match: true },
  { input: "b.gbc.io:443", match: true },
  { input: "b.gbc.io", match: true },
  { input: "xn--n3h.com", match: true },
  { input: "Asdf.com", match: true },
  { input: "192.168.1.1:75050", match: true },
  { input: "192.168.1.1:750050", match: true },
  { input: "[fd00:1:2::3]:75050", match: true },
  { input: "[fd00:1:2::3]75050", match: false },
  { input: "[fd00:1:2::3]::75050", match: false },
  { input: "[fd00:1:2::3%eth0]:75050", match: false },
  { input: "[fd00123123123]:75050", match: true },
  { input: "[2001:0db8:85a3:0000:0000:8a2e:0370:7334]:75050", match: true },
  { input: "[2001:0db8:85a3:0000:0000:8a2e:0370:7334]:750505", match: true },
  { input: "fd00:1:2::3:75050", match: false },
];

export interface SubmatchVector {
  readonly input: string;
  readonly match: boolean;
  /** expected submatches, "" for a group that did not take part; absent: not checked */
  readonly subs?: readonly string[];
}

/** regexp_test.go TestFullNameRegexp (anchoredNameRegexp: subs = [domain, path]). */
export const FULL_NAME_REGEXP: readonly SubmatchVector[] = [
  { input: "", match: false },
  { input: "short", match: true, subs: ["", "short"] },
  { input: "simple/name", match: true, subs: ["simple", "name"] },
  { input: "library/ubuntu", match: true, subs: ["library", "ubuntu"] },
  { input: "docker/stevvooe/app", match: true, subs: ["docker", "stevvooe/app"] },
  {
    input: "aa/aa/aa/aa/aa/aa/aa/aa/aa/bb/bb/bb/bb/bb/bb",
    match: true,
    subs: ["aa", "aa/aa/aa/aa/aa/aa/aa/aa/bb/bb/bb/bb/bb/bb"],
  },
  { input: "aa/aa/bb/bb/bb", match: true, subs: ["aa", "aa/bb/bb/bb"] },
  { input: "a/a/a/a", match: true, subs: ["a", "a/a/a"] },
  { input: "a/a/a/a/", match: false },
  { input: "a//a/a", match: false },
  { input: "a", match: true, subs: ["", "a"] },
  { input: "a/aa", match: true, subs: ["a", "aa"] },
  { input: "a/aa/a", match: true, subs: ["a", "aa/a"] },
  { input: "foo.com", match: true, subs: ["", "foo.com"] },
  { input: "foo.com/", match: false },
  { input: "foo.com:8080/bar", match: true, subs: ["foo.com:8080", "bar"] },
  { input: "foo.com:http/bar", match: false },
  { input: "foo.com/bar", match: true, subs: ["foo.com", "bar"] },
  { input: "foo.com/bar/baz", match: true, subs: ["foo.com", "bar/baz"] },
  { input: "localhost:8080/bar", match: true, subs: ["localhost:8080", "bar"] },
  {
    input: "sub-dom1.foo.com/bar/baz/quux",
    match: true,
    subs: ["sub-dom1.foo.com", "bar/baz/quux"],
  },
  { input: "blog.foo.com/bar/baz", match: true, subs: ["blog.foo.com", "bar/baz"] },
  { input: "a^a", match: false },
  { input: "aa/asdf$$^/aa", match: false },
  { input: "asdf$$^/aa", match: false },
  { input: "aa-a/a", match: true, subs: ["aa-a", "a"] },
  { input: `${"a/".repeat(128)}a`, match: true, subs: ["a", `${"a/".repeat(127)}a`] },
  { input: "a-/a/a/a", match: false },
  { input: "foo.com/a-/a/a", match: false },
  { input: "-foo/bar", match: false },
  { input: "foo/bar-", match: false },
  { input: "foo-/bar", match: false },
  { input: "foo/-bar", match: false },
  { input: "_foo/bar", match: false },
  { input: "foo_bar", match: true, subs: ["", "foo_bar"] },
  { input: "foo_bar.com", match: true, subs: ["", "foo_bar.com"] },
  { input: "foo_bar.com:8080", match: false },
  { input: "foo_bar.com:8080/app", match: false },
  { input: "foo.com/foo_bar", match: true, subs: ["foo.com", "foo_bar"] },
  { input: "____/____", match: false },
  { input: "_docker/_docker", match: false },
  { input: "docker_/docker_", match: false },
  {
    input: "b.gcr.io/test.example.com/my-app",
    match: true,
    subs: ["b.gcr.io", "test.example.com/my-app"],
  },
  { input: "xn--n3h.com/myimage", match: true, subs: ["xn--n3h.com", "myimage"] },
  { input: "xn--7o8h.com/myimage", match: true, subs: ["xn--7o8h.com", "myimage"] },
  {
    input: "example.com/xn--7o8h.com/myimage",
    match: true,
    subs: ["example.com", "xn--7o8h.com/myimage"],
  },
  {
    input: "example.com/some_separator__underscore/myimage",
    match: true,
    subs: ["example.com", "some_separator__underscore/myimage"],
  },
  { input: "example.com/__underscore/myimage", match: false },
  { input: "example.com/..dots/myimage", match: false },
  { input: "example.com/.dots/myimage", match: false },
  { input: "example.com/nodouble..dots/myimage", match: false },
  { input: "example.com/nodouble..dots/myimage", match: false },
  { input: "docker./docker", match: false },
  { input: ".docker/docker", match: false },
  { input: "docker-/docker", match: false },
  { input: "-docker/docker", match: false },
  { input: "do..cker/docker", match: false },
  { input: "do__cker:8080/docker", match: false },
  { input: "do__cker/docker", match: true, subs: ["", "do__cker/docker"] },
  {
    input: "b.gcr.io/test.example.com/my-app",
    match: true,
    subs: ["b.gcr.io", "test.example.com/my-app"],
  },
  {
    input: "registry.io/foo/project--id.module--name.ver---sion--name",
    match: true,
    subs: ["registry.io", "foo/project--id.module--name.ver---sion--name"],
  },
  { input: "Asdf.com/foo/bar", match: true },
  { input: "Foo/FarB", match: false },
];

const BE17 = "sha256:be178c0543eb17f5f3043021c9e5fcf30285e557a4fc309cce97ff9ca6182912";

/** regexp_test.go TestReferenceRegexp (referenceRegexp: subs = [name, tag, digest]). */
export const REFERENCE_REGEXP: readonly SubmatchVector[] = [
  {
    input: "registry.com:8080/myapp:tag",
    match: true,
    subs: ["registry.com:8080/myapp", "tag", ""],
  },
  {
    input: `registry.com:8080/myapp@${BE17}`,
    match: true,
    subs: ["registry.com:8080/myapp", "", BE17],
  },
  {
    input: `registry.com:8080/myapp:tag2@${BE17}`,
    match: true,
    subs: ["registry.com:8080/myapp", "tag2", BE17],
  },
  { input: "registry.com:8080/myapp@sha256:badbadbadbad", match: false },
  { input: "registry.com:8080/myapp:invalid~tag", match: false },
  { input: "bad_hostname.com:8080/myapp:tag", match: false },
  // localhost is the name here and 8080 the tag
  { input: `localhost:8080@${BE17}`, match: true, subs: ["localhost", "8080", BE17] },
  { input: `localhost:8080/name@${BE17}`, match: true, subs: ["localhost:8080/name", "", BE17] },
  { input: `localhost:http/name@${BE17}`, match: false },
  // localhost is an image name without a host
  { input: `localhost@${BE17}`, match: true, subs: ["localhost", "", BE17] },
  { input: "registry.com:8080/myapp@bad", match: false },
  { input: "registry.com:8080/myapp@2bad", match: false },
];

/** regexp_test.go TestIdentifierRegexp (anchoredIdentifierRegexp). */
export const IDENTIFIER_REGEXP: readonly MatchOnlyVector[] = [
  { input: "da304e823d8ca2b9d863a3c897baeb852ba21ea9a9f1414736394ae7fcaf9821", match: true },
  { input: "7EC43B381E5AEFE6E04EFB0B3F0693FF2A4A50652D64AEC573905F2DB5889A1C", match: false },
  { input: "da304e823d8ca2b9d863a3c897baeb852ba21ea9a9f1414736394ae7fcaf", match: false },
  {
    input: "sha256:da304e823d8ca2b9d863a3c897baeb852ba21ea9a9f1414736394ae7fcaf9821",
    match: false,
  },
  {
    input: "da304e823d8ca2b9d863a3c897baeb852ba21ea9a9f1414736394ae7fcaf98218482",
    match: false,
  },
];

// ---------------------------------------------------------------------------------------------
// opencontainers/go-digest v1.0.0 digest_test.go
// ---------------------------------------------------------------------------------------------

export interface DigestVector {
  readonly input: string;
  readonly err?: ExpectedError;
  readonly algorithm?: string;
  readonly encoded?: string;
}

const D3FC =
  "d3fc7881460b7e22e3d172954463dddd7866d17597e7248453c48b3e9d26d9596bf9c4a9cf8072c9d5bad76e19af801d";

/**
 * digest_test.go TestParseDigest (digest.Parse; default algorithms). Rows with both an error
 * and an algorithm are upstream's "parses, but the algorithm is unsupported".
 */
export const PARSE_DIGEST: readonly DigestVector[] = [
  {
    input: "sha256:e58fcf7418d4390dec8e8fb69d88c06ec07039d651fedd3aa72af9972e7d046b",
    algorithm: "sha256",
    encoded: "e58fcf7418d4390dec8e8fb69d88c06ec07039d651fedd3aa72af9972e7d046b",
  },
  { input: `sha384:${D3FC}`, algorithm: "sha384", encoded: D3FC },
  { input: "sha256:", err: E.checksumFormat },
  { input: ":", err: E.checksumFormat },
  { input: "d41d8cd98f00b204e9800998ecf8427e", err: E.checksumFormat },
  { input: "sha256:d41d8cd98f00b204e9800m98ecf8427e", err: E.checksumLength },
  { input: "sha256:abcdef0123456789", err: E.checksumLength },
  {
    input: "sha512:abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789",
    err: E.checksumLength,
  },
  { input: "foo:d41d8cd98f00b204e9800998ecf8427e", err: E.digestUnsupported },
  { input: `sha384__foo+bar:${D3FC}`, err: E.checksumFormat },
  {
    input: `sha384.foo+bar:${D3FC}`,
    algorithm: "sha384.foo+bar",
    encoded: D3FC,
    err: E.digestUnsupported,
  },
  {
    input: `sha384_foo+bar:${D3FC}`,
    algorithm: "sha384_foo+bar",
    encoded: D3FC,
    err: E.digestUnsupported,
  },
  {
    input: "sha256+b64:LCa0a2j_xo_5m0U8HTBBNBNCLXBkg7-g-YpeiGJm564",
    algorithm: "sha256+b64",
    encoded: "LCa0a2j_xo_5m0U8HTBBNBNCLXBkg7-g-YpeiGJm564",
    err: E.digestUnsupported,
  },
  {
    input: "sha256:E58FCF7418D4390DEC8E8FB69D88C06EC07039D651FEDD3AA72AF9972E7D046B",
    err: E.checksumFormat,
  },
];

// ---------------------------------------------------------------------------------------------
// kubernetes/kubernetes
// ---------------------------------------------------------------------------------------------

export interface ImageNameVector {
  readonly input: string;
  readonly repo?: string;
  readonly tag?: string;
  readonly digest?: string;
  /** upstream checks a substring of the message; the full message is ours */
  readonly errContains?: string;
  readonly err?: ExpectedError;
}

const E3B0 = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
const E3B0_HEX = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/** pkg/util/parsers/parsers_test.go TestParseImageName (@ 008b3652). */
export const PARSE_IMAGE_NAME: readonly ImageNameVector[] = [
  { input: "root", repo: "docker.io/library/root", tag: "latest", digest: "" },
  { input: "root:tag", repo: "docker.io/library/root", tag: "tag", digest: "" },
  { input: `root@${E3B0}`, repo: "docker.io/library/root", tag: "", digest: E3B0 },
  { input: "user/repo", repo: "docker.io/user/repo", tag: "latest", digest: "" },
  { input: "user/repo:tag", repo: "docker.io/user/repo", tag: "tag", digest: "" },
  { input: `user/repo@${E3B0}`, repo: "docker.io/user/repo", tag: "", digest: E3B0 },
  { input: "url:5000/repo", repo: "url:5000/repo", tag: "latest", digest: "" },
  { input: "url:5000/repo:tag", repo: "url:5000/repo", tag: "tag", digest: "" },
  { input: `url:5000/repo@${E3B0}`, repo: "url:5000/repo", tag: "", digest: E3B0 },
  {
    input: `url:5000/repo:latest@${E3B0}`,
    repo: "url:5000/repo",
    tag: "latest",
    digest: E3B0,
  },
  {
    input: "ROOT",
    errContains: "must be lowercase",
    err: {
      code: "REPOSITORY_NOT_LOWERCASE",
      message:
        'couldn\'t parse image name "ROOT": invalid reference format: repository name (library/ROOT) must be lowercase',
    },
  },
  {
    input: "http://root",
    errContains: "invalid reference format",
    err: {
      code: "REFERENCE_INVALID_FORMAT",
      message: 'couldn\'t parse image name "http://root": invalid reference format',
    },
  },
  {
    input: E3B0_HEX,
    errContains: "cannot specify 64-byte hexadecimal strings",
    err: {
      code: "NAME_IS_IDENTIFIER",
      message: `couldn't parse image name "${E3B0_HEX}": invalid repository name (${E3B0_HEX}), cannot specify 64-byte hexadecimal strings`,
    },
  },
];

export interface DefaultTagVector {
  readonly testName: string;
  readonly input: string;
  readonly output: string;
}

/** pkg/kubelet/images/image_manager_test.go TestApplyDefaultImageTag (newest form). */
export const APPLY_DEFAULT_IMAGE_TAG: readonly DefaultTagVector[] = [
  { testName: "root", input: "root", output: "root:latest" },
  { testName: "root:tag", input: "root:tag", output: "root:tag" },
  { testName: "root@sha", input: `root@${E3B0}`, output: `root@${E3B0}` },
  { testName: "root:latest@sha", input: `root:latest@${E3B0}`, output: `root:latest@${E3B0}` },
  { testName: "root:latest", input: "root:latest", output: "root:latest" },
];

// ---------------------------------------------------------------------------------------------
// kimg's own vectors: the digest-algorithm policy
// ---------------------------------------------------------------------------------------------

export const SHA384_HEX = "a".repeat(96);
export const SHA512_HEX = "b".repeat(128);

export interface AlgorithmPolicyVector {
  readonly input: string;
  readonly opts?: ParseOptions;
  readonly digest?: string;
  readonly err?: ExpectedError;
}

/** Parse with the default algorithm set (sha256, sha384, sha512) and narrowed ones. */
export const DIGEST_ALGORITHM_POLICY: readonly AlgorithmPolicyVector[] = [
  { input: `foo@sha384:${SHA384_HEX}`, digest: `sha384:${SHA384_HEX}` },
  { input: `foo@sha512:${SHA512_HEX}`, digest: `sha512:${SHA512_HEX}` },
  { input: `foo@sha256:${F64}`, digest: SHA256_F },
  {
    input: `foo@sha384:${SHA384_HEX}`,
    opts: { digestAlgorithms: ["sha256"] },
    err: E.digestUnsupported,
  },
  {
    input: `foo@sha512:${SHA512_HEX}`,
    opts: { digestAlgorithms: ["sha256"] },
    err: E.digestUnsupported,
  },
  {
    input: `foo@sha256:${F64}`,
    opts: { digestAlgorithms: ["sha512"] },
    err: E.digestUnsupported,
  },
  {
    input: `foo@sha512:${SHA512_HEX}`,
    opts: { digestAlgorithms: ["sha256", "sha512"] },
    digest: `sha512:${SHA512_HEX}`,
  },
  // length is checked per algorithm
  { input: `foo@sha384:${F64}`, err: E.checksumLength },
  { input: `foo@sha512:${SHA384_HEX}`, err: E.checksumLength },
  // upper-case hex is grammatical but go-digest rejects it
  { input: `foo@sha512:${"B".repeat(128)}`, err: E.checksumFormat },
  { input: `foo@sha384:${"A".repeat(96)}`, err: E.checksumFormat },
  // an empty set accepts nothing
  { input: `foo@sha256:${F64}`, opts: { digestAlgorithms: [] }, err: E.digestUnsupported },
];
