// RegistryClient: the pull side of the distribution API for one registry host, no disk I/O.
// - Scheme: HTTPS. For loopback hosts and hosts configured insecure (`insecureHosts`, or
//   `insecure` from registries.conf) HTTPS is tried first without certificate verification, and
//   plain HTTP is used when that probe fails at the transport level (TLS handshake, a port
//   speaking plain HTTP, a certificate error, a refused connection): one `GET /v2/` probe per
//   client, its decision cached (containers/image docker/docker_client.go `detectPropertiesHelper`:
//   `ping("https")`, then `ping("http")` only when InsecureSkipVerify; containerd
//   core/remotes/docker/config/hosts.go: loopback hosts get skip_verify and `NewHTTPFallback`).
//   Never plain HTTP for other hosts (../../shared/specs/registry.md §5.2, §5.4).
// - resolve: HEAD manifest with the Accept list; the HEAD's Docker-Content-Digest and
//   Content-Length make the descriptor, else GET and hash (containerd resolver.go `Resolve`).
// - getManifest: 4 MiB cap enforced while streaming, sha256 verified against the requested
//   digest, or for a tag against Docker-Content-Digest when present (distribution-spec spec.md
//   "Pulling manifests"; api.md "Digest Header").
// - getBlob: raw bytes (`Accept-Encoding: identity`, no decoding), `Range: bytes=N-` resume with
//   206 / 200 (restart from 0) / 416 (containerd resolver.go `withOffsetCheck`,
//   httpreadseeker.go).
// - Redirects followed here, at most 5, `Authorization` sent only to the origin it was made for
//   (distribution-spec "API": MUST NOT forward Authorization across hosts; containerd
//   resolver.go `do`).
// - 401: challenge → token → retry; a 401 with a cached token is retried once with a fresh one,
//   then fails "pull access denied, …" (containerd authorizer.go `AddResponses`, resolver.go).
//   Challenges are keyed by the origin that answered, as containerd keys its auth handlers by
//   the host of the response's request (authorizer.go `AddResponses`: `last.Request.URL.Host`).
//   The registry's credentials go only with the registry's own challenges (to the token realm
//   it names, which may be on another host, as docker allows); a redirect target that answers
//   401 gets an anonymous token at most, never a credential (docs/security.md).
// - Errors: KimgError codes with containerd/docker-like text, the host, the request and status.

import { createHash } from "node:crypto";
import { pipeline, Readable, Transform } from "node:stream";
import { type ErrorCode, KimgError, type RegistryErrorInfo } from "../errors.ts";
import {
  type Descriptor,
  type Digest,
  isDigest,
  MANIFEST_ACCEPT_HEADER,
  MAX_MANIFEST_BYTES,
  normalizeContentType,
} from "../oci/index.ts";
import type { Reference } from "../ref/index.ts";
import {
  Authorizer,
  type CredentialStore,
  parseWWWAuthenticate,
  pullScope,
  statusText,
} from "./auth.ts";
import {
  createHttpAgent,
  type HttpAgent,
  type HttpAgentOptions,
  type HttpMethod,
  type HttpResponse,
  header,
  headerValues,
  httpRequest,
  readLimited,
} from "./http.ts";
import {
  delayFor,
  parseRetryAfter,
  RETRYABLE_STATUSES,
  type RetryOptions,
  retryOptions,
  STALL_MIN_BYTES,
} from "./retry.ts";

/**
 * ABORTED with the abort's own reason as the message (`context deadline exceeded (kimg run
 * --timeout 2s)`), so a deadline reads the same wherever it cut the pull (issue 10 item 16).
 */
function abortedError(signal: AbortSignal | undefined, cause: unknown): KimgError {
  const reason = signal?.reason;
  const text = reason instanceof Error && reason.message !== "" ? reason.message : "aborted";
  return new KimgError("ABORTED", text, { cause });
}

/** containerd's words for a 401/403 (resolver.go): no credentials, or no such repository. */
const DENIED_PREFIX =
  "pull access denied, repository does not exist or may require authorization: ";

export interface RegistryClientOptions {
  /** Registry host as in references: `docker.io`, `localhost:5000`, `127.0.0.1:5000`. */
  host: string;
  /** Hosts (with port when the reference has one) that may be reached over plain HTTP. */
  insecureHosts?: readonly string[] | undefined;
  /** This host is insecure (registries.conf `insecure = true`): HTTP and unverified TLS allowed. */
  insecure?: boolean | undefined;
  credentials?: CredentialStore | undefined;
  /** A shared pool (closed by its owner); else the client makes one and `close()` closes it. */
  agent?: HttpAgent | undefined;
  http?: HttpAgentOptions | undefined;
  retry?: Partial<RetryOptions> | undefined;
  /** Manifest size cap, bytes. Default MAX_MANIFEST_BYTES (4 MiB). */
  maxManifestBytes?: number | undefined;
  /** Redirect hops per request. Default 5. */
  maxRedirects?: number | undefined;
  userAgent?: string | undefined;
}

export interface PingResult {
  status: number;
  /** Challenges of a 401 (empty when none). */
  challenges: ReturnType<typeof parseWWWAuthenticate>;
}

export interface ManifestResponse {
  /** The bytes as served (hashed to `digest`). */
  bytes: Buffer;
  digest: Digest;
  /** Content-Type without parameters ("" when absent). */
  mediaType: string;
  size: number;
}

export interface BlobResponse {
  /** Raw bytes from `offset` on (not decoded, not verified: the store verifies). */
  stream: Readable;
  /** Where `stream` starts: the requested offset (206), or 0 when the server ignored Range. */
  offset: number;
}

/** Internal: a request with a replayable body (a manifest, an empty PUT). */
interface SendOptions extends RequestOptions {
  readonly body?: Buffer | string | undefined;
}

/** Where an upload session is, and what the registry has of it. */
export interface UploadSession {
  /** The session's URL (Location), absolute. */
  readonly url: URL;
  /** Bytes the registry holds (from its Range header; 0 for a new session). */
  readonly offset: number;
}

/** What happened to a blob on push. */
export type BlobPushOutcome = "exists" | "mounted" | "uploaded";

/** Pagination of tags/list and _catalog. */
export interface ListOptions extends RequestOptions {
  /** Entries per page asked for (`?n=`); the registry may send fewer. Default: the registry's. */
  readonly pageSize?: number | undefined;
  /** Start after this entry (`?last=`). */
  readonly last?: string | undefined;
  /** Stop once this many entries are read. */
  readonly limit?: number | undefined;
}

