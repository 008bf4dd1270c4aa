// npm sets the bin's mode on install, but `npm run build` in a checkout does not:
// make dist/cli/bin.js executable so `./dist/cli/bin.js` works too.
import { chmodSync } from "node:fs";

chmodSync(new URL("../dist/cli/bin.js", import.meta.url), 0o755);
