// `kimg pull` on a terminal, the way `docker pull` draws it: one line per layer, redrawn in
// place as the ProgressEvent stream (src/pull/progress.ts) moves it along —
//
//   c960271a4fc5: Downloading [=========>                                         ] 12.3MB/64MB
//   48ff79b706b1: Download complete
//   4e62742993cf: Already exists
//
// and `Pull complete` for every downloaded layer once the image is recorded. Like docker's
// jsonmessage.DisplayJSONMessagesStream (moby pkg/jsonmessage/jsonmessage.go): the cursor goes
// up over the block (`ESC[nA`), each line is cleared (`ESC[2K`) and rewritten, and the cursor
// ends below the block, where the caller's summary line follows. Lines are cut to the
// terminal's width minus one column, so a narrow terminal never wraps a line (a wrapped line
// would make the cursor-up count wrong and garble the screen); the bar shrinks first, then is
// dropped. Lines above the block (resolve, manifest) are written whole: the cursor never
// moves back over them. Redraws are throttled to one per `intervalMs` (100 ms: at most 10 a second);
// `finish()` draws the final state at once.
//
// Events for blobs that are not layers (the config) draw no line, as docker shows only
// layers. Other events (resolve, manifest) are printed once above the block through `lineOf`.
// The event stream does not announce layers before their download starts, so a layer's line
// appears at its first event (docker's `Waiting` has no event to come from).

import { isConfigMediaType, type ProgressEvent } from "../../pull-api.ts";
import { formatBytes } from "./bytes.ts";

/** Where the block is drawn: a TTY stream (`columns` is read at every redraw). */
export interface BarStream {
  write(s: string): unknown;
  readonly columns?: number | undefined;
}

export interface ProgressBarsOptions {
  /** A line for events that are not per-layer (resolve, manifest); undefined prints nothing. */
  readonly lineOf?: (e: ProgressEvent) => string | undefined;
  /** Least time between redraws. Default 100 ms. */
  readonly intervalMs?: number | undefined;
  readonly now?: (() => number) | undefined;
  readonly setTimer?: ((fn: () => void, ms: number) => unknown) | undefined;
  readonly clearTimer?: ((t: unknown) => void) | undefined;
}

type Status = "Waiting" | "Downloading" | "Download complete" | "Already exists" | "Pull complete";

interface Row {
  readonly id: string;
  status: Status;
  current: number;
  size: number;
}

/** docker's bar width (jsonmessage.go JSONProgress.String). */
const BAR = 50;
/** Narrower than this, the bar is left out and only the numbers are shown. */
const MIN_BAR = 10;

export const ESC = "\u001b[";

/** `c960271a4fc5`: the first 12 hex digits, as docker names layers. */
export function layerId(digest: string): string {
  return digest.slice(digest.indexOf(":") + 1, digest.indexOf(":") + 13);
}

const compact = (n: number): string => formatBytes(n).replace(" ", "");

/** `[=====>     ]` with `width` cells plus the arrow, as docker draws it. */
export function bar(current: number, size: number, width: number): string {
  const frac = size > 0 ? Math.min(1, Math.max(0, current / size)) : 1;
  const n = Math.floor(frac * width);
  return `[${"=".repeat(n)}>${" ".repeat(width - n)}]`;
}

/** One layer's line, fitted to `cols` visible characters (undefined: no limit). */
export function rowText(r: Row, cols: number | undefined): string {
  let text: string;
  if (r.status === "Downloading") {
    const head = `${r.id}: Downloading`;
    const nums = `${compact(r.current)}/${compact(r.size)}`;
    const room = cols === undefined ? BAR : cols - head.length - nums.length - 5; // spaces, [ > ]
    const width = Math.min(BAR, room);
    text =
      width >= MIN_BAR ? `${head} ${bar(r.current, r.size, width)} ${nums}` : `${head} ${nums}`;
  } else {
    text = `${r.id}: ${r.status}`;
  }
  return cols === undefined ? text : text.slice(0, Math.max(0, cols));
}

