// A real Kubernetes node on loopback (issue 12 §3): containerd 2 with Debian's runc and CNI
// plugins, and a kubelet 1.37 registered with a control plane from cluster.ts. The sandbox
// ("pause") image is a static C program built here and served by the local Distribution
// registry, so nothing comes from the internet. Settings this machine needs: cgroup v1
// (`failCgroupV1: false`), the cgroupfs driver, no swap check, eviction off (a test machine's
// disk is often fuller than the kubelet's 85% default).

import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { ControlPlane } from "./cluster.ts";
import { Daemons } from "./daemons.ts";
import { buildImage } from "./images.ts";
import { peerBin, peerDir } from "./peers.ts";
import { freePort, type Registry } from "./registry.ts";
import { pushLayout } from "./skopeo.ts";

export interface NodeOptions {
  /** The registry the node pulls from (plain HTTP); the pause image is pushed there. */
  readonly registry: Registry;
  /** KubeletConfiguration `imagePullCredentialsVerificationPolicy`. */
  readonly credentialsVerificationPolicy?: string;
  readonly name?: string;
}

export interface Node {
  readonly name: string;
  /** containerd's CRI socket (for crictl). */
  readonly socket: string;
  readonly pauseImage: string;
  stop(): Promise<void>;
  /** The kubelet's and containerd's last log lines. */
  logs(): string;
}

const BRIDGE = "kimg0";

const PAUSE_C = `#include <signal.h>
#include <unistd.h>
static void done(int s) { (void)s; _exit(0); }
int main(void) {
  signal(SIGINT, done);
  signal(SIGTERM, done);
  for (;;) pause();
}
`;

