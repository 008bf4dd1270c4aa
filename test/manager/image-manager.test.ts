// The image manager end to end against real Distribution registries: a private registry
// (htpasswd) holding one tenant's image and a public one (anonymous). KEP-2535 cases, the
// kubelet's events and waiting reasons, the back-off schedule under a fake clock, and parallel
// pods sharing one download.

import assert from "node:assert/strict";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import {
  defaultKubeletConfiguration,
  type KubeletConfiguration,
  recordRepoOf,
} from "../../src/kubelet/index.ts";
import {
  ImageManager,
  type NodeInput,
  podsFromObjects,
  type RecordedEvent,
  runPods,
} from "../../src/manager/index.ts";
import { FsBlobStore } from "../../src/store/index.ts";
import { makeTempDir, removeTempDir } from "../helpers/cleanup.ts";
import { type BuiltImage, buildImage } from "../helpers/images.ts";
import { type Registry, startRegistry } from "../helpers/registry.ts";
import { pushLayout } from "../helpers/skopeo.ts";

function must<T>(x: T | undefined): T {
  assert.ok(x !== undefined);
  return x;
}
const first = (p: { containers: readonly unknown[] } | undefined) =>
  must(must(p).containers[0]) as import("../../src/manager/index.ts").PodContainer;

const ALICE = { user: "alice", pass: "alice-secret-7" };

function dockerSecret(ns: string, name: string, host: string, user: string, pass: string) {
  const auth = Buffer.from(`${user}:${pass}`).toString("base64");
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name, namespace: ns, uid: `uid-${ns}-${name}` },
    type: "kubernetes.io/dockerconfigjson",
    data: {
      ".dockerconfigjson": Buffer.from(JSON.stringify({ auths: { [host]: { auth } } })).toString(
        "base64",
      ),
    },
  };
}

function pod(
  ns: string,
  name: string,
  image: string,
  policy: string | undefined,
  secrets: string[] = [],
) {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: ns, uid: `uid-${name}` },
    spec: {
      containers: [
        { name: "app", image, ...(policy !== undefined ? { imagePullPolicy: policy } : {}) },
      ],
      ...(secrets.length > 0 ? { imagePullSecrets: secrets.map((n) => ({ name: n })) } : {}),
    },
  };
}

