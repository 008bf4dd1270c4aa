// Tests for src/policy/admission.ts, after plugin/pkg/admission/alwayspullimages/admission_test.go
// (TestAdmission, TestValidate, TestOtherResources, TestUpdatePod) and kubelet.md §4.1.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  type AdmissionRequest,
  admitAlwaysPullImages,
  validateAlwaysPullImages,
} from "../../src/policy/index.ts";

const PODS = { group: "", resource: "pods" } as const;

/** The pod of upstream's TestAdmission / TestValidate. */
function upstreamPod(withVolumes = false) {
  return {
    metadata: { name: "123", namespace: "test" },
    spec: {
      initContainers: [
        { name: "init1", image: "image" },
        { name: "init2", image: "image", imagePullPolicy: "Never" },
        { name: "init3", image: "image", imagePullPolicy: "IfNotPresent" },
        { name: "init4", image: "image", imagePullPolicy: "Always" },
      ],
      containers: [
        { name: "ctr1", image: "image" },
        { name: "ctr2", image: "image", imagePullPolicy: "Never" },
        { name: "ctr3", image: "image", imagePullPolicy: "IfNotPresent" },
        { name: "ctr4", image: "image", imagePullPolicy: "Always" },
      ],
      ...(withVolumes
        ? {
            volumes: [
              { name: "volume1", image: { pullPolicy: "" } },
              { name: "volume2", image: { pullPolicy: "Never" } },
              { name: "volume3", image: { pullPolicy: "IfNotPresent" } },
              { name: "volume4", image: { pullPolicy: "Always" } },
              { name: "volume5", emptyDir: {} },
            ],
          }
        : {}),
    },
  };
}

function create(object: unknown, extra: Partial<AdmissionRequest> = {}): AdmissionRequest {
  return { operation: "CREATE", resource: PODS, object, ...extra };
}

type Json = Record<string, unknown>;
function policies(obj: unknown, list: string): unknown[] {
  const spec = (obj as { spec: Json }).spec;
  return (spec[list] as Json[]).map((c) => c.imagePullPolicy);
}

describe("admitAlwaysPullImages", () => {
  it("sets every init and regular container to Always (TestAdmission)", () => {
    const pod = upstreamPod();
    const before = structuredClone(pod);
    const r = admitAlwaysPullImages(create(pod));
    assert.equal(r.allowed, true);
    assert.equal(r.ignored, null);
    assert.equal(r.status, null);
    assert.deepEqual(policies(r.object, "initContainers"), [
      "Always",
      "Always",
      "Always",
      "Always",
    ]);
    assert.deepEqual(policies(r.object, "containers"), ["Always", "Always", "Always", "Always"]);
    assert.deepEqual(r.changes, [
      { field: "spec.initContainers[0].imagePullPolicy", from: undefined, to: "Always" },
      { field: "spec.initContainers[1].imagePullPolicy", from: "Never", to: "Always" },
      { field: "spec.initContainers[2].imagePullPolicy", from: "IfNotPresent", to: "Always" },
      { field: "spec.containers[0].imagePullPolicy", from: undefined, to: "Always" },
      { field: "spec.containers[1].imagePullPolicy", from: "Never", to: "Always" },
      { field: "spec.containers[2].imagePullPolicy", from: "IfNotPresent", to: "Always" },
    ]);
    assert.equal(r.detail, "set 6 of 8 pull policies to Always");
    assert.deepEqual(pod, before, "the input is not modified");
    assert.notEqual(r.object, pod);
  });

  it("also forces ephemeral containers, after init and regular ones", () => {
    const pod = {
      metadata: { name: "p" },
      spec: {
        containers: [{ name: "c", image: "a", imagePullPolicy: "Never" }],
        ephemeralContainers: [{ name: "debug", image: "busybox", imagePullPolicy: "IfNotPresent" }],
        initContainers: [{ name: "i", image: "b", imagePullPolicy: "Never" }],
      },
    };
    const r = admitAlwaysPullImages(create(pod));
    assert.deepEqual(
      r.changes.map((c) => c.field),
      [
        "spec.initContainers[0].imagePullPolicy",
        "spec.containers[0].imagePullPolicy",
        "spec.ephemeralContainers[0].imagePullPolicy",
      ],
    );
    assert.deepEqual(policies(r.object, "ephemeralContainers"), ["Always"]);
  });

  it("returns the input itself when everything is already Always", () => {
    const pod = { spec: { containers: [{ image: "a", imagePullPolicy: "Always" }] } };
    const r = admitAlwaysPullImages(create(pod));
    assert.equal(r.object, pod);
    assert.deepEqual(r.changes, []);
    assert.equal(r.detail, "every imagePullPolicy is already Always");
    // and admitting twice changes nothing more (reinvocation)
    const again = admitAlwaysPullImages(
      create(admitAlwaysPullImages(create(upstreamPod())).object),
    );
    assert.deepEqual(again.changes, []);
  });

  it("leaves image volumes alone by default", () => {
    const r = admitAlwaysPullImages(create(upstreamPod(true)));
    const volumes = (r.object as { spec: { volumes: Json[] } }).spec.volumes;
    assert.deepEqual(
      volumes.map((v) => (v.image as Json | undefined)?.pullPolicy),
      ["", "Never", "IfNotPresent", "Always", undefined],
    );
    assert.equal(r.changes.length, 6);
  });

  it("forces image volumes with { imageVolumes: true }", () => {
    const r = admitAlwaysPullImages(create(upstreamPod(true)), { imageVolumes: true });
    const volumes = (r.object as { spec: { volumes: Json[] } }).spec.volumes;
    assert.deepEqual(
      volumes.map((v) => (v.image as Json | undefined)?.pullPolicy),
      ["Always", "Always", "Always", "Always", undefined],
    );
    assert.deepEqual(
      r.changes.slice(6).map((c) => [c.field, c.from]),
      [
        ["spec.volumes[0].image.pullPolicy", ""],
        ["spec.volumes[1].image.pullPolicy", "Never"],
        ["spec.volumes[2].image.pullPolicy", "IfNotPresent"],
      ],
    );
  });

  it("skips entries that are not objects", () => {
    const pod = { spec: { containers: ["nginx", { image: "a" }], initContainers: "x" } };
    const r = admitAlwaysPullImages(create(pod));
    assert.deepEqual(r.changes, [
      { field: "spec.containers[1].imagePullPolicy", from: undefined, to: "Always" },
    ]);
  });
});

