// Inspecting the containers of loaded manifests: what the API server and the kubelet do with
// each container's image and pull policy. Pure (no I/O, no mutation of the inputs).
//
// Owns `inspectManifests`, which for every container found by walk.ts works out, in the order
// the API server does it on create:
//   1. defaulting (SetDefaults_Container → policy `effectivePullPolicy`), for every kind;
//   2. with `alwaysPullImages`, the AlwaysPullImages plugin's Admit as a CREATE of each Pod —
//      only core Pods: the plugin ignores every other resource, so Deployment/Job/… templates
//      keep their policy (the Pods their controllers create are forced when *they* are created);
//   3. validation (policy `validateContainer`, `pod: true` for Pods, `pod: false` for pod
//      templates) plus the object-level checks on the container lists that concern us
//      (`spec.containers: Required value`, ephemeral containers forbidden on create and in
//      templates — pkg/apis/core/validation/validation.go ValidatePodSpec, ValidatePodCreate,
//      ValidatePodTemplateSpec);
//   4. the kubelet's decision for an image present / absent (`describeKubeletAction`) and lint.
// The write-back plan (which YAML node gets which `imagePullPolicy`) is kept with the report
// for write-back.ts.

import { type FieldError, fieldForbidden, fieldInvalid, fieldRequired } from "../go/index.ts";
import type { Finding, PullPolicy } from "../policy/index.ts";
import {
  admitAlwaysPullImages,
  describeKubeletAction,
  effectivePullPolicy,
  lintContainer,
  podCreateRequest,
  validateContainer,
} from "../policy/index.ts";
import type { DigestAlgorithm } from "../ref/index.ts";
import type { EditPlan } from "./edit-plan.ts";
import { planEdit } from "./edit-plan.ts";
import type { ManifestFile } from "./load.ts";
import type { MMap } from "./tree.ts";
import { yamlPeer } from "./tree.ts";
import type {
  AdmissionOutcome,
  ContainerReport,
  ContainerType,
  KubeletOutcome,
  ManifestProblem,
  ManifestReport,
  ObjectLocation,
} from "./types.ts";
import type { ContainerField, FoundContainer, FoundPodSpec } from "./walk.ts";
import { walkManifests } from "./walk.ts";
import type { Found } from "./yaml-nodes.ts";
import { deref, findPair, isScalar, scalarValue } from "./yaml-nodes.ts";

export interface InspectOptions {
  /** Apply the AlwaysPullImages admission plugin to every Pod (as a CREATE). Default false. */
  readonly alwaysPullImages?: boolean | undefined;
  /** Digest algorithms accepted in image references (default: sha256, sha384, sha512). */
  readonly digestAlgorithms?: readonly DigestAlgorithm[] | undefined;
  /**
   * Model the kubelet with KubeletEnsureSecretPulledImages on (default since 1.35; default true
   * here). Only changes the wording of the "already present" event.
   */
  readonly ensureSecretPulledImages?: boolean | undefined;
}

/** One planned `imagePullPolicy` write-back. */
export interface PolicyEdit {
  readonly file: ManifestFile;
  readonly container: FoundContainer;
  readonly plan: EditPlan;
}

const editsByReport = new WeakMap<ManifestReport, readonly PolicyEdit[]>();

/** The write-back plan of a report (for write-back.ts). */
export function plannedEdits(report: ManifestReport): readonly PolicyEdit[] {
  return editsByReport.get(report) ?? [];
}

const CONTAINER_TYPE: Readonly<Record<ContainerField, ContainerType>> = {
  initContainers: "initContainer",
  containers: "container",
  ephemeralContainers: "ephemeralContainer",
};

interface RawContainer {
  readonly found: FoundContainer;
  readonly name: unknown;
  readonly image: unknown;
  /** undefined when absent. */
  readonly declared: unknown;
  readonly policyPair: Found | undefined;
}

function readContainer(c: FoundContainer): RawContainer {
  const r = c.reader;
  const field = (key: string): { value: unknown; pair: Found | undefined } => {
    const pair = findPair(r, c.node, key);
    if (pair === undefined) return { value: undefined, pair };
    const node = deref(r, pair.pair.value);
    if (node === undefined) return { value: null, pair };
    // Maps and lists where a string belongs: their JSON value, so validation reports it.
    const v = isScalar(node)
      ? scalarValue(node)
      : yamlPeer(r.doc, node).toJS(r.doc.document, { maxAliasCount: 100 });
    return { value: v, pair };
  };
  const policy = field("imagePullPolicy");
  return {
    found: c,
    name: field("name").value,
    image: field("image").value,
    declared: policy.value,
    policyPair: policy.pair,
  };
}

