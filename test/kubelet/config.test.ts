// Tests for src/kubelet/config.ts. Validation rows are ported from kubernetes
// pkg/kubelet/apis/config/validation/validation_test.go TestValidateKubeletConfiguration (the
// image fields; exact messages), the imageMaximumGCAge rows follow validation.go; defaulting
// follows pkg/kubelet/apis/config/v1beta1/defaults.go; decoding follows
// pkg/kubelet/kubeletconfig/util/codec/codec.go (unknown fields only warn) and encoding/json's
// type errors.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isKimgError } from "../../src/errors.ts";
import {
  defaultKubeletConfiguration,
  type KubeletConfiguration,
  loadKubeletConfiguration,
} from "../../src/kubelet/index.ts";

const HEAD = { apiVersion: "kubelet.config.k8s.io/v1beta1", kind: "KubeletConfiguration" };

function load(fields: Record<string, unknown>) {
  return loadKubeletConfiguration({ ...HEAD, ...fields });
}

function errorOf(fields: unknown): string {
  try {
    loadKubeletConfiguration(fields);
  } catch (e) {
    assert.ok(isKimgError(e, "INPUT_INVALID"), `not an INPUT_INVALID KimgError: ${e}`);
    return e.message;
  }
  assert.fail("no error");
}

describe("defaults (v1beta1 defaults.go)", () => {
  it("an empty configuration", () => {
    const want: KubeletConfiguration = {
      serializeImagePulls: true,
      maxParallelImagePulls: undefined,
      registryPullQPS: 5,
      registryBurst: 10,
      imageMinimumGCAgeMs: 120_000,
      imageMaximumGCAgeMs: 0,
      imageGCHighThresholdPercent: 85,
      imageGCLowThresholdPercent: 80,
      nodeStatusMaxImages: 50,
      ensureSecretPulledImages: true,
      imagePullCredentialsVerificationPolicy: "NeverVerifyPreloadedImages",
      preloadedImagesVerificationAllowlist: [],
      featureGates: {},
    };
    assert.deepEqual(defaultKubeletConfiguration(), want);
    assert.deepEqual(load({}), { config: want, warnings: [] });
  });

  const cases: [string, Record<string, unknown>, Partial<KubeletConfiguration>][] = [
    [
      "maxParallelImagePulls 1 keeps serial pulls",
      { maxParallelImagePulls: 1 },
      { serializeImagePulls: true, maxParallelImagePulls: 1 },
    ],
    [
      "maxParallelImagePulls 2 turns serial pulls off",
      { maxParallelImagePulls: 2 },
      { serializeImagePulls: false, maxParallelImagePulls: 2 },
    ],
    [
      "explicit serializeImagePulls false without a limit",
      { serializeImagePulls: false },
      { serializeImagePulls: false, maxParallelImagePulls: undefined },
    ],
    [
      "registryPullQPS 0 (no limit) stays 0: a pointer",
      { registryPullQPS: 0 },
      { registryPullQPS: 0 },
    ],
    ["registryPullQPS null is nil → 5", { registryPullQPS: null }, { registryPullQPS: 5 }],
    ["registryBurst 0 becomes 10: not a pointer", { registryBurst: 0 }, { registryBurst: 10 }],
    ["registryBurst 3", { registryBurst: 3 }, { registryBurst: 3 }],
    [
      "imageMinimumGCAge 0s becomes 2m (zero duration)",
      { imageMinimumGCAge: "0s" },
      { imageMinimumGCAgeMs: 120_000 },
    ],
    ["imageMinimumGCAge 30s", { imageMinimumGCAge: "30s" }, { imageMinimumGCAgeMs: 30_000 }],
    ["imageMaximumGCAge has no default", { imageMaximumGCAge: "0s" }, { imageMaximumGCAgeMs: 0 }],
    ["imageMaximumGCAge 1h30m", { imageMaximumGCAge: "1h30m" }, { imageMaximumGCAgeMs: 5_400_000 }],
    [
      "explicit thresholds are kept, 0 included (pointers)",
      { imageGCHighThresholdPercent: 100, imageGCLowThresholdPercent: 0 },
      { imageGCHighThresholdPercent: 100, imageGCLowThresholdPercent: 0 },
    ],
    ["nodeStatusMaxImages -1", { nodeStatusMaxImages: -1 }, { nodeStatusMaxImages: -1 }],
    [
      "gate off: no policy default",
      { featureGates: { KubeletEnsureSecretPulledImages: false } },
      { ensureSecretPulledImages: false, imagePullCredentialsVerificationPolicy: undefined },
    ],
    [
      "explicit policy",
      { imagePullCredentialsVerificationPolicy: "AlwaysVerify" },
      { imagePullCredentialsVerificationPolicy: "AlwaysVerify" },
    ],
    [
      "allowlist with NeverVerifyAllowlistedImages",
      {
        imagePullCredentialsVerificationPolicy: "NeverVerifyAllowlistedImages",
        preloadedImagesVerificationAllowlist: ["registry.k8s.io/pause", "docker.io/library/*"],
      },
      { preloadedImagesVerificationAllowlist: ["registry.k8s.io/pause", "docker.io/library/*"] },
    ],
  ];
  for (const [name, fields, want] of cases) {
    it(name, () => {
      const { config } = load(fields);
      for (const [k, v] of Object.entries(want)) {
        assert.deepEqual(config[k as keyof KubeletConfiguration], v, k);
      }
    });
  }
});

