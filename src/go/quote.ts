// Go's strconv.Quote (what `%q` prints), so messages that quote user input match the
// kubelet's and the API server's byte for byte. Pure.

const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u;
const SIMPLE_ESCAPES: Readonly<Record<string, string>> = {
  "\x07": "\\a",
  "\b": "\\b",
  "\f": "\\f",
  "\n": "\\n",
  "\r": "\\r",
  "\t": "\\t",
  "\v": "\\v",
  "\\": "\\\\",
  '"': '\\"',
};
const PLAIN = /^[\x20-\x21\x23-\x5b\x5d-\x7e]*$/;

export function goQuote(s: string): string {
  if (PLAIN.test(s)) return `"${s}"`;
  return `"${escapeNonPrintable(s, true)}"`;
}

const SAFE = /^[\x20-\x7e]*$/;

/**
 * `s` with every character that Go's %q would escape as non-printable written as %q writes it
 * (`\n`, `\x1b`, `\u009b`, `\u202e`, …), but without the surrounding quotes and leaving `"`
 * and `\` as they are. For text from the network (registry errors, header values, helper and
 * plugin messages, annotations, config fields) before a terminal or a page shows it: C0, DEL,
 * C1, bare CR, bidi overrides and other format characters can then neither move the cursor,
 * retitle the window, clear the screen nor forge a line.
 */
export function escapeControls(s: string): string {
  return SAFE.test(s) ? s : escapeNonPrintable(s, false);
}

function escapeNonPrintable(s: string, quoting: boolean): string {
  let out = "";
  for (const ch of s) {
    const esc = SIMPLE_ESCAPES[ch];
    if (esc !== undefined) {
      out += quoting || (ch !== '"' && ch !== "\\") ? esc : ch;
      continue;
    }
    const cp = ch.codePointAt(0) ?? 0;
    if (cp >= 0xd800 && cp <= 0xdfff) {
      // A lone surrogate only comes from a JSON "\ud800" escape, which Go's decoder turns
      // into U+FFFD; that is printable, so %q shows the character itself.
      out += "\ufffd";
    } else if (PRINTABLE.test(ch)) {
      out += ch;
    } else if (cp < 0x80) {
      out += `\\x${cp.toString(16).padStart(2, "0")}`;
    } else if (cp < 0x10000) {
      out += `\\u${cp.toString(16).padStart(4, "0")}`;
    } else {
      out += `\\U${cp.toString(16).padStart(8, "0")}`;
    }
  }
  return out;
}
