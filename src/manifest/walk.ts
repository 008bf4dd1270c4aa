// Finding the pod specs and containers inside manifest documents. Pure.
//
// Owns the kind table (which path leads to the PodSpec in each workload kind), `List` /
// `*List` recursion, and the structural problems a document can have (no kind, not a map,
// `containers` not a list…). Containers are visited initContainers, containers,
// ephemeralContainers — the order of upstream `VisitContainersWithPath`
// (pkg/api/v1/pod/util.go, pkg/api/pod/util.go).

import type { ManifestDocument, ManifestFile } from "./load.ts";
import type { MMap, MNode, MSeq } from "./tree.ts";
import type { ManifestProblem, ObjectLocation, ProblemCode, SkippedObject } from "./types.ts";
import type { NodeReader, ValueNode } from "./yaml-nodes.ts";
import {
  AliasBudgetExceeded,
  deref,
  describeNode,
  get,
  getString,
  isMap,
  isNullish,
  isSeq,
  newReader,
  scalarValue,
  startOf,
} from "./yaml-nodes.ts";

/** Path from the object root to its PodSpec, per kind. */
export const POD_SPEC_PATHS: Readonly<Record<string, readonly string[]>> = {
  Pod: ["spec"],
  PodTemplate: ["template", "spec"],
  ReplicationController: ["spec", "template", "spec"],
  ReplicaSet: ["spec", "template", "spec"],
  Deployment: ["spec", "template", "spec"],
  StatefulSet: ["spec", "template", "spec"],
  DaemonSet: ["spec", "template", "spec"],
  Job: ["spec", "template", "spec"],
  CronJob: ["spec", "jobTemplate", "spec", "template", "spec"],
};

/**
 * API groups of the kinds above (`""` is the core group of `apiVersion: v1`). A custom resource
 * that happens to be called `Job` or `Pod` is not Kubernetes' and is skipped. `extensions` is
 * the pre-1.16 group of Deployments, ReplicaSets and DaemonSets; `batch/v1beta1` CronJobs share
 * the group.
 */
const API_GROUPS: Readonly<Record<string, readonly string[]>> = {
  Pod: [""],
  PodTemplate: [""],
  ReplicationController: [""],
  ReplicaSet: ["apps", "extensions"],
  Deployment: ["apps", "extensions"],
  StatefulSet: ["apps"],
  DaemonSet: ["apps", "extensions"],
  Job: ["batch"],
  CronJob: ["batch"],
};

/** Container lists of a PodSpec, in `VisitContainersWithPath` order. */
export const CONTAINER_FIELDS = ["initContainers", "containers", "ephemeralContainers"] as const;
export type ContainerField = (typeof CONTAINER_FIELDS)[number];

/** Lists nested deeper than this are reported instead of walked. */
const MAX_LIST_DEPTH = 32;

/** One container found in a manifest, with everything needed to inspect and edit it. */
export interface FoundContainer {
  readonly file: ManifestFile;
  readonly doc: ManifestDocument;
  readonly reader: NodeReader;
  readonly object: ObjectLocation;
  /** The object is a core Pod (validation `pod: true`, AlwaysPullImages applies). */
  readonly isPod: boolean;
  readonly listField: ContainerField;
  readonly index: number;
  /** e.g. `spec.template.spec.containers[0]` */
  readonly fieldPath: string;
  readonly node: MMap;
  readonly offset: number;
  /** The PodSpec this container belongs to. */
  readonly podSpec: FoundPodSpec;
}

/** A PodSpec found in a manifest (one per workload object). */
export interface FoundPodSpec {
  readonly object: ObjectLocation;
  readonly isPod: boolean;
  /** e.g. `spec.template.spec`; the object-relative path Kubernetes uses in errors. */
  readonly specPath: string;
  /** Container lists present, with their lengths (absent lists are omitted). */
  readonly lists: Partial<Record<ContainerField, number>>;
  /** `imagePullSecrets[].name` of the PodSpec, in order (entries without a string name left out). */
  readonly imagePullSecrets: readonly string[];
}

export interface WalkResult {
  readonly containers: FoundContainer[];
  readonly podSpecs: FoundPodSpec[];
  readonly problems: ManifestProblem[];
  readonly skipped: SkippedObject[];
}

interface Ctx {
  readonly file: ManifestFile;
  readonly doc: ManifestDocument;
  readonly reader: NodeReader;
  readonly out: WalkResult;
}

function lineOf(ctx: Ctx, node: ValueNode | undefined, fallback: number): number {
  const off = startOf(node);
  return off === undefined ? fallback : ctx.file.position(off).line;
}

