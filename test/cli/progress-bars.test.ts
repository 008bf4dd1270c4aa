// The TTY progress display of `kimg pull` (src/cli/render/progress-bars.ts): events are fed
// to the renderer writing into a fake terminal, and a small ANSI interpreter (CR, LF, CUU
// `ESC[nA`, EL `ESC[2K`, autowrap at the last column) gives the screen the user would see.
// Then the built binary: under a real pseudo-terminal (util-linux `script`) it draws the bars
// and the summary; with pipes, and with --progress plain, it prints plain lines as before.

import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { resolve } from "node:path";
import { after, before, describe, it } from "node:test";
import { bar, ProgressBars } from "../../src/cli/render/progress-bars.ts";
import type { ProgressEvent } from "../../src/pull/index.ts";
import { makeTempDir, removeTempDir } from "../helpers/cleanup.ts";
import { findBinary } from "../helpers/exec.ts";
import { type BuiltImage, buildImage } from "../helpers/images.ts";
import { type Registry, startRegistry } from "../helpers/registry.ts";
import { pushLayout } from "../helpers/skopeo.ts";

/** A terminal: `columns` wide, unbounded height; records whether any line wrapped. */
class Screen {
  readonly lines: string[] = [""];
  row = 0;
  col = 0;
  wrapped = false;
  constructor(readonly columns: number) {}
  write(s: string): void {
    for (let i = 0; i < s.length; i++) {
      const ch = s[i] ?? "";
      if (ch === "\r") this.col = 0;
      else if (ch === "\n") {
        this.row++;
        this.col = 0; // the tty's onlcr: LF is CR LF
        while (this.lines.length <= this.row) this.lines.push("");
      } else if (ch === "\u001b") {
        // CSI: ESC [ digits final-letter
        let j = i + 2;
        while (j < s.length && /[0-9]/.test(s[j] ?? "")) j++;
        const final = s[j] ?? "";
        if (s[i + 1] !== "[" || !/[A-Za-z]/.test(final)) {
          throw new Error(`unknown escape at ${JSON.stringify(s.slice(i, i + 8))}`);
        }
        const n = j === i + 2 ? 1 : Number(s.slice(i + 2, j));
        if (final === "A") this.row = Math.max(0, this.row - n);
        else if (final === "K" && n === 2) this.lines[this.row] = "";
        else throw new Error(`unsupported escape ${JSON.stringify(s.slice(i, j + 1))}`);
        i = j;
      } else {
        if (this.col >= this.columns) {
          this.wrapped = true; // autowrap: the line spills onto the next one
          this.row++;
          this.col = 0;
          while (this.lines.length <= this.row) this.lines.push("");
        }
        const line = this.lines[this.row] ?? "";
        this.lines[this.row] =
          line.padEnd(this.col).slice(0, this.col) + ch + line.slice(this.col + 1);
        this.col++;
      }
    }
  }
  /** The screen's text lines, trailing empty ones dropped. */
  text(): string[] {
    const out = this.lines.map((l) => l.trimEnd());
    while (out.length > 0 && out.at(-1) === "") out.pop();
    return out;
  }
}

function parseAnsi(columns: number, output: string): Screen {
  const s = new Screen(columns);
  s.write(output);
  return s;
}

type Ev<T extends ProgressEvent["type"]> = Extract<ProgressEvent, { type: T }>;
const D = (c: string): string => `sha256:${c.repeat(64)}`;
const LAYER = "application/vnd.oci.image.layer.v1.tar+gzip";
const CONFIG = "application/vnd.oci.image.config.v1+json";

/** A fake clock with timers the test fires by hand. */
function fakeTime() {
  let t = 1000;
  const timers = new Map<number, { at: number; fn: () => void }>();
  let next = 1;
  return {
    now: () => t,
    setTimer: (fn: () => void, ms: number) => {
      const id = next++;
      timers.set(id, { at: t + ms, fn });
      return id;
    },
    clearTimer: (id: unknown) => {
      timers.delete(id as number);
    },
    pending: () => timers.size,
    advance(ms: number) {
      t += ms;
      for (const [id, x] of [...timers]) {
        if (x.at <= t) {
          timers.delete(id);
          x.fn();
        }
      }
    },
  };
}

function rig(columns: number | undefined) {
  const writes: string[] = [];
  const clock = fakeTime();
  const out = {
    columns,
    write(s: string) {
      writes.push(s);
      return true;
    },
  };
  const bars = new ProgressBars(out, {
    lineOf: (e) => (e.type === "resolve" ? `${e.ref}: resolved` : undefined),
    now: clock.now,
    setTimer: clock.setTimer,
    clearTimer: clock.clearTimer,
  });
  const screen = () => parseAnsi(columns ?? 10_000, writes.join(""));
  return { writes, clock, bars, screen };
}

