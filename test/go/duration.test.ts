// Tests for src/kubelet/duration.ts, ported from golang/go src/time/time_test.go:
// durationTests (TestDurationString), parseDurationTests (TestParseDuration),
// parseDurationErrorTests (TestParseDurationErrors), TestParseDurationRoundTrip and
// durationTruncateTests (TestDurationTruncate, for the millisecond case).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isKimgError } from "../../src/errors.ts";
import {
  formatGoDuration,
  formatGoDurationNs,
  goTimeQuote,
  parseGoDuration,
  parseGoDurationNs,
  truncateToMs,
} from "../../src/go/index.ts";

const Nanosecond = 1n;
const Microsecond = 1000n * Nanosecond;
const Millisecond = 1000n * Microsecond;
const Second = 1000n * Millisecond;
const Minute = 60n * Second;
const Hour = 60n * Minute;
const MAX = (1n << 63n) - 1n;
const MIN = -(1n << 63n);

// time_test.go durationTests
const durationTests: [string, bigint][] = [
  ["0s", 0n],
  ["1ns", 1n * Nanosecond],
  ["1.1µs", 1100n * Nanosecond],
  ["2.2ms", 2200n * Microsecond],
  ["3.3s", 3300n * Millisecond],
  ["4m5s", 4n * Minute + 5n * Second],
  ["4m5.001s", 4n * Minute + 5001n * Millisecond],
  ["5h6m7.001s", 5n * Hour + 6n * Minute + 7001n * Millisecond],
  ["8m0.000000001s", 8n * Minute + 1n * Nanosecond],
  ["2562047h47m16.854775807s", MAX],
  ["-2562047h47m16.854775808s", MIN],
];

// time_test.go parseDurationTests
const parseDurationTests: [string, bigint][] = [
  // simple
  ["0", 0n],
  ["5s", 5n * Second],
  ["30s", 30n * Second],
  ["1478s", 1478n * Second],
  // sign
  ["-5s", -5n * Second],
  ["+5s", 5n * Second],
  ["-0", 0n],
  ["+0", 0n],
  // decimal
  ["5.0s", 5n * Second],
  ["5.6s", 5n * Second + 600n * Millisecond],
  ["5.s", 5n * Second],
  [".5s", 500n * Millisecond],
  ["1.0s", 1n * Second],
  ["1.00s", 1n * Second],
  ["1.004s", 1n * Second + 4n * Millisecond],
  ["1.0040s", 1n * Second + 4n * Millisecond],
  ["100.00100s", 100n * Second + 1n * Millisecond],
  // different units
  ["10ns", 10n * Nanosecond],
  ["11us", 11n * Microsecond],
  ["12µs", 12n * Microsecond], // U+00B5
  ["12μs", 12n * Microsecond], // U+03BC
  ["13ms", 13n * Millisecond],
  ["14s", 14n * Second],
  ["15m", 15n * Minute],
  ["16h", 16n * Hour],
  // composite durations
  ["3h30m", 3n * Hour + 30n * Minute],
  ["10.5s4m", 4n * Minute + 10n * Second + 500n * Millisecond],
  ["-2m3.4s", -(2n * Minute + 3n * Second + 400n * Millisecond)],
  [
    "1h2m3s4ms5us6ns",
    1n * Hour + 2n * Minute + 3n * Second + 4n * Millisecond + 5n * Microsecond + 6n * Nanosecond,
  ],
  ["39h9m14.425s", 39n * Hour + 9n * Minute + 14n * Second + 425n * Millisecond],
  // large value
  ["52763797000ns", 52763797000n * Nanosecond],
  // more than 9 digits after decimal point, see https://golang.org/issue/6617
  ["0.3333333333333333333h", 20n * Minute],
  // 9007199254740993 = 1<<53+1 cannot be stored precisely in a float64
  ["9007199254740993ns", ((1n << 53n) + 1n) * Nanosecond],
  // largest duration that can be represented by int64 in nanoseconds
  ["9223372036854775807ns", MAX],
  ["9223372036854775.807us", MAX],
  ["9223372036s854ms775us807ns", MAX],
  ["-9223372036854775808ns", MIN],
  ["-9223372036854775.808us", MIN],
  ["-9223372036s854ms775us808ns", MIN],
  // largest negative value
  ["-9223372036854775808ns", MIN],
  // largest negative round trip value, see https://golang.org/issue/48629
  ["-2562047h47m16.854775808s", MIN],
  // huge string; issue 15011.
  ["0.100000000000000000000h", 6n * Minute],
  // This value tests the first overflow check in leadingFraction.
  ["0.830103483285477580700h", 49n * Minute + 48n * Second + 372539827n * Nanosecond],
];

