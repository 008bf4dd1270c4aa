// A real node: kubelet 1.37 and containerd 2.4 registered with a real kube-apiserver on
// loopback (test/helpers/cluster.ts, node.ts). The node becomes Ready, a Pod pulling an image
// from the local Distribution registry runs, and for a matrix of Pods (issue 12 §4 "kubelet":
// policies, image present or absent, private images with the right, a wrong or no secret, tag
// or digest, registry down, an unparsable name, KEP-2535 across tenants) the real kubelet and
// `kimg run` agree on:
// - the image events (reasons and messages, in order of first appearance);
// - the container's waiting reason;
// - which pulls happened (the registries' access logs, told apart by user agent);
// - the back-off schedule: every decision the kubelet made between a pull and `BackOff`,
//   replayed on kimg's back-off (src/kubelet/backoff.ts) at the kubelet's own sync times.

import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { ImageBackoff } from "../../src/kubelet/index.ts";
import { makeTempDir, removeTempDir } from "../helpers/cleanup.ts";
import { type ControlPlane, startControlPlane } from "../helpers/cluster.ts";
import { kimgPullJson, runKimg } from "../helpers/kimg-cli.ts";
import { type LoggedEvent, type Node, pushRunnableImage, startNode } from "../helpers/node.ts";
import { peerBin } from "../helpers/peers.ts";
import { type AccessLogLine, freePort, type Registry, startRegistry } from "../helpers/registry.ts";
import { inspect } from "../helpers/skopeo.ts";

const execFileP = promisify(execFile);
const NS = "kubelet-fidelity";
/** A second tenant, for KEP-2535: its pods must not use the first tenant's private image. */
const TENANT_B = "tenant-b";
const USER = { user: "alice", pass: "right-password" };
/** The events of the kubelet's image manager (pkg/kubelet/images), and its Failed/BackOff. */
const IMAGE_REASONS = new Set([
  "Pulling",
  "Pulled",
  "Failed",
  "BackOff",
  "ErrImageNeverPull",
  "InspectFailed",
]);

interface Ev {
  type: string;
  reason: string;
  message: string;
  firstTimestamp?: string;
  time?: string;
}

/**
 * An event as compared: durations masked, and the runtime's own error text after
 * `Failed to pull image "X": ` masked (it is containerd's words on the node, kimg's own in
 * kimg run: docs/fidelity.md).
 */
