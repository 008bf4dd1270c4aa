// Bounded retries with back-off for registry requests. Connection errors and 500/502/503/504 are
// retried with exponential back-off; 429 honours `Retry-After` (delta-seconds or HTTP date,
// RFC 9110 §10.2.3), capped. This follows containers/image (docker/docker_client.go
// `makeRequestToResolvedURL`, `parseRetryAfter`: up to 5 tries, 2 s doubling, cap 60 s) rather
// than containerd (core/remotes/docker/resolver.go `retryRequest`, which ignores Retry-After);
// see ../../shared/specs/registry.md §1.7. Clock and sleep are injectable for tests.

export interface RetryOptions {
  /** Tries per request, first included. Default 5. */
  maxAttempts: number;
  /** First back-off delay, ms; doubled per retry. Default 1000. */
  baseDelayMs: number;
  /** Cap for back-off and for `Retry-After`, ms. Default 60 s. */
  maxDelayMs: number;
  /** Waits `ms` (rejects when `signal` aborts). */
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Wall-clock now, ms since the epoch (for HTTP-date `Retry-After`). */
  now: () => number;
}

export const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([429, 500, 502, 503, 504]);

export function defaultSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted === true) {
      reject(signal.reason);
      return;
    }
    const t = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal?.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

export function retryOptions(partial: Partial<RetryOptions> = {}): RetryOptions {
  return {
    maxAttempts: partial.maxAttempts ?? 5,
    baseDelayMs: partial.baseDelayMs ?? 1000,
    maxDelayMs: partial.maxDelayMs ?? 60_000,
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
