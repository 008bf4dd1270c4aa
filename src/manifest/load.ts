// Loading manifest text into YAML documents. No I/O: callers pass the text and a source name.
//
// Owns `loadManifests`: a `---` stream (JSON is YAML, so a JSON object or `List` loads too)
// read with the `yaml` package's semantics in YAML 1.1 mode, because Kubernetes' YAML decoder
// (go-yaml v2 via sigs.k8s.io/yaml) treats `yes`/`on`/`y` as booleans and honours `<<` merge
// keys (kubernetes/kubernetes#34146). Syntax errors (duplicate keys included, which go-yaml
// rejects too) become one KimgError(INPUT_UNREADABLE) whose message is `source:line:col: problem`.
//
// Speed: the stream is cut at its `---` lines (where `yaml`'s lexer always starts a new
// document) and each document is read by fast-parse.ts when it is in the subset that reader
// handles, else by `yaml` on its own (its offsets, and so every line number, are those of the
// whole stream). Each `ManifestDocument` carries the MNode tree that walk/inspect/edit-plan read;
// its `yaml` `Document` (for `applyToDocuments` and library callers) is parsed on first access.
// Streams the cut could misread (directives, `...` markers) go through `parseAllDocuments` as a
// whole. Syntax errors are reported exactly as `yaml` reports them for the whole stream: from
// the first document with an error, the rest of the stream is parsed by `yaml` in one piece.

import type { Document, Scalar, Tags, YAMLError } from "yaml";
import {
  Composer,
  isScalar,
  LineCounter,
  Parser,
  parseAllDocuments,
  Document as YamlDocument,
} from "yaml";
import { KimgError } from "../errors.ts";
import {
  Bail,
  FastReader,
  type LazyScalarFactory,
  PlainResolver,
  UNSUPPORTED_CHARS,
} from "./fast-parse.ts";
import type { MNode, MScalar, PeerSource, ScalarStyle } from "./tree.ts";
import { fromYaml, yamlPeer } from "./tree.ts";

/** One non-empty document of a manifest file. */
export interface ManifestDocument {
  /** 0-based position in the stream, counting empty documents too. */
  readonly index: number;
  /** 1-based line of the document's first content node. */
  readonly line: number;
  /** The `yaml` Document (parsed on first access when the fast reader read the document). */
  readonly document: Document.Parsed;
  /** The document's content as src/manifest reads it (same nodes, same offsets). */
  readonly root: MNode;
}

/** A loaded manifest file (or stdin). */
export interface ManifestFile {
  /** Name used in messages: the path as given, or `-`/`<stdin>`. */
  readonly source: string;
  /** The original text; `toYaml` splices its edits into it. */
  readonly text: string;
  /**
   * `json` when the text starts with `{` or `[` (after whitespace and a BOM). JSON input is
   * written back as JSON-compatible text (new keys are quoted), still byte-for-byte otherwise.
   */
  readonly format: "yaml" | "json";
  /** Non-empty documents in stream order. */
  readonly documents: readonly ManifestDocument[];
  /** 1-based line/column of a text offset. */
  position(offset: number): { line: number; column: number };
}

