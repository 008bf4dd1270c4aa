// Planning the `imagePullPolicy` write-back for one container. Pure.
//
// Owns `planEdit`: given the container's YAML map (aliases resolved) and the policy the API
// server would store, decide where the key goes and compute the text splice against the
// original source — a new `imagePullPolicy: X` line right after the `image:` line (same
// indentation and line endings; inside flow maps after the `image` value, on its own line when
// the map is pretty-printed), or a replaced value. Computed once, from the untouched parse, so
// later `Document` mutation (write-back.ts `applyToDocuments`) cannot disturb the offsets.
// JSON input (ManifestFile.format) gets double-quoted keys and values so it stays JSON.

import type { Pair, YAMLMap } from "yaml";
import { isScalar as isYamlScalar } from "yaml";
import type { PullPolicy } from "../policy/index.ts";
import type { ManifestFile } from "./load.ts";
import type { MMap, MNode, MPair, MScalar, PeerSource } from "./tree.ts";
import { yamlPairPeer, yamlPeer } from "./tree.ts";
import type { Found } from "./yaml-nodes.ts";
import { isMergeKey, keyString } from "./yaml-nodes.ts";

/** Replace `remove` characters at `at` with `insert`. */
export interface TextEdit {
  readonly at: number;
  readonly remove: number;
  readonly insert: string;
}

export type ScalarQuote = "plain" | "double" | "single";

/** Where a new pair goes in the `Document`: next to `anchor`. */
export interface PairPlacement {
  readonly anchor: Pair | undefined;
  readonly after: boolean;
  readonly quote: ScalarQuote;
}

/**
 * A planned write-back; `text` is undefined when no safe splice exists (reported). `map`,
 * `replace` and `placement.anchor` are nodes of the document's `yaml` Document, which is parsed
 * when they are first read (`applyToDocuments`); the text splice needs none of them.
 */
export interface EditPlan {
  readonly value: PullPolicy;
  readonly map: YAMLMap;
  /** The map's own `imagePullPolicy` pair to overwrite, if any. */
  readonly replace: Pair | undefined;
  readonly placement: PairPlacement;
  readonly text: TextEdit | undefined;
}

class Plan implements EditPlan {
  readonly #doc: PeerSource;
  readonly #node: MMap;
  readonly #replace: MPair | undefined;
  readonly #anchor: Anchor | undefined;
  readonly #quote: ScalarQuote;
  #map: YAMLMap | undefined;
  #replaceYaml: Pair | undefined;
  #placement: PairPlacement | undefined;

  constructor(
    readonly value: PullPolicy,
    readonly text: TextEdit | undefined,
    doc: PeerSource,
    node: MMap,
    replace: MPair | undefined,
    anchor: Anchor | undefined,
    quote: ScalarQuote,
  ) {
    this.#doc = doc;
    this.#node = node;
    this.#replace = replace;
    this.#anchor = anchor;
    this.#quote = quote;
  }

  get map(): YAMLMap {
    this.#map ??= yamlPeer(this.#doc, this.#node) as YAMLMap;
    return this.#map;
  }