describe("requests the plugin ignores (TestOtherResources)", () => {
  const pod = {
    metadata: { name: "testname" },
    spec: { containers: [{ image: "image", imagePullPolicy: "Never" }] },
  };
  const cases: readonly (readonly [string, AdmissionRequest, string, string])[] = [
    [
      "non-pod resource",
      { operation: "CREATE", resource: { group: "", resource: "foos" }, object: pod },
      "not-pods",
      "only core pods are forced; other resources are ignored",
    ],
    [
      "deployments",
      { operation: "CREATE", resource: { group: "apps", resource: "deployments" }, object: pod },
      "not-pods",
      "only core pods are forced; other resources are ignored",
    ],
    [
      "pods of another group",
      { operation: "CREATE", resource: { group: "example.com", resource: "pods" }, object: pod },
      "not-pods",
      "only core pods are forced; other resources are ignored",
    ],
    [
      "kind only: a Deployment",
      {
        operation: "CREATE",
        kind: { group: "apps", version: "v1", kind: "Deployment" },
        object: pod,
      },
      "not-pods",
      "only core pods are forced; other resources are ignored",
    ],
    [
      "neither kind nor resource",
      { operation: "CREATE", object: pod },
      "not-pods",
      "only core pods are forced; other resources are ignored",
    ],
    [
      "pod subresource exec",
      { operation: "CREATE", resource: PODS, subResource: "exec", object: pod },
      "subresource",
      "requests to a subresource (pods/exec) are ignored",
    ],
    [
      "ephemeral containers subresource",
      {
        operation: "UPDATE",
        resource: PODS,
        subResource: "ephemeralcontainers",
        object: pod,
        oldObject: pod,
      },
      "subresource",
      "requests to a subresource (pods/ephemeralcontainers) are ignored",
    ],
    [
      "DELETE",
      { operation: "DELETE", resource: PODS, object: pod },
      "operation",
      "AlwaysPullImages only handles CREATE and UPDATE, not DELETE",
    ],
    [
      "CONNECT",
      { operation: "CONNECT", resource: PODS, object: pod },
      "operation",
      "AlwaysPullImages only handles CREATE and UPDATE, not CONNECT",
    ],
  ];
  for (const [name, req, reason, detail] of cases) {
    it(`${name}: admit leaves the pod untouched`, () => {
      const r = admitAlwaysPullImages(req);
      assert.equal(r.ignored, reason);
      assert.equal(r.detail, detail);
      assert.equal(r.allowed, true);
      assert.equal(r.object, pod);
      assert.deepEqual(r.changes, []);
    });
    it(`${name}: validate lets it through`, () => {
      const r = validateAlwaysPullImages(req);
      assert.equal(r.ignored, reason);
      assert.equal(r.allowed, true);
      assert.equal(r.status, null);
    });
  }

  it("handles a request that names only the Pod kind", () => {
    const r = admitAlwaysPullImages({
      operation: "CREATE",
      kind: { group: "", version: "v1", kind: "Pod" },
      object: pod,
    });
    assert.equal(r.ignored, null);
    assert.equal(r.changes.length, 1);
  });

  it("fails with BadRequest on an object that is not a Pod (non-pod object)", () => {
    for (const object of [{ kind: "Service", spec: {} }, "pod", null, [pod]]) {
      for (const fn of [admitAlwaysPullImages, validateAlwaysPullImages]) {
        const r = fn(create(object));
        assert.equal(r.allowed, false);
        assert.deepEqual(r.status, {
          code: 400,
          reason: "BadRequest",
          message: "Resource was marked with kind Pod but was unable to be converted",
        });
      }
    }
  });
});

