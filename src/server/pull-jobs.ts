// Pull jobs of `kimg ui`: each POST /api/pull starts one in this process; its events are kept
// so a page that subscribes late (or reconnects) gets them from the start, as server-sent
// events. Memory is bounded: blob-progress events are coalesced per digest (only the latest is
// kept, in place of the earlier one), and a job is forgotten JOB_TTL_MS after it ends.

import { randomBytes } from "node:crypto";
import type { ServerResponse } from "node:http";

/** How long a finished job's events stay available. */
export const JOB_TTL_MS = 10 * 60 * 1000;
/** A comment line to every open stream this often, so proxies and browsers keep it open. */
export const HEARTBEAT_MS = 15 * 1000;
/** Jobs kept at once (running or finished); a new pull beyond this is refused with 503. */
export const MAX_JOBS = 256;

interface StoredEvent {
  /** Sequence number: the SSE `id:` (Last-Event-ID on reconnect). */
  seq: number;
  event: "progress" | "result" | "error";
  data: string;
}

export interface PullJob {
  readonly id: string;
  readonly ref: string;
  readonly events: StoredEvent[];
  done: boolean;
  readonly subscribers: Set<ServerResponse>;
  /** digest → index in `events` of its blob-progress event (coalescing). */
  readonly progressAt: Map<string, number>;
  nextSeq: number;
}

function frame(e: StoredEvent): string {
  return `id: ${e.seq}\nevent: ${e.event}\ndata: ${e.data}\n\n`;
}

export class PullJobs {
  readonly #jobs = new Map<string, PullJob>();
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly #ttlMs: number;
  readonly #heartbeat: NodeJS.Timeout;

  constructor(opts: { ttlMs?: number | undefined; heartbeatMs?: number | undefined } = {}) {
    this.#ttlMs = opts.ttlMs ?? JOB_TTL_MS;
    this.#heartbeat = setInterval(() => {
      for (const job of this.#jobs.values()) {
        for (const res of job.subscribers) res.write(": ping\n\n");
      }
    }, opts.heartbeatMs ?? HEARTBEAT_MS);
    this.#heartbeat.unref();
  }

  get size(): number {
    return this.#jobs.size;
  }

  /** Jobs not yet ended. */
  running(): number {
    let n = 0;
    for (const j of this.#jobs.values()) if (!j.done) n++;
    return n;
  }

  get(id: string): PullJob | undefined {
    return this.#jobs.get(id);
  }

  create(ref: string): PullJob | undefined {
    if (this.#jobs.size >= MAX_JOBS) return undefined;
    const job: PullJob = {
      id: randomBytes(16).toString("hex"),
      ref,
      events: [],
      done: false,
      subscribers: new Set(),
      progressAt: new Map(),
      nextSeq: 1,
    };
    this.#jobs.set(job.id, job);
    return job;
  }

  /** Records an event and sends it to every subscriber; `result`/`error` end the job. */
  emit(job: PullJob, event: StoredEvent["event"], value: unknown): void {
    if (job.done) return;
    const e: StoredEvent = { seq: job.nextSeq++, event, data: JSON.stringify(value) };
    const v = value as { type?: string; digest?: string };
    if (event === "progress" && v.type === "blob-progress" && typeof v.digest === "string") {
      const at = job.progressAt.get(v.digest);
      if (at !== undefined) job.events[at] = e;
      else {
        job.progressAt.set(v.digest, job.events.length);
        job.events.push(e);
      }
    } else {
      // A new step for the blob (start of a retry, done): later progress starts a new entry.
      if (typeof v.digest === "string") job.progressAt.delete(v.digest);
      job.events.push(e);
    }
    const text = frame(e);
    for (const res of job.subscribers) res.write(text);
    if (event === "result" || event === "error") this.#finish(job);
  }

  #finish(job: PullJob): void {
    job.done = true;
    job.progressAt.clear();
    for (const res of job.subscribers) res.end();
    job.subscribers.clear();
    const t = setTimeout(() => {
      this.#timers.delete(t);
      this.#jobs.delete(job.id);
    }, this.#ttlMs);
    t.unref();
    this.#timers.add(t);
  }

  /**
   * Streams a job as text/event-stream: every stored event after `lastEventId` (all of them
   * when absent), then live events until the job ends; a finished job's stream ends at once.
   */
  subscribe(job: PullJob, res: ServerResponse, lastEventId?: number): void {
    res.writeHead(200, {
      "Content-Type": "text/event-stream; charset=utf-8",
      "Cache-Control": "no-store",
      Connection: "keep-alive",
      "X-Accel-Buffering": "no",
    });
    // Replayed in sequence order (a coalesced progress event sits where its first one was).
    const replay = job.events
      .filter((e) => lastEventId === undefined || e.seq > lastEventId)
      .sort((a, b) => a.seq - b.seq);
    res.write(`retry: 2000\n\n${replay.map(frame).join("")}`);
    if (job.done) {
      res.end();
      return;
    }
    job.subscribers.add(res);
    res.on("close", () => job.subscribers.delete(res));
  }

  /** Ends every stream and forgets every job (server shutdown). */
  close(): void {
    clearInterval(this.#heartbeat);
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    for (const job of this.#jobs.values()) {
      for (const res of job.subscribers) res.end();
      job.subscribers.clear();
    }
    this.#jobs.clear();
  }
}