function eventText(e: Ev): string {
  const message = e.message
    .replace(
      / in [0-9.]+[mµn]?s \([0-9.]+[mµn]?s including waiting\)/,
      " in <d> (<d> including waiting)",
    )
    .replace(/^(Failed to pull image "[^"]*"): .*$/s, "$1: <runtime error>");
  return `${e.type} ${e.reason}: ${message}`;
}

/** Distinct events in order of first appearance (the API folds repeats into a count). */
const distinct = (events: readonly Ev[]): string[] => [
  ...new Set(events.filter((e) => IMAGE_REASONS.has(e.reason)).map(eventText)),
];

type Outcome = { running: true } | { waiting: string };

interface Case {
  readonly name: string;
  readonly namespace?: string;
  readonly image: () => string;
  readonly policy?: string;
  /** The pull secret the pod names: its credentials, and whether they are right. */
  readonly secret?: "right" | "wrong";
  readonly expect: Outcome;
  /** An image on the node (crictl pull) and in kimg run's store before the pod starts. */
  readonly prePull?: () => string;
  /** The repository whose requests are counted. */
  readonly repo?: string;
}

/** Which requests a client sent for a repository: manifests, blobs. */
function pullsOf(log: readonly AccessLogLine[], repo: string, agent: RegExp) {
  const mine = log.filter((l) => agent.test(l.userAgent) && l.path.startsWith(`/v2/${repo}/`));
  return {
    manifests: mine.some((l) => l.path.includes("/manifests/")),
    blobs: mine.some((l) => l.path.includes("/blobs/")),
  };
}

describe("a real kubelet and containerd", { timeout: 900_000 }, () => {
  let reg: Registry;
  let priv: Registry;
  let deadHost = "";
  let cp: ControlPlane;
  let node: Node;
  let digests = new Map<string, string>();

  before(async () => {
    reg = await startRegistry();
    priv = await startRegistry({ auth: "htpasswd", users: [USER] });
    deadHost = `127.0.0.1:${await freePort()}`;
    cp = await startControlPlane();
    node = await startNode(cp, { registry: reg, extraHosts: [priv.host, deadHost] });
    for (const args of [
      ["create", "namespace", NS],
      ["-n", NS, "create", "serviceaccount", "default"],
      ["create", "namespace", TENANT_B],
      ["-n", TENANT_B, "create", "serviceaccount", "default"],
    ]) {
      const r = await cp.kubectl(args);
      assert.equal(r.code, 0, r.stderr);
    }
    // Every case pulls its own repository and image (its own digests and image id), so the
    // access logs tell the cases apart and no pull record of one case is another's. The images
    // run: the pause binary waits for a signal.
    for (const repo of [
      "always-pull",
      "digest-absent",
      "always-present",
      "ifnotpresent-present",
      "unset-tag-present",
      "digest-present-never",
    ])
      await pushRunnableImage(reg, `cases/${repo}:v1`, { label: repo });
    await pushRunnableImage(reg, "cases/unset-latest:latest", { label: "unset-latest" });
    for (const repo of ["right", "wrong", "none"])
      await pushRunnableImage(priv, `private/${repo}:v1`, { label: repo, creds: USER });
    digests = new Map();
    for (const repo of ["digest-absent", "digest-present-never"])
      digests.set(repo, (await inspect(reg, `cases/${repo}:v1`)).Digest);
  });
  after(async () => {
    await node?.stop();
    await cp?.stop();
    await reg?.stop();
    await priv?.stop();
  });

  const secretYaml = (ns: string, name: string, pass: string) => {
    const auth = Buffer.from(`${USER.user}:${pass}`).toString("base64");
    const config = JSON.stringify({ auths: { [priv.host]: { auth } } });
    return `apiVersion: v1
kind: Secret
metadata: {name: ${name}, namespace: ${ns}}
type: kubernetes.io/dockerconfigjson
data:
  .dockerconfigjson: ${Buffer.from(config).toString("base64")}
`;
  };

  /** The Pod (and its Secret): the same text goes to the API server and to kimg run. */
  function manifest(c: Case): string {
    const ns = c.namespace ?? NS;
    const secretName = c.secret === undefined ? undefined : `${c.name}-${c.secret}`;
    const pod = `apiVersion: v1
kind: Pod
metadata: {name: ${c.name}, namespace: ${ns}}
spec:
  nodeName: ${node.name}
  automountServiceAccountToken: false
  dnsPolicy: Default
  tolerations: [{operator: Exists}]
${secretName !== undefined ? `  imagePullSecrets: [{name: ${secretName}}]\n` : ""}  containers:
  - name: app
    image: ${JSON.stringify(c.image())}
${c.policy !== undefined ? `    imagePullPolicy: ${c.policy}\n` : ""}`;
    if (secretName === undefined) return pod;
    const pass = c.secret === "right" ? USER.pass : "wrong-password";
    return `${secretYaml(ns, secretName, pass)}---\n${pod}`;
  }

  async function getPod(ns: string, name: string): Promise<Record<string, unknown> | undefined> {
    const r = await cp.kubectl(["-n", ns, "get", "pod", name, "-o", "json"]);
    return r.code === 0 ? (JSON.parse(r.stdout) as Record<string, unknown>) : undefined;
  }

  const waitingOf = (p: Record<string, unknown>): string =>
    (p.status as { containerStatuses?: { state?: { waiting?: { reason?: string } } }[] })
      .containerStatuses?.[0]?.state?.waiting?.reason ?? "";
  const phaseOf = (p: Record<string, unknown>) => (p.status as { phase?: string }).phase;

  /** Waits until the pod shows `expect` (for a failing pull: ImagePullBackOff and BackOff). */
  async function waitOutcome(c: Case, ms = 120_000): Promise<Outcome> {
    const ns = c.namespace ?? NS;
    const end = Date.now() + ms;
    let last = "";
    while (Date.now() < end) {
      const p = await getPod(ns, c.name);
      if (p !== undefined) {
        last = JSON.stringify(p.status);
        if ("running" in c.expect && phaseOf(p) === "Running") return { running: true };
        if ("waiting" in c.expect && waitingOf(p) === c.expect.waiting) {
          const backedOff = (await kubeletEvents(c)).some((e) => e.startsWith("Normal BackOff"));
          if (c.expect.waiting !== "ImagePullBackOff" || backedOff)
            return { waiting: waitingOf(p) };
        }
      }
      await new Promise((res) => setTimeout(res, 500));
    }
    throw new Error(`pod ${ns}/${c.name}: ${last}\n${node.logs()}`);
  }

  /** The kubelet's image events for a pod, as the API has them. */
  async function kubeletEvents(c: Case): Promise<string[]> {
    const r = await cp.kubectl([
      "-n",
      c.namespace ?? NS,
      "get",
      "events",
      "--field-selector",
      `involvedObject.name=${c.name}`,
      "-o",
      "json",
    ]);
    assert.equal(r.code, 0, r.stderr);
    const items = (JSON.parse(r.stdout) as { items: Ev[] }).items;
    items.sort((a, b) => (a.firstTimestamp ?? "").localeCompare(b.firstTimestamp ?? ""));
    return distinct(items);
  }

  /**
   * `kimg run --output json` of the case's manifest: its events, in order, and the container's
   * outcome from the run's status line. The default 25 s covers the first pull, a second at
   * the 10 s resync and BackOff at the 20 s one.
   */
  async function kimgRun(
    c: Case,
    store: string,
    timeout = "25s",
  ): Promise<{ outcome: Outcome; events: Ev[] }> {
    const dir = makeTempDir("kimg-kubelet-run-");
    try {
      const file = join(dir, "pod.yaml");
      writeFileSync(file, manifest(c));
      const r = await runKimg(
        ["run", file, "--store", store, "--output", "json", "--timeout", timeout],
        { timeoutMs: 180_000 },
      );
      type Line = Ev & { ready?: boolean; containers?: { waiting?: { reason: string } }[] };
      const lines = r.stdout
        .trim()
        .split("\n")
        .filter((l) => l !== "")
        .map((l) => JSON.parse(l) as Line);
      const status = lines.find((l) => l.containers !== undefined);
      assert.ok(status !== undefined, `kimg run printed no status: ${r.stdout}${r.stderr}`);
      const outcome: Outcome =
        status.ready === true
          ? { running: true }
          : { waiting: status.containers?.[0]?.waiting?.reason ?? "" };
      return { outcome, events: lines.filter((l) => l.reason !== undefined) };
    } finally {
      removeTempDir(dir);
    }
  }

  /**
   * Each wave's pods created at once on the node and run through kimg run at the same time;
   * the next wave once every pod of this one shows its outcome. Results in `cases` order.
   */
  async function runWaves(
    cases: readonly Case[],
    waves: readonly (readonly Case[])[],
    storeOf: (c: Case) => string,
  ): Promise<{ real: Outcome[]; mine: { outcome: Outcome; events: Ev[] }[] }> {
    const real: Outcome[] = [];
    const mine: { outcome: Outcome; events: Ev[] }[] = [];
    for (const wave of waves) {
      for (const c of wave) {
        const r = await cp.kubectl(["apply", "-f", "-"], manifest(c));
        assert.equal(r.code, 0, `${c.name}: ${r.stderr}`);
      }
      const [w, k] = await Promise.all([
        Promise.all(wave.map((c) => waitOutcome(c))),
        Promise.all(wave.map((c) => kimgRun(c, storeOf(c)))),
      ]);
      for (const [j, c] of wave.entries()) {
        const at = cases.indexOf(c);
        real[at] = w[j] as Outcome;
        mine[at] = k[j] as { outcome: Outcome; events: Ev[] };
      }
    }
    return { real, mine };
  }

  /** Where kimg run and the kubelet differ: outcome, image events, requests per repository. */
  async function differencesOf(
    cases: readonly Case[],
    real: readonly Outcome[],
    mine: readonly { outcome: Outcome; events: Ev[] }[],
    log: readonly AccessLogLine[],
  ): Promise<string[]> {
    const differences: string[] = [];
    for (const [i, c] of cases.entries()) {
      const k = mine[i];
      assert.ok(k !== undefined);
      assert.deepEqual(real[i], c.expect, `${c.name}: the kubelet`);
      if (JSON.stringify(k.outcome) !== JSON.stringify(real[i]))
        differences.push(
          `${c.name}: kimg ${JSON.stringify(k.outcome)}, kubelet ${JSON.stringify(real[i])}`,
        );
      const realEvents = await kubeletEvents(c);
      const kimgEvents = distinct(k.events);
      if (JSON.stringify(kimgEvents) !== JSON.stringify(realEvents))
        differences.push(
          `${c.name}: events\n  kimg    ${kimgEvents.join("\n          ")}\n  kubelet ${realEvents.join("\n          ")}`,
        );
      if (c.repo !== undefined) {
        const byNode = pullsOf(log, c.repo, /^containerd\//);
        const byKimg = pullsOf(log, c.repo, /^kimg\b/);
        if (JSON.stringify(byNode) !== JSON.stringify(byKimg))
          differences.push(
            `${c.name}: requests: kimg ${JSON.stringify(byKimg)}, containerd ${JSON.stringify(byNode)}`,
          );
      }
    }
    return differences;
  }

  it("the node is Ready, and a Pod pulling from the local registry runs", async () => {
    // Also puts the pause image on the node: the "present" cases below use it.
    const c: Case = {
      name: "runs",
      image: () => node.pauseImage,
      policy: "Always",
      expect: { running: true },
    };
    const r = await cp.kubectl(["apply", "-f", "-"], manifest(c));
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(await waitOutcome(c), { running: true });
  });

  const privateImage = (repo: string) => () => `${priv.host}/private/${repo}:v1`;
  const caseImage = (repo: string) => () => `${reg.host}/cases/${repo}:v1`;
  const MATRIX: Case[] = [
    {
      name: "always-pull",
      image: () => `${reg.host}/cases/always-pull:v1`,
      policy: "Always",
      expect: { running: true },
      repo: "cases/always-pull",
    },
    {
      name: "always-present",
      image: caseImage("always-present"),
      policy: "Always",
      prePull: caseImage("always-present"),
      expect: { running: true },
      repo: "cases/always-present",
    },
    {
      name: "ifnotpresent-present",
      image: caseImage("ifnotpresent-present"),
      policy: "IfNotPresent",
      prePull: caseImage("ifnotpresent-present"),
      expect: { running: true },
      repo: "cases/ifnotpresent-present",
    },
    {
      name: "unset-tag-present",
      image: caseImage("unset-tag-present"),
      prePull: caseImage("unset-tag-present"),
      expect: { running: true },
      repo: "cases/unset-tag-present",
    },
    {
      name: "unset-latest",
      // Unset with `:latest` defaults to Always (the API server's defaulting), so a pull.
      image: () => `${reg.host}/cases/unset-latest:latest`,
      expect: { running: true },
      repo: "cases/unset-latest",
    },
    {
      name: "digest-absent",
      image: () => `${reg.host}/cases/digest-absent@${digests.get("digest-absent")}`,
      policy: "IfNotPresent",
      expect: { running: true },
      repo: "cases/digest-absent",
    },
    {
      name: "digest-present-never",
      // Pulled by tag; asked for by digest.
      image: () => `${reg.host}/cases/digest-present-never@${digests.get("digest-present-never")}`,
      policy: "Never",
      prePull: caseImage("digest-present-never"),
      expect: { running: true },
      repo: "cases/digest-present-never",
    },
    {
      name: "never-absent",
      image: () => `${reg.host}/cases/absent:v1`,
      policy: "Never",
      expect: { waiting: "ErrImageNeverPull" },
      repo: "cases/absent",
    },
    {
      name: "invalid-name",
      image: () => `${reg.host}/App/Upper:v1`,
      policy: "IfNotPresent",
      expect: { waiting: "InvalidImageName" },
    },
    {
      name: "private-right",
      image: privateImage("right"),
      policy: "IfNotPresent",
      secret: "right",
      expect: { running: true },
      repo: "private/right",
    },
    {
      name: "private-wrong",
      image: privateImage("wrong"),
      policy: "IfNotPresent",
      secret: "wrong",
      expect: { waiting: "ImagePullBackOff" },
      repo: "private/wrong",
    },
    {
      name: "private-none",
      image: privateImage("none"),
      policy: "Always",
      expect: { waiting: "ImagePullBackOff" },
      repo: "private/none",
    },
    {
      name: "registry-down",
      image: () => `${deadHost}/app/down:v1`,
      policy: "IfNotPresent",
      expect: { waiting: "ImagePullBackOff" },
    },
  ];

  /** The case's image pulled onto the node (crictl) and into a store for kimg run. */
  async function storeFor(c: Case, dir: string): Promise<string> {
    const store = join(dir, c.name);
    if (c.prePull !== undefined) {
      const image = c.prePull();
      await execFileP(peerBin("crictl"), [
        `--runtime-endpoint=unix://${node.socket}`,
        "pull",
        image,
      ]);
      await kimgPullJson(image, store);
    }
    return store;
  }

  it("the matrix: events, waiting reasons and pulls equal kimg run's", async () => {
    const dir = makeTempDir("kimg-kubelet-stores-");
    try {
      const stores = await Promise.all(MATRIX.map((c) => storeFor(c, dir)));
      await Promise.all([reg.settledAccessLog(), priv.settledAccessLog()]);
      reg.resetAccessLog();
      priv.resetAccessLog();
      // The cases that use an image on the node first, then those that pull: while other
      // pods pulled the same image id under other names, containerd 2.4 answered the
      // digest-present-never pod's ImageStatus with "not found" (docs/fidelity.md).
      const usesLocal = (c: Case) => c.prePull !== undefined && c.policy !== "Always";
      const { real, mine } = await runWaves(
        MATRIX,
        [MATRIX.filter(usesLocal), MATRIX.filter((c) => !usesLocal(c))],
        (c) => stores[MATRIX.indexOf(c)] ?? "",
      );
      const log = [...(await reg.settledAccessLog()), ...(await priv.settledAccessLog())];
      assert.deepEqual(await differencesOf(MATRIX, real, mine, log), []);
    } finally {
      removeTempDir(dir);
    }
  });

  it("the back-off schedule: every pull-or-BackOff decision of the kubelet is kimg's", async (t) => {
    const c = MATRIX.find((x) => x.name === "registry-down");
    assert.ok(c !== undefined);
    // The matrix created the pod; wait for its third pull (back-offs of 10 s and then 20 s).
    const own = () => node.events().filter((e) => e.object === `${NS}/${c.name}`);
    const end = Date.now() + 120_000;
    while (own().filter((e) => e.reason === "Pulling").length < 3) {
      assert.ok(Date.now() < end, `registry-down: fewer than 3 pulls in 120 s\n${node.logs()}`);
      await new Promise((res) => setTimeout(res, 500));
    }
    const decisions = replay(own());
    assert.ok(decisions.checked >= 4, `only ${decisions.checked} decisions`);
    assert.deepEqual(decisions.wrong, []);
    // The pod worker retries a failed sync after 10 s plus up to 50% jitter (pod_workers.go
    // workerBackOffPeriodJitterFactor), so the kubelet's gaps from a failure to the next pull
    // lie within [back-off, back-off + 15 s]; kimg's resync has no jitter (docs/fidelity.md).
    const gaps = decisions.gaps;
    t.diagnostic(
      `kubelet: ${decisions.checked} decisions, failure-to-pull gaps ${gaps.map((g) => `${(g.ms / 1000).toFixed(3)} s`).join(", ")}`,
    );
    assert.equal(gaps.length >= 2, true);
    for (const [i, g] of gaps.slice(0, 2).entries()) {
      const backoff = 10_000 * 2 ** i;
      assert.ok(g.ms >= backoff && g.ms <= backoff + 16_000, `gap ${i}: ${g.ms} ms`);
    }
    // kimg run's own schedule: pulls at 0, 10 and 30 s, each within a second.
    const dir = makeTempDir("kimg-kubelet-backoff-");
    try {
      const { events } = await kimgRun(c, join(dir, "store"), "35s");
      const logged: LoggedEvent[] = events.map((e) => ({
        time: Date.parse(e.time ?? ""),
        object: "",
        type: e.type,
        reason: e.reason,
        message: e.message,
      }));
      const mine = replay(logged);
      assert.deepEqual(mine.wrong, []);
      const ms = mine.gaps.map((g) => g.ms);
      t.diagnostic(
        `kimg run: ${mine.checked} decisions, gaps ${ms.map((x) => `${(x / 1000).toFixed(3)} s`).join(", ")}`,
      );
      assert.equal(ms.length, 2, JSON.stringify(events));
      assert.ok(Math.abs((ms[0] ?? 0) - 10_000) < 1000, `kimg gap 0: ${ms[0]} ms`);
      assert.ok(Math.abs((ms[1] ?? 0) - 20_000) < 1000, `kimg gap 1: ${ms[1]} ms`);
    } finally {
      removeTempDir(dir);
    }
  });

  const TENANT: Case[] = [
    {
      name: "b-no-secret",
      namespace: TENANT_B,
      image: privateImage("right"),
      policy: "IfNotPresent",
      expect: { waiting: "ImagePullBackOff" },
      repo: "private/right",
    },
    {
      name: "b-never",
      namespace: TENANT_B,
      image: privateImage("right"),
      policy: "Never",
      expect: { waiting: "ErrImageNeverPull" },
    },
    {
      name: "b-own-secret",
      namespace: TENANT_B,
      image: privateImage("right"),
      policy: "IfNotPresent",
      secret: "right",
      expect: { running: true },
    },
  ];

  it("KEP-2535: another tenant's pod may not use a private image the node pulled", async () => {
    // The node pulled private/right with tenant A's secret (the matrix's private-right pod).
    // kimg run's store gets it the same way: a run of that pod first.
    const owner = MATRIX.find((x) => x.name === "private-right");
    assert.ok(owner !== undefined);
    const dir = makeTempDir("kimg-kubelet-tenants-");
    try {
      const stores = TENANT.map((c) => join(dir, c.name));
      for (const s of stores) await kimgRun(owner, s);
      await priv.settledAccessLog();
      priv.resetAccessLog();
      // In two waves: the pod with its own secret first, then the two without one, so the
      // failing pull of b-no-secret cannot overlap b-own-secret's credential check.
      const { real, mine } = await runWaves(
        TENANT,
        [TENANT.slice(2), TENANT.slice(0, 2)],
        (c) => stores[TENANT.indexOf(c)] ?? "",
      );
      const log = await priv.settledAccessLog();
      // b-no-secret counts the repository's requests: the tenant's pods all use it.
      assert.deepEqual(await differencesOf(TENANT, real, mine, log), []);
    } finally {
      removeTempDir(dir);
    }
  });
});

/**
 * Replays a pod's image events on kimg's back-off: at each sync (a `Pulling` or `BackOff`
 * event) kimg decides from the failures so far (each `Failed to pull image` event is a
 * `next()` at its time); the decisions that differ from the kubelet's are `wrong`. `gaps`: the
 * time from each failure to the next pull.
 */
function replay(events: readonly LoggedEvent[]) {
  const backoff = new ImageBackoff();
  const key = "pod_image";
  const wrong: string[] = [];
  const gaps: { ms: number }[] = [];
  let checked = 0;
  let lastFailure: number | undefined;
  const t0 = events[0]?.time ?? 0;
  for (const e of [...events].sort((a, b) => a.time - b.time)) {
    if (e.reason === "Pulling" || e.reason === "BackOff") {
      checked++;
      const mine = backoff.isInBackOffSinceUpdate(key, e.time) ? "BackOff" : "Pulling";
      if (mine !== e.reason)
        wrong.push(`at +${((e.time - t0) / 1000).toFixed(3)} s: kubelet ${e.reason}, kimg ${mine}`);
      if (e.reason === "Pulling" && lastFailure !== undefined) {
        gaps.push({ ms: e.time - lastFailure });
        lastFailure = undefined;
      }
    } else if (e.reason === "Failed" && e.message.startsWith("Failed to pull image")) {
      backoff.next(key, e.time);
      lastFailure = e.time;
    }
  }
  return { wrong, gaps, checked };
}
