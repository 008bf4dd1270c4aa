// Test harness: owns plain node:http requests for tests that check a registry by hand (what the
// registry really serves, independent of kimg's client): one request, no redirects followed, no
// decoding, the body either collected or streamed through sha256 without being kept.

import { createHash } from "node:crypto";
import http from "node:http";

export interface HttpResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

export interface HttpRequestOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: string | Uint8Array | NodeJS.ReadableStream;
  /** Default 30 s. */
  timeoutMs?: number;
}

function send(
  url: string,
  opts: HttpRequestOptions,
  onResponse: (res: http.IncomingMessage) => void,
  onError: (e: Error) => void,
): void {
  const req = http.request(url, {
    method: opts.method ?? "GET",
    headers: opts.headers ?? {},
    agent: false,
  });
  req.setTimeout(opts.timeoutMs ?? 30_000, () =>
    req.destroy(new Error(`${opts.method ?? "GET"} ${url}: timed out`)),
  );
  req.on("error", onError);
  req.on("response", onResponse);
  const body = opts.body;
  if (body === undefined) req.end();
  else if (typeof body === "string" || body instanceof Uint8Array) req.end(body);
  else body.pipe(req);
}

/** One request; resolves with status, headers and the whole body. */
export function request(url: string, opts: HttpRequestOptions = {}): Promise<HttpResponse> {
  return new Promise((resolve, reject) => {
    send(
      url,
      opts,
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("error", reject);
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks),
          }),
        );
      },
      reject,
    );
  });
}

/** One request; the body is hashed as it streams and not kept. */
export function requestDigest(
  url: string,
  opts: HttpRequestOptions = {},
): Promise<{ status: number; headers: http.IncomingHttpHeaders; digest: string; size: number }> {
  return new Promise((resolve, reject) => {
    send(
      url,
      opts,
      (res) => {
        const h = createHash("sha256");
        let size = 0;
        res.on("data", (c: Buffer) => {
          h.update(c);
          size += c.length;
        });
        res.on("error", reject);
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            digest: `sha256:${h.digest("hex")}`,
            size,
          }),
        );
      },
      reject,
    );
  });
}

export function basicAuth(user: string, pass: string): string {
  return `Basic ${Buffer.from(`${user}:${pass}`).toString("base64")}`;
}

/** Parses `Bearer realm="…",service="…",scope="…"` (or Basic) into scheme and params. */
export function parseChallenge(header: string): { scheme: string; params: Record<string, string> } {
  const m = /^(\S+)\s*(.*)$/.exec(header.trim());
  const params: Record<string, string> = {};
  for (const p of (m?.[2] ?? "").matchAll(/([A-Za-z_]+)="((?:[^"\\]|\\.)*)"/g)) {
    if (p[1] !== undefined) params[p[1]] = (p[2] ?? "").replace(/\\(.)/g, "$1");
  }
  return { scheme: m?.[1] ?? "", params };
}
