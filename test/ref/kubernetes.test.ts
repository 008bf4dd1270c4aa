// Kubernetes: pkg/util/parsers ParseImageName and the kubelet's applyDefaultImageTag, with
// the vectors of parsers_test.go and image_manager_test.go, plus Go %q quoting of the input
// in error messages.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { goQuote } from "../../src/go/index.ts";
import { applyDefaultImageTag, parseImageName } from "../../src/ref/index.ts";
import { assertKimgError, short } from "./helpers.ts";
import { APPLY_DEFAULT_IMAGE_TAG, PARSE_IMAGE_NAME, SHA384_HEX, SHA512_HEX } from "./vectors.ts";

describe("parseImageName: parsers_test.go TestParseImageName", () => {
  for (const v of PARSE_IMAGE_NAME) {
    it(short(v.input), () => {
      if (v.err !== undefined) {
        assertKimgError(() => parseImageName(v.input), v.err, v.input);
        assert.ok(v.err.message.includes(v.errContains ?? ""), "upstream's substring");
        return;
      }
      assert.deepEqual(parseImageName(v.input), {
        repoToPull: v.repo,
        tag: v.tag,
        digest: v.digest,
      });
    });
  }
});

describe("applyDefaultImageTag: image_manager_test.go TestApplyDefaultImageTag", () => {
  for (const v of APPLY_DEFAULT_IMAGE_TAG) {
    it(v.testName, () => assert.equal(applyDefaultImageTag(v.input), v.output));
  }
});

describe("parseImageName: kimg's edge cases", () => {
  it("sha384 and sha512 digests parse (kubernetes links crypto/sha512)", () => {
    assert.deepEqual(parseImageName(`nginx@sha384:${SHA384_HEX}`), {
      repoToPull: "docker.io/library/nginx",
      tag: "",
      digest: `sha384:${SHA384_HEX}`,
    });
    assert.deepEqual(parseImageName(`nginx:1@sha512:${SHA512_HEX}`), {
      repoToPull: "docker.io/library/nginx",
      tag: "1",
      digest: `sha512:${SHA512_HEX}`,
    });
  });
  it("a narrowed algorithm set is honoured", () => {
    const image = `nginx@sha512:${SHA512_HEX}`;
    assertKimgError(() => parseImageName(image, { digestAlgorithms: ["sha256"] }), {
      code: "DIGEST_UNSUPPORTED",
      message: `couldn't parse image name "${image}": unsupported digest algorithm`,
    });
  });
  it("tag and digest are both returned (unlike ParseDockerRef)", () => {
    const d = `sha256:${"c".repeat(64)}`;
    assert.deepEqual(parseImageName(`a.io/x:v1@${d}`), {
      repoToPull: "a.io/x",
      tag: "v1",
      digest: d,
    });
  });
  it("bare host:port is an official image with a numeric tag", () => {
    assert.deepEqual(parseImageName("localhost:5000"), {
      repoToPull: "docker.io/library/localhost",
      tag: "5000",
      digest: "",
    });
  });
  it("every error is wrapped with the quoted image", () => {
    assertKimgError(() => parseImageName(""), {
      code: "REFERENCE_INVALID_FORMAT",
      message: `couldn't parse image name "": invalid reference format`,
    });
    assertKimgError(() => parseImageName("a".repeat(300)), {
      code: "NAME_TOO_LONG",
      message: `couldn't parse image name "${"a".repeat(300)}": repository name must not be more than 255 characters`,
    });
    assertKimgError(() => parseImageName("foo@sha256:abc"), {
      code: "REFERENCE_INVALID_FORMAT",
      message: `couldn't parse image name "foo@sha256:abc": invalid reference format`,
    });
    assertKimgError(() => parseImageName(`foo@sha256:${"a".repeat(40)}`), {
      code: "DIGEST_CHECKSUM_LENGTH",
      message: `couldn't parse image name "foo@sha256:${"a".repeat(40)}": invalid checksum digest length`,
    });
  });
  it("the image is quoted as Go's %q does", () => {
    assertKimgError(() => parseImageName('a"b\\c'), {
      code: "REFERENCE_INVALID_FORMAT",
      message: `couldn't parse image name "a\\"b\\\\c": invalid reference format`,
    });
    assertKimgError(() => parseImageName("a\tb\n"), {
      code: "REFERENCE_INVALID_FORMAT",
      message: `couldn't parse image name "a\\tb\\n": invalid reference format`,
    });
    // %s inside, %q outside: the remote is printed raw
    assertKimgError(() => parseImageName("É"), {
      code: "REPOSITORY_NOT_LOWERCASE",
      message: `couldn't parse image name "É": invalid reference format: repository name (library/É) must be lowercase`,
    });
  });
  it("a long input finishes", () => {
    const image = `${"a/".repeat(5_000)}B`;
    assertKimgError(() => parseImageName(image), {
      code: "REPOSITORY_NOT_LOWERCASE",
      message: `couldn't parse image name "${image}": invalid reference format: repository name (${image}) must be lowercase`,
    });
  });
});

describe("applyDefaultImageTag: kimg's edge cases", () => {
  it("short names stay short", () => {
    assert.equal(applyDefaultImageTag("busybox"), "busybox:latest");
    assert.equal(applyDefaultImageTag("library/busybox"), "library/busybox:latest");
    assert.equal(applyDefaultImageTag("docker.io/busybox"), "docker.io/busybox:latest");
  });
  it("registry ports are not tags", () => {
    assert.equal(applyDefaultImageTag("example.com:5000/foo"), "example.com:5000/foo:latest");
    assert.equal(applyDefaultImageTag("[::1]:5000/foo"), "[::1]:5000/foo:latest");
  });
  it("a bare host:port keeps its 'tag'", () => {
    assert.equal(applyDefaultImageTag("localhost:5000"), "localhost:5000");
  });
  it("a digest is left alone", () => {
    const d = `sha512:${SHA512_HEX}`;
    assert.equal(applyDefaultImageTag(`foo@${d}`), `foo@${d}`);
  });
  it("errors are ParseImageName's", () => {
    assertKimgError(() => applyDefaultImageTag("ROOT"), {
      code: "REPOSITORY_NOT_LOWERCASE",
      message: `couldn't parse image name "ROOT": invalid reference format: repository name (library/ROOT) must be lowercase`,
    });
  });
});

describe("goQuote: Go strconv.Quote", () => {
  const cases: [string, string][] = [
    ["", '""'],
    ["nginx:1.0", '"nginx:1.0"'],
    ['"', '"\\""'],
    ["\\", '"\\\\"'],
    ["\x07\b\f\n\r\t\v", '"\\a\\b\\f\\n\\r\\t\\v"'],
    ["\x00", '"\\x00"'],
    ["\x1b", '"\\x1b"'],
    ["\x7f", '"\\x7f"'],
    ["\u0085", '"\\u0085"'],
    ["\u00a0", '"\\u00a0"'], // no-break space is not printable in Go
    ["\u2028", '"\\u2028"'],
    ["\u200b", '"\\u200b"'],
    ["\ufeff", '"\\ufeff"'],
    ["\u0378", '"\\u0378"'], // unassigned
    ["\u{e0001}", '"\\U000e0001"'],
    ["é", '"é"'],
    ["İ", '"İ"'],
    ["日本", '"日本"'],
    ["😀", '"😀"'],
    ["\u0301", '"\u0301"'], // combining mark: printable
    [" ", '" "'],
    ["\u3000", '"\\u3000"'], // ideographic space: not printable
  ];
  for (const [input, expected] of cases) {
    it(JSON.stringify(input), () => assert.equal(goQuote(input), expected));
  }
});
