// A seeded corpus of Kubernetes objects for the API server differential test (issue 12 §4):
// Pods and every workload kind, with init and regular containers, images in every shape the
// reference grammar has (tag, digest, both, `latest`, a port, IPv6, upper case, whitespace,
// 255+ characters, empty) and policies set, unset and invalid. Deterministic: the same seed
// gives the same objects on every run.

import { mulberry32 } from "../helpers/prng.ts";

const HEX = "0123456789abcdef";
const DIGEST = `sha256:${"4f53cda18c2baa0c0354bb5f9a3ecbe5ed12ab4d8e11ba873c2f11161202b945"}`;

/** Images: each shape at least once, most of them many times. */
export const IMAGES: readonly string[] = [
  "nginx",
  "nginx:latest",
  "nginx:1.25",
  "library/nginx:1.25-alpine",
  "docker.io/library/nginx",
  "registry.example.com:5000/team/app",
  "registry.example.com:5000/team/app:v1.2.3",
  "localhost:5000/app:latest",
  `nginx@${DIGEST}`,
  `nginx:1.25@${DIGEST}`,
  `nginx:latest@${DIGEST}`,
  `registry.example.com:5000/team/app@${DIGEST}`,
  "[::1]:5000/app:v1",
  "[fd00::1]/app",
  "Nginx:1.25",
  "registry.Example.com/app:v1",
  " nginx:1.25",
  "nginx:1.25 ",
  "nginx: 1.25",
  "",
  `example.com/${"a".repeat(250)}:v1`,
  `example.com/${"a".repeat(260)}`,
  "nginx:",
  "nginx@sha256:abc",
  "ghcr.io/org/tool:LATEST",
  "quay.io/org/tool:latest",
  "a/b/c/d/e:1",
  "nginx:v1_beta",
  "nginx:-bad",
];

/** Declared policies: unset (undefined), empty, the three, and invalid spellings. */
export const POLICIES: readonly (string | undefined)[] = [
  undefined,
  undefined,
  "",
  "Always",
  "IfNotPresent",
  "Never",
  "always",
  "Sometimes",
];

export const KINDS = [
  "Pod",
  "Deployment",
  "StatefulSet",
  "DaemonSet",
  "ReplicaSet",
  "ReplicationController",
  "Job",
  "CronJob",
  "PodTemplate",
] as const;
export type Kind = (typeof KINDS)[number];

export interface CorpusObject {
  readonly kind: Kind;
  readonly name: string;
  readonly object: Record<string, unknown>;
}

function container(name: string, image: string, policy: string | undefined) {
  return { name, image, ...(policy === undefined ? {} : { imagePullPolicy: policy }) };
}

function podSpec(r: () => number, pick: <T>(xs: readonly T[]) => T, restart: string) {
  const n = 1 + Math.floor(r() * 3);
  const containers = Array.from({ length: n }, (_, i) =>
    container(`c${i}`, pick(IMAGES), pick(POLICIES)),
  );
  const spec: Record<string, unknown> = { containers, restartPolicy: restart };
  if (r() < 0.3) spec.initContainers = [container("init0", pick(IMAGES), pick(POLICIES))];
  // Ephemeral containers cannot be set on create (the API server refuses them): kimg must say
  // so with the same field error.
  if (r() < 0.1) spec.ephemeralContainers = [container("debug0", pick(IMAGES), pick(POLICIES))];
  return spec;
}