/** The pause image: a static binary in one layer, pushed as REGISTRY/kimg/pause:1. */
export async function pushPauseImage(registry: Registry): Promise<string> {
  const dir = mkdtempSync("/tmp/kimg-pause-");
  try {
    writeFileSync(join(dir, "pause.c"), PAUSE_C);
    execFileSync("gcc", ["-static", "-O2", "-o", join(dir, "pause"), join(dir, "pause.c")]);
    const img = await buildImage({
      layers: [
        { files: [{ path: "pause", content: readFileSync(join(dir, "pause")), mode: 0o755 }] },
      ],
      config: { Entrypoint: ["/pause"] },
      seed: "pause",
    });
    await pushLayout(img, "kimg/pause:1", registry);
    rmSync(img.layoutDir, { recursive: true, force: true });
    return `${registry.host}/kimg/pause:1`;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function startNode(cp: ControlPlane, opts: NodeOptions): Promise<Node> {
  const name = opts.name ?? "kimg-node";
  const dir = mkdtempSync("/tmp/kn-"); // short: sockets live here
  const daemons = new Daemons();
  const logText = () => daemons.logs();
  const stop = async () => {
    // Pods first, through the CRI, while containerd still runs: their processes and sandboxes
    // go with them (killing the shims would leave the containers' processes behind).
    try {
      const sockPath = join(dir, "containerd.sock");
      execFileSync(peerBin("crictl"), [`--runtime-endpoint=unix://${sockPath}`, "rmp", "-fa"], {
        stdio: "ignore",
        timeout: 60_000,
      });
    } catch {}
    await daemons.stopAll();
    // Whatever the CRI did not remove (a container being created as the pod went): every
    // process in the kubelet's pod cgroups, then the cgroups themselves. One node at a time
    // runs on a machine (the bridge and IPAM directory are fixed too).
    try {
      execFileSync("sh", [
        "-c",
        'for c in /sys/fs/cgroup/*/kubepods; do [ -d "$c" ] || continue; ' +
          'find "$c" -name cgroup.procs -exec cat {} + | xargs -r kill -9; ' +
          'find "$c" -depth -type d -exec rmdir {} + 2>/dev/null; done; true',
      ]);
    } catch {}
    // Containers the kubelet started: their shims and the sandbox processes.
    try {
      execFileSync("pkill", ["-9", "-f", `${dir}/`]);
    } catch {}
    try {
      execFileSync("sh", [
        "-c",
        `grep ' ${dir}/' /proc/mounts | cut -d' ' -f2 | sort -r | xargs -r umount -l`,
      ]);
    } catch {}
    // The CNI bridge and its address allocations.
    try {
      execFileSync("ip", ["link", "del", BRIDGE], { stdio: "ignore" });
    } catch {}
    rmSync("/var/lib/cni/networks/kimg", { recursive: true, force: true });
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const pauseImage = await pushPauseImage(opts.registry);
    const sock = join(dir, "containerd.sock");
    const reg = opts.registry.host;
    mkdirSync(join(dir, "certs.d", reg), { recursive: true });
    writeFileSync(
      join(dir, "certs.d", reg, "hosts.toml"),
      `server = "http://${reg}"\n[host."http://${reg}"]\n  capabilities = ["pull", "resolve"]\n`,
    );
    mkdirSync(join(dir, "net.d"), { recursive: true });
    writeFileSync(
      join(dir, "net.d", "10-kimg.conflist"),
      JSON.stringify({
        cniVersion: "1.0.0",
        name: "kimg",
        plugins: [
          {
            type: "bridge",
            bridge: BRIDGE,
            isGateway: true,
            ipMasq: false,
            ipam: { type: "host-local", ranges: [[{ subnet: "10.244.77.0/24" }]] },
          },
          { type: "portmap", capabilities: { portMappings: true } },
        ],
      }),
    );
    writeFileSync(
      join(dir, "containerd.toml"),
      `version = 3
root = "${dir}/containerd/root"
state = "${dir}/containerd/state"
[grpc]
  address = "${sock}"
[plugins."io.containerd.cri.v1.images"]
  [plugins."io.containerd.cri.v1.images".pinned_images]
    sandbox = "${pauseImage}"
  [plugins."io.containerd.cri.v1.images".registry]
    config_path = "${dir}/certs.d"
# This machine's sandbox may not lower a process's oom_score_adj (the pause container's
# -998): runc init fails with "failed to update /proc/self/oom_score_adj: Permission denied".
# containerd's rootless setting keeps scores at or above its own.
[plugins."io.containerd.cri.v1.runtime"]
  restrict_oom_score_adj = true
[plugins."io.containerd.cri.v1.runtime".cni]
  bin_dirs = ["/usr/lib/cni"]
  conf_dir = "${dir}/net.d"
`,
    );
    const path = `${peerDir("containerd")}:${process.env.PATH ?? ""}`;
    daemons.start(
      "containerd",
      peerBin("containerd", "containerd"),
      ["--config", join(dir, "containerd.toml")],
      {
        ...process.env,
        PATH: path,
      },
    );
    const [port, healthz] = [await freePort(), await freePort()];
    writeFileSync(
      join(dir, "kubelet.yaml"),
      `apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
failCgroupV1: false
cgroupDriver: cgroupfs
containerRuntimeEndpoint: unix://${sock}
failSwapOn: false
address: 127.0.0.1
port: ${port}
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: ${healthz}
authentication:
  anonymous: {enabled: true}
  webhook: {enabled: false}
authorization: {mode: AlwaysAllow}
evictionHard: {memory.available: "1Mi"}
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
serializeImagePulls: true
${opts.credentialsVerificationPolicy !== undefined ? `imagePullCredentialsVerificationPolicy: ${opts.credentialsVerificationPolicy}\n` : ""}`,
    );
    daemons.start(
      "kubelet",
      peerBin("kubernetes", "kubelet"),
      [
        `--config=${join(dir, "kubelet.yaml")}`,
        `--kubeconfig=${cp.kubeconfig}`,
        `--root-dir=${join(dir, "kubelet")}`,
        `--cert-dir=${join(dir, "kubelet-pki")}`,
        `--hostname-override=${name}`,
        "--node-ip=127.0.0.1",
      ],
      { ...process.env, PATH: path },
    );
    const end = Date.now() + 120_000;
    for (;;) {
      const r = await cp.kubectl([
        "get",
        "node",
        name,
        "-o",
        'jsonpath={.status.conditions[?(@.type=="Ready")].status}',
      ]);
      if (r.code === 0 && r.stdout.trim() === "True") break;
      if (Date.now() > end)
        throw new Error(
          `node ${name} is not Ready after 120 s:\n${r.stdout}${r.stderr}\n${logText()}`,
        );
      await new Promise((res) => setTimeout(res, 1000));
    }
    return { name, socket: sock, pauseImage, stop, logs: logText };
  } catch (e) {
    const text = logText();
    await stop();
    throw new Error(`${(e as Error).message}\n${text}`.slice(0, 20_000));
  }
}
