// The image-related part of the kubelet's own configuration file (`KubeletConfiguration`,
// `kubelet.config.k8s.io/v1beta1`, kubelet.md §5.5): decoding with Go's type errors, defaulting
// and validation with the kubelet's messages. Pure: the caller reads and parses the file (YAML or
// JSON) and hands over the plain object.
//
// Upstream sources (kubernetes/kubernetes), read for this file:
// - staging/src/k8s.io/kubelet/config/v1beta1/types.go — field names and Go types (serializeImagePulls
//   *bool, maxParallelImagePulls *int32, registryPullQPS *int32, registryBurst int32,
//   imageMinimumGCAge/imageMaximumGCAge metav1.Duration, imageGCHigh/LowThresholdPercent *int32,
//   nodeStatusMaxImages *int32, imagePullCredentialsVerificationPolicy string,
//   preloadedImagesVerificationAllowlist []string, featureGates map[string]bool)
// - pkg/kubelet/apis/config/v1beta1/defaults.go (master) — SetDefaults_KubeletConfiguration:
//   registryPullQPS nil → 5 (explicit 0 = no limit stays), registryBurst 0 → 10,
//   imageMinimumGCAge zero → 2m, high/low nil → 85/80, nodeStatusMaxImages nil → 50,
//   serializeImagePulls nil → true unless maxParallelImagePulls ≥ 2, and
//   imagePullCredentialsVerificationPolicy "" → NeverVerifyPreloadedImages only when
//   KubeletEnsureSecretPulledImages is enabled; imageMaximumGCAge has no default (0 = off)
// - pkg/kubelet/apis/config/validation/validation.go — ValidateKubeletConfiguration: the
//   messages and their order; errors are aggregated (utilerrors.NewAggregate: one → its text,
//   several → `[a, b]`, duplicates dropped). The KubeletEnsureSecretPulledImages block (policy,
//   allowlist) is src/kubelet/pull-records.ts validateCredentialVerificationConfig; with the
//   gate off, setting either field is an error (text as reported by kubelet 1.34:
//   "invalid configuration: `imagePullCredentialsVerificationPolicy` must not be set if
//   KubeletEnsureSecretPulledImages feature gate is not enabled"; the allowlist's twin is
//   [derived] from it)
// - pkg/kubelet/kubeletconfig/util/codec/codec.go DecodeKubeletConfiguration — strict decoding
//   first; on a *strict* error (unknown or duplicate field) it decodes leniently and only logs
//   "Using lenient decoding as strict decoding failed" — so unknown fields are WARNINGS, not
//   errors; any other decoding error (wrong type) fails: `failed to decode: <json error>`
// - pkg/features/kube_features.go — KubeletEnsureSecretPulledImages beta, default on (1.35);
//   ImageMaximumGCAge GA and locked to true (1.35)
// - k8s.io/component-base/featuregate SetFromMap — `cannot set feature gate %v to %v, feature
//   is locked to %v`
// - encoding/json (sigs.k8s.io/json) UnmarshalTypeError text; metav1.Duration.UnmarshalJSON
//   (a JSON string through time.ParseDuration; `null` parses "" → `time: invalid duration ""`)

import { KimgError } from "../errors.ts";
import { aggregateMessage, formatGoDurationNs, parseGoDurationNs } from "../go/index.ts";
import {
  DEFAULT_IMAGE_PULL_CREDENTIALS_VERIFICATION_POLICY,
  type ImagePullCredentialsVerificationPolicy,
  validateCredentialVerificationConfig,
} from "./pull-records.ts";

export const KUBELET_CONFIGURATION_API_VERSION = "kubelet.config.k8s.io/v1beta1";
export const KUBELET_CONFIGURATION_KIND = "KubeletConfiguration";

/** Feature gates kimg models (others are accepted and reported as having no effect). */
export const KUBELET_ENSURE_SECRET_PULLED_IMAGES = "KubeletEnsureSecretPulledImages";
export const IMAGE_MAXIMUM_GC_AGE = "ImageMaximumGCAge";

