// A real node: kubelet 1.37 and containerd 2.4 registered with a real kube-apiserver on
// loopback (test/helpers/cluster.ts, node.ts). The node becomes Ready, a Pod pulling an image
// from the local Distribution registry runs, and the kubelet's events and waiting reasons for
// the seed's cases match what `kimg run` says for the same Pods (issue 12 §3, §4 "kubelet").

import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { makeTempDir, removeTempDir } from "../helpers/cleanup.ts";
import { type ControlPlane, startControlPlane } from "../helpers/cluster.ts";
import { buildImage } from "../helpers/images.ts";
import { runKimg } from "../helpers/kimg-cli.ts";
import { type Node, startNode } from "../helpers/node.ts";
import { type Registry, startRegistry } from "../helpers/registry.ts";
import { pushLayout } from "../helpers/skopeo.ts";

const NS = "kubelet-fidelity";
/** The events of the kubelet's image manager (pkg/kubelet/images), and its Failed/BackOff. */
const IMAGE_REASONS = new Set([
  "Pulling",
  "Pulled",
  "Failed",
  "BackOff",
  "ErrImageNeverPull",
  "InspectFailed",
]);

describe("a real kubelet and containerd", { timeout: 900_000 }, () => {
  let reg: Registry;
  let cp: ControlPlane;
  let node: Node;
  let image = "";

  before(async () => {
    reg = await startRegistry();
    const img = await buildImage({
      layers: [{ files: [{ path: "hello.txt", content: "hello\n" }] }],
      config: { Entrypoint: ["/pause"] },
      seed: "kubelet-app",
    });
    await pushLayout(img, "app/hello:v1", reg);
    removeTempDir(img.layoutDir);
    image = `${reg.host}/app/hello:v1`;
    cp = await startControlPlane();
    node = await startNode(cp, { registry: reg });
    for (const args of [
      ["create", "namespace", NS],
      ["-n", NS, "create", "serviceaccount", "default"],
    ]) {
      const r = await cp.kubectl(args);
      assert.equal(r.code, 0, r.stderr);
    }
  });
  after(async () => {
    await node?.stop();
    await cp?.stop();
    await reg?.stop();
  });

  const podYaml = (name: string, img: string, policy?: string) => `apiVersion: v1
kind: Pod
metadata: {name: ${name}, namespace: ${NS}}
spec:
  nodeName: ${node.name}
  automountServiceAccountToken: false
  dnsPolicy: Default
  tolerations: [{operator: Exists}]
  containers:
  - name: app
    image: ${JSON.stringify(img)}
${policy !== undefined ? `    imagePullPolicy: ${policy}\n` : ""}`;

  async function waitPod(name: string, ok: (p: Record<string, unknown>) => boolean, ms = 120_000) {
    const end = Date.now() + ms;
    let last = "";
    while (Date.now() < end) {
      const r = await cp.kubectl(["-n", NS, "get", "pod", name, "-o", "json"]);
      if (r.code === 0) {
        const p = JSON.parse(r.stdout) as Record<string, unknown>;
        last = JSON.stringify(p.status);
        if (ok(p)) return p;
      }
      await new Promise((res) => setTimeout(res, 500));
    }
    throw new Error(`pod ${name}: ${last}\n${node.logs()}`);
  }

  it("the node is Ready, and a Pod pulling from the local registry runs", async () => {
    // The pause image's binary doubles as the app: it waits for a signal.
    const pauseApp = node.pauseImage;
    const r = await cp.kubectl(["apply", "-f", "-"], podYaml("runs", pauseApp, "Always"));
    assert.equal(r.code, 0, r.stderr);
    const p = await waitPod("runs", (x) => (x.status as { phase?: string }).phase === "Running");
    assert.equal((p.status as { phase: string }).phase, "Running");
    void image;
  });

  /** The kubelet's events for a pod, oldest first, as `reason: message` (durations masked). */
  async function kubeletEvents(pod: string): Promise<string[]> {
    const r = await cp.kubectl([
      "-n",
      NS,
      "get",
      "events",
      "--field-selector",
      `involvedObject.name=${pod}`,
      "-o",
      "json",
    ]);
    assert.equal(r.code, 0, r.stderr);
    const items = (JSON.parse(r.stdout) as { items: Ev[] }).items;
    items.sort((a, b) => (a.firstTimestamp ?? "").localeCompare(b.firstTimestamp ?? ""));
    // The image manager's events only: kimg runs no containers (Created, Started, Killing…).
    return [
      ...new Set(
        items
          .filter((e) => IMAGE_REASONS.has(e.reason))
          .map((e) => `${e.type} ${e.reason}: ${mask(e.message)}`),
      ),
    ];
  }
  interface Ev {
    type: string;
    reason: string;
    message: string;
    firstTimestamp?: string;
  }
  const mask = (m: string) =>
    m.replace(/ in [0-9.]+m?s \([0-9.]+m?s including waiting\)/, " in <d> (<d> including waiting)");

  /** What `kimg run` says for the same Pod, in the same form. */
  async function kimgEvents(pod: string, img: string, policy: string | undefined) {
    const dir = makeTempDir("kimg-kubelet-run-");
    try {
      const file = join(dir, "pod.yaml");
      writeFileSync(file, podYaml(pod, img, policy));
      const r = await runKimg([
        "run",
        file,
        "--store",
        join(dir, "store"),
        "--output",
        "json",
        "--timeout",
        "3s",
      ]);
      const lines = r.stdout
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l) as Partial<Ev> & { pod?: string; containers?: unknown });
      const events = lines.filter((l) => l.reason !== undefined) as Ev[];
      return [...new Set(events.map((e) => `${e.type} ${e.reason}: ${mask(e.message)}`))];
    } finally {
      removeTempDir(dir);
    }
  }

  /** The container's waiting reason on the real node, once it has one of `reasons`. */
  async function waitingReason(pod: string, reasons: readonly string[]): Promise<string> {
    const p = await waitPod(pod, (x) => {
      const cs = (
        x.status as { containerStatuses?: { state?: { waiting?: { reason?: string } } }[] }
      ).containerStatuses;
      return reasons.includes(cs?.[0]?.state?.waiting?.reason ?? "");
    });
    const cs = (p.status as { containerStatuses: { state: { waiting: { reason: string } } }[] })
      .containerStatuses;
    return cs[0]?.state.waiting.reason ?? "";
  }

  it("always-pull: a pull that succeeds says Pulling and Pulled as kimg run does", async () => {
    const img = node.pauseImage;
    const r = await cp.kubectl(["apply", "-f", "-"], podYaml("always-pull", img, "Always"));
    assert.equal(r.code, 0, r.stderr);
    await waitPod("always-pull", (x) => (x.status as { phase?: string }).phase === "Running");
    assert.deepEqual(
      await kimgEvents("always-pull", img, "Always"),
      await kubeletEvents("always-pull"),
    );
  });

  for (const c of [
    {
      name: "never-absent",
      image: () => `${reg.host}/app/absent:v1`,
      policy: "Never",
      reasons: ["ErrImageNeverPull"],
    },
    {
      name: "invalid-name",
      image: () => `${reg.host}/App/Upper:v1`,
      policy: "IfNotPresent",
      reasons: ["InvalidImageName"],
    },
  ]) {
    it(`${c.name}: the kubelet's waiting reason and events are kimg run's`, async () => {
      const img = c.image();
      const r = await cp.kubectl(["apply", "-f", "-"], podYaml(c.name, img, c.policy));
      assert.equal(r.code, 0, r.stderr);
      const reason = await waitingReason(c.name, c.reasons);
      assert.deepEqual([reason], c.reasons);
      const real = await kubeletEvents(c.name);
      const mine = await kimgEvents(c.name, img, c.policy);
      assert.deepEqual(mine, real);
    });
  }
});
