// npm sets the bin's mode on install, but `npm run build` in a checkout does not:
// make dist/cli/main.js executable so `./dist/cli/main.js` works too.
import { chmodSync } from "node:fs";
chmodSync(new URL("../dist/cli/main.js", import.meta.url), 0o755);
