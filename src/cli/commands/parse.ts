// `kimg parse [REF…|-]`: each reference explained, one result per reference.

import { createInterface } from "node:readline";
import {
  ALL_DIGEST_ALGORITHMS,
  type DigestAlgorithm,
  explainImage,
  isDigestAlgorithm,
  KimgError,
  PARSE_MODES,
  type ParseMode,
} from "../../index.ts";
import { type CliIO, EXIT } from "../io.ts";
import { renderExplanation } from "../render/explanation.ts";
import { painter } from "../render/style.ts";

export interface ParseCommandOptions {
  readonly mode?: string;
  readonly digestAlgorithms?: string;
  readonly json?: boolean;
}

/** `--digest-algorithms sha256,sha512` → the list, or a usage error naming the bad entry. */
export function parseDigestAlgorithms(list: string | undefined): readonly DigestAlgorithm[] {
  if (list === undefined) return ALL_DIGEST_ALGORITHMS;
  const out: DigestAlgorithm[] = [];
  for (const raw of list.split(",")) {
    const a = raw.trim();
    if (!isDigestAlgorithm(a)) {
      throw new KimgError(
        "INPUT_INVALID",
        `--digest-algorithms: unknown algorithm ${JSON.stringify(a)} (known: ${ALL_DIGEST_ALGORITHMS.join(", ")})`,
      );
    }
    if (!out.includes(a)) out.push(a);
  }
  return out;
}

function parseMode(mode: string | undefined): ParseMode {
  const m = mode ?? "normalized";
  if (!(PARSE_MODES as readonly string[]).includes(m)) {
    throw new KimgError(
      "INPUT_INVALID",
      `--mode: unknown mode ${JSON.stringify(m)} (one of ${PARSE_MODES.join(", ")})`,
    );
  }
  return m as ParseMode;
}

async function* lines(stream: NodeJS.ReadableStream): AsyncGenerator<string> {
  const rl = createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY });
  for await (const line of rl) {
    // A trailing "\r" is not part of a reference; blank lines are skipped.
    const l = line.endsWith("\r") ? line.slice(0, -1) : line;
    if (l !== "") yield l;
  }
}

/** Output is gathered into chunks of about this size, and written with backpressure. */
const CHUNK = 64 * 1024;

export async function runParse(
  refs: readonly string[],
  opts: ParseCommandOptions,
  io: CliIO,
): Promise<number> {
  const mode = parseMode(opts.mode);
  const parseOpts = { digestAlgorithms: parseDigestAlgorithms(opts.digestAlgorithms) };
  const paint = painter(io.color);
  let invalid = 0;
  let first = true;
  let pending = "";
  // Waits for the reader when the stream's buffer is full, so memory stays bounded however
  // many references come in on standard input.
  const flush = async (): Promise<void> => {
    if (pending === "") return;
    const ok = io.stdout.write(pending);
    pending = "";
    if (!ok) await new Promise<void>((resolve) => io.stdout.once("drain", resolve));
  };
  const emit = async (ref: string): Promise<void> => {
    const e = explainImage(ref, mode, parseOpts);
    if (!e.valid) invalid++;
    pending +=
      opts.json === true
        ? `${JSON.stringify(e)}\n`
        : `${first ? "" : "\n"}${renderExplanation(e, paint)}\n`;
    first = false;
    if (pending.length >= CHUNK) await flush();
  };
  for (const ref of refs) {
    if (ref === "-") {
      for await (const line of lines(io.stdin)) await emit(line);
    } else {
      await emit(ref);
    }
  }
  await flush();
  return invalid > 0 ? EXIT.INVALID : EXIT.OK;
}
