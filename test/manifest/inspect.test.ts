// Tests for src/manifest/inspect.ts: defaulting, AlwaysPullImages on Pods only, validation
// (Pod vs template rules, object-level checks), the kubelet's decision and lint, summary.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  type ContainerReport,
  type InspectOptions,
  inspectManifests,
  loadManifests,
  type ManifestReport,
} from "../../src/manifest/index.ts";

function inspect(text: string, opts?: InspectOptions): ManifestReport {
  return inspectManifests([loadManifests(text, "m.yaml")], opts);
}

function only(r: ManifestReport): ContainerReport {
  assert.equal(r.containers.length, 1, JSON.stringify(r.problems));
  const c = r.containers[0];
  assert.ok(c);
  return c;
}

function pod(containerYaml: string, name = "p"): string {
  return `apiVersion: v1\nkind: Pod\nmetadata: {name: ${name}}\nspec:\n  containers:\n  - name: c\n${containerYaml
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => `    ${l}\n`)
    .join("")}`;
}

function deployment(containerYaml: string): string {
  return `apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n  template:\n    spec:\n      containers:\n      - name: c\n${containerYaml
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => `        ${l}\n`)
    .join("")}`;
}

describe("inspect: defaulting", () => {
  const cases: readonly (readonly [string, string, string])[] = [
    ["nginx", "Always", "no-tag"],
    ["nginx:latest", "Always", "latest-tag"],
    ["nginx:1.25", "IfNotPresent", "other-tag"],
    [`nginx@sha256:${"a".repeat(64)}`, "IfNotPresent", "digest-only"],
    [`nginx:latest@sha256:${"a".repeat(64)}`, "Always", "latest-tag-with-digest"],
    ["nginx:LATEST", "IfNotPresent", "other-tag"],
    ["Nginx", "IfNotPresent", "unparsable"],
  ];
  for (const [image, policy, rule] of cases) {
    it(`${image} without imagePullPolicy → ${policy}`, () => {
      const c = only(inspect(pod(`image: "${image}"`)));
      assert.equal(c.declaredPolicy, null);
      assert.equal(c.effectivePolicy, policy);
      assert.equal(c.storedPolicy, policy);
      assert.equal(c.defaulted, true);
      assert.equal(c.rule, rule);
      assert.equal(c.changed, true);
    });
  }

  it("an empty imagePullPolicy is defaulted too; null as well", () => {
    for (const v of ['""', "null", "~", ""]) {
      const c = only(inspect(pod(`image: nginx\nimagePullPolicy: ${v}`)));
      assert.equal(c.storedPolicy, "Always", v);
      assert.equal(c.defaulted, true, v);
    }
  });

  it("a declared policy wins and is not a change", () => {
    const c = only(inspect(pod("image: nginx\nimagePullPolicy: IfNotPresent")));
    assert.equal(c.effectivePolicy, "IfNotPresent");
    assert.equal(c.defaulted, false);
    assert.equal(c.rule, "explicit");
    assert.equal(c.changed, false);
  });

  it("defaults templates as well as Pods", () => {
    const c = only(inspect(deployment("image: nginx")));
    assert.equal(c.storedPolicy, "Always");
  });
});

