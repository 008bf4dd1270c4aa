// Tests for src/manifest/walk.ts (through inspectManifests): where each kind keeps its PodSpec,
// List recursion, container order, unknown kinds and malformed documents.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  type InspectOptions,
  inspectManifests,
  loadManifests,
  type ManifestReport,
} from "../../src/manifest/index.ts";

function inspect(text: string, opts?: InspectOptions, source = "m.yaml"): ManifestReport {
  return inspectManifests([loadManifests(text, source)], opts);
}

const C = "containers:\n- name: c\n  image: nginx:1.25\n";

/** `text` indented by n spaces. */
const API_VERSION: Readonly<Record<string, string>> = {
  Deployment: "apps/v1",
  ReplicaSet: "apps/v1",
  StatefulSet: "apps/v1",
  DaemonSet: "apps/v1",
  Job: "batch/v1",
  ReplicationController: "v1",
};

function indent(text: string, n: number): string {
  return text
    .split("\n")
    .map((l) => (l === "" ? l : " ".repeat(n) + l))
    .join("\n");
}

const KINDS: readonly (readonly [string, string, string])[] = [
  ["Pod", `apiVersion: v1\nkind: Pod\nmetadata: {name: o}\nspec:\n${indent(C, 2)}`, "spec"],
  [
    "PodTemplate",
    `apiVersion: v1\nkind: PodTemplate\nmetadata: {name: o}\ntemplate:\n  spec:\n${indent(C, 4)}`,
    "template.spec",
  ],
  ...(
    [
      "Deployment",
      "ReplicaSet",
      "StatefulSet",
      "DaemonSet",
      "Job",
      "ReplicationController",
    ] as const
  ).map(
    (k) =>
      [
        k,
        `apiVersion: ${API_VERSION[k]}\nkind: ${k}\nmetadata: {name: o}\nspec:\n  template:\n    spec:\n${indent(C, 6)}`,
        "spec.template.spec",
      ] as const,
  ),
  [
    "CronJob",
    `apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: o}\nspec:\n  jobTemplate:\n    spec:\n      template:\n        spec:\n${indent(C, 10)}`,
    "spec.jobTemplate.spec.template.spec",
  ],
];

describe("walk: kinds", () => {
  for (const [kind, text, specPath] of KINDS) {
    it(`${kind}: containers under ${specPath}`, () => {
      const r = inspect(text);
      assert.equal(r.containers.length, 1, JSON.stringify(r.problems));
      const c = r.containers[0];
      assert.equal(c?.kind, kind);
      assert.equal(c?.name, "o");
      assert.equal(c?.fieldPath, `${specPath}.containers[0]`);
      assert.equal(c?.containerName, "c");
      assert.equal(c?.image, "nginx:1.25");
      assert.deepEqual(r.problems, []);
    });
  }

  it("reports the container's own line and column, and the object's line", () => {
    const text =
      "# c\n---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: a\n    image: x:1\n  - name: b\n    image: y:1\n";
    const r = inspect(text, {}, "pod.yaml");
    assert.deepEqual(
      r.containers.map((c) => [c.source, c.line, c.column, c.objectLine]),
      [
        ["pod.yaml", 9, 5, 3],
        ["pod.yaml", 11, 5, 3],
      ],
    );
  });

  it("visits initContainers, containers, ephemeralContainers in that order", () => {
    const text = `kind: Pod
metadata: {name: p}
spec:
  ephemeralContainers: [{name: e, image: "e:1"}]
  containers: [{name: c, image: "c:1"}, {name: c2, image: "c:2"}]
  initContainers: [{name: i, image: "i:1"}]
`;
    const r = inspect(text);
    assert.deepEqual(
      r.containers.map((c) => [c.fieldPath, c.containerType, c.containerName]),
      [
        ["spec.initContainers[0]", "initContainer", "i"],
        ["spec.containers[0]", "container", "c"],
        ["spec.containers[1]", "container", "c2"],
        ["spec.ephemeralContainers[0]", "ephemeralContainer", "e"],
      ],
    );
  });

  it("shows the namespace as written, or default and says it is implied", () => {
    const r = inspect(
      `kind: Pod\nmetadata: {name: a, namespace: prod}\nspec:\n${indent(C, 2)}---\nkind: Pod\nmetadata: {name: b}\nspec:\n${indent(C, 2)}`,
    );
    assert.deepEqual(
      r.containers.map((c) => [c.namespace, c.namespaceImplied]),
      [
        ["prod", false],
        ["default", true],
      ],
    );
    assert.ok(r.notes.some((n) => n.includes("namespace default")));
  });
});

