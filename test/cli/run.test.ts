// kimg run: the built binary against real Distribution registries, a private one (htpasswd)
// and a public one. Manifest files as a user writes them (Deployment, Pod, Secret,
// ServiceAccount); the describe-style output with the kubelet's exact event messages; KEP-2535
// between two tenants through the CLI, across separate runs on one store; AlwaysPullImages;
// JSON lines; --timeout; --node-config; the API server's rejection of an invalid pod; exit codes.

import assert from "node:assert/strict";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { type AddressInfo, createServer } from "node:net";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { makeTempDir, removeTempDir } from "../helpers/cleanup.ts";
import { type BuiltImage, buildImage } from "../helpers/images.ts";
import { runKimg } from "../helpers/kimg-cli.ts";
import { type Registry, startRegistry } from "../helpers/registry.ts";
import { pushLayout } from "../helpers/skopeo.ts";

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

const ALICE = { user: "alice", pass: "alice-secret-7" };

/** The size the kubelet reports: the image's content (manifest, config, layers). */
const imageSize = (i: BuiltImage) =>
  i.manifestSize + i.configSize + i.layers.reduce((n, l) => n + l.size, 0);

describe("kimg run", { timeout: 120_000 }, () => {
  let priv: Registry;
  let pub: Registry;
  let privImg: BuiltImage;
  let pubImg: BuiltImage;
  let privRef: string;
  let pubRef: string;
  let home: string;
  const dirs: string[] = [];
  const tempDir = (prefix: string) => {
    const d = makeTempDir(prefix);
    dirs.push(d);
    return d;
  };

  /** The built binary, with a hermetic environment (no registries.conf, an empty HOME). */
  const kimg = (args: string[], killAfterMs = 60_000): Promise<Result> =>
    runKimg(args, { env: { HOME: home }, timeoutMs: killAfterMs });

  /** Writes manifest files into a fresh directory; returns their paths. */
  function files(docs: Record<string, string>): string[] {
    const d = tempDir("kimg-run-files-");
    return Object.entries(docs).map(([name, text]) => {
      const p = join(d, name);
      writeFileSync(p, text);
      return p;
    });
  }

  const dockerConfigJson = (host: string) =>
    Buffer.from(
      JSON.stringify({
        auths: { [host]: { auth: Buffer.from(`${ALICE.user}:${ALICE.pass}`).toString("base64") } },
      }),
    ).toString("base64");
  const secretYaml = (ns: string, name: string) => `apiVersion: v1
kind: Secret
metadata:
  name: ${name}
  namespace: ${ns}
type: kubernetes.io/dockerconfigjson
data:
  .dockerconfigjson: ${dockerConfigJson(priv.host)}
`;
  const podYaml = (
    ns: string,
    name: string,
    image: string,
    extra: { policy?: string; secret?: string; sa?: string } = {},
  ) => `apiVersion: v1
kind: Pod
metadata:
  name: ${name}
  namespace: ${ns}
spec:
${extra.sa !== undefined ? `  serviceAccountName: ${extra.sa}\n` : ""}${extra.secret !== undefined ? `  imagePullSecrets:\n  - name: ${extra.secret}\n` : ""}  containers:
  - name: app
    image: ${JSON.stringify(image)}
${extra.policy !== undefined ? `    imagePullPolicy: ${extra.policy}\n` : ""}`;

  const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  /** The kubelet's Pulled message (image_manager.go), with Go durations. */
  const pulledRe = (image: string, size: number) =>
    new RegExp(
      `Successfully pulled image "${esc(image)}" in [0-9.]+m?s \\([0-9.]+m?s including waiting\\)\\. Image size: ${size} bytes\\.`,
    );
  /** The describe section of one pod (from its Name: line to the next pod's). */
  const section = (out: string, name: string): string => {
    const start = out.indexOf(`Name:               ${name}\n`);
    assert.ok(start >= 0, `no pod ${name} in:\n${out}`);
    const next = out.indexOf("\nName:", start + 1);
    return out.slice(start, next < 0 ? undefined : next);
  };

  before(async () => {
    home = tempDir("kimg-run-home-");
    [priv, pub] = await Promise.all([
      startRegistry({ auth: "htpasswd", users: [ALICE] }),
      startRegistry(),
      (async () => {
        privImg = await buildImage({ layers: [{ randomBytes: 4096 }], seed: "run-private" });
      })(),
      (async () => {
        pubImg = await buildImage({ layers: [{ randomBytes: 20_000 }], seed: "run-public" });
      })(),
    ]);
    await Promise.all([
      pushLayout(privImg, "team-a/app:v1", priv, { creds: ALICE }),
      pushLayout(pubImg, "library/tool:1.0", pub),
    ]);
    privRef = `${priv.host}/team-a/app:v1`;
    pubRef = `${pub.host}/library/tool:1.0`;
  });
  after(async () => {
    await Promise.all([priv?.stop(), pub?.stop()]);
    for (const d of [privImg?.layoutDir, pubImg?.layoutDir, ...dirs]) {
      if (d !== undefined) removeTempDir(d);
    }
  });

  it("a Deployment, a Pod, a Secret and a ServiceAccount: describe output, exit 0", async () => {
    const store = tempDir("kimg-run-store-");
    const paths = files({
      "deploy.yaml": `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: tool
        image: ${pubRef}
`,
      "pod.yaml": podYaml("default", "api", privRef, { sa: "builder" }),
      "secret.yaml": secretYaml("default", "regcred"),
      "sa.yaml": `apiVersion: v1
kind: ServiceAccount
metadata:
  name: builder
imagePullSecrets:
- name: regcred
`,
    });
    const r = await kimg(["run", ...paths, "--store", store]);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.equal(r.stderr, "");
    const web = section(r.stdout, "web");
    assert.match(web, /^Namespace: {10}default$/m);
    assert.match(web, /^From: {15}Deployment\/web \(.*deploy\.yaml:1\)$/m);
    assert.match(web, /^Service Account: {4}default$/m);
    assert.match(web, /^Containers:\n {2}tool:\n {4}Image: {10}(\S+)\n/m);
    assert.match(web, new RegExp(`^ {4}Image ID: {7}${pubImg.manifestDigest}$`, "m"));
    assert.match(web, /^ {4}State: {10}image ready$/m);
    assert.match(
      web,
      /^Events:\n {2}Type {4}Reason {3}Age {3}From {5}Message\n {2}---- {4}------ /m,
    );
    assert.match(
      web,
      new RegExp(`Normal +Pulling +\\d+s +kubelet +Pulling image "${esc(pubRef)}"`),
    );
    assert.match(
      web,
      new RegExp(`Normal +Pulled +\\d+s +kubelet +${pulledRe(pubRef, imageSize(pubImg)).source}`),
    );

    const api = section(r.stdout, "api");
    assert.match(api, /^Service Account: {4}builder$/m);
    assert.match(api, /^Image Pull Secrets: regcred \(from the ServiceAccount\)$/m);
    assert.match(api, new RegExp(`^ {4}Image ID: {7}${privImg.manifestDigest}$`, "m"));
    assert.match(api, new RegExp(`Pulling image "${esc(privRef)}"`));
    assert.match(api, pulledRe(privRef, imageSize(privImg)));
  });

  it("two tenants, one private image (KEP-2535): runs on one store behave as one node", async () => {
    const store = tempDir("kimg-run-store-");
    // Tenant A pulls with its secret: two pods at once, sharing one download (both must be
    // recorded as secret pulls, never as node-wide access).
    const a = await kimg([
      "run",
      ...files({
        "a.yaml": [
          secretYaml("team-a", "regcred"),
          podYaml("team-a", "a1", privRef, { policy: "IfNotPresent", secret: "regcred" }),
          podYaml("team-a", "a2", privRef, { policy: "IfNotPresent", secret: "regcred" }),
        ].join("---\n"),
      }),
      "--store",
      store,
    ]);
    assert.equal(a.code, 0, a.stderr + a.stdout);
    for (const p of ["a1", "a2"]) {
      assert.match(section(a.stdout, p), pulledRe(privRef, imageSize(privImg)));
    }
    // The pulled record is in the store (node state that outlives the run).
    const pulledDir = join(store, "image_manager", "pulled");
    const recordFiles = readdirSync(pulledDir);
    assert.equal(recordFiles.length, 1);
    const record = JSON.parse(readFileSync(join(pulledDir, String(recordFiles[0])), "utf8")) as {
      imageRef: string;
      credentialMapping: Record<
        string,
        { nodePodsAccessible?: boolean; kubernetesSecrets?: { namespace: string; name: string }[] }
      >;
    };
    assert.equal(record.imageRef, privImg.manifestDigest);
    const mappings = Object.values(record.credentialMapping);
    assert.equal(mappings.length, 1);
    assert.equal(mappings[0]?.nodePodsAccessible, undefined, "a secret pull is not node-wide");
    assert.deepEqual(
      mappings[0]?.kubernetesSecrets?.map((x) => `${x.namespace}/${x.name}`),
      ["team-a/regcred"],
    );
    assert.deepEqual(readdirSync(join(store, "image_manager", "pulling")), []);

    // Tenant B, twice: the second run reads the records the first runs left.
    const bFiles = files({
      "b.yaml": `${podYaml("team-b", "b1", privRef, { policy: "IfNotPresent" })}---\n${podYaml("team-b", "b2", privRef, { policy: "Never" })}`,
    });
    for (const attempt of [1, 2]) {
      const b = await kimg(["run", ...bFiles, "--store", store, "--timeout", "1s"]);
      assert.equal(b.code, 1, `run ${attempt}: ${b.stderr}${b.stdout}`);
      const b1 = section(b.stdout, "b1");
      assert.match(b1, /^ {6}Reason: {7}ErrImagePull$/m, `run ${attempt}`);
      assert.match(b1, /^ {6}Message: {6}.*pull access denied/m);
      assert.match(
        b1,
        new RegExp(`Normal +Pulling +\\d+s +kubelet +Pulling image "${esc(privRef)}"`),
      );
      assert.match(
        b1,
        new RegExp(
          `Warning +Failed +\\d+s +kubelet +Failed to pull image "${esc(privRef)}": .*pull access denied`,
        ),
      );
      assert.match(b1, /Warning +Failed +\d+s +kubelet +Error: ErrImagePull$/m);
      assert.doesNotMatch(b1, /Image ID:|already present/);
      const b2 = section(b.stdout, "b2");
      assert.match(b2, /^ {6}Reason: {7}ErrImageNeverPull$/m, `run ${attempt}`);
      assert.match(
        b2,
        new RegExp(
          `Warning +ErrImageNeverPull +\\d+s +kubelet +Container image "${esc(privRef)}" is not present with pull policy of Never$`,
          "m",
        ),
      );
      assert.doesNotMatch(b2, /Image ID:|already present/);
    }

    // Tenant B with its own secret for the same account, given through its ServiceAccount:
    // the credentials match the record's, so the image present on the node is used.
    const c = await kimg([
      "run",
      ...files({
        "b3.yaml": `${secretYaml("team-b", "mine")}---
apiVersion: v1
kind: ServiceAccount
metadata: {name: puller, namespace: team-b}
imagePullSecrets: [{name: mine}]
---
${podYaml("team-b", "b3", privRef, { policy: "Never", sa: "puller" })}`,
      }),
      "--store",
      store,
      "--timeout",
      "1s",
    ]);
    assert.equal(c.code, 0, c.stderr + c.stdout);
    const b3 = section(c.stdout, "b3");
    assert.match(b3, /^Image Pull Secrets: mine \(from the ServiceAccount\)$/m);
    assert.match(b3, new RegExp(`^ {4}Image ID: {7}${privImg.manifestDigest}$`, "m"));
    assert.match(
      b3,
      new RegExp(
        `Normal +Pulled +\\d+s +kubelet +Container image "${esc(privRef)}" already present on machine and can be accessed by the pod$`,
        "m",
      ),
    );
  });

  it("parallel pulls of one image from three namespaces: the record lists every secret", async () => {
    const store = tempDir("kimg-run-store-");
    const [cfg, input] = files({
      "kubelet.yaml":
        "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\nserializeImagePulls: false\n",
      "pods.yaml": ["team-a", "team-c", "team-d"]
        .flatMap((ns) => [
          secretYaml(ns, `cred-${ns}`),
          podYaml(ns, `p-${ns}`, privRef, { policy: "Always", secret: `cred-${ns}` }),
        ])
        .join("---\n"),
    });
    const r = await kimg(["run", String(input), "--store", store, "--node-config", String(cfg)]);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const dir = join(store, "image_manager", "pulled");
    const [file] = readdirSync(dir);
    const record = JSON.parse(readFileSync(join(dir, String(file)), "utf8")) as {
      credentialMapping: Record<string, { kubernetesSecrets?: { namespace: string }[] }>;
    };
    const secrets = Object.values(record.credentialMapping).flatMap(
      (m) => m.kubernetesSecrets?.map((x) => x.namespace) ?? [],
    );
    assert.deepEqual(secrets, ["team-a", "team-c", "team-d"]);
  });

  it("--always-pull-images: IfNotPresent becomes Always, the image is pulled though present", async () => {
    const store = tempDir("kimg-run-store-");
    const paths = files({ "p.yaml": podYaml("default", "ap", pubRef, { policy: "IfNotPresent" }) });
    const first = await kimg(["run", ...paths, "--store", store]);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /Pulling image/);
    const again = await kimg(["run", ...paths, "--store", store]);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /already present on machine and can be accessed by the pod/);
    assert.doesNotMatch(again.stdout, /Pulling image|^Admission:/m);
    const forced = await kimg(["run", ...paths, "--store", store, "--always-pull-images"]);
    assert.equal(forced.code, 0, forced.stderr);
    assert.match(
      forced.stdout,
      /^Admission: {10}spec\.containers\[0\]\.imagePullPolicy: IfNotPresent → Always \(AlwaysPullImages\)$/m,
    );
    assert.match(
      forced.stdout,
      new RegExp(`Normal +Pulling +\\d+s +kubelet +Pulling image "${esc(pubRef)}"`),
    );
    assert.match(forced.stdout, pulledRe(pubRef, imageSize(pubImg)));
    assert.doesNotMatch(forced.stdout, /already present/);
  });

  it("--output json: events as JSON lines while they happen, then one status line per pod", async () => {
    const store = tempDir("kimg-run-store-");
    const missing = `${pub.host}/library/nope:1`;
    const r = await kimg([
      "run",
      ...files({
        "p.yaml": `${podYaml("default", "j1", pubRef)}---\n${podYaml("default", "j2", missing, { policy: "IfNotPresent" })}`,
      }),
      "--store",
      store,
      "--output",
      "json",
      "--timeout",
      "1s",
    ]);
    assert.equal(r.code, 1, r.stderr);
    const lines = r.stdout
      .trimEnd()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const events = lines.filter((l) => "reason" in l);
    const statuses = lines.filter((l) => "ready" in l);
    assert.equal(events.length + statuses.length, lines.length);
    for (const e of events) {
      assert.deepEqual(Object.keys(e).sort(), [
        "container",
        "message",
        "pod",
        "reason",
        "time",
        "type",
      ]);
      assert.ok(e.type === "Normal" || e.type === "Warning");
      assert.ok(!Number.isNaN(Date.parse(String(e.time))));
    }
    const j1 = events
      .filter((e) => e.pod === "default/j1")
      .map((e) => `${e.type} ${e.reason} ${e.container}`);
    assert.deepEqual(j1, ["Normal Pulling app", "Normal Pulled app"]);
    // No tag: the API server's default policy is Always (tag :1.0 here → IfNotPresent).
    const j2 = events.filter((e) => e.pod === "default/j2");
    assert.deepEqual(
      j2.map((e) => `${e.type} ${e.reason}`),
      ["Normal Pulling", "Warning Failed", "Warning Failed"],
    );
    assert.equal(j2[2]?.message, "Error: ErrImagePull");
    assert.deepEqual(
      statuses.map((s) => [s.pod, s.ready]),
      [
        ["default/j1", true],
        ["default/j2", false],
      ],
    );
  });

  it("--timeout 3s with a missing image: exit 1 in bounded time, the container waiting", async () => {
    const store = tempDir("kimg-run-store-");
    const missing = `${pub.host}/library/nope:2`;
    const r = await kimg(
      [
        "run",
        ...files({ "p.yaml": podYaml("default", "t1", missing) }),
        "--store",
        store,
        "--timeout",
        "3s",
      ],
      30_000,
    );
    assert.equal(r.code, 1, r.stderr + r.stdout);
    assert.match(r.stdout, /^ {6}Reason: {7}(ErrImagePull|ImagePullBackOff)$/m);
    assert.match(r.stdout, new RegExp(`Failed to pull image "${esc(missing)}": `));
  });

  it("Never with the image absent ends the run without waiting out --timeout (issue 10 item 16)", async () => {
    const store = tempDir("kimg-run-store-");
    // The default --timeout (5m) and the runner's kill after 60 s: only an early end passes.
    const r = await kimg(
      [
        "run",
        ...files({
          "p.yaml": `${podYaml("default", "n1", `${pub.host}/library/absent:1`, { policy: "Never" })}---\n${podYaml("default", "n2", "UPPER:1")}`,
        }),
        "--store",
        store,
      ],
      60_000,
    );
    assert.equal(r.code, 1, `${r.code} ${r.stderr}${r.stdout}`);
    assert.match(section(r.stdout, "n1"), /^ {6}Reason: {7}ErrImageNeverPull$/m);
    assert.match(section(r.stdout, "n2"), /^ {6}Reason: {7}InvalidImageName$/m);
  });

  it("a Never pod gets the image another pod of the run pulls", async () => {
    const store = tempDir("kimg-run-store-");
    const r = await kimg(
      [
        "run",
        ...files({
          "p.yaml": `${podYaml("default", "w1", pubRef, { policy: "Never" })}---\n${podYaml("default", "w2", pubRef, { policy: "IfNotPresent" })}`,
        }),
        "--store",
        store,
        "--timeout",
        "40s",
      ],
      60_000,
    );
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.match(section(r.stdout, "w1"), /already present on machine/);
  });

  it("--timeout cancels a pull in flight: a dead registry does not outlast it", async () => {
    // A server that accepts and never answers: the pull waits on it (for the 30 s stall limit
    // and its retries) unless --timeout cancels it. (A refused port now fails in a second.)
    const sockets: import("node:net").Socket[] = [];
    const hang = createServer((sock) => void sockets.push(sock));
    const port = await new Promise<number>((ok) => {
      hang.listen(0, "127.0.0.1", () => ok((hang.address() as AddressInfo).port));
    });
    after(() => {
      for (const x of sockets) x.destroy();
      hang.close();
    });
    const dead = `127.0.0.1:${port}/library/gone:1`;
    const r = await kimg(
      [
        "run",
        ...files({ "p.yaml": podYaml("default", "dead", dead) }),
        "--store",
        tempDir("kimg-run-store-"),
        "--timeout",
        "2s",
      ],
      30_000,
    );
    assert.equal(r.code, 1, r.stderr + r.stdout);
    assert.match(r.stdout, /^ {6}Reason: {7}ErrImagePull$/m);
    assert.match(
      r.stdout,
      new RegExp(
        `Failed to pull image "${esc(dead)}": context deadline exceeded \\(kimg run --timeout 2s\\)$`,
        "m",
      ),
    );
  });

  it("--node-config: a KubeletConfiguration file; an invalid one is refused with the kubelet's words", async () => {
    const store = tempDir("kimg-run-store-");
    const [cfg, bad, pods] = files({
      "kubelet.yaml": `apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
serializeImagePulls: false
maxParallelImagePulls: 2
`,
      // Two errors (ValidateKubeletConfiguration aggregates them). serializeImagePulls is set:
      // left out, v1beta1 defaulting would make it false for maxParallelImagePulls > 1.
      "bad.yaml": `apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
serializeImagePulls: true
maxParallelImagePulls: 2
registryBurst: -1
`,
      "p.yaml": [1, 2, 3].map((i) => podYaml("default", `n${i}`, pubRef)).join("---\n"),
    });
    const ok = await kimg(["run", String(pods), "--store", store, "--node-config", String(cfg)]);
    assert.equal(ok.code, 0, ok.stderr);
    for (const n of ["n1", "n2", "n3"]) assert.match(section(ok.stdout, n), /image ready/);
    const r = await kimg(["run", String(pods), "--store", store, "--node-config", String(bad)]);
    assert.equal(r.code, 2, r.stderr);
    assert.equal(r.stdout, "");
    const lines = r.stderr.trimEnd().split("\n");
    assert.equal(lines.length, 1, r.stderr);
    // utilerrors.NewAggregate's text: `[e1, e2]`.
    assert.equal(
      lines[0],
      `kimg: ${bad}: [invalid configuration: registryBurst (--registry-burst) -1 must not be a negative number, invalid configuration: maxParallelImagePulls cannot be larger than 1 unless SerializeImagePulls (--serialize-image-pulls) is set to false]`,
    );
    const [bad1] = files({
      "bad1.yaml":
        "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\nregistryPullQPS: -2\n",
    });
    const r1 = await kimg(["run", String(pods), "--store", store, "--node-config", String(bad1)]);
    assert.equal(r1.code, 2);
    assert.equal(
      r1.stderr,
      `kimg: ${bad1}: invalid configuration: registryPullQPS (--registry-qps) -2 must not be a negative number\n`,
    );
  });

  it("input errors: an invalid pod, an unreadable file, a bad --timeout", async () => {
    const store = tempDir("kimg-run-store-");
    const [invalid] = files({ "x.yaml": podYaml("default", "x", "") });
    const r1 = await kimg(["run", String(invalid), "--store", store]);
    assert.equal(r1.code, 1, r1.stderr);
    assert.equal(r1.stderr, 'kimg: Pod "x" is invalid: spec.containers[0].image: Required value\n');
    const r2 = await kimg(["run", join(store, "no-such.yaml"), "--store", store]);
    assert.equal(r2.code, 2);
    assert.match(r2.stderr, /^kimg: .*no-such\.yaml: cannot read: /);
    const r3 = await kimg(["run", String(invalid), "--store", store, "--timeout", "soon"]);
    assert.equal(r3.code, 2);
    assert.equal(r3.stderr, 'kimg: --timeout: time: invalid duration "soon"\n');
    // An invalid CredentialProviderConfig: the kubelet's validation message, with the file.
    const [pod, cp] = files({
      "p.yaml": podYaml("default", "cp", pubRef),
      "cp.yaml":
        "apiVersion: kubelet.config.k8s.io/v1\nkind: CredentialProviderConfig\nproviders: [{name: x}]\n",
    });
    const r4 = await kimg([
      "run",
      String(pod),
      "--store",
      store,
      "--image-credential-provider-config",
      String(cp),
      "--image-credential-provider-bin-dir",
      store,
    ]);
    assert.equal(r4.code, 2, r4.stderr);
    assert.equal(
      r4.stderr,
      `kimg: ${cp}: failed to validate credential provider config: [providers.apiVersion: Required value, providers.matchImages: Required value: at least 1 item in matchImages is required, providers.defaultCacheDuration: Required value]\n`,
    );
  });
});
