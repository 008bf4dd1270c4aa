// The pods a node would run, from manifest objects: what the API server does between
// `kubectl apply` and the kubelet seeing a Pod, for the fields images depend on.
// - Workloads (Deployment, StatefulSet, DaemonSet, ReplicaSet, ReplicationController, Job,
//   CronJob, PodTemplate): their pod template becomes one pod (the controller would make
//   `replicas` of them; for images one is the same as many on one node, except that the kubelet's
//   back-off is per pod UID).
// - Defaulting (pkg/apis/core/v1/defaults.go SetDefaults_Container: an empty imagePullPolicy
//   gets Always for `:latest` or no tag, else IfNotPresent; SetDefaults_PodSpec: namespace
//   `default` comes from the request, serviceAccountName `default` from ServiceAccount admission).
// - Validation of the image fields (pkg/apis/core/validation): an invalid pod is rejected, as the
//   API server would, and reported.
// - Admission in the API server's order: ServiceAccount (plugin/pkg/admission/serviceaccount:
//   an empty pod imagePullSecrets list is replaced by the ServiceAccount's, never merged; a
//   named ServiceAccount that does not exist rejects the pod), then AlwaysPullImages when on.
// Secrets and ServiceAccounts in the same input are collected for the image manager.

import { createHash } from "node:crypto";
import type { FieldError } from "../go/index.ts";
import {
  admitAlwaysPullImages,
  defaultPullPolicy,
  podCreateRequest,
  validateContainer,
} from "../policy/index.ts";

/** A container of a pod as the kubelet gets it (after defaulting and admission). */
export interface PodContainer {
  readonly name: string;
  /** The image as written (the kubelet's `requestedImage`). */
  readonly image: string;
  readonly imagePullPolicy: string;
  /** `spec.initContainers[0]`, `spec.containers[1]`. */
  readonly fieldPath: string;
}

export interface NodePod {
  readonly uid: string;
  readonly namespace: string;
  readonly name: string;
  /** Where it came from: `Pod/web`, `Deployment/web`, with the file and line when known. */
  readonly origin: string;
  readonly serviceAccountName: string;
  /** `spec.imagePullSecrets[].name` after ServiceAccount admission (empty names kept: the kubelet skips them). */
  readonly imagePullSecrets: readonly string[];
  /** True when the list came from the ServiceAccount. */
  readonly secretsFromServiceAccount: boolean;
  readonly initContainers: readonly PodContainer[];
  readonly containers: readonly PodContainer[];
  /** `spec.containers[0].imagePullPolicy: IfNotPresent → Always (AlwaysPullImages)`, … */
  readonly admissionChanges: readonly string[];
}

export interface ServiceAccountObject {
  readonly namespace: string;
  readonly name: string;
  readonly imagePullSecrets: readonly string[];
}

/** A Secret with its namespace resolved (the object itself is given to the keyring). */
export interface NamespacedSecret {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
  readonly object: Record<string, unknown>;
  /** `FILE:LINE` of the object, when known (for located errors). */
  readonly where?: string | undefined;
}

export interface RejectedObject {
  readonly origin: string;
  /** The API server's error text. */
  readonly message: string;
}

export interface NodeInput {
  readonly pods: readonly NodePod[];
  readonly secrets: readonly NamespacedSecret[];
  readonly serviceAccounts: readonly ServiceAccountObject[];
  readonly rejected: readonly RejectedObject[];
  /** Objects of other kinds (ConfigMaps, Services, …), ignored. */
  readonly ignored: readonly string[];
}

export interface ManifestObject {
  readonly value: unknown;
  /** `file:line`, for messages. */
  readonly where?: string | undefined;
}

export interface PodsOptions {
  /** The AlwaysPullImages admission plugin is enabled. */
  readonly alwaysPullImages?: boolean | undefined;
  /** Namespace for objects without one (kubectl's current namespace). Default `default`. */
  readonly namespace?: string | undefined;
}

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);
const str = (v: unknown): string => (typeof v === "string" ? v : "");

