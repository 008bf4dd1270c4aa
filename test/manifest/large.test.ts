// A generated 10 MB manifest stream through load → inspect → toYaml. Correctness only: no
// timing assertions (the work is linear; the `yaml` parser dominates).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseAllDocuments } from "yaml";
import { inspectManifests, loadManifests, toYaml } from "../../src/manifest/index.ts";
import { kubernetesYamlTags } from "../../src/manifest/load.ts";

const TEN_MB = 10 * 1024 * 1024;

/** Document i of the stream; every fifth is a Pod (admitted), the rest Deployments. */
function doc(i: number): string {
  if (i % 5 === 0) {
    return `# pod ${i}
apiVersion: v1
kind: Pod
metadata:
  name: pod-${i}
spec:
  containers:
  - {name: app, image: "registry.example.com:5000/team/app-${i}:v${i}"}
---
`;
  }
  const tagged = i % 3 !== 0;
  return `# deployment ${i}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web-${i}
  namespace: ns-${i % 7}
spec:
  replicas: 3
  selector:
    matchLabels: {app: web-${i}}
  template:
    metadata:
      labels: {app: web-${i}}
    spec:
      initContainers:
      - name: init
        image: busybox:1.${i % 40}
        imagePullPolicy: IfNotPresent
      containers:
      - name: web
        image: registry.example.com:5000/team/web-${i}${tagged ? `:v${i}` : ""}   # image ${i}
        ports:
        - containerPort: 8080
        env:
        - {name: A, value: "x"}
---
`;
}

describe("a 10 MB manifest stream", () => {
  it("is loaded, inspected and written back completely", () => {
    const parts: string[] = [];
    let size = 0;
    let n = 0;
    while (size < TEN_MB) {
      const d = doc(n++);
      parts.push(d);
      size += d.length;
    }
    const text = parts.join("");
    assert.ok(text.length >= TEN_MB);

    const file = loadManifests(text, "big.yaml");
    assert.equal(file.documents.length, n);

    const report = inspectManifests([file], { alwaysPullImages: true });
    const pods = Math.ceil(n / 5);
    const deployments = n - pods;
    assert.equal(report.containers.length, pods + 2 * deployments);
    assert.equal(report.summary.admittedPods, pods);
    assert.deepEqual(report.problems, []);
    assert.equal(report.summary.errors, 0);

    // Spot checks at both ends of the stream.
    const last = report.containers.at(-1);
    assert.ok(last);
    const lastIndex = n - 1;
    assert.equal(last.name, lastIndex % 5 === 0 ? `pod-${lastIndex}` : `web-${lastIndex}`);
    const lastDoc = parts[lastIndex] ?? "";
    const lastLine = text.slice(0, text.length - lastDoc.length).split("\n").length;
    assert.ok(last.line > lastLine, `${last.line} > ${lastLine}`);
    assert.deepEqual(
      report.containers.slice(0, 4).map((c) => [c.name, c.fieldPath, c.storedPolicy]),
      [
        ["pod-0", "spec.containers[0]", "Always"],
        ["web-1", "spec.template.spec.initContainers[0]", "IfNotPresent"],
        ["web-1", "spec.template.spec.containers[0]", "IfNotPresent"],
        ["web-2", "spec.template.spec.initContainers[0]", "IfNotPresent"],
      ],
    );
    const untagged = report.containers.find((c) => c.name === "web-3" && c.containerName === "web");
    assert.equal(untagged?.storedPolicy, "Always");

    // Write-back: one new line per written-back container; everything else unchanged.
    const out = toYaml([file], report);
    const changed = report.containers.filter((c) => c.changed).length;
    assert.equal(changed, pods + deployments); // init containers already declare a policy
    const inserted = out.split("\n").length - text.split("\n").length;
    assert.equal(inserted, deployments); // Pods are flow maps: same line
    assert.equal(out.match(/imagePullPolicy/g)?.length, pods + 2 * deployments);
    assert.equal(out.match(/^# (pod|deployment) \d+$/gm)?.length, n);
    // The tail re-parses to the stored object.
    const tail = out.slice(out.lastIndexOf("\n# ", out.length - 5) + 1);
    const tailDoc = parseAllDocuments(tail, { version: "1.1", customTags: kubernetesYamlTags });
    assert.ok(Array.isArray(tailDoc));
    const js = tailDoc[0]?.toJS() as { spec: Record<string, unknown> };
    assert.match(JSON.stringify(js.spec), /"imagePullPolicy":"(Always|IfNotPresent)"/);
  });
});
