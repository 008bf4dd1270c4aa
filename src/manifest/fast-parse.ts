// A fast reader for the YAML that manifests are made of. Pure.
//
// The `yaml` package reads about 1 MB/s of manifests (its lexer, CST parser and composer build
// several objects per character); a 10 MB stream took 10–14 s. This reader builds tree.ts's
// MNodes straight from the text, an order of magnitude faster, for the subset of YAML that
// manifests use in practice:
//   - block mappings and sequences (compact `- key: value` entries included), one key per line;
//   - plain, single- and double-quoted scalars, on one line or (as values in block
//     collections) folded over several, as go-yaml and controller-gen write long strings;
//   - literal/folded block scalars (`|`, `>`, with `-`/`+` chomping);
//   - flow mappings and sequences (JSON included) over any number of lines;
//   - anchors and aliases with simple names, `<<` merge keys;
//   - comments and blank lines anywhere a `yaml` document allows them; LF or CRLF line ends.
// Everything else — tags, `?` keys, multi-line scalars inside flow collections, explicit
// indentation indicators, tabs, lone CRs, directives, non-string keys, duplicate keys, anything
// malformed — makes it give up on that document (`Bail`), and load.ts parses the document with
// `yaml` instead. So the reader never has to be right about hard cases, only about the cases it
// accepts: for those, the tree it builds is the one `yaml` would build (values, styles, offsets,
// alias targets), which the parity test checks against `yaml` on generated and hand-written
// documents, damaged ones included.
//
// Scalars are resolved with the `yaml` package's own YAML 1.1 tags (`yes` → true, `0755` → 493…);
// the value of a block scalar or a folded multi-line scalar is left to `yaml` (LazyScalarFactory),
// which parses the document only if such a value is ever read.
//
// Lazy mode (what load.ts uses): a document is checked completely without building anything,
// then its collections build their own items when first read — a manifest's env, ports, probes
// and labels are never built, which saves most of the allocation (and garbage collection) of a
// large stream.

import type { ScalarTag } from "yaml";
import { isScalar } from "yaml";
import type { MAlias, MMap, MNode, MPair, MScalar, MSeq, ScalarStyle } from "./tree.ts";

/**
 * Characters the reader does not handle (tabs, a CR that does not end a line, other controls,
 * NEL, BOM, LS/PS). Callers must not hand it text that contains them (load.ts sends such
 * documents to `yaml`).
 */
export const UNSUPPORTED_CHARS =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: finding them is the point
  /[\x00-\x09\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\ufeff]|\r(?!\n)/g;

/** Thrown when a document is outside the subset; the caller falls back to `yaml`. */
export class Bail {
  private constructor() {}
  static readonly it = new Bail();
}

const NL = 10;
/** Always followed by NL here: load.ts keeps a lone CR away from the reader. */
const CR = 13;
const SP = 32;
const HASH = 35;
const COLON = 58;
const DASH = 45;
const DQ = 34;
const SQ = 39;
const LBRACE = 123;
const RBRACE = 125;
const LBRACKET = 91;
const RBRACKET = 93;
const COMMA = 44;
const BACKSLASH = 92;
const AMP = 38;
const STAR = 42;

/** Anchor and alias names we read ourselves (`yaml` allows more; those go to it). */
function isNameChar(c: number): boolean {
  return (
    (c >= 0x61 && c <= 0x7a) || // a-z
    (c >= 0x41 && c <= 0x5a) || // A-Z
    (c >= 0x30 && c <= 0x39) || // 0-9
    c === 0x5f || // _
    c === 0x2d || // -
    c === 0x2e // .
  );
}

/** Longest implicit key we accept (`yaml` rejects keys over 1024 characters). */
const MAX_KEY = 1000;

/** Characters a plain scalar may not start with here (indicators; some are legal but rare). */
function badPlainStart(c: number): boolean {
  switch (c) {
    case 0x21: // !
    case 0x22: // "
    case 0x23: // #
    case 0x25: // %
    case 0x26: // &
    case 0x27: // '
    case 0x2a: // *
    case 0x2c: // ,
    case 0x3a: // :
    case 0x3e: // >
    case 0x3f: // ?
    case 0x40: // @
    case 0x5b: // [
    case 0x5d: // ]
    case 0x60: // `
    case 0x7b: // {
    case 0x7c: // |
    case 0x7d: // }
      return true;
    default:
      return false;
  }
}

/** The end of a line: LF, or the CR of CRLF. */
function eol(c: number): boolean {
  return c === NL || c === CR;
}

function isFlowIndicator(c: number): boolean {
  return c === COMMA || c === LBRACKET || c === RBRACKET || c === LBRACE || c === RBRACE;
}

/** What PlainResolver returns for a `<<` key; the reader makes a Symbol("<<") of it, as `yaml` does. */
export const MERGE_KEY: unique symbol = Symbol("merge key");

/** Resolves plain scalars exactly as `yaml`'s composer does (findScalarTagByTest + resolve). */
export class PlainResolver {
  private readonly valueTags: readonly ScalarTag[];
  private readonly keyTags: readonly ScalarTag[];
  /** All of a list's patterns in one (sticky) regex: one test says "string" for most values. */
  private readonly anyValueTag: RegExp | undefined;
  private readonly anyKeyTag: RegExp | undefined;
  private readonly options: object;

  constructor(tags: readonly unknown[], options: object) {
    const scalarTags = (tags as ScalarTag[]).filter(
      (t) => !("collection" in t && t.collection) && t.test !== undefined,
    );
    this.valueTags = scalarTags.filter((t) => t.default === true);
    this.keyTags = scalarTags.filter((t) => t.default === true || t.default === "key");
    this.anyValueTag = combine(this.valueTags);
    this.anyKeyTag = combine(this.keyTags);
    this.options = options;
  }