/** Path from the object to its PodSpec's parent (the object holding `spec`), per kind. */
const TEMPLATE_PATHS: Readonly<Record<string, readonly string[]>> = {
  Pod: [],
  PodTemplate: ["template"],
  ReplicationController: ["spec", "template"],
  ReplicaSet: ["spec", "template"],
  Deployment: ["spec", "template"],
  StatefulSet: ["spec", "template"],
  DaemonSet: ["spec", "template"],
  Job: ["spec", "template"],
  CronJob: ["spec", "jobTemplate", "spec", "template"],
};

/** A stable UUID-shaped uid for an object without `metadata.uid`. */
function derivedUid(kind: string, namespace: string, name: string): string {
  const h = createHash("sha256").update(`${kind}/${namespace}/${name}`).digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

function at(o: unknown, path: readonly string[]): unknown {
  let cur = o;
  for (const k of path) {
    if (!isObj(cur)) return undefined;
    cur = cur[k];
  }
  return cur;
}

function flatten(values: readonly ManifestObject[]): ManifestObject[] {
  const out: ManifestObject[] = [];
  const add = (v: unknown, where: string | undefined) => {
    if (
      isObj(v) &&
      typeof v.kind === "string" &&
      v.kind.endsWith("List") &&
      Array.isArray(v.items)
    ) {
      for (const i of v.items) add(i, where);
    } else out.push({ value: v, where });
  };
  for (const v of values) add(v.value, v.where);
  return out;
}

function secretNames(v: unknown): string[] {
  if (!Array.isArray(v)) return [];
  return v.map((r) => (isObj(r) ? str(r.name) : ""));
}

/** The pods, secrets and service accounts of a set of manifest objects. */
export function podsFromObjects(
  objects: readonly ManifestObject[],
  opts: PodsOptions = {},
): NodeInput {
  const defaultNs = opts.namespace ?? "default";
  const all = flatten(objects);
  const secrets: NamespacedSecret[] = [];
  const serviceAccounts: ServiceAccountObject[] = [];
  const rejected: RejectedObject[] = [];
  const ignored: string[] = [];
  const templates: {
    kind: string;
    namespace: string;
    name: string;
    template: Obj;
    uid: string;
    origin: string;
  }[] = [];

  for (const { value, where } of all) {
    if (!isObj(value)) continue;
    const kind = str(value.kind);
    const meta = isObj(value.metadata) ? value.metadata : {};
    const name = str(meta.name);
    const namespace = str(meta.namespace) || defaultNs;
    const origin = `${kind || "<no kind>"}/${name || "<no name>"}${where !== undefined ? ` (${where})` : ""}`;
    if (kind === "Secret") {
      const object = structuredClone(value);
      object.metadata = { ...(isObj(object.metadata) ? object.metadata : {}), namespace };
      secrets.push({
        namespace,
        name,
        uid: str(meta.uid),
        object,
        where,
      });
      continue;
    }
    if (kind === "ServiceAccount") {
      serviceAccounts.push({
        namespace,
        name,
        imagePullSecrets: secretNames(value.imagePullSecrets),
      });
      continue;
    }
    const path = TEMPLATE_PATHS[kind];
    if (path === undefined) {
      ignored.push(origin);
      continue;
    }
    const template = at(value, path);
    if (!isObj(template) || !isObj(template.spec)) {
      rejected.push({
        origin,
        message: `${origin}: no pod spec at ${[...path, "spec"].join(".")}`,
      });
      continue;
    }
    if (name === "") {
      rejected.push({
        origin,
        message: `${origin}: metadata.name: Required value: name or generateName is required`,
      });
      continue;
    }
    const uid =
      kind === "Pod" && str(meta.uid) !== "" ? str(meta.uid) : derivedUid(kind, namespace, name);
    templates.push({ kind, namespace, name, template, uid, origin });
  }

  const pods: NodePod[] = [];
  for (const t of templates) {
    const r = admitPod(t, serviceAccounts, opts);
    if ("message" in r) rejected.push(r);
    else pods.push(r);
  }
  return { pods, secrets, serviceAccounts, rejected, ignored };
}

function admitPod(
  t: { kind: string; namespace: string; name: string; template: Obj; uid: string; origin: string },
  serviceAccounts: readonly ServiceAccountObject[],
  opts: PodsOptions,
): NodePod | RejectedObject {
  const spec = structuredClone(t.template.spec) as Obj;
  // Defaulting (SetDefaults_Container) before validation, as the API server does.
  const errors: FieldError[] = [];
  for (const field of ["initContainers", "containers"] as const) {
    const list = spec[field];
    if (list === undefined || list === null) continue;
    if (!Array.isArray(list)) {
      return {
        origin: t.origin,
        message: `${t.origin}: spec.${field}: Invalid value: must be a list`,
      };
    }
    list.forEach((c, i) => {
      if (!isObj(c)) return;
      if (
        (c.imagePullPolicy === undefined || c.imagePullPolicy === "") &&
        typeof c.image === "string"
      ) {
        c.imagePullPolicy = defaultPullPolicy(c.image).policy;
      }
      errors.push(...validateContainer(c, `spec.${field}[${i}]`, { pod: true }));
    });
  }
  if (!Array.isArray(spec.containers) || spec.containers.length === 0) {
    return { origin: t.origin, message: `${t.origin}: spec.containers: Required value` };
  }
  if (errors.length > 0) {
    // The API server's Invalid status: `Pod "x" is invalid: [e1, e2]`.
    const list = errors.map((e) => e.message);
    const body = list.length === 1 ? list[0] : `[${list.join(", ")}]`;
    return { origin: t.origin, message: `Pod "${t.name}" is invalid: ${body}` };
  }

  // ServiceAccount admission: the SA named (default `default`); its secrets when the pod lists none.
  const saName = str(spec.serviceAccountName) || str(spec.serviceAccount) || "default";
  spec.serviceAccountName = saName;
  const sa = serviceAccounts.find((s) => s.namespace === t.namespace && s.name === saName);
  if (sa === undefined && saName !== "default") {
    return {
      origin: t.origin,
      message: `pods "${t.name}" is forbidden: error looking up service account ${t.namespace}/${saName}: serviceaccount "${saName}" not found`,
    };
  }
  let secretsFromServiceAccount = false;
  let pullSecrets = secretNames(spec.imagePullSecrets);
  if (pullSecrets.length === 0 && sa !== undefined && sa.imagePullSecrets.length > 0) {
    pullSecrets = [...sa.imagePullSecrets];
    spec.imagePullSecrets = pullSecrets.map((name) => ({ name }));
    secretsFromServiceAccount = true;
  }

  let pod: Obj = {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: t.name, namespace: t.namespace, uid: t.uid },
    spec,
  };
  const admissionChanges: string[] = [];
  if (opts.alwaysPullImages === true) {
    const r = admitAlwaysPullImages(podCreateRequest(pod, t.name));
    pod = r.object as Obj;
    for (const c of r.changes) {
      admissionChanges.push(
        `${c.field}: ${c.from === undefined ? "<unset>" : String(c.from)} → Always (AlwaysPullImages)`,
      );
    }
  }
  const finalSpec = pod.spec as Obj;
  const containers = (field: "initContainers" | "containers"): PodContainer[] => {
    const list = finalSpec[field];
    if (!Array.isArray(list)) return [];
    return list.map((c: Obj, i) => ({
      name: str(c.name),
      image: str(c.image),
      imagePullPolicy: str(c.imagePullPolicy),
      fieldPath: `spec.${field}[${i}]`,
    }));
  };
  return {
    uid: t.uid,
    namespace: t.namespace,
    name: t.name,
    origin: t.origin,
    serviceAccountName: saName,
    imagePullSecrets: pullSecrets,
    secretsFromServiceAccount,
    initContainers: containers("initContainers"),
    containers: containers("containers"),
    admissionChanges,
  };
}