/** An OCI image index of referrers: descriptors with artifactType and annotations. */
export interface ReferrersIndex {
  readonly schemaVersion: 2;
  readonly mediaType: string;
  readonly manifests: readonly ReferrerDescriptor[];
}

export interface ReferrerDescriptor extends Descriptor {
  readonly artifactType?: string;
  readonly annotations?: Readonly<Record<string, string>>;
}

export interface RequestOptions {
  signal?: AbortSignal | undefined;
}

const LOOPBACK = /^(localhost|127(?:\.\d{1,3}){3}|\[::1\]|::1)(?::\d+)?$/i;

/** True for hosts reached over plain HTTP by default. */
export function isLoopbackHost(host: string): boolean {
  return LOOPBACK.test(host);
}

/** docker.io and its aliases are served by registry-1.docker.io (docker/distribution). */
function endpointHost(host: string): string {
  return host === "docker.io" || host === "index.docker.io" ? "registry-1.docker.io" : host;
}

const ERROR_BODY_MAX = 64 * 1024;

/** The scheme each insecure host answered the probe with, for this process. */
const SCHEME_OF_HOST = new Map<string, "http" | "https">();

interface Sent {
  res: HttpResponse;
  /** The URL that answered (after redirects). */
  url: URL;
}

export class RegistryClient {
  readonly host: string;
  /** True when plain HTTP and unverified TLS are allowed (loopback or configured insecure). */
  readonly insecure: boolean;
  #base: URL;
  /** The HTTPS-first probe of an insecure host (once per client). */
  #scheme: Promise<void> | undefined;
  readonly #agent: HttpAgent;
  readonly #ownAgent: boolean;
  readonly #auth: Authorizer;
  /** Authorizers of redirect targets that challenged, by origin: anonymous, never credentials. */
  readonly #foreign = new Map<string, Authorizer>();
  readonly #retry: RetryOptions;
  readonly #maxManifest: number;
  readonly #maxRedirects: number;
  readonly #ua: string;

