// Tests for src/manifest/write-back.ts and edit-plan.ts: `toYaml` splices the stored policy into
// the original text (comments, layout, quoting, line endings kept), `applyToDocuments` makes
// the same change in the Document trees.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseAllDocuments } from "yaml";
import {
  applyToDocuments,
  type InspectOptions,
  inspectManifests,
  loadManifests,
  type ManifestFile,
  toYaml,
} from "../../src/manifest/index.ts";

function render(text: string, opts?: InspectOptions, source = "m.yaml"): string {
  const f = loadManifests(text, source);
  return toYaml([f], inspectManifests([f], opts));
}

/** The YAML 1.1 data of a stream, empty documents dropped. */
function data(text: string): unknown[] {
  const docs = parseAllDocuments(text, { version: "1.1" });
  return (Array.isArray(docs) ? docs : [])
    .map((d) => d.toJS({ maxAliasCount: -1 }) as unknown)
    .filter((x) => x !== null);
}

describe("toYaml", () => {
  it("inserts imagePullPolicy after image, keeping comments and layout byte for byte", () => {
    const text = `# web tier
apiVersion: apps/v1   # keep this spacing
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      containers:
      - name: web
        image: nginx    # floating tag!

        ports:
        - containerPort: 80
      - {name: side, image: "envoy:v1"}   # flow
`;
    assert.equal(
      render(text),
      `# web tier
apiVersion: apps/v1   # keep this spacing
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      containers:
      - name: web
        image: nginx    # floating tag!
        imagePullPolicy: Always

        ports:
        - containerPort: 80
      - {name: side, image: "envoy:v1", imagePullPolicy: IfNotPresent}   # flow
`,
    );
  });

  it("leaves a fully specified manifest untouched", () => {
    const text =
      "kind: Pod # x\nspec:\n  containers:\n  - {name: a, image: a, imagePullPolicy: Never}\n";
    assert.equal(render(text), text);
  });

  it("replaces an empty or null value in place, keeping its quoting", () => {
    const text = `kind: Pod
spec:
  containers:
  - name: a
    image: nginx
    imagePullPolicy: ""   # empty
  - name: b
    image: nginx:1
    imagePullPolicy:
  - name: c
    image: nginx:1
    imagePullPolicy: ~
`;
    assert.equal(
      render(text),
      `kind: Pod
spec:
  containers:
  - name: a
    image: nginx
    imagePullPolicy: "Always"   # empty
  - name: b
    image: nginx:1
    imagePullPolicy: IfNotPresent
  - name: c
    image: nginx:1
    imagePullPolicy: IfNotPresent
`,
    );
  });

  it("writes AlwaysPullImages into Pods only", () => {
    const text = `kind: Pod
metadata: {name: p}
spec:
  containers:
  - name: a
    image: nginx:1
    imagePullPolicy: 'Never'
  - name: b
    image: nginx:1
---
kind: Deployment
metadata: {name: d}
spec:
  template:
    spec:
      containers:
      - name: a
        image: nginx:1
        imagePullPolicy: Never
`;
    assert.equal(
      render(text, { alwaysPullImages: true }),
      `kind: Pod
metadata: {name: p}
spec:
  containers:
  - name: a
    image: nginx:1
    imagePullPolicy: 'Always'
  - name: b
    image: nginx:1
    imagePullPolicy: Always
---
kind: Deployment
metadata: {name: d}
spec:
  template:
    spec:
      containers:
      - name: a
        image: nginx:1
        imagePullPolicy: Never
`,
    );
  });

  it("keeps CRLF line endings", () => {
    const text = "kind: Pod\r\nspec:\r\n  containers:\r\n  - name: a\r\n    image: nginx\r\n";
    assert.equal(
      render(text),
      "kind: Pod\r\nspec:\r\n  containers:\r\n  - name: a\r\n    image: nginx\r\n    imagePullPolicy: Always\r\n",
    );
  });

  it("handles block scalars, a last line without newline, and containers without image", () => {
    const text = `kind: Pod
spec:
  containers:
  - image: >-
      nginx:1
    name: a
  - ports: [{containerPort: 1}]
  - name: c
    image: nginx`;
    assert.equal(
      render(text),
      `kind: Pod
spec:
  containers:
  - image: >-
      nginx:1
    imagePullPolicy: IfNotPresent
    name: a
  - imagePullPolicy: IfNotPresent
    ports: [{containerPort: 1}]
  - name: c
    image: nginx
    imagePullPolicy: Always
`,
    );
  });

  it("overrides a policy inherited through << with an own key, and writes an aliased container once", () => {
    const text = `kind: Pod
spec:
  containers:
  - &base
    name: a
    image: redis:7
  - <<: *base
    name: b
  - *base
`;
    const out = render(text);
    assert.equal(
      out,
      `kind: Pod
spec:
  containers:
  - &base
    name: a
    image: redis:7
    imagePullPolicy: IfNotPresent
  - <<: *base
    name: b
    imagePullPolicy: IfNotPresent
  - *base
`,
    );
  });

  it("keeps JSON input JSON: quoted key and value, pretty objects get their own line", () => {
    const text = `{
  "kind": "Pod",
  "spec": {
    "containers": [
      {
        "name": "a",
        "image": "nginx",
        "ports": []
      },
      {"name": "b", "image": "nginx:1"},
      {"name": "c", "image": "nginx:1", "imagePullPolicy": null},
      {}
    ]
  }
}
`;
    const out = render(text, {}, "pod.json");
    assert.equal(
      out,
      `{
  "kind": "Pod",
  "spec": {
    "containers": [
      {
        "name": "a",
        "image": "nginx",
        "imagePullPolicy": "Always",
        "ports": []
      },
      {"name": "b", "image": "nginx:1", "imagePullPolicy": "IfNotPresent"},
      {"name": "c", "image": "nginx:1", "imagePullPolicy": "IfNotPresent"},
      {"imagePullPolicy": "IfNotPresent"}
    ]
  }
}
`,
    );
    assert.doesNotThrow(() => JSON.parse(out));
  });

  it("joins several files with ---", () => {
    const a = loadManifests("kind: Pod\nspec: {containers: [{name: a, image: a}]}", "a.yaml");
    const b = loadManifests("---\nkind: Service\n", "b.yaml");
    const c = loadManifests('{"kind": "Pod", "spec": {"containers": []}}', "c.json");
    const files: ManifestFile[] = [a, b, c];
    const out = toYaml(files, inspectManifests(files));
    assert.equal(
      out,
      'kind: Pod\nspec: {containers: [{name: a, image: a, imagePullPolicy: Always}]}\n---\nkind: Service\n---\n{"kind": "Pod", "spec": {"containers": []}}\n',
    );
    assert.equal(data(out).length, 3);
  });

  it("re-parses to the same data as the Documents after applyToDocuments", () => {
    const text = `kind: List
items:
- kind: Pod
  metadata: {name: a}
  spec:
    initContainers: [{name: i, image: "busybox"}]
    containers:
    - name: c   # c
      image: "nginx:1"
    - name: d
      'image': 'x'
      imagePullPolicy: ""
- kind: CronJob
  metadata: {name: cj}
  spec:
    jobTemplate:
      spec:
        template:
          spec:
            containers:
            - name: c
              image: |
                busybox
`;
    for (const alwaysPullImages of [false, true]) {
      const f = loadManifests(text, "l.yaml");
      const report = inspectManifests([f], { alwaysPullImages });
      const out = toYaml([f], report);
      applyToDocuments(report);
      applyToDocuments(report); // idempotent
      assert.deepEqual(
        data(out),
        f.documents.map((d) => d.document.toJS()),
      );
      // Every container now has a policy in both renderings.
      const check = inspectManifests([loadManifests(out, "again.yaml")], { alwaysPullImages });
      assert.ok(check.containers.every((c) => !c.changed));
    }
  });

  it("applyToDocuments puts the new key next to image", () => {
    const f = loadManifests(
      "kind: Pod\nspec:\n  containers:\n  - name: a\n    image: nginx\n    ports: []\n",
      "p.yaml",
    );
    applyToDocuments(inspectManifests([f]));
    assert.equal(
      f.documents[0]?.document.toString(),
      "kind: Pod\nspec:\n  containers:\n    - name: a\n      image: nginx\n      imagePullPolicy: Always\n      ports: []\n",
    );
  });
});