/** "a boolean (true)" for messages about non-string scalars. */
function typeText(v: unknown): string {
  if (typeof v === "boolean") return `a boolean (${v})`;
  if (typeof v === "number") return `a number (${v})`;
  if (Array.isArray(v)) return "a list";
  if (v !== null && typeof v === "object") return "a map";
  return `a ${typeof v}`;
}

const YAML11_HINT =
  "YAML 1.1 (what Kubernetes reads) turns unquoted yes/no/on/off/y/n into booleans — quote the value";

/** Inspects every container of the given files. Never throws on malformed manifests. */
export function inspectManifests(
  files: readonly ManifestFile[],
  opts: InspectOptions = {},
): ManifestReport {
  const walk = walkManifests(files);
  const parseOpts = opts.digestAlgorithms ? { digestAlgorithms: opts.digestAlgorithms } : {};
  const gateOn = opts.ensureSecretPulledImages ?? true;
  const problems: ManifestProblem[] = [...walk.problems];
  const raws = walk.containers.map(readContainer);

  // Defaulting (step 1).
  const defaulted = raws.map((raw) => {
    const d = raw.declared;
    if (d !== undefined && d !== null && typeof d !== "string") {
      return {
        policy: null,
        defaulted: false,
        rule: "not-a-string",
        reason: `imagePullPolicy is ${typeText(d)}, not a string, so the API server rejects the object while decoding it; ${YAML11_HINT}`,
      } as const;
    }
    const image = typeof raw.image === "string" ? raw.image : "";
    const e = effectivePullPolicy(d ?? undefined, image, parseOpts);
    return { policy: e.policy, defaulted: e.defaulted, rule: e.rule, reason: e.reason };
  });

  // Admission (step 2): one CREATE per Pod object.
  const admitted = new Map<RawContainer, AdmissionOutcome>();
  let admittedPods = 0;
  if (opts.alwaysPullImages === true) {
    const byPod = new Map<ObjectLocation, number[]>();
    raws.forEach((raw, i) => {
      if (!raw.found.isPod) return;
      const list = byPod.get(raw.found.object) ?? [];
      list.push(i);
      byPod.set(raw.found.object, list);
    });
    for (const spec of walk.podSpecs) {
      if (!spec.isPod) continue;
      admittedPods++;
      const indices = byPod.get(spec.object) ?? [];
      const podSpec: Record<string, unknown[]> = {};
      for (const i of indices) {
        const raw = raws[i];
        const d = defaulted[i];
        if (raw === undefined || d === undefined) continue;
        const list = podSpec[raw.found.listField] ?? [];
        podSpec[raw.found.listField] = list;
        // Keep upstream indices: non-map entries stay as holes the plugin skips.
        while (list.length < raw.found.index) list.push(null);
        list[raw.found.index] = {
          name: raw.name,
          image: raw.image,
          imagePullPolicy: d.policy ?? raw.declared,
        };
      }
      const result = admitAlwaysPullImages(
        podCreateRequest({
          kind: "Pod",
          metadata: { name: spec.object.name, namespace: spec.object.namespace },
          spec: podSpec,
        }),
      );
      const changed = new Map(result.changes.map((ch) => [ch.field, ch]));
      for (const i of indices) {
        const raw = raws[i];
        const d = defaulted[i];
        if (raw === undefined || d === undefined) continue;
        // A policy that is not a string never gets past decoding, so admission never sees it.
        if (d.rule === "not-a-string") continue;
        const ch = changed.get(`${raw.found.fieldPath}.imagePullPolicy`);
        admitted.set(raw, {
          plugin: "AlwaysPullImages",
          changed: ch !== undefined,
          from: ch ? ch.from : "Always",
          to: "Always",
        });
      }
    }
  }

  // Validation, kubelet and lint (steps 3 and 4).
  const edits: PolicyEdit[] = [];
  const containers: ContainerReport[] = raws.map((raw, i) => {
    const c = raw.found;
    const d = defaulted[i] ?? { policy: null, defaulted: false, rule: "", reason: "" };
    const admission = admitted.get(raw) ?? null;
    const stored: PullPolicy | null = admission ? "Always" : d.policy;
    const image = typeof raw.image === "string" ? raw.image : null;

    const errors: FieldError[] = [];
    if (raw.name !== undefined && raw.name !== null && typeof raw.name !== "string") {
      errors.push(
        fieldInvalid(`${c.fieldPath}.name`, raw.name, `must be a string; ${YAML11_HINT}`),
      );
    }
    errors.push(
      ...validateContainer(
        {
          name: raw.name,
          image: raw.image,
          // The API validates the defaulted (and admitted) object; a non-string is kept so it
          // is reported.
          imagePullPolicy: d.rule === "not-a-string" ? raw.declared : (stored ?? raw.declared),
        },
        c.fieldPath,
        // Ephemeral containers get the Pod-only checks in templates too (validateEphemeralContainers
        // calls validateContainerOnlyForPod), which the API server confirms.
        { pod: c.isPod || c.listField === "ephemeralContainers" },
      ),
    );

    let kubelet: KubeletOutcome | null = null;
    // What reaches the node is a Pod: with AlwaysPullImages on, the Pods a workload's template
    // creates are forced to Always when they are created, whatever the template says.
    const onNode: PullPolicy | null =
      opts.alwaysPullImages === true && !c.isPod && stored !== null ? "Always" : stored;
    if (onNode !== null && image !== null) {
      const describe = (present: boolean) =>
        describeKubeletAction(image, onNode, present, {
          ...parseOpts,
          ...(gateOn ? { verification: { mustAttemptPull: false } } : {}),
        });
      kubelet = { imagePresent: describe(true), imageAbsent: describe(false) };
    }

    const findings: Finding[] =
      image === null || image === ""
        ? []
        : lintContainer(
            {
              image,
              declaredPolicy: typeof raw.declared === "string" ? raw.declared : undefined,
              effectivePolicy: stored ?? undefined,
            },
            parseOpts,
          );

    const changed = stored !== null && raw.declared !== stored;
    if (changed) {
      edits.push({
        file: c.file,
        container: c,
        plan: planEdit(c.file, c.doc, c.node, raw.policyPair, stored),
      });
    }

    const pos = c.file.position(c.offset);
    const o = c.object;
    // Listed one by one: a spread plus this many keys makes V8 build slow dictionary objects
    // (40× slower on large streams).
    return {
      kind: o.kind,
      kindImplied: o.kindImplied,
      apiVersion: o.apiVersion,
      name: o.name,
      generateName: o.generateName,
      namespace: o.namespace,
      namespaceImplied: o.namespaceImplied,
      itemPath: o.itemPath,
      source: o.source,
      line: pos.line,
      column: pos.column,
      objectLine: o.line,
      fieldPath: c.fieldPath,
      containerType: CONTAINER_TYPE[c.listField],
      containerName: typeof raw.name === "string" ? raw.name : null,
      image,
      declaredPolicy: raw.declared === undefined ? null : raw.declared,
      effectivePolicy: d.policy,
      defaulted: d.defaulted,
      rule: d.rule,
      reason: d.reason,
      admission,
      storedPolicy: stored,
      changed,
      kubelet,
      errors,
      findings,
    };
  });

  problems.push(...podSpecProblems(walk.podSpecs));
  problems.push(...sharedNodeProblems(edits));

  const notes: string[] = [];
  if (opts.alwaysPullImages === true) {
    notes.push(
      `AlwaysPullImages was applied as a CREATE of each Pod (${admittedPods} Pod${admittedPods === 1 ? "" : "s"}); ` +
        "pod templates of other kinds (Deployment, Job, CronJob…) are left as written, because " +
        "the plugin only handles core pods — the Pods their controllers create are forced to Always when those are created.",
    );
  }
  if (containers.some((c) => c.namespaceImplied)) {
    notes.push(
      "Objects without metadata.namespace are shown in namespace default; kubectl would use the namespace of the current context.",
    );
  }

  let errorCount = problems.filter((p) => p.severity === "error").length;
  let warnings = problems.length - errorCount;
  let infos = 0;
  for (const c of containers) {
    errorCount += c.errors.length;
    for (const f of c.findings) {
      if (f.severity === "error") errorCount++;
      else if (f.severity === "warning") warnings++;
      else infos++;
    }
  }
  const report: ManifestReport = {
    containers,
    problems: sortProblems(problems, files),
    skipped: walk.skipped,
    notes,
    summary: {
      files: files.length,
      documents: files.reduce((n, f) => n + f.documents.length, 0),
      objects: walk.podSpecs.length + walk.skipped.length,
      containers: containers.length,
      errors: errorCount,
      warnings,
      infos,
      skipped: walk.skipped.length,
      changed: containers.filter((c) => c.changed).length,
      admittedPods,
    },
  };
  editsByReport.set(report, edits);
  return report;
}

