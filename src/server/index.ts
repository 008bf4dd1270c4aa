// `kimg ui`'s HTTP server (node:http only): the page and its assets from web/, and the JSON API
// (api.ts) over the library. A front end like the CLI: it reaches the library only through
// src/index.ts.
//
// Security (notes/issue6-api.md, docs/security.md "Web UI"): binds loopback unless a host is
// given explicitly; every request's Host must name this server (DNS rebinding) and its Origin,
// when sent, must be the page's; every request needs a session cookie (from the one-time login
// code of `loginUrl`) or the per-run token — loopback is open to every local user; POST/DELETE
// that change something also need the token the page carries, as X-Kimg-Token; every response
// has a strict CSP, nosniff and no referrer.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { homedir as osHomedir } from "node:os";
import { defaultStoreDir, FsBlobStore, isKimgError, KimgError } from "../index.ts";
import {
  type ApiContext,
  decideHandler,
  imagesHandler,
  inspectHandler,
  MAX_MANIFEST_TEXT,
  manifestsHandler,
  parseHandler,
  pinHandler,
  pullRequestOf,
  removeHandler,
  runPullJob,
} from "./api.ts";
import {
  HttpError,
  readJsonObject,
  securityHeaders,
  sendError,
  sendJson,
  statusForCode,
} from "./http.ts";
import { PullJobs } from "./pull-jobs.ts";
import {
  bearerOf,
  hostAllowed,
  isLoopbackHost,
  newToken,
  originAllowed,
  Sessions,
  tokenMatches,
} from "./security.ts";
import { defaultWebDir, StaticFiles } from "./static.ts";

export { isLoopbackHost } from "./security.ts";
export { defaultWebDir, TOKEN_PLACEHOLDER } from "./static.ts";

/** `kimg ui`'s default port. */
export const DEFAULT_PORT = 7861;
export const DEFAULT_HOST = "127.0.0.1";

export interface UiServerOptions {
  /** Default 7861; 0 picks a free port. */
  readonly port?: number | undefined;
  /** Default 127.0.0.1. A non-loopback address needs `hostExplicit`. */
  readonly host?: string | undefined;
  /** True only when the user typed `--host`: allows a non-loopback bind. */
  readonly hostExplicit?: boolean | undefined;
  /** Store directory; default $KIMG_STORE or the user's data dir, as the CLI. */
  readonly store?: string | undefined;
  /** Static files; default web/ of this package. */
  readonly webDir?: string | undefined;
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly homedir?: string | undefined;
  /** Registries allowed over plain HTTP (as `kimg pull --insecure-registry`). */
  readonly insecureHosts?: readonly string[] | undefined;
  /** registries.conf path (as `kimg pull --registries-conf`). */
  readonly registriesConf?: string | undefined;
  /** The token; default 32 random bytes (tests may fix it). */
  readonly token?: string | undefined;
  /** How long finished pull jobs are kept (default 10 minutes). */
  readonly jobTtlMs?: number | undefined;
  /** SSE heartbeat interval (default 15 s). */
  readonly heartbeatMs?: number | undefined;
}

export interface UiServer {
  /** `http://127.0.0.1:PORT/` */
  readonly url: string;
  /** `http://127.0.0.1:PORT/?code=…`: logs one browser in, once (a session cookie). */
  readonly loginUrl: string;
  /** A further one-time login URL (another browser, an expired session). */
  newLoginUrl(): string;
  /** The session cookie's name (`kimg_ui_PORT`). */
  cookieName(): string;
  readonly host: string;
  readonly port: number;
  readonly token: string;
  readonly storeDir: string;
  readonly server: Server;
  close(): Promise<void>;
}

/** Routes that change something and so need X-Kimg-Token; /api/decide and /api/manifests only read. */
const READ_ONLY_POSTS = new Set(["/api/decide", "/api/manifests"]);
/** Largest JSON body (the manifest text is ≤ 1 MiB; JSON escaping can grow it). */
const MAX_BODY = 4 * MAX_MANIFEST_TEXT;

