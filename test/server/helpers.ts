// Raw HTTP for the server tests (node:http, so Host and Origin can be set freely) and a small
// server-sent-events reader.

import http from "node:http";

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  // biome-ignore lint/suspicious/noExplicitAny: JSON answers of many shapes
  json: any;
}

export interface RawRequest {
  method?: string;
  headers?: Record<string, string>;
  body?: string | object;
  /** Connect to this address instead of 127.0.0.1. */
  address?: string;
}

export function request(port: number, path: string, r: RawRequest = {}): Promise<RawResponse> {
  const body =
    r.body === undefined ? undefined : typeof r.body === "string" ? r.body : JSON.stringify(r.body);
  const headers: Record<string, string> = {
    host: `127.0.0.1:${port}`,
    ...(typeof r.body === "object" ? { "content-type": "application/json" } : {}),
    ...r.headers,
  };
  return new Promise((ok, fail) => {
    const req = http.request(
      { host: r.address ?? "127.0.0.1", port, path, method: r.method ?? "GET", headers },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          ok({ status: res.statusCode ?? 0, headers: res.headers, text, json });
        });
        res.on("error", fail);
      },
    );
    req.on("error", fail);
    req.setTimeout(60_000, () => req.destroy(new Error(`timeout: ${path}`)));
    req.end(body);
  });
}

export interface SseEvent {
  id?: string;
  event: string;
  data: string;
}

export interface SseStream {
  status: number;
  headers: http.IncomingHttpHeaders;
  events: SseEvent[];
  /** Comment lines (": ping"). */
  comments: string[];
}

/** Reads a text/event-stream until the server ends it (or `timeoutMs`). */
export function readSse(
  port: number,
  path: string,
  headers: Record<string, string> = {},
  timeoutMs = 60_000,
): Promise<SseStream> {
  return new Promise((ok, fail) => {
    const req = http.request(
      { host: "127.0.0.1", port, path, headers: { host: `127.0.0.1:${port}`, ...headers } },
      (res) => {
        let buf = "";
        const events: SseEvent[] = [];
        const comments: string[] = [];
        res.setEncoding("utf8");
        res.on("data", (c: string) => {
          buf += c;
          for (let i = buf.indexOf("\n\n"); i >= 0; i = buf.indexOf("\n\n")) {
            const block = buf.slice(0, i);
            buf = buf.slice(i + 2);
            const e: SseEvent = { event: "message", data: "" };
            let hasField = false;
            for (const line of block.split("\n")) {
              if (line.startsWith(":")) comments.push(line);
              else if (line.startsWith("id: ")) e.id = line.slice(4);
              else if (line.startsWith("event: ")) {
                e.event = line.slice(7);
                hasField = true;
              } else if (line.startsWith("data: ")) {
                e.data += line.slice(6);
                hasField = true;
              }
            }
            if (hasField) events.push(e);
          }
        });
        res.on("end", () =>
          ok({ status: res.statusCode ?? 0, headers: res.headers, events, comments }),
        );
        res.on("error", fail);
      },
    );
    req.on("error", fail);
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`SSE timeout: ${path}`)));
    req.end();
  });
}
