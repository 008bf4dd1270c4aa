// Linear-time matchers for the reference grammar, used for very long inputs. Pure.
//
// V8's regular expressions backtrack with a stack that grows with the number of repetitions,
// so a reference of some megabytes (`a/a/a/…`) overflows it (RangeError) where Go's RE2 just
// answers. Inputs longer than LONG_INPUT go through these scanners instead. They accept
// exactly the language of the expressions in grammar.ts, with the same captures (the test
// suite checks both on the same inputs). Why captures agree: path characters exclude ":" and
// "@", tag characters exclude "@", so in any match the path ends at the first ":" or "@",
// the tag at the "@"; and the optional `domain/` group can only be the first component.

/** Above this length the scanners are used instead of the regular expressions. */
export const LONG_INPUT = 8192;

const SLASH = 0x2f;
const COLON = 0x3a;
const AT = 0x40;
const DOT = 0x2e;
const UNDERSCORE = 0x5f;
const DASH = 0x2d;

const isLowerAlnum = (c: number): boolean => (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39);
const isAlpha = (c: number): boolean => (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a);
const isAlnum = (c: number): boolean => isAlpha(c) || (c >= 0x30 && c <= 0x39);
const isWord = (c: number): boolean => isAlnum(c) || c === UNDERSCORE;
const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39;
const isHex = (c: number): boolean =>
  isDigit(c) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46);

/** remote-name: path components ([a-z0-9]+ joined by ".", "_", "__", "-"+) joined by "/". */
export function isPath(s: string, from: number, to: number): boolean {
  if (from >= to) return false;
  let inRun = false; // inside [a-z0-9]+
  let sep = 0; // 0 none, 1 ".", 2 "_", 3 "__", 4 "-"+, 5 "/"
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (isLowerAlnum(c)) {
      inRun = true;
      sep = 0;
    } else if (inRun) {
      inRun = false;
      if (c === DOT) sep = 1;
      else if (c === UNDERSCORE) sep = 2;
      else if (c === DASH) sep = 4;
      else if (c === SLASH) sep = 5;
      else return false;
    } else if (sep === 2 && c === UNDERSCORE) {
      sep = 3;
    } else if (sep === 4 && c === DASH) {
      // "-"+ continues
    } else {
      return false;
    }
  }
  return inRun;
}

/** tag: [\w][\w.-]{0,127} */
export function isTag(s: string, from: number, to: number): boolean {
  const n = to - from;
  if (n < 1 || n > 128 || !isWord(s.charCodeAt(from))) return false;
  for (let i = from + 1; i < to; i++) {
    const c = s.charCodeAt(i);
    if (!isWord(c) && c !== DOT && c !== DASH) return false;
  }
  return true;
}

/** digest: [A-Za-z][A-Za-z0-9]*([-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9A-Fa-f]{32,} */
export function isDigest(s: string, from: number, to: number): boolean {
  let i = from;
  for (;;) {
    if (i >= to || !isAlpha(s.charCodeAt(i))) return false;
    i++;
    while (i < to && isAlnum(s.charCodeAt(i))) i++;
    if (i >= to) return false;
    const c = s.charCodeAt(i);
    if (c === COLON) break;
    if (c !== DASH && c !== UNDERSCORE && c !== 0x2b && c !== DOT) return false;
    i++;
  }
  i++;
  if (to - i < 32) return false;
  for (; i < to; i++) if (!isHex(s.charCodeAt(i))) return false;
  return true;
}

/** The strict digest of REMOTE_REFERENCE_RE: sha256/384/512 with the exact lower-case hex. */
export function isStrictDigest(s: string, from: number, to: number): boolean {
  const alg = s.slice(from, Math.min(to, from + 7));
  const len = alg === "sha256:" ? 64 : alg === "sha384:" ? 96 : alg === "sha512:" ? 128 : -1;
  if (len === -1 || to - from - 7 !== len) return false;
  for (let i = from + 7; i < to; i++) {
    const c = s.charCodeAt(i);
    if (!isDigit(c) && !(c >= 0x61 && c <= 0x66)) return false;
  }
  return true;
}