  /** The value of a plain scalar, or Bail when `yaml` would report something or make a node. */
  resolve(source: string, atKey: boolean): unknown {
    const any = atKey ? this.anyKeyTag : this.anyValueTag;
    if (any !== undefined) {
      any.lastIndex = 0;
      if (!any.test(source)) return source;
    }
    const tags = atKey ? this.keyTags : this.valueTags;
    for (const tag of tags) {
      if (tag.test?.test(source)) {
        if (tag.default === "key") return MERGE_KEY; // `<<`
        let failed = false;
        let res: unknown;
        try {
          res = tag.resolve(
            source,
            () => {
              failed = true;
            },
            this.options as never,
          );
        } catch {
          throw Bail.it;
        }
        if (failed) throw Bail.it;
        // null and the booleans come back as plain Scalars; anything more (the merge key's
        // Scalar has behaviour attached) is left to `yaml`.
        if (isScalar(res)) {
          const own = Object.keys(res);
          if (own.length !== 1 || own[0] !== "value") throw Bail.it;
          return res.value;
        }
        if (res !== null && typeof res === "object" && !(res instanceof Date)) throw Bail.it;
        return res;
      }
    }
    return source;
  }
}

/** One regex matching whatever any of the tags' patterns matches (undefined if not possible). */
function combine(tags: readonly ScalarTag[]): RegExp | undefined {
  const sources: string[] = [];
  for (const t of tags) {
    const re = t.test;
    if (re === undefined) continue;
    if (re.flags.replace(/[gy]/g, "") !== "") return undefined;
    sources.push(`(?:${re.source})`);
  }
  return new RegExp(sources.join("|"), "y");
}

/**
 * Scalars whose value (block scalars, multi-line flow scalars: folding, chomping) and, for block
 * scalars, end come from `yaml` when first asked for.
 */
export interface LazyScalarFactory {
  lazyScalar(start: number, style: ScalarStyle, end?: number): MScalar;
}

const DQ_ESCAPES: Readonly<Record<string, string>> = {
  "0": "\0",
  a: "\x07",
  b: "\b",
  e: "\x1b",
  f: "\f",
  n: "\n",
  r: "\r",
  t: "\t",
  v: "\v",
  N: "\u0085",
  _: "\u00a0",
  L: "\u2028",
  P: "\u2029",
  " ": " ",
  '"': '"',
  "/": "/",
  "\\": "\\",
};

const HEX = /^[0-9a-fA-F]+$/;

/** Reader modes: check only, build everything, or build one collection's own items. */
const VALIDATE = 0;
const EAGER = 1;
const SHALLOW = 2;
type Mode = typeof VALIDATE | typeof EAGER | typeof SHALLOW;

/** What validation returns in place of nodes (nothing is built then; never pushed to). */
const NO_NODE: MScalar = { kind: "scalar", value: null, start: -1, end: -1, style: "PLAIN" };
const NO_PAIRS: MPair[] = [];
const NO_ITEMS: MNode[] = [];
const NO_MAP: MMap = { kind: "map", items: NO_PAIRS, flow: false, start: -1 };
const NO_SEQ: MSeq = { kind: "seq", items: NO_ITEMS, flow: false, start: -1 };

/** A document's text and what its lazy nodes need to build themselves later. */
export interface ReadContext {
  readonly src: string;
  /** End of the document (the next `---` line, or the end of the text). */
  readonly end: number;
  readonly scalars: LazyScalarFactory;
  readonly reader: FastReader;
  /** FastReader.ends of the document. */
  readonly ends: Map<number, number>;
}

/** A block or flow collection that reads its items from the text when first asked for. */
class LazyMap implements MMap {
  readonly kind = "map" as const;
  readonly #ctx: ReadContext;
  /** Column of a block map's keys; for a flow map, the enclosing block's column. */
  readonly #column: number;
  #items: readonly MPair[] | undefined;

  constructor(
    ctx: ReadContext,
    readonly start: number,
    readonly flow: boolean,
    column: number,
  ) {
    this.#ctx = ctx;
    this.#column = column;
  }

  get items(): readonly MPair[] {
    this.#items ??= (this.#ctx.reader.materialize(this.#ctx, this, this.#column) as MMap).items;
    return this.#items;
  }
}

class LazySeq implements MSeq {
  readonly kind = "seq" as const;
  readonly #ctx: ReadContext;
  readonly #column: number;
  #items: readonly (MNode | null)[] | undefined;

  constructor(
    ctx: ReadContext,
    readonly start: number,
    readonly flow: boolean,
    column: number,
  ) {
    this.#ctx = ctx;
    this.#column = column;
  }

  get items(): readonly (MNode | null)[] {
    this.#items ??= (this.#ctx.reader.materialize(this.#ctx, this, this.#column) as MSeq).items;
    return this.#items;
  }
}

/**
 * Reads one document of a stream: `src.slice(start, end)`, which holds at most one `---` line
 * (at its start, possibly after comments). Returns the root node, null for an empty document,
 * or throws Bail.
 *
 * With `lazy`, the document is first checked completely without building anything, and the
 * root comes back as a collection that builds its items (and lazy child collections) only when
 * they are read: a manifest's env, ports, probes and labels are never built. A document with
 * anchors or aliases is then read again and built eagerly, so aliases point at their nodes.
 * Lazy nodes call back into their reader to build items; every call sets all of its state.
 */
export class FastReader {
  private src = "";
  private end = 0;
  /** Start of the current content line's first character (or `end`). */
  private q = 0;
  /** Indentation of the current content line; -1 at the end. */
  private ind = -1;
  /** Scratch: an offset handed from one step to the next. */
  private p = 0;
  private mode: Mode = EAGER;
  private ctx: ReadContext | undefined;
  private scalars: LazyScalarFactory | undefined;
  /** Anchored nodes so far, by name (the last one wins, as `Alias.resolve` finds them). */
  private anchors: Map<string, MNode> | undefined;
  /** Set when the document has an anchor or alias (then it is built eagerly). */
  private sawAnchors = false;
  /** Reused key lists for duplicate checks, one per nesting level. */
  private readonly keyLists: unknown[][] = [];
  /**
   * Where each child that shallow mode passes over ends (its start → the start of the next
   * content line), recorded while validating, so rebuilding a collection does not rescan its
   * children. One per lazily read document.
   */
  private ends = new Map<number, number>();
  private depth = 0;

