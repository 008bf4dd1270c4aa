// The registry client's only door to the network: undici `request()` (not `fetch`, which
// decodes `Content-Encoding: gzip` and so breaks digests; ../../shared/specs/ecosystem.md §4.1).
// One keep-alive `Agent` per client with `connections` per origin and header/body timeouts, or
// an `EnvHttpProxyAgent` when HTTP(S)_PROXY is set. Redirects are NOT followed here: the client
// follows them itself so it can drop `Authorization` on a change of origin (containerd
// core/remotes/docker/resolver.go `do`; distribution-spec spec.md "API").

import { createRequire } from "node:module";
import type { Readable } from "node:stream";
import type { Dispatcher } from "undici";
import apiRequest from "undici/lib/api/api-request.js";
import Agent from "undici/lib/dispatcher/agent.js";

// Start-up: undici's index loads everything (fetch, WebSocket, caches, mocks, interceptors):
// 120–150 ms per `kimg` process, against 30–45 ms for the Agent and `request` alone
// (docs/performance.md "Pulling"). undici 7 has no "exports" map, so its files can be loaded
// directly (types in undici-parts.d.ts); package.json pins the major (^7), and test/registry
// covers both paths. Static imports, so the bundled CLI (scripts/bundle.mjs) carries them. The
// index also installs the Dispatcher API methods (`dispatcher.request`, `.connect`, …) on
// Dispatcher.prototype; ProxyAgent tunnels with `.connect`, so the proxied path loads the
// whole package, at run time, and the direct path calls `request` with the Agent as `this`,
// as undici's own top-level `request()` does (undici index.js `makeDispatcher`).
const require = createRequire(import.meta.url);
type Undici = typeof import("undici");

export interface HttpAgentOptions {
  /** Connections per origin. Default 8. */
  connections?: number | undefined;
  /** Time to wait for response headers, ms. Default 60 s. */
  headersTimeoutMs?: number | undefined;
  /** Longest pause between body chunks, ms. Default 60 s. */
  bodyTimeoutMs?: number | undefined;
  /** Environment to read proxy variables from. Default `process.env`. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Verify TLS certificates. Default true; false only for registries configured insecure. */
  rejectUnauthorized?: boolean | undefined;
}

/** A connection pool; close it when done so the process can exit. */
export interface HttpAgent {
  readonly dispatcher: Dispatcher;
  readonly proxied: boolean;
  close(): Promise<void>;
}

const PROXY_VARS = ["HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"];

export function createHttpAgent(opts: HttpAgentOptions = {}): HttpAgent {
  const env = opts.env ?? process.env;
  const base = {
    connections: opts.connections ?? 8,
    headersTimeout: opts.headersTimeoutMs ?? 60_000,
    bodyTimeout: opts.bodyTimeoutMs ?? 60_000,
    keepAliveTimeout: 30_000,
    ...(opts.rejectUnauthorized === false
      ? {
          connect: { rejectUnauthorized: false },
          requestTls: { rejectUnauthorized: false },
        }
      : {}),
  };
  const proxied = PROXY_VARS.some((v) => (env[v] ?? "") !== "");
  const dispatcher: Dispatcher = proxied
    ? new (require("undici") as Undici).EnvHttpProxyAgent(base)
    : new Agent(base);
  return { dispatcher, proxied, close: () => dispatcher.close() };
}

export type HttpHeaders = Record<string, string | string[] | undefined>;

export interface HttpResponse {
  readonly status: number;
  readonly headers: HttpHeaders;
  /** Raw bytes as sent (never decoded). Read it, or call `discard()`. */
  readonly body: Readable;
  /** Drops the rest of the body (small ones are drained so the connection is reused). */
  discard(): Promise<void>;
  /** Destroys the body at once (the connection is closed). */
  cancel(): void;
}

export type HttpMethod = "GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE";

export interface HttpRequest {
  method: HttpMethod;
  url: URL;
  headers: Record<string, string>;
  /** A string or buffer (replayable), or a stream (sent once). */
  body?: string | Buffer | Readable;
  signal?: AbortSignal;
}

/** One HTTP exchange, no redirects followed, no decoding. */
export async function httpRequest(agent: HttpAgent, req: HttpRequest): Promise<HttpResponse> {
  const res = await apiRequest.call(agent.dispatcher, {
    origin: req.url.origin,
    path: `${req.url.pathname}${req.url.search}`,
    method: req.method,
    headers: req.headers,
    ...(req.body === undefined ? {} : { body: req.body }),
    ...(req.signal === undefined ? {} : { signal: req.signal }),
  });
  const body = res.body;
  return {
    status: res.statusCode,
    headers: res.headers,
    body,
    discard: async () => {
      try {
        await body.dump({ limit: 64 * 1024 });
      } catch {
        body.destroy();
      }
    },
    cancel: () => {
      body.on("error", () => {});
      body.destroy();
    },
  };
}

/** First value of a header (undici lower-cases names). */
export function header(headers: HttpHeaders, name: string): string | undefined {
  const v = headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

/** Every value of a header. */
export function headerValues(headers: HttpHeaders, name: string): string[] {
  const v = headers[name.toLowerCase()];
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

/**
 * Reads a body to the end, refusing (and destroying the stream) once it passes `max` bytes;
 * `onTooLarge` builds the error.
 */
export async function readLimited(
  body: Readable,
  max: number,
  onTooLarge: (seen: number) => Error,
): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of body) {
    const b = c as Buffer;
    n += b.length;
    if (n > max) {
      body.on("error", () => {});
      body.destroy();
      throw onTooLarge(n);
    }
    chunks.push(b);
  }
  return Buffer.concat(chunks, n);
}
