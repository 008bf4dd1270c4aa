// kimg serve, part 1: the store as a read-only OCI registry (distribution-spec spec.md, the
// "Pull" and "Content Discovery" categories):
// - `GET /v2/` 200 with `Docker-Distribution-API-Version: registry/2.0`.
// - `HEAD`/`GET /v2/NAME/manifests/REF` by tag or digest: the stored bytes, their media type
//   (the record's, else the document's own `mediaType`), `Docker-Content-Digest`, `ETag`.
// - `HEAD`/`GET /v2/NAME/blobs/DIGEST`: streamed from the blob file (never buffered), `Range:
//   bytes=A-B` → 206 with `Content-Range`, unsatisfiable → 416, `ETag` and
//   `Accept-Ranges: bytes`.
// - `GET /v2/NAME/tags/list` and `/v2/_catalog` with `n`/`last` and `Link: <…>; rel="next"`,
//   in lexical order as the spec asks.
// - `GET /v2/NAME/referrers/DIGEST`: an image index (the store keeps no referrers yet: empty).
// - Errors in the spec's JSON (`{"errors":[{"code","message","detail"}]}`) with its codes;
//   writes answer 405 UNSUPPORTED.
// What a repository holds is what the store's image records say. NAME is a record's
// repository path (`library/nginx`), as a client configured with kimg serve as a mirror asks
// for it: containerd adds `?ns=HOST` for the registry it stands in for (hosts.toml mirrors),
// and without it every registry's images of that path match. A digest is served only when a
// record of that repository needs it (`blobs`), so one repository's content is not readable
// through another's name.

import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import {
  type FsBlobStore,
  type ImageRecord,
  isDigest,
  parseManifestOrIndex,
  parseNormalizedNamed,
} from "../index.ts";

export interface RegistryHandlerOptions {
  readonly store: FsBlobStore;
  /** Called once per answered request (access log, metrics). */
  readonly onAnswered?: ((a: Answered) => void) | undefined;
}

export interface Answered {
  readonly method: string;
  readonly path: string;
  readonly status: number;
  readonly bytes: number;
  readonly remote: string;
  readonly userAgent: string;
  readonly ms: number;
}

const NAME = "[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*";
const MANIFEST_RE = new RegExp(`^/v2/(${NAME})/manifests/([^/]+)$`);
const BLOB_RE = new RegExp(`^/v2/(${NAME})/blobs/([^/]+)$`);
const TAGS_RE = new RegExp(`^/v2/(${NAME})/tags/list$`);
const REFERRERS_RE = new RegExp(`^/v2/(${NAME})/referrers/([^/]+)$`);
const OCI_INDEX = "application/vnd.oci.image.index.v1+json";
/** Page size when the client does not ask (`n`), and the most it may ask for. */
const DEFAULT_PAGE = 1000;
const MAX_PAGE = 10_000;

class RegistryError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly detail?: unknown,
  ) {
    super(message);
  }
}

function sendError(res: ServerResponse, e: RegistryError, head: boolean): number {
  const body = JSON.stringify({
    errors: [
      { code: e.code, message: e.message, ...(e.detail !== undefined ? { detail: e.detail } : {}) },
    ],
  });
  res.writeHead(e.status, {
    "Content-Type": "application/json; charset=utf-8",
    "Content-Length": Buffer.byteLength(body),
    "Docker-Distribution-API-Version": "registry/2.0",
  });
  res.end(head ? undefined : body);
  return head ? 0 : Buffer.byteLength(body);
}

/** The records of repository `name` (`host/path`, or `path` with `ns` or any host). */
async function recordsOf(
  store: FsBlobStore,
  name: string,
  ns: string | null,
): Promise<ImageRecord[]> {
  const all = await store.listImages();
  return all.filter((r) => {
    let ref: ReturnType<typeof parseNormalizedNamed>;
    try {
      ref = parseNormalizedNamed(r.name);
    } catch {
      return false;
    }
    if (`${ref.domain}/${ref.path}` === name) return true;
    return ref.path === name && (ns === null || ns === "" || ns === ref.domain);
  });
}

function tagOf(r: ImageRecord): string | undefined {
  const at = r.name.indexOf("@");
  const noDigest = at === -1 ? r.name : r.name.slice(0, at);
  const slash = noDigest.lastIndexOf("/");
  const colon = noDigest.lastIndexOf(":");
  return colon > slash ? noDigest.slice(colon + 1) : undefined;
}