/** The image settings of a defaulted, validated KubeletConfiguration. Durations in ms. */
export interface KubeletConfiguration {
  readonly serializeImagePulls: boolean;
  /** undefined = nil: no limit on parallel pulls (only used when serializeImagePulls is false). */
  readonly maxParallelImagePulls: number | undefined;
  /** Pulls per second, node-wide; 0 = no throttling. */
  readonly registryPullQPS: number;
  readonly registryBurst: number;
  readonly imageMinimumGCAgeMs: number;
  /** 0 = no age-based GC. */
  readonly imageMaximumGCAgeMs: number;
  readonly imageGCHighThresholdPercent: number;
  readonly imageGCLowThresholdPercent: number;
  readonly nodeStatusMaxImages: number;
  /** Whether KEP-2535 credential verification is on (gate KubeletEnsureSecretPulledImages). */
  readonly ensureSecretPulledImages: boolean;
  /** undefined when the gate is off (the field must then be unset). */
  readonly imagePullCredentialsVerificationPolicy:
    | ImagePullCredentialsVerificationPolicy
    | undefined;
  readonly preloadedImagesVerificationAllowlist: readonly string[];
  /** The file's featureGates, as given. */
  readonly featureGates: Readonly<Record<string, boolean>>;
}

export interface LoadedKubeletConfiguration {
  readonly config: KubeletConfiguration;
  /**
   * What the kubelet would only log: the strict decoding error for unknown fields
   * (`strict decoding error: unknown field "x", unknown field "y"`), and feature gates kimg does
   * not model.
   */
  readonly warnings: readonly string[];
}

/** The fields as decoded, before defaulting (undefined = absent / nil / zero). */
interface Decoded {
  serializeImagePulls?: boolean;
  maxParallelImagePulls?: number;
  registryPullQPS?: number;
  registryBurst?: number;
  imageMinimumGCAgeNs?: bigint;
  imageMaximumGCAgeNs?: bigint;
  imageGCHighThresholdPercent?: number;
  imageGCLowThresholdPercent?: number;
  nodeStatusMaxImages?: number;
  imagePullCredentialsVerificationPolicy?: string;
  preloadedImagesVerificationAllowlist?: string[];
  featureGates?: Record<string, boolean>;
}

type FieldKind = "bool" | "int32" | "duration" | "string" | "[]string" | "map[string]bool";

/** The fields kimg reads, with their Go types. */
const FIELDS: Readonly<Record<string, FieldKind>> = {
  serializeImagePulls: "bool",
  maxParallelImagePulls: "int32",
  registryPullQPS: "int32",
  registryBurst: "int32",
  imageMinimumGCAge: "duration",
  imageMaximumGCAge: "duration",
  imageGCHighThresholdPercent: "int32",
  imageGCLowThresholdPercent: "int32",
  nodeStatusMaxImages: "int32",
  imagePullCredentialsVerificationPolicy: "string",
  preloadedImagesVerificationAllowlist: "[]string",
  featureGates: "map[string]bool",
};

/**
 * The other top-level fields of v1beta1 KubeletConfiguration (types.go): accepted and ignored
 * (kimg is not a kubelet), so a real node's file loads without warnings. Anything else is an
 * unknown field.
 */
