// Registry authentication: `WWW-Authenticate` parsing and the Bearer token / Basic flows.
// - Challenges: RFC 9110 §11.6.1 / RFC 6750 §3, as containerd parses them (scheme and parameter
//   names lower-cased, quoted strings with backslash escapes, several challenges in one header;
//   core/remotes/docker/auth/parse.go), Bearer preferred over Basic.
// - Tokens: distribution docs/content/spec/auth/token.md (GET realm?service=&scope=, anonymous or
//   Basic) and oauth.md (POST grant_type=refresh_token for an identity token), falling back to
//   GET on 404/400/401 as containerd does (core/remotes/docker/authorizer.go `doBearerAuth`);
//   `token` or `access_token`, `expires_in` default 60 s; cached per scope, one fetch in flight
//   per scope (authorizer.go; ../../shared/specs/registry.md §2).
// - A registry token (`registrytoken` in docker config) is sent as Bearer without an exchange
//   (ggcr transport/bearer.go `refresh`).
// No message ever contains a credential.

import { Buffer } from "node:buffer";
import { KimgError } from "../errors.ts";
import { type HttpAgent, httpRequest, readLimited } from "./http.ts";

/** One challenge of a `WWW-Authenticate` header. */
export interface Challenge {
  /** Lower-cased: "bearer", "basic", … */
  scheme: string;
  /** Parameter names lower-cased; values unquoted. */
  params: Record<string, string>;
}

export type Credential = (
  | { username: string; password: string }
  | { identityToken: string }
  | { registryToken: string }
) & {
  /** Where it came from, for messages (`--creds`, `secret ns/name`, a file): never the value. */
  source?: string;
};

/** Where credentials come from (docker config, pull secrets, … are later tasks). */
export interface CredentialStore {
  /** `host` is the registry host as in references (`docker.io`, `localhost:5000`). */
  lookup(host: string): Promise<Credential | undefined>;
}

const TCHAR = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/;

/** Parses every challenge of one or more `WWW-Authenticate` values; never throws. */
export function parseWWWAuthenticate(values: string | readonly string[]): Challenge[] {
  const out: Challenge[] = [];
  for (const value of typeof values === "string" ? [values] : values) {
    let i = 0;
    const s = value;
    const ws = () => {
      while (i < s.length && (s[i] === " " || s[i] === "\t")) i++;
    };
    const token = () => {
      const start = i;
      while (i < s.length && TCHAR.test(s[i] ?? "")) i++;
      return s.slice(start, i);
    };
    const quoted = () => {
      i++; // opening quote
      let v = "";
      while (i < s.length && s[i] !== '"') {
        if (s[i] === "\\" && i + 1 < s.length) i++;
        v += s[i];
        i++;
      }
      i++; // closing quote (or end)
      return v;
    };
    let current: Challenge | undefined;
    while (i < s.length) {
      ws();
      if (s[i] === ",") {
        i++;
        continue;
      }
      const start = i;
      const name = token();
      if (name === "") {
        i++; // skip a stray character
        continue;
      }
      ws();
      if (current !== undefined && s[i] === "=" && s[i + 1] !== "=") {
        i++;
        ws();
        const v = s[i] === '"' ? quoted() : token();
        current.params[name.toLowerCase()] = v;
        continue;
      }
      if (current !== undefined && start > 0 && s[i] === "=") {
        // token68 (e.g. `Negotiate abc==`): keep it as a parameter-less challenge's data
        while (s[i] === "=") i++;
        continue;
      }
      current = { scheme: name.toLowerCase(), params: {} };
      out.push(current);
    }
  }
  const rank = (c: Challenge) => (c.scheme === "bearer" ? 0 : c.scheme === "basic" ? 1 : 2);
  return out.sort((a, b) => rank(a) - rank(b));
}

/** `repository:NAME:pull` (containerd core/remotes/docker/scope.go `RepositoryScope`). */
export function pullScope(repository: string): string {
  return `repository:${repository}:pull`;
}