  constructor(opts: RegistryClientOptions) {
    this.host = opts.host;
    this.insecure =
      opts.insecure === true ||
      isLoopbackHost(opts.host) ||
      (opts.insecureHosts ?? []).includes(opts.host);
    this.#base = new URL(`https://${endpointHost(opts.host)}`);
    // An insecure host skips certificate verification, so it gets its own pool.
    this.#ownAgent = opts.agent === undefined || this.insecure;
    this.#retry = retryOptions(opts.retry);
    this.#agent =
      this.insecure || opts.agent === undefined
        ? createHttpAgent({
            // Headers that take longer than the stall limit are a stall too (a slow HEAD).
            headersTimeoutMs: this.#retry.stallTimeoutMs,
            ...opts.http,
            ...(this.insecure ? { rejectUnauthorized: false } : {}),
          })
        : opts.agent;
    this.#maxManifest = opts.maxManifestBytes ?? MAX_MANIFEST_BYTES;
    this.#maxRedirects = opts.maxRedirects ?? 5;
    this.#ua = opts.userAgent ?? "kimg";
    this.#auth = new Authorizer({
      host: opts.host,
      agent: this.#agent,
      credentials: opts.credentials,
      now: this.#retry.now,
      userAgent: this.#ua,
    });
  }

  /** Where requests go: `https://host`, or `http://host` once an insecure host's probe failed. */
  get baseUrl(): URL {
    return this.#base;
  }

  /**
   * Settles the scheme before the first request: HTTPS for secure hosts; for insecure ones a
   * `GET https://host/v2/` probe, plain HTTP when it fails below HTTP (docker_client.go
   * `detectPropertiesHelper`). Any HTTP answer keeps HTTPS.
   */
  #ready(opts: RequestOptions): Promise<void> {
    if (!this.insecure) return Promise.resolve();
    // A host's answer holds for the process: one probe per host, not per client (kimg pin
    // resolves hundreds of images on one registry).
    const known = SCHEME_OF_HOST.get(this.#base.host);
    if (known !== undefined) {
      this.#base = new URL(`${known}://${this.#base.host}`);
      return Promise.resolve();
    }
    this.#scheme ??= (async () => {
      try {
        const res = await httpRequest(this.#agent, {
          method: "GET",
          url: new URL("/v2/", this.#base),
          headers: { "user-agent": this.#ua },
          ...(opts.signal === undefined ? {} : { signal: opts.signal }),
        });
        await res.discard();
      } catch (e) {
        if (opts.signal?.aborted === true) {
          this.#scheme = undefined;
          throw abortedError(opts.signal, e);
        }
        this.#base = new URL(`http://${this.#base.host}`);
      }
      SCHEME_OF_HOST.set(this.#base.host, this.#base.protocol === "http:" ? "http" : "https");
    })();
    return this.#scheme;
  }

  /** Closes the connection pool if this client made it. */
  async close(): Promise<void> {
    if (this.#ownAgent) await this.#agent.close();
  }

  /** `GET /v2/`: 200, or 401 with the challenges (recorded for later requests). */
  async ping(opts: RequestOptions = {}): Promise<PingResult> {
    await this.#ready(opts);
    const { res } = await this.#withRetry(
      "GET",
      new URL("/v2/", this.baseUrl),
      {},
      undefined,
      opts,
    );
    await res.discard();
    const challenges = parseWWWAuthenticate(headerValues(res.headers, "www-authenticate"));
    if (res.status === 401) this.#auth.challenged(challenges, "");
    else if (res.status !== 200) {
      throw this.#statusError(res.status, "GET", new URL("/v2/", this.baseUrl), undefined, "ping");
    }
    return { status: res.status, challenges };
  }

  /**
   * Checks this client's credentials, as `docker login` does before it saves them: `GET /v2/`,
   * and on a 401 the challenge's flow with the credential (Basic, or a token fetched with it),
   * which must end in 200. A registry that answers 200 anonymously accepts any login.
   * @throws REGISTRY_UNAUTHORIZED ("authentication failed: the registry refused the
   *   credentials from …") when they are wrong.
   */
  async login(opts: RequestOptions = {}): Promise<{ anonymous: boolean }> {
    await this.#ready(opts);
    const url = new URL("/v2/", this.baseUrl);
    const { res, url: final } = await this.#send("", "GET", url, {}, opts);
    await res.discard();
    if (res.status !== 200) {
      throw this.#statusError(res.status, "GET", final, undefined, "ping");
    }
    return { anonymous: this.#auth.sentCredential === undefined };
  }

  /**
   * Resolves a reference of this registry to the descriptor of its manifest or index: HEAD with
   * the Accept list; GET and hash when the HEAD has no usable Docker-Content-Digest.
   */
  async resolve(ref: Reference, opts: RequestOptions = {}): Promise<Descriptor> {
    await this.#ready(opts);
    const repo = ref.path;
    const reference = ref.digest !== "" ? ref.digest : ref.tag !== "" ? ref.tag : "latest";
    const url = this.#manifestUrl(repo, reference);
    const { res } = await this.#send(
      pullScope(repo),
      "HEAD",
      url,
      { accept: MANIFEST_ACCEPT_HEADER },
      opts,
    );
    await res.discard();
    if (res.status === 200) {
      const dcd = header(res.headers, "docker-content-digest");
      const len = Number(header(res.headers, "content-length") ?? "NaN");
      const digest = ref.digest !== "" ? ref.digest : dcd;
      if (digest !== undefined && isDigest(digest) && Number.isSafeInteger(len) && len > 0) {
        if (len > this.#maxManifest) throw tooLarge(len);
        return {
          mediaType: normalizeContentType(header(res.headers, "content-type")),
          digest: digest as Digest,
          size: len,
        };
      }
    } else if (res.status !== 405) {
      throw this.#statusError(res.status, "HEAD", url, undefined, "manifest");
    }
    const m = await this.getManifest(repo, reference, opts);
    return { mediaType: m.mediaType, digest: m.digest, size: m.size };
  }

  /**
   * GETs a manifest or index by digest or tag; the bytes are capped while streaming and their
   * sha256 must equal the requested digest (or, for a tag, Docker-Content-Digest when sent).
   */
  async getManifest(
    repo: string,
    digestOrTag: string,
    opts: RequestOptions = {},
  ): Promise<ManifestResponse> {
    await this.#ready(opts);
    const byDigest = digestOrTag.includes(":");
    if (byDigest && !isDigest(digestOrTag)) {
      throw new KimgError("DIGEST_INVALID_FORMAT", `invalid digest format: ${digestOrTag}`);
    }
    const url = this.#manifestUrl(repo, digestOrTag);
    const { res, url: final } = await this.#send(
      pullScope(repo),
      "GET",
      url,
      { accept: MANIFEST_ACCEPT_HEADER },
      opts,
    );
    if (res.status !== 200) {
      throw await this.#responseError(res, "GET", final, "manifest");
    }
    const len = Number(header(res.headers, "content-length") ?? "NaN");
    if (Number.isSafeInteger(len) && len > this.#maxManifest) {
      res.cancel();
      throw tooLarge(len);
    }
    const bytes = await readLimited(res.body, this.#maxManifest, (n) => tooLarge(n));
    const algo = byDigest ? (digestOrTag.split(":")[0] ?? "sha256") : "sha256";
    if (algo !== "sha256" && algo !== "sha512") {
      throw new KimgError("DIGEST_UNSUPPORTED", `unsupported digest algorithm: ${algo}`);
    }
    const computed = `${algo}:${createHash(algo).update(bytes).digest("hex")}` as Digest;
    const expected = byDigest ? digestOrTag : header(res.headers, "docker-content-digest");
    if (expected !== undefined && expected !== "" && expected !== computed) {
      const what = byDigest ? "requested digest" : "Docker-Content-Digest";
      throw new KimgError(
        "DIGEST_MISMATCH",
        `manifest ${this.host}/${repo}@${digestOrTag}: content has digest ${computed}, ${what} is ${expected} (GET ${final.host}${final.pathname})`,
      );
    }
    return {
      bytes,
      digest: computed,
      mediaType: normalizeContentType(header(res.headers, "content-type")),
      size: bytes.length,
    };
  }

  /**
   * GETs a blob's raw bytes, from `offset` when > 0 (`Range: bytes=N-`). A 206 must start at
   * `offset`; a 200 means the server ignored Range and the stream starts at 0 (restart); a 416
   * at `offset` = size means nothing is left.
   */
  async getBlob(
    repo: string,
    desc: Pick<Descriptor, "digest" | "size"> & { mediaType?: string },
    opts: RequestOptions & { offset?: number } = {},
  ): Promise<BlobResponse> {
    await this.#ready(opts);
    const offset = opts.offset ?? 0;
    checkRepo(repo);
    if (!isDigest(desc.digest)) {
      throw new KimgError("DIGEST_INVALID_FORMAT", `invalid digest format: ${desc.digest}`);
    }
    const url = new URL(`/v2/${repo}/blobs/${desc.digest}`, this.baseUrl);
    const headers: Record<string, string> = {
      accept: desc.mediaType === undefined ? "*/*" : `${desc.mediaType}, */*`,
      "accept-encoding": "identity",
    };
    if (offset > 0) headers.range = `bytes=${offset}-`;
    const { res, url: final } = await this.#send(pullScope(repo), "GET", url, headers, opts);
    const req = `GET ${final.host}${final.pathname}`;
    if (res.status === 200) return { stream: this.#watch(res.body, req), offset: 0 };
    if (res.status === 206 && offset > 0) {
      const cr = header(res.headers, "content-range") ?? "";
      if (!cr.startsWith(`bytes ${offset}-`)) {
        res.cancel();
        throw new KimgError(
          "REGISTRY_ERROR",
          `blob ${desc.digest}: unexpected Content-Range "${cr}" for offset ${offset} (${req}: 206 Partial Content)`,
        );
      }
      return { stream: this.#watch(res.body, req), offset };
    }
    if (res.status === 416 && offset > 0 && offset >= desc.size) {
      await res.discard();
      return { stream: Readable.from([]), offset: desc.size };
    }
    throw await this.#responseError(res, "GET", final, "blob");
  }

  /**
   * GETs a small blob (an image config) whole: capped at `max` bytes while streaming, and its
   * sha256 checked against the descriptor before it is returned.
   */
  async getBlobBytes(
    repo: string,
    desc: Pick<Descriptor, "digest" | "size"> & { mediaType?: string },
    opts: RequestOptions & { max?: number } = {},
  ): Promise<Buffer> {
    const max = opts.max ?? this.#maxManifest;
    if (desc.size > max) throw tooLarge(desc.size);
    const { stream } = await this.getBlob(repo, desc, opts);
    const bytes = await readLimited(stream, max, (n) => tooLarge(n));
    const [algo = "sha256"] = desc.digest.split(":");
    const computed = `${algo}:${createHash(algo).update(bytes).digest("hex")}`;
    if (computed !== desc.digest) {
      throw new KimgError(
        "DIGEST_MISMATCH",
        `blob ${this.host}/${repo}@${desc.digest}: content has digest ${computed}`,
      );
    }
    return bytes;
  }

  /**
   * The tags of `repo` (`GET /v2/NAME/tags/list`), every page: `?n=` asks for `pageSize` per
   * page and the `Link: <…>; rel="next"` header leads to the next (distribution-spec spec.md
   * "Listing Tags"; Distribution and Harbor page, Docker Hub sends 100 and a Link).
   */
  listTags(repo: string, opts: ListOptions = {}): Promise<string[]> {
    checkRepo(repo);
    return this.#list(pullScope(repo), `/v2/${repo}/tags/list`, "tags", opts);
  }

  /** The repositories of the registry (`GET /v2/_catalog`, the `registry:catalog:*` scope), every page. */
  catalog(opts: ListOptions = {}): Promise<string[]> {
    return this.#list("registry:catalog:*", "/v2/_catalog", "repositories", opts);
  }

  /**
   * The referrers of `digest` in `repo` as an image index: `GET /v2/NAME/referrers/DIGEST`
   * (OCI distribution-spec 1.1 "Listing Referrers"); on a 404 (a registry without the API),
   * the referrers tag schema `sha256-<hex>` ("Referrers Tag Schema"), an empty index when that
   * tag is missing too. `artifactType` filters, on the server when it says so
   * (`OCI-Filters-Applied`), else here.
   */
  async referrers(
    repo: string,
    digest: string,
    opts: RequestOptions & { artifactType?: string } = {},
  ): Promise<{ index: ReferrersIndex; via: "api" | "tag-schema" }> {
    await this.#ready(opts);
    checkRepo(repo);
    if (!isDigest(digest)) {
      throw new KimgError("DIGEST_INVALID_FORMAT", `invalid digest format: ${digest}`);
    }
    const url = new URL(`/v2/${repo}/referrers/${digest}`, this.baseUrl);
    if (opts.artifactType !== undefined) url.searchParams.set("artifactType", opts.artifactType);
    const { res, url: final } = await this.#send(
      pullScope(repo),
      "GET",
      url,
      { accept: "application/vnd.oci.image.index.v1+json" },
      opts,
    );
    let index: ReferrersIndex;
    let via: "api" | "tag-schema" = "api";
    let filtered = false;
    if (res.status === 200) {
      const body = await readLimited(res.body, this.#maxManifest, (n) => tooLarge(n));
      index = referrersIndex(body, `GET ${final.host}${final.pathname}`);
      filtered = (header(res.headers, "oci-filters-applied") ?? "").includes("artifactType");
    } else if (res.status === 404) {
      await res.discard();
      via = "tag-schema";
      const tag = digest.replace(":", "-").slice(0, 128);
      try {
        const m = await this.getManifest(repo, tag, opts);
        index = referrersIndex(m.bytes, `GET ${this.host}/v2/${repo}/manifests/${tag}`);
      } catch (e) {
        if (!(e instanceof KimgError) || e.code !== "MANIFEST_UNKNOWN") throw e;
        index = { schemaVersion: 2, mediaType: OCI_INDEX, manifests: [] };
      }
    } else {
      throw await this.#responseError(res, "GET", final, "manifest");
    }
    if (opts.artifactType !== undefined && !filtered) {
      index = {
        ...index,
        manifests: index.manifests.filter((d) => d.artifactType === opts.artifactType),
      };
    }
    return { index, via };
  }

  // ---- Pushing (distribution-spec spec.md "Pushing blobs", "Pushing Manifests") --------------

  /** `HEAD /v2/NAME/blobs/DIGEST` with push access: does the repository have the blob? */
  async hasBlob(repo: string, digest: string, opts: RequestOptions = {}): Promise<boolean> {
    await this.#ready(opts);
    checkRepo(repo);
    checkDigest(digest);
    const url = new URL(`/v2/${repo}/blobs/${digest}`, this.baseUrl);
    const { res, url: final } = await this.#send(pushScope(repo), "HEAD", url, {}, opts);
    await res.discard();
    if (res.status === 200) return true;
    if (res.status === 404) return false;
    throw pushError(this.#statusError(res.status, "HEAD", final, undefined, "blob"));
  }

  /**
   * Cross-repository mount (`POST /v2/NAME/blobs/uploads/?mount=DIGEST&from=OTHER`): 201 means
   * the blob is now in `repo` without a byte sent; a 202 is a new upload session (the registry
   * would not mount: another storage, no pull access to `from`), to upload into instead.
   */
  async mountBlob(
    repo: string,
    digest: string,
    from: string,
    opts: RequestOptions = {},
  ): Promise<"mounted" | UploadSession> {
    await this.#ready(opts);
    checkRepo(repo);
    checkRepo(from);
    checkDigest(digest);
    const url = new URL(`/v2/${repo}/blobs/uploads/`, this.baseUrl);
    url.searchParams.set("mount", digest);
    url.searchParams.set("from", from);
    const scope = `${pushScope(repo)} ${pullScope(from)}`;
    const { res, url: final } = await this.#send(scope, "POST", url, {}, { ...opts, body: "" });
    if (res.status === 201) {
      await res.discard();
      return "mounted";
    }
    return this.#session(res, final, "POST");
  }

  /** `POST /v2/NAME/blobs/uploads/`: a new upload session. */
  async startUpload(repo: string, opts: RequestOptions = {}): Promise<UploadSession> {
    await this.#ready(opts);
    checkRepo(repo);
    const url = new URL(`/v2/${repo}/blobs/uploads/`, this.baseUrl);
    const { res, url: final } = await this.#send(
      pushScope(repo),
      "POST",
      url,
      {},
      {
        ...opts,
        body: "",
      },
    );
    return this.#session(res, final, "POST");
  }

  /** `GET` of a session: how many bytes the registry has (its Range), to resume a cut upload. */
  async uploadStatus(
    repo: string,
    session: UploadSession,
    opts: RequestOptions = {},
  ): Promise<UploadSession> {
    const { res, url } = await this.#sendTo(repo, "GET", session.url, {}, undefined, opts);
    if (res.status !== 204 && res.status !== 200) {
      throw pushError(await this.#responseError(res, "GET", url, "blob"));
    }
    await res.discard();
    return this.#sessionOf(res, url);
  }

  /**
   * `PATCH` one chunk (`Content-Range: START-END`) into a session; the registry's answer says
   * where the session is now. The body is a stream, sent once: a cut chunk is resumed from
   * `uploadStatus`, never replayed blind.
   */
  async uploadChunk(
    repo: string,
    session: UploadSession,
    chunk: Readable,
    length: number,
    opts: RequestOptions = {},
  ): Promise<UploadSession> {
    const start = session.offset;
    const headers = {
      "content-type": "application/octet-stream",
      "content-length": String(length),
      "content-range": `${start}-${start + length - 1}`,
    };
    const { res, url } = await this.#sendTo(repo, "PATCH", session.url, headers, chunk, opts);
    if (res.status !== 202) throw pushError(await this.#responseError(res, "PATCH", url, "blob"));
    await res.discard();
    const next = this.#sessionOf(res, url);
    if (next.offset !== start + length && start + length > 1) {
      throw new KimgError(
        "REGISTRY_ERROR",
        `PATCH ${url.host}${url.pathname}: the registry holds ${next.offset} bytes after a chunk ending at ${start + length}`,
      );
    }
    return next;
  }

  /**
   * Completes a session with `PUT …?digest=`: with `body` (a monolithic upload, `length`
   * bytes streamed) or without (after chunks). The registry checks the digest; 201 is done.
   */
  async finishUpload(
    repo: string,
    session: UploadSession,
    digest: string,
    body?: { stream: Readable; length: number },
    opts: RequestOptions = {},
  ): Promise<void> {
    checkDigest(digest);
    const url = new URL(session.url);
    url.searchParams.set("digest", digest);
    const headers: Record<string, string> = {
      "content-type": "application/octet-stream",
      "content-length": String(body?.length ?? 0),
    };
    const { res, url: final } = await this.#sendTo(repo, "PUT", url, headers, body?.stream, opts);
    if (res.status !== 201) throw pushError(await this.#responseError(res, "PUT", final, "blob"));
    await res.discard();
  }

  /**
   * `PUT /v2/NAME/manifests/REFERENCE` with the manifest's own media type. The registry's
   * Docker-Content-Digest must be the bytes' sha256 (what was stored is what was sent).
   */
  async putManifest(
    repo: string,
    reference: string,
    bytes: Buffer,
    mediaType: string,
    opts: RequestOptions = {},
  ): Promise<Digest> {
    await this.#ready(opts);
    const url = this.#manifestUrl(repo, reference);
    const digest = `sha256:${createHash("sha256").update(bytes).digest("hex")}` as Digest;
    if (reference.includes(":") && reference !== digest) {
      throw new KimgError(
        "DIGEST_MISMATCH",
        `manifest ${repo}@${reference}: the bytes have digest ${digest}`,
      );
    }
    const { res, url: final } = await this.#send(
      pushScope(repo),
      "PUT",
      url,
      { "content-type": mediaType },
      { ...opts, body: bytes },
    );
    if (res.status !== 201 && res.status !== 200) {
      throw pushError(await this.#responseError(res, "PUT", final, "manifest"));
    }
    await res.discard();
    const dcd = header(res.headers, "docker-content-digest");
    if (dcd !== undefined && dcd !== "" && dcd !== digest) {
      throw new KimgError(
        "DIGEST_MISMATCH",
        `PUT ${final.host}${final.pathname}: the registry stored digest ${dcd}, the manifest sent has ${digest}`,
      );
    }
    return digest;
  }

  /**
   * `DELETE /v2/NAME/manifests/DIGEST` (the API deletes by digest only; every tag of it goes).
   * A registry that does not allow deletes answers 405 (Distribution without
   * `storage.delete.enabled`), said as such.
   */
  async deleteManifest(repo: string, digest: string, opts: RequestOptions = {}): Promise<void> {
    await this.#ready(opts);
    checkDigest(digest);
    const url = this.#manifestUrl(repo, digest);
    const scope = `repository:${repo}:delete`;
    const { res, url: final } = await this.#send(scope, "DELETE", url, {}, opts);
    if (res.status === 202 || res.status === 200) {
      await res.discard();
      return;
    }
    if (res.status === 405) {
      await res.discard();
      throw new KimgError(
        "REGISTRY_ERROR",
        `DELETE ${final.host}${final.pathname}: 405 Method Not Allowed: the registry does not allow deleting manifests (Distribution: storage.delete.enabled)`,
      );
    }
    throw await this.#responseError(res, "DELETE", final, "manifest");
  }

  /** A 202 with Location: the session's absolute URL (relative Locations resolve against the request). */
  async #session(res: HttpResponse, url: URL, method: string): Promise<UploadSession> {
    if (res.status !== 202) throw pushError(await this.#responseError(res, method, url, "blob"));
    await res.discard();
    return this.#sessionOf(res, url);
  }

  #sessionOf(res: HttpResponse, url: URL): UploadSession {
    const loc = header(res.headers, "location");
    if (loc === undefined || loc === "") {
      throw new KimgError(
        "REGISTRY_ERROR",
        `${url.host}${url.pathname}: upload answer has no Location`,
      );
    }
    const next = new URL(loc, url);
    if (next.protocol !== "https:" && next.protocol !== "http:") {
      throw new KimgError(
        "REGISTRY_ERROR",
        `${url.host}${url.pathname}: upload Location is not HTTP`,
      );
    }
    // Range: 0-N: the registry holds bytes 0..N. Distribution sends 0-0 for a new session
    // too, so 0-0 is read as empty (a one-byte resume then resends that byte).
    const range = /^(?:bytes=)?0-(\d+)$/.exec(header(res.headers, "range") ?? "");
    const end = range === null ? 0 : Number(range[1]);
    return { url: next, offset: end === 0 ? 0 : end + 1 };
  }

  /**
   * A request to an upload URL with a body that may be a stream (sent once, no retry, no
   * redirect). Authorization goes only to the registry's own origin; an upload session on
   * another host (a storage redirect) gets none.
   */
  async #sendTo(
    repo: string,
    method: HttpMethod,
    url: URL,
    headers: Record<string, string>,
    body: Readable | undefined,
    opts: RequestOptions,
  ): Promise<Sent> {
    await this.#ready(opts);
    if (body === undefined) {
      return this.#send(pushScope(repo), method, url, headers, { ...opts, body: "" });
    }
    const h: Record<string, string> = { ...headers, "user-agent": this.#ua };
    if (url.origin === this.baseUrl.origin) {
      const a = await this.#auth.authorize(pushScope(repo), opts.signal);
      if (a !== undefined) h.authorization = a.header;
    }
    try {
      const res = await httpRequest(this.#agent, {
        method,
        url,
        headers: h,
        body,
        ...(opts.signal === undefined ? {} : { signal: opts.signal }),
      });
      return { res, url };
    } catch (e) {
      if (e instanceof KimgError) throw e;
      if (opts.signal?.aborted === true) throw abortedError(opts.signal, e);
      throw new KimgError(
        "REGISTRY_UNAVAILABLE",
        `${method} ${url.host}${url.pathname}: ${(e as Error).message}`,
        { cause: e },
      );
    }
  }

  /** Every page of a list endpoint: the JSON array at `key`, pages joined by rel="next". */
  async #list(
    scope: string,
    path: string,
    key: "tags" | "repositories",
    opts: ListOptions,
  ): Promise<string[]> {
    await this.#ready(opts);
    let url: URL | undefined = new URL(path, this.baseUrl);
    if (opts.pageSize !== undefined) url.searchParams.set("n", String(opts.pageSize));
    if (opts.last !== undefined) url.searchParams.set("last", opts.last);
    const out: string[] = [];
    const seen = new Set<string>();
    while (url !== undefined) {
      if (seen.has(url.href)) {
        throw new KimgError(
          "REGISTRY_ERROR",
          `GET ${url.host}${url.pathname}: the registry's Link header leads back to a page already read (${url.search})`,
        );
      }
      seen.add(url.href);
      const { res, url: final } = await this.#send(
        scope,
        "GET",
        url,
        { accept: "application/json" },
        opts,
      );
      if (res.status !== 200) throw await this.#responseError(res, "GET", final, "name");
      const req = `GET ${final.host}${final.pathname}`;
      const body = await readLimited(res.body, MAX_LIST_PAGE_BYTES, (n) => {
        return new KimgError(
          "REGISTRY_ERROR",
          `${req}: page over ${MAX_LIST_PAGE_BYTES} bytes (${n})`,
        );
      });
      out.push(...listPage(body, key, req));
      if (opts.limit !== undefined && out.length >= opts.limit) return out.slice(0, opts.limit);
      url = nextLink(headerValues(res.headers, "link"), final);
    }
    return out;
  }

  /**
   * A blob body that fails with REGISTRY_UNAVAILABLE ("stalled") when less than
   * STALL_MIN_BYTES arrive within stallTimeoutMs (issue 10 item 21): undici's own body timeout
   * only sees silence, and a byte every few seconds is not silence.
   */
  #watch(body: NodeJS.ReadableStream & Readable, req: string): Readable {
    const limit = this.#retry.stallTimeoutMs;
    let mark = 0;
    let received = 0;
    let markAt = Date.now();
    // A pass-through stage counts the bytes: a 'data' listener on the body itself would set it
    // flowing before the caller reads, and chunks emitted meanwhile would be lost.
    const counted = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        received += chunk.length;
        if (received - mark >= STALL_MIN_BYTES) {
          mark = received;
          markAt = Date.now();
        }
        cb(null, chunk);
      },
    });
    const timer = setInterval(
      () => {
        if (Date.now() - markAt < limit) return;
        clearInterval(timer);
        counted.destroy(
          Object.assign(
            new KimgError(
              "REGISTRY_UNAVAILABLE",
              `${req}: stalled: less than ${STALL_MIN_BYTES} bytes in ${limit / 1000}s (${received} bytes received)`,
            ),
            { stalled: true },
          ),
        );
      },
      Math.min(1000, Math.max(50, limit / 4)),
    );
    timer.unref();
    // pipeline: an error or destroy on either side ends both (the socket is released).
    pipeline(body, counted, () => clearInterval(timer));
    return counted;
  }

  #manifestUrl(repo: string, reference: string): URL {
    checkRepo(repo);
    if (!reference.includes(":") && !TAG_RE.test(reference)) {
      throw new KimgError("TAG_INVALID_FORMAT", "invalid tag format");
    }
    return new URL(`/v2/${repo}/manifests/${reference}`, this.baseUrl);
  }

  /** The authorizer for challenges from `origin`: the registry's own, or an anonymous one. */
  #authorizerFor(origin: string): Authorizer {
    if (origin === this.baseUrl.origin) return this.#auth;
    let a = this.#foreign.get(origin);
    if (a === undefined) {
      a = new Authorizer({
        host: new URL(origin).host,
        agent: this.#agent,
        credentials: undefined,
        now: this.#retry.now,
        userAgent: this.#ua,
      });
      this.#foreign.set(origin, a);
    }
    return a;
  }

  /** A request needing `scope` (`repository:NAME:pull`…): auth (401 → token → retry), retries, redirects. */
  async #send(
    scope: string,
    method: HttpMethod,
    url: URL,
    headers: Record<string, string>,
    opts: SendOptions,
  ): Promise<Sent> {
    // What to send to each origin: the registry's authorization, and anonymous tokens for
    // redirect targets that asked for one.
    const auths = new Map<string, { header: string; fresh: boolean }>();
    const tries = new Map<string, number>();
    const first = await this.#auth.authorize(scope, opts.signal);
    if (first !== undefined) auths.set(this.baseUrl.origin, first);
    for (;;) {
      const sent = await this.#withRetry(method, url, headers, auths, opts);
      if (sent.res.status !== 401) return sent;
      const origin = sent.url.origin;
      const n = (tries.get(origin) ?? 0) + 1;
      tries.set(origin, n);
      const authorizer = this.#authorizerFor(origin);
      const challenges = parseWWWAuthenticate(headerValues(sent.res.headers, "www-authenticate"));
      const known = authorizer.challenged(challenges, scope);
      // Retry after a first 401 without auth or with a cached token; never after a fresh one.
      if (known && n < 3 && auths.get(origin)?.fresh !== true) {
        const next = await authorizer.authorize(scope, opts.signal);
        if (next !== undefined) {
          await sent.res.discard();
          auths.set(origin, next);
          continue;
        }
      }
      if (origin !== this.baseUrl.origin) {
        await sent.res.discard();
        throw new KimgError(
          "REGISTRY_ERROR",
          `${method} ${url.host}${url.pathname}: the registry redirected to ${sent.url.host}, which answered 401 Unauthorized; kimg sends the registry's credentials only to the registry`,
        );
      }
      const err = challenges.find((ch) => ch.params.error !== undefined)?.params.error;
      const hint = err === undefined ? "" : `server message: ${err}: authorization failed; `;
      const e = await this.#responseError(sent.res, method, sent.url, "denied", hint);
      // Credentials were sent and refused: a wrong password, not a missing repository. Say
      // so, naming where they came from, never what they are (issue 10 item 12).
      const who = this.#auth.sentCredential;
      if (who !== undefined && auths.has(this.baseUrl.origin)) {
        throw new KimgError(
          e.code,
          e.message.replace(
            DENIED_PREFIX,
            `authentication failed: the registry refused the credentials from ${who}: `,
          ),
          { cause: e },
        );
      }
      throw scope.includes(",push") ? pushError(e) : e;
    }
  }

  /** Retries connection errors, 5xx and 429 (Retry-After); the last response is returned. */
  async #withRetry(
    method: HttpMethod,
    url: URL,
    headers: Record<string, string>,
    auths: ReadonlyMap<string, { header: string }> | undefined,
    opts: SendOptions,
  ): Promise<Sent> {
    const r = this.#retry;
    for (let attempt = 1; ; attempt++) {
      let sent: Sent;
      try {
        sent = await this.#follow(method, url, headers, auths, opts);
      } catch (e) {
        // A refused connection to this machine is not worth waiting for: nothing listens
        // there, and a second try covers a server that is just starting (issue 10 item 13).
        const refusedHere =
          (e as { code?: string }).code === "ECONNREFUSED" && isLoopbackHost(url.host);
        const last = attempt >= (refusedHere ? Math.min(2, r.maxAttempts) : r.maxAttempts);
        if (e instanceof KimgError || opts.signal?.aborted === true || last) {
          if (e instanceof KimgError) throw e;
          if (opts.signal?.aborted === true) throw abortedError(opts.signal, e);
          throw new KimgError(
            "REGISTRY_UNAVAILABLE",
            `${method} ${url.host}${url.pathname}: ${(e as Error).message} (after ${attempt} attempts)`,
            { cause: e },
          );
        }
        const wait = delayFor(attempt, undefined, undefined, r);
        r.onWait?.({
          host: url.host,
          ms: wait,
          reason: (e as Error).message,
          attempt: attempt + 1,
        });
        await r.sleep(wait, opts.signal);
        continue;
      }
      const status = sent.res.status;
      if (!RETRYABLE_STATUSES.has(status) || attempt >= r.maxAttempts) return sent;
      await sent.res.discard();
      const retryAfter = header(sent.res.headers, "retry-after");
      const asked = status === 429 ? parseRetryAfter(retryAfter, r.now()) : undefined;
      const answer = `${status} ${statusText(status)}${retryAfter !== undefined ? ` (Retry-After: ${retryAfter})` : ""}`;
      if (asked !== undefined && asked > r.maxDelayMs) {
        // Asked to wait longer than kimg waits: fail now, saying what was asked (issue 10
        // item 22), rather than wait the cap again and again.
        throw new KimgError(
          "RATE_LIMITED",
          `${method} ${sent.url.host}${sent.url.pathname}: ${answer}: the registry asks to wait ${Math.ceil(asked / 1000)}s, longer than the ${r.maxDelayMs / 1000}s kimg waits (--max-retry-wait)`,
        );
      }
      const wait = delayFor(attempt, status, retryAfter, r);
      r.onWait?.({ host: sent.url.host, ms: wait, reason: answer, attempt: attempt + 1 });
      await r.sleep(wait, opts.signal);
    }
  }

  /** One request with redirects followed here; each origin gets only its own Authorization. */
  async #follow(
    method: HttpMethod,
    start: URL,
    headers: Record<string, string>,
    auths: ReadonlyMap<string, { header: string }> | undefined,
    opts: SendOptions,
  ): Promise<Sent> {
    let url = start;
    let m = method;
    let body = opts.body;
    for (let hop = 0; ; hop++) {
      const h: Record<string, string> = { ...headers, "user-agent": this.#ua };
      const authorization = auths?.get(url.origin)?.header;
      if (authorization !== undefined) h.authorization = authorization;
      const res = await httpRequest(this.#agent, {
        method: m,
        url,
        headers: h,
        ...(body === undefined ? {} : { body }),
        ...(opts.signal === undefined ? {} : { signal: opts.signal }),
      });
      const loc = header(res.headers, "location");
      if (![301, 302, 303, 307, 308].includes(res.status) || loc === undefined) {
        return { res, url };
      }
      await res.discard();
      if (hop >= this.#maxRedirects) {
        throw new KimgError(
          "REGISTRY_ERROR",
          `${method} ${start.host}${start.pathname}: stopped after ${this.#maxRedirects} redirects`,
        );
      }
      const next = new URL(loc, url);
      if (next.protocol !== "https:" && next.protocol !== "http:") {
        throw new KimgError(
          "REGISTRY_ERROR",
          `${method} ${url.host}${url.pathname}: redirect to a non-HTTP URL`,
        );
      }
      if (url.protocol === "https:" && next.protocol === "http:" && !isLoopbackHost(next.host)) {
        throw new KimgError(
          "REGISTRY_ERROR",
          `${method} ${url.host}${url.pathname}: refusing redirect from HTTPS to plain HTTP (${next.host})`,
        );
      }
      if (res.status === 303 && m !== "HEAD") {
        m = "GET";
        body = undefined;
      }
      url = next;
    }
  }

  async #responseError(
    res: HttpResponse,
    method: string,
    url: URL,
    what: "manifest" | "blob" | "denied" | "name",
    hint = "",
  ): Promise<KimgError> {
    let body: Buffer | undefined;
    if (method !== "HEAD") {
      try {
        body = await readLimited(res.body, ERROR_BODY_MAX, () => new Error("too large"));
      } catch {
        body = undefined;
      }
    } else {
      await res.discard();
    }
    return this.#statusError(res.status, method, url, body, what, hint);
  }

  #statusError(
    status: number,
    method: string,
    url: URL,
    body: Buffer | undefined,
    what: "manifest" | "blob" | "denied" | "ping" | "name",
    hint = "",
  ): KimgError {
    const server = serverErrors(body);
    const req = `(${method} ${url.host}${url.pathname}: ${status} ${statusText(status)})`.replace(
      " )",
      ")",
    );
    const detail = `${hint}${server.length > 0 ? `${server.map((e) => e.text).join("; ")} ` : ""}`;
    const code0 = server[0]?.code;
    const registry: RegistryErrorInfo = {
      status,
      method,
      host: url.host,
      path: url.pathname,
      errors: server.map(({ code, message }) => ({ code, message })),
    };
    const err = (code: ErrorCode, message: string) => new KimgError(code, message, { registry });
    if (status === 401 || status === 403) {
      return err(
        status === 401 ? "REGISTRY_UNAUTHORIZED" : "REGISTRY_DENIED",
        `${DENIED_PREFIX}${detail}${req}`,
      );
    }
    if (status === 404) {
      if (what === "name") {
        return err("NAME_UNKNOWN", `repository name not known to registry: ${detail}${req}`);
      }
      if (what === "blob" || code0 === "BLOB_UNKNOWN") {
        return err("BLOB_UNKNOWN", `blob unknown: ${detail}${req}`);
      }
      return err("MANIFEST_UNKNOWN", `manifest unknown: ${detail}${req}`);
    }
    if (status === 429) return err("RATE_LIMITED", `toomanyrequests: ${detail}${req}`);
    if (status >= 500) return err("REGISTRY_UNAVAILABLE", `registry unavailable: ${detail}${req}`);
    return err("REGISTRY_ERROR", `unexpected status from registry: ${detail}${req}`);
  }
}

