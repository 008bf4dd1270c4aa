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

export function colorWanted(stream: { isTTY?: boolean }, env = process.env): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== "") return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== "0") return true;
  return stream.isTTY === true && env.TERM !== "dumb";
}
