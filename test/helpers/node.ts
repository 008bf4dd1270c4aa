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
  /** More plain-HTTP registries (`host:port`) the node may pull from; a dead port is fine. */
  readonly extraHosts?: readonly string[];
  readonly name?: string;
}

/** One event the kubelet recorded, from its log (`--v=3` logs each with microseconds). */
export interface LoggedEvent {
  /** Milliseconds since the epoch, to the microsecond. */
  readonly time: number;
  /** `namespace/name` */
  readonly object: string;
  readonly type: string;
  readonly reason: string;
  readonly message: string;
}

export interface Node {
  readonly name: string;
  /** containerd's CRI socket (for crictl). */
  readonly socket: string;
  readonly pauseImage: string;
  stop(): Promise<void>;
  /** The kubelet's and containerd's last log lines. */
  logs(): string;
  /** Every event the kubelet recorded so far, in order, with the time it was logged. */
  events(): readonly LoggedEvent[];
}

// klog's text format for the event broadcaster's structured logging (client-go
// tools/record/event.go StartStructuredLogging: "Event occurred" with object, fieldPath, kind,
// apiVersion, type, reason, message), e.g.
// I1207 13:30:01.123456  4242 event.go:389] "Event occurred" object="ns/p" … reason="Pulling" message="…"
const EVENT_LINE =
  /^[IWE](\d\d)(\d\d) (\d\d):(\d\d):(\d\d)\.(\d{6}) +\d+ \S+\] "Event occurred" object="([^"]*)" .*?type="(\w+)" reason="(\w+)" message=("(?:[^"\\]|\\.)*")/;

/** An "Event occurred" log line as an event (klog's year-less timestamp: this year, UTC). */
export function parseEventLine(
  line: string,
  year = new Date().getUTCFullYear(),
): LoggedEvent | undefined {
  const m = EVENT_LINE.exec(line);
  if (m === null) return undefined;
  const [, mo, d, h, mi, s, us, object, type, reason, quoted] = m;
  const time =
    Date.UTC(year, Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s)) + Number(us) / 1000;
  let message: string;
  try {
    message = JSON.parse(quoted ?? '""') as string;
  } catch {
    return undefined;
  }
  return { time, object: object ?? "", type: type ?? "", reason: reason ?? "", message };
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

let pauseBinary: Buffer | undefined;

/** The static pause binary, compiled once per process. */
function pauseBinaryBytes(): Buffer {
  if (pauseBinary !== undefined) return pauseBinary;
  const dir = mkdtempSync("/tmp/kimg-pause-");
  try {
    writeFileSync(join(dir, "pause.c"), PAUSE_C);
    execFileSync("gcc", ["-static", "-O2", "-o", join(dir, "pause"), join(dir, "pause.c")]);
    pauseBinary = readFileSync(join(dir, "pause"));
    return pauseBinary;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Pushes an image that runs (the pause binary as its entrypoint) to `registry` as `dest`. A
 * `label` adds a file, so each label gives its own digests and image id.
 */
export async function pushRunnableImage(
  registry: Registry,
  dest: string,
  opts: { label?: string; creds?: { user: string; pass: string } } = {},
): Promise<void> {
  const files = [{ path: "pause", content: pauseBinaryBytes(), mode: 0o755 }];
  if (opts.label !== undefined)
    files.push({ path: "label", content: Buffer.from(opts.label), mode: 0o644 });
  const img = await buildImage({
    layers: [{ files }],
    config: { Entrypoint: ["/pause"] },
    seed: `pause-${opts.label ?? ""}`,
  });
  try {
    await pushLayout(img, dest, registry, opts.creds !== undefined ? { creds: opts.creds } : {});
  } finally {
    rmSync(img.layoutDir, { recursive: true, force: true });
  }
}

/** The pause image: a static binary in one layer, pushed as REGISTRY/kimg/pause:1. */
export async function pushPauseImage(registry: Registry): Promise<string> {
  await pushRunnableImage(registry, "kimg/pause:1");
  return `${registry.host}/kimg/pause:1`;
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
    for (const host of [reg, ...(opts.extraHosts ?? [])]) {
      mkdirSync(join(dir, "certs.d", host), { recursive: true });
      writeFileSync(
        join(dir, "certs.d", host, "hosts.toml"),
        `server = "http://${host}"\n[host."http://${host}"]\n  capabilities = ["pull", "resolve"]\n`,
      );
    }
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
    const events: LoggedEvent[] = [];
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
        // Level 3 logs every event the kubelet records, to the microsecond (events.go in the
        // API have whole seconds and fold repeats into a count): the back-off schedule test
        // reads them.
        "--v=3",
      ],
      { ...process.env, PATH: path },
      (line) => {
        const e = parseEventLine(line);
        if (e !== undefined) events.push(e);
      },
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
    return { name, socket: sock, pauseImage, stop, logs: logText, events: () => [...events] };
  } catch (e) {
    const text = logText();
    await stop();
    throw new Error(`${(e as Error).message}\n${text}`.slice(0, 20_000));
  }
}