const FORMAT_PROBE = /^\uFEFF?\s*([[{])?/;

/** Lines where `yaml` may start or end documents other than at `---` (directives, `...`). */
const STREAM_SYNTAX = /^(?:%|\.\.\.)/m;
/** `---` lines: a new document starts there, whatever came before. */
const DOC_START = /^---(?=[ \t\r\n]|$)/gm;
/** Characters the fast reader does not handle. */
const SPECIAL = UNSUPPORTED_CHARS;
/** A line with content (not blank, not a comment), for the text before the first `---`. */
const CONTENT_LINE = /^ *[^ #\r\n]/m;

/**
 * The scalar types Kubernetes' decoder (go-yaml v2 via sigs.k8s.io/yaml) resolves: YAML 1.1's
 * booleans (`yes`, `on`, `y`), octal `0755`, `1_000` and so on — but not timestamps (go-yaml v2
 * keeps `2001-12-14` a string when decoding into interface{}, "for backward compatibility",
 * decode.go) and not base-60 numbers (`5:30` is a string in go-yaml v2; YAML 1.1 would read 330).
 * Used by both readers: `yaml` itself and the fast reader's plain-scalar resolver.
 */
export function kubernetesYamlTags(tags: Tags): Tags {
  return tags.filter((t) => {
    if (typeof t === "string") return true;
    return t.tag !== "tag:yaml.org,2002:timestamp" && (t as { format?: string }).format !== "TIME";
  });
}

type Options = {
  version: "1.1";
  customTags: typeof kubernetesYamlTags;
  lineCounter: LineCounter;
  prettyErrors: true;
  keepSourceTokens: false;
};

/** First line of a `yaml` error message without its " at line N, column M:" tail. */
function shortMessage(message: string): string {
  const first = message.split("\n", 1)[0] ?? message;
  return first.replace(/ at line \d+, column \d+:?\s*$/, "").trim();
}

/**
 * `yaml`'s prettifyError (errors.ts, not exported): adds the position and a source excerpt to
 * the message and sets `linePos`, as `parseAllDocuments` does with `prettyErrors`.
 */
function prettify(src: string, lc: LineCounter) {
  return (error: YAMLError): void => {
    if (error.pos[0] === -1) return;
    const linePos = error.pos.map((pos) => lc.linePos(pos)) as [
      { line: number; col: number },
      { line: number; col: number },
    ];
    error.linePos = linePos;
    const { line, col } = linePos[0];
    error.message += ` at line ${line}, column ${col}`;
    let ci = col - 1;
    let lineStr = src
      .substring(lc.lineStarts[line - 1] ?? 0, lc.lineStarts[line])
      .replace(/[\n\r]+$/, "");
    if (ci >= 60 && lineStr.length > 80) {
      const trimStart = Math.min(ci - 39, lineStr.length - 79);
      lineStr = `…${lineStr.substring(trimStart)}`;
      ci -= trimStart - 1;
    }
    if (lineStr.length > 80) lineStr = `${lineStr.substring(0, 79)}…`;
    if (line > 1 && /^ *$/.test(lineStr.substring(0, ci))) {
      let prev = src.substring(lc.lineStarts[line - 2] ?? 0, lc.lineStarts[line - 1]);
      if (prev.length > 80) prev = `${prev.substring(0, 79)}…\n`;
      lineStr = prev + lineStr;
    }
    if (/[^ ]/.test(lineStr)) {
      let count = 1;
      const end = linePos[1];
      if (end?.line === line && end.col > col) {
        count = Math.max(1, Math.min(end.col - col, 80 - ci));
      }
      const pointer = " ".repeat(ci) + "^".repeat(count);
      error.message += `:\n\n${lineStr}\n${pointer}\n`;
    }
  };
}

/** A `---` document of the stream, parsed by `yaml` on demand (same offsets as in the stream). */
class Segment implements PeerSource, LazyScalarFactory {
  #docs: Document.Parsed[] | undefined;

  constructor(
    private readonly text: string,
    readonly start: number,
    readonly end: number,
    private readonly options: Options,
  ) {}

  /** All documents `yaml` reads in this part of the stream, warnings and errors prettified. */
  parse(): Document.Parsed[] {
    if (this.#docs === undefined) {
      const parser = new Parser();
      parser.offset = this.start;
      const composer = new Composer(this.options);
      // The next document's `---` goes in too: where a document ends (its range) depends on
      // seeing it, as it does in the whole stream. The document it starts is dropped.
      const to = Math.min(this.end + 3, this.text.length);
      const docs = [...composer.compose(parser.parse(this.text.slice(this.start, to)))].filter(
        (d) => d.range[0] < this.end,
      ) as Document.Parsed[];
      const pretty = prettify(this.text, this.options.lineCounter);
      for (const doc of docs) {
        doc.errors.forEach(pretty);
        doc.warnings.forEach(pretty);
      }
      this.#docs = docs;
    }
    return this.#docs;
  }

  get document(): Document.Parsed {
    const doc = this.parse()[0];
    if (doc === undefined) throw new Error(`no document at offset ${this.start}`);
    return doc;
  }

  lazyScalar(start: number, style: ScalarStyle, end?: number): MScalar {
    return new LazyScalar(this, start, style, end);
  }
}

/**
 * A scalar the fast reader found but did not resolve (block scalars, multi-line flow scalars):
 * its value, and a block scalar's end, come from `yaml` when asked.
 */
class LazyScalar implements MScalar {
  readonly kind = "scalar" as const;
  readonly #source: PeerSource;
  readonly #end: number | undefined;

  constructor(
    source: PeerSource,
    readonly start: number,
    readonly style: ScalarStyle,
    end: number | undefined,
  ) {
    this.#source = source;
    this.#end = end;
  }

  private peer(): Scalar {
    return yamlPeer(this.#source, this) as Scalar;
  }

  get value(): unknown {
    return this.peer().value;
  }

  get end(): number {
    return this.#end ?? this.peer().range?.[1] ?? this.start;
  }
}

class LoadedDocument implements ManifestDocument {
  readonly #source: PeerSource;

  constructor(
    readonly index: number,
    readonly line: number,
    readonly root: MNode,
    source: PeerSource,
  ) {
    this.#source = source;
  }

  get document(): Document.Parsed {
    return this.#source.document;
  }
}

/** Empty documents (`---` followed by nothing or only comments) are skipped. */
function isEmptyDocument(doc: Document.Parsed): boolean {
  const c = doc.contents;
  if (c === null) return true;
  return isScalar(c) && c.value === null && c.source === "" && !c.tag;
}

let sharedResolver: PlainResolver | undefined;

function resolver(): PlainResolver {
  if (sharedResolver === undefined) {
    const doc = new YamlDocument(null, { version: "1.1", customTags: kubernetesYamlTags });
    sharedResolver = new PlainResolver(doc.schema.tags, doc.options);
  }
  return sharedResolver;
}

/** Where each line starts, exactly as the `yaml` parser reports line starts to a LineCounter. */
function lineCounterOf(text: string): LineCounter {
  const lc = new LineCounter();
  lc.addNewLine(0);
  for (let i = text.indexOf("\n"); i !== -1; i = text.indexOf("\n", i + 1)) lc.addNewLine(i + 1);
  return lc;
}

/**
 * Parses a manifest stream. Throws KimgError(INPUT_UNREADABLE) with `source:line:col: problem`
 * on the first syntax error (the count of further errors is appended).
 */
export function loadManifests(text: string, source: string): ManifestFile {
  const format = FORMAT_PROBE.exec(text)?.[1] !== undefined ? "json" : "yaml";
  // Beyond go-yaml's own limit the parsers are not even tried: `yaml` takes seconds to fail
  // on hundreds of thousands of unclosed `{`.
  if (text.length > GO_YAML_MAX_DEPTH && deepestOpener(text, GO_YAML_MAX_DEPTH) >= 0) {
    const at = lineCounterOf(text).linePos(deepestOpener(text, MAX_DEPTH));
    throw tooDeep(source, { line: Math.max(1, at.line), column: Math.max(1, at.col) });
  }
  let loaded: Loaded;
  try {
    loaded = STREAM_SYNTAX.test(text) ? loadWhole(text) : loadBySegments(text);
  } catch (e) {
    // The parsers recurse once per nesting level: a stack overflow here is nesting deeper than
    // this process can parse (deeper than MAX_DEPTH, which the check below enforces).
    if (!(e instanceof RangeError)) throw e;
    const at = lineCounterOf(text).linePos(Math.max(0, deepestOpener(text, MAX_DEPTH)));
    throw tooDeep(source, { line: Math.max(1, at.line), column: Math.max(1, at.col) });
  }
  const lineCounter = loaded.lineCounter;
  const position = (offset: number): { line: number; column: number } => {
    const p = lineCounter.linePos(offset);
    // LineCounter reports line 0 before the first newline is registered; clamp to 1.
    return { line: Math.max(1, p.line), column: Math.max(1, p.col) };
  };
  for (const d of loaded.list) {
    const deep = nodeBeyondMaxDepth(d.root);
    if (deep !== undefined) throw tooDeep(source, position(deep));
  }
  const errors = loaded.errors;
  const firstError = errors[0];
  // `yaml` turns its own stack overflow into a syntax error: the same nesting as above.
  if (firstError?.message.includes("Maximum call stack size exceeded")) {
    throw tooDeep(source, position(Math.max(0, deepestOpener(text, MAX_DEPTH))));
  }
  if (firstError) {
    const lp = firstError.linePos?.[0];
    const at = lp ? { line: lp.line, column: lp.col } : position(firstError.pos[0]);
    const more = errors.length > 1 ? ` (and ${errors.length - 1} more)` : "";
    throw new KimgError(
      "INPUT_UNREADABLE",
      `${source}:${at.line}:${at.column}: ${shortMessage(firstError.message)}${more}`,
      { cause: firstError },
    );
  }
  return { source, text, format, documents: loaded.list, position };
}

/**
 * The deepest nesting of collections kimg reads. go-yaml (Kubernetes' decoder, via
 * sigs.k8s.io/yaml) refuses more than 10000 flow levels or indents (scannerc.go
 * `max_flow_level`, `max_indents`: "exceeded max depth of 10000"); kimg's readers and walkers
 * recurse once per level, and 10000 levels would overflow Node's stack, so the limit is 1000
 * (as libyaml's default nest level). No real manifest comes near either (docs/security.md).
 */
export const MAX_DEPTH = 1000;
const GO_YAML_MAX_DEPTH = 10000;

function tooDeep(source: string, at: { line: number; column: number }): KimgError {
  return new KimgError(
    "INPUT_UNREADABLE",
    `${source}:${at.line}:${at.column}: exceeded max depth of ${MAX_DEPTH}`,
  );
}

/** The start offset of the first collection nested deeper than MAX_DEPTH; iterative. */
function nodeBeyondMaxDepth(root: MNode): number | undefined {
  const stack: [MNode, number][] = [[root, 1]];
  for (let top = stack.pop(); top !== undefined; top = stack.pop()) {
    const [node, depth] = top;
    if (node.kind !== "map" && node.kind !== "seq") continue;
    if (depth > MAX_DEPTH) return node.start;
    if (node.kind === "seq") {
      for (const item of node.items) if (item !== null) stack.push([item, depth + 1]);
    } else {
      for (const { key, value } of node.items) {
        if (key !== null) stack.push([key, depth + 1]);
        if (value !== null) stack.push([value, depth + 1]);
      }
    }
  }
  return undefined;
}

/**
 * The offset of the first `[` or `{` opened more than `limit` levels into unclosed brackets, or
 * -1. Quotes and block scalars are not followed, so this only points at the place after a parser
 * gave up, or refuses a text beyond go-yaml's own limit before any parser runs: a document with
 * ten thousand unbalanced brackets inside strings would be refused wrongly, which no manifest
 * has.
 */
function deepestOpener(text: string, limit: number): number {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x5b || c === 0x7b) {
      if (++depth > limit) return i;
    } else if ((c === 0x5d || c === 0x7d) && depth > 0) depth--;
  }
  return -1;
}

interface Loaded {
  readonly list: ManifestDocument[];
  readonly lineCounter: LineCounter;
  /** Syntax errors of every document, in stream order. */
  readonly errors: readonly YAMLError[];
}

/**
 * The stream cut at `---` lines. At the first document with a syntax error, the rest of the
 * stream is parsed by `yaml` in one piece (an unclosed quote runs past `---`), which gives the
 * whole stream's errors: the documents before it are valid, so they end where they end in it.
 */
function loadBySegments(text: string): Loaded {
  const lineCounter = lineCounterOf(text);
  const options: Options = {
    version: "1.1",
    customTags: kubernetesYamlTags,
    lineCounter,
    prettyErrors: true,
    keepSourceTokens: false,
  };
  const position = (offset: number): number => Math.max(1, lineCounter.linePos(offset).line);

  const starts: number[] = [0];
  for (const m of text.matchAll(DOC_START)) if (m.index !== 0) starts.push(m.index);
  // Text before the first `---` that is only comments (or anything unusual) belongs with the
  // next document: `yaml` attaches those comments to it.
  const first = starts[1];
  if (first !== undefined) {
    const head = text.slice(0, first);
    SPECIAL.lastIndex = 0;
    if (SPECIAL.test(head) || !CONTENT_LINE.test(head)) starts.splice(1, 1);
  }
  // Offsets of characters the fast reader leaves to `yaml`, to skip it for those documents.
  const special: number[] = [];
  SPECIAL.lastIndex = 0;
  for (let m = SPECIAL.exec(text); m !== null; m = SPECIAL.exec(text)) special.push(m.index);
  let sp = 0;

  const reader = new FastReader(resolver());
  const list: ManifestDocument[] = [];
  let index = 0;
  for (let i = 0; i < starts.length; i++) {
    const start = starts[i] as number;
    const end = starts[i + 1] ?? text.length;
    const segment = new Segment(text, start, end, options);
    while (sp < special.length && (special[sp] as number) < start) sp++;
    if (sp >= special.length || (special[sp] as number) >= end) {
      try {
        const root = reader.read(text, start, end, segment, true);
        if (root !== null) {
          list.push(new LoadedDocument(index, position(root.start), root, segment));
        }
        index++;
        continue;
      } catch (e) {
        if (!(e instanceof Bail)) throw e;
      }
    }
    for (const doc of segment.parse()) {
      if (doc.errors.length > 0)
        return { list, lineCounter, errors: errorsFrom(text, start, options) };
      if (!isEmptyDocument(doc)) {
        const root = fromYaml(doc) as MNode;
        const at = doc.contents?.range?.[0] ?? doc.range[0];
        list.push(new LoadedDocument(index, position(at), root, { document: doc }));
      }
      index++;
    }
  }
  return { list, lineCounter, errors: [] };
}

/** Syntax errors of the stream from `start` (a document start) on, prettified. */
function errorsFrom(text: string, start: number, options: Options): YAMLError[] {
  const parser = new Parser();
  parser.offset = start;
  const composer = new Composer(options);
  const pretty = prettify(text, options.lineCounter);
  const errors: YAMLError[] = [];
  for (const doc of composer.compose(parser.parse(text.slice(start)))) {
    for (const e of doc.errors) {
      pretty(e);
      errors.push(e);
    }
  }
  return errors;
}

/** The whole stream through `parseAllDocuments` (streams with directives or `...` lines). */
function loadWhole(text: string): Loaded {
  const lineCounter = new LineCounter();
  const parsed = parseAllDocuments(text, {
    version: "1.1",
    customTags: kubernetesYamlTags,
    lineCounter,
    prettyErrors: true,
    keepSourceTokens: false,
  });
  // parseAllDocuments returns an EmptyStream (array-like with `empty: true`) for empty input.
  const docs: readonly Document.Parsed[] = Array.isArray(parsed) ? parsed : [];
  const errors = docs.flatMap((d) => d.errors);
  const list: ManifestDocument[] = [];
  if (errors.length > 0) return { list, lineCounter, errors };
  docs.forEach((document, index) => {
    if (isEmptyDocument(document)) return;
    const c = document.contents;
    const start = c?.range?.[0] ?? document.range[0];
    const line = Math.max(1, lineCounter.linePos(start).line);
    list.push(new LoadedDocument(index, line, fromYaml(document) as MNode, { document }));
  });
  return { list, lineCounter, errors };
}