const OTHER_KNOWN_FIELDS: ReadonlySet<string> = new Set([
  "apiVersion",
  "kind",
  "enableServer",
  "staticPodPath",
  "podLogsDir",
  "syncFrequency",
  "fileCheckFrequency",
  "httpCheckFrequency",
  "staticPodURL",
  "staticPodURLHeader",
  "address",
  "port",
  "readOnlyPort",
  "tlsCertFile",
  "tlsPrivateKeyFile",
  "tlsCipherSuites",
  "tlsMinVersion",
  "rotateCertificates",
  "serverTLSBootstrap",
  "authentication",
  "authorization",
  "eventRecordQPS",
  "eventBurst",
  "enableDebuggingHandlers",
  "enableContentionProfiling",
  "healthzPort",
  "healthzBindAddress",
  "oomScoreAdj",
  "clusterDomain",
  "clusterDNS",
  "streamingConnectionIdleTimeout",
  "nodeStatusUpdateFrequency",
  "nodeStatusReportFrequency",
  "nodeLeaseDurationSeconds",
  "volumeStatsAggPeriod",
  "imageServiceEndpoint",
  "kubeletCgroups",
  "systemCgroups",
  "cgroupRoot",
  "cgroupsPerQOS",
  "cgroupDriver",
  "cpuManagerPolicy",
  "singleProcessOOMKill",
  "cpuManagerPolicyOptions",
  "cpuManagerReconcilePeriod",
  "memoryManagerPolicy",
  "topologyManagerPolicy",
  "topologyManagerScope",
  "topologyManagerPolicyOptions",
  "qosReserved",
  "runtimeRequestTimeout",
  "hairpinMode",
  "maxPods",
  "podCIDR",
  "podPidsLimit",
  "resolvConf",
  "runOnce",
  "cpuCFSQuota",
  "cpuCFSQuotaPeriod",
  "maxOpenFiles",
  "contentType",
  "kubeAPIQPS",
  "kubeAPIBurst",
  "evictionHard",
  "evictionSoft",
  "evictionSoftGracePeriod",
  "evictionPressureTransitionPeriod",
  "evictionMaxPodGracePeriod",
  "evictionMinimumReclaim",
  "mergeDefaultEvictionSettings",
  "podsPerCore",
  "enableControllerAttachDetach",
  "protectKernelDefaults",
  "makeIPTablesUtilChains",
  "iptablesMasqueradeBit",
  "iptablesDropBit",
  "failSwapOn",
  "memorySwap",
  "containerLogMaxSize",
  "containerLogMaxFiles",
  "containerLogMaxWorkers",
  "containerLogMonitorInterval",
  "configMapAndSecretChangeDetectionStrategy",
  "systemReserved",
  "kubeReserved",
  "reservedSystemCPUs",
  "showHiddenMetricsForVersion",
  "systemReservedCgroup",
  "kubeReservedCgroup",
  "enforceNodeAllocatable",
  "allowedUnsafeSysctls",
  "volumePluginDir",
  "providerID",
  "kernelMemcgNotification",
  "logging",
  "enableSystemLogHandler",
  "enableSystemLogQuery",
  "shutdownGracePeriod",
  "shutdownGracePeriodCriticalPods",
  "shutdownGracePeriodByPodPriority",
  "crashLoopBackOff",
  "reservedMemory",
  "enableProfilingHandler",
  "enableDebugFlagsHandler",
  "seccompDefault",
  "memoryThrottlingFactor",
  "registerWithTaints",
  "registerNode",
  "tracing",
  "localStorageCapacityIsolation",
  "containerRuntimeEndpoint",
  "failCgroupV1",
  "userNamespaces",
]);

const GO_TYPE: Readonly<Record<FieldKind, string>> = {
  bool: "bool",
  int32: "int32",
  duration: "string",
  string: "string",
  "[]string": "[]string",
  "map[string]bool": "map[string]bool",
};

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;

function decodeError(message: string): KimgError {
  return new KimgError("INPUT_INVALID", `failed to decode: ${message}`);
}

/** encoding/json's name for the kind of a JSON value in type errors. */
function jsonKind(v: unknown): string {
  if (typeof v === "string") return "string";
  if (typeof v === "boolean") return "bool";
  if (typeof v === "number") return "number";
  if (Array.isArray(v)) return "array";
  return "object";
}

/** UnmarshalTypeError for a struct field of KubeletConfiguration. */
function typeError(value: string, field: string, goType: string): KimgError {
  return decodeError(
    `json: cannot unmarshal ${value} into Go struct field KubeletConfiguration.${field} of type ${goType}`,
  );
}

/** Go's text for a JSON number literal (encoding/json prints the literal as written). */
function numberLiteral(n: number): string {
  return Number.isFinite(n) ? String(n) : "null";
}

