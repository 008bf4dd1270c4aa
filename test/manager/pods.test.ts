// podsFromObjects(): defaulting, validation, ServiceAccount and AlwaysPullImages admission of the
// pods `kimg run` gives the image manager.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { podsFromObjects } from "../../src/manager/pods.ts";

const deployment = (containers: unknown[], extra: Record<string, unknown> = {}) => ({
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name: "web", namespace: "shop" },
  spec: { template: { spec: { containers, ...extra } } },
});

describe("podsFromObjects", () => {
  it("a Deployment's template becomes one pod, pull policies defaulted per image", () => {
    const r = podsFromObjects([
      {
        value: deployment([
          { name: "a", image: "nginx" },
          { name: "b", image: "nginx:1.25" },
          { name: "c", image: "nginx:1.25", imagePullPolicy: "Never" },
        ]),
        where: "d.yaml:1",
      },
    ]);
    assert.equal(r.pods.length, 1);
    const p = r.pods[0];
    assert.equal(p?.namespace, "shop");
    assert.equal(p?.name, "web");
    assert.equal(p?.origin, "Deployment/web (d.yaml:1)");
    assert.deepEqual(
      p?.containers.map((c) => [c.name, c.imagePullPolicy, c.fieldPath]),
      [
        ["a", "Always", "spec.containers[0]"],
        ["b", "IfNotPresent", "spec.containers[1]"],
        ["c", "Never", "spec.containers[2]"],
      ],
    );
    assert.equal(p?.serviceAccountName, "default");
    assert.match(p?.uid ?? "", /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    // Stable: the same object gives the same uid (back-off is per pod UID).
    assert.equal(
      podsFromObjects([{ value: deployment([{ name: "a", image: "x" }]) }]).pods[0]?.uid,
      p?.uid,
    );
  });

  it("a Pod keeps its metadata.uid; namespace defaults; init containers listed apart", () => {
    const r = podsFromObjects([
      {
        value: {
          apiVersion: "v1",
          kind: "Pod",
          metadata: { name: "p", uid: "1111" },
          spec: {
            initContainers: [{ name: "init", image: "busybox:1.36" }],
            containers: [{ name: "app", image: `app@sha256:${"a".repeat(64)}` }],
          },
        },
      },
    ]);
    const p = r.pods[0];
    assert.equal(p?.uid, "1111");
    assert.equal(p?.namespace, "default");
    assert.deepEqual(
      p?.initContainers.map((c) => c.imagePullPolicy),
      ["IfNotPresent"],
    );
    assert.deepEqual(
      p?.containers.map((c) => c.imagePullPolicy),
      ["IfNotPresent"],
    );
  });

  it("ServiceAccount admission: the SA's secrets only when the pod lists none (never merged)", () => {
    const sa = {
      apiVersion: "v1",
      kind: "ServiceAccount",
      metadata: { name: "builder", namespace: "shop" },
      imagePullSecrets: [{ name: "sa-cred" }],
    };
    const none = podsFromObjects([
      { value: sa },
      { value: deployment([{ name: "a", image: "x:1" }], { serviceAccountName: "builder" }) },
    ]).pods[0];
    assert.deepEqual(none?.imagePullSecrets, ["sa-cred"]);
    assert.equal(none?.secretsFromServiceAccount, true);
    const own = podsFromObjects([
      { value: sa },
      {
        value: deployment([{ name: "a", image: "x:1" }], {
          serviceAccountName: "builder",
          imagePullSecrets: [{ name: "mine" }],
        }),
      },
    ]).pods[0];
    assert.deepEqual(own?.imagePullSecrets, ["mine"]);
    assert.equal(own?.secretsFromServiceAccount, false);
  });

  it("a named ServiceAccount that does not exist: the pod is rejected as admission would", () => {
    const r = podsFromObjects([
      { value: deployment([{ name: "a", image: "x:1" }], { serviceAccountName: "ghost" }) },
    ]);
    assert.equal(r.pods.length, 0);
    assert.equal(
      r.rejected[0]?.message,
      'pods "web" is forbidden: error looking up service account shop/ghost: serviceaccount "ghost" not found',
    );
  });

  it("AlwaysPullImages: every policy becomes Always, the changes listed", () => {
    const r = podsFromObjects(
      [
        {
          value: deployment([
            { name: "a", image: "x:1" },
            { name: "b", image: "x", imagePullPolicy: "Always" },
          ]),
        },
      ],
      { alwaysPullImages: true },
    );
    const p = r.pods[0];
    assert.deepEqual(
      p?.containers.map((c) => c.imagePullPolicy),
      ["Always", "Always"],
    );
    assert.deepEqual(p?.admissionChanges, [
      "spec.containers[0].imagePullPolicy: IfNotPresent → Always (AlwaysPullImages)",
    ]);
  });

  it("an empty image: rejected with the API server's validation text", () => {
    const r = podsFromObjects([{ value: deployment([{ name: "a", image: "" }]) }]);
    assert.equal(r.pods.length, 0);
    assert.equal(
      r.rejected[0]?.message,
      'Pod "web" is invalid: spec.containers[0].image: Required value',
    );
  });

  it("Lists are flattened; Secrets get their namespace; other kinds are ignored", () => {
    const r = podsFromObjects([
      {
        value: {
          apiVersion: "v1",
          kind: "List",
          items: [
            { apiVersion: "v1", kind: "Secret", metadata: { name: "s" }, type: "Opaque" },
            { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c" } },
          ],
        },
      },
    ]);
    assert.deepEqual(
      r.secrets.map((s) => [
        s.namespace,
        s.name,
        (s.object.metadata as { namespace: string }).namespace,
      ]),
      [["default", "s", "default"]],
    );
    assert.deepEqual(r.ignored, ["ConfigMap/c"]);
  });
});