// time_test.go parseDurationErrorTests. Go's byte-level cases ("\x85\x85", "\xffff") have no
// JavaScript string equivalent; U+FFFD (what invalid UTF-8 decodes to) and C1 controls keep
// the quoting rule covered.
const parseDurationErrorTests: [string, string][] = [
  // invalid
  ["", '""'],
  ["3", '"3"'],
  ["-", '"-"'],
  ["s", '"s"'],
  [".", '"."'],
  ["-.", '"-."'],
  [".s", '".s"'],
  ["+.s", '"+.s"'],
  ["1d", '"1d"'],
  ["\u0085\u0085", '"\\xc2\\x85\\xc2\\x85"'],
  ["\uFFFD", '"\\xef\\xbf\\xbd"'], // utf8.RuneError
  ["\uFFFD hello \uFFFD world", '"\\xef\\xbf\\xbd hello \\xef\\xbf\\xbd world"'], // utf8.RuneError
  // overflow
  ["9223372036854775810ns", '"9223372036854775810ns"'],
  ["9223372036854775808ns", '"9223372036854775808ns"'],
  ["-9223372036854775809ns", '"-9223372036854775809ns"'],
  ["9223372036854776us", '"9223372036854776us"'],
  ["3000000h", '"3000000h"'],
  ["9223372036854775.808us", '"9223372036854775.808us"'],
  ["9223372036854ms775us808ns", '"9223372036854ms775us808ns"'],
];

function errorOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    assert.ok(isKimgError(e, "INPUT_INVALID"), `not an INPUT_INVALID KimgError: ${e}`);
    return e.message;
  }
  assert.fail("no error");
}

describe("formatGoDurationNs (time.Duration.String)", () => {
  for (const [str, d] of durationTests) {
    it(`${d} → ${str}`, () => {
      assert.equal(formatGoDurationNs(d), str);
      if (d > 0n) assert.equal(formatGoDurationNs(-d), `-${str}`);
    });
  }
  it("refuses values outside int64", () => {
    errorOf(() => formatGoDurationNs(MAX + 1n));
    errorOf(() => formatGoDurationNs(MIN - 1n));
  });
});

describe("formatGoDuration (milliseconds, as the kubelet's Pulled event prints them)", () => {
  const cases: [number, string][] = [
    [0, "0s"],
    [1, "1ms"],
    [850, "850ms"],
    [999, "999ms"],
    [1000, "1s"],
    [1234, "1.234s"],
    [1500, "1.5s"],
    [1893, "1.893s"],
    [60_000, "1m0s"],
    [123_400, "2m3.4s"],
    [120_000, "2m0s"],
    [300_000, "5m0s"],
    [3_600_000, "1h0m0s"],
    [3_723_004, "1h2m3.004s"],
    [90_061_001, "25h1m1.001s"],
    [-1500, "-1.5s"],
  ];
  for (const [ms, str] of cases)
    it(`${ms}ms → ${str}`, () => assert.equal(formatGoDuration(ms), str));
  it("refuses fractional and non-finite milliseconds", () => {
    errorOf(() => formatGoDuration(1.5));
    errorOf(() => formatGoDuration(Number.NaN));
    errorOf(() => formatGoDuration(Number.POSITIVE_INFINITY));
  });
});

describe("truncateToMs (Duration.Truncate(time.Millisecond))", () => {
  // durationTruncateTests rows expressed in ms where the modulus is 1ms, plus fractions.
  const cases: [number, number][] = [
    [0, 0],
    [60_000, 60_000],
    [1234.9, 1234],
    [0.999, 0],
    [-0.5, 0], // toward zero, like d - d%m
    [-1234.9, -1234],
  ];
  for (const [ms, want] of cases) it(`${ms} → ${want}`, () => assert.equal(truncateToMs(ms), want));
  it("never returns -0", () => assert.ok(Object.is(truncateToMs(-0.5), 0)));
  it("refuses non-finite input", () => {
    errorOf(() => truncateToMs(Number.NaN));
  });
});