function decodeField(field: string, kind: FieldKind, v: unknown, out: Decoded): void {
  const bad = (): never => {
    throw typeError(jsonKind(v), field, GO_TYPE[kind]);
  };
  switch (kind) {
    case "bool":
      if (v === null) return;
      if (typeof v !== "boolean") bad();
      (out as Record<string, unknown>)[field] = v;
      return;
    case "int32":
      if (v === null) return;
      if (typeof v !== "number") bad();
      if (!Number.isInteger(v) || (v as number) < INT32_MIN || (v as number) > INT32_MAX) {
        throw typeError(`number ${numberLiteral(v as number)}`, field, "int32");
      }
      (out as Record<string, unknown>)[field] = v;
      return;
    case "duration": {
      // metav1.Duration.UnmarshalJSON: json.Unmarshal into a string (its own error has no
      // struct context), then time.ParseDuration; null unmarshals to "" and fails to parse.
      const text = v === null ? "" : v;
      if (typeof text !== "string") {
        throw decodeError(`json: cannot unmarshal ${jsonKind(v)} into Go value of type string`);
      }
      let ns: bigint;
      try {
        ns = parseGoDurationNs(text);
      } catch (e) {
        if (e instanceof KimgError) throw decodeError(e.message);
        throw e;
      }
      if (field === "imageMinimumGCAge") out.imageMinimumGCAgeNs = ns;
      else out.imageMaximumGCAgeNs = ns;
      return;
    }
    case "string":
      if (v === null) return;
      if (typeof v !== "string") bad();
      (out as Record<string, unknown>)[field] = v;
      return;
    case "[]string": {
      if (v === null) return;
      if (!Array.isArray(v)) bad();
      const list: string[] = [];
      for (const item of v as unknown[]) {
        // A null element unmarshals to "" (encoding/json leaves the zero value).
        if (item === null) list.push("");
        else if (typeof item !== "string") throw typeError(jsonKind(item), field, "string");
        else list.push(item);
      }
      (out as Record<string, unknown>)[field] = list;
      return;
    }
    case "map[string]bool": {
      if (v === null) return;
      if (typeof v !== "object" || Array.isArray(v)) bad();
      const gates: Record<string, boolean> = {};
      for (const [k, g] of Object.entries(v as Record<string, unknown>)) {
        if (g === null) gates[k] = false;
        else if (typeof g !== "boolean") throw typeError(jsonKind(g), field, "bool");
        else gates[k] = g;
      }
      out.featureGates = gates;
      return;
    }
  }
}

/**
 * Decodes, defaults and validates a KubeletConfiguration given as a plain object (the parsed
 * YAML/JSON file). Throws KimgError INPUT_INVALID:
 * - `failed to decode: …` for a wrong kind/apiVersion or a value of the wrong type (the first one,
 *   as encoding/json reports only the first);
 * - the feature-gate error (`cannot set feature gate ImageMaximumGCAge to false, feature is
 *   locked to true`);
 * - the aggregate of ValidateKubeletConfiguration's messages (`invalid configuration: …`, several
 *   as `[a, b]`).
 * Unknown fields are returned as a warning, as the kubelet only logs them.
 */
export function loadKubeletConfiguration(input: unknown): LoadedKubeletConfiguration {
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    throw decodeError(`a KubeletConfiguration must be an object, not ${jsonKind(input)}`);
  }
  const obj = input as Record<string, unknown>;
  const kind = obj.kind;
  const apiVersion = obj.apiVersion;
  if (typeof kind !== "string" || kind === "") {
    throw decodeError("Object 'Kind' is missing in KubeletConfiguration input");
  }
  if (typeof apiVersion !== "string" || apiVersion === "") {
    throw decodeError("Object 'apiVersion' is missing in KubeletConfiguration input");
  }
  if (kind !== KUBELET_CONFIGURATION_KIND || apiVersion !== KUBELET_CONFIGURATION_API_VERSION) {
    throw decodeError(
      `no kind ${JSON.stringify(kind)} is registered for version ${JSON.stringify(apiVersion)}: kimg reads kind ${JSON.stringify(KUBELET_CONFIGURATION_KIND)} of ${JSON.stringify(KUBELET_CONFIGURATION_API_VERSION)}`,
    );
  }

  const decoded: Decoded = {};
  const unknown: string[] = [];
  for (const [field, value] of Object.entries(obj)) {
    const fk = FIELDS[field];
    if (fk !== undefined) decodeField(field, fk, value, decoded);
    else if (!OTHER_KNOWN_FIELDS.has(field)) unknown.push(field);
  }

  const warnings: string[] = [];
  if (unknown.length > 0) {
    warnings.push(
      `strict decoding error: ${unknown.map((f) => `unknown field ${JSON.stringify(f)}`).join(", ")}`,
    );
  }

  const gates = decoded.featureGates ?? {};
  for (const [name, value] of Object.entries(gates)) {
    if (name === IMAGE_MAXIMUM_GC_AGE) {
      if (!value) {
        throw new KimgError(
          "INPUT_INVALID",
          `cannot set feature gate ${IMAGE_MAXIMUM_GC_AGE} to false, feature is locked to true`,
        );
      }
    } else if (name !== KUBELET_ENSURE_SECRET_PULLED_IMAGES) {
      warnings.push(`feature gate ${JSON.stringify(name)} has no effect in kimg`);
    }
  }
  const ensureSecretPulledImages = gates[KUBELET_ENSURE_SECRET_PULLED_IMAGES] ?? true;

  const defaulted = setDefaults(decoded, ensureSecretPulledImages);
  const errors = validate(defaulted, ensureSecretPulledImages);
  if (errors.length > 0) throw new KimgError("INPUT_INVALID", aggregateMessage(errors));

  const config: KubeletConfiguration = {
    serializeImagePulls: defaulted.serializeImagePulls,
    maxParallelImagePulls: defaulted.maxParallelImagePulls,
    registryPullQPS: defaulted.registryPullQPS,
    registryBurst: defaulted.registryBurst,
    imageMinimumGCAgeMs: nsToMs(defaulted.imageMinimumGCAgeNs),
    imageMaximumGCAgeMs: nsToMs(defaulted.imageMaximumGCAgeNs),
    imageGCHighThresholdPercent: defaulted.imageGCHighThresholdPercent,
    imageGCLowThresholdPercent: defaulted.imageGCLowThresholdPercent,
    nodeStatusMaxImages: defaulted.nodeStatusMaxImages,
    ensureSecretPulledImages,
    imagePullCredentialsVerificationPolicy:
      defaulted.imagePullCredentialsVerificationPolicy === ""
        ? undefined
        : (defaulted.imagePullCredentialsVerificationPolicy as ImagePullCredentialsVerificationPolicy),
    preloadedImagesVerificationAllowlist: defaulted.preloadedImagesVerificationAllowlist,
    featureGates: gates,
  };
  return { config, warnings };
}

