// What the API server checks when an existing Pod's images change (kubelet.md §4, issue 12 §4).
// Pure: never mutates its input.
//
// Owns:
// - `defaultPodPullPolicies`: SetDefaults_Container / SetDefaults_EphemeralContainer
//   (pkg/apis/core/v1/defaults.go) for every container of a Pod: an empty imagePullPolicy becomes
//   Always for `:latest` (or no tag), IfNotPresent otherwise. The API server applies it when it
//   decodes the request body, on UPDATE as on CREATE.
// - `validatePodUpdate`: the image and pull-policy rules of ValidatePodUpdate
//   (pkg/apis/core/validation/validation.go, k8s.io/kubernetes v1.37.2):
//   - the new pod's containers are validated as on create (validatePodMetadataAndSpec);
//   - ValidateContainerUpdates: a changed number of containers is `Forbidden: pod updates may
//     not add or remove containers` and stops the checks; each new image must be set and must not
//     have surrounding whitespace. validatePodMetadataAndSpec already said so, and the source
//     appends the same error again, but the real API server answers with one cause each (1.37's
//     declarative validation filters the hand-written errors it covers); kimg follows the server;
//   - the spec, with the updatable fields munged back to their old values, must equal the old
//     spec; otherwise `spec: Forbidden: pod updates may not change fields other than …`. So
//     `imagePullPolicy` is immutable: only images may change.
// - `validatePodEphemeralContainersUpdate`: ValidatePodEphemeralContainersUpdate, for the
//   `pods/ephemeralcontainers` subresource: the new ephemeral containers are validated, and
//   existing ones may be neither removed nor changed.
//
// Where kimg differs, on purpose:
// - Upstream appends a go-cmp diff of the two specs to the Forbidden message. go-cmp randomises
//   its whitespace between runs on purpose, so it cannot be matched byte for byte; kimg appends
//   its own list of the changed fields instead. The first line is upstream's, byte for byte.
// - Upstream munges activeDeadlineSeconds, tolerations, schedulingGates,
//   terminationGracePeriodSeconds, and for gated pods nodeSelector and affinity, each with rules
//   of its own. kimg does not model those fields: it copies their old values back, so it never
//   reports them.
// - Semantic.DeepEqual compares Go structs, where an absent field is its zero value and an
//   empty list equals a missing one. kimg compares the JSON with zero values dropped, which is
//   the same for the fields a Pod spec holds, except a resource quantity written two ways
//   (`1000m` and `1`), which kimg calls different.

import {
  type FieldError,
  fieldForbidden,
  fieldInvalid,
  fieldRequired,
  goQuote,
  hasGoSurroundingSpace,
} from "../go/index.ts";
import { isJsonObject } from "../json/index.ts";
import { CONTAINER_LISTS } from "./admission.ts";
import { defaultPullPolicy } from "./pull-policy.ts";
import { validateContainer } from "./validation.ts";

type PlainObject = Record<string, unknown>;

/** The updatable fields, as upstream's updatablePodSpecFields prints them. */
const UPDATABLE_POD_SPEC_FIELDS = [
  "`spec.containers[*].image`",
  "`spec.initContainers[*].image`",
  "`spec.activeDeadlineSeconds`",
  "`spec.tolerations` (only additions to existing tolerations)",
  "`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)",
].join(",");

/** Spec fields upstream munges with rules kimg does not model (see the header). */
const UNMODELLED_FIELDS = [
  "activeDeadlineSeconds",
  "tolerations",
  "schedulingGates",
  "terminationGracePeriodSeconds",
  "nodeSelector",
  "affinity",
] as const;

function specOf(pod: unknown): PlainObject {
  return isJsonObject(pod) && isJsonObject(pod.spec) ? pod.spec : {};
}

function listOf(spec: PlainObject, list: string): unknown[] {
  const v = spec[list];
  return Array.isArray(v) ? v : [];
}

/**
 * A copy of `pod` with every container's empty or absent imagePullPolicy defaulted from its
 * image, as the API server decodes a Pod. Anything that is not a Pod is returned as is.
 */
export function defaultPodPullPolicies(pod: unknown): unknown {
  if (!isJsonObject(pod) || !isJsonObject(pod.spec)) return pod;
  const copy = structuredClone(pod) as PlainObject;
  const spec = copy.spec as PlainObject;
  for (const list of CONTAINER_LISTS) {
    for (const c of listOf(spec, list)) {
      if (!isJsonObject(c)) continue;
      if (
        c.imagePullPolicy === undefined ||
        c.imagePullPolicy === null ||
        c.imagePullPolicy === ""
      ) {
        const image = typeof c.image === "string" ? c.image : "";
        c.imagePullPolicy = defaultPullPolicy(image).policy;
      }
    }
  }
  return copy;
}

