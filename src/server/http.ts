// HTTP plumbing of `kimg ui` (node:http only): JSON responses and errors, bounded request
// bodies, the security headers every response carries, and the HTTP status of each error code.

import type { IncomingMessage, ServerResponse } from "node:http";
import type { ErrorCode } from "../core.ts";

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

/**
 * The HTTP status of each KimgError code: 400 input, 401/403 access, 404 absent, 502 when a
 * registry (or a credential helper) failed or sent content that fails verification, 500 for
 * our own store or a bug. A Record, so a new ErrorCode does not compile until it has a status.
 */
export const HTTP_STATUS_OF: Readonly<Record<ErrorCode, number>> = {
  REFERENCE_INVALID_FORMAT: 400,
  TAG_INVALID_FORMAT: 400,
  DIGEST_INVALID_FORMAT: 400,
  NAME_CONTAINS_UPPERCASE: 400,
  NAME_EMPTY: 400,
  NAME_TOO_LONG: 400,
  NAME_NOT_CANONICAL: 400,
  NAME_IS_IDENTIFIER: 400,
  REPOSITORY_NOT_LOWERCASE: 400,
  DIGEST_CHECKSUM_FORMAT: 400,
  DIGEST_CHECKSUM_LENGTH: 400,
  DIGEST_UNSUPPORTED: 400,
  BAD_PATTERN: 400,
  INPUT_UNREADABLE: 400,
  INPUT_INVALID: 400,
  INVALID_MANIFEST: 502,
  INVALID_CONFIG: 502,
  UNSUPPORTED_MEDIA_TYPE: 502,
  MANIFEST_TOO_LARGE: 502,
  INVALID_PLATFORM: 400,
  PLATFORM_NOT_FOUND: 404,
  LAYER_COUNT_MISMATCH: 502,
  UNSAFE_PATH: 502,
  DIGEST_MISMATCH: 502,
  SIZE_MISMATCH: 502,
  BLOB_NOT_FOUND: 404,
  STORE_NOT_FOUND: 400,
  STORE_CORRUPT: 500,
  STORE_VERSION_UNSUPPORTED: 500,
  WRITER_CLOSED: 500,
  ABORTED: 500,
  REGISTRY_UNAUTHORIZED: 401,
  REGISTRY_DENIED: 403,
  MANIFEST_UNKNOWN: 404,
  BLOB_UNKNOWN: 404,
  NAME_UNKNOWN: 404,
  REGISTRY_UNAVAILABLE: 502,
  RATE_LIMITED: 502,
  REGISTRY_ERROR: 502,
  REGISTRIES_CONF_INVALID: 400,
  REGISTRY_BLOCKED: 403,
  CREDENTIALS_INVALID: 400,
  CREDENTIAL_HELPER_FAILED: 502,
  ERR_IMAGE_NEVER_PULL: 404,
  IMAGE_NOT_FOUND: 404,
  UNPACK_LIMIT: 422,
  LAYER_INVALID: 502,
  PULL_QPS_EXCEEDED: 502,
};

export function statusForCode(code: ErrorCode): number {
  return HTTP_STATUS_OF[code] ?? 500;
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