describe("ImageManager against real registries", { timeout: 180_000 }, () => {
  let priv: Registry;
  let pub: Registry;
  let img: BuiltImage;
  let pubImg: BuiltImage;
  let privRef: string;
  let pubRef: string;
  const dirs: string[] = [];
  const storeDir = () => {
    const d = makeTempDir("kimg-manager-");
    dirs.push(d);
    return d;
  };

  before(async () => {
    [priv, pub] = await Promise.all([
      startRegistry({ auth: "htpasswd", users: [ALICE] }),
      startRegistry(),
    ]);
    img = await buildImage({ layers: [{ randomBytes: 4096 }], seed: "private" });
    pubImg = await buildImage({ layers: [{ randomBytes: 300_000, gzipLevel: 0 }], seed: "public" });
    await pushLayout(img, "team-a/app:v1", priv, { creds: ALICE });
    await pushLayout(pubImg, "library/tool:1.0", pub);
    privRef = `${priv.host}/team-a/app:v1`;
    pubRef = `${pub.host}/library/tool:1.0`;
  });
  after(async () => {
    await Promise.all([priv?.stop(), pub?.stop()]);
    for (const d of [img?.layoutDir, pubImg?.layoutDir, ...dirs]) if (d) removeTempDir(d);
  });

  const node = async (
    input: NodeInput,
    opts: { config?: Partial<KubeletConfiguration>; dir?: string; now?: () => number } = {},
  ) => {
    const store = await FsBlobStore.open(opts.dir ?? storeDir());
    const events: RecordedEvent[] = [];
    const manager = new ImageManager({
      store,
      config: { ...defaultKubeletConfiguration(), ...opts.config },
      secrets: input.secrets,
      onEvent: (e) => events.push(e),
      ...(opts.now !== undefined ? { now: opts.now } : {}),
    });
    return { store, manager, events };
  };
  const texts = (events: RecordedEvent[], pod?: string) =>
    events
      .filter((e) => pod === undefined || e.pod === pod)
      .map((e) => `${e.type} ${e.reason} ${e.message}`);

  it("KEP-2535: a tenant without the secret never uses another tenant's private image", async () => {
    const dir = storeDir();
    const input = podsFromObjects([
      { value: dockerSecret("team-a", "regcred", priv.host, ALICE.user, ALICE.pass) },
      { value: pod("team-a", "a1", privRef, "IfNotPresent", ["regcred"]) },
      { value: pod("team-a", "a2", privRef, "IfNotPresent", ["regcred"]) },
      { value: pod("team-b", "b1", privRef, "IfNotPresent") },
      { value: pod("team-b", "b2", privRef, "Never") },
    ]);
    assert.equal(input.pods.length, 4);
    const [a1, a2, b1, b2] = input.pods;
    const { manager, events } = await node(input, { dir });

    // a1 pulls with its secret.
    const s1 = manager.pullSecretsForPod(must(a1));
    const r1 = await manager.ensureImageExists(must(a1), first(a1), s1);
    assert.ok(r1.ok);
    assert.equal(r1.imageRef, img.manifestDigest);
    const t1 = texts(events, "team-a/a1");
    assert.equal(t1[0], `Normal Pulling Pulling image "${privRef}"`);
    assert.match(
      t1[1] ?? "",
      new RegExp(
        `^Normal Pulled Successfully pulled image "${privRef.replace(/[.]/g, "\\.")}" in \\S+ \\(\\S+ including waiting\\)\\. Image size: \\d+ bytes\\.$`,
      ),
    );
    // The pulled record names the secret that worked.
    const rec = (await manager.records.read("pulled", img.manifestDigest)) as {
      credentialMapping: Record<
        string,
        { kubernetesSecrets: { namespace: string; name: string }[] }
      >;
    };
    const repo = recordRepoOf(privRef) ?? "";
    assert.deepEqual(
      rec.credentialMapping[repo]?.kubernetesSecrets.map((s) => `${s.namespace}/${s.name}`),
      ["team-a/regcred"],
    );
    assert.deepEqual(await manager.records.list("pulling"), [], "the intent is gone");

    // a2, same secret: uses the local image, verified.
    const r2 = await manager.ensureImageExists(
      must(a2),
      first(a2),
      manager.pullSecretsForPod(must(a2)),
    );
    assert.ok(r2.ok && !r2.pulled);
    assert.deepEqual(texts(events, "team-a/a2"), [
      `Normal Pulled Container image "${privRef}" already present on machine and can be accessed by the pod`,
    ]);

    // b1, no secret, IfNotPresent: must pull with its own (no) credentials, and is denied.
    const r3 = await manager.ensureImageExists(
      must(b1),
      first(b1),
      manager.pullSecretsForPod(must(b1)),
    );
    assert.ok(!r3.ok);
    assert.equal(r3.error.error, "ErrImagePull");
    assert.match(r3.error.message, /pull access denied/);
    const t3 = texts(events, "team-b/b1");
    assert.equal(t3[0], `Normal Pulling Pulling image "${privRef}"`);
    assert.match(t3[1] ?? "", /^Warning Failed Failed to pull image ".*": .*pull access denied/);
    assert.equal(t3[2], "Warning Failed Error: ErrImagePull");

    // b2, Never: ErrImageNeverPull, the same words as for an absent image.
    const r4 = await manager.ensureImageExists(must(b2), first(b2), []);
    assert.ok(!r4.ok);
    assert.equal(r4.error.error, "ErrImageNeverPull");
    assert.deepEqual(texts(events, "team-b/b2"), [
      `Warning ErrImageNeverPull Container image "${privRef}" is not present with pull policy of Never`,
      "Warning Failed Error: ErrImageNeverPull",
    ]);
  });

  it("an image pulled anonymously is accessible to every pod (nodePodsAccessible)", async () => {
    const input = podsFromObjects([
      { value: pod("team-a", "p1", pubRef, "IfNotPresent") },
      { value: pod("team-b", "p2", pubRef, "Never") },
    ]);
    const { manager, events } = await node(input);
    const [p1, p2] = input.pods;
    assert.ok((await manager.ensureImageExists(must(p1), first(p1), [])).ok);
    const r = await manager.ensureImageExists(must(p2), first(p2), []);
    assert.ok(r.ok && !r.pulled);
    assert.deepEqual(texts(events, "team-b/p2"), [
      `Normal Pulled Container image "${pubRef}" already present on machine and can be accessed by the pod`,
    ]);
  });

  it("gate off: the short 'already present on machine' and no records", async () => {
    const input = podsFromObjects([
      { value: pod("default", "g1", pubRef, "IfNotPresent") },
      { value: pod("default", "g2", pubRef, "IfNotPresent") },
    ]);
    const { manager, events } = await node(input, {
      config: {
        ensureSecretPulledImages: false,
        imagePullCredentialsVerificationPolicy: undefined,
      },
    });
    const [g1, g2] = input.pods;
    assert.ok((await manager.ensureImageExists(must(g1), first(g1), [])).ok);
    assert.ok((await manager.ensureImageExists(must(g2), first(g2), [])).ok);
    assert.deepEqual(texts(events, "default/g2"), [
      `Normal Pulled Container image "${pubRef}" already present on machine`,
    ]);
    assert.deepEqual(await manager.records.list("pulled"), []);
  });

  it("a missing pull secret: FailedToRetrieveImagePullSecret, the pull goes on", async () => {
    const input = podsFromObjects([
      { value: pod("default", "m1", pubRef, "Always", ["gone", "", "also-gone"]) },
    ]);
    const { manager, events } = await node(input);
    const p = must(input.pods[0]);
    const secrets = manager.pullSecretsForPod(p);
    assert.deepEqual(secrets, []);
    assert.ok((await manager.ensureImageExists(p, must(p.containers[0]), secrets)).ok);
    assert.equal(
      texts(events)[0],
      "Warning FailedToRetrieveImagePullSecret Unable to retrieve some image pull secrets (gone, also-gone); attempting to pull the image may not succeed.",
    );
    assert.equal(events[0]?.container, undefined, "a pod-level event");
  });

  it("back-off under a fake clock: 10 s, 20 s, 40 s …, BackOff events and the remembered error", async () => {
    let t = Date.UTC(2026, 10, 28, 12, 0, 0);
    const now = () => t;
    const missing = `${pub.host}/library/nope:1`;
    const input = podsFromObjects([{ value: pod("default", "bo", missing, "IfNotPresent") }]);
    const { manager, events } = await node(input, { now });
    const statuses = await runPods({
      manager,
      pods: input.pods,
      timeoutMs: 75_000,
      now,
      sleep: async (ms) => {
        t += ms;
      },
    });
    const s = must(statuses[0]);
    assert.equal(s.ready, false);
    // Syncs at 0, 10, 20, …, 70 s: pulls at 0, 10 (10 s passed), 30 (20 s), 70 (40 s); BackOff between.
    const t0 = must(events[0]).time;
    const seq = events
      .filter((e) => e.reason !== "Failed" || !e.message.startsWith("Error:"))
      .map((e) => `${(e.time - t0) / 1000}:${e.reason}`);
    assert.deepEqual(seq, [
      "0:Pulling",
      "0:Failed",
      "10:Pulling",
      "10:Failed",
      "20:BackOff",
      "30:Pulling",
      "30:Failed",
      "40:BackOff",
      "50:BackOff",
      "60:BackOff",
      "70:Pulling",
      "70:Failed",
    ]);
    const backOff = events.find((e) => e.reason === "BackOff");
    assert.equal(backOff?.type, "Normal");
    assert.equal(backOff?.message, `Back-off pulling image "${missing}"`);
    // The container's state after the last sync: ErrImagePull (the pull at 70 s failed).
    assert.equal(s.containers[0]?.waiting?.reason, "ErrImagePull");
    assert.match(s.containers[0]?.waiting?.message ?? "", /manifest unknown|not found/);
    assert.equal(s.syncs, 8);
  });

  it("a flaky registry (503 while down) drives the back-off; the pull succeeds once it is up", async () => {
    let t = Date.UTC(2026, 10, 28, 13, 0, 0);
    const t0 = t;
    const down = () => t - t0 < 35_000;
    let refused = 0;
    // A forwarding proxy in front of the real registry that answers 503 while "down".
    const proxy = http.createServer((req, res) => {
      if (down()) {
        refused++;
        res.writeHead(503, { "content-type": "application/json" });
        res.end('{"errors":[{"code":"UNAVAILABLE","message":"service unavailable"}]}');
        return;
      }
      const up = http.request(
        {
          host: "127.0.0.1",
          port: pub.port,
          method: req.method,
          path: req.url,
          headers: req.headers,
        },
        (r) => {
          res.writeHead(r.statusCode ?? 502, r.headers);
          r.pipe(res);
        },
      );
      up.on("error", () => res.destroy());
      req.pipe(up);
    });
    await new Promise<void>((ok) => proxy.listen(0, "127.0.0.1", ok));
    try {
      const host = `127.0.0.1:${(proxy.address() as AddressInfo).port}`;
      const image = `${host}/library/tool:1.0`;
      const input = podsFromObjects([{ value: pod("default", "flaky", image, "IfNotPresent") }]);
      const store = await FsBlobStore.open(storeDir());
      const events: RecordedEvent[] = [];
      const manager = new ImageManager({
        store,
        config: defaultKubeletConfiguration(),
        now: () => t,
        // One try per request, and the back-off on the test clock: the file takes 2 s, not 48.
        pull: {
          retry: {
            maxAttempts: 1,
            sleep: async (ms) => {
              t += ms;
            },
          },
        },
        onEvent: (e) => events.push(e),
      });
      const [s] = await runPods({
        manager,
        pods: input.pods,
        timeoutMs: 120_000,
        now: () => t,
        sleep: async (ms) => {
          t += ms;
        },
      });
      assert.equal(s?.ready, true);
      assert.ok(refused >= 3);
      const seq = events
        .filter((e) => !e.message.startsWith("Error:"))
        .map((e) => `${(e.time - t0) / 1000}:${e.reason}`);
      // Failures at 0, 10 and 30 s (back-off 10 → 20 → 40 s); up from 35 s; the next pull is due
      // at 70 s, BackOff until then.
      assert.deepEqual(seq, [
        "0:Pulling",
        "0:Failed",
        "10:Pulling",
        "10:Failed",
        "20:BackOff",
        "30:Pulling",
        "30:Failed",
        "40:BackOff",
        "50:BackOff",
        "60:BackOff",
        "70:Pulling",
        "70:Pulled",
      ]);
      // A registry that answers 503 is a plain pull error, as containerd reports it.
      const failed = events.find((e) => e.reason === "Failed" && !e.message.startsWith("Error:"));
      assert.doesNotMatch(failed?.message ?? "", /RegistryUnavailable/);
      assert.ok(events.some((e) => e.message === "Error: ErrImagePull"));
    } finally {
      proxy.closeAllConnections();
      await new Promise((ok) => proxy.close(ok));
    }
  });

  it("several pods stuck on Never end together, without sleeping to the deadline", async () => {
    // The first stuck pod slept for its resync while the second was still syncing, and nothing
    // woke it: `kimg run` with two Never pods waited out --timeout (issue 11). Here the sleep
    // ends only when its signal aborts, so a pod that is never woken hangs the test.
    const input = podsFromObjects([
      { value: pod("default", "n1", `${pub.host}/library/absent:1`, "Never") },
      { value: pod("default", "n2", `${pub.host}/library/absent:2`, "Never") },
    ]);
    const { manager } = await node(input);
    const waits: number[] = [];
    const statuses = await runPods({
      manager,
      pods: input.pods,
      timeoutMs: 3_600_000,
      sleep: (ms, signal) => {
        waits.push(ms);
        return new Promise((r) => signal.addEventListener("abort", () => r(), { once: true }));
      },
    });
    assert.deepEqual(
      statuses.map((s) => s.containers[0]?.waiting?.reason),
      ["ErrImageNeverPull", "ErrImageNeverPull"],
    );
    assert.ok(waits.length <= 1, `waits: ${waits}`);
  });

  it("ImagePullBackOff's waiting message carries the previous error", async () => {
    let t = 1_000_000;
    const missing = `${pub.host}/library/nope:2`;
    const input = podsFromObjects([{ value: pod("default", "bo2", missing, "IfNotPresent") }]);
    const { manager } = await node(input, { now: () => t });
    const p = must(input.pods[0]);
    const r1 = await manager.ensureImageExists(p, must(p.containers[0]), []);
    assert.ok(!r1.ok);
    t += 5_000;
    const r2 = await manager.ensureImageExists(p, must(p.containers[0]), []);
    assert.ok(!r2.ok);
    assert.equal(r2.error.error, "ImagePullBackOff");
    assert.equal(
      r2.error.message,
      `Back-off pulling image "${missing}": ErrImagePull: ${r1.error.message}`,
    );
  });

  it("parallel pods with the same image share one download", async () => {
    const input = podsFromObjects(
      [1, 2, 3].map((i) => ({ value: pod("default", `par${i}`, pubRef, "Always") })),
    );
    await pub.settledAccessLog();
    pub.resetAccessLog();
    const { manager } = await node(input, {
      config: { serializeImagePulls: false, maxParallelImagePulls: undefined },
    });
    const statuses = await runPods({ manager, pods: input.pods, timeoutMs: 60_000 });
    assert.ok(statuses.every((s) => s.ready));
    const log = await pub.settledAccessLog();
    const blobGets = log.filter((l) => l.method === "GET" && l.path.includes("/blobs/"));
    assert.equal(blobGets.length, 2, "config and one layer, once");
  });

  it("InvalidImageName: the InspectFailed event and the waiting reason", async () => {
    const input = podsFromObjects([{ value: pod("default", "bad", "Nginx:1", "IfNotPresent") }]);
    const { manager, events } = await node(input);
    const p = must(input.pods[0]);
    const r = await manager.ensureImageExists(p, must(p.containers[0]), []);
    assert.ok(!r.ok);
    assert.equal(r.error.error, "InvalidImageName");
    assert.match(
      texts(events)[0] ?? "",
      /^Warning InspectFailed Failed to apply default image tag "Nginx:1": couldn't parse image name "Nginx:1": /,
    );
  });
});
