#!/usr/bin/env -S node --max-semi-space-size=1
// The `kimg` executable: runs the CLI on this process's arguments and streams.
//
// Shebang: `env -S` (GNU coreutils ≥ 8.30, BSD/macOS env) splits the flags. A 1 MiB V8
// young-generation semi-space (default 16 MiB) makes a pull's spent body chunks die young:
// peak RSS of an 8 × 64 MiB pull 135 → about 85 MiB (docs/performance.md "Pulling"); V8 reads
// this flag only at start-up, so it cannot be set below. `node dist/cli/bin.js` skips it.

import { setFlagsFromString } from "node:v8";

// Before anything loads undici (main and every command are imported dynamically below): V8
// compiles undici's llhttp WebAssembly with Liftoff and then re-compiles it with TurboFan in
// the background, and the process waits for that compile at exit (0.2–0.34 s and ~35 MiB per
// pull, docs/performance.md). Liftoff code parses HTTP fast enough: the parser is not where a
// pull spends its time. Only affects WebAssembly compiled after this line.
setFlagsFromString("--liftoff-only");

// `kimg parse - | head` closes our stdout early: that is the reader's choice, not an error.
process.stdout.on("error", (err: NodeJS.ErrnoException) => {
  if (err.code === "EPIPE") process.exit(process.exitCode ?? 0);
  throw err;
});

const { main } = await import("./main.ts");
process.exitCode = await main(process.argv.slice(2));
