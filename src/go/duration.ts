// Go's time.Duration text forms, as the kubelet prints and reads them. Pure.
//
// - `formatGoDuration(ms)` = Go `time.Duration.String()` (what `%v` prints in the kubelet's event
//   `Successfully pulled image "x" in 1.234s (1.5s including waiting)` and in its configuration
//   validation messages, e.g. `imageMaximumGCAge 1m0s must be greater than imageMinimumGCAge 2m0s`).
// - `parseGoDuration(text)` = Go `time.ParseDuration` (what metav1.Duration.UnmarshalJSON uses for
//   KubeletConfiguration durations such as `imageMinimumGCAge: 2m`, and what kimg uses for
//   `--timeout 5m`), with Go's exact error texts.
//
// Both work on int64 nanoseconds internally (bigint), like Go; the millisecond wrappers are what
// the rest of kimg uses (its clocks count milliseconds).
//
// Upstream sources (golang/go), read for this file:
// - src/time/time.go — Duration.String, Duration.format, fmtFrac, fmtInt, Duration.Truncate
// - src/time/format.go — ParseDuration, leadingInt, leadingFraction, unitMap, quote
// - src/time/time_test.go — durationTests, parseDurationTests, parseDurationErrorTests,
//   TestParseDurationRoundTrip, durationTruncateTests (ported in test/kubelet/duration.test.ts)

import { KimgError } from "../errors.ts";

const NANOSECOND = 1n;
const MICROSECOND = 1000n * NANOSECOND;
const MILLISECOND = 1000n * MICROSECOND;
const SECOND = 1000n * MILLISECOND;
const MINUTE = 60n * SECOND;
const HOUR = 60n * MINUTE;

const INT64_MAX = (1n << 63n) - 1n;
const TWO_63 = 1n << 63n;

/** Go's unitMap (format.go): µs is U+00B5, μs is U+03BC; both mean microseconds. */
const UNITS: ReadonlyMap<string, bigint> = new Map([
  ["ns", NANOSECOND],
  ["us", MICROSECOND],
  ["\u00b5s", MICROSECOND],
  ["\u03bcs", MICROSECOND],
  ["ms", MILLISECOND],
  ["s", SECOND],
  ["m", MINUTE],
  ["h", HOUR],
]);

// ---------------------------------------------------------------------------------------------
// Formatting (time.go Duration.String)

/**
 * Go's `time.Duration.String()` of a duration in nanoseconds (int64 range): `0s`, `1ns`, `1.1µs`,
 * `2.2ms`, `3.3s`, `4m5s`, `5h6m7.001s`, `-2562047h47m16.854775808s`.
 */
export function formatGoDurationNs(d: bigint): string {
  if (d < -TWO_63 || d > INT64_MAX) {
    throw new KimgError("INPUT_INVALID", `duration ${d}ns is outside Go's int64 range`);
  }
  const neg = d < 0n;
  const u = neg ? -d : d;
  let out: string;
  if (u < SECOND) {
    // Smaller than a second: use smaller units, like 1.2ms.
    if (u === 0n) return "0s";
    if (u < MICROSECOND) out = `${u}ns`;
    else if (u < MILLISECOND) out = `${fmtFrac(u, 3)}\u00b5s`;
    else out = `${fmtFrac(u, 6)}ms`;
  } else {
    const secs = fmtFrac(u, 9); // integer seconds with the fraction, e.g. "3723.5"
    const dot = secs.indexOf(".");
    const whole = BigInt(dot < 0 ? secs : secs.slice(0, dot));
    const frac = dot < 0 ? "" : secs.slice(dot);
    out = `${whole % 60n}${frac}s`;
    const minutes = whole / 60n;
    if (minutes > 0n) {
      out = `${minutes % 60n}m${out}`;
      const hours = minutes / 60n;
      // Stop at hours because days can be different lengths.
      if (hours > 0n) out = `${hours}h${out}`;
    }
  }
  return neg ? `-${out}` : out;
}