function problem(
  ctx: Ctx,
  code: ProblemCode,
  node: ValueNode | undefined,
  message: string,
  extra: { object?: ObjectLocation | undefined; field?: string | undefined } = {},
): void {
  const off = startOf(node);
  const pos = off === undefined ? { line: ctx.doc.line, column: 1 } : ctx.file.position(off);
  ctx.out.problems.push({
    code,
    severity: "error",
    source: ctx.file.source,
    line: pos.line,
    column: pos.column,
    kind: extra.object?.kind ?? null,
    name: extra.object?.name ?? null,
    namespace: extra.object?.namespace ?? null,
    itemPath: extra.object?.itemPath ?? null,
    field: extra.field ?? null,
    message,
  });
}

function joinPath(base: string, field: string): string {
  return base === "" ? field : `${base}.${field}`;
}

/** Walks every document of the given files. Never throws on malformed input. */
export function walkManifests(files: readonly ManifestFile[]): WalkResult {
  const out: WalkResult = { containers: [], podSpecs: [], problems: [], skipped: [] };
  for (const file of files) {
    for (const doc of file.documents) {
      const ctx: Ctx = { file, doc, reader: newReader(doc), out };
      try {
        walkObject(ctx, doc.root, null, null, 0);
      } catch (e) {
        if (!(e instanceof AliasBudgetExceeded)) throw e;
        problem(
          ctx,
          "LIMIT",
          undefined,
          `document ${doc.index + 1}: ${e.message}; not checked further`,
        );
      }
    }
  }
  return out;
}

function walkObject(
  ctx: Ctx,
  raw: MNode | null,
  itemPath: string | null,
  inferredKind: string | null,
  depth: number,
): void {
  const node = deref(ctx.reader, raw);
  const where = itemPath === null ? "document" : itemPath;
  if (!isMap(node)) {
    problem(
      ctx,
      "NOT_AN_OBJECT",
      node,
      `${where} is ${describeNode(node)}, not a Kubernetes object (a map with apiVersion and kind)`,
      { field: itemPath ?? undefined },
    );
    return;
  }
  const kindNode = get(ctx.reader, node, "kind");
  const kindValue = scalarValue(kindNode);
  let kind: string;
  let kindImplied = false;
  if (typeof kindValue === "string" && kindValue !== "") {
    kind = kindValue;
  } else if (isNullish(kindNode) || kindValue === "") {
    if (inferredKind === null) {
      problem(
        ctx,
        "KIND_MISSING",
        node,
        `${where} has no "kind" (Object 'Kind' is missing); not checked`,
        {
          field: itemPath ?? undefined,
        },
      );
      return;
    }
    kind = inferredKind;
    kindImplied = true;
  } else {
    problem(
      ctx,
      "WRONG_TYPE",
      kindNode,
      `${where}: "kind" is ${describeNode(kindNode)}, expected a string`,
      {
        field: itemPath ?? undefined,
      },
    );
    return;
  }

  const apiVersion = getString(ctx.reader, node, "apiVersion") ?? null;
  const meta = get(ctx.reader, node, "metadata");
  const metaMap = isMap(meta) ? meta : undefined;
  const name = metaMap ? (getString(ctx.reader, metaMap, "name") ?? null) : null;
  const generateName = metaMap ? (getString(ctx.reader, metaMap, "generateName") ?? null) : null;
  const writtenNs = metaMap ? getString(ctx.reader, metaMap, "namespace") : undefined;
  const object: ObjectLocation = {
    kind,
    kindImplied,
    apiVersion,
    name,
    generateName,
    namespace: writtenNs !== undefined && writtenNs !== "" ? writtenNs : "default",
    namespaceImplied: writtenNs === undefined || writtenNs === "",
    itemPath,
    source: ctx.file.source,
    line: lineOf(ctx, node, ctx.doc.line),
  };

  if (kind === "List" || (kind.length > 4 && kind.endsWith("List"))) {
    walkList(ctx, node, object, depth);
    return;
  }

  const path = POD_SPEC_PATHS[kind];
  const slash = apiVersion === null ? -1 : apiVersion.indexOf("/");
  const group = apiVersion === null ? null : slash === -1 ? "" : apiVersion.slice(0, slash);
  const groups = API_GROUPS[kind];
  const foreign = group !== null && groups !== undefined && !groups.includes(group);
  if (path === undefined || foreign) {
    ctx.out.skipped.push({
      source: object.source,
      line: object.line,
      kind,
      apiVersion,
      name,
      namespace: object.namespace,
      itemPath,
      reason: foreign
        ? `apiVersion ${apiVersion} is not Kubernetes' ${kind} (group ${groups?.map((g) => JSON.stringify(g)).join(" or ")}); not checked`
        : `kind ${kind} is not one kimg checks (Pods, workloads, PodTemplates, Lists); not checked`,
    });
    return;
  }
  walkWorkload(ctx, node, object, path);
}

