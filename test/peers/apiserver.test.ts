// kimg policy against a real kube-apiserver (issue 12 §4, "API server"): a seeded corpus of
// 2,007 objects (Pods and every workload kind) is created with server-side dry-run
// (`?dryRun=All`, what `kubectl create --dry-run=server` sends), with AlwaysPullImages off and
// on, and kimg's report (`kimg policy --json`, the library's inspectManifests) must agree on
// every container's stored imagePullPolicy, on accepted or rejected, and on each rejection's
// field errors, byte for byte. Differences are listed in docs/fidelity.md; this test fails on
// any that is not.

import assert from "node:assert/strict";
import { Agent, request } from "node:https";
import { after, before, describe, it } from "node:test";
import {
  type AdmissionRequest,
  admitAlwaysPullImages,
  defaultPodPullPolicies,
  inspectManifests,
  loadManifests,
  validateAlwaysPullImages,
  validatePodEphemeralContainersUpdate,
  validatePodUpdate,
} from "../../src/index.ts";
import { type ControlPlane, startControlPlane } from "../helpers/cluster.ts";
import {
  type CorpusObject,
  collectionPath,
  corpus,
  type UpdateCase,
  updateCorpus,
} from "./corpus.ts";

const COUNT = Number(process.env.KIMG_FIDELITY_OBJECTS ?? 2007);
const UPDATES = Number(process.env.KIMG_FIDELITY_UPDATES ?? 400);
const LISTS = ["initContainers", "containers", "ephemeralContainers"] as const;
const NS = "fidelity";

interface Answer {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

/** POST …?dryRun=All with one keep-alive connection pool. */
function dryRunCreate(cp: ControlPlane, agent: Agent, o: CorpusObject): Promise<Answer> {
  return post(cp, agent, `${collectionPath(o.kind, NS)}?dryRun=All`, o.object);
}

/** A POST of JSON to the API server as the admin. */
function post(cp: ControlPlane, agent: Agent, path: string, body: unknown): Promise<Answer> {
  return send(cp, agent, "POST", path, body);
}

/** A request with a JSON body to the API server as the admin. */
function send(
  cp: ControlPlane,
  agent: Agent,
  method: "POST" | "PUT",
  path: string,
  body: unknown,
): Promise<Answer> {
  const url = new URL(`${cp.url}${path}`);
  const token = cp.token;
  const data = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method,
        agent,
        rejectUnauthorized: false,
        headers: {
          authorization: `Bearer ${token}`,
          "content-type": "application/json",
          "content-length": Buffer.byteLength(data),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            body: JSON.parse(Buffer.concat(chunks).toString("utf8")) as Record<string, unknown>,
          }),
        );
      },
    );
    req.on("error", reject);
    req.end(data);
  });
}

/** The pod spec inside an object as the API server stored it. */
function podSpecOf(kind: string, obj: Record<string, unknown>): Record<string, unknown> {
  const at = (o: unknown, ...path: string[]): Record<string, unknown> =>
    path.reduce((x, k) => (x as Record<string, unknown>)[k], o) as Record<string, unknown>;
  switch (kind) {
    case "Pod":
      return at(obj, "spec");
    case "PodTemplate":
      return at(obj, "template", "spec");
    case "CronJob":
      return at(obj, "spec", "jobTemplate", "spec", "template", "spec");
    default:
      return at(obj, "spec", "template", "spec");
  }
}

/**
 * What the API server decided about one object, in comparable lines. The Forbidden cause of a
 * Pod update ends in a go-cmp diff whose spacing is random by design; only its first line is
 * compared (see validatePodUpdate).
 */
function serverLines(kind: string, a: Answer): string[] {
  if (a.status === 201 || a.status === 200) {
    const spec = podSpecOf(kind, a.body);
    const lines = ["accepted"];
    for (const list of LISTS) {
      for (const c of (spec[list] as { name: string; imagePullPolicy?: string }[]) ?? []) {
        lines.push(`${list}/${c.name}: ${c.imagePullPolicy ?? "<none>"}`);
      }
    }
    return lines;
  }
  const details = a.body.details as { causes?: { field?: string; message?: string }[] } | undefined;
  const causes = (details?.causes ?? []).map((c) => firstLine(`${c.field}: ${c.message}`)).sort();
  return [`rejected ${a.status}`, ...(causes.length > 0 ? causes : [String(a.body.message)])];
}

