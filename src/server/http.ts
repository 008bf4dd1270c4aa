// HTTP plumbing of `kimg ui` (node:http only): JSON responses and errors, bounded request
// bodies, the security headers every response carries, and the HTTP status of each error code.

import type { IncomingMessage, ServerResponse } from "node:http";

/**
 * The page's Content-Security-Policy: everything from this server only, no inline script or
 * style, no framing, no plugins.
 */
export const CSP =
  "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; " +
  "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

export function securityHeaders(res: ServerResponse): void {
  res.setHeader("Content-Security-Policy", CSP);
  res.setHeader("X-Content-Type-Options", "nosniff");
  res.setHeader("Referrer-Policy", "no-referrer");
  res.setHeader("X-Frame-Options", "DENY");
  res.setHeader("Cross-Origin-Resource-Policy", "same-origin");
}

/** An error the API answers with: `{ "error": { "code", "message" } }` and an HTTP status. */
export class HttpError extends Error {
  override readonly name = "HttpError";
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** HTTP status for a KimgError code (design: 400 input, 404 not found, 401/403, 502 registry). */
export function statusForCode(code: string): number {
  switch (code) {
    case "INPUT_INVALID":
    case "INPUT_UNREADABLE":
    case "INVALID_PLATFORM":
    case "BAD_PATTERN":
    case "REFERENCE_INVALID_FORMAT":
    case "TAG_INVALID_FORMAT":
    case "DIGEST_INVALID_FORMAT":
    case "NAME_CONTAINS_UPPERCASE":
    case "NAME_EMPTY":
    case "NAME_TOO_LONG":
    case "NAME_NOT_CANONICAL":
    case "NAME_IS_IDENTIFIER":
    case "REPOSITORY_NOT_LOWERCASE":
    case "DIGEST_CHECKSUM_FORMAT":
    case "DIGEST_CHECKSUM_LENGTH":
    case "DIGEST_UNSUPPORTED":
    case "CREDENTIALS_INVALID":
    case "REGISTRIES_CONF_INVALID":
    case "STORE_NOT_FOUND":
      return 400;
    case "REGISTRY_UNAUTHORIZED":
      return 401;
    case "REGISTRY_DENIED":
    case "REGISTRY_BLOCKED":
    case "FORBIDDEN":
      return 403;
    case "NOT_FOUND":
    case "IMAGE_NOT_FOUND":
    case "MANIFEST_UNKNOWN":
    case "BLOB_UNKNOWN":
    case "BLOB_NOT_FOUND":
    case "PLATFORM_NOT_FOUND":
    case "ERR_IMAGE_NEVER_PULL":
      return 404;
    case "METHOD_NOT_ALLOWED":
      return 405;
    case "PAYLOAD_TOO_LARGE":
      return 413;
    case "UNSUPPORTED_MEDIA_TYPE_REQUEST":
      return 415;
    case "REGISTRY_UNAVAILABLE":
    case "RATE_LIMITED":
    case "REGISTRY_ERROR":
    case "PULL_QPS_EXCEEDED":
      return 502;
    default:
      return 500;
  }
}

/** JSON.stringify that prints bigints (YAML integers beyond 2^53) as strings. */
export function toJson(value: unknown): string {
  try {
    return JSON.stringify(value);
  } catch (e) {
    if (!(e instanceof TypeError)) throw e;
    return JSON.stringify(value, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v));
  }
}

export function sendJson(
  res: ServerResponse,
  status: number,
  value: unknown,
  headers: Record<string, string> = {},
): void {
  const body = toJson(value);
  res.writeHead(status, {
    "Content-Type": "application/json; charset=utf-8",
    "Content-Length": Buffer.byteLength(body),
    "Cache-Control": "no-store",
    ...headers,
  });
  res.end(body);
}

export function sendError(res: ServerResponse, status: number, code: string, message: string) {
  // One line, as the CLI prints errors.
  sendJson(res, status, { error: { code, message: message.replace(/\s*\n\s*/g, " ") } });
}

/**
 * The request body as UTF-8 text, at most `limit` bytes: a longer body (by Content-Length or as
 * it streams) is refused with 413 before more is read.
 */
export async function readBody(req: IncomingMessage, limit: number): Promise<string> {
  const declared = Number(req.headers["content-length"] ?? "NaN");
  if (Number.isFinite(declared) && declared > limit) {
    throw new HttpError(413, "PAYLOAD_TOO_LARGE", `request body over ${limit} bytes`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) {
      throw new HttpError(413, "PAYLOAD_TOO_LARGE", `request body over ${limit} bytes`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** The body as a JSON object (an empty body is `{}`); anything else is 400. */
export async function readJsonObject(
  req: IncomingMessage,
  limit: number,
): Promise<Record<string, unknown>> {
  const type = (req.headers["content-type"] ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
  // text/plain is what fetch() sends for a string body; cross-site senders are stopped by the
  // Origin check, not by the type.
  if (type !== "" && type !== "application/json" && type !== "text/plain") {
    throw new HttpError(
      415,
      "UNSUPPORTED_MEDIA_TYPE_REQUEST",
      `request body must be application/json, got ${type}`,
    );
  }
  const text = await readBody(req, limit);
  if (text.trim() === "") return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new HttpError(400, "INPUT_INVALID", `request body is not JSON: ${(e as Error).message}`);
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new HttpError(400, "INPUT_INVALID", "request body must be a JSON object");
  }
  return value as Record<string, unknown>;
}
