// The `kimg serve` HTTP(S) server: binds loopback unless told otherwise, serves the registry
// API (registry-server.ts), `/healthz` and `/metrics` (Prometheus text: requests by method
// and code, bytes served), logs each request in the common log format, limits connections,
// and on close stops accepting, lets requests in flight finish, then ends.

import { readFile } from "node:fs/promises";
import {
  createServer as createHttp,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import { createServer as createHttps } from "node:https";
import type { AddressInfo } from "node:net";
import { type FsBlobStore, isLoopbackHost, KimgError } from "../index.ts";
import { type Answered, registryHandler } from "./registry-server.ts";

export interface ServeOptions {
  readonly store: FsBlobStore;
  /** Default 127.0.0.1. A host that is not loopback needs `hostExplicit`. */
  readonly host?: string | undefined;
  /** Default 5000; 0 picks a free port. */
  readonly port?: number | undefined;
  readonly hostExplicit?: boolean | undefined;
  readonly tls?: { readonly certFile: string; readonly keyFile: string } | undefined;
  /** Open connections at most (Node's server.maxConnections). Default 1024. */
  readonly maxConnections?: number | undefined;
  /** One line per request (common log format); default none. */
  readonly accessLog?: ((line: string) => void) | undefined;
}

export interface RegistryServer {
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly server: Server;
  /** Stops accepting, waits for requests in flight, closes idle connections. */
  close(): Promise<void>;
}

/** Why these defaults: 5000 is the registry port clients expect; 1024 connections bound file descriptors. */
export const SERVE_DEFAULTS = { host: "127.0.0.1", port: 5000, maxConnections: 1024 } as const;

/** Quotes, backslashes and control characters, escaped in log fields (a path cannot forge a line). */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
const LOG_UNSAFE = /["\\\u0000-\u001f\u007f]/g;

function clf(a: Answered): string {
  const t = new Date();
  const months = [
    "Jan",
    "Feb",
    "Mar",
    "Apr",
    "May",
    "Jun",
    "Jul",
    "Aug",
    "Sep",
    "Oct",
    "Nov",
    "Dec",
  ];
  const p = (n: number) => String(n).padStart(2, "0");
  const when = `${p(t.getUTCDate())}/${months[t.getUTCMonth()]}/${t.getUTCFullYear()}:${p(t.getUTCHours())}:${p(t.getUTCMinutes())}:${p(t.getUTCSeconds())} +0000`;
  const q = (s: string) =>
    s.replace(LOG_UNSAFE, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`);
  return `${a.remote} - - [${when}] "${a.method} ${q(a.path)} HTTP/1.1" ${a.status} ${a.bytes} "-" "${q(a.userAgent)}"`;
}

export async function startRegistryServer(opts: ServeOptions): Promise<RegistryServer> {
  const host = opts.host ?? SERVE_DEFAULTS.host;
  if (!isLoopbackHost(host) && opts.hostExplicit !== true) {
    throw new KimgError(
      "INPUT_INVALID",
      `refusing to listen on ${host}: not a loopback address; pass --listen ${host}:PORT explicitly to allow it`,
    );
  }
  const requests = new Map<string, number>();
  let bytesServed = 0;
  const handle = registryHandler({
    store: opts.store,
    onAnswered: (a) => {
      const k = `${a.method}\u0000${a.status}`;
      requests.set(k, (requests.get(k) ?? 0) + 1);
      bytesServed += a.bytes;
      opts.accessLog?.(clf(a));
    },
  });
  const listener = (req: IncomingMessage, res: ServerResponse): void => {
    const path = (req.url ?? "/").split("?")[0];
    if (path === "/healthz") {
      res.writeHead(200, { "Content-Type": "text/plain" }).end("ok\n");
      return;
    }
    if (path === "/metrics") {
      const lines = [
        "# HELP kimg_serve_requests_total Requests answered, by method and status code.",
        "# TYPE kimg_serve_requests_total counter",
        ...[...requests.entries()].map(([k, n]) => {
          const [m, code] = k.split("\u0000");
          return `kimg_serve_requests_total{method="${m}",code="${code}"} ${n}`;
        }),
        "# HELP kimg_serve_bytes_served_total Body bytes sent.",
        "# TYPE kimg_serve_bytes_served_total counter",
        `kimg_serve_bytes_served_total ${bytesServed}`,
        "",
      ];
      res.writeHead(200, { "Content-Type": "text/plain; version=0.0.4" }).end(lines.join("\n"));
      return;
    }
    void handle(req, res);
  };
  const server: Server = opts.tls
    ? createHttps(
        { cert: await readFile(opts.tls.certFile), key: await readFile(opts.tls.keyFile) },
        listener,
      )
    : createHttp(listener);
  server.maxConnections = opts.maxConnections ?? SERVE_DEFAULTS.maxConnections;
  server.headersTimeout = 30_000;
  server.requestTimeout = 0; // a large blob may take long; stalls are the client's to judge
  await new Promise<void>((resolve, reject) => {
    server.once("error", (e: NodeJS.ErrnoException) =>
      reject(
        new KimgError(
          "INPUT_INVALID",
          `cannot listen on ${host}:${opts.port ?? SERVE_DEFAULTS.port}: ${e.code ?? e.message}`,
        ),
      ),
    );
    server.listen(opts.port ?? SERVE_DEFAULTS.port, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const shown = host.includes(":") ? `[${host}]` : host;
  return {
    url: `${opts.tls ? "https" : "http"}://${shown}:${port}`,
    host: `${shown}:${port}`,
    port,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}