/** fmtFrac + fmtInt: v/10^prec with the fraction's trailing zeros (and a bare `.`) omitted. */
function fmtFrac(v: bigint, prec: number): string {
  const scale = 10n ** BigInt(prec);
  const whole = v / scale;
  const frac = (v % scale).toString().padStart(prec, "0").replace(/0+$/, "");
  return frac === "" ? `${whole}` : `${whole}.${frac}`;
}

/**
 * Go's `time.Duration.String()` of a whole number of milliseconds — what the kubelet prints for
 * a duration it truncated to milliseconds first (`time.Since(start).Truncate(time.Millisecond)`):
 * `850ms`, `1.234s`, `2m3.4s`, `1h0m0s`. Use `truncateToMs` on measured times first.
 */
export function formatGoDuration(ms: number): string {
  if (!Number.isSafeInteger(ms)) {
    throw new KimgError("INPUT_INVALID", `duration ${ms}ms is not a whole number of milliseconds`);
  }
  return formatGoDurationNs(BigInt(ms) * MILLISECOND);
}

/**
 * `time.Duration.Truncate(time.Millisecond)` for a duration in (possibly fractional)
 * milliseconds: rounds toward zero, like Go's `d - d%m`. Non-finite input is refused.
 */
export function truncateToMs(ms: number): number {
  if (!Number.isFinite(ms)) throw new KimgError("INPUT_INVALID", `duration ${ms}ms is not finite`);
  const t = Math.trunc(ms);
  return t === 0 ? 0 : t; // no -0
}

// ---------------------------------------------------------------------------------------------
// Parsing (format.go ParseDuration)

/**
 * Go's `time.ParseDuration` in nanoseconds: `[-+]?([0-9]*(\.[0-9]*)?[a-z]+)+`, e.g. `300ms`,
 * `-1.5h`, `2h45m`, `0` (the only unit-less value). Errors (KimgError INPUT_INVALID) carry Go's
 * exact text: `time: invalid duration "x"`, `time: missing unit in duration "1"`,
 * `time: unknown unit "d" in duration "1d"`.
 */
export function parseGoDurationNs(text: string): bigint {
  const orig = text;
  let s = text;
  let d = 0n; // uint64 in Go
  let neg = false;
  const invalid = () =>
    new KimgError("INPUT_INVALID", `time: invalid duration ${goTimeQuote(orig)}`);

  // Consume [-+]?
  if (s !== "") {
    const c = s[0];
    if (c === "-" || c === "+") {
      neg = c === "-";
      s = s.slice(1);
    }
  }
  // Special case: if all that is left is "0", this is zero.
  if (s === "0") return 0n;
  if (s === "") throw invalid();
  while (s !== "") {
    let v: bigint;
    let f = 0n; // integers before, after the decimal point
    let scale = 1; // value = v + f/scale (float64 in Go)

    // The next character must be [0-9.]
    if (!(s[0] === "." || isDigit(s[0]))) throw invalid();
    // Consume [0-9]*
    const pl = s.length;
    const li = leadingInt(s);
    if (li === undefined) throw invalid();
    [v, s] = li;
    const pre = pl !== s.length; // whether we consumed anything before a period

    // Consume (\.[0-9]*)?
    let post = false;
    if (s !== "" && s[0] === ".") {
      s = s.slice(1);
      const pl2 = s.length;
      [f, scale, s] = leadingFraction(s);
      post = pl2 !== s.length;
    }
    if (!pre && !post) throw invalid(); // no digits (e.g. ".s" or "-.s")

    // Consume unit.
    let i = 0;
    for (; i < s.length; i++) {
      const c = s[i];
      if (c === "." || isDigit(c)) break;
    }
    if (i === 0) {
      throw new KimgError("INPUT_INVALID", `time: missing unit in duration ${goTimeQuote(orig)}`);
    }
    const u = s.slice(0, i);
    s = s.slice(i);
    const unit = UNITS.get(u);
    if (unit === undefined) {
      throw new KimgError(
        "INPUT_INVALID",
        `time: unknown unit ${goTimeQuote(u)} in duration ${goTimeQuote(orig)}`,
      );
    }
    if (v > TWO_63 / unit) throw invalid(); // overflow
    v *= unit;
    if (f > 0n) {
      // float64 is needed to be nanosecond accurate for fractions of hours.
      // v >= 0 && (f*unit/scale) <= 3.6e+12 (ns/h, h is the largest unit)
      v += BigInt(Math.trunc(Number(f) * (Number(unit) / scale)));
      if (v > TWO_63) throw invalid(); // overflow
    }
    d += v;
    if (d > TWO_63) throw invalid();
  }
  if (neg) return -d;
  if (d > INT64_MAX) throw invalid();
  return d;
}

