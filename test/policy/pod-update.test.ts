// Tests for src/policy/pod-update.ts: defaulting on decode, ValidatePodUpdate's image rules and
// ValidatePodEphemeralContainersUpdate (pkg/apis/core/validation/validation.go, v1.37.2). The
// same rules are checked against a real kube-apiserver in test/peers/apiserver.test.ts.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  defaultPodPullPolicies,
  validatePodEphemeralContainersUpdate,
  validatePodUpdate,
} from "../../src/policy/index.ts";

const pod = (...containers: Record<string, unknown>[]) => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name: "p" },
  spec: { containers, restartPolicy: "Always" },
});
const firstLines = (errs: { message: string }[]) => errs.map((e) => e.message.split("\n")[0]);
const FORBIDDEN =
  "spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)";

describe("defaultPodPullPolicies", () => {
  it("defaults empty and absent policies from the image, in every list, without touching the input", () => {
    const input = {
      kind: "Pod",
      spec: {
        initContainers: [{ name: "i", image: "busybox" }],
        containers: [
          { name: "a", image: "nginx:1.25", imagePullPolicy: "" },
          { name: "b", image: "nginx:1.25", imagePullPolicy: "Never" },
        ],
        ephemeralContainers: [{ name: "d", image: "x@sha256:" + "a".repeat(64) }],
      },
    };
    const before = structuredClone(input);
    const out = defaultPodPullPolicies(input) as typeof input;
    assert.deepEqual(input, before);
    assert.deepEqual(
      [...out.spec.initContainers, ...out.spec.containers, ...out.spec.ephemeralContainers].map(
        (c) => (c as { imagePullPolicy?: string }).imagePullPolicy,
      ),
      ["Always", "IfNotPresent", "Never", "IfNotPresent"],
    );
  });
  it("leaves what is not a Pod alone", () => {
    assert.equal(defaultPodPullPolicies("x"), "x");
  });
});

describe("validatePodUpdate", () => {
  const old = pod({ name: "a", image: "nginx:1.25", imagePullPolicy: "IfNotPresent" });
  it("lets the image change and keeps the policy", () => {
    const next = pod({ name: "a", image: "nginx:1.26", imagePullPolicy: "IfNotPresent" });
    assert.deepEqual(validatePodUpdate(next, old), []);
  });
  it("forbids a changed imagePullPolicy, naming the field after upstream's first line", () => {
    const next = pod({ name: "a", image: "nginx:1.26", imagePullPolicy: "Always" });
    const errs = validatePodUpdate(next, old);
    assert.deepEqual(firstLines(errs), [FORBIDDEN]);
    assert.match(
      errs[0]?.message ?? "",
      /spec\.containers\[0\]\.imagePullPolicy: "IfNotPresent" → "Always"/,
    );
  });
  it("forbids adding a container and stops there", () => {
    const next = pod(
      { name: "a", image: "nginx:1.25", imagePullPolicy: "IfNotPresent" },
      { name: "b", image: "nginx:1.25", imagePullPolicy: "Sometimes" },
    );
    assert.deepEqual(firstLines(validatePodUpdate(next, old)), [
      'spec.containers[1].imagePullPolicy: Unsupported value: "Sometimes": supported values: "Always", "IfNotPresent", "Never"',
      "spec.containers: Forbidden: pod updates may not add or remove containers",
    ]);
  });
  it("reports an empty or padded new image once, as the API server does", () => {
    const next = pod({ name: "a", image: " nginx", imagePullPolicy: "IfNotPresent" });
    assert.deepEqual(firstLines(validatePodUpdate(next, old)), [
      'spec.containers[0].image: Invalid value: " nginx": must not have leading or trailing whitespace',
    ]);
  });
  it("ignores zero values and the fields it does not model", () => {
    const next = pod({ name: "a", image: "nginx:2", imagePullPolicy: "IfNotPresent", args: [] });
    (next.spec as Record<string, unknown>).activeDeadlineSeconds = 5;
    assert.deepEqual(validatePodUpdate(next, old), []);
  });
});

describe("validatePodEphemeralContainersUpdate", () => {
  const old = {
    ...pod({ name: "a", image: "nginx:1.25", imagePullPolicy: "IfNotPresent" }),
  };
  (old.spec as Record<string, unknown>).ephemeralContainers = [
    { name: "d0", image: "busybox", imagePullPolicy: "Always" },
  ];
  const withEphemeral = (...e: Record<string, unknown>[]) => ({
    ...old,
    spec: { ...old.spec, ephemeralContainers: e },
  });
  it("accepts an added container and validates it", () => {
    const keep = { name: "d0", image: "busybox", imagePullPolicy: "Always" };
    assert.deepEqual(
      validatePodEphemeralContainersUpdate(
        withEphemeral(keep, { name: "d1", image: "x", imagePullPolicy: "IfNotPresent" }),
        old,
      ),
      [],
    );
    assert.deepEqual(
      firstLines(
        validatePodEphemeralContainersUpdate(
          withEphemeral(keep, { name: "d1", image: "", imagePullPolicy: "always" }),
          old,
        ),
      ),
      [
        "spec.ephemeralContainers[1].image: Required value",
        'spec.ephemeralContainers[1].imagePullPolicy: Unsupported value: "always": supported values: "Always", "IfNotPresent", "Never"',
      ],
    );
  });
  it("forbids removing or changing an existing one", () => {
    assert.deepEqual(firstLines(validatePodEphemeralContainersUpdate(withEphemeral(), old)), [
      'spec.ephemeralContainers: Forbidden: existing ephemeral containers "d0" may not be removed',
    ]);
    const changed = withEphemeral({ name: "d0", image: "busybox:2", imagePullPolicy: "Always" });
    assert.deepEqual(firstLines(validatePodEphemeralContainersUpdate(changed, old)), [
      'spec.ephemeralContainers: Forbidden: existing ephemeral containers "d0" may not be changed',
    ]);
  });
});
