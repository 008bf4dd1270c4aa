// The page's static files: `web/` at the package root, found from this module's own location
// (dist/server/static.js or src/server/static.ts → ../../web), so an installed kimg serves them
// with no network. `GET /` is web/index.html with the run's token filled in; `/assets/<path>`
// is web/<path>. Content types by extension, ETag + If-None-Match, no directory listings, no
// dot files, nothing outside web/.

import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { readFile, realpath, stat } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import { dirname, extname, join, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";

/** `web/` of the package this module belongs to. */
export function defaultWebDir(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), "../../web");
}

/** The placeholder index.html carries where the token goes (`<meta name="kimg-token" …>`). */
export const TOKEN_PLACEHOLDER = "__KIMG_TOKEN__";

const TYPES: Readonly<Record<string, string>> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".jpeg": "image/jpeg",
  ".gif": "image/gif",
  ".webp": "image/webp",
  ".ico": "image/x-icon",
  ".txt": "text/plain; charset=utf-8",
  ".woff": "font/woff",
  ".woff2": "font/woff2",
  ".yaml": "text/yaml; charset=utf-8",
};

export function contentTypeOf(path: string): string {
  return TYPES[extname(path).toLowerCase()] ?? "application/octet-stream";
}

function etagOf(size: number, mtimeMs: number, extra = ""): string {
  const h = createHash("sha256").update(`${size}:${mtimeMs}:${extra}`).digest("base64url");
  return `"${h.slice(0, 27)}"`;
}

function notModified(req: IncomingMessage, etag: string): boolean {
  const inm = req.headers["if-none-match"];
  if (inm === undefined) return false;
  return inm
    .split(",")
    .map((t) => t.trim().replace(/^W\//, ""))
    .some((t) => t === etag || t === "*");
}

export class StaticFiles {
  readonly #dir: string;
  #realDir: string | undefined;

  constructor(dir: string) {
    this.#dir = resolve(dir);
  }

  async #root(): Promise<string> {
    this.#realDir ??= await realpath(this.#dir);
    return this.#realDir;
  }

  /**
   * The file under web/ for a URL path below /assets/ (already without the prefix), or
   * null when the path is not a plain relative file path inside the directory.
   */
  async #resolve(rel: string): Promise<{ path: string; size: number; mtimeMs: number } | null> {
    let decoded: string;
    try {
      decoded = decodeURIComponent(rel);
    } catch {
      return null;
    }
    const segments = decoded.split("/");
    if (
      decoded === "" ||
      decoded.includes("\\") ||
      decoded.includes("\0") ||
      segments.some((s) => s === "" || s.startsWith("."))
    ) {
      return null;
    }
    let root: string;
    try {
      root = await this.#root();
    } catch {
      return null;
    }
    try {
      // Symlinks are followed only when they stay inside web/.
      const path = await realpath(join(root, ...segments));
      if (!path.startsWith(root + sep)) return null;
      const st = await stat(path);
      if (!st.isFile()) return null; // directories: no listing
      return { path, size: st.size, mtimeMs: st.mtimeMs };
    } catch {
      return null;
    }
  }

  /** Serves web/<rel>; false when there is no such file (the caller answers 404). */
  async serveAsset(req: IncomingMessage, res: ServerResponse, rel: string): Promise<boolean> {
    const f = await this.#resolve(rel);
    if (f === null) return false;
    const etag = etagOf(f.size, f.mtimeMs);
    const headers = { ETag: etag, "Cache-Control": "no-cache" };
    if (notModified(req, etag)) {
      res.writeHead(304, headers);
      res.end();
      return true;
    }
    res.writeHead(200, {
      ...headers,
      "Content-Type": contentTypeOf(f.path),
      "Content-Length": f.size,
    });
    if (req.method === "HEAD") {
      res.end();
      return true;
    }
    await new Promise<void>((ok) => {
      const s = createReadStream(f.path);
      s.on("error", () => {
        res.destroy();
        ok();
      });
      s.on("end", ok);
      s.pipe(res);
    });
    return true;
  }

  /** web/index.html with the token filled in; false when the page is missing. */
  async servePage(req: IncomingMessage, res: ServerResponse, token: string): Promise<boolean> {
    const f = await this.#resolve("index.html");
    if (f === null) return false;
    const etag = etagOf(f.size, f.mtimeMs, token);
    const headers = { ETag: etag, "Cache-Control": "no-cache" };
    if (notModified(req, etag)) {
      res.writeHead(304, headers);
      res.end();
      return true;
    }
    const html = (await readFile(f.path, "utf8")).replaceAll(TOKEN_PLACEHOLDER, token);
    res.writeHead(200, {
      ...headers,
      "Content-Type": TYPES[".html"] ?? "text/html",
      "Content-Length": Buffer.byteLength(html),
    });
    res.end(req.method === "HEAD" ? undefined : html);
    return true;
  }
}