/**
 * `time.ParseDuration` in milliseconds (`5m` → 300000, `1.5ms` → 1.5, `1ns` → 0.000001):
 * the exact nanosecond count divided by 10^6.
 */
export function parseGoDuration(text: string): number {
  const ns = parseGoDurationNs(text);
  const ms = ns / MILLISECOND;
  const rest = ns % MILLISECOND;
  const out = Number(ms) + Number(rest) / 1e6;
  return out === 0 ? 0 : out; // "-0" parses to 0, not -0
}

function isDigit(c: string | undefined): boolean {
  return c !== undefined && c >= "0" && c <= "9";
}

/** leadingInt: the leading [0-9]*; undefined on overflow (Go's errLeadingInt). */
function leadingInt(s: string): [bigint, string] | undefined {
  let x = 0n;
  let i = 0;
  for (; i < s.length; i++) {
    const c = s[i];
    if (!isDigit(c)) break;
    if (x > TWO_63 / 10n) return undefined; // overflow
    x = x * 10n + BigInt(Number(c));
    if (x > TWO_63) return undefined; // overflow
  }
  return [x, s.slice(i)];
}

/**
 * leadingFraction: the leading [0-9]* after a period; digits that would overflow are consumed but
 * ignored (scale stops growing), so `0.100000000000000000000h` is exactly 6m.
 */
function leadingFraction(s: string): [bigint, number, string] {
  let i = 0;
  let x = 0n;
  let scale = 1;
  let overflow = false;
  for (; i < s.length; i++) {
    const c = s[i];
    if (!isDigit(c)) break;
    if (overflow) continue;
    if (x > INT64_MAX / 10n) {
      // It's possible for overflow to give a positive number, so take care.
      overflow = true;
      continue;
    }
    const y = x * 10n + BigInt(Number(c));
    if (y > TWO_63) {
      overflow = true;
      continue;
    }
    x = y;
    scale *= 10;
  }
  return [x, scale, s.slice(i)];
}

/**
 * The time package's own `quote` (format.go), not strconv.Quote: printable ASCII as is (with `"`
 * and `\` escaped), every other character as `\x` escapes of its UTF-8 bytes. A lone UTF-16
 * surrogate (not valid Unicode) counts as U+FFFD, as when the text is encoded to UTF-8.
 */
export function goTimeQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0) ?? 0;
    if (cp >= 0x80 || cp < 0x20) {
      for (const b of utf8Bytes(cp >= 0xd800 && cp <= 0xdfff ? 0xfffd : cp)) {
        out += `\\x${b.toString(16).padStart(2, "0")}`;
      }
    } else {
      if (ch === '"' || ch === "\\") out += "\\";
      out += ch;
    }
  }
  return `${out}"`;
}

function utf8Bytes(cp: number): number[] {
  if (cp < 0x80) return [cp];
  if (cp < 0x800) return [0xc0 | (cp >> 6), 0x80 | (cp & 0x3f)];
  if (cp < 0x10000) return [0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f)];
  return [
    0xf0 | (cp >> 18),
    0x80 | ((cp >> 12) & 0x3f),
    0x80 | ((cp >> 6) & 0x3f),
    0x80 | (cp & 0x3f),
  ];
}
