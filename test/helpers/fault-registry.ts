// Test harness: a tiny node:http server for what the real Distribution registry will not do —
// redirects to a second origin, 429 with Retry-After, 503s, oversized manifests, a lying
// Docker-Content-Digest or Content-Encoding. Each test installs a handler; every request is
// recorded (method, URL, headers) so tests can check what the client sent, e.g. that
// Authorization never reached another origin.

import http from "node:http";
import type { AddressInfo } from "node:net";

export interface RecordedRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
}

export type FaultHandler = (
  req: http.IncomingMessage,
  res: http.ServerResponse,
  n: number,
) => void | Promise<void>;

export interface FaultServer {
  /** `http://127.0.0.1:PORT` */
  url: string;
  /** `127.0.0.1:PORT` */
  host: string;
  requests: RecordedRequest[];
  /** Replaces the handler; `n` counts requests since then (1-based). */
  handle(fn: FaultHandler): void;
  close(): Promise<void>;
}

export async function startFaultServer(t?: {
  after(fn: () => unknown): void;
}): Promise<FaultServer> {
  let handler: FaultHandler = (_req, res) => {
    res.writeHead(404).end();
  };
  let n = 0;
  const requests: RecordedRequest[] = [];
  const server = http.createServer((req, res) => {
    requests.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers });
    n++;
    Promise.resolve(handler(req, res, n)).catch((e: unknown) => {
      res.writeHead(500).end(String(e));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  const fs: FaultServer = {
    url: `http://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    requests,
    handle(fn) {
      handler = fn;
      n = 0;
      requests.length = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  t?.after(() => fs.close());
  return fs;
}

/** Forwards a request as it came (headers included) to a real registry at `host` (`127.0.0.1:PORT`). */
export function forwardTo(host: string, req: http.IncomingMessage, res: http.ServerResponse): void {
  const up = http.request(
    {
      host: "127.0.0.1",
      port: Number(host.split(":")[1]),
      method: req.method,
      path: req.url,
      headers: { ...req.headers, host },
    },
    (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    },
  );
  up.on("error", () => res.writeHead(502).end());
  req.pipe(up);
}