/** domain: (DNS labels | "[" [a-fA-F0-9:]+ "]") (":" [0-9]+)? */
export function isDomain(s: string, from: number, to: number): boolean {
  let i = from;
  if (i >= to) return false;
  if (s.charCodeAt(i) === 0x5b) {
    i++;
    const start = i;
    while (i < to && (isHex(s.charCodeAt(i)) || s.charCodeAt(i) === COLON)) i++;
    if (i === start || i >= to || s.charCodeAt(i) !== 0x5d) return false;
    i++;
  } else {
    for (;;) {
      if (i >= to || !isAlnum(s.charCodeAt(i))) return false;
      let last = s.charCodeAt(i);
      i++;
      while (i < to && (isAlnum(s.charCodeAt(i)) || s.charCodeAt(i) === DASH)) {
        last = s.charCodeAt(i);
        i++;
      }
      if (last === DASH) return false;
      if (i < to && s.charCodeAt(i) === DOT) {
        i++;
        continue;
      }
      break;
    }
  }
  if (i === to) return true;
  if (s.charCodeAt(i) !== COLON || i + 1 === to) return false;
  for (i++; i < to; i++) if (!isDigit(s.charCodeAt(i))) return false;
  return true;
}

/** A match: [whole, domain, path, tag, digest] like RegExp.exec's array (undefined = absent). */
export type Captures = [string, string | undefined, string, string | undefined, string | undefined];

type Remote = [path: string, tag: string | undefined, digest: string | undefined];

/** `path[:tag][@digest]` from `from` to the end; strict: REMOTE_REFERENCE_RE's digests. */
function matchRemote(s: string, from: number, strict: boolean): Remote | null {
  const n = s.length;
  let end = from;
  while (end < n) {
    const c = s.charCodeAt(end);
    if (c === COLON || c === AT) break;
    end++;
  }
  if (!isPath(s, from, end)) return null;
  let tag: string | undefined;
  let digest: string | undefined;
  let i = end;
  if (i < n && s.charCodeAt(i) === COLON) {
    const at = s.indexOf("@", i + 1);
    const tagEnd = at === -1 ? n : at;
    if (!isTag(s, i + 1, tagEnd)) return null;
    tag = s.slice(i + 1, tagEnd);
    i = tagEnd;
  }
  if (i < n) {
    if (!(strict ? isStrictDigest(s, i + 1, n) : isDigest(s, i + 1, n))) return null;
    digest = s.slice(i + 1);
  }
  return [s.slice(from, end), tag, digest];
}

/** REFERENCE_RE.exec, in linear time. */
export function linearReference(s: string): Captures | null {
  const slash = s.indexOf("/");
  if (slash > 0 && isDomain(s, 0, slash)) {
    const r = matchRemote(s, slash + 1, false);
    if (r !== null) return [s, s.slice(0, slash), ...r];
  }
  const r = matchRemote(s, 0, false);
  return r === null ? null : [s, undefined, ...r];
}

/** REMOTE_FULL_RE / REMOTE_REFERENCE_RE (strict) exec, in linear time: [whole, path, tag, digest]. */
export function linearRemote(
  s: string,
  strict: boolean,
): [string, string, string | undefined, string | undefined] | null {
  const r = matchRemote(s, 0, strict);
  return r === null ? null : [s, ...r];
}

/** ANCHORED_NAME_RE.exec, in linear time: [whole, domain, path]. */
export function linearName(s: string): [string, string | undefined, string] | null {
  const slash = s.indexOf("/");
  if (slash > 0 && isDomain(s, 0, slash) && isPath(s, slash + 1, s.length)) {
    return [s, s.slice(0, slash), s.slice(slash + 1)];
  }
  return isPath(s, 0, s.length) ? [s, undefined, s] : null;
}

/** go-digest's DigestRegexp, anchored: [a-z0-9]+([.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+ */
export function isGoDigest(s: string): boolean {
  const n = s.length;
  let i = 0;
  for (;;) {
    const start = i;
    while (i < n && isLowerAlnum(s.charCodeAt(i))) i++;
    if (i === start || i >= n) return false;
    const c = s.charCodeAt(i);
    if (c === COLON) break;
    if (c !== DOT && c !== 0x2b && c !== UNDERSCORE && c !== DASH) return false;
    i++;
  }
  i++;
  if (i >= n) return false;
  for (; i < n; i++) {
    const c = s.charCodeAt(i);
    if (!isAlnum(c) && c !== 0x3d && c !== UNDERSCORE && c !== DASH) return false;
  }
  return true;
}
