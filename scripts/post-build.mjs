// After tsc: what `npm run build` must also do in a checkout.
// - npm sets the bin's mode on install, but `npm run build` in a checkout does not: make
//   dist/cli/bin.js and dist/cli/kimg.cjs (the bundled launcher, scripts/bundle.mjs)
//   executable so `./dist/cli/kimg.cjs` works too.
// - The web page's shared formatting: dist/format/format.js (import-free by design, see
//   src/format/format.ts) copied to web/lib/format.js, so `kimg ui` and `kimg pull` print the
//   same text from one source. web/lib/ is a build output (.gitignore).
import { chmodSync, copyFileSync, mkdirSync } from "node:fs";

chmodSync(new URL("../dist/cli/bin.js", import.meta.url), 0o755);
chmodSync(new URL("../dist/cli/kimg.cjs", import.meta.url), 0o755);
mkdirSync(new URL("../web/lib/", import.meta.url), { recursive: true });
copyFileSync(
  new URL("../dist/format/format.js", import.meta.url),
  new URL("../web/lib/format.js", import.meta.url),
);