describe("parseGoDurationNs (time.ParseDuration)", () => {
  for (const [input, want] of parseDurationTests) {
    it(JSON.stringify(input), () => assert.equal(parseGoDurationNs(input), want));
  }
});

describe("parseGoDurationNs errors (TestParseDurationErrors)", () => {
  for (const [input, quoted] of parseDurationErrorTests) {
    it(JSON.stringify(input), () => {
      const msg = errorOf(() => parseGoDurationNs(input));
      assert.ok(msg.includes(quoted), `${msg} does not contain ${quoted}`);
    });
  }
  it("exact texts: invalid, missing unit, unknown unit", () => {
    assert.equal(
      errorOf(() => parseGoDurationNs("x")),
      'time: invalid duration "x"',
    );
    assert.equal(
      errorOf(() => parseGoDurationNs("")),
      'time: invalid duration ""',
    );
    assert.equal(
      errorOf(() => parseGoDurationNs("1")),
      'time: missing unit in duration "1"',
    );
    assert.equal(
      errorOf(() => parseGoDurationNs("1h5")),
      'time: missing unit in duration "1h5"',
    );
    assert.equal(
      errorOf(() => parseGoDurationNs("1d")),
      'time: unknown unit "d" in duration "1d"',
    );
    assert.equal(
      errorOf(() => parseGoDurationNs("5 m")),
      'time: unknown unit " m" in duration "5 m"',
    );
    assert.equal(
      errorOf(() => parseGoDurationNs("1µ")),
      'time: unknown unit "\\xc2\\xb5" in duration "1\\xc2\\xb5"',
    );
    assert.equal(
      errorOf(() => parseGoDurationNs('"1s"')),
      'time: invalid duration "\\"1s\\""',
    );
  });
});

describe("TestParseDurationRoundTrip", () => {
  it("max and min int64 survive String → ParseDuration", () => {
    assert.equal(parseGoDurationNs(formatGoDurationNs(MAX)), MAX);
    assert.equal(parseGoDurationNs(formatGoDurationNs(MIN)), MIN);
  });
  it("millisecond durations round-trip", () => {
    // Upstream draws 100 values from rand.Int31(); a fixed spread covers the same range.
    for (let i = 0; i < 100; i++) {
      const d0 = BigInt(Math.floor((i * 2147483647) / 99)) * Millisecond;
      const s = formatGoDurationNs(d0);
      assert.equal(parseGoDurationNs(s), d0, `${d0} => ${s}`);
    }
  });
});

describe("parseGoDuration (milliseconds)", () => {
  const cases: [string, number][] = [
    ["3s", 3000],
    ["90s", 90_000],
    ["5m", 300_000],
    ["1h30m", 5_400_000],
    ["1.5h", 5_400_000],
    ["300ms", 300],
    ["2m0s", 120_000],
    ["1.5ms", 1.5],
    ["1us", 0.001],
    ["-1.5s", -1500],
    ["0", 0],
    // Issue 11: the credential-provider copy's float arithmetic gave 1.0000001 and refused the max.
    ["1.0000001ms", 1],
    ["2562047h47m16.854775807s", 9_223_372_036_854.775],
  ];
  for (const [text, ms] of cases)
    it(`${text} → ${ms}`, () => assert.equal(parseGoDuration(text), ms));
  it("-0 is 0, not -0", () => assert.ok(Object.is(parseGoDuration("-0s"), 0)));
});

describe("goTimeQuote (the time package's quote)", () => {
  it("escapes quotes and backslashes, hex-escapes non-ASCII and controls per UTF-8 byte", () => {
    assert.equal(goTimeQuote('a"b\\c'), '"a\\"b\\\\c"');
    assert.equal(goTimeQuote("\t"), '"\\x09"');
    assert.equal(goTimeQuote("é"), '"\\xc3\\xa9"');
    assert.equal(goTimeQuote("😀"), '"\\xf0\\x9f\\x98\\x80"');
    assert.equal(goTimeQuote("\ud800"), '"\\xef\\xbf\\xbd"');
    assert.equal(goTimeQuote("\x7f"), '"\x7f"');
  });
});