/** Object-level validation of the container lists (not covered by validateContainer). */
function podSpecProblems(specs: readonly FoundPodSpec[]): ManifestProblem[] {
  const out: ManifestProblem[] = [];
  for (const s of specs) {
    const errs: FieldError[] = [];
    // ValidatePodSpec → validateContainers: at least one regular container.
    if ((s.lists.containers ?? 0) === 0) errs.push(fieldRequired(`${s.specPath}.containers`));
    if ((s.lists.ephemeralContainers ?? 0) > 0) {
      errs.push(
        s.isPod
          ? // ValidatePodCreate: added later through the pods/ephemeralcontainers subresource.
            fieldForbidden(`${s.specPath}.ephemeralContainers`, "cannot be set on create")
          : // ValidatePodTemplateSpec.
            fieldForbidden(
              `${s.specPath}.ephemeralContainers`,
              "ephemeral containers not allowed in pod template",
            ),
      );
    }
    for (const e of errs) {
      out.push({
        code: "VALIDATION",
        severity: "error",
        source: s.object.source,
        line: s.object.line,
        column: 1,
        kind: s.object.kind,
        name: s.object.name,
        namespace: s.object.namespace,
        itemPath: s.object.itemPath,
        field: e.field,
        message: e.message,
      });
    }
  }
  return out;
}

