// Test harness: owns the token server for the registry's `token` auth (Docker Registry v2 token
// spec, as Distribution 2.8.2 verifies it): a signing key and its self-signed certificate (the
// registry's `rootcertbundle`), JWT issuing (ES256 or RS256; `kid` = libtrust key ID, or `x5c`),
// per-user/per-repository grants, the GET endpoint (Basic or anonymous) and the OAuth2 POST form
// (grant_type=password / refresh_token), and a record of every request for assertions.
//
// What Distribution 2.8.2 checks (distribution/distribution@v2.8.2 registry/auth/token/
// token.go `Verify`, `VerifySigningKey`; accesscontroller.go `newAccessController`,
// `Authorized`): `iss` equals auth.token.issuer; `aud` is ONE string equal to auth.token.service
// (ClaimSet.Audience is a Go string: an array fails to parse → "malformed token"); `exp` and
// `nbf` are checked with 60 s leeway (both must be present: a missing nbf reads as 0, which
// passes, a missing exp as 0, which fails); the signing key is found from the header: `x5c`
// (chain verified against the bundle), else `jwk`, else `kid` = the libtrust fingerprint of a
// bundle certificate's public key (vendor/github.com/docker/libtrust/util.go
// `keyIDFromCryptoKey`: SHA-256 of the PKIX DER, first 240 bits, base32, 12 groups of 4 joined
// by ":"); ES256 signatures are raw r||s (64 bytes), the alg must match the curve
// (libtrust ec_key.go `Verify`); `access` entries {type,name,actions} must cover every
// requested action ("*" covers all), else 401 with error="insufficient_scope".

import type { KeyObject } from "node:crypto";
import {
  createHash,
  createPrivateKey,
  generateKeyPairSync,
  randomBytes,
  sign,
  X509Certificate,
} from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { makeTempDir, removeTempDir } from "./cleanup.ts";
import { run } from "./exec.ts";
import type { TokenAuthConfig, User } from "./registry.ts";

/** Who a grant is for. "anonymous" grants apply to everyone, signed in or not. */
export type Grantee = "anonymous" | "authenticated" | { user: string };

export interface Grant {
  who: Grantee;
  /** Resource name glob: `*` matches any run of characters, `/` included. */
  name: string;
  /** Resource type. Default "repository" ("registry" with name "catalog" for the catalog). */
  type?: string;
  /** Actions granted ("pull", "push", "delete", or "*" for all). */
  actions: readonly string[];
}

/** One entry of a token's `access` claim. */
export interface ResourceActions {
  type: string;
  name: string;
  actions: string[];
}

export interface TokenRequestRecord {
  method: string;
  /** Full request target (path and query). */
  url: string;
  /** "get" for the GET endpoint, else the POST's grant_type. */
  grantType: string;
  /** Who the request authenticated as; null for anonymous (and for failed authentication). */
  user: string | null;
  /** Whether the request carried credentials (Basic header, or password/refresh_token form). */
  withCredentials: boolean;
  service: string | null;
  clientId: string | null;
  scopes: string[];
  status: number;
  /** Access claim of the token issued (empty when none was). */
  granted: ResourceActions[];
  refreshTokenIssued: boolean;
}

export type KeyHeader = "kid" | "x5c";

export interface StartTokenServerOptions {
  /** Users that can authenticate (Basic on GET, password grant on POST). */
  users?: readonly User[];
  /**
   * Default: anonymous may pull `public/*`; every signed-in user may pull, push and delete
   * everything.
   */
  grants?: readonly Grant[];
  /** Default "kimg-test-registry". */
  service?: string;
  /** Default "kimg-test-token-issuer". */
  issuer?: string;
  /** Lifetime of tokens, in seconds; also `expires_in`. Default 300. */
  expiresIn?: number;
  /** Default "ES256" (P-256 key). */
  algorithm?: "ES256" | "RS256";
  /** How tokens name their signing key. Default "kid". */
  keyHeader?: KeyHeader;
  /** A node:test TestContext (inside `it`): the server stops when that test ends. */
  t?: { after(fn: () => unknown): void };
}

export interface IssueOptions {
  sub?: string;
  access?: ResourceActions[];
  /** Seconds from now; negative for an expired token. Default `expiresIn`. */
  expiresIn?: number;
  /** nbf offset from now, in seconds. Default 0. */
  notBefore?: number;
  aud?: string | string[];
  iss?: string;
  keyHeader?: KeyHeader | "none";
  /** Sign with a key the registry does not trust (its `kid`/`x5c` are of that key too). */
  untrusted?: boolean;
}