export function basicHeader(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString("base64")}`;
}

export interface AuthorizerOptions {
  /** Registry host as in references: the key for the credential lookup. */
  host: string;
  agent: HttpAgent;
  credentials?: CredentialStore | undefined;
  /** ms since the epoch. */
  now: () => number;
  userAgent: string;
  /** OAuth2 client_id. Default "kimg". */
  clientId?: string | undefined;
}

interface CachedToken {
  header: string;
  expiresAt: number;
}

/** What to send: the Authorization value, and whether it was fetched just now. */
export interface Authorization {
  header: string;
  fresh: boolean;
}

const TOKEN_BODY_MAX = 1024 * 1024;
const SKEW_MS = 5_000;

/**
 * Per-registry auth state: the last challenge seen, and tokens per scope. `authorize(scope)`
 * gives what to send (undefined before any challenge); `challenged(values)` records a 401.
 */
export class Authorizer {
  readonly #opts: AuthorizerOptions;
  #challenge: Challenge | undefined;
  readonly #tokens = new Map<string, CachedToken>();
  readonly #inflight = new Map<string, Promise<CachedToken>>();
  #credential: Promise<Credential | undefined> | undefined;

  constructor(opts: AuthorizerOptions) {
    this.#opts = opts;
  }

  /** Records the challenges of a 401 (Bearer preferred) and forgets tokens for `scope`. */
  challenged(challenges: readonly Challenge[], scope: string): boolean {
    this.#tokens.delete(scope);
    const c = challenges.find((x) => x.scheme === "bearer" || x.scheme === "basic");
    if (c === undefined) return false;
    this.#challenge = c;
    return true;
  }

  get challenge(): Challenge | undefined {
    return this.#challenge;
  }

  /**
   * The source of the credential last sent (as Basic to the registry, or to its token server),
   * undefined when none was: a refusal then means "wrong credentials", not "no access".
   */
  sentCredential: string | undefined;

  async #credentialFor(): Promise<Credential | undefined> {
    this.#credential ??=
      this.#opts.credentials?.lookup(this.#opts.host) ?? Promise.resolve(undefined);
    return this.#credential;
  }

  /** The Authorization header for a request needing `scope`, or undefined (send none). */
  async authorize(scope: string, signal?: AbortSignal): Promise<Authorization | undefined> {
    const c = this.#challenge;
    if (c === undefined) return undefined;
    const cred = await this.#credentialFor();
    if (c.scheme === "basic") {
      if (
        cred === undefined ||
        !("username" in cred) ||
        cred.username === "" ||
        cred.password === ""
      )
        return undefined;
      this.sentCredential = cred.source ?? "the given credentials";
      return { header: basicHeader(cred.username, cred.password), fresh: true };
    }
    if (cred !== undefined && "registryToken" in cred) {
      this.sentCredential = cred.source ?? "the given credentials";
      return { header: `Bearer ${cred.registryToken}`, fresh: true };
    }
    const cached = this.#tokens.get(scope);
    if (cached !== undefined && cached.expiresAt > this.#opts.now()) {
      return { header: cached.header, fresh: false };
    }
    let p = this.#inflight.get(scope);
    if (p === undefined) {
      p = this.#fetchToken(c, scope, cred, signal).finally(() => this.#inflight.delete(scope));
      this.#inflight.set(scope, p);
    }
    const t = await p;
    this.#tokens.set(scope, t);
    return { header: t.header, fresh: true };
  }

  async #fetchToken(
    c: Challenge,
    scope: string,
    cred: Credential | undefined,
    signal: AbortSignal | undefined,
  ): Promise<CachedToken> {
    const realmText = c.params.realm;
    if (realmText === undefined || realmText === "") {
      throw new KimgError("REGISTRY_ERROR", `${this.#opts.host}: bearer challenge without realm`);
    }
    let realm: URL;
    try {
      realm = new URL(realmText);
    } catch {
      throw new KimgError(
        "REGISTRY_ERROR",
        `${this.#opts.host}: invalid token realm ${JSON.stringify(realmText)}: not a URL`,
      );
    }
    if (realm.username !== "" || realm.password !== "") {
      throw new KimgError(
        "REGISTRY_ERROR",
        `${this.#opts.host}: invalid token realm: a URL with user information`,
      );
    }
    // Only an HTTP(S) token server: a `file:`, `data:` or other realm is the registry
    // misbehaving (containerd's fetchToken sends the realm to net/http, which refuses other
    // schemes with "unsupported protocol scheme").
    if (realm.protocol !== "https:" && realm.protocol !== "http:") {
      throw new KimgError(
        "REGISTRY_ERROR",
        `${this.#opts.host}: invalid token realm ${JSON.stringify(realmText)}: unsupported protocol scheme ${JSON.stringify(realm.protocol.replace(/:$/, ""))}`,
      );
    }

    const service = c.params.service ?? "";
    // A scope may hold several (`repository:a:pull,push repository:b:pull` for a mount).
    const scopes = [...new Set([...scope.split(" "), ...(c.params.scope ?? "").split(" ")])].filter(
      (s) => s !== "",
    );
    if (cred !== undefined && "identityToken" in cred) {
      const form = new URLSearchParams({
        grant_type: "refresh_token",
        refresh_token: cred.identityToken,
        service,
        client_id: this.#opts.clientId ?? "kimg",
        scope: scopes.join(" "),
      });
      const r = await httpRequest(this.#opts.agent, {
        method: "POST",
        url: realm,
        headers: {
          "content-type": "application/x-www-form-urlencoded",
          "user-agent": this.#opts.userAgent,
        },
        body: form.toString(),
        ...(signal === undefined ? {} : { signal }),
      });
      if (r.status === 200) return this.#tokenFrom(r.body, "POST", realm);
      await r.discard();
      if (r.status !== 404 && r.status !== 400 && r.status !== 401 && r.status !== 405) {
        throw this.#tokenError("POST", realm, r.status, cred);
      }
      // fall back to GET, as containerd (GCR 404, ACR 400, Artifactory 401)
    }
    const u = new URL(realm);
    if (service !== "") u.searchParams.set("service", service);
    for (const s of scopes) u.searchParams.append("scope", s);
    const headers: Record<string, string> = { "user-agent": this.#opts.userAgent };
    if (cred !== undefined && "username" in cred && cred.username !== "") {
      headers.authorization = basicHeader(cred.username, cred.password);
      u.searchParams.set("account", cred.username);
    } else if (cred !== undefined && "identityToken" in cred) {
      headers.authorization = basicHeader("", cred.identityToken);
    }
    const r = await httpRequest(this.#opts.agent, {
      method: "GET",
      url: u,
      headers,
      ...(signal === undefined ? {} : { signal }),
    });
    if (r.status !== 200) {
      await r.discard();
      throw this.#tokenError("GET", realm, r.status, cred);
    }
    return this.#tokenFrom(r.body, "GET", realm);
  }

  #tokenError(
    method: string,
    realm: URL,
    status: number,
    cred?: Credential | undefined,
  ): KimgError {
    const req = `${method} ${realm.host}${realm.pathname}`;
    if ((status === 401 || status === 403) && cred !== undefined) {
      // Credentials were sent and refused: say so, and whose (issue 10 item 12), never what.
      return new KimgError(
        status === 401 ? "REGISTRY_UNAUTHORIZED" : "REGISTRY_DENIED",
        `authentication failed: the token server refused the credentials from ${cred.source ?? "the given credentials"}: ${req}: ${status} ${statusText(status)} (registry ${this.#opts.host})`,
      );
    }
    if (status === 401 || status === 403) {
      return new KimgError(
        status === 401 ? "REGISTRY_UNAUTHORIZED" : "REGISTRY_DENIED",
        `pull access denied, repository does not exist or may require authorization: failed to fetch token from ${req}: ${status} ${statusText(status)} (registry ${this.#opts.host})`,
      );
    }
    return new KimgError(
      status >= 500 ? "REGISTRY_UNAVAILABLE" : "REGISTRY_ERROR",
      `failed to fetch token from ${req}: unexpected status ${status} ${statusText(status)} (registry ${this.#opts.host})`,
    );
  }

  async #tokenFrom(
    body: import("node:stream").Readable,
    method: string,
    realm: URL,
  ): Promise<CachedToken> {
    const req = `${method} ${realm.host}${realm.pathname}`;
    const raw = await readLimited(
      body,
      TOKEN_BODY_MAX,
      () => new KimgError("REGISTRY_ERROR", `token response from ${req} too large`),
    );
    let obj: unknown;
    try {
      obj = JSON.parse(raw.toString("utf8"));
    } catch {
      throw new KimgError("REGISTRY_ERROR", `token response from ${req} is not JSON`);
    }
    const o = (typeof obj === "object" && obj !== null ? obj : {}) as Record<string, unknown>;
    const token =
      typeof o.access_token === "string" && o.access_token !== ""
        ? o.access_token
        : typeof o.token === "string"
          ? o.token
          : "";
    if (token === "") throw new KimgError("REGISTRY_ERROR", `token response from ${req}: no token`);
    const expiresIn = typeof o.expires_in === "number" && o.expires_in > 0 ? o.expires_in : 60;
    return { header: `Bearer ${token}`, expiresAt: this.#opts.now() + expiresIn * 1000 - SKEW_MS };
  }
}

/** Short reason phrases for messages (Go's http.StatusText for the ones registries use). */
export function statusText(status: number): string {
  const t: Record<number, string> = {
    200: "OK",
    206: "Partial Content",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    416: "Requested Range Not Satisfiable",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
  };
  return t[status] ?? "";
}
