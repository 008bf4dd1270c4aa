#!/usr/bin/env node
// The `kimg` executable: runs the CLI on this process's arguments and streams.

import { main } from "./main.ts";

// `kimg parse - | head` closes our stdout early: that is the reader's choice, not an error.
process.stdout.on("error", (err: NodeJS.ErrnoException) => {
  if (err.code === "EPIPE") process.exit(process.exitCode ?? 0);
  throw err;
});

process.exitCode = await main(process.argv.slice(2));