/** The defaults of an empty KubeletConfiguration (all gates at their 1.35 defaults). */
export function defaultKubeletConfiguration(): KubeletConfiguration {
  return loadKubeletConfiguration({
    kind: KUBELET_CONFIGURATION_KIND,
    apiVersion: KUBELET_CONFIGURATION_API_VERSION,
  }).config;
}

interface Defaulted {
  serializeImagePulls: boolean;
  maxParallelImagePulls: number | undefined;
  registryPullQPS: number;
  registryBurst: number;
  imageMinimumGCAgeNs: bigint;
  imageMaximumGCAgeNs: bigint;
  imageGCHighThresholdPercent: number;
  imageGCLowThresholdPercent: number;
  nodeStatusMaxImages: number;
  imagePullCredentialsVerificationPolicy: string;
  preloadedImagesVerificationAllowlist: string[];
}

/** SetDefaults_KubeletConfiguration, image fields. */
function setDefaults(d: Decoded, ensureSecretPulledImages: boolean): Defaulted {
  const maxParallel = d.maxParallelImagePulls;
  let policy = d.imagePullCredentialsVerificationPolicy ?? "";
  if (ensureSecretPulledImages && policy === "") {
    policy = DEFAULT_IMAGE_PULL_CREDENTIALS_VERIFICATION_POLICY;
  }
  return {
    // SerializeImagePulls defaults to true when MaxParallelImagePulls is not set (or < 2).
    serializeImagePulls: d.serializeImagePulls ?? (maxParallel === undefined || maxParallel < 2),
    maxParallelImagePulls: maxParallel,
    registryPullQPS: d.registryPullQPS ?? 5,
    // int32, not a pointer: an explicit 0 is indistinguishable from unset and becomes 10.
    registryBurst: d.registryBurst === undefined || d.registryBurst === 0 ? 10 : d.registryBurst,
    // metav1.Duration: zero (unset or "0s") becomes 2m.
    imageMinimumGCAgeNs:
      d.imageMinimumGCAgeNs === undefined || d.imageMinimumGCAgeNs === 0n
        ? 120_000_000_000n
        : d.imageMinimumGCAgeNs,
    imageMaximumGCAgeNs: d.imageMaximumGCAgeNs ?? 0n,
    imageGCHighThresholdPercent: d.imageGCHighThresholdPercent ?? 85,
    imageGCLowThresholdPercent: d.imageGCLowThresholdPercent ?? 80,
    nodeStatusMaxImages: d.nodeStatusMaxImages ?? 50,
    imagePullCredentialsVerificationPolicy: policy,
    preloadedImagesVerificationAllowlist: d.preloadedImagesVerificationAllowlist ?? [],
  };
}

/**
 * ValidateKubeletConfiguration's image GC rules, in upstream order
 * (pkg/kubelet/apis/config/validation/validation.go), with its exact texts. Shared by the
 * configuration file and `kimg gc`'s flags, so both say the same thing.
 */
