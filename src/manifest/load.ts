// Loading manifest text into YAML documents. No I/O: callers pass the text and a source name.
//
// Owns `loadManifests`: a `---` stream (JSON is YAML, so a JSON object or `List` loads too)
// parsed with the `yaml` package in YAML 1.1 mode, because Kubernetes' YAML decoder (go-yaml v2
// via sigs.k8s.io/yaml) treats `yes`/`on`/`y` as booleans and honours `<<` merge keys
// (kubernetes/kubernetes#34146). The parsed `Document`s are kept so defaulting can be written
// back with comments intact. Syntax errors (duplicate keys included, which go-yaml rejects too)
// become one KimgError(INPUT_UNREADABLE) whose message is `source:line:col: problem`.

import type { Document } from "yaml";
import { isScalar, LineCounter, parseAllDocuments } from "yaml";
import { KimgError } from "../errors.ts";

/** One non-empty document of a manifest file. */
export interface ManifestDocument {
  /** 0-based position in the stream, counting empty documents too. */
  readonly index: number;
  /** 1-based line of the document's first content node. */
  readonly line: number;
  readonly document: Document.Parsed;
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

/** First line of a `yaml` error message without its " at line N, column M:" tail. */
function shortMessage(message: string): string {
  const first = message.split("\n", 1)[0] ?? message;
  return first.replace(/ at line \d+, column \d+:?\s*$/, "").trim();
}

/**
 * Parses a manifest stream. Throws KimgError(INPUT_UNREADABLE) with `source:line:col: problem`
 * on the first syntax error (the count of further errors is appended).
 */
export function loadManifests(text: string, source: string): ManifestFile {
  const lineCounter = new LineCounter();
  const parsed = parseAllDocuments(text, {
    version: "1.1",
    lineCounter,
    prettyErrors: true,
    keepSourceTokens: false,
  });
  const position = (offset: number): { line: number; column: number } => {
    const p = lineCounter.linePos(offset);
    // LineCounter reports line 0 before the first newline is registered; clamp to 1.
    return { line: Math.max(1, p.line), column: Math.max(1, p.col) };
  };
  // parseAllDocuments returns an EmptyStream (array-like with `empty: true`) for empty input.
  const docs: readonly Document.Parsed[] = Array.isArray(parsed) ? parsed : [];
  const errors = docs.flatMap((d) => d.errors);
  const firstError = errors[0];
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
  const documents: ManifestDocument[] = [];
  docs.forEach((document, index) => {
    const c = document.contents;
    // Empty documents (`---` followed by nothing or only comments) are skipped.
    if (c === null) return;
    if (isScalar(c) && c.value === null && c.source === "" && !c.tag) return;
    const start = c.range?.[0] ?? document.range[0];
    documents.push({ index, line: position(start).line, document });
  });
  const format = FORMAT_PROBE.exec(text)?.[1] !== undefined ? "json" : "yaml";
  return { source, text, format, documents, position };
}