describe("walk: lists", () => {
  it("walks List items recursively with item paths", () => {
    const text = `apiVersion: v1
kind: List
items:
- kind: Pod
  metadata: {name: a}
  spec: {containers: [{name: c, image: "a:1"}]}
- kind: List
  items:
  - kind: Deployment
    metadata: {name: d}
    spec: {template: {spec: {containers: [{name: c, image: "d:1"}]}}}
  - kind: Service
    metadata: {name: s}
`;
    const r = inspect(text);
    assert.deepEqual(
      r.containers.map((c) => [c.kind, c.name, c.itemPath, c.fieldPath]),
      [
        ["Pod", "a", "items[0]", "spec.containers[0]"],
        ["Deployment", "d", "items[1].items[0]", "spec.template.spec.containers[0]"],
      ],
    );
    assert.deepEqual(
      r.skipped.map((s) => [s.kind, s.name, s.itemPath]),
      [["Service", "s", "items[1].items[1]"]],
    );
  });

  it("takes the item kind from a typed list (PodList items may omit kind)", () => {
    const text = `apiVersion: v1
kind: PodList
items:
- metadata: {name: a}
  spec: {containers: [{name: c, image: "a:1"}]}
`;
    const r = inspect(text);
    assert.equal(r.containers[0]?.kind, "Pod");
    assert.equal(r.containers[0]?.kindImplied, true);
  });

  it("reports List items without kind in a plain List", () => {
    const r = inspect("kind: List\nitems:\n- metadata: {name: a}\n");
    assert.equal(r.containers.length, 0);
    assert.equal(r.problems[0]?.code, "KIND_MISSING");
    assert.equal(r.problems[0]?.line, 3);
  });

  it("reports items that are not a list", () => {
    const r = inspect("kind: List\nitems: {a: 1}\n");
    assert.equal(r.problems[0]?.code, "WRONG_TYPE");
    assert.match(r.problems[0]?.message ?? "", /"items" is a map, expected a list/);
  });

  it("accepts an empty List", () => {
    const r = inspect("kind: List\nitems: []\n---\nkind: List\n");
    assert.deepEqual(r.problems, []);
    assert.equal(r.containers.length, 0);
  });
});

