// runPods(): the image side of a node's pod workers, until every image is ready or time runs out.
// Per pod, as the kubelet's SyncPod does (pkg/kubelet/kuberuntime/kuberuntime_manager.go):
// the pull secrets are fetched once per sync (getPullSecretsForPod); init containers one at a
// time, in order, a failure ending the sync; then every regular container in order, each
// attempted even when an earlier one failed (SyncPod's `start` results are only collected).
// A sync that left a container waiting is retried after the pod worker's back-off period
// (10 s: pkg/kubelet/pod_workers.go backOffPeriod; kimg leaves out its jitter so runs are
// repeatable), where the image back-off decides between a new pull and `BackOff`.
// Pods sync in parallel; the image manager's puller bounds the pulls themselves.

import { setTimeout as delay } from "node:timers/promises";
import { defaultWaitingState, type WaitingState, waitingState } from "../kubelet/index.ts";
import type { ImageManager } from "./image-manager.ts";
import type { NodePod, PodContainer } from "./pods.ts";

/** The pod worker's retry period after a failed sync (pod_workers.go backOffPeriod). */
export const POD_RESYNC_ON_ERROR_MS = 10_000;

export interface ContainerImageStatus {
  readonly name: string;
  readonly image: string;
  readonly init: boolean;
  /** The image ref (image id) once the image is ready. */
  readonly imageRef?: string;
  /** Present while the image is not ready. */
  readonly waiting?: WaitingState;
}

export interface PodImageStatus {
  readonly pod: NodePod;
  readonly containers: readonly ContainerImageStatus[];
  /** Every container's image is ready. */
  readonly ready: boolean;
  /** Syncs run for this pod. */
  readonly syncs: number;
}

export interface RunPodsOptions {
  readonly manager: ImageManager;
  readonly pods: readonly NodePod[];
  /** Give up on a pod this long after the start. */
  readonly timeoutMs: number;
  /** The clock, ms. Default Date.now. */
  readonly now?: (() => number) | undefined;
  /**
   * Waits `ms`, or until `signal` aborts (then resolves early); a fake clock advances instead.
   * Default: node:timers/promises, so no timer outlives the run.
   */
  readonly sleep?: ((ms: number, signal: AbortSignal) => Promise<void>) | undefined;
  /** Default POD_RESYNC_ON_ERROR_MS. */
  readonly resyncMs?: number | undefined;
  /** Called after each sync of a pod. */
  readonly onSync?: ((status: PodImageStatus) => void) | undefined;
}

const NEVER = new AbortController().signal;
const realSleep = (ms: number, signal: AbortSignal): Promise<void> =>
  delay(ms, undefined, { signal }).catch(() => {});

/**
 * Waiting reasons no resync of this pod can change by itself: `Never` with the image absent,
 * an image name that does not parse. Only another pod's pull could (the same image, pulled
 * by a pod of the same run), so a run ends once every pod is ready or stuck on these and no
 * pod is still pulling (issue 10 item 16), instead of waiting out --timeout.
 */
export const PERMANENT_WAITING_REASONS: ReadonlySet<string> = new Set([
  "ErrImageNeverPull",
  "InvalidImageName",
]);

type PodPhase = "active" | "stuck" | "done";

export async function runPods(opts: RunPodsOptions): Promise<PodImageStatus[]> {
  const now = opts.now ?? Date.now;
  const sleep = opts.sleep ?? realSleep;
  const deadline = now() + opts.timeoutMs;
  const resync = opts.resyncMs ?? POD_RESYNC_ON_ERROR_MS;
  const phases = new Map<NodePod, PodPhase>(opts.pods.map((p) => [p, "active"]));
  // Resolved when no pod is active any more, so stuck pods waiting for a resync end at once
  // instead of sleeping to the deadline (a run of several Never pods waited out --timeout).
  const settled = new AbortController();
  const run: PodRun = {
    manager: opts.manager,
    now,
    sleep,
    deadline,
    resync,
    phases,
    settled: settled.signal,
    wake: () => settled.abort(),
  };
  if (opts.onSync !== undefined) run.onSync = opts.onSync;
  return Promise.all(opts.pods.map((pod) => runPod(pod, run)));
}

interface PodRun {
  readonly manager: ImageManager;
  readonly now: () => number;
  readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  readonly deadline: number;
  readonly resync: number;
  onSync?: (s: PodImageStatus) => void;
  readonly phases: Map<NodePod, PodPhase>;
  /** Aborted when no pod is active any more. */
  readonly settled: AbortSignal;
  readonly wake: () => void;
}

function setPhase(run: PodRun, pod: NodePod, phase: PodPhase): void {
  run.phases.set(pod, phase);
  if ([...run.phases.values()].every((p) => p !== "active")) run.wake();
}

async function runPod(pod: NodePod, run: PodRun): Promise<PodImageStatus> {
  const { manager, now, deadline, resync, phases } = run;
  const hasInit = pod.initContainers.length > 0;
  const initial = defaultWaitingState(hasInit);
  const state = new Map<PodContainer, { imageRef?: string; waiting?: WaitingState }>();
  for (const c of [...pod.initContainers, ...pod.containers]) state.set(c, { waiting: initial });
  let syncs = 0;
  const snapshot = (): PodImageStatus => {
    const containers = [...state.entries()].map(([c, s]) => ({
      name: c.name,
      image: c.image,
      init: pod.initContainers.includes(c),
      ...(s.imageRef !== undefined ? { imageRef: s.imageRef } : {}),
      ...(s.waiting !== undefined ? { waiting: s.waiting } : {}),
    }));
    return { pod, containers, ready: containers.every((c) => c.imageRef !== undefined), syncs };
  };

  for (;;) {
    syncs++;
    const secrets = manager.pullSecretsForPod(pod);
    let initFailed = false;
    for (const c of pod.initContainers) {
      if (state.get(c)?.imageRef !== undefined) continue;
      const r = await manager.ensureImageExists(pod, c, secrets);
      if (r.ok) state.set(c, { imageRef: r.imageRef });
      else {
        state.set(c, { waiting: waitingState(r.error.error, r.error.message) });
        initFailed = true;
        break;
      }
    }
    if (!initFailed) {
      for (const c of pod.containers) {
        if (state.get(c)?.imageRef !== undefined) continue;
        const r = await manager.ensureImageExists(pod, c, secrets);
        state.set(
          c,
          r.ok
            ? { imageRef: r.imageRef }
            : { waiting: waitingState(r.error.error, r.error.message) },
        );
      }
    }
    const s = snapshot();
    run.onSync?.(s);
    if (s.ready) {
      setPhase(run, pod, "done");
      return s;
    }
    const stuck = s.containers.every(
      (c) => c.imageRef !== undefined || PERMANENT_WAITING_REASONS.has(c.waiting?.reason ?? ""),
    );
    setPhase(run, pod, stuck ? "stuck" : "active");
    const allSettled = () => [...phases.values()].every((p) => p !== "active");
    if (stuck && allSettled()) {
      setPhase(run, pod, "done");
      return s;
    }
    const left = deadline - now();
    if (left <= 0) {
      setPhase(run, pod, "done");
      return s;
    }
    // A stuck pod also wakes when the last active pod settles, and syncs once more (that pod
    // may have pulled its image); stuck again with nothing active, it ends above.
    await run.sleep(Math.min(resync, left), stuck ? run.settled : NEVER);
    if (deadline - now() <= 0) {
      setPhase(run, pod, "done");
      return snapshot();
    }
  }
}
