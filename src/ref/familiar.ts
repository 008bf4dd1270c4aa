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

// ---- Go's path.Match, ported rune for rune (go/src/path/match.go) ----

function badPattern(): KimgError {
  return new KimgError("BAD_PATTERN", "syntax error in pattern");
}

/** Go `path.Match(pattern, name)`. */
export function pathMatch(patternText: string, nameText: string): boolean {
  let pattern = [...patternText];
  let name = [...nameText];
  outer: while (pattern.length > 0) {
    const scanned = scanChunk(pattern);
    const { star, chunk } = scanned;
    pattern = scanned.rest;
    if (star && chunk.length === 0) {
      // Trailing * matches the rest of the name unless it has a /.
      return !name.includes("/");
    }
    const r = matchChunk(chunk, name);
    if (r.ok && (r.rest.length === 0 || pattern.length > 0)) {
      name = r.rest;
      continue;
    }
    if (r.err) throw badPattern();
    if (star) {
      for (let i = 0; i < name.length && name[i] !== "/"; i++) {
        const r2 = matchChunk(chunk, name.slice(i + 1));
        if (r2.ok) {
          if (pattern.length === 0 && r2.rest.length > 0) continue;
          name = r2.rest;
          continue outer;
        }
        if (r2.err) throw badPattern();
      }
    }
    // Before failing, check the rest of the pattern is well formed.
    while (pattern.length > 0) {
      const s = scanChunk(pattern);
      pattern = s.rest;
      if (matchChunk(s.chunk, []).err) throw badPattern();
    }
    return false;
  }
  return name.length === 0;
}

function scanChunk(pattern: string[]): { star: boolean; chunk: string[]; rest: string[] } {
  let star = false;
  let p = 0;
  while (p < pattern.length && pattern[p] === "*") {
    p++;
    star = true;
  }
  let inRange = false;
  let i = p;
  scan: for (; i < pattern.length; i++) {
    switch (pattern[i]) {
      case "\\":
        if (i + 1 < pattern.length) i++;
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
  return { star, chunk: pattern.slice(p, i), rest: pattern.slice(i) };
}

interface ChunkResult {
  readonly rest: string[];
  readonly ok: boolean;
  readonly err: boolean;
}

function matchChunk(chunkIn: string[], sIn: string[]): ChunkResult {
  let chunk = chunkIn;
  let s = sIn;
  let failed = false;
  while (chunk.length > 0) {
    if (!failed && s.length === 0) failed = true;
    const c = chunk[0];
    if (c === "[") {
      let r = "";
      if (!failed) {
        r = s[0] ?? "";
        s = s.slice(1);
      }
      chunk = chunk.slice(1);
      let negated = false;
      if (chunk[0] === "^") {
        negated = true;
        chunk = chunk.slice(1);
      }
      let match = false;
      let nrange = 0;
      for (;;) {
        if (chunk.length > 0 && chunk[0] === "]" && nrange > 0) {
          chunk = chunk.slice(1);
          break;
        }
        const lo = getEsc(chunk);
        if (lo === null) return { rest: [], ok: false, err: true };
        chunk = lo.rest;
        let hi = lo.r;
        if (chunk[0] === "-") {
          const h = getEsc(chunk.slice(1));
          if (h === null) return { rest: [], ok: false, err: true };
          hi = h.r;
          chunk = h.rest;
        }
        const rc = r.codePointAt(0) ?? -1;
        if ((lo.r.codePointAt(0) ?? 0) <= rc && rc <= (hi.codePointAt(0) ?? 0)) match = true;
        nrange++;
      }
      if (match === negated) failed = true;
    } else if (c === "?") {
      if (!failed) {
        if (s[0] === "/") failed = true;
        s = s.slice(1);
      }
      chunk = chunk.slice(1);
    } else {
      if (c === "\\") {
        chunk = chunk.slice(1);
        if (chunk.length === 0) return { rest: [], ok: false, err: true };
      }
      if (!failed) {
        if (chunk[0] !== s[0]) failed = true;
        s = s.slice(1);
      }
      chunk = chunk.slice(1);
    }
  }
  if (failed) return { rest: [], ok: false, err: false };
  return { rest: s, ok: true, err: false };
}

function getEsc(chunkIn: string[]): { r: string; rest: string[] } | null {
  let chunk = chunkIn;
  if (chunk.length === 0 || chunk[0] === "-" || chunk[0] === "]") return null;
  if (chunk[0] === "\\") {
    chunk = chunk.slice(1);
    if (chunk.length === 0) return null;
  }
  const r = chunk[0] ?? "";
  const rest = chunk.slice(1);
  if (rest.length === 0) return null;
  return { r, rest };
}