// distribution/reference grammar: path components and tags (regexp.go). Checked here so no
// caller can put `..`, `?` or `#` into a request path.
const COMPONENT = "[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*";
const REPO_RE = new RegExp(`^${COMPONENT}(?:/${COMPONENT})*$`);
const TAG_RE = /^[\w][\w.-]{0,127}$/;

function checkRepo(repo: string): void {
  if (repo.length > 255 || !REPO_RE.test(repo)) {
    throw new KimgError("REFERENCE_INVALID_FORMAT", "invalid reference format");
  }
}

const OCI_INDEX = "application/vnd.oci.image.index.v1+json";
/** One page of tags or repositories: Distribution's default page is 100 names, 1,000 at most; 16 MiB is ample. */
const MAX_LIST_PAGE_BYTES = 16 * 1024 * 1024;

/** `{"<key>": [strings]}` (a `null` list is empty, as Distribution sends for no tags). */
function listPage(body: Buffer, key: "tags" | "repositories", req: string): string[] {
  let o: unknown;
  try {
    o = JSON.parse(body.toString("utf8"));
  } catch {
    throw new KimgError("REGISTRY_ERROR", `${req}: the answer is not JSON`);
  }
  const list =
    typeof o === "object" && o !== null ? (o as Record<string, unknown>)[key] : undefined;
  if (list === null) return [];
  if (!Array.isArray(list) || !list.every((t) => typeof t === "string")) {
    throw new KimgError("REGISTRY_ERROR", `${req}: "${key}" is not a list of strings`);
  }
  return list as string[];
}