  constructor(private readonly resolver: PlainResolver) {}

  read(
    src: string,
    start: number,
    end: number,
    scalars: LazyScalarFactory,
    lazy = false,
  ): MNode | null {
    this.src = src;
    this.end = end;
    this.scalars = scalars;
    this.anchors = undefined;
    this.sawAnchors = false;
    this.depth = 0;
    this.mode = lazy ? VALIDATE : EAGER;
    if (lazy) this.ends = new Map();
    let ls = start;
    this.nextLine(ls);
    if (this.q < end && this.ind === 0 && this.isDocMarker(this.q)) {
      // `---`, then nothing but spaces and a comment on that line.
      this.p = this.q + 3;
      ls = this.finishLine(this.q + 3, true);
      this.nextLine(ls);
    }
    if (this.q >= end) return null;
    const rootStart = this.q;
    const rootColumn = this.ind;
    const c = src.charCodeAt(this.q);
    let root: MNode;
    let kind: "map" | "seq";
    if (c === LBRACE || c === LBRACKET) {
      root = this.flowCollection(this.q, -1);
      this.nextLine(this.finishLine(this.p, false));
      kind = c === LBRACE ? "map" : "seq";
    } else if (this.isSeqIndicator(this.q)) {
      root = this.blockSeq(this.ind);
      kind = "seq";
    } else {
      root = this.blockMap(this.ind);
      kind = "map";
    }
    if (this.q < end) throw Bail.it; // content after the root node
    if (!lazy) return root;
    // Aliases need their anchored nodes built: read such a document again, eagerly.
    if (this.sawAnchors) return this.read(src, start, end, scalars, false);
    const ctx: ReadContext = { src, end, scalars, reader: this, ends: this.ends };
    const flow = c === LBRACE || c === LBRACKET;
    const column = flow ? -1 : rootColumn;
    return kind === "map"
      ? new LazyMap(ctx, rootStart, flow, column)
      : new LazySeq(ctx, rootStart, flow, column);
  }

  /**
   * Builds a lazy collection's own items (child collections stay lazy; a flow collection is
   * built whole). The document was checked when it was read, so this cannot fail.
   */
  materialize(ctx: ReadContext, node: MMap | MSeq, column: number): MMap | MSeq {
    this.src = ctx.src;
    this.end = ctx.end;
    this.scalars = ctx.scalars;
    this.ends = ctx.ends;
    this.ctx = ctx;
    this.anchors = undefined;
    this.depth = 0;
    try {
      if (node.flow) {
        this.mode = EAGER;
        return this.flowCollection(node.start, column);
      }
      this.mode = SHALLOW;
      this.q = node.start;
      this.ind = column;
      return node.kind === "map" ? this.blockMap(column) : this.blockSeq(column);
    } catch (e) {
      if (e instanceof Bail)
        throw new Error(`fast reader: cannot rebuild the node at ${node.start}`);
      throw e;
    } finally {
      this.ctx = undefined;
    }
  }

  private isDocMarker(at: number): boolean {
    const s = this.src;
    if (s.charCodeAt(at) !== DASH || s.charCodeAt(at + 1) !== DASH || s.charCodeAt(at + 2) !== DASH)
      return false;
    const c = at + 3 < this.end ? s.charCodeAt(at + 3) : NL;
    return c === SP || eol(c);
  }

  /** `-` followed by a space or the end of the line. */
  private isSeqIndicator(at: number): boolean {
    if (this.src.charCodeAt(at) !== DASH) return false;
    const c = at + 1 < this.end ? this.src.charCodeAt(at + 1) : NL;
    return c === SP || eol(c);
  }

  /**
   * Moves to the next content line at or after the line start `ls`, skipping blank and
   * comment lines: sets `q` and `ind` (or `q = end`, `ind = -1`).
   */
  private nextLine(ls: number): void {
    const s = this.src;
    const end = this.end;
    let p = ls;
    while (p < end) {
      let q = p;
      while (q < end && s.charCodeAt(q) === SP) q++;
      if (q >= end) break;
      const c = s.charCodeAt(q);
      if (eol(c)) {
        p = c === CR ? q + 2 : q + 1;
        continue;
      }
      if (c === HASH) {
        const nl = s.indexOf("\n", q);
        if (nl === -1 || nl >= end) break;
        p = nl + 1;
        continue;
      }
      this.q = q;
      this.ind = q - p;
      return;
    }
    this.q = this.end;
    this.ind = -1;
  }

  /** The start of the line after the one that holds `at`. */
  private lineAfter(at: number): number {
    const nl = this.src.indexOf("\n", at);
    return nl === -1 || nl >= this.end ? this.end : nl + 1;
  }

  /**
   * Shallow mode: passes over a child that starts at `from` and whose other lines are all
   * indented more than `n` (block collections, multi-line flow collections, block scalars —
   * checked when the document was read): to where validation recorded its end, else by
   * indentation. `sameIndentSeq` also passes `- ` lines at column `n` (a sequence written at
   * its key's column).
   */
  private skipChild(from: number, n: number, sameIndentSeq: boolean): void {
    const to = this.ends.get(from);
    if (to !== undefined) {
      this.q = to;
      this.ind = to >= this.end ? -1 : to - (this.src.lastIndexOf("\n", to - 1) + 1);
      return;
    }
    let ls = this.lineAfter(from);
    for (;;) {
      this.nextLine(ls);
      if (this.q >= this.end || this.ind < n) return;
      if (this.ind === n && !(sameIndentSeq && this.isSeqIndicator(this.q))) return;
      ls = this.lineAfter(this.q);
    }
  }

