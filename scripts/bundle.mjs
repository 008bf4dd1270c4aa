// The bundled CLI (issue 13, start-up): src/cli/main.ts and everything it imports, npm
// dependencies included, as one CommonJS file, dist/bundle/kimg.cjs. dist/cli/bin.js loads it
// through V8's code cache (see src/cli/bin.ts), so a run parses and compiles what the last runs
// compiled only once, instead of Node resolving, reading and compiling about 110 ES modules
// and CommonJS files each time (docs/performance.md "Start-up").
//
// CommonJS, not ESM with splitting: vm.Script can take a code cache for a script, and Node 20
// has no code cache for ES modules (module.enableCompileCache is Node 22). esbuild turns each
// `await import("./x.ts")` into a lazy init of x's code, so a command's modules still run only
// when it does. The file sits two levels below the package root, like dist/server/static.js,
// so `import.meta.url`-relative paths (../../web) resolve the same.
//
// The launcher, dist/cli/kimg.cjs (package.json "bin"), is src/cli/bin.ts as CommonJS too:
// an ES module entry makes Node load its ESM loader first (about ten internal modules).
import { readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { build } from "esbuild";

const importMetaUrl = (name) => ({
  define: { "import.meta.url": name },
  banner: { js: `var ${name} = require("node:url").pathToFileURL(__filename).href;` },
});

// Node builtins that most runs never use, or use only after start-up, are required on first
// use instead of when the bundle loads: each builtin Node compiles costs start-up time
// (`kimg pull` of an up-to-date image loaded 86 of them; http2 alone is four, and kimg never
// speaks HTTP/2). The bundle gets a stand-in per builtin: a Proxy that requires the real one
// when a property is read or it is called. esbuild keeps `(0, x.name)(…)` property reads at
// each use, so `import { spawn } from "node:child_process"` stays lazy; a module that
// destructures at its top level just loads the builtin then, as before.
const LAZY_BUILTINS = [
  "assert",
  "child_process",
  "crypto",
  "http",
  "http2",
  "perf_hooks",
  "tls",
  "worker_threads",
  "zlib",
];
// undici's core/util.js takes IncomingMessage from node:http when it loads, only to compare a
// body's constructor with it; read at that comparison instead, node:http (eight modules) loads
// only if a command uses it. The build fails if undici's text changes.
const UNDICI_UTIL = /node_modules[\\/]undici[\\/]lib[\\/]core[\\/]util\.js$/;
const undiciLazyHttp = {
  name: "undici-lazy-http",
  setup(b) {
    b.onLoad({ filter: UNDICI_UTIL }, (args) => {
      const text = readFileSync(args.path, "utf8");
      const decl = "const { IncomingMessage } = require('node:http')\n";
      const use = "=== IncomingMessage";
      if (!text.includes(decl) || text.split(use).length !== 2) {
        throw new Error(`${args.path}: IncomingMessage is used differently; revisit the patch`);
      }
      return {
        loader: "js",
        contents: text.replace(decl, "").replace(use, "=== require('node:http').IncomingMessage"),
      };
    });
  },
};

const lazyBuiltins = {
  name: "lazy-builtins",
  setup(b) {
    const filter = new RegExp(`^(node:)?(${LAZY_BUILTINS.join("|")})$`);
    b.onResolve({ filter }, (args) =>
      // The stand-in's own require is of the real builtin.
      args.namespace === "lazy-builtin"
        ? { path: args.path, external: true }
        : { path: args.path.replace(/^node:/, ""), namespace: "lazy-builtin" },
    );
    b.onLoad({ filter: /.*/, namespace: "lazy-builtin" }, (args) => ({
      loader: "js",
      contents: lazyBuiltinSource(args.path),
    }));
  },
};

/**
 * The stand-in for builtin `name`: an object (or, for a function module such as assert, an
 * arrow function) with a getter per export that requires the real module on first read. The
 * export names come from this Node at build time, so esbuild's `__toESM` can copy them
 * without loading anything; a name a newer Node added is found through the Proxy's `get`.
 */
function lazyBuiltinSource(name) {
  const real = createRequire(import.meta.url)(`node:${name}`);
  const keys = Object.keys(real).filter((k) => k !== "default");
  return `"use strict";
let real;
const load = () => (real ??= require("node:${name}"));
const target = ${typeof real === "function" ? "(...args) => load()(...args)" : "{}"};
${
  // undici's HTTP/2 client reads http2.constants when it loads; they are plain numbers and
  // strings, so the stand-in carries them and node:http2 (four modules) never loads.
  name === "http2"
    ? `Object.defineProperty(target, "constants", { value: ${JSON.stringify(real.constants)}, enumerable: true });`
    : ""
}
for (const k of ${JSON.stringify(name === "http2" ? keys.filter((k) => k !== "constants") : keys)}) {
  Object.defineProperty(target, k, { get: () => load()[k], enumerable: true, configurable: true });
}
module.exports = new Proxy(target, {
  get: (t, k) => (k in t || k === "__esModule" ? t[k] : load()[k]),
});
`;
}

await build({
  plugins: [lazyBuiltins, undiciLazyHttp],
  entryPoints: ["src/cli/main.ts"],
  outfile: "dist/bundle/kimg.cjs",
  bundle: true,
  platform: "node",
  format: "cjs",
  target: "node20",
  logLevel: "warning",
  // import.meta.url has no CommonJS form: the loader passes __filename, this turns it into a URL.
  ...importMetaUrl("__kimg_import_meta_url"),
  // The licences go next to the bundle (kimg.cjs.LEGAL.txt), which stays ASCII.
  legalComments: "external",
  // Whitespace and syntax only, names kept (stack traces under --debug stay readable): a
  // smaller file to read, decode and check against the code cache on every run.
  minifyWhitespace: true,
  minifySyntax: true,
});

// The launcher decodes the bundle as latin1 (src/cli/bin.ts): that is right only for ASCII.
// esbuild escapes non-ASCII in code (charset ascii, its default); this guards the rest.
const bundled = readFileSync("dist/bundle/kimg.cjs");
const wide = bundled.findIndex((b) => b > 0x7f);
if (wide !== -1) {
  const at = bundled.subarray(Math.max(0, wide - 40), wide + 20).toString("utf8");
  throw new Error(`dist/bundle/kimg.cjs is not ASCII at byte ${wide}: …${at}…`);
}

const launcher = "dist/cli/kimg.cjs";
await build({
  entryPoints: ["src/cli/bin.ts"],
  outfile: launcher,
  bundle: false,
  platform: "node",
  format: "cjs",
  target: "node20",
  logLevel: "warning",
  ...importMetaUrl("__kimg_bin_url"),
});
// Its fallback (no bundle) imports main from tsc's output, next to it.
const text = readFileSync(launcher, "utf8");
if (!text.includes('import("./main.ts")')) throw new Error(`${launcher}: no main.ts import`);
writeFileSync(launcher, text.replace('import("./main.ts")', 'import("./main.js")'));
