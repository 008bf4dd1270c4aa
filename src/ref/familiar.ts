// Familiar (short) forms and pattern matching (distribution/reference normalize.go,
// helpers.go). Pure.

import { KimgError } from "../errors.ts";
import { DEFAULT_DOMAIN, OFFICIAL_REPO_PREFIX } from "./normalize.ts";
import { isNamed, type Reference, referenceName, referenceString } from "./reference.ts";

/**
 * `familiarizeName`: drops the domain when it is exactly `docker.io`, then `library/` when
 * what follows has no further `/`. Tag and digest are kept. A digest-only reference has no
 * familiar form and is returned as is.
 */
export function familiarize(ref: Reference): Reference {
  if (!isNamed(ref) || ref.domain !== DEFAULT_DOMAIN) return ref;
  let path = ref.path;
  if (path.startsWith(OFFICIAL_REPO_PREFIX)) {
    const rest = path.slice(OFFICIAL_REPO_PREFIX.length);
    if (!rest.includes("/")) path = rest;
  }
  return { ...ref, domain: "", path };
}

/** `FamiliarName`: `docker.io/library/nginx` → `nginx`. */
export function familiarName(ref: Reference): string {
  return referenceName(familiarize(ref));
}

/** `FamiliarString`: the familiar name with tag and digest. */
export function familiarString(ref: Reference): string {
  return referenceString(familiarize(ref));
}

/**
 * `FamiliarMatch`: Go's path.Match against the familiar string, then against the familiar
 * name. `*` never crosses `/`. A malformed pattern throws "syntax error in pattern".
 */
export function familiarMatch(pattern: string, ref: Reference): boolean {
  const matched = pathMatch(pattern, familiarString(ref));
  if (!matched && isNamed(ref)) {
    try {
      return pathMatch(pattern, familiarName(ref));
    } catch {
      return false; // upstream ignores the second error: the first call already reported it
    }
  }
  return matched;
}

// ---- Go's path.Match, ported from go/src/path/match.go ----
// Works on arrays of code points (Go decodes runes) with indexes, never slicing, so a long
// pattern costs O(len(pattern) × len(name)) as in Go, not more.

function badPattern(): KimgError {
  return new KimgError("BAD_PATTERN", "syntax error in pattern");
}

/** Go `path.Match(pattern, name)`. Throws "syntax error in pattern" when malformed. */
export function pathMatch(patternText: string, nameText: string): boolean {
  const p = [...patternText];
  const n = [...nameText];
  let pi = 0; // start of the unread pattern
  let ni = 0; // start of the unread name
  outer: while (pi < p.length) {
    const { star, chunkStart, chunkEnd } = scanChunk(p, pi);
    pi = chunkEnd;
    if (star && chunkStart === chunkEnd) {
      // Trailing * matches the rest of the name unless it has a /.
      return n.indexOf("/", ni) === -1;
    }
    const r = matchChunk(p, chunkStart, chunkEnd, n, ni);
    if (r >= 0 && (r === n.length || pi < p.length)) {
      ni = r;
      continue;
    }
    if (r === ERR) throw badPattern();
    if (star) {
      // Look for a match skipping i+1 runes; * cannot skip /.
      for (let i = ni; i < n.length && n[i] !== "/"; i++) {
        const r2 = matchChunk(p, chunkStart, chunkEnd, n, i + 1);
        if (r2 >= 0) {
          // The last chunk must exhaust the name.
          if (pi === p.length && r2 < n.length) continue;
          ni = r2;
          continue outer;
        }
        if (r2 === ERR) throw badPattern();
      }
    }
    // Before failing, check that the rest of the pattern is well formed.
    while (pi < p.length) {
      const c = scanChunk(p, pi);
      pi = c.chunkEnd;
      if (matchChunk(p, c.chunkStart, c.chunkEnd, n, n.length) === ERR) throw badPattern();
    }
    return false;
  }
  return ni === n.length;
}

function scanChunk(
  p: readonly string[],
  from: number,
): { star: boolean; chunkStart: number; chunkEnd: number } {
  let i = from;
  let star = false;
  while (i < p.length && p[i] === "*") {
    i++;
    star = true;
  }
  const chunkStart = i;
  let inRange = false;
  scan: for (; i < p.length; i++) {
    switch (p[i]) {
      case "\\":
        if (i + 1 < p.length) i++;
        break;
      case "[":
        inRange = true;
        break;
      case "]":
        inRange = false;
        break;
      case "*":
        if (!inRange) break scan;
        break;
    }
  }
  return { star, chunkStart, chunkEnd: i };
}

/** matchChunk's outcomes besides "matched, rest of the name starts at index ≥ 0". */
const NO_MATCH = -1;
const ERR = -2;

/**
 * Matches p[ci, ce) against the start of n[si…]. Returns the index in n after the match,
 * NO_MATCH, or ERR for a malformed chunk (checked even after the match has failed, as Go does).
 */
function matchChunk(
  p: readonly string[],
  ci0: number,
  ce: number,
  n: readonly string[],
  si0: number,
): number {
  let ci = ci0;
  let si = si0;
  let failed = false;
  while (ci < ce) {
    if (!failed && si >= n.length) failed = true;
    const c = p[ci];
    if (c === "[") {
      const r = failed ? -1 : (n[si]?.codePointAt(0) ?? -1);
      if (!failed) si++;
      ci++;
      let negated = false;
      if (ci < ce && p[ci] === "^") {
        negated = true;
        ci++;
      }
      let match = false;
      let nrange = 0;
      for (;;) {
        if (ci < ce && p[ci] === "]" && nrange > 0) {
          ci++;
          break;
        }
        const lo = getEsc(p, ci, ce);
        if (lo === null) return ERR;
        ci = lo.next;
        let hi = lo.r;
        if (p[ci] === "-") {
          const h = getEsc(p, ci + 1, ce);
          if (h === null) return ERR;
          hi = h.r;
          ci = h.next;
        }
        if (lo.r <= r && r <= hi) match = true;
        nrange++;
      }
      if (match === negated) failed = true;
    } else if (c === "?") {
      if (!failed) {
        if (n[si] === "/") failed = true;
        si++;
      }
      ci++;
    } else {
      if (c === "\\") {
        ci++;
        if (ci >= ce) return ERR;
      }
      if (!failed) {
        if (p[ci] !== n[si]) failed = true;
        si++;
      }
      ci++;
    }
  }
  return failed ? NO_MATCH : si;
}

/** One (possibly escaped) rune of a character class; null when malformed. */
function getEsc(
  p: readonly string[],
  from: number,
  ce: number,
): { r: number; next: number } | null {
  let i = from;
  if (i >= ce || p[i] === "-" || p[i] === "]") return null;
  if (p[i] === "\\") {
    i++;
    if (i >= ce) return null;
  }
  const r = p[i]?.codePointAt(0) ?? -1;
  i++;
  if (i >= ce) return null;
  return { r, next: i };
}