/** validatePodMetadataAndSpec's image and pull-policy errors for every container of `pod`. */
function containerErrors(pod: unknown): FieldError[] {
  const spec = specOf(pod);
  return CONTAINER_LISTS.flatMap((list) =>
    listOf(spec, list).flatMap((c, i) =>
      validateContainer(isJsonObject(c) ? c : {}, `spec.${list}[${i}]`, { pod: true }),
    ),
  );
}

/**
 * ValidatePodUpdate's image rules: `newPod` as the API server holds it after decoding (defaulted,
 * see defaultPodPullPolicies) and mutating admission, `oldPod` as stored.
 */
export function validatePodUpdate(newPod: unknown, oldPod: unknown): FieldError[] {
  const errors = containerErrors(newPod);
  const spec = specOf(newPod);
  const oldSpec = specOf(oldPod);
  for (const list of ["containers", "initContainers"] as const) {
    const now = listOf(spec, list);
    if (now.length !== listOf(oldSpec, list).length) {
      errors.push(fieldForbidden(`spec.${list}`, "pod updates may not add or remove containers"));
      return errors;
    }
    now.forEach((c, i) => {
      const image = isJsonObject(c) && typeof c.image === "string" ? c.image : "";
      const path = `spec.${list}[${i}].image`;
      const again: FieldError[] = [];
      if (image === "") again.push(fieldRequired(path));
      // Go's strings.TrimSpace: Unicode white space at either end.
      if (hasGoSurroundingSpace(image)) {
        again.push(fieldInvalid(path, image, "must not have leading or trailing whitespace"));
      }
      // The source reports these a second time, but kube-apiserver 1.37.2 answers each of them
      // once (test/peers/apiserver.test.ts): so the same error is not added twice.
      for (const e of again) if (!errors.some((x) => x.message === e.message)) errors.push(e);
    });
  }
  const munged = structuredClone(spec);
  for (const list of ["containers", "initContainers"] as const) {
    const old = listOf(oldSpec, list);
    listOf(munged, list).forEach((c, i) => {
      const was = old[i];
      if (isJsonObject(c)) c.image = isJsonObject(was) ? was.image : undefined;
    });
  }
  for (const f of UNMODELLED_FIELDS) munged[f] = oldSpec[f];
  const changed = differences(oldSpec, munged, "spec");
  if (changed.length > 0) {
    errors.push(
      fieldForbidden(
        "spec",
        `pod updates may not change fields other than ${UPDATABLE_POD_SPEC_FIELDS}\n${changed.join("\n")}`,
      ),
    );
  }
  return errors;
}

/**
 * ValidatePodEphemeralContainersUpdate: a PUT to `pods/NAME/ephemeralcontainers`. `newPod` is the
 * stored pod with the request's ephemeral containers (the subresource's strategy keeps nothing
 * else of the request), defaulted.
 */
export function validatePodEphemeralContainersUpdate(
  newPod: unknown,
  oldPod: unknown,
): FieldError[] {
  const errors = containerErrors(newPod);
  const byName = new Map<unknown, unknown>();
  for (const c of listOf(specOf(newPod), "ephemeralContainers")) {
    if (isJsonObject(c)) byName.set(c.name, c);
  }
  for (const old of listOf(specOf(oldPod), "ephemeralContainers")) {
    if (!isJsonObject(old)) continue;
    const name = typeof old.name === "string" ? old.name : "";
    const now = byName.get(old.name);
    if (now === undefined) {
      errors.push(
        fieldForbidden(
          "spec.ephemeralContainers",
          `existing ephemeral containers ${goQuote(name)} may not be removed\n`,
        ),
      );
    } else {
      const changed = differences(old, now, `ephemeralContainers[${goQuote(name)}]`);
      if (changed.length > 0) {
        errors.push(
          fieldForbidden(
            "spec.ephemeralContainers",
            `existing ephemeral containers ${goQuote(name)} may not be changed\n${changed.join("\n")}`,
          ),
        );
      }
    }
  }
  return errors;
}

/** A Go zero value: what an absent JSON field decodes to. */
function isZero(v: unknown): boolean {
  if (v === undefined || v === null || v === "" || v === 0 || v === false) return true;
  if (Array.isArray(v)) return v.length === 0;
  return isJsonObject(v) && Object.values(v).every(isZero);
}

/** Lines `  <path>: <old> → <new>` for every leaf where the two differ, zero values ignored. */
function differences(a: unknown, b: unknown, path: string): string[] {
  if (isZero(a) && isZero(b)) return [];
  if (Array.isArray(a) && Array.isArray(b) && a.length === b.length) {
    return a.flatMap((x, i) => differences(x, b[i], `${path}[${i}]`));
  }
  if (isJsonObject(a) && isJsonObject(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    return keys.flatMap((k) => differences(a[k], b[k], `${path}.${k}`));
  }
  if (JSON.stringify(a) === JSON.stringify(b)) return [];
  return [`  ${path}: ${JSON.stringify(a ?? null)} → ${JSON.stringify(b ?? null)}`];
}