  get replace(): Pair | undefined {
    if (this.#replace === undefined) return undefined;
    this.#replaceYaml ??= yamlPairPeer(this.#doc, this.#node, this.#replace);
    return this.#replaceYaml;
  }

  get placement(): PairPlacement {
    const anchor = this.#anchor;
    this.#placement ??= {
      anchor: anchor === undefined ? undefined : yamlPairPeer(this.#doc, this.#node, anchor.pair),
      after: anchor?.after ?? false,
      quote: this.#quote,
    };
    return this.#placement;
  }
}

export function planEdit(
  file: ManifestFile,
  doc: PeerSource,
  map: MMap,
  existing: Found | undefined,
  value: PullPolicy,
): EditPlan {
  const replace = existing?.own === true ? existing.pair : undefined;
  const anchor = anchorFor(map);
  const quote: ScalarQuote =
    file.format === "json" ? "double" : quoteStyle(anchor?.pair.key ?? null);
  const text = textEdit(file, map, replace, anchor, quote, value);
  return new Plan(value, text, doc, map, replace, anchor, quote);
}

/** The quoting of a scalar (a tree.ts MNode or a `yaml` Scalar); anything else is plain. */
export function quoteStyle(node: unknown): ScalarQuote {
  let type: unknown;
  if (isYamlScalar(node)) type = node.type;
  else if ((node as MNode | null | undefined)?.kind === "scalar") type = (node as MScalar).style;
  if (type === "QUOTE_DOUBLE") return "double";
  if (type === "QUOTE_SINGLE") return "single";
  return "plain";
}

function quoted(text: string, q: ScalarQuote): string {
  if (q === "double") return `"${text}"`;
  if (q === "single") return `'${text}'`;
  return text;
}

interface Anchor {
  readonly pair: MPair;
  readonly after: boolean;
}

/** Where the new pair goes: after `image`, else after `name`, else before the first key. */
function anchorFor(map: MMap): Anchor | undefined {
  const items = map.items;
  for (const key of ["image", "name"]) {
    const pair = items.find((p) => !isMergeKey(p.key) && keyString(p.key) === key);
    const kind = pair?.value?.kind;
    if (pair !== undefined && (kind === "scalar" || kind === "alias")) {
      return { pair, after: true };
    }
  }
  const first = items[0];
  return first === undefined ? undefined : { pair: first, after: false };
}

function lineStart(text: string, offset: number): number {
  return text.lastIndexOf("\n", offset - 1) + 1;
}

/**
 * `[start, end]` of a scalar or alias (its source, quotes included); collections only have a
 * start here (their end is never needed: the values edited or anchored on are scalars).
 */
function range(node: MNode | null): readonly [number, number] | undefined {
  if (node === null) return undefined;
  if (node.kind === "scalar" || node.kind === "alias") return [node.start, node.end];
  return [node.start, Number.NaN];
}

/** The text splice for one planned change. */
function textEdit(
  file: ManifestFile,
  map: MMap,
  existing: MPair | undefined,
  anchor: Anchor | undefined,
  keyQuote: ScalarQuote,
  value: PullPolicy,
): TextEdit | undefined {
  const text = file.text;
  const json = file.format === "json";

  if (existing !== undefined) {
    const v = existing.value;
    // A map or list here is not a string policy, so it is never written back.
    if (v !== null && v.kind !== "scalar" && v.kind !== "alias") return undefined;
    const r = range(v);
    if (r === undefined) {
      // `{ imagePullPolicy }` — a key without a value.
      const k = range(existing.key);
      return k
        ? { at: k[1], remove: 0, insert: `: ${quoted(value, json ? "double" : "plain")}` }
        : undefined;
    }
    const [start, end] = r;
    if (start === end) {
      // `imagePullPolicy:` with nothing after it.
      const sep = text[start - 1] === ":" ? " " : "";
      return { at: start, remove: 0, insert: `${sep}${value}` };
    }
    const old = text.slice(start, end);
    const keepEol = /\r?\n$/.exec(old)?.[0] ?? ""; // block scalars own their newline
    return {
      at: start,
      remove: end - start,
      insert: quoted(value, json ? "double" : quoteStyle(v)) + keepEol,
    };
  }

  const pairText = `${quoted("imagePullPolicy", keyQuote)}: ${quoted(value, keyQuote)}`;

  if (map.flow) {
    if (anchor === undefined) {
      const r = range(map);
      if (r === undefined || text[r[0]] !== "{") return undefined;
      return { at: r[0] + 1, remove: 0, insert: pairText };
    }
    const keyRange = range(anchor.pair.key);
    const valueRange = range(anchor.pair.value);
    if (keyRange === undefined) return undefined;
    const ls = lineStart(text, keyRange[0]);
    const ownLine = text.slice(ls, keyRange[0]).trim() === "";
    const eol = eolAt(text, keyRange[0]);
    const indent = " ".repeat(keyRange[0] - ls);
    if (!anchor.after) {
      return {
        at: keyRange[0],
        remove: 0,
        insert: ownLine ? `${pairText},${eol}${indent}` : `${pairText}, `,
      };
    }
    const at = valueRange?.[1] ?? keyRange[1];
    return { at, remove: 0, insert: ownLine ? `,${eol}${indent}${pairText}` : `, ${pairText}` };
  }

  // Block mapping.
  if (anchor === undefined) return undefined;
  const keyRange = range(anchor.pair.key);
  if (keyRange === undefined) return undefined;
  const indent = " ".repeat(keyRange[0] - lineStart(text, keyRange[0]));
  const eol = eolAt(text, keyRange[0]);
  if (!anchor.after) {
    return { at: keyRange[0], remove: 0, insert: `${pairText}${eol}${indent}` };
  }
  const p = range(anchor.pair.value)?.[1] ?? keyRange[1];
  if (p > 0 && text[p - 1] === "\n") {
    // Block scalar: its range already ends after the newline.
    return { at: p, remove: 0, insert: `${indent}${pairText}${eol}` };
  }
  const nl = text.indexOf("\n", p);
  if (nl === -1) return { at: text.length, remove: 0, insert: `${eol}${indent}${pairText}` };
  const at = text[nl - 1] === "\r" ? nl - 1 : nl;
  return { at, remove: 0, insert: `${eol}${indent}${pairText}` };
}

/** The line ending used by the line that contains `offset` (or the file's first one). */
function eolAt(text: string, offset: number): string {
  let nl = text.indexOf("\n", offset);
  if (nl === -1) nl = text.indexOf("\n");
  return nl > 0 && text[nl - 1] === "\r" ? "\r\n" : "\n";
}