export interface OverrideResponse {
  status: number;
  headers?: Record<string, string>;
  body: string;
}

export interface TokenServer extends TokenAuthConfig {
  /** `http://127.0.0.1:PORT` */
  url: string;
  /** libtrust key ID of the signing key (what `kid` carries). */
  kid: string;
  algorithm: "ES256" | "RS256";
  /** Every request so far, in order (live array). */
  requests: TokenRequestRecord[];
  /** Signs a token with arbitrary claims, for tests of what the registry refuses. */
  issueToken(opts?: IssueOptions): string;
  /** When set and returning a response, that response is sent instead (after recording). */
  override: ((req: http.IncomingMessage, body: string) => OverrideResponse | undefined) | undefined;
  /** Closes the server and removes its key files. Idempotent. */
  stop(): Promise<void>;
}

interface SigningKey {
  key: KeyObject;
  kid: string;
  certDer: Buffer;
  certPem: string;
}

const DEFAULT_GRANTS: readonly Grant[] = [
  { who: "anonymous", name: "public/*", actions: ["pull"] },
  { who: "authenticated", name: "*", actions: ["pull", "push", "delete"] },
];

/** libtrust key ID: SHA-256 of the PKIX (SPKI) DER, first 30 bytes, base32, groups of 4. */
export function libtrustKeyId(publicKeyDer: Uint8Array): string {
  const sum = createHash("sha256").update(publicKeyDer).digest().subarray(0, 30);
  const b32 = base32(sum);
  return (b32.match(/.{1,4}/g) ?? []).join(":");
}

function base32(buf: Uint8Array): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = 0;
  let value = 0;
  let out = "";
  for (const byte of buf) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    value &= (1 << bits) - 1;
  }
  if (bits > 0) out += alphabet[(value << (5 - bits)) & 31];
  return out;
}

function b64url(data: Uint8Array | string): string {
  return Buffer.from(data).toString("base64url");
}

async function makeSigningKey(
  dir: string,
  name: string,
  algorithm: "ES256" | "RS256",
): Promise<SigningKey> {
  const { privateKey, publicKey } =
    algorithm === "ES256"
      ? generateKeyPairSync("ec", { namedCurve: "P-256" })
      : generateKeyPairSync("rsa", { modulusLength: 2048 });
  const keyPath = join(dir, `${name}.key.pem`);
  const certPath = join(dir, `${name}.cert.pem`);
  writeFileSync(keyPath, privateKey.export({ type: "pkcs8", format: "pem" }), { mode: 0o600 });
  // Node cannot create certificates; openssl makes the self-signed one the registry trusts.
  await run("openssl", [
    "req",
    "-x509",
    "-new",
    "-key",
    keyPath,
    "-subj",
    `/CN=kimg test token issuer (${name})`,
    "-days",
    "2",
    "-sha256",
    "-out",
    certPath,
  ]);
  const certPem = readFileSync(certPath, "utf8");
  const cert = new X509Certificate(certPem);
  const spki = publicKey.export({ type: "spki", format: "der" });
  if (!cert.publicKey.export({ type: "spki", format: "der" }).equals(spki)) {
    throw new Error("token server: certificate does not hold the generated key");
  }
  return {
    key: createPrivateKey(readFileSync(keyPath)),
    kid: libtrustKeyId(spki),
    certDer: Buffer.from(cert.raw),
    certPem,
  };
}

function signJwt(
  k: SigningKey,
  algorithm: "ES256" | "RS256",
  keyHeader: KeyHeader | "none",
  claims: Record<string, unknown>,
): string {
  const header: Record<string, unknown> = { typ: "JWT", alg: algorithm };
  if (keyHeader === "kid") header.kid = k.kid;
  if (keyHeader === "x5c") header.x5c = [k.certDer.toString("base64")];
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
  const sig =
    algorithm === "ES256"
      ? sign("sha256", Buffer.from(input), { key: k.key, dsaEncoding: "ieee-p1363" })
      : sign("sha256", Buffer.from(input), k.key);
  return `${input}.${b64url(sig)}`;
}

/** `type:name:actions` (name may contain ":"), or undefined if malformed. */
export function parseScope(scope: string): ResourceActions | undefined {
  const first = scope.indexOf(":");
  const last = scope.lastIndexOf(":");
  if (first <= 0 || last === first) return undefined;
  const type = scope.slice(0, first).replace(/\(.*\)$/, ""); // drop a resource class
  const name = scope.slice(first + 1, last);
  const actions = scope
    .slice(last + 1)
    .split(",")
    .filter((a) => a !== "");
  if (name === "") return undefined;
  return { type, name, actions };
}

