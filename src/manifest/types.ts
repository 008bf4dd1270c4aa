// The result types of manifest inspection (what `kimg policy --json` prints). Types only.
//
// Owns the stable, JSON-serialisable shape of a report: one `ContainerReport` per container,
// `ManifestProblem`s for documents that cannot be checked or fail object-level validation,
// `SkippedObject`s for kinds without a pod template. Field names are part of the CLI's JSON
// contract; add fields, never rename them.

import type { FieldError } from "../go/index.ts";
import type { Finding, KubeletActionDescription, PullPolicy } from "../policy/index.ts";

/** Where an object sits: its identity and its place in the input. */
export interface ObjectLocation {
  readonly kind: string;
  /** True when `kind` was missing and taken from the enclosing `<Kind>List`. */
  readonly kindImplied: boolean;
  readonly apiVersion: string | null;
  /** `metadata.name`, or null when absent. */
  readonly name: string | null;
  /** `metadata.generateName`, or null when absent. */
  readonly generateName: string | null;
  /** `metadata.namespace`, or `"default"` when absent (see `namespaceImplied`). */
  readonly namespace: string;
  /**
   * True when the manifest sets no namespace. `kubectl apply` then uses the context's
   * namespace (`default` unless configured); we assume `default`.
   */
  readonly namespaceImplied: boolean;
  /** Path of the object inside a `List` document, e.g. `items[2]`, or null at top level. */
  readonly itemPath: string | null;
  readonly source: string;
  /** 1-based line of the object's first key. */
  readonly line: number;
}

export type ContainerType = "initContainer" | "container" | "ephemeralContainer";

/** What the kubelet does with the container's image (kubelet.md §5.3), in its own words. */
export interface KubeletOutcome {
  /** The image is already on the node. */
  readonly imagePresent: KubeletActionDescription;
  /** The image is not on the node. */
  readonly imageAbsent: KubeletActionDescription;
}

/** What AlwaysPullImages did to this container (Pods only, with `alwaysPullImages`). */
export interface AdmissionOutcome {
  readonly plugin: "AlwaysPullImages";
  /** False when the policy was already Always. */
  readonly changed: boolean;
  /** The policy before admission (after defaulting); JSON scalar as written. */
  readonly from: unknown;
  readonly to: "Always";
}

export interface ContainerReport extends ObjectLocation {
  /** 1-based line and column of the container entry (overrides the object's `line`). */
  readonly line: number;
  readonly column: number;
  /** The object's own line (its first key). */
  readonly objectLine: number;
  /** As Kubernetes renders it, relative to the object: `spec.template.spec.containers[0]`. */
  readonly fieldPath: string;
  readonly containerType: ContainerType;
  /** `name` when it is a string, else null. */
  readonly containerName: string | null;
  /** `image` when it is a string, else null (absent, null or another type). */
  readonly image: string | null;
  /** `imagePullPolicy` as written: a string, another JSON scalar, or null when absent/null. */
  readonly declaredPolicy: unknown;
  /** The policy after API defaulting; null when the declared value is unsupported/invalid. */
  readonly effectivePolicy: PullPolicy | null;
  /** True when defaulting filled the policy (absent, null or ""). */
  readonly defaulted: boolean;
  /** The policy module's rule: `explicit`, `no-tag`, `latest-tag`, `other-tag`, … */
  readonly rule: string;
  readonly reason: string;
  readonly admission: AdmissionOutcome | null;
  /** What the API server stores: effective policy, then AlwaysPullImages; null if rejected. */
  readonly storedPolicy: PullPolicy | null;
  /** True when the stored policy differs from what is written (a write-back happens). */
  readonly changed: boolean;
  /** The kubelet's action for the stored policy; null when there is no valid policy/image. */
  readonly kubelet: KubeletOutcome | null;
  /** API validation errors for this container (Pod rules for Pods, template rules otherwise). */
  readonly errors: readonly FieldError[];
  /** Advice (policy module lint). */
  readonly findings: readonly Finding[];
}

export type ProblemCode =
  /** The document or List item is not a map. */
  | "NOT_AN_OBJECT"
  /** No `kind` (and not inferable from a `<Kind>List`). */
  | "KIND_MISSING"
  /** A field has the wrong YAML type (e.g. `containers` is a map). */
  | "WRONG_TYPE"
  /** Object-level API validation error (e.g. `spec.containers: Required value`). */
  | "VALIDATION"
  /** Too many aliases or too deep List nesting. */
  | "LIMIT"
  /** A YAML node shared by aliases would need two different write-backs. */
  | "WRITE_BACK";

export interface ManifestProblem {
  readonly code: ProblemCode;
  readonly severity: "error" | "warning";
  readonly source: string;
  readonly line: number;
  readonly column: number;
  readonly kind: string | null;
  readonly name: string | null;
  readonly namespace: string | null;
  readonly itemPath: string | null;
  /** Object-relative field path when known, e.g. `spec.template.spec.containers`. */
  readonly field: string | null;
  readonly message: string;
}

export interface SkippedObject {
  readonly source: string;
  readonly line: number;
  readonly kind: string;
  readonly apiVersion: string | null;
  readonly name: string | null;
  readonly namespace: string;
  readonly itemPath: string | null;
  readonly reason: string;
}

export interface ReportSummary {
  readonly files: number;
  readonly documents: number;
  readonly objects: number;
  readonly containers: number;
  /** Validation errors + error findings + error problems. */
  readonly errors: number;
  /** Warning findings + warning problems. */
  readonly warnings: number;
  /** Info findings. */
  readonly infos: number;
  readonly skipped: number;
  /** Containers whose stored policy differs from the manifest (defaulted or admitted). */
  readonly changed: number;
  /** Pods AlwaysPullImages was applied to (0 without `alwaysPullImages`). */
  readonly admittedPods: number;
}

export interface ManifestReport {
  readonly containers: readonly ContainerReport[];
  readonly problems: readonly ManifestProblem[];
  readonly skipped: readonly SkippedObject[];
  /** Sentences about how the report was produced (admission scope, namespace assumption…). */
  readonly notes: readonly string[];
  readonly summary: ReportSummary;
}