describe("inspect: AlwaysPullImages", () => {
  const text = `${pod("image: nginx:1.25\nimagePullPolicy: Never")}---
${deployment("image: nginx:1.25\nimagePullPolicy: Never")}---
kind: PodTemplate
metadata: {name: t}
template:
  spec:
    containers: [{name: c, image: "x:1"}]
`;

  it("forces Always on every container of Pods only", () => {
    const r = inspect(text, { alwaysPullImages: true });
    const byKind = Object.fromEntries(r.containers.map((c) => [c.kind, c]));
    assert.equal(byKind.Pod?.storedPolicy, "Always");
    assert.deepEqual(byKind.Pod?.admission, {
      plugin: "AlwaysPullImages",
      changed: true,
      from: "Never",
      to: "Always",
    });
    assert.equal(byKind.Pod?.effectivePolicy, "Never");
    assert.equal(byKind.Deployment?.storedPolicy, "Never");
    assert.equal(byKind.Deployment?.admission, null);
    assert.equal(byKind.PodTemplate?.storedPolicy, "IfNotPresent");
    assert.equal(byKind.PodTemplate?.admission, null);
    assert.equal(r.summary.admittedPods, 1);
    assert.ok(r.notes.some((n) => /only handles core pods/.test(n)));
  });

  it("does nothing without the option", () => {
    const r = inspect(text);
    assert.equal(r.containers[0]?.storedPolicy, "Never");
    assert.equal(r.containers[0]?.admission, null);
    assert.equal(r.summary.admittedPods, 0);
    assert.ok(!r.notes.some((n) => /AlwaysPullImages/.test(n)));
  });

  it("covers init, regular and ephemeral containers; already Always is not a change", () => {
    const r = inspect(
      `kind: Pod
metadata: {name: p}
spec:
  initContainers: [{name: i, image: "i:1"}]
  containers: [{name: c, image: "c", imagePullPolicy: Always}]
  ephemeralContainers: [{name: e, image: "e:1", imagePullPolicy: IfNotPresent}]
`,
      { alwaysPullImages: true },
    );
    assert.deepEqual(
      r.containers.map((c) => [c.fieldPath, c.storedPolicy, c.admission?.changed, c.changed]),
      [
        ["spec.initContainers[0]", "Always", true, true],
        ["spec.containers[0]", "Always", false, false],
        ["spec.ephemeralContainers[0]", "Always", true, true],
      ],
    );
  });

  it("admits Pods inside a List", () => {
    const r = inspect(
      `kind: List\nitems:\n- kind: Pod\n  metadata: {name: a}\n  spec: {containers: [{name: c, image: "a:1"}]}\n`,
      { alwaysPullImages: true },
    );
    assert.equal(r.containers[0]?.storedPolicy, "Always");
  });

  it("an unsupported policy is overwritten by admission, then validates", () => {
    const r = inspect(pod("image: a:1\nimagePullPolicy: Sometimes"), { alwaysPullImages: true });
    const c = only(r);
    assert.equal(c.effectivePolicy, null);
    assert.equal(c.storedPolicy, "Always");
    assert.deepEqual(c.errors, []);
  });
});

describe("inspect: validation", () => {
  it("image Required, with the Kubernetes field path", () => {
    const r = inspect(deployment('image: ""'));
    assert.deepEqual(
      only(r).errors.map((e) => e.message),
      ["spec.template.spec.containers[0].image: Required value"],
    );
    assert.equal(r.summary.errors, 1);
  });

  it("whitespace around the image: rejected in Pods, accepted in templates", () => {
    const p = only(inspect(pod('image: " nginx:1"')));
    assert.deepEqual(
      p.errors.map((e) => e.message),
      [
        'spec.containers[0].image: Invalid value: " nginx:1": must not have leading or trailing whitespace',
      ],
    );
    const d = only(inspect(deployment('image: " nginx:1"')));
    assert.deepEqual(d.errors, []);
  });

  it("unsupported imagePullPolicy", () => {
    const c = only(inspect(pod("image: a:1\nimagePullPolicy: Sometimes")));
    assert.deepEqual(
      c.errors.map((e) => e.message),
      [
        'spec.containers[0].imagePullPolicy: Unsupported value: "Sometimes": supported values: "Always", "IfNotPresent", "Never"',
      ],
    );
    assert.equal(c.effectivePolicy, null);
    assert.equal(c.storedPolicy, null);
    assert.equal(c.kubelet, null);
    assert.equal(c.changed, false);
  });

  it("YAML 1.1 booleans where strings belong are errors with a hint", () => {
    const text = `kind: Pod
metadata: {name: p}
spec:
  containers:
  - name: on
    image: a:1
    imagePullPolicy: yes
`;
    const c = only(inspect(text));
    assert.equal(c.declaredPolicy, true);
    assert.equal(c.containerName, null);
    assert.equal(c.effectivePolicy, null);
    assert.equal(c.rule, "not-a-string");
    assert.match(c.reason, /YAML 1\.1/);
    assert.deepEqual(
      c.errors.map((e) => e.field),
      ["spec.containers[0].name", "spec.containers[0].imagePullPolicy"],
    );
  });

  it("a non-string policy is not rescued by admission", () => {
    const c = only(inspect(pod("image: a:1\nimagePullPolicy: on"), { alwaysPullImages: true }));
    assert.equal(c.storedPolicy, null);
    assert.equal(c.admission, null);
    assert.equal(c.errors.length, 1);
  });

  it("a map where the image belongs is an error, not a crash", () => {
    const c = only(inspect(pod("image: {a: 1}")));
    assert.equal(c.image, null);
    assert.deepEqual(
      c.errors.map((e) => e.message),
      ['spec.containers[0].image: Invalid value: {"a":1}: must be a string'],
    );
  });

  it("object level: containers Required, ephemeral containers forbidden", () => {
    const r = inspect(`kind: Pod
metadata: {name: p}
spec:
  ephemeralContainers: [{name: e, image: "e:1"}]
---
kind: Deployment
metadata: {name: d}
spec:
  template:
    spec:
      containers: [{name: c, image: "c:1"}]
      ephemeralContainers: [{name: e, image: "e:1"}]
---
kind: Job
metadata: {name: j}
`);
    assert.deepEqual(
      r.problems.map((p) => [p.code, p.kind, p.line, p.message]),
      [
        ["VALIDATION", "Pod", 1, "spec.containers: Required value"],
        ["VALIDATION", "Pod", 1, "spec.ephemeralContainers: Forbidden: cannot be set on create"],
        [
          "VALIDATION",
          "Deployment",
          6,
          "spec.template.spec.ephemeralContainers: Forbidden: ephemeral containers not allowed in pod template",
        ],
        ["VALIDATION", "Job", 14, "spec.template.spec.containers: Required value"],
      ],
    );
    assert.equal(r.summary.errors, 4);
  });
});

