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

/** The exit code for a KimgError's code (see EXIT); unknown codes are INVALID. */
export function exitCodeFor(code: string | undefined): number {
  switch (code) {
    case "INPUT_INVALID":
    case "INPUT_UNREADABLE":
    case "REGISTRIES_CONF_INVALID":
    case "CREDENTIALS_INVALID": // a pull secret, config.json or auth.json that cannot be read
    case "INVALID_PLATFORM": // --platform as typed (issue 10 item 15)
    case "STORE_NOT_FOUND": // --store or $KIMG_STORE names no store (issue 10 item 4)
      return EXIT.UNREADABLE;
    case "MANIFEST_UNKNOWN":
    case "BLOB_UNKNOWN":
    case "BLOB_NOT_FOUND":
    case "PLATFORM_NOT_FOUND":
    case "IMAGE_NOT_FOUND":
    case "ERR_IMAGE_NEVER_PULL":
      return EXIT.NOT_FOUND;
    case "REGISTRY_UNAUTHORIZED":
    case "REGISTRY_DENIED":
    case "REGISTRY_BLOCKED":
      return EXIT.UNAUTHORIZED;
    case "REGISTRY_UNAVAILABLE":
    case "RATE_LIMITED":
    case "PULL_QPS_EXCEEDED":
    case "REGISTRY_ERROR":
      return EXIT.NETWORK;
    case "DIGEST_MISMATCH":
    case "SIZE_MISMATCH":
    case "INVALID_MANIFEST":
    case "INVALID_CONFIG":
    case "MANIFEST_TOO_LARGE":
    case "LAYER_COUNT_MISMATCH":
    case "UNSUPPORTED_MEDIA_TYPE":
    case "UNSAFE_PATH":
    case "UNPACK_LIMIT":
    case "LAYER_INVALID":
    case "STORE_CORRUPT":
      return EXIT.VERIFY;
    default:
      return EXIT.INVALID;
  }
}
