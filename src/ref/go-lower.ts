// Go's strings.ToLower, for error classification. Pure.
//
// Go lowercases rune by rune with unicode.ToLower (simple case mapping). JavaScript's
// toLowerCase applies full and context-sensitive mappings, which differ for U+0130 (İ → "i̇"
// in JS, "i" in Go) and final sigma. Upstream decides between "must be lowercase" and
// "invalid reference format" by comparing the lowercased input, so we emulate Go exactly.

// Any character that Go might lowercase: ASCII upper case or anything outside ASCII.
const MAYBE_UPPER = /[A-Z\u0080-\uffff]/;

export function goToLower(s: string): string {
  if (!MAYBE_UPPER.test(s)) return s;
  let out = "";
  for (const ch of s) {
    const cp = ch.codePointAt(0) ?? 0;
    if (cp < 0x80) {
      out += cp >= 0x41 && cp <= 0x5a ? String.fromCharCode(cp + 32) : ch;
    } else if (cp === 0x130) {
      out += "i"; // unicode.ToLower('İ') == 'i'; JS gives "i\u0307"
    } else {
      const lower = ch.toLowerCase();
      // Simple mapping is always one code point; keep the character when JS's full mapping
      // would expand it (only U+0130 does for lower case, handled above).
      out += [...lower].length === 1 ? lower : ch;
    }
  }
  return out;
}

/** True when Go's ToLower would change `s`. */
export function goLowerChanges(s: string): boolean {
  return MAYBE_UPPER.test(s) && goToLower(s) !== s;
}
