// The node tree src/manifest reads: a small, plain mirror of the `yaml` package's parsed nodes
// (scalars, maps, sequences, aliases with their source offsets). Pure.
//
// Owns the `MNode` types, `fromYaml` (a parsed `yaml` Document → MNodes, aliases linked to
// their anchors the way `Alias.resolve` finds them) and `yamlPeer` (an MNode → the `yaml` node
// at the same place, for the rare operations that need the real thing: `toJS` of a map where a
// string belongs, `applyToDocuments`). fast-parse.ts builds the same tree straight from text
// for the common subset of YAML, which is what makes large streams fast; a parity test checks
// that both producers agree node for node.

import type { Document, Node, Pair } from "yaml";
import { isAlias, isMap, isScalar, isSeq, visit } from "yaml";

/** `yaml`'s Scalar.type values. */
export type ScalarStyle =
  | "PLAIN"
  | "QUOTE_DOUBLE"
  | "QUOTE_SINGLE"
  | "BLOCK_LITERAL"
  | "BLOCK_FOLDED";

export interface MScalar {
  readonly kind: "scalar";
  /** As the `yaml` package resolves it (YAML 1.1 schema): string, number, boolean, null, Date… */
  readonly value: unknown;
  /** `range[0]` and `range[1]` of the `yaml` node: the value's source, quotes included. */
  readonly start: number;
  readonly end: number;
  readonly style: ScalarStyle | undefined;
}

export interface MPair {
  readonly key: MNode | null;
  readonly value: MNode | null;
}

export interface MMap {
  readonly kind: "map";
  readonly items: readonly MPair[];
  readonly flow: boolean;
  /** `range[0]`: the first key of a block map, the `{` of a flow map. */
  readonly start: number;
}

export interface MSeq {
  readonly kind: "seq";
  readonly items: readonly (MNode | null)[];
  readonly flow: boolean;
  readonly start: number;
}

export interface MAlias {
  readonly kind: "alias";
  /** The anchored node (the last one before the alias), or undefined when there is none. */
  readonly target: MNode | undefined;
  readonly start: number;
  readonly end: number;
}

export type MNode = MScalar | MMap | MSeq | MAlias;

/** Where MNodes came from: the document that can produce the real `yaml` nodes. */
export interface PeerSource {
  readonly document: Document.Parsed;
}

/** MNodes converted from `yaml` nodes remember them. */
const peers = new WeakMap<object, Node>();

function rangeOf(node: Node): readonly [number, number] {
  const r = node.range;
  // Every node of a parsed document has a range; keep the type honest anyway.
  return r ? [r[0], r[1]] : [-1, -1];
}

/**
 * Converts a parsed document's contents. Aliases are linked to the node that `Alias.resolve`
 * would return (the last node with that anchor before the alias, in `visit` order), without
 * expanding them.
 */
export function fromYaml(doc: Document.Parsed): MNode | null {
  const anchors = new Map<string, MNode>();
  const convert = (node: unknown): MNode | null => {
    if (isScalar(node)) {
      const [start, end] = rangeOf(node);
      const m: MScalar = {
        kind: "scalar",
        value: node.value,
        start,
        end,
        style: node.type as ScalarStyle | undefined,
      };
      peers.set(m, node);
      if (node.anchor) anchors.set(node.anchor, m);
      return m;
    }
    if (isMap(node)) {
      const items: MPair[] = [];
      const m: MMap = { kind: "map", items, flow: node.flow === true, start: rangeOf(node)[0] };
      peers.set(m, node);
      // `visit` order: the node itself (its anchor), then each pair's key, then its value.
      if (node.anchor) anchors.set(node.anchor, m);
      for (const p of node.items as unknown[]) {
        const pair = p as { key?: unknown; value?: unknown };
        const key = convert(pair.key);
        items.push({ key, value: convert(pair.value) });
      }
      return m;
    }
    if (isSeq(node)) {
      const items: (MNode | null)[] = [];
      const m: MSeq = { kind: "seq", items, flow: node.flow === true, start: rangeOf(node)[0] };
      peers.set(m, node);
      if (node.anchor) anchors.set(node.anchor, m);
      for (const item of node.items) items.push(convert(item));
      return m;
    }
    if (isAlias(node)) {
      const [start, end] = rangeOf(node);
      const m: MAlias = { kind: "alias", target: anchors.get(node.source), start, end };
      peers.set(m, node);
      return m;
    }
    return null;
  };
  return convert(doc.contents);
}

/** `yaml` nodes of a document by kind and start offset (built once per document). */
const indexes = new WeakMap<Document.Parsed, Map<string, Node>>();

function indexOf(doc: Document.Parsed): Map<string, Node> {
  let index = indexes.get(doc);
  if (index === undefined) {
    const built = new Map<string, Node>();
    visit(doc, {
      Node(_key, node) {
        const start = node.range?.[0];
        if (start === undefined) return;
        const kind = isScalar(node)
          ? "scalar"
          : isMap(node)
            ? "map"
            : isSeq(node)
              ? "seq"
              : "alias";
        const k = `${kind}:${start}`;
        if (!built.has(k)) built.set(k, node);
      },
    });
    index = built;
    indexes.set(doc, index);
  }
  return index;
}

/** The `yaml` node an MNode stands for (materializing the source's Document if needed). */
export function yamlPeer(source: PeerSource, node: MNode): Node {
  const known = peers.get(node);
  if (known !== undefined) return known;
  const found = indexOf(source.document).get(`${node.kind}:${node.start}`);
  if (found === undefined) throw new Error(`no yaml node at offset ${node.start}`);
  peers.set(node, found);
  return found;
}

/** The `yaml` pair an MPair of `map` stands for (same position in the peer map). */
export function yamlPairPeer(source: PeerSource, map: MMap, pair: MPair): Pair {
  const peer = yamlPeer(source, map);
  const i = map.items.indexOf(pair);
  const items = isMap(peer) ? (peer.items as Pair[]) : [];
  const found = items[i];
  if (found === undefined) throw new Error(`no yaml pair ${i} in the map at ${map.start}`);
  return found;
}

/**
 * The source offset of the node at `path` (map keys as strings, sequence indexes as numbers)
 * under `root`, or undefined when there is no such node. For located messages (`FILE:LINE`).
 */
export function offsetAt(
  root: MNode | null,
  path: readonly (string | number)[],
): number | undefined {
  let node: MNode | null | undefined = root;
  for (const step of path) {
    if (node === null || node === undefined) return undefined;
    if (node.kind === "alias") node = node.target;
    if (node === undefined) return undefined;
    if (typeof step === "number") {
      if (node.kind !== "seq") return undefined;
      node = node.items[step];
    } else {
      if (node.kind !== "map") return undefined;
      const pair: MPair | undefined = node.items.find(
        (p) => p.key?.kind === "scalar" && String(p.key.value) === step,
      );
      node = pair?.value;
    }
  }
  return node === null || node === undefined ? undefined : node.start;
}
