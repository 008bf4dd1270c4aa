// `kimg parse [REF…|-]`: each reference explained, one result per reference.

import {
  ALL_DIGEST_ALGORITHMS,
  type DigestAlgorithm,
  explainImage,
  isDigestAlgorithm,
  KimgError,
  PARSE_MODES,
  type ParseMode,
} from "../../core.ts";
import { type CliIO, EXIT } from "../io.ts";
import { renderExplanation } from "../render/explanation.ts";
import { painter } from "../render/style.ts";

export interface ParseCommandOptions {
  readonly mode?: string | undefined;
  readonly digestAlgorithms?: string | undefined;
  readonly json?: boolean | undefined;
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

/**
 * The lines of a stream, a batch per chunk read: every complete line of a chunk is handed over
 * at once, so the caller can flush its output whenever the input has nothing more ready
 * (`tail -f log | kimg parse -` prints as lines arrive) yet batch its writes under load.
 */
async function* lineBatches(stream: NodeJS.ReadableStream): AsyncGenerator<string[]> {
  let rest = "";
  stream.setEncoding("utf8");
  for await (const chunk of stream as AsyncIterable<string>) {
    const parts = (rest + chunk).split("\n");
    rest = parts.pop() ?? "";
    yield parts;
  }
  if (rest !== "") yield [rest];
}

/** Output is gathered into chunks of about this size, and written with backpressure. */
const CHUNK = 64 * 1024;

export async function runParse(
  refs: readonly string[],
  opts: ParseCommandOptions,
  io: CliIO,
): Promise<number> {
  if (refs.filter((r) => r === "-").length > 1) {
    throw new KimgError("INPUT_INVALID", "standard input (-) can be read only once");
  }
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
    if (ref !== "-") {
      await emit(ref);
      continue;
    }
    await flush();
    for await (const batch of lineBatches(io.stdin)) {
      for (const raw of batch) {
        // A trailing "\r" is not part of a reference; blank lines are skipped.
        const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
        if (line !== "") await emit(line);
      }
      await flush();
    }
  }
  await flush();
  return invalid > 0 ? EXIT.INVALID : EXIT.OK;
}