export function validateImageGCSettings(s: {
  readonly highThresholdPercent: number;
  readonly lowThresholdPercent: number;
  readonly minAgeNs: bigint;
  readonly maxAgeNs: bigint;
}): string[] {
  const errs: string[] = [];
  const high = s.highThresholdPercent;
  const low = s.lowThresholdPercent;
  if (high < 0 || high > 100) {
    errs.push(
      `invalid configuration: imageGCHighThresholdPercent (--image-gc-high-threshold) ${high} must be between 0 and 100, inclusive`,
    );
  }
  if (low < 0 || low > 100) {
    errs.push(
      `invalid configuration: imageGCLowThresholdPercent (--image-gc-low-threshold) ${low} must be between 0 and 100, inclusive`,
    );
  }
  if (low >= high) {
    errs.push(
      `invalid configuration: imageGCLowThresholdPercent (--image-gc-low-threshold) ${low} must be less than imageGCHighThresholdPercent (--image-gc-high-threshold) ${high}`,
    );
  }
  // (The ImageMaximumGCAge gate check cannot fire: the gate is GA and locked on in 1.35.)
  if (s.maxAgeNs < 0n) {
    errs.push(`invalid configuration: imageMaximumGCAge ${goDur(s.maxAgeNs)} must not be negative`);
  }
  if (s.maxAgeNs > 0n && s.maxAgeNs <= s.minAgeNs) {
    errs.push(
      `invalid configuration: imageMaximumGCAge ${goDur(s.maxAgeNs)} must be greater than imageMinimumGCAge ${goDur(s.minAgeNs)}`,
    );
  }
  return errs;
}

/** ValidateKubeletConfiguration, image fields, in upstream order. */
function validate(kc: Defaulted, ensureSecretPulledImages: boolean): string[] {
  const errs: string[] = [];
  errs.push(
    ...validateImageGCSettings({
      highThresholdPercent: kc.imageGCHighThresholdPercent,
      lowThresholdPercent: kc.imageGCLowThresholdPercent,
      minAgeNs: kc.imageMinimumGCAgeNs,
      maxAgeNs: kc.imageMaximumGCAgeNs,
    }),
  );
  if (kc.nodeStatusMaxImages < -1) {
    errs.push(
      `invalid configuration: nodeStatusMaxImages (--node-status-max-images) ${kc.nodeStatusMaxImages} must be -1 or greater`,
    );
  }
  if (kc.registryBurst < 0) {
    errs.push(
      `invalid configuration: registryBurst (--registry-burst) ${kc.registryBurst} must not be a negative number`,
    );
  }
  if (kc.registryPullQPS < 0) {
    errs.push(
      `invalid configuration: registryPullQPS (--registry-qps) ${kc.registryPullQPS} must not be a negative number`,
    );
  }
  const mp = kc.maxParallelImagePulls;
  if (mp !== undefined && mp < 1) {
    errs.push(`invalid configuration: maxParallelImagePulls ${mp} must be a positive number`);
  }
  if (kc.serializeImagePulls && mp !== undefined && mp > 1) {
    errs.push(
      "invalid configuration: maxParallelImagePulls cannot be larger than 1 unless SerializeImagePulls (--serialize-image-pulls) is set to false",
    );
  }
  if (ensureSecretPulledImages) {
    errs.push(
      ...validateCredentialVerificationConfig(
        kc.imagePullCredentialsVerificationPolicy,
        kc.preloadedImagesVerificationAllowlist,
      ),
    );
  } else {
    if (kc.imagePullCredentialsVerificationPolicy !== "") {
      errs.push(
        "invalid configuration: `imagePullCredentialsVerificationPolicy` must not be set if KubeletEnsureSecretPulledImages feature gate is not enabled",
      );
    }
    if (kc.preloadedImagesVerificationAllowlist.length > 0) {
      errs.push(
        "invalid configuration: `preloadedImagesVerificationAllowlist` must not be set if KubeletEnsureSecretPulledImages feature gate is not enabled",
      );
    }
  }
  return errs;
}

/** %v of a time.Duration. */
function goDur(ns: bigint): string {
  return formatGoDurationNs(ns);
}

function nsToMs(ns: bigint): number {
  return Number(ns / 1_000_000n) + Number(ns % 1_000_000n) / 1e6;
}