describe("updates (TestUpdatePod)", () => {
  const oldPod = {
    metadata: { name: "testname" },
    spec: {
      initContainers: [{ name: "i", image: "init", imagePullPolicy: "IfNotPresent" }],
      containers: [
        { name: "a", image: "image", imagePullPolicy: "IfNotPresent" },
        { name: "b", image: "image2", imagePullPolicy: "IfNotPresent" },
      ],
    },
  };
  const update = (object: unknown): AdmissionRequest => ({
    operation: "UPDATE",
    resource: PODS,
    object,
    oldObject: oldPod,
  });
  const withSpec = (spec: Json) => ({
    metadata: { name: "testname", annotations: { test: "test" } },
    spec,
  });

  it("ignores an update that only adds an annotation", () => {
    const pod = withSpec(structuredClone(oldPod.spec));
    const admitted = admitAlwaysPullImages(update(pod));
    assert.equal(admitted.ignored, "no-new-images");
    assert.equal(admitted.detail, "the update references no image the pod did not already use");
    assert.deepEqual(policies(admitted.object, "containers"), ["IfNotPresent", "IfNotPresent"]);
    const validated = validateAlwaysPullImages(update(pod));
    assert.equal(validated.ignored, "no-new-images");
    assert.equal(validated.allowed, true);
  });

  it("compares sets of images across init, regular and ephemeral containers", () => {
    const shuffled = withSpec({
      containers: [
        { name: "a", image: "image2", imagePullPolicy: "IfNotPresent" },
        { name: "b", image: "init", imagePullPolicy: "IfNotPresent" },
      ],
      ephemeralContainers: [{ name: "e", image: "image" }],
    });
    assert.equal(admitAlwaysPullImages(update(shuffled)).ignored, "no-new-images");
    const fewer = withSpec({ containers: [{ name: "a", image: "image" }] });
    assert.equal(admitAlwaysPullImages(update(fewer)).ignored, "no-new-images");
  });

  it("forces Always when the update brings a new image", () => {
    const changed = withSpec({
      initContainers: [{ name: "i", image: "init", imagePullPolicy: "IfNotPresent" }],
      containers: [
        { name: "a", image: "image3", imagePullPolicy: "IfNotPresent" },
        { name: "b", image: "image2", imagePullPolicy: "IfNotPresent" },
      ],
    });
    const r = admitAlwaysPullImages(update(changed));
    assert.equal(r.ignored, null);
    assert.deepEqual(policies(r.object, "initContainers"), ["Always"]);
    assert.deepEqual(policies(r.object, "containers"), ["Always", "Always"]);
    const v = validateAlwaysPullImages(update(changed));
    assert.equal(v.allowed, false);
    assert.equal(v.fieldErrors.length, 3);
  });

  it("counts a new ephemeral container image as new", () => {
    const pod = withSpec({
      ...structuredClone(oldPod.spec),
      ephemeralContainers: [{ name: "d", image: "busybox" }],
    });
    assert.equal(admitAlwaysPullImages(update(pod)).ignored, null);
  });

  it("treats a missing image as the empty string", () => {
    const old = { spec: { containers: [{ name: "a" }] } };
    const next = { spec: { containers: [{ name: "a", image: "" }] } };
    const r = admitAlwaysPullImages({
      operation: "UPDATE",
      resource: PODS,
      object: next,
      oldObject: old,
    });
    assert.equal(r.ignored, "no-new-images");
  });

  it("does not ignore an update without a readable old pod", () => {
    const pod = withSpec(structuredClone(oldPod.spec));
    for (const oldObject of [undefined, { kind: "Service" }]) {
      const r = admitAlwaysPullImages({
        operation: "UPDATE",
        resource: PODS,
        object: pod,
        oldObject,
      });
      assert.equal(r.ignored, null);
      assert.equal(r.changes.length, 3);
    }
  });
});

