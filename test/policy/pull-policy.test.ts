// Tests for src/policy/pull-policy.ts. Cases: kubelet.md §2 table (SetDefaults_Container),
// pkg/apis/core/v1/defaults_test.go (init container "busybox" → Always; empty image →
// IfNotPresent in TestPodDefaults/TestWorkloadDefaults), pkg/util/parsers/parsers_test.go inputs,
// and kubelet.md §5.3's decision table (image_manager.go).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  type DefaultingRule,
  defaultPullPolicy,
  describeKubeletAction,
  effectivePullPolicy,
  isPullPolicy,
  type KubeletAction,
  kubeletAction,
  PULL_POLICIES,
  type PullPolicy,
} from "../../src/policy/index.ts";

const D256 = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
const D512 =
  "sha512:cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e";

describe("PULL_POLICIES / isPullPolicy", () => {
  it("lists the three policies in API order", () => {
    assert.deepEqual(PULL_POLICIES, ["Always", "IfNotPresent", "Never"]);
  });
  for (const [v, ok] of [
    ["Always", true],
    ["IfNotPresent", true],
    ["Never", true],
    ["always", false],
    ["", false],
    [" Always", false],
    [undefined, false],
    [1, false],
  ] as const) {
    it(`isPullPolicy(${JSON.stringify(v)}) is ${ok}`, () => {
      assert.equal(isPullPolicy(v), ok);
    });
  }
});

