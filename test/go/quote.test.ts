// goQuote (Go's strconv.Quote) and escapeControls (the same escapes without quotes, for text
// from the network shown on a terminal): the expected strings are what Go prints with %q.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { escapeControls, goQuote } from "../../src/go/index.ts";

describe("goQuote", () => {
  // fmt.Sprintf("%q", s) in Go 1.26
  const cases: [string, string][] = [
    ["", '""'],
    ["abc", '"abc"'],
    ['a"b\\c', '"a\\"b\\\\c"'],
    ["\x1b[2J", '"\\x1b[2J"'],
    ["\x07\b\f\n\r\t\v", '"\\a\\b\\f\\n\\r\\t\\v"'],
    ["\x7f", '"\\x7f"'],
    ["\u009b", '"\\u009b"'],
    ["\u202e", '"\\u202e"'],
    ["\u00a0", '"\\u00a0"'],
    ["héllo 世界", '"héllo 世界"'],
    ["\u{e0001}", '"\\U000e0001"'],
  ];
  for (const [s, want] of cases) {
    it(JSON.stringify(s), () => assert.equal(goQuote(s), want));
  }
});

describe("escapeControls", () => {
  it("leaves printable text, quotes and backslashes as they are", () => {
    for (const s of ["", "plain text", 'say "hi" C:\\path', "héllo 世界 ✓"]) {
      assert.equal(escapeControls(s), s);
    }
  });
  it("escapes C0, DEL, C1, bare CR, newlines and bidi controls as %q does", () => {
    assert.equal(
      escapeControls("\x1b]0;t\x07\x1b[31mred\r\n x\u0085\u009b\u202e\u2028\x00\x7f"),
      "\\x1b]0;t\\a\\x1b[31mred\\r\\n x\\u0085\\u009b\\u202e\\u2028\\x00\\x7f",
    );
  });
  it("every result is one line of printable characters", () => {
    let all = "";
    for (let cp = 0; cp < 0x3000; cp++) all += String.fromCodePoint(cp);
    const out = escapeControls(all);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: finding them is the point
    assert.doesNotMatch(out, /[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e]/);
  });
});
