// Reading a document's node tree (tree.ts MNodes) the way Kubernetes reads the decoded object.
// Pure.
//
// Owns: alias resolution (with a budget against alias bombs), `<<` merge-key lookup (YAML 1.1,
// which go-yaml v2 — and so kubectl — honours), scalar extraction and a JS-ish type name for
// messages. Everything else in src/manifest walks nodes through these helpers so that the
// source positions of the nodes stay available for line numbers and for writing back.

import type { ManifestDocument } from "./load.ts";
import type { MMap, MNode, MPair, MScalar, MSeq } from "./tree.ts";

/** A resolved (non-alias) node. */
export type ValueNode = MScalar | MMap | MSeq;

/** Per-document reader state: the document (for `yaml` peers) and the alias budget. */
export interface NodeReader {
  readonly doc: ManifestDocument;
  /** Remaining alias resolutions for this document; exceeding it is an error. */
  aliasBudget: number;
}

/** Aliases resolved per document before we give up (a "billion laughs" guard). */
export const ALIAS_BUDGET = 10_000;

export class AliasBudgetExceeded extends Error {
  override readonly name = "AliasBudgetExceeded";
}

export function newReader(doc: ManifestDocument): NodeReader {
  return { doc, aliasBudget: ALIAS_BUDGET };
}

export function isScalar(node: unknown): node is MScalar {
  return (node as MNode | null | undefined)?.kind === "scalar";
}

export function isMap(node: unknown): node is MMap {
  return (node as MNode | null | undefined)?.kind === "map";
}

export function isSeq(node: unknown): node is MSeq {
  return (node as MNode | null | undefined)?.kind === "seq";
}

/** Follows aliases (chains included). `null`/`undefined` (no node) stays `undefined`. */
export function deref(r: NodeReader, node: MNode | null | undefined): ValueNode | undefined {
  let n = node;
  let hops = 0;
  while (n?.kind === "alias") {
    if (--r.aliasBudget < 0) {
      throw new AliasBudgetExceeded(`more than ${ALIAS_BUDGET} alias references in one document`);
    }
    if (++hops > 100) return undefined;
    n = n.target;
  }
  return n ?? undefined;
}

export function isMergeKey(key: MNode | null): boolean {
  if (key?.kind !== "scalar") return false;
  const v = key.value;
  return v === "<<" || (typeof v === "symbol" && v.description === "<<");
}

/** The string form of a key, as encoding/json would see it after YAML→JSON conversion. */
export function keyString(key: MNode | null): string | undefined {
  if (key?.kind === "scalar") {
    const v = key.value;
    if (typeof v === "string") return v;
    if (typeof v === "number" || typeof v === "boolean") return String(v);
    return undefined;
  }
  return undefined;
}

export interface Found {
  readonly pair: MPair;
  /** The map that holds the pair (differs from the queried map when found via `<<`). */
  readonly owner: MMap;
  /** True when the pair is in the queried map itself, not inherited through `<<`. */
  readonly own: boolean;
}

/**
 * Looks `key` up in a mapping. Own keys win over merged ones; among merge sources the first
 * wins (YAML merge-key semantics, as go-yaml v2 implements them).
 */
export function findPair(r: NodeReader, map: MMap, key: string): Found | undefined {
  let merges: (MNode | null)[] | undefined;
  for (const item of map.items) {
    const k = item.key;
    // Fast path: the common string key (a merge key's value is a symbol or "<<").
    if (k !== null && k.kind === "scalar" && k.value === key && key !== "<<") {
      return { pair: item, owner: map, own: true };
    }
    if (isMergeKey(k)) {
      merges ??= [];
      merges.push(item.value);
      continue;
    }
    if (keyString(k) === key) return { pair: item, owner: map, own: true };
  }
  if (merges === undefined) return undefined;
  for (const m of merges) {
    const v = deref(r, m);
    const sources: readonly (MNode | null)[] = v?.kind === "seq" ? v.items : [v ?? null];
    for (const s of sources) {
      const src = deref(r, s);
      if (src?.kind === "map") {
        const f = findPair(r, src, key);
        if (f) return { pair: f.pair, owner: f.owner, own: false };
      }
    }
  }
  return undefined;
}

/** The resolved value node of `key`, or `undefined` when absent. */
export function get(r: NodeReader, map: MMap, key: string): ValueNode | undefined {
  const f = findPair(r, map, key);
  return f ? deref(r, f.pair.value) : undefined;
}

/** True when the node is a YAML null (`~`, `null`, empty value) or absent. */
export function isNullish(node: ValueNode | undefined): boolean {
  return node === undefined || (node.kind === "scalar" && node.value === null);
}

/** Value of a scalar node as JavaScript (string, number, boolean, null…); maps/seqs → undefined. */
export function scalarValue(node: ValueNode | undefined): unknown {
  return node?.kind === "scalar" ? node.value : undefined;
}

/** The string at `key`, or `undefined` when absent, null or not a string. */
export function getString(r: NodeReader, map: MMap, key: string): string | undefined {
  const v = scalarValue(get(r, map, key));
  return typeof v === "string" ? v : undefined;
}

/** "a map", "a list", "a string", "a boolean (true)"… for messages. */
export function describeNode(node: ValueNode | undefined): string {
  if (node === undefined) return "nothing";
  if (node.kind === "map") return "a map";
  if (node.kind === "seq") return "a list";
  const v = node.value;
  if (v === null) return "null";
  if (typeof v === "string") return "a string";
  if (typeof v === "boolean") return `a boolean (${v})`;
  if (typeof v === "number" || typeof v === "bigint") return `a number (${String(v)})`;
  if (v instanceof Date) return "a timestamp";
  return "a value of another type";
}

/** Start offset of a node, if it came from source. */
export function startOf(node: MNode | null | undefined): number | undefined {
  return node?.start;
}
