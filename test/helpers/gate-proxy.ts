// Test helper for concurrent.test.ts and kill.test.ts: a forwarding HTTP proxy in front of the
// real Distribution registry that records every request (method, path, body bytes passed on),
// can hold a request before forwarding it (to line up two pulls, or to kill a client before it
// gets an answer) and can pass only the first N bytes of a response body and then hold the
// rest (to kill a client mid-body at a chosen byte). Nothing is faked: every byte comes from
// the registry.

import http from "node:http";
import type { AddressInfo } from "node:net";

export interface ProxiedRequest {
  /** 1-based arrival order. */
  readonly n: number;
  readonly method: string;
  readonly path: string;
  readonly range: string | undefined;
  /** Upstream status (0 until the answer arrives). */
  status: number;
  /** Body bytes passed on to the client so far. */
  bytes: number;
  /** Content-Length of the upstream answer, -1 when unknown. */
  length: number;
  /** The whole body was passed on. */
  complete: boolean;
}

export interface GateProxyHooks {
  /** Awaited before the request is forwarded (never resolving holds it for good). */
  before?(r: ProxiedRequest): Promise<void> | void;
  /** Body bytes to pass on before holding the rest (undefined: all of it). */
  cutAt?(r: ProxiedRequest): number | undefined;
  /**
   * Called once when a response was cut (its first cutAt bytes written, the rest held);
   * `resume` passes the rest on.
   */
  onCut?(r: ProxiedRequest, resume: () => void): void;
  /** Called when a response body was passed on completely. */
  onComplete?(r: ProxiedRequest): void;
}

export interface GateProxy {
  /** `127.0.0.1:PORT` */
  readonly host: string;
  readonly requests: ProxiedRequest[];
  /** Replaces the hooks and forgets the recorded requests. */
  reset(hooks?: GateProxyHooks): void;
  close(): Promise<void>;
}

/** Blob GETs (answered 200/206) per digest. */
export function blobGetsByDigest(reqs: readonly ProxiedRequest[]): Map<string, ProxiedRequest[]> {
  const out = new Map<string, ProxiedRequest[]>();
  for (const r of reqs) {
    if (r.method !== "GET") continue;
    const m = /\/blobs\/(sha256:[0-9a-f]{64})$/.exec(r.path);
    if (m?.[1] === undefined) continue;
    out.set(m[1], [...(out.get(m[1]) ?? []), r]);
  }
  return out;
}

export async function startGateProxy(upstream: { port: number }): Promise<GateProxy> {
  let hooks: GateProxyHooks = {};
  let n = 0;
  const requests: ProxiedRequest[] = [];
  const server = http.createServer((req, res) => {
    const h = hooks;
    const r: ProxiedRequest = {
      n: ++n,
      method: req.method ?? "",
      path: req.url ?? "",
      range: typeof req.headers.range === "string" ? req.headers.range : undefined,
      status: 0,
      bytes: 0,
      length: -1,
      complete: false,
    };
    requests.push(r);
    void (async () => {
      await h.before?.(r);
      if (res.destroyed || req.socket.destroyed) return;
      const up = http.request(
        {
          host: "127.0.0.1",
          port: upstream.port,
          method: req.method,
          path: req.url,
          headers: req.headers,
          agent: false,
        },
        (ur) => {
          r.status = ur.statusCode ?? 502;
          const cl = Number(ur.headers["content-length"]);
          r.length = Number.isSafeInteger(cl) ? cl : -1;
          res.writeHead(r.status, ur.headers);
          let cut = h.cutAt?.(r);
          let held = false;
          let rest: Buffer | undefined;
          let ended = false;
          const finish = (): void => {
            r.complete = true;
            res.end();
            h.onComplete?.(r);
          };
          const resume = (): void => {
            if (!held || res.destroyed) return;
            held = false;
            if (rest !== undefined && rest.length > 0) {
              res.write(rest);
              r.bytes += rest.length;
            }
            rest = undefined;
            if (ended) finish();
            else ur.resume();
          };
          ur.on("data", (c: Buffer) => {
            if (held) {
              rest = rest === undefined ? c : Buffer.concat([rest, c]);
              return;
            }
            let chunk = c;
            if (cut !== undefined && r.bytes + chunk.length >= cut) {
              const n = Math.max(0, cut - r.bytes);
              rest = chunk.subarray(n);
              chunk = chunk.subarray(0, n);
              held = true;
              cut = undefined;
            }
            if (chunk.length > 0) {
              res.write(chunk);
              r.bytes += chunk.length;
            }
            if (held) {
              ur.pause();
              h.onCut?.(r, resume);
            }
          });
          ur.on("end", () => {
            ended = true;
            if (!held) finish();
          });
          ur.on("error", () => res.destroy());
          res.on("close", () => ur.destroy());
        },
      );
      up.on("error", () => res.destroy());
      req.pipe(up);
    })().catch(() => res.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    host: `127.0.0.1:${port}`,
    requests,
    reset(next = {}) {
      hooks = next;
      requests.length = 0;
      n = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
