// What a command needs from the process, passed in so tests can run commands in memory.

export interface CliIO {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  readonly stdin: NodeJS.ReadableStream;
  /** Colour output (a TTY without NO_COLOR, or FORCE_COLOR). */
  readonly color: boolean;
}

/** Exit codes, one meaning each (documented in the README). */
export const EXIT = {
  OK: 0,
  /** Some input is invalid: a reference that does not parse, a manifest that fails validation. */
  INVALID: 1,
  /** Input could not be read at all (missing file, YAML syntax), or the command line is wrong. */
  UNREADABLE: 2,
  /** A bug in kimg: the message says so; `--debug` prints the stack. */
  INTERNAL: 70,
} as const;

/**
 * Colour on a terminal unless NO_COLOR is set (no-color.org: any non-empty value); FORCE_COLOR
 * overrides the terminal check as in Node itself: "0" or "false" turns colour off, any other
 * value (the empty string included) turns it on.
 */
export function colorWanted(stream: { isTTY?: boolean }, env = process.env): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== "") return false;
  const force = env.FORCE_COLOR;
  if (force !== undefined) return force !== "0" && force !== "false";
  return stream.isTTY === true && env.TERM !== "dumb";
}