function globMatch(glob: string, s: string): boolean {
  const re = new RegExp(
    `^${glob
      .split("*")
      .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
      .join(".*")}$`,
  );
  return re.test(s);
}

function applies(who: Grantee, user: string | null): boolean {
  if (who === "anonymous") return true;
  if (who === "authenticated") return user !== null;
  return user === who.user;
}

/** The requested actions this user has on each requested resource (the spec's intersection). */
export function grantAccess(
  grants: readonly Grant[],
  user: string | null,
  requested: readonly ResourceActions[],
): ResourceActions[] {
  const out: ResourceActions[] = [];
  for (const r of requested) {
    const allowed = new Set<string>();
    for (const g of grants) {
      if ((g.type ?? "repository") !== r.type) continue;
      if (!applies(g.who, user) || !globMatch(g.name, r.name)) continue;
      for (const a of g.actions) allowed.add(a);
    }
    const actions = r.actions.filter((a) => allowed.has("*") || allowed.has(a));
    const existing = out.find((o) => o.type === r.type && o.name === r.name);
    if (existing !== undefined) {
      for (const a of actions) if (!existing.actions.includes(a)) existing.actions.push(a);
    } else {
      // Like Docker Hub, an entry with no actions is kept: a refusal is not an error here.
      out.push({ type: r.type, name: r.name, actions });
    }
  }
  return out;
}