  /**
   * After a value that ends at `at`: only spaces and a comment (separated by a space) may
   * follow on the line. Returns the start of the next line. `spaced` says whether a comment
   * directly at `at` is separated (true after an indicator that already had a space).
   */
  private finishLine(at: number, spaced: boolean): number {
    const s = this.src;
    const end = this.end;
    let p = at;
    while (p < end && s.charCodeAt(p) === SP) p++;
    if (p >= end) return end;
    const c = s.charCodeAt(p);
    if (c === NL) return p + 1;
    if (c === CR) return p + 2;
    if (c === HASH && (p > at || spaced)) {
      const nl = s.indexOf("\n", p);
      return nl === -1 || nl >= end ? end : nl + 1;
    }
    throw Bail.it;
  }

  private scalar(value: unknown, start: number, end: number, style: ScalarStyle): MScalar {
    return this.mode === VALIDATE ? NO_NODE : { kind: "scalar", value, start, end, style };
  }

  /** A key list for a duplicate check at the current depth (reused across maps). */
  private keyList(): unknown[] {
    let list = this.keyLists[this.depth];
    if (list === undefined) {
      list = [];
      this.keyLists[this.depth] = list;
    } else {
      list.length = 0;
    }
    return list;
  }

  // -------------------------------------------------------------------------------------------
  // Block collections

  /** A block mapping whose first key is at `q`, at column `n`. */
  private blockMap(n: number, anchor?: string): MMap {
    const build = this.mode !== VALIDATE;
    const items: MPair[] = build ? [] : NO_PAIRS;
    const map: MMap = build ? { kind: "map", items, flow: false, start: this.q } : NO_MAP;
    if (anchor !== undefined && build) this.define(anchor, map);
    const keys = this.keyList();
    let keySet: Set<unknown> | undefined;
    this.depth++;
    do {
      const key = this.key();
      const k = this.p2;
      if (typeof k === "string") {
        // (`<<` keys are new Symbols: never duplicates.)
        if (keySet !== undefined) {
          if (keySet.has(k)) throw Bail.it;
          keySet.add(k);
        } else {
          for (let i = 0; i < keys.length; i++) if (keys[i] === k) throw Bail.it;
          keys.push(k);
          if (keys.length > 8) keySet = new Set(keys);
        }
      }
      const value = this.mapValue(n);
      if (build) items.push({ key, value });
    } while (this.q < this.end && this.ind === n);
    this.depth--;
    if (this.q < this.end && this.ind > n) throw Bail.it;
    return map;
  }

  /** The value after `key:` (`p` is just after the colon); leaves `q` at the next line. */
  private mapValue(n: number): MNode {
    const s = this.src;
    let p = this.p;
    while (p < this.end && s.charCodeAt(p) === SP) p++;
    let c = p < this.end ? s.charCodeAt(p) : NL;
    let anchor: string | undefined;
    if (c === AMP) {
      anchor = this.anchorName(p);
      p = this.p;
      c = p < this.end ? s.charCodeAt(p) : NL;
    }
    if (eol(c) || c === HASH) {
      const at = p;
      this.nextLine(this.finishLine(p, true));
      if (this.q < this.end) {
        if (this.ind > n) {
          const isSeq = this.isSeqIndicator(this.q);
          if (this.mode === SHALLOW) return this.lazyChild(isSeq, n, false);
          const from = this.q;
          const node = isSeq ? this.blockSeq(this.ind, anchor) : this.blockMap(this.ind, anchor);
          if (this.mode === VALIDATE) this.ends.set(from, this.q);
          return node;
        }
        if (this.ind === n && this.isSeqIndicator(this.q)) {
          if (this.mode === SHALLOW) return this.lazyChild(true, n, true);
          const from = this.q;
          const node = this.blockSeq(n, anchor);
          if (this.mode === VALIDATE) this.ends.set(from, this.q);
          return node;
        }
      }
      if (anchor !== undefined) throw Bail.it; // an anchored empty value
      return this.empty(at);
    }
    if (c === STAR) {
      if (anchor !== undefined) throw Bail.it;
      const alias = this.alias(p, false);
      this.nextLine(this.finishLine(this.p, false));
      return alias;
    }
    return this.inlineValue(p, n, anchor);
  }

  /** Shallow mode: a block collection starting at `q` (column `ind`), left for later. */
  private lazyChild(isSeq: boolean, n: number, sameIndentSeq: boolean): MNode {
    const ctx = this.ctx as ReadContext;
    const node = isSeq
      ? new LazySeq(ctx, this.q, false, this.ind)
      : new LazyMap(ctx, this.q, false, this.ind);
    this.skipChild(this.q, n, sameIndentSeq);
    return node;
  }

  /** An empty value (null) at `at`. */
  private empty(at: number): MScalar {
    if (this.mode === VALIDATE) return NO_NODE;
    // `yaml` resolves the empty string through the schema too.
    return this.scalar(this.resolver.resolve("", false), at, at, "PLAIN");
  }

  /** `&name` at `p`, then spaces; sets `p` to what follows. */
  private anchorName(p: number): string {
    this.sawAnchors = true;
    const s = this.src;
    let i = p + 1;
    while (i < this.end && isNameChar(s.charCodeAt(i))) i++;
    const after = i < this.end ? s.charCodeAt(i) : NL;
    if (i === p + 1 || (after !== SP && !eol(after))) throw Bail.it;
    const name = s.slice(p + 1, i);
    while (i < this.end && s.charCodeAt(i) === SP) i++;
    this.p = i;
    return name;
  }

  /** `*name` at `p`; sets `p` just after the name. */
  private alias(p: number, inFlow: boolean): MNode {
    this.sawAnchors = true;
    const s = this.src;
    let i = p + 1;
    while (i < this.end && isNameChar(s.charCodeAt(i))) i++;
    const after = i < this.end ? s.charCodeAt(i) : NL;
    if (i === p + 1) throw Bail.it;
    if (after !== SP && !eol(after) && !(inFlow && isFlowIndicator(after))) throw Bail.it;
    this.p = i;
    if (this.mode === VALIDATE) return NO_NODE;
    const alias: MAlias = {
      kind: "alias",
      target: this.anchors?.get(s.slice(p + 1, i)),
      start: p,
      end: i,
    };
    return alias;
  }