describe("validateAlwaysPullImages (TestValidate)", () => {
  it("forbids every container that does not pull Always, with upstream's exact text", () => {
    const r = validateAlwaysPullImages(create(upstreamPod(true)));
    assert.equal(r.allowed, false);
    assert.deepEqual(r.status, {
      code: 403,
      reason: "Forbidden",
      message:
        "[" +
        'pods "123" is forbidden: spec.initContainers[0].imagePullPolicy: Unsupported value: "": supported values: "Always", ' +
        'pods "123" is forbidden: spec.initContainers[1].imagePullPolicy: Unsupported value: "Never": supported values: "Always", ' +
        'pods "123" is forbidden: spec.initContainers[2].imagePullPolicy: Unsupported value: "IfNotPresent": supported values: "Always", ' +
        'pods "123" is forbidden: spec.containers[0].imagePullPolicy: Unsupported value: "": supported values: "Always", ' +
        'pods "123" is forbidden: spec.containers[1].imagePullPolicy: Unsupported value: "Never": supported values: "Always", ' +
        'pods "123" is forbidden: spec.containers[2].imagePullPolicy: Unsupported value: "IfNotPresent": supported values: "Always"' +
        "]",
    });
    assert.deepEqual(
      r.fieldErrors.map((e) => [e.type, e.field, e.badValue]),
      [
        ["FieldValueNotSupported", "spec.initContainers[0].imagePullPolicy", ""],
        ["FieldValueNotSupported", "spec.initContainers[1].imagePullPolicy", "Never"],
        ["FieldValueNotSupported", "spec.initContainers[2].imagePullPolicy", "IfNotPresent"],
        ["FieldValueNotSupported", "spec.containers[0].imagePullPolicy", ""],
        ["FieldValueNotSupported", "spec.containers[1].imagePullPolicy", "Never"],
        ["FieldValueNotSupported", "spec.containers[2].imagePullPolicy", "IfNotPresent"],
      ],
    );
  });

  it("checks image volumes after the containers with { imageVolumes: true }", () => {
    const r = validateAlwaysPullImages(create(upstreamPod(true)), { imageVolumes: true });
    const message = r.status?.message ?? "";
    assert.ok(
      message.endsWith(
        'pods "123" is forbidden: spec.containers[2].imagePullPolicy: Unsupported value: "IfNotPresent": supported values: "Always", ' +
          'pods "123" is forbidden: spec.volumes[0].image.pullPolicy: Unsupported value: "": supported values: "Always", ' +
          'pods "123" is forbidden: spec.volumes[1].image.pullPolicy: Unsupported value: "Never": supported values: "Always", ' +
          'pods "123" is forbidden: spec.volumes[2].image.pullPolicy: Unsupported value: "IfNotPresent": supported values: "Always"]',
      ),
      message,
    );
    assert.equal(r.fieldErrors.length, 9);
  });

  it("prints a single error without brackets", () => {
    const pod = {
      metadata: { name: "web" },
      spec: { containers: [{ image: "a", imagePullPolicy: "Never" }] },
    };
    assert.equal(
      validateAlwaysPullImages(create(pod)).status?.message,
      'pods "web" is forbidden: spec.containers[0].imagePullPolicy: Unsupported value: "Never": supported values: "Always"',
    );
  });

  it("names the pod like extractResourceName", () => {
    const spec = { containers: [{ image: "a", imagePullPolicy: "Never" }] };
    const tail =
      ' is forbidden: spec.containers[0].imagePullPolicy: Unsupported value: "Never": supported values: "Always"';
    const table: readonly (readonly [AdmissionRequest, string])[] = [
      [create({ metadata: { name: "meta" }, spec }, { name: "request" }), 'pods "request"'],
      [create({ metadata: { name: "meta", generateName: "gen-" }, spec }), 'pods "meta"'],
      [create({ metadata: { generateName: "gen-" }, spec }), 'pods "gen-"'],
      [create({ spec }), 'pods "Unknown"'],
      [create({ metadata: { name: 'we"ird\n' }, spec }), 'pods "we\\"ird\\n"'],
    ];
    for (const [req, head] of table) {
      assert.equal(validateAlwaysPullImages(req).status?.message, head + tail);
    }
  });

  it("allows a pod whose containers all pull Always", () => {
    const admitted = admitAlwaysPullImages(create(upstreamPod()));
    const r = validateAlwaysPullImages(create(admitted.object));
    assert.equal(r.allowed, true);
    assert.equal(r.status, null);
    assert.deepEqual(r.fieldErrors, []);
    assert.equal(r.detail, "every imagePullPolicy is Always");
  });
});