const start = (c: string, size: number, offset = 0): Ev<"blob-start"> => ({
  type: "blob-start",
  digest: D(c),
  mediaType: LAYER,
  size,
  offset,
  attempt: 1,
});
const progress = (c: string, size: number, current: number): ProgressEvent => ({
  type: "blob-progress",
  digest: D(c),
  size,
  current,
});
const doneBlob = (c: string, size: number): Ev<"blob-done"> => ({
  type: "blob-done",
  digest: D(c),
  mediaType: LAYER,
  size,
  downloaded: size,
});
const RESULT = {
  ref: "x",
  digest: D("f"),
  platform: "linux/amd64",
  size: 1,
  layers: 3,
  bytesDownloaded: 1,
  blobsDownloaded: 2,
  blobsSkipped: 1,
  upToDate: false,
};

describe("progress bars (renderer)", () => {
  it("bar(): docker's shape, 50 cells and the arrow", () => {
    assert.equal(bar(0, 100, 10), "[>          ]");
    assert.equal(bar(50, 100, 10), "[=====>     ]");
    assert.equal(bar(100, 100, 10), "[==========>]");
    assert.equal(bar(5, 0, 4), "[====>]");
  });

  it("draws one line per layer in place, config hidden; final: Pull complete / Already exists", () => {
    const { bars, clock, screen } = rig(120);
    bars.onEvent({ type: "resolve", ref: "h/app:v1", digest: D("f"), mediaType: "m", size: 1 });
    bars.onEvent({ ...start("c", 500), mediaType: CONFIG });
    bars.onEvent({ ...doneBlob("c", 500), mediaType: CONFIG });
    bars.onEvent(start("a", 100_000));
    clock.advance(100);
    bars.onEvent(start("b", 2_000_000));
    bars.onEvent({ type: "blob-skipped", digest: D("e"), mediaType: LAYER, size: 10 });
    clock.advance(100);
    bars.onEvent(progress("a", 100_000, 50_000));
    clock.advance(100);
    assert.deepEqual(screen().text(), [
      "h/app:v1: resolved",
      "aaaaaaaaaaaa: Downloading [=========================>                         ] 50.0kB/100kB",
      "bbbbbbbbbbbb: Downloading [>                                                  ] 0B/2.00MB",
      "eeeeeeeeeeee: Already exists",
    ]);
    bars.onEvent(doneBlob("a", 100_000));
    bars.onEvent(progress("b", 2_000_000, 1_000_000));
    clock.advance(100);
    assert.equal(screen().text()[1], "aaaaaaaaaaaa: Download complete");
    bars.onEvent(doneBlob("b", 2_000_000));
    bars.onEvent({ type: "done", result: RESULT });
    bars.finish();
    assert.deepEqual(screen().text(), [
      "h/app:v1: resolved",
      "aaaaaaaaaaaa: Pull complete",
      "bbbbbbbbbbbb: Pull complete",
      "eeeeeeeeeeee: Already exists",
    ]);
    assert.equal(screen().row, 4, "the cursor waits below the block for the summary");
    assert.equal(screen().wrapped, false);
    bars.onEvent(start("z", 1)); // after finish: ignored
    assert.equal(screen().text().length, 4);
  });

  it("the layers event lists every layer as Waiting, in manifest order, before any download", () => {
    const { bars, clock, screen } = rig(120);
    bars.onEvent({
      type: "layers",
      layers: ["a", "b", "e"].map((c) => ({ digest: D(c), mediaType: LAYER, size: 10 })),
    });
    clock.advance(100);
    assert.deepEqual(screen().text(), [
      "aaaaaaaaaaaa: Waiting",
      "bbbbbbbbbbbb: Waiting",
      "eeeeeeeeeeee: Waiting",
    ]);
    bars.onEvent(start("b", 10));
    bars.onEvent({ type: "blob-skipped", digest: D("e"), mediaType: LAYER, size: 10 });
    clock.advance(100);
    assert.deepEqual(screen().text(), [
      "aaaaaaaaaaaa: Waiting",
      "bbbbbbbbbbbb: Downloading [>                                                  ] 0B/10B",
      "eeeeeeeeeeee: Already exists",
    ]);
    bars.finish();
  });

  it("writes the exact escape sequences: clear and rewrite each line, then cursor up", () => {
    const { bars, writes, clock } = rig(80);
    bars.onEvent(start("a", 1000));
    clock.advance(100);
    bars.onEvent({ type: "blob-skipped", digest: D("b"), mediaType: LAYER, size: 1 });
    clock.advance(100);
    assert.deepEqual(writes, [
      `\r\u001b[2Kaaaaaaaaaaaa: Downloading [>${" ".repeat(40)}] 0B/1.00kB\n`,
      `\u001b[1A\r\u001b[2Kaaaaaaaaaaaa: Downloading [>${" ".repeat(40)}] 0B/1.00kB\n\r\u001b[2Kbbbbbbbbbbbb: Already exists\n`,
    ]);
  });

  it("throttles redraws to one per 100 ms; finish() draws at once", () => {
    const { bars, writes, clock, screen } = rig(100);
    bars.onEvent(start("a", 1_000_000));
    assert.equal(writes.length, 1);
    for (let i = 1; i <= 50; i++) {
      bars.onEvent(progress("a", 1_000_000, i * 10_000));
      clock.advance(1);
    }
    assert.equal(writes.length, 1, "50 events within 50 ms: no redraw yet");
    assert.equal(clock.pending(), 1, "one redraw scheduled");
    clock.advance(49);
    assert.equal(writes.length, 1, "99 ms after the last draw");
    clock.advance(1);
    assert.equal(writes.length, 2);
    assert.match(screen().text()[0] ?? "", / 500kB\/1.00MB$/);
    // 10 seconds of events every 10 ms: at most 10 redraws a second.
    for (let i = 0; i < 1000; i++) {
      bars.onEvent(progress("a", 1_000_000, 500_000 + i * 100));
      clock.advance(10);
    }
    assert.ok(writes.length - 2 <= 101, `${writes.length - 2} redraws in 10 s`);
    assert.ok(writes.length - 2 >= 90, `${writes.length - 2} redraws in 10 s`);
    bars.onEvent(doneBlob("a", 1_000_000));
    bars.finish();
    assert.equal(clock.pending(), 0);
    assert.deepEqual(screen().text(), ["aaaaaaaaaaaa: Download complete"]);
  });

  it("a narrow terminal: lines are cut to columns-1, the bar shrinks then goes; nothing wraps", () => {
    for (const columns of [90, 60, 40, 20, 8, 2]) {
      const { bars, clock, screen } = rig(columns);
      bars.onEvent(start("a", 64_000_000, 1000));
      bars.onEvent(progress("a", 64_000_000, 12_300_000));
      clock.advance(100);
      bars.onEvent(start("b", 1000));
      bars.onEvent(doneBlob("b", 1000));
      bars.finish();
      const s = screen();
      assert.equal(s.wrapped, false, `columns ${columns}`);
      for (const l of s.text()) assert.ok(l.length <= columns - 1, `${columns}: ${l}`);
      assert.equal(s.row, 2, `columns ${columns}: cursor below the block`);
      const line = s.text()[0] ?? "";
      if (columns === 90) {
        assert.equal(
          line,
          `aaaaaaaaaaaa: Downloading [${"=".repeat(8)}>${" ".repeat(38)}] 12.3MB/64.0MB`,
        );
      }
      if (columns === 60) {
        assert.equal(line, `aaaaaaaaaaaa: Downloading [===>${" ".repeat(13)}] 12.3MB/64.0MB`);
      }
      if (columns === 40) assert.equal(line, "aaaaaaaaaaaa: Downloading 12.3MB/64.0MB");
      if (columns === 20) assert.equal(line, "aaaaaaaaaaaa: Downl");
    }
  });

  it("a long line above the block is written whole; the block below it stays intact", () => {
    const { bars, clock, screen } = rig(30);
    bars.onEvent(start("a", 100));
    clock.advance(100);
    // A static line after the block is drawn: it goes above the block, the block moves down.
    bars.onEvent({
      type: "resolve",
      ref: "r.io/x".padEnd(40, "x"),
      digest: D("f"),
      mediaType: "m",
      size: 1,
    });
    bars.onEvent(doneBlob("a", 100));
    bars.finish();
    assert.deepEqual(screen().text(), [
      "r.io/xxxxxxxxxxxxxxxxxxxxxxxxx",
      "xxxxxxxxxx: resolved",
      "aaaaaaaaaaaa: Download comple",
    ]);
    assert.equal(screen().row, 3);
  });

  it("no columns known (0 or absent): full lines", () => {
    const { bars, screen } = rig(undefined);
    bars.onEvent(start("a", 10));
    bars.finish();
    assert.match(screen().text()[0] ?? "", /^a{12}: Downloading \[>\s{50}\] 0B\/10B$/);
  });
});