describe("validation (validation_test.go TestValidateKubeletConfiguration, image rows)", () => {
  const cases: [string, Record<string, unknown>, string][] = [
    [
      "invalid ImageGCHighThresholdPercent",
      { imageGCHighThresholdPercent: 101 },
      "invalid configuration: imageGCHighThresholdPercent (--image-gc-high-threshold) 101 must be between 0 and 100, inclusive",
    ],
    [
      "invalid ImageGCLowThresholdPercent",
      { imageGCLowThresholdPercent: -1 },
      "invalid configuration: imageGCLowThresholdPercent (--image-gc-low-threshold) -1 must be between 0 and 100, inclusive",
    ],
    [
      "ImageGCLowThresholdPercent is equal to ImageGCHighThresholdPercent",
      { imageGCHighThresholdPercent: 0, imageGCLowThresholdPercent: 0 },
      "invalid configuration: imageGCLowThresholdPercent (--image-gc-low-threshold) 0 must be less than imageGCHighThresholdPercent (--image-gc-high-threshold) 0",
    ],
    [
      "ImageGCLowThresholdPercent is greater than ImageGCHighThresholdPercent",
      { imageGCHighThresholdPercent: 0, imageGCLowThresholdPercent: 1 },
      "invalid configuration: imageGCLowThresholdPercent (--image-gc-low-threshold) 1 must be less than imageGCHighThresholdPercent (--image-gc-high-threshold) 0",
    ],
    [
      "invalid NodeStatusMaxImages",
      { nodeStatusMaxImages: -2 },
      "invalid configuration: nodeStatusMaxImages (--node-status-max-images) -2 must be -1 or greater",
    ],
    [
      "invalid RegistryBurst",
      { registryBurst: -1 },
      "invalid configuration: registryBurst (--registry-burst) -1 must not be a negative number",
    ],
    [
      "invalid RegistryPullQPS",
      { registryPullQPS: -1 },
      "invalid configuration: registryPullQPS (--registry-qps) -1 must not be a negative number",
    ],
    [
      "invalid MaxParallelImagePulls",
      { maxParallelImagePulls: 0 },
      "invalid configuration: maxParallelImagePulls 0 must be a positive number",
    ],
    [
      "invalid MaxParallelImagePulls and SerializeImagePulls combination",
      { maxParallelImagePulls: 3, serializeImagePulls: true },
      "invalid configuration: maxParallelImagePulls cannot be larger than 1 unless SerializeImagePulls (--serialize-image-pulls) is set to false",
    ],
    [
      "negative imageMaximumGCAge",
      { imageMaximumGCAge: "-1m" },
      "invalid configuration: imageMaximumGCAge -1m0s must not be negative",
    ],
    [
      "imageMaximumGCAge not above imageMinimumGCAge",
      { imageMaximumGCAge: "1m", imageMinimumGCAge: "2m" },
      "invalid configuration: imageMaximumGCAge 1m0s must be greater than imageMinimumGCAge 2m0s",
    ],
    [
      "imageMaximumGCAge equal to the defaulted minimum",
      { imageMaximumGCAge: "120s" },
      "invalid configuration: imageMaximumGCAge 2m0s must be greater than imageMinimumGCAge 2m0s",
    ],
    [
      "several errors are aggregated in order",
      { imageGCHighThresholdPercent: 101, registryBurst: -1 },
      "[invalid configuration: imageGCHighThresholdPercent (--image-gc-high-threshold) 101 must be between 0 and 100, inclusive, invalid configuration: registryBurst (--registry-burst) -1 must not be a negative number]",
    ],
    [
      "unknown verification policy (gate on)",
      { imagePullCredentialsVerificationPolicy: "Sometimes" },
      'invalid configuration: option "Sometimes" specified for imagePullCredentialsVerificationPolicy. Valid options are "NeverVerify", "NeverVerifyPreloadedImages", "NeverVerifyAllowlistedImages" or "AlwaysVerify"',
    ],
    [
      "allowlist without NeverVerifyAllowlistedImages",
      { preloadedImagesVerificationAllowlist: ["docker.io/*"] },
      'invalid configuration: can\'t set `preloadedImagesVerificationAllowlist` if `imagePullCredentialsVertificationPolicy` is not "NeverVerifyAllowlistedImages"',
    ],
    [
      "invalid allowlist pattern",
      {
        imagePullCredentialsVerificationPolicy: "NeverVerifyAllowlistedImages",
        preloadedImagesVerificationAllowlist: ["repo/pre*"],
      },
      "invalid configuration: invalid image pattern in `preloadedImagesVerificationAllowlist`: not a valid wildcard pattern, only patterns ending with '/*' are allowed: repo/pre*",
    ],
    [
      "policy set with the gate off (kubelet 1.34 text)",
      {
        featureGates: { KubeletEnsureSecretPulledImages: false },
        imagePullCredentialsVerificationPolicy: "NeverVerifyPreloadedImages",
      },
      "invalid configuration: `imagePullCredentialsVerificationPolicy` must not be set if KubeletEnsureSecretPulledImages feature gate is not enabled",
    ],
    [
      "allowlist set with the gate off",
      {
        featureGates: { KubeletEnsureSecretPulledImages: false },
        preloadedImagesVerificationAllowlist: ["docker.io/*"],
      },
      "invalid configuration: `preloadedImagesVerificationAllowlist` must not be set if KubeletEnsureSecretPulledImages feature gate is not enabled",
    ],
    [
      "ImageMaximumGCAge is locked on in 1.35",
      { featureGates: { ImageMaximumGCAge: false } },
      "cannot set feature gate ImageMaximumGCAge to false, feature is locked to true",
    ],
  ];
  for (const [name, fields, msg] of cases) {
    it(name, () => assert.equal(errorOf({ ...HEAD, ...fields }), msg));
  }

  const valid: [string, Record<string, unknown>][] = [
    [
      "valid MaxParallelImagePulls and SerializeImagePulls combination",
      { maxParallelImagePulls: 1, serializeImagePulls: true },
    ],
    ["parallel pulls", { maxParallelImagePulls: 5, serializeImagePulls: false }],
    ["high 100 low 99", { imageGCHighThresholdPercent: 100, imageGCLowThresholdPercent: 99 }],
    ["maximum age above minimum", { imageMaximumGCAge: "2m0.001s" }],
    ["nodeStatusMaxImages -1", { nodeStatusMaxImages: -1 }],
  ];
  for (const [name, fields] of valid) it(name, () => assert.doesNotThrow(() => load(fields)));
});