function firstLine(s: string): string {
  const i = s.indexOf("\n");
  return i < 0 ? s : s.slice(0, i);
}

/** What kimg says about the same object. */
function kimgLines(o: CorpusObject, report: ReturnType<typeof inspectManifests>): string[] {
  const mine = report.containers.filter((c) => c.name === o.name && c.kind === o.kind);
  // Container errors, and the object's own (`spec.containers: Required value`, ephemeral
  // containers on create or in a template), which kimg reports as problems.
  const objectErrors = report.problems
    .filter((p) => p.code === "VALIDATION" && p.name === o.name && p.kind === o.kind)
    .map((p) => p.message);
  const errors = [...mine.flatMap((c) => c.errors.map((e) => e.message)), ...objectErrors].sort();
  if (errors.length > 0) return ["rejected 422", ...errors];
  const lines = ["accepted"];
  for (const list of LISTS) {
    for (const c of mine.filter((x) => x.fieldPath.includes(`.${list}[`))) {
      lines.push(`${list}/${c.containerName}: ${c.storedPolicy ?? "<none>"}`);
    }
  }
  return lines;
}

type Pod = Record<string, unknown> & { spec: Record<string, unknown> };

/**
 * What kimg says about a dry-run PUT of `body` over `stored`: defaulting on decode, the
 * AlwaysPullImages plugin's Admit (mutating), the update validation, then its Validate.
 */
function kimgUpdateLines(c: UpdateCase, body: Pod, stored: Pod, alwaysPullImages: boolean) {
  const request = (object: unknown): AdmissionRequest => ({
    operation: "UPDATE",
    resource: { group: "", resource: "pods" },
    kind: { group: "", version: "v1", kind: "Pod" },
    subResource: c.subresource,
    name: c.name,
    object,
    oldObject: stored,
  });
  let next = defaultPodPullPolicies(body) as Pod;
  if (alwaysPullImages) next = admitAlwaysPullImages(request(next)).object as Pod;
  let errors: readonly { message: string }[];
  if (c.subresource === "ephemeralcontainers") {
    // The subresource's strategy keeps only the request's ephemeral containers.
    next = {
      ...stored,
      spec: { ...stored.spec, ephemeralContainers: next.spec.ephemeralContainers },
    };
    errors = validatePodEphemeralContainersUpdate(next, stored);
  } else {
    errors = validatePodUpdate(next, stored);
  }
  if (errors.length > 0) return ["rejected 422", ...errors.map((e) => firstLine(e.message)).sort()];
  if (alwaysPullImages) {
    const v = validateAlwaysPullImages(request(next));
    if (v.status !== null) return [`rejected ${v.status.code}`, v.status.message];
  }
  const lines = ["accepted"];
  for (const list of LISTS) {
    for (const x of (next.spec[list] as { name: string; imagePullPolicy?: string }[]) ?? []) {
      lines.push(`${list}/${x.name}: ${x.imagePullPolicy ?? "<none>"}`);
    }
  }
  return lines;
}

