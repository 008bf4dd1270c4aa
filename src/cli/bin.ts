#!/usr/bin/env -S node --max-semi-space-size=1 --liftoff-only
// The `kimg` executable: runs the CLI on this process's arguments and streams.
//
// Shebang: `env -S` (GNU coreutils ≥ 8.30, BSD/macOS env) splits the flags. A 1 MiB V8
// young-generation semi-space (default 16 MiB) makes a pull's spent body chunks die young:
// peak RSS of an 8 × 64 MiB pull 135 → about 85 MiB (docs/performance.md "Pulling"); V8 reads
// this flag only at start-up, so it cannot be set below. `node dist/cli/bin.js` skips it.
//
// Start-up (docs/performance.md "Start-up"): the CLI runs from the bundle that `npm run build`
// makes (dist/bundle/kimg.cjs, scripts/bundle.mjs), compiled with V8's code cache. The cache
// is written after a run whose command the cache has not seen yet, under
// `$KIMG_COMPILE_CACHE_DIR`, else `$XDG_CACHE_HOME/kimg`, else `~/.cache/kimg` (mode 0700),
// named by Node's version, its flags and the bundle's size and mtime, so a rebuilt bundle or
// another Node never reads a stale one; V8 itself rejects a cache that does not match and the
// CLI then compiles as usual. This is what Node 22's module.enableCompileCache does; Node 20
// has none. `KIMG_COMPILE_CACHE=0` turns it off. Without the bundle (running src/ through tsx)
// main.ts is imported directly.

import {
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from "node:fs";
import { createRequire } from "node:module";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Script } from "node:vm";

// --liftoff-only (in the shebang, or set here for `node kimg.cjs`), before anything loads
// undici: V8 compiles undici's llhttp WebAssembly with Liftoff and then re-compiles it with
// TurboFan in the background, and the process waits for that compile at exit (0.2–0.34 s and
// ~35 MiB per pull, docs/performance.md). Liftoff code parses HTTP fast enough: the parser is
// not where a pull spends its time. Only affects WebAssembly compiled after it is set. In the
// shebang it costs nothing; node:v8 costs about 1 ms to load.
if (!process.execArgv.includes("--liftoff-only")) {
  createRequire(import.meta.url)("node:v8").setFlagsFromString("--liftoff-only");
}

// `kimg parse - | head` closes our stdout early: that is the reader's choice, not an error.
process.stdout.on("error", (err: NodeJS.ErrnoException) => {
  if (err.code === "EPIPE") process.exit(process.exitCode ?? 0);
  throw err;
});

type Main = (argv: string[]) => Promise<number>;

const argv = process.argv.slice(2);
const loaded = loadBundle();
// No top-level await: this file is also built as a CommonJS launcher (scripts/bundle.mjs).
const run =
  loaded === undefined
    ? import("./main.ts").then(({ main }) => main(argv))
    : loaded.main(argv).then((code) => {
        loaded.saveCache();
        return code;
      });
void run.then((code) => {
  process.exitCode = code;
});

/** The bundled CLI compiled with the code cache, or undefined when there is no bundle. */
function loadBundle(): { main: Main; saveCache: () => void } | undefined {
  const file = fileURLToPath(new URL("../bundle/kimg.cjs", import.meta.url));
  let source: string;
  let stamp: string;
  try {
    // The bundle is ASCII (scripts/bundle.mjs checks), so latin1 decodes it: about half the
    // time of a UTF-8 decode, into the one-byte string V8 wants anyway.
    source = readFileSync(file).toString("latin1");
    const st = statSync(file);
    stamp = `${st.size}-${Math.trunc(st.mtimeMs)}`;
  } catch {
    return undefined;
  }
  const cache = cachePaths(stamp);
  const cached = cache === undefined ? undefined : readOrUndefined(cache.data);
  // The same wrapper Node gives a CommonJS module.
  const script = new Script(
    `(function (exports, require, module, __filename, __dirname) {${source}\n})`,
    { filename: file, ...(cached !== undefined ? { cachedData: cached } : {}) },
  );
  const module = { exports: {} as { main?: Main } };
  (script.runInThisContext() as (...a: unknown[]) => void).call(
    module.exports,
    module.exports,
    createRequire(file),
    module,
    file,
    dirname(file),
  );
  const main = module.exports.main as Main;
  const command = argv.find((a) => !a.startsWith("-")) ?? "-";
  return {
    main,
    saveCache: () => {
      if (cache === undefined) return;
      const seen = (readOrUndefined(cache.seen)?.toString("utf8") ?? "").split("\n");
      const fresh = cached === undefined || script.cachedDataRejected === true;
      if (!fresh && seen.includes(command)) return;
      writeCache(cache, script.createCachedData(), fresh ? [command] : [...seen, command]);
      if (fresh) pruneCaches(cache);
    },
  };
}

interface CachePaths {
  readonly dir: string;
  readonly data: string;
  readonly seen: string;
}

function cachePaths(stamp: string): CachePaths | undefined {
  const env = process.env;
  if (env.KIMG_COMPILE_CACHE === "0") return undefined;
  const home = env.HOME ?? "";
  const dir =
    env.KIMG_COMPILE_CACHE_DIR ||
    (env.XDG_CACHE_HOME
      ? join(env.XDG_CACHE_HOME, "kimg")
      : home
        ? join(home, ".cache", "kimg")
        : "");
  if (dir === "") return undefined;
  const key = fnv1a(`${process.version}|${process.arch}|${process.execArgv.join(" ")}|${stamp}`);
  return { dir, data: join(dir, `cli-${key}.v8cache`), seen: join(dir, `cli-${key}.commands`) };
}

function readOrUndefined(path: string): Buffer | undefined {
  try {
    return readFileSync(path);
  } catch {
    return undefined;
  }
}

/** Best effort: a cache that cannot be written only costs the next run its compile time. */
function writeCache(cache: CachePaths, data: Buffer, commands: string[]): void {
  try {
    mkdirSync(cache.dir, { recursive: true, mode: 0o700 });
    for (const [path, bytes] of [
      [cache.data, data],
      [cache.seen, commands.join("\n")],
    ] as const) {
      const tmp = `${path}.${process.pid}.tmp`;
      writeFileSync(tmp, bytes, { mode: 0o600 });
      renameSync(tmp, path);
    }
  } catch {
    // A read-only or full file system: the next run compiles as usual.
  }
}

/** Caches of other builds or Nodes untouched for a day go when a new cache is written. */
const STALE_CACHE_MS = 24 * 60 * 60 * 1000;

/** Best effort: each rebuilt bundle has a new key, so without this old caches pile up. */
function pruneCaches(cache: CachePaths): void {
  try {
    const keep = new Set([basename(cache.data), basename(cache.seen)]);
    const now = Date.now();
    for (const name of readdirSync(cache.dir)) {
      if (!/^cli-[0-9a-f]{8}\.(v8cache|commands)$/.test(name) || keep.has(name)) continue;
      const path = join(cache.dir, name);
      if (now - statSync(path).mtimeMs > STALE_CACHE_MS) unlinkSync(path);
    }
  } catch {
    // Another run pruned first, or the directory is read-only.
  }
}

/** 32-bit FNV-1a, in hex: a short, stable file name for the cache key. */
function fnv1a(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, "0");
}