const BIN = resolve(import.meta.dirname, "../../dist/cli/bin.js");

function run(
  cmd: string,
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = { ...process.env };
  delete env.NO_COLOR;
  delete env.FORCE_COLOR;
  delete env.KIMG_STORE;
  env.TERM = "xterm";
  return new Promise((ok) => {
    const child = execFile(cmd, args, { env, encoding: "utf8" }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === "number" ? err.code : -1;
      ok({ code, stdout, stderr });
    });
    child.stdin?.end();
  });
}

const shellQuote = (s: string): string => `'${s.replaceAll("'", "'\\''")}'`;

describe("kimg pull: TTY bars, plain lines otherwise", { timeout: 180_000 }, () => {
  let reg: Registry;
  let img: BuiltImage;
  const dirs: string[] = [];
  const tmp = (): string => {
    const d = makeTempDir("kimg-cli-bars-");
    dirs.push(d);
    return d;
  };

  before(async () => {
    reg = await startRegistry();
    img = await buildImage({
      layers: [{ randomBytes: 400_000, gzipLevel: 0 }, { randomBytes: 3000 }, { randomBytes: 80 }],
      seed: "bars",
    });
    await pushLayout(img, "test/bars:v1", reg);
  });
  after(async () => {
    await reg?.stop();
    for (const d of [img?.layoutDir, ...dirs]) if (d !== undefined) removeTempDir(d);
  });

  const script = findBinary("script");
  it("on a pseudo-terminal 60 columns wide: bars redrawn in place, no wrapped line, then the summary", {
    skip: script === undefined ? "util-linux script is not installed" : false,
  }, async () => {
    const store = tmp();
    const ref = `${reg.host}/test/bars:v1`;
    const cmd = `stty cols 60 rows 50; ${shellQuote(process.execPath)} ${shellQuote(BIN)} pull ${shellQuote(ref)} --store ${shellQuote(store)}`;
    const r = await run(script ?? "script", ["-qec", cmd, "/dev/null"]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    // Lines drawn by the renderer (a local pull may finish before the first redraw is due,
    // so moving the cursor up is the unit tests' business).
    assert.ok(r.stdout.includes("\r\u001b[2K"), "lines cleared and drawn");
    // The summary line is written after the block, whole (it may wrap: nothing redraws it).
    const out = r.stdout.replaceAll("\r\n", "\n");
    const cut = out.lastIndexOf("\nPulled ") + 1;
    const s = parseAnsi(60, out.slice(0, cut));
    const lines = s.text().slice(-3);
    assert.ok(
      lines.every((l) => l.length <= 59),
      lines.join("\n"),
    );
    const layers = img.layers.map((l) => l.digest.slice(7, 19));
    for (const id of layers) {
      assert.ok(lines.includes(`${id}: Pull complete`), `${id} in\n${lines.join("\n")}`);
    }
    assert.equal(s.text().filter((l) => /: Pull complete$/.test(l)).length, 3, "no config line");
    assert.match(
      out.slice(cut),
      /^Pulled 127\.0\.0\.1:\d+\/test\/bars:v1: digest \S+, [\d.]+ kB, 3 layers/,
    );

    // Again: every layer already exists, nothing downloaded, no bars to draw.
    const again = await run(script ?? "script", [
      "-qec",
      cmd.replace(" pull ", " pull --policy Always "),
      "/dev/null",
    ]);
    assert.equal(again.code, 0, again.stdout);
    assert.match(again.stdout, /Image is up to date for /);
  });

  it("with pipes (auto) and with --progress plain: the plain lines, no escape sequences", async () => {
    const ref = `${reg.host}/test/bars:v1`;
    const auto = await run(process.execPath, [BIN, "pull", ref, "--store", tmp()]);
    const plain = await run(process.execPath, [
      BIN,
      "pull",
      ref,
      "--progress",
      "plain",
      "--store",
      tmp(),
    ]);
    for (const r of [auto, plain]) {
      assert.equal(r.code, 0, r.stderr);
      assert.ok(!r.stdout.includes("\u001b"), "no escape sequences");
      const lines = r.stdout.trimEnd().split("\n");
      assert.equal(lines.filter((l) => l.endsWith(": download complete")).length, 4);
      assert.ok(
        lines.filter((l) => / \/ /.test(l)).length <= 4,
        "blob-progress lines", // at most one byte count per layer every 5 s (issue 10 item 19)
      );
      assert.match(lines.at(-1) ?? "", /^Pulled /);
    }
    const shape = (s: string) =>
      s
        .trimEnd()
        .split("\n")
        .filter((l) => !/ \/ /.test(l)) // progress ticks depend on timing
        .map((l) => l.replace(/ in [\d.]+m?s$/, ""));
    // Layers download in parallel: the same lines, maybe in another order.
    assert.deepEqual(shape(auto.stdout).sort(), shape(plain.stdout).sort());
  });
});
