// What a command needs from the process, passed in so tests can run commands in memory.

import type { ErrorCode } from "../core.ts";

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
  /**
   * Pulls and the store: the image is not there — manifest or blob unknown to the registry,
   * no entry for the wanted platform, no such image in the store, or pull policy Never and the
   * image absent (ErrImageNeverPull).
   */
  NOT_FOUND: 3,
  /** The registry refused access (401 after authenticating, 403), or registries.conf blocks it. */
  UNAUTHORIZED: 4,
  /** The registry could not be reached or misbehaved: connection errors, 5xx, 429, protocol errors. */
  NETWORK: 5,
  /**
   * Content failed verification: a digest or size mismatch, an invalid or oversized manifest or
   * config, layers that do not match the config, a corrupt store.
   */
  VERIFY: 6,
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

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/**
 * The exit code of each error code (see EXIT). A Record, not a switch with a default: a new
 * ErrorCode does not compile until it is given its exit code here.
 */
export const EXIT_CODE_OF: Readonly<Record<ErrorCode, ExitCode>> = {
  REFERENCE_INVALID_FORMAT: EXIT.INVALID,
  TAG_INVALID_FORMAT: EXIT.INVALID,
  DIGEST_INVALID_FORMAT: EXIT.INVALID,
  NAME_CONTAINS_UPPERCASE: EXIT.INVALID,
  NAME_EMPTY: EXIT.INVALID,
  NAME_TOO_LONG: EXIT.INVALID,
  NAME_NOT_CANONICAL: EXIT.INVALID,
  NAME_IS_IDENTIFIER: EXIT.INVALID,
  REPOSITORY_NOT_LOWERCASE: EXIT.INVALID,
  DIGEST_CHECKSUM_FORMAT: EXIT.INVALID,
  DIGEST_CHECKSUM_LENGTH: EXIT.INVALID,
  DIGEST_UNSUPPORTED: EXIT.INVALID,
  BAD_PATTERN: EXIT.INVALID,
  INPUT_UNREADABLE: EXIT.UNREADABLE,
  INPUT_INVALID: EXIT.UNREADABLE,
  INVALID_MANIFEST: EXIT.VERIFY,
  INVALID_CONFIG: EXIT.VERIFY,
  UNSUPPORTED_MEDIA_TYPE: EXIT.VERIFY,
  MANIFEST_TOO_LARGE: EXIT.VERIFY,
  INVALID_PLATFORM: EXIT.UNREADABLE,
  PLATFORM_NOT_FOUND: EXIT.NOT_FOUND,
  LAYER_COUNT_MISMATCH: EXIT.VERIFY,
  UNSAFE_PATH: EXIT.VERIFY,
  DIGEST_MISMATCH: EXIT.VERIFY,
  SIZE_MISMATCH: EXIT.VERIFY,
  BLOB_NOT_FOUND: EXIT.NOT_FOUND,
  STORE_NOT_FOUND: EXIT.UNREADABLE,
  STORE_CORRUPT: EXIT.VERIFY,
  STORE_VERSION_UNSUPPORTED: EXIT.INVALID,
  WRITER_CLOSED: EXIT.INTERNAL,
  ABORTED: EXIT.INVALID,
  REGISTRY_UNAUTHORIZED: EXIT.UNAUTHORIZED,
  REGISTRY_DENIED: EXIT.UNAUTHORIZED,
  MANIFEST_UNKNOWN: EXIT.NOT_FOUND,
  BLOB_UNKNOWN: EXIT.NOT_FOUND,
  NAME_UNKNOWN: EXIT.NOT_FOUND,
  REGISTRY_UNAVAILABLE: EXIT.NETWORK,
  RATE_LIMITED: EXIT.NETWORK,
  REGISTRY_ERROR: EXIT.NETWORK,
  REGISTRIES_CONF_INVALID: EXIT.UNREADABLE,
  REGISTRY_BLOCKED: EXIT.UNAUTHORIZED,
  CREDENTIALS_INVALID: EXIT.UNREADABLE,
  CREDENTIAL_HELPER_FAILED: EXIT.INVALID,
  ERR_IMAGE_NEVER_PULL: EXIT.NOT_FOUND,
  IMAGE_NOT_FOUND: EXIT.NOT_FOUND,
  UNPACK_LIMIT: EXIT.VERIFY,
  LAYER_INVALID: EXIT.VERIFY,
  PULL_QPS_EXCEEDED: EXIT.NETWORK,
};

/** The exit code for a KimgError's code; a code kimg does not know is a bug (INTERNAL). */
export function exitCodeFor(code: ErrorCode): ExitCode {
  return EXIT_CODE_OF[code] ?? EXIT.INTERNAL;
}