for (const alwaysPullImages of [false, true]) {
  describe(`kube-apiserver vs kimg policy, AlwaysPullImages ${alwaysPullImages ? "on" : "off"}`, {
    timeout: 900_000,
  }, () => {
    let cp: ControlPlane;
    const agent = new Agent({ keepAlive: true, maxSockets: 8 });
    before(async () => {
      cp = await startControlPlane({ alwaysPullImages });
      // No controller-manager here: the ServiceAccount admission plugin needs `default`.
      for (const [path, body] of [
        ["/api/v1/namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name: NS } }],
        [
          `/api/v1/namespaces/${NS}/serviceaccounts`,
          { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "default" } },
        ],
      ] as const) {
        const r = await post(cp, agent, path, body);
        assert.equal(r.status, 201, JSON.stringify(r.body));
      }
    });
    after(async () => {
      agent.destroy();
      await cp?.stop();
    });

    it(`${COUNT} objects: stored policies, accepted or rejected, field errors byte for byte`, async () => {
      const objects = corpus(COUNT);
      const text = objects
        .map((o) =>
          JSON.stringify({
            ...o.object,
            metadata: { ...(o.object.metadata as object), namespace: NS },
          }),
        )
        .join("\n---\n");
      const report = inspectManifests([loadManifests(text, "corpus.json")], { alwaysPullImages });
      const diffs: string[] = [];
      let containers = 0;
      let rejected = 0;
      for (let i = 0; i < objects.length; i += 16) {
        const batch = objects.slice(i, i + 16);
        const answers = await Promise.all(batch.map((o) => dryRunCreate(cp, agent, o)));
        batch.forEach((o, j) => {
          const a = answers[j] as Answer;
          const server = serverLines(o.kind, a);
          const kimg = kimgLines(o, report);
          containers += server.length - 1;
          if (server[0] !== "accepted") rejected++;
          if (JSON.stringify(server) !== JSON.stringify(kimg)) {
            diffs.push(
              `${o.kind}/${o.name}\n  server: ${server.join(" | ")}\n  kimg:   ${kimg.join(" | ")}`,
            );
          }
        });
      }
      console.log(
        `# fidelity: ${objects.length} objects, ${rejected} rejected, ${containers} containers or errors, ${diffs.length} differences (AlwaysPullImages ${alwaysPullImages})`,
      );
      assert.deepEqual(diffs.slice(0, 25), [], `${diffs.length} differences`);
      // The corpus must exercise both outcomes, or agreement would prove little.
      assert.ok(rejected > objects.length / 10 && rejected < objects.length * 0.9, `${rejected}`);
    });

    it(`${UPDATES} updates of existing Pods (images changed, policies changed, ephemeral containers added)`, async () => {
      const cases = updateCorpus(UPDATES);
      const diffs: string[] = [];
      let rejected = 0;
      let ephemeral = 0;
      const seen = { immutable: 0, addRemove: 0, ephemeralAccepted: 0, forcedAlways: 0 };
      for (let i = 0; i < cases.length; i += 16) {
        const batch = cases.slice(i, i + 16);
        const created = await Promise.all(
          batch.map((c) => post(cp, agent, `/api/v1/namespaces/${NS}/pods`, c.pod)),
        );
        const answers = await Promise.all(
          batch.map((c, j) => {
            const made = created[j] as Answer;
            assert.equal(made.status, 201, `${c.name}: ${JSON.stringify(made.body)}`);
            const sub = c.subresource === "" ? "" : `/${c.subresource}`;
            const path = `/api/v1/namespaces/${NS}/pods/${c.name}${sub}?dryRun=All`;
            return send(cp, agent, "PUT", path, c.edit(made.body));
          }),
        );
        batch.forEach((c, j) => {
          const stored = (created[j] as Answer).body as Pod;
          const server = serverLines("Pod", answers[j] as Answer);
          const kimg = kimgUpdateLines(c, c.edit(stored) as Pod, stored, alwaysPullImages);
          if (server[0] !== "accepted") rejected++;
          if (c.subresource !== "") ephemeral++;
          const text = server.join("\n");
          if (text.includes("spec: Forbidden: pod updates may not change fields")) seen.immutable++;
          if (text.includes("may not add or remove containers")) seen.addRemove++;
          if (server[0] === "accepted" && text.includes("ephemeralContainers/")) {
            seen.ephemeralAccepted++;
          }
          const asked = JSON.stringify(c.edit(stored));
          if (
            server[0] === "accepted" &&
            alwaysPullImages &&
            /"(IfNotPresent|Never)"/.test(asked)
          ) {
            if (!/(IfNotPresent|Never)/.test(text)) seen.forcedAlways++;
          }
          if (JSON.stringify(server) !== JSON.stringify(kimg)) {
            diffs.push(
              `${c.name}${c.subresource === "" ? "" : ` (${c.subresource})`}\n  server: ${server.join(" | ")}\n  kimg:   ${kimg.join(" | ")}`,
            );
          }
        });
      }
      console.log(
        `# fidelity: ${cases.length} updates (${ephemeral} through pods/ephemeralcontainers), ${rejected} rejected, ${diffs.length} differences (AlwaysPullImages ${alwaysPullImages}); ${JSON.stringify(seen)}`,
      );
      assert.deepEqual(diffs.slice(0, 25), [], `${diffs.length} differences`);
      assert.ok(rejected > cases.length / 10 && rejected < cases.length * 0.9, `${rejected}`);
    });
  });
}
