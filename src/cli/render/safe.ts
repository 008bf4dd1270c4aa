// Text from the network made safe for a terminal. Registry error texts, header values,
// credential helper and plugin messages, annotations and image config fields are untrusted: a
// raw ESC, C1 control, bare CR or newline in them could retitle the window, clear the screen or
// forge a line of kimg's output. Every such string is printed with its control characters
// escaped as Go's %q escapes them (docs/security.md "Terminal output").

import { escapeControls } from "../../core.ts";

/** `s` on one line, its control characters escaped: a message never spans lines. */
export const safe: (s: string) => string = escapeControls;

// JSON.stringify escapes C0 but leaves DEL, C1 (U+0080–U+009F, which some terminals act on),
// the line and paragraph separators and the bidi controls raw. As \u escapes they are the same
// JSON value and harmless on a terminal.
const JSON_UNSAFE_CHARS =
  "[\\u007f-\\u009f\\u061c\\u200b-\\u200f\\u2028-\\u202e\\u2060-\\u2069\\ufeff]";
const JSON_UNSAFE = new RegExp(JSON_UNSAFE_CHARS);
const JSON_UNSAFE_ALL = new RegExp(JSON_UNSAFE_CHARS, "g");

/** JSON.stringify, with the characters above written as `\u` escapes. */
export function toJson(value: unknown, space?: number): string {
  const s = JSON.stringify(value, null, space);
  return JSON_UNSAFE.test(s) ? s.replace(JSON_UNSAFE_ALL, jsonEscape) : s;
}

function jsonEscape(ch: string): string {
  return `\\u${(ch.codePointAt(0) ?? 0).toString(16).padStart(4, "0")}`;
}