function page(
  items: readonly string[],
  url: URL,
  key: string,
  extra: Record<string, unknown>,
  res: ServerResponse,
): number {
  const sorted = [...new Set(items)].sort();
  const nText = url.searchParams.get("n");
  const n = nText === null ? DEFAULT_PAGE : Number(nText);
  if (!Number.isSafeInteger(n) || n < 0 || n > MAX_PAGE) {
    throw new RegistryError(
      400,
      "PAGINATION_NUMBER_INVALID",
      `invalid number of results requested: n=${nText}`,
    );
  }
  const last = url.searchParams.get("last");
  const rest = last === null ? sorted : sorted.filter((t) => t > last);
  const out = rest.slice(0, n);
  const headers: Record<string, string | number> = {
    "Content-Type": "application/json; charset=utf-8",
    "Docker-Distribution-API-Version": "registry/2.0",
  };
  if (rest.length > out.length && out.length > 0) {
    const next = new URLSearchParams({ n: String(n), last: out[out.length - 1] ?? "" });
    headers.Link = `<${url.pathname}?${next}>; rel="next"`;
  }
  const body = JSON.stringify({ ...extra, [key]: out });
  headers["Content-Length"] = Buffer.byteLength(body);
  res.writeHead(200, headers);
  res.end(body);
  return Buffer.byteLength(body);
}