  private define(name: string, node: MNode): void {
    this.anchors ??= new Map();
    this.anchors.set(name, node);
  }

  /** A block sequence whose first `-` is at `q`, at column `n`. */
  private blockSeq(n: number, anchor?: string): MSeq {
    const s = this.src;
    const build = this.mode !== VALIDATE;
    const items: MNode[] = build ? [] : NO_ITEMS;
    const seq: MSeq = build ? { kind: "seq", items, flow: false, start: this.q } : NO_SEQ;
    if (anchor !== undefined && build) this.define(anchor, seq);
    do {
      let p = this.q + 1;
      while (p < this.end && s.charCodeAt(p) === SP) p++;
      let c = p < this.end ? s.charCodeAt(p) : NL;
      if (eol(c) || c === HASH || p === this.q + 1) throw Bail.it; // `-` alone, `-#`
      if (c === DASH && this.isSeqIndicator(p)) throw Bail.it; // `- - x`
      let item: MNode;
      if (c === STAR) {
        item = this.alias(p, false);
        this.nextLine(this.finishLine(this.p, false));
      } else if (c === AMP) {
        const itemAnchor = this.anchorName(p);
        p = this.p;
        c = p < this.end ? s.charCodeAt(p) : NL;
        if (eol(c) || c === HASH) {
          // `- &a` with the anchored collection on the next lines.
          this.nextLine(this.finishLine(p, true));
          if (this.q >= this.end || this.ind <= n) throw Bail.it;
          item = this.isSeqIndicator(this.q)
            ? this.blockSeq(this.ind, itemAnchor)
            : this.blockMap(this.ind, itemAnchor);
        } else {
          if (c === STAR || this.isKeyLine(p, c)) throw Bail.it; // `- &a *b`, `- &a k: v`
          item = this.inlineValue(p, n, itemAnchor);
        }
      } else if (this.isKeyLine(p, c)) {
        // A compact mapping: its keys line up with this first one.
        const lineStart = this.q - this.ind;
        const column = p - lineStart;
        if (this.mode === SHALLOW) {
          item = new LazyMap(this.ctx as ReadContext, p, false, column);
          this.skipChild(p, n, false);
        } else {
          this.q = p;
          this.ind = column;
          item = this.blockMap(column);
          if (this.mode === VALIDATE) this.ends.set(p, this.q);
        }
      } else {
        item = this.inlineValue(p, n);
      }
      if (build) items.push(item);
    } while (this.q < this.end && this.ind === n && this.isSeqIndicator(this.q));
    if (this.q < this.end && this.ind > n) throw Bail.it;
    return seq;
  }

  /** Whether the text at `p` (first char `c`) is `key:` followed by a space or line end. */
  private isKeyLine(p: number, c: number): boolean {
    const s = this.src;
    const end = this.end;
    if (c === DQ || c === SQ) {
      let i = p + 1;
      for (;;) {
        if (i >= end) return false;
        const ch = s.charCodeAt(i);
        if (eol(ch)) return false;
        if (c === DQ && ch === BACKSLASH) {
          i += 2;
          continue;
        }
        if (ch === c) {
          if (c === SQ && i + 1 < end && s.charCodeAt(i + 1) === SQ) {
            i += 2;
            continue;
          }
          break;
        }
        i++;
      }
      i++;
      if (i >= end || s.charCodeAt(i) !== COLON) return false;
      const after = i + 1 < end ? s.charCodeAt(i + 1) : NL;
      return after === SP || eol(after);
    }
    if (badPlainStart(c)) return false;
    for (let i = p; i < end; i++) {
      const ch = s.charCodeAt(i);
      if (eol(ch)) return false;
      if (ch === COLON) {
        const after = i + 1 < end ? s.charCodeAt(i + 1) : NL;
        if (after === SP || eol(after)) return true;
      } else if (ch === HASH && s.charCodeAt(i - 1) === SP) {
        return false;
      }
    }
    return false;
  }

  /** Set by `key()` and `flowKey()`: the key's value (for duplicate checks). */
  private p2: unknown;

  /** A block mapping key at `q`; sets `p` just after its colon and `p2` to its value. */
  private key(): MScalar {
    const s = this.src;
    const end = this.end;
    const q = this.q;
    const c = s.charCodeAt(q);
    if (c === DQ || c === SQ) {
      const key = this.quoted(q, c);
      const i = this.p;
      if (i >= end || s.charCodeAt(i) !== COLON) throw Bail.it;
      const after = i + 1 < end ? s.charCodeAt(i + 1) : NL;
      if (after !== SP && !eol(after)) throw Bail.it;
      if (i - q > MAX_KEY) throw Bail.it;
      this.p = i + 1;
      return key;
    }
    if (badPlainStart(c)) throw Bail.it;
    if (c === DASH && this.isSeqIndicator(q)) throw Bail.it;
    let i = q;
    for (;;) {
      if (i >= end) throw Bail.it;
      const ch = s.charCodeAt(i);
      if (eol(ch)) throw Bail.it;
      if (ch === COLON) {
        const after = i + 1 < end ? s.charCodeAt(i + 1) : NL;
        if (after === SP || eol(after)) break;
      } else if (ch === HASH && s.charCodeAt(i - 1) === SP) {
        throw Bail.it;
      }
      i++;
    }
    if (i - q > MAX_KEY) throw Bail.it;
    let e = i;
    while (s.charCodeAt(e - 1) === SP) e--;
    let value = this.resolver.resolve(s.slice(q, e), true);
    if (value === MERGE_KEY) value = Symbol("<<");
    else if (typeof value !== "string") throw Bail.it;
    this.p = i + 1;
    this.p2 = value;
    return this.scalar(value, q, e, "PLAIN");
  }