describe("defaultPullPolicy (SetDefaults_Container)", () => {
  const cases: readonly (readonly [string, PullPolicy, DefaultingRule])[] = [
    // kubelet.md §2 table
    ["nginx", "Always", "no-tag"],
    ["nginx:latest", "Always", "latest-tag"],
    ["nginx:1.25", "IfNotPresent", "other-tag"],
    [`nginx@${D256}`, "IfNotPresent", "digest-only"],
    [`nginx:latest@${D256}`, "Always", "latest-tag-with-digest"],
    [`nginx:1.0@${D256}`, "IfNotPresent", "other-tag-with-digest"],
    ["nginx:LATEST", "IfNotPresent", "other-tag"],
    ["Nginx", "IfNotPresent", "unparsable"],
    ["", "IfNotPresent", "empty-image"],
    // defaults_test.go: init container "busybox" defaults to Always
    ["busybox", "Always", "no-tag"],
    // parsers_test.go inputs (§1.1 table)
    ["root", "Always", "no-tag"],
    ["root:tag", "IfNotPresent", "other-tag"],
    [`root@${D256}`, "IfNotPresent", "digest-only"],
    ["user/repo:tag", "IfNotPresent", "other-tag"],
    ["url:5000/repo", "Always", "no-tag"],
    [`url:5000/repo:latest@${D256}`, "Always", "latest-tag-with-digest"],
    ["ROOT", "IfNotPresent", "unparsable"],
    ["http://root", "IfNotPresent", "unparsable"],
    // more spellings
    ["docker.io/library/nginx", "Always", "no-tag"],
    ["localhost:5000/app:latest", "Always", "latest-tag"],
    ["localhost:5000/app", "Always", "no-tag"],
    ["localhost:latest", "Always", "latest-tag"],
    ["nginx:Latest", "IfNotPresent", "other-tag"],
    ["nginx:latest1", "IfNotPresent", "other-tag"],
    [" nginx", "IfNotPresent", "unparsable"],
    ["a b", "IfNotPresent", "unparsable"],
    [`nginx@${D512}`, "IfNotPresent", "digest-only"],
  ];
  for (const [image, policy, rule] of cases) {
    it(`${JSON.stringify(image)} → ${policy} (${rule})`, () => {
      const d = defaultPullPolicy(image);
      assert.equal(d.policy, policy);
      assert.equal(d.rule, rule);
    });
  }

  it("gives the reasons in English", () => {
    const reasons: readonly (readonly [string, string])[] = [
      ["nginx", 'no tag or digest, so the tag defaults to "latest" ⇒ Always'],
      ["nginx:latest", 'tag "latest" ⇒ Always'],
      [
        `nginx:latest@${D256}`,
        'tag "latest" is present (the digest does not change that) ⇒ Always',
      ],
      ["nginx:1.25", 'tag "1.25" is not "latest" ⇒ IfNotPresent'],
      ["nginx:LATEST", 'tag "LATEST" is not "latest" (tags are case-sensitive) ⇒ IfNotPresent'],
      [`nginx:1.0@${D256}`, 'tag "1.0" is not "latest" ⇒ IfNotPresent'],
      [`nginx@${D256}`, "digest only, so there is no tag ⇒ IfNotPresent"],
      ["", "the image is empty, so there is no tag ⇒ IfNotPresent"],
      [
        "http://root",
        `the image cannot be parsed (couldn't parse image name "http://root": invalid reference format), so there is no tag ⇒ IfNotPresent`,
      ],
    ];
    for (const [image, reason] of reasons)
      assert.equal(defaultPullPolicy(image).reason, reason, image);
  });

  it("reports ParseImageName's tag and digest", () => {
    assert.deepEqual(
      { tag: defaultPullPolicy("nginx").tag, digest: defaultPullPolicy("nginx").digest },
      { tag: "latest", digest: "" },
    );
    const both = defaultPullPolicy(`nginx:latest@${D256}`);
    assert.equal(both.tag, "latest");
    assert.equal(both.digest, D256);
    assert.equal(defaultPullPolicy(`nginx@${D256}`).tag, "");
  });

  it("keeps the parse error that defaulting ignores", () => {
    const d = defaultPullPolicy("ROOT");
    assert.match(d.parseError ?? "", /^couldn't parse image name "ROOT": .*must be lowercase/);
    assert.equal("parseError" in defaultPullPolicy("nginx"), false);
  });

  it("passes the digest algorithms on to the parser", () => {
    const d = defaultPullPolicy(`nginx@${D512}`, { digestAlgorithms: ["sha256"] });
    assert.equal(d.policy, "IfNotPresent");
    assert.equal(d.rule, "unparsable");
    const latest = defaultPullPolicy(`nginx:latest@${D512}`, { digestAlgorithms: ["sha256"] });
    assert.equal(latest.policy, "IfNotPresent"); // unparsable: the tag is lost with the error
  });
});

describe("effectivePullPolicy", () => {
  it("defaults when the declared policy is absent or empty", () => {
    for (const declared of [undefined, ""]) {
      const e = effectivePullPolicy(declared, "nginx");
      assert.deepEqual(e, {
        policy: "Always",
        declared,
        defaulted: true,
        rule: "no-tag",
        reason: 'no tag or digest, so the tag defaults to "latest" ⇒ Always',
      });
    }
  });
  it("lets a declared policy win over the tag rule", () => {
    for (const [declared, image] of [
      ["IfNotPresent", "nginx:latest"],
      ["Never", "nginx"],
      ["Always", `nginx@${D256}`],
    ] as const) {
      const e = effectivePullPolicy(declared, image);
      assert.equal(e.policy, declared);
      assert.equal(e.defaulted, false);
      assert.equal(e.rule, "explicit");
      assert.equal(e.declared, declared);
      assert.equal(e.reason, `imagePullPolicy is set to ${declared}, so no default applies`);
    }
  });
  it("reports an unsupported declared value without defaulting it", () => {
    for (const declared of ["always", " Always", "X"]) {
      const e = effectivePullPolicy(declared, "nginx");
      assert.equal(e.policy, null);
      assert.equal(e.defaulted, false);
      assert.equal(e.rule, "unsupported");
    }
    assert.equal(
      effectivePullPolicy("X", "nginx").reason,
      'imagePullPolicy "X" is not one of "Always", "IfNotPresent", "Never", so the API server rejects the object',
    );
  });
  it("uses the parse options when defaulting", () => {
    assert.equal(
      effectivePullPolicy(undefined, `nginx:latest@${D512}`, { digestAlgorithms: ["sha256"] })
        .policy,
      "IfNotPresent",
    );
    assert.equal(effectivePullPolicy(undefined, `nginx:latest@${D512}`).policy, "Always");
  });
});

describe("kubeletAction (kubelet.md §5.3)", () => {
  const none = undefined;
  const notRequired = { mustAttemptPull: false };
  const required = { mustAttemptPull: true };
  // [policy, present, verification, expected]
  const table: readonly (readonly [
    string,
    boolean,
    { mustAttemptPull: boolean } | undefined,
    KubeletAction,
  ])[] = [
    ["Always", false, none, "pull"],
    ["Always", true, none, "pull"],
    ["Always", true, notRequired, "pull"],
    ["Always", true, required, "pull"],
    ["IfNotPresent", false, none, "pull"],
    ["IfNotPresent", false, required, "pull"],
    ["IfNotPresent", true, none, "use-local"],
    ["IfNotPresent", true, notRequired, "use-local"],
    ["IfNotPresent", true, required, "pull"],
    ["Never", false, none, "ErrImageNeverPull"],
    ["Never", false, notRequired, "ErrImageNeverPull"],
    ["Never", true, none, "use-local"],
    ["Never", true, notRequired, "use-local"],
    ["Never", true, required, "ErrImageNeverPull"],
    // Unknown policies: no ImageStatus lookup, so the image counts as absent → pull (1.33+).
    ["Sometimes", true, none, "pull"],
    ["Sometimes", false, none, "pull"],
    ["", true, notRequired, "pull"],
    ["never", true, none, "pull"],
  ];
  for (const [policy, present, verification, expected] of table) {
    it(`${JSON.stringify(policy)}, present=${present}, verification=${JSON.stringify(verification)} → ${expected}`, () => {
      assert.equal(kubeletAction(policy, present, verification), expected);
    });
  }
});

describe("describeKubeletAction", () => {
  it("uses the kubelet's words for a local image (gate off)", () => {
    assert.deepEqual(describeKubeletAction("nginx:1.25", "IfNotPresent", true), {
      action: "use-local",
      criImage: "nginx:1.25",
      event: {
        type: "Normal",
        reason: "Pulled",
        message: 'Container image "nginx:1.25" already present on machine',
      },
    });
  });
  it("uses the gate-on wording when the pod was verified", () => {
    const d = describeKubeletAction("nginx:1.25", "Never", true, {
      verification: { mustAttemptPull: false },
    });
    assert.equal(d.action, "use-local");
    assert.equal(
      d.event.message,
      'Container image "nginx:1.25" already present on machine and can be accessed by the pod',
    );
  });
  it("reports ErrImageNeverPull with the raw image", () => {
    assert.deepEqual(describeKubeletAction("nginx", "Never", false), {
      action: "ErrImageNeverPull",
      criImage: "nginx:latest",
      event: {
        type: "Warning",
        reason: "ErrImageNeverPull",
        message: 'Container image "nginx" is not present with pull policy of Never',
      },
    });
    // present but not accessible: the same words, so presence is not revealed
    const hidden = describeKubeletAction("nginx", "Never", true, {
      verification: { mustAttemptPull: true },
    });
    assert.equal(
      hidden.event.message,
      'Container image "nginx" is not present with pull policy of Never',
    );
  });
  it("announces a pull with the raw image, and gives the CRI image with the tag defaulted", () => {
    assert.deepEqual(describeKubeletAction("nginx", "Always", true), {
      action: "pull",
      criImage: "nginx:latest",
      event: { type: "Normal", reason: "Pulling", message: 'Pulling image "nginx"' },
    });
    assert.equal(describeKubeletAction(`nginx@${D256}`, "Always", false).criImage, `nginx@${D256}`);
    assert.equal(
      describeKubeletAction("docker.io/library/nginx", "Always", false).criImage,
      "docker.io/library/nginx:latest",
    );
  });
  it("fails with InvalidImageName before looking at the policy", () => {
    assert.deepEqual(describeKubeletAction("a\tb", "Never", true), {
      action: "InvalidImageName",
      criImage: null,
      event: {
        type: "Warning",
        reason: "InspectFailed",
        message:
          'Failed to apply default image tag "a\\tb": couldn\'t parse image name "a\\tb": invalid reference format',
      },
    });
  });
  it("passes the digest algorithms on to the parser", () => {
    assert.equal(
      describeKubeletAction(`nginx@${D512}`, "Always", false, { digestAlgorithms: ["sha256"] })
        .action,
      "InvalidImageName",
    );
    assert.equal(describeKubeletAction(`nginx@${D512}`, "Always", false).action, "pull");
  });
});