function urlHost(host: string): string {
  return host.includes(":") ? `[${host}]` : host;
}

/**
 * Starts the server. Refuses (INPUT_INVALID) a non-loopback host unless `hostExplicit`, so no
 * configuration or default can expose the store by accident.
 */
export async function startUiServer(opts: UiServerOptions = {}): Promise<UiServer> {
  const host = opts.host ?? DEFAULT_HOST;
  if (!isLoopbackHost(host) && opts.hostExplicit !== true) {
    throw new KimgError(
      "INPUT_INVALID",
      `refusing to listen on ${host}: not a loopback address; pass --host ${host} explicitly to allow it`,
    );
  }
  const env = opts.env ?? process.env;
  const home = opts.homedir ?? osHomedir();
  const storeDir = opts.store ?? defaultStoreDir(env, home);
  // The UI reads a store; it does not make one (issue 10 item 4): "no store at DIR".
  const store = await FsBlobStore.openExisting(storeDir);
  const token = opts.token ?? newToken();
  const files = new StaticFiles(opts.webDir ?? defaultWebDir());
  const jobs = new PullJobs({
    ttlMs: opts.jobTtlMs,
    heartbeatMs: opts.heartbeatMs,
  });
  const aborter = new AbortController();
  const ctx: ApiContext = {
    store,
    jobs,
    env,
    homedir: home,
    insecureHosts: opts.insecureHosts ?? [],
    registriesConf: opts.registriesConf,
    signal: aborter.signal,
  };
  let port = 0;
  let sessions: Sessions | undefined;
  const running = new Set<Promise<void>>();

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    securityHeaders(res);
    if (!hostAllowed(req.headers.host, host, port)) {
      throw new HttpError(403, "FORBIDDEN", "Host header does not name this server");
    }
    if (!originAllowed(req.headers.origin, req.headers.host)) {
      throw new HttpError(403, "FORBIDDEN", "cross-origin request refused");
    }
    const url = new URL(req.url ?? "/", "http://localhost");
    const path = url.pathname;
    const method = req.method ?? "GET";
    const isGet = method === "GET" || method === "HEAD";
    const allow = (...methods: string[]): void => {
      if (!methods.includes(method)) {
        throw new HttpError(405, "METHOD_NOT_ALLOWED", `${method} not allowed on ${path}`);
      }
    };
    const auth = sessions as Sessions;
    const code = url.searchParams.get("code");
    if ((path === "/" || path === "/index.html") && isGet && code !== null) {
      // The login: a one-time code for a session cookie, then the page without the code.
      const session = auth.redeem(code);
      if (session === undefined) {
        throw new HttpError(
          403,
          "FORBIDDEN",
          "this login link is wrong or was already used; kimg ui prints a new one when restarted",
        );
      }
      res.writeHead(303, { "Set-Cookie": auth.cookie(session), Location: "/" });
      res.end();
      return;
    }
    const authed =
      auth.hasSession(req.headers.cookie) ||
      tokenMatches(bearerOf(req.headers.authorization), token) ||
      tokenMatches(req.headers["x-kimg-token"], token);
    if (!authed) {
      throw new HttpError(
        401,
        "UNAUTHORIZED",
        "not logged in: open the URL kimg ui printed (it carries a one-time login code), or send Authorization: Bearer TOKEN",
      );
    }
    if ((method === "POST" || method === "DELETE") && !READ_ONLY_POSTS.has(path)) {
      if (!tokenMatches(req.headers["x-kimg-token"], token)) {
        throw new HttpError(403, "FORBIDDEN", "missing or wrong X-Kimg-Token");
      }
    }

    if (path === "/" || path === "/index.html") {
      allow("GET", "HEAD");
      if (!(await files.servePage(req, res, token))) {
        throw new HttpError(500, "INTERNAL", "the page is missing from this installation (web/)");
      }
      return;
    }
    if (path.startsWith("/assets/")) {
      allow("GET", "HEAD");
      if (!(await files.serveAsset(req, res, path.slice("/assets/".length)))) {
        throw new HttpError(404, "NOT_FOUND", `no such file: ${path}`);
      }
      return;
    }
    switch (path) {
      case "/api/parse":
        allow("GET");
        return sendJson(res, 200, parseHandler(url.searchParams));
      case "/api/decide":
        allow("POST");
        return sendJson(res, 200, decideHandler(await readJsonObject(req, MAX_BODY)));
      case "/api/manifests":
        allow("POST");
        return sendJson(
          res,
          200,
          manifestsHandler(await readJsonObject(req, MAX_BODY), url.searchParams),
        );
      case "/api/pin":
        allow("POST");
        return sendJson(
          res,
          200,
          await pinHandler(ctx, await readJsonObject(req, MAX_BODY), url.searchParams),
        );
      case "/api/images":
        allow("GET", "DELETE");
        return sendJson(
          res,
          200,
          isGet ? await imagesHandler(ctx) : await removeHandler(ctx, url.searchParams),
        );
      case "/api/images/inspect":
        allow("GET");
        return sendJson(res, 200, await inspectHandler(ctx, url.searchParams));
      case "/api/pull": {
        allow("POST");
        const p = pullRequestOf(await readJsonObject(req, MAX_BODY));
        const job = jobs.create(p.ref);
        if (job === undefined) {
          throw new HttpError(503, "BUSY", "too many pull jobs; try again in a few minutes");
        }
        const run = runPullJob(ctx, job, p).finally(() => running.delete(run));
        running.add(run);
        return sendJson(res, 202, { id: job.id }, { Location: `/api/pull/${job.id}/events` });
      }
    }
    const m = /^\/api\/pull\/([0-9a-f]{32})\/events$/.exec(path);
    if (m !== null) {
      allow("GET");
      const job = jobs.get(m[1] ?? "");
      if (job === undefined) throw new HttpError(404, "NOT_FOUND", "no such pull job");
      const last = Number(req.headers["last-event-id"] ?? "NaN");
      jobs.subscribe(job, res, Number.isSafeInteger(last) ? last : undefined);
      return;
    }
    throw new HttpError(404, "NOT_FOUND", `not found: ${path}`);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      if (e instanceof HttpError) {
        if (e.status === 405) res.setHeader("Allow", "GET, HEAD, POST, DELETE");
        if (e.status === 401) res.setHeader("WWW-Authenticate", 'Bearer realm="kimg ui"');
        sendError(res, e.status, e.code, e.message);
      } else if (isKimgError(e)) sendError(res, statusForCode(e.code), e.code, e.message);
      else sendError(res, 500, "INTERNAL", `internal error: ${(e as Error)?.message ?? String(e)}`);
    });
  });
  server.headersTimeout = 30_000;
  server.requestTimeout = 120_000;
  const wanted = opts.port ?? DEFAULT_PORT;
  await new Promise<void>((ok, fail) => {
    const onError = (e: NodeJS.ErrnoException): void => {
      const why =
        e.code === "EADDRINUSE"
          ? "address already in use (--port 0 picks a free port)"
          : e.code === "EADDRNOTAVAIL"
            ? "no such local address"
            : e.code === "EACCES"
              ? "permission denied"
              : e.message;
      fail(new KimgError("INPUT_INVALID", `cannot listen on ${urlHost(host)}:${wanted}: ${why}`));
    };
    server.once("error", onError);
    server.listen(wanted, host, () => {
      server.off("error", onError);
      ok();
    });
  });
  port = (server.address() as AddressInfo).port;
  sessions = new Sessions(port);
  const url = `http://${urlHost(host)}:${port}/`;
  const newLoginUrl = (): string => `${url}?code=${(sessions as Sessions).newCode()}`;
  return {
    url,
    loginUrl: newLoginUrl(),
    newLoginUrl,
    cookieName: () => (sessions as Sessions).cookieName,
    host,
    port,
    token,
    storeDir,
    server,
    async close() {
      aborter.abort();
      jobs.close();
      await Promise.allSettled([...running]);
      await new Promise<void>((ok) => {
        server.close(() => ok());
        server.closeAllConnections();
      });
    },
  };
}