describe("inspect: kubelet and lint", () => {
  it("IfNotPresent: use the local image when present, pull when absent (kubelet's words)", () => {
    const c = only(inspect(pod("image: nginx:1.25")));
    assert.equal(c.kubelet?.imagePresent.action, "use-local");
    assert.equal(
      c.kubelet?.imagePresent.event.message,
      'Container image "nginx:1.25" already present on machine and can be accessed by the pod',
    );
    assert.equal(c.kubelet?.imageAbsent.action, "pull");
    assert.equal(c.kubelet?.imageAbsent.event.message, 'Pulling image "nginx:1.25"');
  });

  it("gate off: the older 'already present on machine' wording", () => {
    const c = only(inspect(pod("image: nginx:1.25"), { ensureSecretPulledImages: false }));
    assert.equal(
      c.kubelet?.imagePresent.event.message,
      'Container image "nginx:1.25" already present on machine',
    );
  });

  it("Never: ErrImageNeverPull when absent; Always: pull either way", () => {
    const n = only(inspect(pod("image: a:1\nimagePullPolicy: Never")));
    assert.equal(n.kubelet?.imagePresent.action, "use-local");
    assert.equal(n.kubelet?.imageAbsent.action, "ErrImageNeverPull");
    assert.equal(
      n.kubelet?.imageAbsent.event.message,
      'Container image "a:1" is not present with pull policy of Never',
    );
    const a = only(inspect(pod("image: a")));
    assert.equal(a.kubelet?.imagePresent.action, "pull");
    assert.equal(a.kubelet?.imageAbsent.action, "pull");
  });

  it("the kubelet follows the admitted policy", () => {
    const c = only(inspect(pod("image: a:1\nimagePullPolicy: Never"), { alwaysPullImages: true }));
    assert.equal(c.kubelet?.imageAbsent.action, "pull");
  });

  it("lint findings come from the stored policy; none for an empty image", () => {
    const latest = only(inspect(pod("image: nginx")));
    assert.deepEqual(
      latest.findings.map((f) => f.code),
      ["latest-tag"],
    );
    const never = only(inspect(pod("image: a:1\nimagePullPolicy: Never")));
    assert.ok(never.findings.some((f) => f.code === "never-policy"));
    const empty = only(inspect(pod('image: ""')));
    assert.deepEqual(empty.findings, []);
  });

  it("an invalid image is an error finding and counts as an error", () => {
    const r = inspect(pod("image: Nginx:1"));
    assert.deepEqual(
      only(r).findings.map((f) => [f.code, f.severity]),
      [["invalid-image", "error"]],
    );
    assert.equal(only(r).kubelet?.imageAbsent.action, "InvalidImageName");
    assert.equal(r.summary.errors, 1);
  });

  it("digestAlgorithms narrows accepted digests", () => {
    const image = `a@sha512:${"b".repeat(128)}`;
    assert.equal(only(inspect(pod(`image: "${image}"`))).rule, "digest-only");
    const narrowed = only(inspect(pod(`image: "${image}"`), { digestAlgorithms: ["sha256"] }));
    assert.equal(narrowed.rule, "unparsable");
  });
});

