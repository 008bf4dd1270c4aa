// Bounded concurrency: one counting semaphore, and a parallel map built on it. Pure (promises
// only). The one limiter kimg has (issue 11: the pull's mapLimit and the image puller's
// Semaphore were two); a 15-line semaphore instead of p-limit, as ../shared/specs/ecosystem.md
// §4.14 advises.

/** A counting semaphore: at most `n` holders; waiters are served first come, first served. */
export class Semaphore {
  #free: number;
  readonly #waiters: (() => void)[] = [];
  constructor(n: number) {
    this.#free = n;
  }
  async acquire(): Promise<void> {
    if (this.#free > 0) {
      this.#free--;
      return;
    }
    await new Promise<void>((resolve) => this.#waiters.push(resolve));
  }
  release(): void {
    const next = this.#waiters.shift();
    if (next !== undefined) next();
    else this.#free++;
  }
  /** Runs `f` holding one slot. */
  async run<T>(f: () => Promise<T>): Promise<T> {
    await this.acquire();
    try {
      return await f();
    } finally {
      this.release();
    }
  }
}

/**
 * `items.map(f)` with at most `limit` calls running. After the first failure no new call
 * starts; the calls running finish, then the first error is thrown (so nothing is still writing
 * when the caller cleans up).
 */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  f: (x: T) => Promise<R>,
): Promise<R[]> {
  const slots = new Semaphore(Math.max(1, limit));
  let failed: { error: unknown } | undefined;
  const out = await Promise.all(
    items.map((x) =>
      slots.run(async () => {
        if (failed !== undefined) return undefined;
        try {
          return await f(x);
        } catch (e) {
          failed ??= { error: e };
          return undefined;
        }
      }),
    ),
  );
  if (failed !== undefined) throw failed.error;
  return out as R[];
}
