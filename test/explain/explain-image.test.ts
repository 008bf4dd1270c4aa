import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { explainImage } from "../../src/explain/index.ts";

const D = `sha256:${"a".repeat(64)}`;

describe("explainImage", () => {
  it("gives every field kimg parse --json promises", () => {
    const e = explainImage("nginx");
    for (const k of [
      "input",
      "valid",
      "error",
      "domain",
      "path",
      "tag",
      "digest",
      "string",
      "familiar",
      "familiarName",
      "registry",
      "port",
      "repository",
      "imageName",
      "defaultPullPolicy",
      "criImage",
    ]) {
      assert.ok(k in e, k);
    }
    assert.equal(e.valid, true);
    assert.equal(e.error, null);
    assert.equal(e.string, "docker.io/library/nginx");
    assert.equal(e.familiar, "nginx");
    assert.equal(e.criImage, "nginx:latest");
    assert.equal(e.defaultPullPolicy, "Always");
    assert.equal(e.defaultPullPolicyRule, "no-tag");
  });

  it("k8s mode adds repoToPull and keeps tag and digest", () => {
    const e = explainImage(`url:5000/repo:latest@${D}`, "k8s");
    assert.equal(e.repoToPull, "url:5000/repo");
    assert.equal(e.tag, "latest");
    assert.equal(e.digest, D);
    assert.equal(e.defaultPullPolicy, "Always");
    assert.equal(e.criImage, `url:5000/repo:latest@${D}`);
  });

  it("explains an invalid reference with upstream's message and a code", () => {
    const e = explainImage("Foo");
    assert.equal(e.valid, false);
    assert.deepEqual(e.error, {
      code: "REPOSITORY_NOT_LOWERCASE",
      message: "invalid reference format: repository name (library/Foo) must be lowercase",
    });
    assert.equal(e.defaultPullPolicy, "IfNotPresent");
    assert.equal(e.defaultPullPolicyRule, "unparsable");
    assert.equal(e.criImage, null);
  });

  it("honours the digest algorithm setting", () => {
    const d512 = `sha512:${"b".repeat(128)}`;
    assert.equal(explainImage(`nginx@${d512}`).valid, true);
    const narrowed = explainImage(`nginx@${d512}`, "normalized", { digestAlgorithms: ["sha256"] });
    assert.equal(narrowed.valid, false);
    assert.equal(narrowed.error?.message, "unsupported digest algorithm");
  });

  it("docker mode drops the tag next to a digest", () => {
    const e = explainImage(`nginx:1@${D}`, "docker");
    assert.equal(e.string, `docker.io/library/nginx@${D}`);
    assert.equal(e.normalized, `docker.io/library/nginx:1@${D}`);
  });
});