/** Starts the token server on 127.0.0.1 (its realm is `${url}/token`). */
export async function startTokenServer(opts: StartTokenServerOptions = {}): Promise<TokenServer> {
  const dir = makeTempDir("token");
  try {
    const algorithm = opts.algorithm ?? "ES256";
    // The untrusted key signs tokens the registry must refuse (IssueOptions.untrusted).
    const [trusted, untrusted] = await Promise.all([
      makeSigningKey(dir, "trusted", algorithm),
      makeSigningKey(dir, "untrusted", algorithm),
    ]);
    const rootCertBundle = join(dir, "rootcerts.pem");
    writeFileSync(rootCertBundle, trusted.certPem);

    const users = new Map((opts.users ?? []).map((u) => [u.user, u.pass]));
    const grants = opts.grants ?? DEFAULT_GRANTS;
    const service = opts.service ?? "kimg-test-registry";
    const issuer = opts.issuer ?? "kimg-test-token-issuer";
    const expiresIn = opts.expiresIn ?? 300;
    const keyHeader = opts.keyHeader ?? "kid";
    const refreshTokens = new Map<string, string>(); // token → user
    const requests: TokenRequestRecord[] = [];

    const issue = (o: IssueOptions = {}): string => {
      const now = Math.floor(Date.now() / 1000);
      const key = o.untrusted === true ? untrusted : trusted;
      return signJwt(key, algorithm, o.keyHeader ?? keyHeader, {
        iss: o.iss ?? issuer,
        sub: o.sub ?? "",
        aud: o.aud ?? service,
        exp: now + (o.expiresIn ?? expiresIn),
        nbf: now + (o.notBefore ?? 0),
        iat: now,
        jti: randomBytes(12).toString("hex"),
        access: o.access ?? [],
      });
    };

    const server: TokenServer = {
      url: "",
      realm: "",
      service,
      issuer,
      rootCertBundle,
      kid: trusted.kid,
      algorithm,
      requests,
      issueToken: issue,
      override: undefined,
      stop: async () => {},
    };

    const httpServer = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const body = Buffer.concat(chunks).toString("utf8");
        const { status, headers, payload, record } = handle(req, body);
        requests.push(record);
        const ov = server.override?.(req, body);
        if (ov !== undefined) {
          res.writeHead(ov.status, ov.headers ?? {});
          res.end(ov.body);
          return;
        }
        res.writeHead(status, { "content-type": "application/json", ...headers });
        res.end(JSON.stringify(payload));
      });
    });

    function handle(
      req: http.IncomingMessage,
      body: string,
    ): {
      status: number;
      headers: Record<string, string>;
      payload: unknown;
      record: TokenRequestRecord;
    } {
      const u = new URL(req.url ?? "/", "http://x");
      const record: TokenRequestRecord = {
        method: req.method ?? "",
        url: req.url ?? "",
        grantType: "get",
        user: null,
        withCredentials: false,
        service: null,
        clientId: null,
        scopes: [],
        status: 0,
        granted: [],
        refreshTokenIssued: false,
      };
      const reply = (
        status: number,
        payload: unknown,
        headers: Record<string, string> = {},
      ): ReturnType<typeof handle> => {
        record.status = status;
        return { status, headers, payload, record };
      };
      if (u.pathname !== "/token") return reply(404, { details: "not found" });

      let params: URLSearchParams;
      if (req.method === "GET") {
        params = u.searchParams;
      } else if (req.method === "POST") {
        const ct = req.headers["content-type"] ?? "";
        if (!ct.startsWith("application/x-www-form-urlencoded")) {
          return reply(400, { error: "invalid_request", details: `content-type ${ct}` });
        }
        params = new URLSearchParams(body);
        record.grantType = params.get("grant_type") ?? "";
      } else {
        return reply(405, { details: "method not allowed" }, { allow: "GET, POST" });
      }
      record.service = params.get("service");
      record.clientId = params.get("client_id");
      record.scopes = params.getAll("scope").flatMap((s) => s.split(" ").filter((x) => x !== ""));
      if (record.service !== null && record.service !== service) {
        return reply(400, { details: `unknown service ${record.service}` });
      }
      const requested: ResourceActions[] = [];
      for (const s of record.scopes) {
        const r = parseScope(s);
        if (r === undefined) return reply(400, { details: `invalid scope ${s}` });
        requested.push(r);
      }

      let user: string | null = null;
      let wantRefresh = false;
      if (req.method === "GET") {
        const authz = req.headers.authorization;
        if (authz !== undefined) {
          record.withCredentials = true;
          const m = /^Basic\s+(\S+)$/i.exec(authz);
          const decoded = m?.[1] === undefined ? "" : Buffer.from(m[1], "base64").toString();
          const colon = decoded.indexOf(":");
          const name = decoded.slice(0, colon);
          if (colon < 0 || !users.has(name) || users.get(name) !== decoded.slice(colon + 1)) {
            return reply(
              401,
              { details: "incorrect username or password" },
              { "www-authenticate": 'Basic realm="kimg-test-token"' },
            );
          }
          user = name;
        }
        wantRefresh = params.get("offline_token") === "true" && user !== null;
      } else {
        if (record.clientId === null || record.clientId === "") {
          return reply(400, { error: "invalid_request", details: "client_id is required" });
        }
        switch (record.grantType) {
          case "password": {
            record.withCredentials = true;
            const name = params.get("username") ?? "";
            if (!users.has(name) || users.get(name) !== params.get("password")) {
              return reply(401, {
                error: "invalid_grant",
                details: "incorrect username or password",
              });
            }
            user = name;
            wantRefresh = params.get("access_type") === "offline";
            break;
          }
          case "refresh_token": {
            record.withCredentials = true;
            const owner = refreshTokens.get(params.get("refresh_token") ?? "");
            if (owner === undefined) {
              return reply(401, { error: "invalid_grant", details: "unknown refresh token" });
            }
            user = owner;
            break;
          }
          default:
            return reply(400, { error: "unsupported_grant_type" });
        }
      }
      record.user = user;
      const granted = grantAccess(grants, user, requested);
      record.granted = granted;
      const token = issue({ sub: user ?? "", access: granted });
      const issuedAt = new Date().toISOString();
      const payload: Record<string, unknown> = {
        expires_in: expiresIn,
        issued_at: issuedAt,
      };
      if (req.method === "GET") {
        payload.token = token;
        payload.access_token = token;
      } else {
        payload.access_token = token;
        payload.scope = granted
          .filter((g) => g.actions.length > 0)
          .map((g) => `${g.type}:${g.name}:${g.actions.join(",")}`)
          .join(" ");
      }
      if (record.grantType === "refresh_token") {
        payload.refresh_token = params.get("refresh_token");
      } else if (wantRefresh && user !== null) {
        const rt = randomBytes(24).toString("base64url");
        refreshTokens.set(rt, user);
        payload.refresh_token = rt;
        record.refreshTokenIssued = true;
      }
      return reply(200, payload);
    }

    await new Promise<void>((resolve, reject) => {
      httpServer.once("error", reject);
      httpServer.listen(0, "127.0.0.1", () => resolve());
    });
    // A forgotten server must not keep the test process alive.
    httpServer.unref();
    const port = (httpServer.address() as AddressInfo).port;
    server.url = `http://127.0.0.1:${port}`;
    server.realm = `${server.url}/token`;
    let stopped: Promise<void> | undefined;
    server.stop = () => {
      stopped ??= new Promise<void>((resolve) => {
        httpServer.closeAllConnections();
        httpServer.close(() => resolve());
      }).then(() => removeTempDir(dir));
      return stopped;
    };
    opts.t?.after(() => server.stop());
    return server;
  } catch (e) {
    removeTempDir(dir);
    throw e;
  }
}