  /**
   * A value that starts on the current line at `p` (not a comment, not the line end), inside a
   * block collection at column `n`. Leaves `q` at the next content line.
   */
  private inlineValue(p: number, n: number, anchor?: string): MNode {
    const s = this.src;
    const c = s.charCodeAt(p);
    switch (c) {
      case DQ:
      case SQ: {
        const close = this.quoteEnd(p, c, n);
        const node =
          close === -1
            ? this.quoted(p, c)
            : this.lazy(p, c === DQ ? "QUOTE_DOUBLE" : "QUOTE_SINGLE", close + 1);
        if (close !== -1) this.p = close + 1;
        if (anchor !== undefined) this.define(anchor, node);
        this.nextLine(this.finishLine(this.p, false));
        return node;
      }
      case LBRACE:
      case LBRACKET: {
        if (this.mode === SHALLOW) {
          const ctx = this.ctx as ReadContext;
          const node = c === LBRACE ? new LazyMap(ctx, p, true, n) : new LazySeq(ctx, p, true, n);
          this.skipChild(p, n, false);
          return node;
        }
        const node = this.flowCollection(p, n, anchor);
        this.nextLine(this.finishLine(this.p, false));
        if (this.mode === VALIDATE) this.ends.set(p, this.q);
        return node;
      }
      case 0x7c: // |
      case 0x3e: {
        // >
        if (this.mode === SHALLOW) {
          const node = (this.scalars as LazyScalarFactory).lazyScalar(
            p,
            c === 0x7c ? "BLOCK_LITERAL" : "BLOCK_FOLDED",
          );
          this.skipChild(p, n, false);
          return node;
        }
        const node = this.blockScalar(p, n);
        if (anchor !== undefined) this.define(anchor, node);
        if (this.mode === VALIDATE) this.ends.set(p, this.q);
        return node;
      }
      default:
        break;
    }
    if (badPlainStart(c)) throw Bail.it;
    if (c === DASH && this.isSeqIndicator(p)) throw Bail.it;
    const end = this.end;
    let i = p;
    let e = p; // end of the value (last non-space + 1)
    let next = end; // start of the next line
    for (; i < end; i++) {
      const ch = s.charCodeAt(i);
      if (eol(ch)) {
        next = ch === CR ? i + 2 : i + 1;
        break;
      }
      if (ch === SP) {
        if (i + 1 < end && s.charCodeAt(i + 1) === HASH) {
          const nl = s.indexOf("\n", i);
          next = nl === -1 || nl >= end ? end : nl + 1;
          break;
        }
        continue;
      }
      if (ch === COLON) {
        const after = i + 1 < end ? s.charCodeAt(i + 1) : NL;
        if (after === SP || eol(after)) throw Bail.it; // a nested mapping: an error in yaml
      }
      e = i + 1;
    }
    // Lines indented more than `n` continue the scalar (folded); its value comes from `yaml`.
    const resume = i < end && eol(s.charCodeAt(i)) ? this.plainContinuation(next, n) : -1;
    const node =
      resume === -1
        ? this.scalar(this.resolver.resolve(s.slice(p, e), false), p, e, "PLAIN")
        : this.lazy(p, "PLAIN", this.p);
    if (anchor !== undefined) this.define(anchor, node);
    this.nextLine(resume === -1 ? next : resume);
    return node;
  }

  /** A scalar whose value `yaml` gives (nothing while validating). */
  private lazy(start: number, style: ScalarStyle, end: number): MScalar {
    return this.mode === VALIDATE
      ? NO_NODE
      : (this.scalars as LazyScalarFactory).lazyScalar(start, style, end);
  }

  /**
   * The lines from `ls` on that continue a plain scalar in a block collection at column `n`
   * (indented more than `n`; blank lines between them fold). Returns -1 when there are none,
   * else the start of the line after the last one, with `p` at the scalar's end.
   */
  private plainContinuation(ls: number, n: number): number {
    const s = this.src;
    const end = this.end;
    let line = ls;
    let resume = -1;
    while (line < end) {
      let k = line;
      while (k < end && s.charCodeAt(k) === SP) k++;
      if (k >= end) break;
      const c = s.charCodeAt(k);
      if (eol(c)) {
        line = c === CR ? k + 2 : k + 1;
        continue;
      }
      if (k - line <= n || c === HASH) break;
      let i = k;
      let e = k;
      let comment = false;
      for (; i < end; i++) {
        const ch = s.charCodeAt(i);
        if (eol(ch)) break;
        if (ch === SP) {
          if (i + 1 < end && s.charCodeAt(i + 1) === HASH) {
            comment = true;
            break;
          }
          continue;
        }
        if (ch === COLON) {
          const after = i + 1 < end ? s.charCodeAt(i + 1) : NL;
          if (after === SP || eol(after)) throw Bail.it; // a key on a continuation line
        }
        e = i + 1;
      }
      this.p = e;
      resume = this.lineAfter(i);
      if (comment) break;
      line = resume;
    }
    return resume;
  }

