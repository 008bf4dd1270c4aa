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
import { build } from "esbuild";

const importMetaUrl = (name) => ({
  define: { "import.meta.url": name },
  banner: { js: `var ${name} = require("node:url").pathToFileURL(__filename).href;` },
});

await build({
  entryPoints: ["src/cli/main.ts"],
  outfile: "dist/bundle/kimg.cjs",
  bundle: true,
  platform: "node",
  format: "cjs",
  target: "node20",
  logLevel: "warning",
  // import.meta.url has no CommonJS form: the loader passes __filename, this turns it into a URL.
  ...importMetaUrl("__kimg_import_meta_url"),
  legalComments: "eof",
});

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
