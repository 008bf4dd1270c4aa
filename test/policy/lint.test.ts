// Tests for src/policy/lint.ts: the seed page's advice (shared/seed/README.md §3–5).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type Finding, type LintInput, lintContainer } from "../../src/policy/index.ts";

const D256 = "sha256:45b23dee08af5e43a7fea6c4cf9c25ccf269ee113168c19722f87876677c5cb2";
const D512 =
  "sha512:cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e";

function codes(input: LintInput): string[] {
  return lintContainer(input).map((f) => `${f.severity}:${f.code}`);
}

describe("lintContainer: which findings", () => {
  const table: readonly (readonly [LintInput, readonly string[]])[] = [
    [{ image: "nginx" }, ["warning:latest-tag"]],
    [{ image: "nginx:latest" }, ["warning:latest-tag"]],
    [{ image: "nginx", declaredPolicy: "IfNotPresent" }, ["warning:latest-tag"]],
    [{ image: "nginx:1.25" }, ["info:mutable-tag"]],
    [{ image: "nginx:LATEST" }, ["info:mutable-tag"]],
    [{ image: `nginx@${D256}` }, []],
    [{ image: `nginx:1.25@${D256}` }, []],
    [{ image: `nginx@${D256}`, declaredPolicy: "Always" }, ["info:always-with-digest"]],
    // :latest@digest defaults to Always; the digest pins the content, so no latest-tag warning
    [{ image: `nginx:latest@${D256}` }, ["info:always-with-digest"]],
    [{ image: `nginx:latest@${D256}`, declaredPolicy: "IfNotPresent" }, []],
    [
      { image: "nginx:1.25", declaredPolicy: "Never" },
      ["warning:never-policy", "info:mutable-tag"],
    ],
    [{ image: "nginx", declaredPolicy: "Never" }, ["warning:latest-tag", "warning:never-policy"]],
    [{ image: `nginx@${D256}`, declaredPolicy: "Never" }, ["warning:never-policy"]],
    // effectivePolicy, when given, is used as is
    [{ image: `nginx@${D256}`, effectivePolicy: "Always" }, ["info:always-with-digest"]],
    [
      { image: `nginx@${D256}`, declaredPolicy: "Always", effectivePolicy: "Never" },
      ["warning:never-policy"],
    ],
    [{ image: "nginx:1.25", effectivePolicy: "" }, ["info:mutable-tag"]],
    // invalid references: only the error
    [{ image: "Nginx" }, ["error:invalid-image"]],
    [{ image: "Nginx", declaredPolicy: "Never" }, ["error:invalid-image"]],
    [{ image: "" }, ["error:invalid-image"]],
    [{ image: " nginx" }, ["error:invalid-image"]],
  ];
  for (const [input, expected] of table) {
    it(JSON.stringify(input), () => {
      assert.deepEqual(codes(input), expected);
    });
  }
});

describe("lintContainer: messages", () => {
  function only(input: LintInput): Finding {
    const [f, ...rest] = lintContainer(input);
    assert.equal(rest.length, 0);
    assert.ok(f);
    return f;
  }

  it("latest-tag: no tag means latest", () => {
    assert.equal(
      only({ image: "nginx" }).message,
      'image "nginx" has no tag, so it means "latest": you cannot tell which version runs, nor roll back properly; use a version tag or, better, a digest.',
    );
  });
  it("latest-tag: explicit :latest, and the stale-node note under IfNotPresent", () => {
    assert.equal(
      only({ image: "nginx:latest", declaredPolicy: "IfNotPresent" }).message,
      'image "nginx:latest" uses the "latest" tag: you cannot tell which version runs, nor roll back properly; use a version tag or, better, a digest. With imagePullPolicy IfNotPresent, a node keeps running whichever "latest" it already has.',
    );
  });
  it("mutable-tag: pin a digest", () => {
    assert.equal(
      only({ image: "registry.example.com:5000/team/web:v1.0.1" }).message,
      'image "registry.example.com:5000/team/web:v1.0.1" is pinned by tag "v1.0.1" only; a tag can be moved to another image, so pin a digest (image@sha256:…) to be sure every container runs the same image',
    );
  });
  it("never-policy: preload on every node", () => {
    assert.equal(
      only({ image: `app@${D256}`, declaredPolicy: "Never" }).message,
      `imagePullPolicy Never: the kubelet never pulls "app@${D256}", so it must be preloaded on every node that may run this pod, or the container fails with ErrImageNeverPull`,
    );
  });
  it("always-with-digest: safe and cheap", () => {
    assert.equal(
      only({ image: `app@${D256}`, declaredPolicy: "Always" }).message,
      "imagePullPolicy Always with a digest is safe and cheap: a digest never changes, so each start only re-checks the registry (and the pod's credentials) and downloads nothing already present",
    );
  });
  it("invalid-image: carries upstream's parse error", () => {
    const f = only({ image: "Nginx" });
    assert.equal(f.severity, "error");
    assert.equal(
      f.message,
      `image "Nginx" is not a valid reference, so the kubelet fails the container with InvalidImageName: couldn't parse image name "Nginx": invalid reference format: repository name (library/Nginx) must be lowercase`,
    );
    assert.equal(
      only({ image: "http://root" }).message,
      `image "http://root" is not a valid reference, so the kubelet fails the container with InvalidImageName: couldn't parse image name "http://root": invalid reference format`,
    );
  });
});

describe("lintContainer: parse options", () => {
  it("rejects a digest algorithm the caller does not accept", () => {
    assert.deepEqual(codes({ image: `nginx@${D512}` }), []);
    assert.deepEqual(
      lintContainer({ image: `nginx@${D512}` }, { digestAlgorithms: ["sha256"] }).map(
        (f) => f.code,
      ),
      ["invalid-image"],
    );
  });
});