/**
 * A container map reached through several aliases is one YAML node: it can take one value.
 * Keep the first edit and report the conflict (only possible in a List mixing Pods and
 * templates that share an anchored container under AlwaysPullImages).
 */
function sharedNodeProblems(edits: PolicyEdit[]): ManifestProblem[] {
  const out: ManifestProblem[] = [];
  const seen = new Map<MMap, PolicyEdit>();
  const problem = (e: PolicyEdit, message: string): ManifestProblem => ({
    code: "WRITE_BACK",
    severity: "warning",
    source: e.file.source,
    line: e.file.position(e.container.offset).line,
    column: 1,
    kind: e.container.object.kind,
    name: e.container.object.name,
    namespace: e.container.object.namespace,
    itemPath: e.container.object.itemPath,
    field: `${e.container.fieldPath}.imagePullPolicy`,
    message,
  });
  for (let i = 0; i < edits.length; i++) {
    const e = edits[i];
    if (e === undefined) continue;
    // The container's map is the plan's map (`EditPlan.map` is its `yaml` peer).
    const first = seen.get(e.container.node);
    if (first === undefined) {
      seen.set(e.container.node, e);
      if (e.plan.text === undefined) {
        out.push(
          problem(
            e,
            `cannot place imagePullPolicy: ${e.plan.value} in the text of this container; the written YAML leaves it out`,
          ),
        );
      }
      continue;
    }
    edits.splice(i--, 1);
    if (first.plan.value === e.plan.value) continue;
    out.push(
      problem(
        e,
        `this container is a YAML alias of another container that is stored with imagePullPolicy ${first.plan.value}; it would be stored with ${e.plan.value}, which one shared node cannot express — the written YAML keeps ${first.plan.value}`,
      ),
    );
  }
  return out;
}

function sortProblems(
  problems: ManifestProblem[],
  files: readonly ManifestFile[],
): ManifestProblem[] {
  // Stable: by input file, then line.
  const order = new Map<string, number>();
  for (const f of files) if (!order.has(f.source)) order.set(f.source, order.size);
  return problems
    .map((p, i) => ({ p, i }))
    .sort(
      (a, b) =>
        (order.get(a.p.source) ?? 0) - (order.get(b.p.source) ?? 0) ||
        a.p.line - b.p.line ||
        a.i - b.i,
    )
    .map((x) => x.p);
}