describe("inspect: summary", () => {
  it("counts containers, errors, warnings, skipped and changes", () => {
    const r = inspect(`${pod("image: nginx")}---
${deployment('image: ""')}---
kind: Service
metadata: {name: s}
`);
    assert.deepEqual(r.summary, {
      files: 1,
      documents: 3,
      objects: 3,
      containers: 2,
      errors: 1,
      warnings: 1,
      infos: 0,
      skipped: 1,
      changed: 2,
      admittedPods: 0,
    });
  });

  it("has the documented, JSON-serialisable shape", () => {
    const r = inspect(pod("image: nginx"));
    const back = JSON.parse(JSON.stringify(r)) as ManifestReport;
    assert.deepEqual(Object.keys(back).sort(), [
      "containers",
      "notes",
      "problems",
      "skipped",
      "summary",
    ]);
    assert.deepEqual(Object.keys(back.containers[0] ?? {}), [
      "kind",
      "kindImplied",
      "apiVersion",
      "name",
      "generateName",
      "namespace",
      "namespaceImplied",
      "itemPath",
      "source",
      "line",
      "column",
      "objectLine",
      "fieldPath",
      "containerType",
      "containerName",
      "image",
      "declaredPolicy",
      "effectivePolicy",
      "defaulted",
      "rule",
      "reason",
      "admission",
      "storedPolicy",
      "changed",
      "kubelet",
      "errors",
      "findings",
    ]);
    assert.deepEqual(Object.keys(back.containers[0]?.kubelet?.imagePresent ?? {}), [
      "action",
      "criImage",
      "event",
    ]);
  });
});

describe("AlwaysPullImages and what reaches the node", () => {
  const dep = [
    "apiVersion: apps/v1",
    "kind: Deployment",
    "metadata: {name: web}",
    "spec:",
    "  template:",
    "    spec:",
    "      containers:",
    "      - name: web",
    "        image: nginx:1.25",
    "",
  ].join("\n");

  it("a workload's Pods are forced to Always on the node, its template is left as written", () => {
    const off = inspect(dep).containers[0];
    assert.equal(off?.kubelet?.imagePresent.action, "use-local");
    const on = inspect(dep, { alwaysPullImages: true }).containers[0];
    assert.equal(on?.storedPolicy, "IfNotPresent");
    assert.equal(on?.kubelet?.imagePresent.action, "pull");
    assert.equal(on?.kubelet?.imageAbsent.action, "pull");
  });
});

describe("ephemeral containers (as kube-apiserver 1.37 answers a create)", () => {
  it("in a template they get the Pod-only checks too (validateContainerOnlyForPod)", () => {
    const r = inspect(`apiVersion: apps/v1
kind: Deployment
metadata: {name: d}
spec:
  selector: {matchLabels: {app: d}}
  template:
    metadata: {labels: {app: d}}
    spec:
      containers: [{name: c, image: " nginx:1.25"}]
      ephemeralContainers: [{name: d0, image: " busybox:1.36"}]
`);
    assert.deepEqual(
      r.containers.flatMap((c) => c.errors.map((e) => e.message)),
      [
        'spec.template.spec.ephemeralContainers[0].image: Invalid value: " busybox:1.36": must not have leading or trailing whitespace',
      ],
    );
  });
});