describe("walk: unknown kinds and malformed documents", () => {
  it("skips unknown kinds with a note naming kind, name and line", () => {
    const r = inspect(
      `kind: ConfigMap\nmetadata: {name: cm}\n---\nkind: Pod\nspec:\n${indent(C, 2)}`,
    );
    assert.deepEqual(
      r.skipped.map((s) => [s.kind, s.name, s.source, s.line]),
      [["ConfigMap", "cm", "m.yaml", 1]],
    );
    assert.match(r.skipped[0]?.reason ?? "", /is not one kimg checks/);
    assert.equal(r.containers.length, 1);
  });

  it("reports a document without kind, with its line, and goes on", () => {
    const r = inspect(`kind: Pod\nspec:\n${indent(C, 2)}---\nmetadata: {name: x}\n`);
    assert.equal(r.containers.length, 1);
    assert.deepEqual(
      r.problems.map((p) => [p.code, p.line]),
      [["KIND_MISSING", 7]],
    );
  });

  it("reports non-object documents", () => {
    const r = inspect("- a\n- b\n---\njust a string\n---\nnull\n");
    assert.deepEqual(
      r.problems.map((p) => [p.code, p.line]),
      [
        ["NOT_AN_OBJECT", 1],
        ["NOT_AN_OBJECT", 4],
        ["NOT_AN_OBJECT", 6],
      ],
    );
  });

  it("reports a kind that is not a string", () => {
    const r = inspect("kind: [Pod]\n");
    assert.equal(r.problems[0]?.code, "WRONG_TYPE");
  });

  it("reports containers that are not a list, and entries that are not maps", () => {
    const text = `kind: Pod
metadata: {name: p}
spec:
  initContainers: {name: i}
  containers:
  - name: ok
    image: "a:1"
  - just-a-string
  ephemeralContainers: "x"
`;
    const r = inspect(text);
    assert.deepEqual(
      r.problems.map((p) => [p.code, p.field, p.line]),
      [
        ["WRONG_TYPE", "spec.initContainers", 4],
        ["WRONG_TYPE", "spec.containers[1]", 8],
        ["WRONG_TYPE", "spec.ephemeralContainers", 9],
      ],
    );
    assert.match(r.problems[0]?.message ?? "", /spec\.initContainers is a map, expected a list/);
    assert.equal(r.containers.length, 1);
    assert.equal(r.containers[0]?.fieldPath, "spec.containers[0]");
  });

  it("reports a spec that is not a map", () => {
    const r = inspect("kind: Deployment\nmetadata: {name: d}\nspec:\n  template: [1]\n");
    assert.deepEqual(
      r.problems.map((p) => [p.code, p.field]),
      [["WRONG_TYPE", "spec.template"]],
    );
  });

  it("resolves aliases and << merge keys (an anchored entry's line is its first key)", () => {
    const text = `kind: Pod
metadata: {name: p}
spec:
  containers:
  - &base
    name: a
    image: "redis:7"
  - <<: *base
    name: b
  - *base
`;
    const r = inspect(text);
    assert.deepEqual(
      r.containers.map((c) => [c.containerName, c.image, c.line]),
      [
        ["a", "redis:7", 6],
        ["b", "redis:7", 8],
        ["a", "redis:7", 10],
      ],
    );
  });

  it("stops at an alias bomb with a problem instead of hanging", () => {
    // Each level is a List whose two items are the previous level: 2^30 Pods if expanded.
    let text = "x0: &a0 {kind: Pod, spec: {containers: [{name: c, image: 'a:1'}]}}\n";
    for (let i = 1; i < 30; i++)
      text += `x${i}: &a${i} {kind: List, items: [*a${i - 1}, *a${i - 1}]}\n`;
    text += "kind: List\nitems: [*a29]\n";
    const r = inspect(text);
    assert.equal(r.problems.at(-1)?.code, "LIMIT");
    assert.match(r.problems.at(-1)?.message ?? "", /alias references/);
    assert.ok(r.containers.length < 20_000);
  });
});

describe("API groups", () => {
  it("a custom resource named like a Kubernetes kind is skipped, not validated as one", () => {
    const text = [
      "apiVersion: example.com/v1",
      "kind: Pod",
      "metadata: {name: fake}",
      "spec: {containers: [{name: a, image: Nginx}]}",
      "---",
      "apiVersion: extensions/v1beta1",
      "kind: Deployment",
      "metadata: {name: old}",
      "spec: {template: {spec: {containers: [{name: a, image: nginx}]}}}",
      "",
    ].join("\n");
    const r = inspectManifests([loadManifests(text, "g.yaml")]);
    assert.equal(r.skipped.length, 1);
    assert.match(r.skipped[0]?.reason ?? "", /apiVersion example\.com\/v1 is not Kubernetes' Pod/);
    assert.deepEqual(
      r.containers.map((c) => c.name),
      ["old"],
    );
  });
});