  /**
   * Where a quoted value at `p` that spans lines ends (its closing quote), or -1 when it ends on
   * its first line. Continuation lines must be indented more than `n`; escapes are checked.
   */
  private quoteEnd(p: number, quote: number, n: number): number {
    const s = this.src;
    const end = this.end;
    let multi = false;
    let i = p + 1;
    for (;;) {
      if (i >= end) throw Bail.it;
      const ch = s.charCodeAt(i);
      if (eol(ch)) {
        multi = true;
        const ls = ch === CR ? i + 2 : i + 1;
        let k = ls;
        while (k < end && s.charCodeAt(k) === SP) k++;
        if (k >= end) throw Bail.it;
        if (!eol(s.charCodeAt(k)) && k - ls <= n) throw Bail.it;
        i = k;
        continue;
      }
      if (ch === quote) {
        if (quote === SQ && i + 1 < end && s.charCodeAt(i + 1) === SQ) {
          i += 2;
          continue;
        }
        return multi ? i : -1;
      }
      if (quote === DQ && ch === BACKSLASH) {
        if (i + 1 >= end) throw Bail.it;
        const e = s.charCodeAt(i + 1);
        if (eol(e)) {
          i++; // an escaped line break
          continue;
        }
        const esc = String.fromCharCode(e);
        if (DQ_ESCAPES[esc] !== undefined) {
          i += 2;
          continue;
        }
        const len = esc === "x" ? 2 : esc === "u" ? 4 : esc === "U" ? 8 : 0;
        const hex = s.substr(i + 2, len);
        if (len === 0 || hex.length !== len || !HEX.test(hex)) throw Bail.it;
        if (Number.parseInt(hex, 16) > 0x10ffff) throw Bail.it;
        i += 2 + len;
        continue;
      }
      i++;
    }
  }

  /** A quoted scalar on one line at `p`; sets `p` just after the closing quote. */
  private quoted(p: number, quote: number): MScalar {
    const s = this.src;
    const end = this.end;
    let i = p + 1;
    let escaped = false;
    for (;;) {
      if (i >= end) throw Bail.it;
      const ch = s.charCodeAt(i);
      if (eol(ch)) throw Bail.it;
      if (ch === quote) {
        if (quote === SQ && i + 1 < end && s.charCodeAt(i + 1) === SQ) {
          escaped = true;
          i += 2;
          continue;
        }
        break;
      }
      if (quote === DQ && ch === BACKSLASH) {
        // An escaped line break continues the scalar on the next line: left to `yaml`.
        if (i + 1 >= end || eol(s.charCodeAt(i + 1))) throw Bail.it;
        escaped = true;
        i += 2;
        continue;
      }
      i++;
    }
    let value = s.slice(p + 1, i);
    if (escaped) value = quote === SQ ? value.replaceAll("''", "'") : unescapeDouble(value);
    this.p = i + 1;
    this.p2 = value;
    return this.scalar(value, p, i + 1, quote === DQ ? "QUOTE_DOUBLE" : "QUOTE_SINGLE");
  }

  /** `|` or `>` at `p`, in a block collection at column `n`. */
  private blockScalar(p: number, n: number): MScalar {
    const s = this.src;
    const end = this.end;
    let i = p + 1;
    const h = i < end ? s.charCodeAt(i) : NL;
    if (h === DASH || h === 0x2b /* + */) i++;
    const ls = this.finishLine(i, false);
    if (ls >= end) throw Bail.it;
    // Content: the first non-blank line sets the indentation; more-indented leading blank
    // lines, an empty scalar or the end of the document are left to `yaml`.
    let m = -1;
    let maxBlank = 0;
    let l = ls;
    while (l < end) {
      let k = l;
      while (k < end && s.charCodeAt(k) === SP) k++;
      if (k >= end) throw Bail.it;
      const ch = s.charCodeAt(k);
      if (eol(ch)) {
        maxBlank = Math.max(maxBlank, k - l);
        l = ch === CR ? k + 2 : k + 1;
        continue;
      }
      m = k - l;
      break;
    }
    if (m <= n || maxBlank > m || m < 1) throw Bail.it;
    // Lines indented at least `m`, and blank lines, belong to the scalar.
    while (l < end) {
      let k = l;
      while (k < end && s.charCodeAt(k) === SP) k++;
      if (k >= end) {
        l = end;
        break;
      }
      if (!eol(s.charCodeAt(k)) && k - l < m) break;
      const nl = s.indexOf("\n", k);
      l = nl === -1 || nl >= end ? end : nl + 1;
    }
    const node =
      this.mode === VALIDATE
        ? NO_NODE
        : (this.scalars as LazyScalarFactory).lazyScalar(
            p,
            s.charCodeAt(p) === 0x7c ? "BLOCK_LITERAL" : "BLOCK_FOLDED",
          );
    this.nextLine(l);
    return node;
  }

  // -------------------------------------------------------------------------------------------
  // Flow collections

  /**
   * Skips spaces, line breaks and comments inside a flow collection. Continuation lines must be
   * indented more than `n` (the enclosing block collection's column; -1 at the top level).
   */
  private flowSpace(p: number, n: number): number {
    const s = this.src;
    const end = this.end;
    for (;;) {
      if (p >= end) throw Bail.it;
      const c = s.charCodeAt(p);
      if (c === SP || c === CR) {
        p++;
      } else if (c === NL) {
        p++;
        let k = p;
        while (k < end && s.charCodeAt(k) === SP) k++;
        if (k >= end) throw Bail.it;
        const d = s.charCodeAt(k);
        if (!eol(d) && k - p <= n) throw Bail.it;
        p = k;
      } else if (c === HASH) {
        const prev = s.charCodeAt(p - 1);
        if (prev !== SP && prev !== NL) throw Bail.it;
        const nl = s.indexOf("\n", p);
        if (nl === -1 || nl >= end) throw Bail.it;
        p = nl;
      } else {
        return p;
      }
    }
  }

