// The kubelet's image-pull back-off (kubelet.md §5.7): client-go's flowcontrol.Backoff with the
// kubelet's parameters, plus the image manager's remembered previous error per key. Pure: every
// time is a parameter (`now`, milliseconds); there is no clock inside.
//
// Upstream sources (kubernetes/kubernetes), read for this file:
// - staging/src/k8s.io/client-go/util/flowcontrol/backoff.go — Get, Next, Reset,
//   IsInBackOffSince, IsInBackOffSinceUpdate, GC, DeleteEntry, hasExpired (2 × max). The
//   kubelet's back-off has no jitter (NewBackOff: maxJitterFactor 0), so Next is exact.
//   Upstream Next stores `lastUpdate = p.Clock.Now()`; the kubelet always passes
//   `Clock.Now()` as the event time, so here `lastUpdate = now`.
// - staging/src/k8s.io/client-go/util/flowcontrol/backoff_test.go — ported in
//   test/kubelet/backoff.test.ts
// - pkg/kubelet/kubelet.go — imageBackOffPeriod 10 s, MaxImageBackOff 300 s
// - pkg/kubelet/images/image_manager.go — backOffKey `fmt.Sprintf("%s_%s", podUID, image)` with
//   the raw pod image; prevPullErrMsg (Store after a failed pull, Load for the back-off message,
//   Delete before a new attempt); backOff.GC() after each successful pull

/** pkg/kubelet/kubelet.go imageBackOffPeriod. */
export const IMAGE_BACKOFF_INITIAL_MS = 10_000;
/** pkg/kubelet/kubelet.go MaxImageBackOff. */
export const IMAGE_BACKOFF_MAX_MS = 300_000;

interface Entry {
  backoff: number;
  lastUpdate: number;
}

/** The back-off key of a pod's image: `<podUID>_<raw image>`. */
export function backoffKey(podUID: string, image: string): string {
  return `${podUID}_${image}`;
}

/**
 * flowcontrol.Backoff without jitter. Defaults are the kubelet's image back-off (10 s doubling
 * to 300 s, entries forgotten after 600 s without an update).
 */
export class ImageBackoff {
  readonly initialMs: number;
  readonly maxMs: number;
  readonly #entries = new Map<string, Entry>();
  readonly #previousError = new Map<string, string>();

  constructor(initialMs = IMAGE_BACKOFF_INITIAL_MS, maxMs = IMAGE_BACKOFF_MAX_MS) {
    this.initialMs = initialMs;
    this.maxMs = maxMs;
  }

  /** The current delay for `key` (0 when there is no entry). */
  get(key: string): number {
    return this.#entries.get(key)?.backoff ?? 0;
  }

  /**
   * A failure at `now`: a new or expired entry starts at the initial delay; otherwise the delay
   * doubles, capped at the maximum. Either way `lastUpdate = now`.
   */
  next(key: string, now: number): void {
    let entry = this.#entries.get(key);
    if (entry === undefined || this.#hasExpired(now, entry.lastUpdate)) {
      entry = { backoff: this.initialMs, lastUpdate: now };
      this.#entries.set(key, entry);
    } else {
      entry.backoff = Math.min(entry.backoff * 2, this.maxMs);
    }
    entry.lastUpdate = now;
  }

  /** Forgets `key` (Reset / DeleteEntry). */
  reset(key: string): void {
    this.#entries.delete(key);
  }

  /**
   * IsInBackOffSince: whether less than the current delay has passed between `eventTime` and
   * `now` (false without an entry or when the entry expired at `eventTime`).
   */
  isInBackOffSince(key: string, eventTime: number, now: number): boolean {
    const entry = this.#entries.get(key);
    if (entry === undefined) return false;
    if (this.#hasExpired(eventTime, entry.lastUpdate)) return false;
    return now - eventTime < entry.backoff;
  }

  /**
   * IsInBackOffSinceUpdate — what the image manager asks before a pull: whether less than the
   * current delay has passed since the last failure (false without an entry or when expired).
   */
  isInBackOffSinceUpdate(key: string, now: number): boolean {
    const entry = this.#entries.get(key);
    if (entry === undefined) return false;
    if (this.#hasExpired(now, entry.lastUpdate)) return false;
    return now - entry.lastUpdate < entry.backoff;
  }

  /** GC: deletes entries not updated for more than 2 × max (called after each successful pull). */
  gc(now: number): void {
    for (const [key, entry] of this.#entries) {
      if (this.#hasExpired(now, entry.lastUpdate)) this.#entries.delete(key);
    }
  }

  /** Whether `key` has an entry (expired or not), for tests and diagnostics. */
  has(key: string): boolean {
    return this.#entries.has(key);
  }

  /** The keys with an entry. */
  keys(): string[] {
    return [...this.#entries.keys()];
  }

  // --- the image manager's prevPullErrMsg (a separate map upstream, kept here with the key) ---

  /** Remembers the failure of the last pull for `key`, as `"<ErrName>: <msg>"`. */
  setPreviousError(key: string, text: string): void {
    this.#previousError.set(key, text);
  }

  /** The remembered failure for `key`, if any. */
  previousError(key: string): string | undefined {
    return this.#previousError.get(key);
  }

  /** Forgets the remembered failure (upstream does this right before every new attempt). */
  forgetPreviousError(key: string): void {
    this.#previousError.delete(key);
  }

  /** hasExpired: more than 2 × max since the last update. */
  #hasExpired(eventTime: number, lastUpdate: number): boolean {
    return eventTime - lastUpdate > this.maxMs * 2;
  }
}
