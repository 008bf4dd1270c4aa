// Who may talk to `kimg ui`: a session (cookie) or the per-run token for every request, the token
// again for mutating ones, and the Host and Origin checks that keep other web sites out (DNS
// rebinding: a hostile name resolving to 127.0.0.1 reaches the port, but its requests carry that
// name in Host; cross-site requests carry their own Origin).
//
// Loopback is not an authentication boundary: every local user can connect to 127.0.0.1. So, as
// Jupyter does, `kimg ui` prints (and opens) a URL carrying a one-time login code; the server
// exchanges it for an HttpOnly, SameSite=Strict session cookie and forgets it. Without the
// cookie or the token (Authorization: Bearer, for API clients) nothing is served: not the page
// (which carries the token), not the API, not the event streams (docs/security.md).

import { randomBytes, timingSafeEqual } from "node:crypto";
import { isIP } from "node:net";
import { hostname } from "node:os";

/** 32 random bytes, hex: embedded in the page, required as X-Kimg-Token on POST/DELETE. */
export function newToken(): string {
  return randomBytes(32).toString("hex");
}

export function tokenMatches(given: string | string[] | undefined, token: string): boolean {
  if (typeof given !== "string") return false;
  const a = Buffer.from(given, "utf8");
  const b = Buffer.from(token, "utf8");
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Loopback addresses `kimg ui` binds without `--host`. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, "").toLowerCase();
  return h === "localhost" || h === "::1" || /^127(?:\.\d{1,3}){3}$/.test(h);
}

function isWildcard(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, "");
  return h === "0.0.0.0" || h === "::" || h === "";
}

/** `host:port` → [hostname, port] (`[::1]:80` → ["::1", "80"]); undefined when malformed. */
function splitHostHeader(value: string): [string, string] | undefined {
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:[\]]+)(?::(\d{1,5}))?$/.exec(value);
  if (m === null) return undefined;
  return [(m[1] ?? "").replace(/^\[|\]$/g, "").toLowerCase(), m[2] ?? "80"];
}

/**
 * Whether a request's Host header names this server. Bound to loopback: `127.0.0.1:PORT`,
 * `localhost:PORT` or `[::1]:PORT` only. Bound to one explicit address: that address (or name)
 * with the port. Bound to a wildcard (`--host 0.0.0.0`): any IP literal, localhost, or this
 * machine's host name, with the port — never another DNS name, which is what a rebinding
 * attack would send.
 */
export function hostAllowed(header: string | undefined, boundHost: string, port: number): boolean {
  if (header === undefined) return false;
  const parts = splitHostHeader(header.trim());
  if (parts === undefined) return false;
  const [name, p] = parts;
  if (p !== String(port)) return false;
  const bound = boundHost.replace(/^\[|\]$/g, "").toLowerCase();
  if (isLoopbackHost(bound)) return isLoopbackHost(name);
  if (isWildcard(bound)) {
    return isIP(name) !== 0 || isLoopbackHost(name) || name === hostname().toLowerCase();
  }
  return name === bound;
}

/** An Origin header, when present, must be this page's own origin (`http://` + Host). */
export function originAllowed(origin: string | undefined, hostHeader: string | undefined): boolean {
  if (origin === undefined) return true;
  if (hostHeader === undefined) return false;
  return origin.toLowerCase() === `http://${hostHeader.trim().toLowerCase()}`;
}

/** The login codes and sessions of one server: codes are used once, sessions last its run. */
export class Sessions {
  readonly #codes = new Set<string>();
  readonly #sessions = new Set<string>();
  readonly cookieName: string;

  constructor(port: number) {
    // Cookies ignore the port: the name carries it, so two servers on one host do not clash.
    this.cookieName = `kimg_ui_${port}`;
  }

  /** A new one-time login code (hex). */
  newCode(): string {
    const c = randomBytes(32).toString("hex");
    this.#codes.add(c);
    return c;
  }

  /** Exchanges a code for a new session; undefined when the code is unknown or used. */
  redeem(code: string): string | undefined {
    let found: string | undefined;
    for (const c of this.#codes) if (tokenMatches(code, c)) found = c;
    if (found === undefined) return undefined;
    this.#codes.delete(found);
    const s = randomBytes(32).toString("hex");
    this.#sessions.add(s);
    return s;
  }

  /** The Set-Cookie value of a session. */
  cookie(session: string): string {
    return `${this.cookieName}=${session}; HttpOnly; SameSite=Strict; Path=/`;
  }

  /** Whether the request's Cookie header carries one of this server's sessions. */
  hasSession(cookieHeader: string | undefined): boolean {
    if (cookieHeader === undefined) return false;
    for (const part of cookieHeader.split(";")) {
      const eq = part.indexOf("=");
      if (eq === -1 || part.slice(0, eq).trim() !== this.cookieName) continue;
      const v = part.slice(eq + 1).trim();
      for (const s of this.#sessions) if (tokenMatches(v, s)) return true;
    }
    return false;
  }
}

/** The token of an `Authorization: Bearer TOKEN` header, or undefined. */
export function bearerOf(header: string | undefined): string | undefined {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? "");
  return m?.[1];
}