/**
 * The rel="next" target of RFC 8288 Link headers, resolved against the page's URL. Only the
 * registry's own origin is followed: its credentials go nowhere else.
 */
export function nextLink(values: readonly string[], base: URL): URL | undefined {
  for (const v of values) {
    for (const part of v.split(/,(?=\s*<)/)) {
      const m = /^\s*<([^>]*)>(.*)$/.exec(part);
      if (m === null) continue;
      const rel = /;\s*rel="?([^";]*)"?/i.exec(m[2] ?? "")?.[1] ?? "";
      if (!rel.split(/\s+/).includes("next")) continue;
      const next = new URL(m[1] ?? "", base);
      if (next.origin !== base.origin) {
        throw new KimgError(
          "REGISTRY_ERROR",
          `GET ${base.host}${base.pathname}: the next page is on another host (${next.host}); kimg follows pages on the registry only`,
        );
      }
      return next;
    }
  }
  return undefined;
}

/** A referrers answer: an image index whose manifests are descriptors (validated, capped). */
function referrersIndex(body: Buffer, req: string): ReferrersIndex {
  let o: unknown;
  try {
    o = JSON.parse(body.toString("utf8"));
  } catch {
    throw new KimgError("REGISTRY_ERROR", `${req}: the referrers answer is not JSON`);
  }
  const r = (typeof o === "object" && o !== null ? o : {}) as Record<string, unknown>;
  if (!Array.isArray(r.manifests)) {
    throw new KimgError("REGISTRY_ERROR", `${req}: the referrers answer has no "manifests" list`);
  }
  const manifests = r.manifests.map((d: unknown, i): ReferrerDescriptor => {
    const e = (typeof d === "object" && d !== null ? d : {}) as Record<string, unknown>;
    if (
      typeof e.mediaType !== "string" ||
      typeof e.digest !== "string" ||
      !isDigest(e.digest) ||
      typeof e.size !== "number" ||
      !Number.isSafeInteger(e.size) ||
      e.size < 0
    ) {
      throw new KimgError(
        "REGISTRY_ERROR",
        `${req}: manifests[${i}] is not a descriptor (mediaType, digest, size)`,
      );
    }
    const annotations =
      typeof e.annotations === "object" && e.annotations !== null
        ? Object.fromEntries(
            Object.entries(e.annotations).filter(
              (kv): kv is [string, string] => typeof kv[1] === "string",
            ),
          )
        : undefined;
    return {
      mediaType: e.mediaType,
      digest: e.digest as Digest,
      size: e.size,
      ...(typeof e.artifactType === "string" ? { artifactType: e.artifactType } : {}),
      ...(annotations !== undefined ? { annotations } : {}),
    };
  });
  return { schemaVersion: 2, mediaType: OCI_INDEX, manifests };
}