function walkList(ctx: Ctx, node: MMap, list: ObjectLocation, depth: number): void {
  if (depth >= MAX_LIST_DEPTH) {
    problem(
      ctx,
      "LIMIT",
      node,
      `${list.kind} nested more than ${MAX_LIST_DEPTH} deep; not checked`,
      {
        object: list,
      },
    );
    return;
  }
  const items = get(ctx.reader, node, "items");
  if (isNullish(items)) return;
  if (!isSeq(items)) {
    problem(
      ctx,
      "WRONG_TYPE",
      items,
      `${list.kind}: "items" is ${describeNode(items)}, expected a list`,
      {
        object: list,
        field: joinPath(list.itemPath ?? "", "items"),
      },
    );
    return;
  }
  // Items of a typed list (PodList…) may omit kind, as the API server returns them.
  const itemKind = list.kind === "List" ? null : list.kind.slice(0, -"List".length);
  items.items.forEach((item, i) => {
    const p = `${list.itemPath === null ? "" : `${list.itemPath}.`}items[${i}]`;
    walkObject(ctx, item, p, itemKind, depth + 1);
  });
}

function walkWorkload(ctx: Ctx, root: MMap, object: ObjectLocation, path: readonly string[]): void {
  const isPod = object.kind === "Pod";
  let cur: MMap = root;
  let curPath = "";
  let spec: MMap | undefined;
  for (const step of path) {
    const next = get(ctx.reader, cur, step);
    const nextPath = joinPath(curPath, step);
    if (isNullish(next)) {
      // A missing spec/template is Go's zero value: a PodSpec without containers.
      spec = undefined;
      break;
    }
    if (!isMap(next)) {
      problem(ctx, "WRONG_TYPE", next, `${nextPath} is ${describeNode(next)}, expected a map`, {
        object,
        field: nextPath,
      });
      return;
    }
    cur = next;
    curPath = nextPath;
    spec = next;
  }
  const specPath = path.join(".");
  const lists: Partial<Record<ContainerField, number>> = {};
  const found: FoundPodSpec = {
    object,
    isPod,
    specPath,
    lists,
    imagePullSecrets: spec === undefined ? [] : pullSecretNames(ctx, spec),
  };
  ctx.out.podSpecs.push(found);
  if (spec === undefined) return;

  for (const listField of CONTAINER_FIELDS) {
    const listNode = get(ctx.reader, spec, listField);
    if (isNullish(listNode)) continue;
    const listPath = `${specPath}.${listField}`;
    if (!isSeq(listNode)) {
      problem(
        ctx,
        "WRONG_TYPE",
        listNode,
        `${listPath} is ${describeNode(listNode)}, expected a list`,
        {
          object,
          field: listPath,
        },
      );
      continue;
    }
    lists[listField] = listNode.items.length;
    walkContainers(ctx, listNode, found, listField, listPath);
  }
}

/** The names in a PodSpec's `imagePullSecrets` list (LocalObjectReference `name`). */
function pullSecretNames(ctx: Ctx, spec: MMap): string[] {
  const list = get(ctx.reader, spec, "imagePullSecrets");
  if (!isSeq(list)) return [];
  return list.items.flatMap((item) => {
    const ref = deref(ctx.reader, item);
    const name = isMap(ref) ? getString(ctx.reader, ref, "name") : undefined;
    return name === undefined || name === "" ? [] : [name];
  });
}

function walkContainers(
  ctx: Ctx,
  list: MSeq,
  podSpec: FoundPodSpec,
  listField: ContainerField,
  listPath: string,
): void {
  const { object, isPod } = podSpec;
  list.items.forEach((item, index) => {
    const fieldPath = `${listPath}[${index}]`;
    const node = deref(ctx.reader, item);
    if (!isMap(node)) {
      problem(
        ctx,
        "WRONG_TYPE",
        node,
        `${fieldPath} is ${describeNode(node)}, expected a map (a container)`,
        {
          object,
          field: fieldPath,
        },
      );
      return;
    }
    // The line of the list entry itself (`- name: …`), even when it is an alias.
    const offset = startOf(item) ?? startOf(node) ?? 0;
    ctx.out.containers.push({
      file: ctx.file,
      doc: ctx.doc,
      reader: ctx.reader,
      object,
      isPod,
      listField,
      index,
      fieldPath,
      node,
      offset,
      podSpec,
    });
  });
}