export class ProgressBars {
  readonly #out: BarStream;
  readonly #opts: ProgressBarsOptions;
  readonly #interval: number;
  readonly #now: () => number;
  readonly #rows: Row[] = [];
  readonly #byDigest = new Map<string, Row>();
  /** Lines printed above the block at the next redraw. */
  #pending: string[] = [];
  /** Lines of the block on the screen (the cursor is on the line below them). */
  #drawn = 0;
  #lastDraw = Number.NEGATIVE_INFINITY;
  #timer: unknown;
  #finished = false;

  constructor(out: BarStream, opts: ProgressBarsOptions = {}) {
    this.#out = out;
    this.#opts = opts;
    this.#interval = opts.intervalMs ?? 100;
    this.#now = opts.now ?? Date.now;
  }

  /** Feed one event (a ProgressListener). */
  onEvent = (e: ProgressEvent): void => {
    if (this.#finished) return;
    switch (e.type) {
      case "blob-start": {
        if (isConfigMediaType(e.mediaType)) return;
        const r = this.#row(e.digest, e.size);
        r.status = "Downloading";
        r.current = e.offset;
        break;
      }
      case "blob-progress": {
        const r = this.#byDigest.get(e.digest);
        if (r === undefined) return; // the config
        r.current = e.current;
        break;
      }
      case "blob-done": {
        if (isConfigMediaType(e.mediaType)) return;
        const r = this.#row(e.digest, e.size);
        r.status = "Download complete";
        r.current = e.size;
        break;
      }
      case "blob-skipped": {
        if (isConfigMediaType(e.mediaType)) return;
        this.#row(e.digest, e.size).status = "Already exists";
        break;
      }
      case "layers":
        // Docker's "Waiting": every layer gets its line before the downloads start.
        for (const l of e.layers) {
          const r = this.#row(l.digest, l.size);
          r.status = "Waiting";
        }
        break;
      case "done":
        for (const r of this.#rows)
          if (r.status === "Download complete") r.status = "Pull complete";
        break;
      default: {
        const line = this.#opts.lineOf?.(e);
        if (line !== undefined) {
          this.#pending.push(line);
          this.#draw(); // rare: not throttled, so the order of lines is kept
          return;
        }
        return;
      }
    }
    this.#schedule();
  };

  /** Draws the final state now and stops redrawing; the cursor is left below the block. */
  finish(): void {
    if (this.#finished) return;
    this.#cancel();
    this.#draw();
    this.#finished = true;
  }

  #row(digest: string, size: number): Row {
    let r = this.#byDigest.get(digest);
    if (r === undefined) {
      r = { id: layerId(digest), status: "Downloading", current: 0, size };
      this.#byDigest.set(digest, r);
      this.#rows.push(r);
    }
    return r;
  }

  #schedule(): void {
    if (this.#timer !== undefined) return;
    const wait = this.#lastDraw + this.#interval - this.#now();
    if (wait <= 0) {
      this.#draw();
      return;
    }
    const set = this.#opts.setTimer ?? ((fn: () => void, ms: number) => setTimeout(fn, ms));
    this.#timer = set(() => {
      this.#timer = undefined;
      this.#draw();
    }, wait);
  }

  #cancel(): void {
    if (this.#timer === undefined) return;
    const clear = this.#opts.clearTimer ?? ((t: unknown) => clearTimeout(t as NodeJS.Timeout));
    clear(this.#timer);
    this.#timer = undefined;
  }

  #draw(): void {
    this.#cancel();
    const c = this.#out.columns;
    // One column spare: a line that fills the last column wraps on some terminals.
    const cols = c !== undefined && c > 1 ? c - 1 : undefined;
    let s = this.#drawn > 0 ? `${ESC}${this.#drawn}A` : "";
    // Lines above the block are written whole: the cursor never goes back over them, so a
    // wrapped one does no harm (and keeps the full digest readable).
    for (const line of this.#pending) s += `\r${ESC}2K${line}\n`;
    this.#pending = [];
    for (const r of this.#rows) s += `\r${ESC}2K${rowText(r, cols)}\n`;
    this.#drawn = this.#rows.length;
    this.#lastDraw = this.#now();
    if (s !== "") this.#out.write(s);
  }
}