export function corpus(count: number, seed = 12): CorpusObject[] {
  const r = mulberry32(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
  const out: CorpusObject[] = [];
  for (let i = 0; i < count; i++) {
    const kind = KINDS[i % KINDS.length] as Kind;
    const name = `g${i}-${HEX[i % 16]}`;
    const labels = { app: name };
    const meta = { name, labels };
    const restart = kind === "Job" || kind === "CronJob" ? "Never" : "Always";
    const spec = podSpec(r, pick, restart);
    const template = { metadata: { labels }, spec };
    let object: Record<string, unknown>;
    switch (kind) {
      case "Pod":
        object = { apiVersion: "v1", kind, metadata: meta, spec };
        break;
      case "PodTemplate":
        object = { apiVersion: "v1", kind, metadata: meta, template };
        break;
      case "ReplicationController":
        object = { apiVersion: "v1", kind, metadata: meta, spec: { selector: labels, template } };
        break;
      case "Job":
        object = { apiVersion: "batch/v1", kind, metadata: meta, spec: { template } };
        break;
      case "CronJob":
        object = {
          apiVersion: "batch/v1",
          kind,
          metadata: meta,
          spec: { schedule: "*/5 * * * *", jobTemplate: { spec: { template } } },
        };
        break;
      case "StatefulSet":
        object = {
          apiVersion: "apps/v1",
          kind,
          metadata: meta,
          spec: { selector: { matchLabels: labels }, serviceName: name, template },
        };
        break;
      default:
        object = {
          apiVersion: "apps/v1",
          kind,
          metadata: meta,
          spec: { selector: { matchLabels: labels }, template },
        };
    }
    out.push({ kind, name, object });
  }
  return out;
}

/** The REST path a kind is created at, in namespace `ns`. */
export function collectionPath(kind: Kind, ns: string): string {
  const core = (plural: string) => `/api/v1/namespaces/${ns}/${plural}`;
  const group = (g: string, plural: string) => `/apis/${g}/namespaces/${ns}/${plural}`;
  switch (kind) {
    case "Pod":
      return core("pods");
    case "PodTemplate":
      return core("podtemplates");
    case "ReplicationController":
      return core("replicationcontrollers");
    case "Job":
      return group("batch/v1", "jobs");
    case "CronJob":
      return group("batch/v1", "cronjobs");
    case "StatefulSet":
      return group("apps/v1", "statefulsets");
    case "DaemonSet":
      return group("apps/v1", "daemonsets");
    case "ReplicaSet":
      return group("apps/v1", "replicasets");
    case "Deployment":
      return group("apps/v1", "deployments");
  }
}

/** Images a Pod can be created with (set, no surrounding whitespace), for the update corpus. */
const CREATABLE = IMAGES.filter((i) => i !== "" && i.trim() === i);
const CREATE_POLICIES: readonly (string | undefined)[] = [
  undefined,
  "Always",
  "IfNotPresent",
  "Never",
];

/** One update: a Pod to create for real, then a dry-run PUT made from what was stored. */
export interface UpdateCase {
  readonly name: string;
  /** `pods/NAME`, or its `ephemeralcontainers` subresource. */
  readonly subresource: "" | "ephemeralcontainers";
  readonly pod: Record<string, unknown>;
  /** The PUT body, from the stored pod (never modified). */
  edit(stored: Record<string, unknown>): Record<string, unknown>;
}

type Edit = (spec: Record<string, unknown>) => void;

/**
 * Updates that change images (issue 12 §4): each container's image kept or changed to any shape,
 * its policy kept, changed, removed or made invalid; now and then a container added; and a
 * quarter of the cases add an ephemeral container through the subresource.
 */
export function updateCorpus(count: number, seed = 1212): UpdateCase[] {
  const r = mulberry32(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
  const out: UpdateCase[] = [];
  for (let i = 0; i < count; i++) {
    const name = `u${i}-${HEX[i % 16]}`;
    const n = 1 + Math.floor(r() * 2);
    const containers = Array.from({ length: n }, (_, j) =>
      container(`c${j}`, pick(CREATABLE), pick(CREATE_POLICIES)),
    );
    const spec: Record<string, unknown> = { containers, restartPolicy: "Always" };
    if (r() < 0.3)
      spec.initContainers = [container("init0", pick(CREATABLE), pick(CREATE_POLICIES))];
    const pod = { apiVersion: "v1", kind: "Pod", metadata: { name }, spec };
    const edits: Edit[] = [];
    const subresource = r() < 0.25 ? "ephemeralcontainers" : "";
    if (subresource === "ephemeralcontainers") {
      const debug = container("debug0", pick(IMAGES), pick(POLICIES));
      edits.push((s) => {
        s.ephemeralContainers = [debug];
      });
    } else {
      for (const list of ["initContainers", "containers"] as const) {
        const size = ((spec[list] as unknown[] | undefined) ?? []).length;
        for (let j = 0; j < size; j++) {
          const image = r() < 0.5 ? pick(IMAGES) : undefined;
          const policy = r() < 0.4 ? { to: pick(POLICIES) } : undefined;
          edits.push((s) => {
            const c = (s[list] as Record<string, unknown>[])[j] as Record<string, unknown>;
            if (image !== undefined) c.image = image;
            if (policy !== undefined) {
              if (policy.to === undefined) delete c.imagePullPolicy;
              else c.imagePullPolicy = policy.to;
            }
          });
        }
      }
      if (r() < 0.05) {
        const extra = container("added", pick(CREATABLE), pick(CREATE_POLICIES));
        edits.push((s) => {
          (s.containers as unknown[]).push(extra);
        });
      }
    }
    out.push({
      name,
      subresource,
      pod,
      edit(stored) {
        const body = structuredClone(stored);
        for (const e of edits) e(body.spec as Record<string, unknown>);
        return body;
      },
    });
  }
  return out;
}
