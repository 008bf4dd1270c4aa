// Entry names and whiteouts: the lexical half of path handling (no file system). The other half,
// resolving a cleaned name inside the target directory component by component, is apply.ts's.

export const WHITEOUT_PREFIX = ".wh.";
export const WHITEOUT_META_PREFIX = ".wh..wh.";
export const WHITEOUT_OPAQUE = ".wh..wh..opq";

/**
 * A tar entry name as path components relative to the root, like Go's
 * `filepath.Clean("/" + name)` minus the leading slash (containerd applyNaive cleans every
 * name; image-spec layer.md). Absolute names are confined (taken relative to the root, as
 * containerd and umoci do); "." and empty components vanish; ".." pops a component — and a
 * ".." that would climb above the root makes the name unsafe: returns undefined (we reject
 * rather than clamp, unlike containerd's RootPath, so a hostile layer is named in the error).
 */
export function cleanEntryName(name: string): string[] | undefined {
  const out: string[] = [];
  for (const c of name.split("/")) {
    if (c === "" || c === ".") continue;
    if (c === "..") {
      if (out.length === 0) return undefined;
      out.pop();
      continue;
    }
    out.push(c);
  }
  return out;
}

/** Components of a symlink target or path, "." and "" dropped ("..": kept, resolved later). */
export function splitPath(p: string): string[] {
  return p.split("/").filter((c) => c !== "" && c !== ".");
}

export type Whiteout =
  | { readonly kind: "none" }
  | { readonly kind: "opaque" }
  | { readonly kind: "whiteout"; readonly name: string }
  | { readonly kind: "invalid"; readonly why: string };

/**
 * What a base name means (containerd pkg/archive/tar.go, `validateWhiteout` and applyNaive):
 * `.wh..wh..opq` makes its directory opaque; other `.wh..wh.` names are reserved (invalid);
 * `.wh.NAME` deletes NAME from lower layers; a bare `.wh.`, and `.wh..`/`.wh...` (a whiteout
 * of the directory itself or its parent) are invalid.
 */
export function whiteoutOf(base: string): Whiteout {
  if (!base.startsWith(WHITEOUT_PREFIX)) return { kind: "none" };
  if (base === WHITEOUT_OPAQUE) return { kind: "opaque" };
  if (base.startsWith(WHITEOUT_META_PREFIX)) {
    return { kind: "invalid", why: "reserved whiteout meta name" };
  }
  const name = base.slice(WHITEOUT_PREFIX.length);
  if (name === "") return { kind: "invalid", why: "whiteout without a name" };
  if (name === "." || name === "..") {
    return { kind: "invalid", why: `whiteout of "${name}"` };
  }
  return { kind: "whiteout", name };
}

/** For messages: the name as the layer wrote it, control characters (NUL, newlines…) as "?". */
export function shownName(name: string): string {
  let out = "";
  for (const ch of name) {
    const c = ch.codePointAt(0) ?? 0;
    out += c < 0x20 || c === 0x7f ? "?" : ch;
  }
  return out;
}
