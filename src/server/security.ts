// Who may talk to `kimg ui`: the per-run token for mutating requests, and the Host and Origin
// checks that keep other web sites out (DNS rebinding: a hostile name resolving to 127.0.0.1
// reaches the port, but its requests carry that name in Host; cross-site requests carry their
// own Origin).

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