function checkDigest(digest: string): void {
  if (!isDigest(digest)) {
    throw new KimgError("DIGEST_INVALID_FORMAT", `invalid digest format: ${digest}`);
  }
}

/** `repository:NAME:pull,push` (containerd scope.go; docker push asks for both). */
function pushScope(repository: string): string {
  return `repository:${repository}:pull,push`;
}

/** A refusal on a push reads "push access denied", as docker says it. */
function pushError(e: KimgError): KimgError {
  if (!e.message.startsWith(DENIED_PREFIX)) return e;
  return new KimgError(
    e.code,
    `push access denied, repository does not exist or may require authorization: ${e.message.slice(DENIED_PREFIX.length)}`,
    { cause: e },
  );
}

function tooLarge(n: number): KimgError {
  return new KimgError("MANIFEST_TOO_LARGE", `rejecting ${n} byte manifest`);
}

/** `{"errors":[{code,message}]}` → `code: message` texts (distribution-spec "Error Codes"). */
function serverErrors(body: Buffer | undefined): { code: string; message: string; text: string }[] {
  if (body === undefined || body.length === 0) return [];
  try {
    const o = JSON.parse(body.toString("utf8")) as { errors?: unknown };
    if (!Array.isArray(o.errors)) return [];
    return o.errors.flatMap((e: unknown) => {
      if (typeof e !== "object" || e === null) return [];
      const r = e as Record<string, unknown>;
      const code = typeof r.code === "string" ? r.code : "";
      const msg = typeof r.message === "string" ? r.message : "";
      const text = [code.toLowerCase(), msg].filter((s) => s !== "").join(": ");
      return text === "" ? [] : [{ code, message: msg.slice(0, 500), text: text.slice(0, 500) }];
    });
  } catch {
    return [];
  }
}