/** The request handler: answers every request, errors included; never throws. */
export function registryHandler(opts: RegistryHandlerOptions) {
  const { store } = opts;
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const started = performance.now();
    const method = req.method ?? "GET";
    const head = method === "HEAD";
    let url: URL;
    try {
      url = new URL(req.url ?? "/", "http://kimg.invalid");
    } catch {
      url = new URL("http://kimg.invalid/");
    }
    let bytes = 0;
    try {
      bytes = await route(url, method, head, req, res);
    } catch (e) {
      const err =
        e instanceof RegistryError
          ? e
          : new RegistryError(500, "UNKNOWN", "internal error", undefined);
      if (!(e instanceof RegistryError))
        process.stderr.write(`kimg serve: ${method} ${url.pathname}: ${(e as Error).message}\n`);
      if (res.headersSent) res.destroy();
      else bytes = sendError(res, err, head);
    }
    opts.onAnswered?.({
      method,
      path: url.pathname + url.search,
      status: res.statusCode,
      bytes,
      remote: req.socket.remoteAddress ?? "-",
      userAgent: String(req.headers["user-agent"] ?? "-"),
      ms: performance.now() - started,
    });
  };

  async function route(
    url: URL,
    method: string,
    head: boolean,
    req: IncomingMessage,
    res: ServerResponse,
  ): Promise<number> {
    const path = url.pathname;
    if (!path.startsWith("/v2")) throw new RegistryError(404, "NOT_FOUND", `not found: ${path}`);
    if (method !== "GET" && method !== "HEAD") {
      throw new RegistryError(
        405,
        "UNSUPPORTED",
        `kimg serve is read-only: ${method} is not supported`,
      );
    }
    if (path === "/v2/" || path === "/v2") {
      const body = "{}";
      res.writeHead(200, {
        "Content-Type": "application/json; charset=utf-8",
        "Content-Length": 2,
        "Docker-Distribution-API-Version": "registry/2.0",
      });
      res.end(head ? undefined : body);
      return head ? 0 : 2;
    }
    const ns = url.searchParams.get("ns");
    if (path === "/v2/_catalog") {
      const names = new Set<string>();
      for (const r of await store.listImages()) {
        try {
          const ref = parseNormalizedNamed(r.name);
          if (ns === null || ns === "" || ns === ref.domain) names.add(ref.path);
        } catch {
          // an unreadable name is not listed
        }
      }
      return page([...names], url, "repositories", {}, res);
    }
    let m = TAGS_RE.exec(path);
    if (m !== null) {
      const name = m[1] ?? "";
      const recs = await recordsOf(store, name, ns);
      if (recs.length === 0)
        throw new RegistryError(404, "NAME_UNKNOWN", "repository name not known to registry", {
          name,
        });
      const tags = recs.map(tagOf).filter((t): t is string => t !== undefined);
      return page(tags, url, "tags", { name }, res);
    }
    m = MANIFEST_RE.exec(path);
    if (m !== null) return manifest(m[1] ?? "", decodeURIComponent(m[2] ?? ""), ns, head, res);
    m = BLOB_RE.exec(path);
    if (m !== null) return blob(m[1] ?? "", m[2] ?? "", ns, head, req, res);
    m = REFERRERS_RE.exec(path);
    if (m !== null) {
      if (!isDigest(m[2] ?? ""))
        throw new RegistryError(400, "DIGEST_INVALID", "invalid digest", { digest: m[2] });
      const body = JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [] });
      res.writeHead(200, { "Content-Type": OCI_INDEX, "Content-Length": Buffer.byteLength(body) });
      res.end(head ? undefined : body);
      return head ? 0 : Buffer.byteLength(body);
    }
    throw new RegistryError(404, "NOT_FOUND", `not found: ${path}`);
  }

  async function manifest(
    name: string,
    reference: string,
    ns: string | null,
    head: boolean,
    res: ServerResponse,
  ): Promise<number> {
    const recs = await recordsOf(store, name, ns);
    if (recs.length === 0)
      throw new RegistryError(404, "NAME_UNKNOWN", "repository name not known to registry", {
        name,
      });
    let digest: string;
    let mediaType: string | undefined;
    if (reference.includes(":")) {
      if (!isDigest(reference))
        throw new RegistryError(400, "DIGEST_INVALID", "invalid digest", { digest: reference });
      if (!recs.some((r) => r.blobs.includes(reference))) {
        throw new RegistryError(404, "MANIFEST_UNKNOWN", "manifest unknown", { digest: reference });
      }
      digest = reference;
      mediaType = recs.find((r) => r.target.digest === reference)?.target.mediaType;
    } else {
      const r = recs.find((x) => tagOf(x) === reference);
      if (r === undefined)
        throw new RegistryError(404, "MANIFEST_UNKNOWN", "manifest unknown", { tag: reference });
      digest = r.target.digest;
      mediaType = r.target.mediaType;
    }
    const bytes = await readSmall(digest);
    if (bytes === undefined)
      throw new RegistryError(404, "MANIFEST_UNKNOWN", "manifest unknown", { digest });
    if (mediaType === undefined || mediaType === "") {
      try {
        const doc = parseManifestOrIndex(bytes, { digest });
        mediaType = doc.kind === "index" ? doc.index.mediaType : doc.manifest.mediaType;
      } catch {
        // A digest the repository needs that is not a manifest (a layer): not a manifest.
        throw new RegistryError(404, "MANIFEST_UNKNOWN", "manifest unknown", { digest });
      }
    }
    res.writeHead(200, {
      "Content-Type": mediaType,
      "Content-Length": bytes.length,
      "Docker-Content-Digest": digest,
      ETag: `"${digest}"`,
      "Docker-Distribution-API-Version": "registry/2.0",
    });
    res.end(head ? undefined : bytes);
    return head ? 0 : bytes.length;
  }

  async function readSmall(digest: string): Promise<Buffer | undefined> {
    const info = await store.stat(digest);
    if (info === undefined || info.size > 4 * 1024 * 1024) return undefined;
    const s = await store.open(digest, { verify: true });
    const chunks: Buffer[] = [];
    for await (const c of s) chunks.push(c as Buffer);
    return Buffer.concat(chunks);
  }

  async function blob(
    name: string,
    digest: string,
    ns: string | null,
    head: boolean,
    req: IncomingMessage,
    res: ServerResponse,
  ): Promise<number> {
    if (!isDigest(digest))
      throw new RegistryError(400, "DIGEST_INVALID", "invalid digest", { digest });
    const recs = await recordsOf(store, name, ns);
    if (recs.length === 0)
      throw new RegistryError(404, "NAME_UNKNOWN", "repository name not known to registry", {
        name,
      });
    if (!recs.some((r) => r.blobs.includes(digest))) {
      throw new RegistryError(404, "BLOB_UNKNOWN", "blob unknown to registry", { digest });
    }
    const path = store.path(digest);
    let size: number;
    try {
      size = (await stat(path)).size;
    } catch {
      throw new RegistryError(404, "BLOB_UNKNOWN", "blob unknown to registry", { digest });
    }
    const headers: Record<string, string | number> = {
      "Content-Type": "application/octet-stream",
      "Docker-Content-Digest": digest,
      ETag: `"${digest}"`,
      "Accept-Ranges": "bytes",
      "Docker-Distribution-API-Version": "registry/2.0",
    };
    let start = 0;
    let end = size - 1;
    let status = 200;
    const range = req.headers.range;
    if (typeof range === "string" && range !== "") {
      const r = /^bytes=(\d*)-(\d*)$/.exec(range.trim());
      if (r === null || (r[1] === "" && r[2] === "")) {
        throw new RegistryError(416, "BLOB_UNKNOWN", "invalid Range", { range });
      }
      if (r[1] === "") {
        start = Math.max(0, size - Number(r[2]));
      } else {
        start = Number(r[1]);
        if (r[2] !== "") end = Math.min(end, Number(r[2]));
      }
      if (start >= size || start > end) {
        res.writeHead(416, { ...headers, "Content-Range": `bytes */${size}`, "Content-Length": 0 });
        res.end();
        return 0;
      }
      status = 206;
      headers["Content-Range"] = `bytes ${start}-${end}/${size}`;
    }
    headers["Content-Length"] = size === 0 ? 0 : end - start + 1;
    res.writeHead(status, headers);
    if (head || size === 0) {
      res.end();
      return 0;
    }
    const stream = createReadStream(path, { start, end, highWaterMark: 1 << 20 });
    let sent = 0;
    stream.on("data", (c) => {
      sent += (c as Buffer).length;
    });
    await new Promise<void>((resolve) => {
      stream.on("error", () => {
        res.destroy();
        resolve();
      });
      res.on("close", () => {
        stream.destroy();
        resolve();
      });
      stream.pipe(res);
    });
    return sent;
  }
}