  /** `{…}` or `[…]` at `p`; sets `p` just after the closing bracket. */
  private flowCollection(p: number, n: number, anchor?: string): MMap | MSeq {
    const s = this.src;
    const build = this.mode !== VALIDATE;
    const isMap = s.charCodeAt(p) === LBRACE;
    const close = isMap ? RBRACE : RBRACKET;
    const start = p;
    p = this.flowSpace(p + 1, n);
    if (isMap) {
      const items: MPair[] = build ? [] : NO_PAIRS;
      const map: MMap = build ? { kind: "map", items, flow: true, start } : NO_MAP;
      if (anchor !== undefined && build) this.define(anchor, map);
      if (s.charCodeAt(p) === RBRACE) {
        this.p = p + 1;
        return map;
      }
      const keys = this.keyList();
      this.depth++;
      for (;;) {
        const key = this.flowKey(p);
        const k = this.p2;
        if (typeof k === "string") {
          for (let i = 0; i < keys.length; i++) if (keys[i] === k) throw Bail.it;
          keys.push(k);
        }
        p = this.flowSpace(this.p, n);
        const c = s.charCodeAt(p);
        if (c === COMMA || c === RBRACE) throw Bail.it; // `{a: }`, `{a:,}`
        const value = this.flowValue(p, n);
        if (build) items.push({ key, value });
        p = this.flowSpace(this.p, n);
        const d = s.charCodeAt(p);
        if (d === RBRACE) {
          this.p = p + 1;
          this.depth--;
          return map;
        }
        if (d !== COMMA) throw Bail.it;
        p = this.flowSpace(p + 1, n);
        if (s.charCodeAt(p) === close) throw Bail.it; // trailing comma
      }
    }
    const items: MNode[] = build ? [] : NO_ITEMS;
    const seq: MSeq = build ? { kind: "seq", items, flow: true, start } : NO_SEQ;
    if (anchor !== undefined && build) this.define(anchor, seq);
    if (s.charCodeAt(p) === RBRACKET) {
      this.p = p + 1;
      return seq;
    }
    for (;;) {
      const item = this.flowValue(p, n);
      if (build) items.push(item);
      p = this.flowSpace(this.p, n);
      const d = s.charCodeAt(p);
      if (d === RBRACKET) {
        this.p = p + 1;
        return seq;
      }
      if (d !== COMMA) throw Bail.it; // `[a: b]`, `[a b]` across lines…
      p = this.flowSpace(p + 1, n);
      if (s.charCodeAt(p) === close) throw Bail.it;
    }
  }

  /** A flow mapping key and its `:`; sets `p` just after the colon and `p2` to its value. */
  private flowKey(p: number): MScalar {
    const s = this.src;
    const end = this.end;
    const c = s.charCodeAt(p);
    if (c === DQ || c === SQ) {
      const key = this.quoted(p, c);
      let i = this.p;
      if (i - p > MAX_KEY || i >= end || s.charCodeAt(i) !== COLON) throw Bail.it;
      i++;
      this.p = i;
      return key;
    }
    let key = this.flowPlain(p, true);
    const i = this.p;
    // The plain scalar stopped at `:` followed by a space or line end.
    if (i >= end || s.charCodeAt(i) !== COLON) throw Bail.it;
    const after = i + 1 < end ? s.charCodeAt(i + 1) : NL;
    if (after !== SP && !eol(after)) throw Bail.it;
    let value = this.p2;
    if (value === MERGE_KEY) {
      value = Symbol("<<");
      key = this.scalar(value, key.start, key.end, "PLAIN");
    } else if (typeof value !== "string") {
      throw Bail.it;
    }
    if (i - p > MAX_KEY) throw Bail.it;
    this.p = i + 1;
    this.p2 = value;
    return key;
  }

  private flowValue(p: number, n: number): MNode {
    let c = this.src.charCodeAt(p);
    if (c === STAR) return this.alias(p, true);
    let anchor: string | undefined;
    if (c === AMP) {
      anchor = this.anchorName(p);
      p = this.p;
      c = p < this.end ? this.src.charCodeAt(p) : NL;
      if (eol(c) || c === HASH || c === STAR || isFlowIndicator(c)) {
        if (c !== LBRACE && c !== LBRACKET) throw Bail.it;
      }
    }
    if (c === LBRACE || c === LBRACKET) return this.flowCollection(p, n, anchor);
    const node = c === DQ || c === SQ ? this.quoted(p, c) : this.flowPlain(p, false);
    if (anchor !== undefined) this.define(anchor, node);
    return node;
  }

  /** A one-line plain scalar inside a flow collection; sets `p` just after it, `p2` to its value. */
  private flowPlain(p: number, atKey: boolean): MScalar {
    const s = this.src;
    const end = this.end;
    const c = s.charCodeAt(p);
    if (badPlainStart(c)) throw Bail.it;
    if (c === DASH) {
      const d = p + 1 < end ? s.charCodeAt(p + 1) : NL;
      if (d === SP || eol(d) || isFlowIndicator(d)) throw Bail.it;
    }
    let i = p;
    let e = p;
    for (; i < end; i++) {
      const ch = s.charCodeAt(i);
      if (eol(ch) || isFlowIndicator(ch)) break;
      if (ch === SP) {
        if (i + 1 < end && s.charCodeAt(i + 1) === HASH) break;
        continue;
      }
      if (ch === COLON) {
        const after = i + 1 < end ? s.charCodeAt(i + 1) : NL;
        if (after === SP || eol(after) || isFlowIndicator(after)) break;
      }
      e = i + 1;
    }
    const value = this.resolver.resolve(s.slice(p, e), atKey);
    this.p = e;
    this.p2 = value;
    return this.scalar(value, p, e, "PLAIN");
  }
}

/** The value of a one-line double-quoted scalar's content, as `yaml` reads it (or Bail). */
function unescapeDouble(raw: string): string {
  let out = "";
  let from = 0;
  for (let i = raw.indexOf("\\"); i !== -1; i = raw.indexOf("\\", from)) {
    out += raw.slice(from, i);
    const e = raw[i + 1] ?? "";
    const simple = DQ_ESCAPES[e];
    if (simple !== undefined) {
      out += simple;
      from = i + 2;
      continue;
    }
    const len = e === "x" ? 2 : e === "u" ? 4 : e === "U" ? 8 : 0;
    if (len === 0) throw Bail.it;
    const hex = raw.substr(i + 2, len);
    if (hex.length !== len || !HEX.test(hex)) throw Bail.it;
    const code = Number.parseInt(hex, 16);
    if (code > 0x10ffff) throw Bail.it;
    out += String.fromCodePoint(code);
    from = i + 2 + len;
  }
  return out + raw.slice(from);
}
