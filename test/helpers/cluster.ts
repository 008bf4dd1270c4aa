// A real Kubernetes control plane on loopback for the differential tests (issue 12 §3): etcd
// and kube-apiserver built from their published Go modules (test/peers/versions.env), with a
// service-account key pair and a static admin token made here, the admission plugins of a
// chosen set (AlwaysPullImages on or off), and a kubeconfig for kubectl. Torn down with
// stop(): both processes killed and waited for, the data directory removed.
//
// The apiserver's serving certificate is the self-signed one it makes in --cert-dir; the
// kubeconfig skips verifying it (loopback only, a throwaway cluster).

import { type ChildProcess, execFile } from "node:child_process";
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { request } from "node:https";
import { join } from "node:path";
import { makeTempDir, removeTempDir } from "./cleanup.ts";
import { Daemons } from "./daemons.ts";
import { peerBin } from "./peers.ts";
import { freePort } from "./registry.ts";

export interface ControlPlaneOptions {
  /** Enable the AlwaysPullImages admission plugin. Default false. */
  readonly alwaysPullImages?: boolean;
  /**
   * Also run kube-controller-manager and kube-scheduler, so Deployments make Pods, namespaces
   * get their `default` ServiceAccount and `kube-root-ca.crt`, and Pods are scheduled.
   * Default false (the differential tests need only the API server).
   */
  readonly controllers?: boolean;
}

export interface ControlPlane {
  /** `https://127.0.0.1:PORT` */
  readonly url: string;
  readonly kubeconfig: string;
  /** The admin's bearer token (group system:masters). */
  readonly token: string;
  readonly kubectlPath: string;
  /** Runs kubectl against this cluster; never throws: the exit code is in the result. */
  kubectl(
    args: readonly string[],
    input?: string,
  ): Promise<{ code: number; stdout: string; stderr: string }>;
  stop(): Promise<void>;
}

async function until(
  what: string,
  ms: number,
  ok: () => Promise<boolean>,
  log: () => string,
  proc: ChildProcess,
) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await ok().catch(() => false)) return;
    if (proc.exitCode !== null || proc.signalCode !== null) {
      throw new Error(
        `${what} exited (${proc.exitCode ?? proc.signalCode}):\n${log().slice(-3000)}`,
      );
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${what} did not become ready in ${ms} ms:\n${log().slice(-3000)}`);
}

function httpsStatus(url: string, token: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { rejectUnauthorized: false, headers: { authorization: `Bearer ${token}` } },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    req.on("error", reject);
    req.end();
  });
}

export async function startControlPlane(opts: ControlPlaneOptions = {}): Promise<ControlPlane> {
  const dir = makeTempDir("kimg-cp-");
  const daemons = new Daemons();
  const stop = async () => {
    await daemons.stopAll();
    removeTempDir(dir);
  };
  try {
    const [clientPort, peerPort, securePort] = [
      await freePort(),
      await freePort(),
      await freePort(),
    ];
    const etcd = daemons.start("etcd", peerBin("etcd"), [
      "--name=kimg",
      `--data-dir=${join(dir, "etcd")}`,
      `--listen-client-urls=http://127.0.0.1:${clientPort}`,
      `--advertise-client-urls=http://127.0.0.1:${clientPort}`,
      `--listen-peer-urls=http://127.0.0.1:${peerPort}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${peerPort}`,
      `--initial-cluster=kimg=http://127.0.0.1:${peerPort}`,
      "--log-level=warn",
    ]);
    await until(
      "etcd",
      30_000,
      async () => (await fetch(`http://127.0.0.1:${clientPort}/health`)).ok,
      () => daemons.log("etcd"),
      etcd,
    );
    const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    writeFileSync(join(dir, "sa.key"), privateKey.export({ type: "pkcs8", format: "pem" }));
    writeFileSync(join(dir, "sa.pub"), publicKey.export({ type: "spki", format: "pem" }));
    const token = randomBytes(24).toString("hex");
    writeFileSync(join(dir, "tokens.csv"), `${token},kimg-admin,kimg-admin,"system:masters"\n`);
    const plugins = ["NamespaceLifecycle", "ServiceAccount", "LimitRanger", "ResourceQuota"];
    if (opts.alwaysPullImages === true) plugins.push("AlwaysPullImages");
    const apiserver = daemons.start("kube-apiserver", peerBin("kubernetes", "kube-apiserver"), [
      `--etcd-servers=http://127.0.0.1:${clientPort}`,
      "--bind-address=127.0.0.1",
      "--advertise-address=127.0.0.1",
      // A loopback advertise address is refused by the endpoint reconciler; nothing here
      // needs the kubernetes Service's endpoints.
      "--endpoint-reconciler-type=none",
      `--secure-port=${securePort}`,
      `--cert-dir=${join(dir, "certs")}`,
      "--service-account-issuer=https://kubernetes.default.svc",
      `--service-account-key-file=${join(dir, "sa.pub")}`,
      `--service-account-signing-key-file=${join(dir, "sa.key")}`,
      `--token-auth-file=${join(dir, "tokens.csv")}`,
      "--authorization-mode=RBAC",
      "--service-cluster-ip-range=10.96.0.0/24",
      `--enable-admission-plugins=${plugins.join(",")}`,
    ]);
    const url = `https://127.0.0.1:${securePort}`;
    await until(
      "kube-apiserver",
      120_000,
      async () => (await httpsStatus(`${url}/readyz`, token)) === 200,
      () => daemons.log("kube-apiserver"),
      apiserver,
    );
    const kubeconfig = join(dir, "kubeconfig");
    writeFileSync(
      kubeconfig,
      `apiVersion: v1
kind: Config
clusters:
- name: kimg
  cluster: {server: "${url}", insecure-skip-tls-verify: true}
users:
- name: kimg-admin
  user: {token: "${token}"}
contexts:
- name: kimg
  context: {cluster: kimg, user: kimg-admin}
current-context: kimg
`,
    );
    if (opts.controllers === true) {
      const common = [
        "--kubeconfig",
        kubeconfig,
        "--leader-elect=false",
        "--bind-address=127.0.0.1",
      ];
      daemons.start("kube-controller-manager", peerBin("kubernetes", "kube-controller-manager"), [
        ...common,
        `--secure-port=${await freePort()}`,
        `--service-account-private-key-file=${join(dir, "sa.key")}`,
        `--root-ca-file=${join(dir, "certs", "apiserver.crt")}`,
        "--use-service-account-credentials=false",
        "--controllers=*,-node-ipam-controller",
      ]);
      daemons.start("kube-scheduler", peerBin("kubernetes", "kube-scheduler"), [
        ...common,
        `--secure-port=${await freePort()}`,
      ]);
    }
    const kubectlPath = peerBin("kubernetes", "kubectl");
    const kubectl: ControlPlane["kubectl"] = (args, input) =>
      new Promise((resolve) => {
        const child = execFile(
          kubectlPath,
          [`--kubeconfig=${kubeconfig}`, ...args],
          { encoding: "utf8", maxBuffer: 256 << 20 },
          (err, stdout, stderr) => {
            const code = err === null ? 0 : typeof err.code === "number" ? err.code : -1;
            resolve({ code, stdout, stderr });
          },
        );
        if (input !== undefined) child.stdin?.end(input);
        else child.stdin?.end();
      });
    return { url, kubeconfig, token, kubectlPath, kubectl, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}
