// The kubelet's image pullers and pull throttle (kubelet.md §5.5):
// - serial (serializeImagePulls: true): one worker takes requests from a queue of 10
//   (`maxImagePullRequests`); a request waits while the queue is full
//   (pkg/kubelet/images/puller.go `serialImagePuller`);
// - parallel: every request runs at once, bounded by a semaphore of `maxParallelImagePulls`
//   when set (`parallelImagePuller`);
// - throttle (`registryPullQPS` > 0): a node-wide token bucket of `registryBurst` tokens refilled
//   at `registryPullQPS` a second, checked when the pull starts; no token → the pull fails at
//   once with `pull QPS exceeded` (pkg/kubelet/images/helpers.go `throttledImageService`,
//   client-go flowcontrol.NewTokenBucketRateLimiter → golang.org/x/time/rate, which starts full);
// - `pullDuration` is measured inside the puller, so it excludes the time spent queued.
// kimg adds one thing the kubelet leaves to the runtime (containerd dedupes by ref): identical
// pulls in flight at once (same key) share one run.

import { KimgError } from "../errors.ts";
import { Semaphore } from "../limit/index.ts";

export interface PullerOptions {
  /** serializeImagePulls. Default true. */
  readonly serialize?: boolean | undefined;
  /** maxParallelImagePulls (parallel only); undefined = unlimited. */
  readonly maxParallel?: number | undefined;
  /** registryPullQPS; 0 = no limit. Default 5 (the kubelet's). */
  readonly qps?: number | undefined;
  /** registryBurst. Default 10. */
  readonly burst?: number | undefined;
  /** Milliseconds clock for the token bucket and durations. Default Date.now. */
  readonly now?: (() => number) | undefined;
}

export interface PullerResult<T> {
  readonly value: T;
  /** Time the pull itself took (the kubelet's pullDuration), ms. */
  readonly pullMs: number;
  /** True when this request joined an identical pull already running. */
  readonly shared: boolean;
}

/** Serial queue capacity (puller.go maxImagePullRequests). */
export const MAX_IMAGE_PULL_REQUESTS = 10;

/** golang.org/x/time/rate's bucket, as TryAccept uses it (AllowN(now, 1)). */
export class TokenBucket {
  #tokens: number;
  #last: number;
  constructor(
    readonly qps: number,
    readonly burst: number,
    now: number,
  ) {
    this.#tokens = burst;
    this.#last = now;
  }
  tryAccept(now: number): boolean {
    if (now > this.#last) {
      this.#tokens = Math.min(this.burst, this.#tokens + ((now - this.#last) / 1000) * this.qps);
      this.#last = now;
    }
    if (this.#tokens >= 1) {
      this.#tokens -= 1;
      return true;
    }
    return false;
  }
}

export class ImagePuller {
  readonly #now: () => number;
  readonly #bucket: TokenBucket | undefined;
  /** Serial: one slot; parallel: maxParallel slots, or none (unlimited). */
  readonly #slots: Semaphore | undefined;
  /** Serial: requests queued or running, at most MAX_IMAGE_PULL_REQUESTS + 1. */
  readonly #queue: Semaphore | undefined;
  readonly #inflight = new Map<string, Promise<{ value: unknown; pullMs: number }>>();

  constructor(opts: PullerOptions = {}) {
    this.#now = opts.now ?? Date.now;
    const qps = opts.qps ?? 5;
    const burst = opts.burst ?? 10;
    this.#bucket = qps > 0 ? new TokenBucket(qps, burst, this.#now()) : undefined;
    const serial = opts.serialize ?? true;
    if (serial) {
      this.#slots = new Semaphore(1);
      this.#queue = new Semaphore(MAX_IMAGE_PULL_REQUESTS + 1);
    } else {
      this.#slots = opts.maxParallel !== undefined ? new Semaphore(opts.maxParallel) : undefined;
      this.#queue = undefined;
    }
  }

  /**
   * Runs `run` when the puller lets it (queue, slots, throttle). Requests with the same `key`
   * that overlap share one run.
   */
  async pull<T>(key: string, run: () => Promise<T>): Promise<PullerResult<T>> {
    const existing = this.#inflight.get(key);
    if (existing !== undefined) {
      const r = (await existing) as { value: T; pullMs: number };
      return { ...r, shared: true };
    }
    const p = this.#run(run);
    this.#inflight.set(key, p);
    try {
      const r = await p;
      return { ...r, shared: false };
    } finally {
      this.#inflight.delete(key);
    }
  }

  async #run<T>(run: () => Promise<T>): Promise<{ value: T; pullMs: number }> {
    await this.#queue?.acquire();
    try {
      await this.#slots?.acquire();
      try {
        const start = this.#now();
        if (this.#bucket !== undefined && !this.#bucket.tryAccept(start)) {
          throw new KimgError("PULL_QPS_EXCEEDED", "pull QPS exceeded");
        }
        const value = await run();
        return { value, pullMs: this.#now() - start };
      } finally {
        this.#slots?.release();
      }
    } finally {
      this.#queue?.release();
    }
  }
}
