// Bounded retries with back-off for registry requests. Connection errors and 500/502/503/504 are
// retried with exponential back-off; 429 honours `Retry-After` (delta-seconds or HTTP date,
// RFC 9110 §10.2.3), capped. This follows containers/image (docker/docker_client.go
// `makeRequestToResolvedURL`, `parseRetryAfter`: up to 5 tries, 2 s doubling, cap 60 s) rather
// than containerd (core/remotes/docker/resolver.go `retryRequest`, which ignores Retry-After);
// see ../../shared/specs/registry.md §1.7. Clock and sleep are injectable for tests.
import { setTimeout as delay } from "node:timers/promises";

export interface RetryOptions {
  /** Tries per request, first included. Default 5. */
  maxAttempts: number;
  /** First back-off delay, ms; doubled per retry. Default 1000. */
  baseDelayMs: number;
  /**
   * Cap for back-off and the longest `Retry-After` kimg waits, ms. Default 60 s. A registry
   * asking for longer is not waited for: the request fails at once, saying what was asked.
   */
  maxDelayMs: number;
  /**
   * A response is stalled when its headers take longer than this, or its body brings less than
   * STALL_MIN_BYTES in this long. Default 30 s: a live link, however slow, moves a kilobyte in
   * 30 s; a registry that trickles a byte every few seconds would otherwise hold a pull for
   * hours (issue 10 item 21).
   */
  stallTimeoutMs: number;
  /** Told before each wait (a back-off or a Retry-After), so front ends can say so. */
  onWait?: ((w: RetryWait) => void) | undefined;
  /** Waits `ms` (rejects when `signal` aborts). */
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Wall-clock now, ms since the epoch (for HTTP-date `Retry-After`). */
  now: () => number;
}

export const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([429, 500, 502, 503, 504]);

/** Less than this many body bytes within stallTimeoutMs: stalled (curl's --speed-limit idea). */
export const STALL_MIN_BYTES = 1024;

/** A wait before the next try of a request. */
export interface RetryWait {
  /** `host[:port]` of the registry (or the redirect target) that answered. */
  readonly host: string;
  readonly ms: number;
  /** Why: `429 Too Many Requests (Retry-After: 30)`, `503 Service Unavailable`, an error. */
  readonly reason: string;
  /** The try that comes after the wait (2 = the first retry). */
  readonly attempt: number;
}

/** node:timers/promises' sleep; an abort rejects with the signal's reason, as fetch does. */
export function defaultSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return delay(ms, undefined, { signal }).catch(() => {
    throw signal?.reason;
  });
}

export function retryOptions(partial: Partial<RetryOptions> = {}): RetryOptions {
  return {
    maxAttempts: partial.maxAttempts ?? 5,
    baseDelayMs: partial.baseDelayMs ?? 1000,
    maxDelayMs: partial.maxDelayMs ?? 60_000,
    stallTimeoutMs: partial.stallTimeoutMs ?? 30_000,
    onWait: partial.onWait,
    sleep: partial.sleep ?? defaultSleep,
    now: partial.now ?? Date.now,
  };
}

/**
 * `Retry-After` as a delay in ms: delta-seconds or an HTTP date (relative to `nowMs`); undefined
 * when absent or unparsable. A date in the past gives 0.
 */
export function parseRetryAfter(value: string | undefined, nowMs: number): number | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  if (!/[a-z]/i.test(v)) return undefined;
  const t = Date.parse(v);
  if (Number.isNaN(t)) return undefined;
  return Math.max(0, t - nowMs);
}

/** Delay before retry number `retry` (1-based): base × 2^(retry−1), capped. */
export function backoffDelay(retry: number, opts: RetryOptions): number {
  return Math.min(opts.baseDelayMs * 2 ** (retry - 1), opts.maxDelayMs);
}

/** Delay before the next try after status `status` (with its `Retry-After`, if any). */
export function delayFor(
  retry: number,
  status: number | undefined,
  retryAfter: string | undefined,
  opts: RetryOptions,
): number {
  if (status === 429) {
    const ra = parseRetryAfter(retryAfter, opts.now());
    if (ra !== undefined) return Math.min(ra, opts.maxDelayMs);
  }
  return backoffDelay(retry, opts);
}