describe("decoding", () => {
  it("kind and apiVersion are required", () => {
    assert.match(
      errorOf({ apiVersion: HEAD.apiVersion }),
      /^failed to decode: Object 'Kind' is missing/,
    );
    assert.match(
      errorOf({ kind: "KubeletConfiguration" }),
      /^failed to decode: Object 'apiVersion' is missing/,
    );
    assert.match(
      errorOf({ kind: "KubeletConfiguration", apiVersion: "kubelet.config.k8s.io/v1" }),
      /^failed to decode: no kind "KubeletConfiguration" is registered for version "kubelet.config.k8s.io\/v1"/,
    );
    assert.match(
      errorOf({ kind: "CredentialProviderConfig", apiVersion: HEAD.apiVersion }),
      /^failed to decode: no kind "CredentialProviderConfig" is registered/,
    );
    assert.match(errorOf([]), /^failed to decode: /);
    assert.match(errorOf(null), /^failed to decode: /);
  });

  const typeErrors: [string, Record<string, unknown>, string][] = [
    [
      "string for an int32",
      { registryPullQPS: "5" },
      "failed to decode: json: cannot unmarshal string into Go struct field KubeletConfiguration.registryPullQPS of type int32",
    ],
    [
      "fraction for an int32",
      { registryBurst: 1.5 },
      "failed to decode: json: cannot unmarshal number 1.5 into Go struct field KubeletConfiguration.registryBurst of type int32",
    ],
    [
      "out of int32 range",
      { imageGCHighThresholdPercent: 3_000_000_000 },
      "failed to decode: json: cannot unmarshal number 3000000000 into Go struct field KubeletConfiguration.imageGCHighThresholdPercent of type int32",
    ],
    [
      "string for a bool",
      { serializeImagePulls: "false" },
      "failed to decode: json: cannot unmarshal string into Go struct field KubeletConfiguration.serializeImagePulls of type bool",
    ],
    [
      "number for a duration (metav1.Duration's own unmarshal)",
      { imageMinimumGCAge: 120 },
      "failed to decode: json: cannot unmarshal number into Go value of type string",
    ],
    [
      "bad duration text",
      { imageMinimumGCAge: "2 minutes" },
      'failed to decode: time: unknown unit " minutes" in duration "2 minutes"',
    ],
    ["null duration", { imageMaximumGCAge: null }, 'failed to decode: time: invalid duration ""'],
    [
      "string for a list",
      { preloadedImagesVerificationAllowlist: "docker.io/*" },
      "failed to decode: json: cannot unmarshal string into Go struct field KubeletConfiguration.preloadedImagesVerificationAllowlist of type []string",
    ],
    [
      "number in the list",
      { preloadedImagesVerificationAllowlist: [1] },
      "failed to decode: json: cannot unmarshal number into Go struct field KubeletConfiguration.preloadedImagesVerificationAllowlist of type string",
    ],
    [
      "string feature gate value",
      { featureGates: { KubeletEnsureSecretPulledImages: "false" } },
      "failed to decode: json: cannot unmarshal string into Go struct field KubeletConfiguration.featureGates of type bool",
    ],
    [
      "number for the policy",
      { imagePullCredentialsVerificationPolicy: 1 },
      "failed to decode: json: cannot unmarshal number into Go struct field KubeletConfiguration.imagePullCredentialsVerificationPolicy of type string",
    ],
    [
      "only the first type error is reported",
      { registryBurst: "x", registryPullQPS: "y" },
      "failed to decode: json: cannot unmarshal string into Go struct field KubeletConfiguration.registryBurst of type int32",
    ],
  ];
  for (const [name, fields, msg] of typeErrors) {
    it(name, () => assert.equal(errorOf({ ...HEAD, ...fields }), msg));
  }

  it("unknown fields only warn (lenient decoding), in file order", () => {
    const r = load({ imageGCHighThreshold: 90, registryBurst: 4, foo: { bar: 1 } });
    assert.deepEqual(r.warnings, [
      'strict decoding error: unknown field "imageGCHighThreshold", unknown field "foo"',
    ]);
    assert.equal(r.config.registryBurst, 4);
    assert.equal(r.config.imageGCHighThresholdPercent, 85);
  });

  it("the kubelet's other fields are accepted silently", () => {
    const r = load({
      address: "0.0.0.0",
      authentication: { anonymous: { enabled: false } },
      cgroupDriver: "systemd",
      clusterDNS: ["10.96.0.10"],
      clusterDomain: "cluster.local",
      containerRuntimeEndpoint: "unix:///run/containerd/containerd.sock",
      evictionHard: { "imagefs.available": "15%" },
      rotateCertificates: true,
      staticPodPath: "/etc/kubernetes/manifests",
    });
    assert.deepEqual(r.warnings, []);
  });

  it("feature gates kimg does not model are reported as having no effect", () => {
    const r = load({ featureGates: { KubeletEnsureSecretPulledImages: true, NodeSwap: true } });
    assert.deepEqual(r.warnings, ['feature gate "NodeSwap" has no effect in kimg']);
    assert.deepEqual(r.config.featureGates, {
      KubeletEnsureSecretPulledImages: true,
      NodeSwap: true,
    });
  });

  it("a kubeadm-style file", () => {
    const { config, warnings } = load({
      cgroupDriver: "systemd",
      imageMinimumGCAge: "2m0s",
      imageMaximumGCAge: "168h",
      imageGCHighThresholdPercent: 90,
      imageGCLowThresholdPercent: 70,
      serializeImagePulls: false,
      maxParallelImagePulls: 3,
      registryPullQPS: 0,
      imagePullCredentialsVerificationPolicy: "NeverVerifyAllowlistedImages",
      preloadedImagesVerificationAllowlist: ["registry.k8s.io/*"],
    });
    assert.deepEqual(warnings, []);
    assert.equal(config.imageMaximumGCAgeMs, 168 * 3_600_000);
    assert.equal(config.serializeImagePulls, false);
    assert.equal(config.maxParallelImagePulls, 3);
    assert.equal(config.registryPullQPS, 0);
    assert.equal(config.imagePullCredentialsVerificationPolicy, "NeverVerifyAllowlistedImages");
  });
});
