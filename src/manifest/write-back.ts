// Writing the stored `imagePullPolicy` (API defaulting + AlwaysPullImages) back into manifests.
// Pure: returns text, or mutates only the `Document`s the caller loaded.
//
// Owns two renderings of the same plan (inspect.ts `plannedEdits`, edit-plan.ts `planEdit`):
// - `toYaml(files, report)`: the original text with minimal splices — a new
//   `imagePullPolicy: X` line right after the container's `image:` line, or a replaced value.
//   Every other byte — comments, blank lines, key order, quoting, flow style, `---` separators —
//   is kept. JSON input stays JSON (quoted key and value inserted after `"image": "…"`).
//   Several files are joined with `---` lines.
// - `applyToDocuments(report)`: the same change in the `yaml` Document trees, for callers that
//   keep working with them (`document.toString()` re-formats the text, which `toYaml` avoids).

import { isScalar, Scalar } from "yaml";
import type { TextEdit } from "./edit-plan.ts";
import { quoteStyle } from "./edit-plan.ts";
import type { PolicyEdit } from "./inspect.ts";
import { plannedEdits } from "./inspect.ts";
import type { ManifestFile } from "./load.ts";
import { spliceText } from "./pin.ts";
import type { ManifestReport } from "./types.ts";

/** One file's text with its edits spliced in (linear in the text size). */
function renderFile(file: ManifestFile, edits: readonly PolicyEdit[]): string {
  const te: TextEdit[] = [];
  for (const e of edits) if (e.plan.text !== undefined) te.push(e.plan.text);
  // Edits never overlap (one per YAML map); spliceText drops one that would anyway.
  return spliceText(file.text, te);
}

/**
 * The manifests as the API server would store them (defaulted and, with `alwaysPullImages`,
 * admitted), keeping the original text except for the changed `imagePullPolicy` values.
 */
export function toYaml(files: readonly ManifestFile[], report: ManifestReport): string {
  const byFile = new Map<ManifestFile, PolicyEdit[]>();
  for (const e of plannedEdits(report)) {
    const list = byFile.get(e.file) ?? [];
    list.push(e);
    byFile.set(e.file, list);
  }
  return joinManifestTexts(files.map((file) => renderFile(file, byFile.get(file) ?? [])));
}

/**
 * Several files' texts as one stream, as kubectl reads them: joined by `---` (or `...` before a
 * file that starts with directives), byte order marks dropped, a final newline.
 */
export function joinManifestTexts(texts: readonly string[]): string {
  let out = "";
  texts.forEach((t, i) => {
    const text = t.startsWith("\uFEFF") ? t.slice(1) : t;
    if (i > 0) {
      if (out !== "" && !out.endsWith("\n")) out += "\n";
      // A file that starts with directives needs the previous document closed with `...`.
      if (text.startsWith("%")) out += "...\n";
      else if (!/^---(\s|$)/.test(text)) out += "---\n";
    }
    out += text;
  });
  if (out !== "" && !out.endsWith("\n")) out += "\n";
  return out;
}

const applied = new WeakSet<PolicyEdit>();

/**
 * Writes the stored policies into the loaded `Document`s (idempotent per report). New pairs go
 * after `image` (else after `name`, else first); the map's own existing values are replaced.
 */
export function applyToDocuments(report: ManifestReport): void {
  for (const e of plannedEdits(report)) {
    if (applied.has(e)) continue;
    applied.add(e);
    const { plan } = e;
    if (plan.replace !== undefined) {
      const v = new Scalar(plan.value);
      const q = plan.placement.quote === "double" ? "double" : quoteStyle(plan.replace.value);
      if (q === "double") v.type = "QUOTE_DOUBLE";
      else if (q === "single") v.type = "QUOTE_SINGLE";
      plan.replace.value = v;
      continue;
    }
    const doc = e.container.doc.document;
    const pair = doc.createPair("imagePullPolicy", plan.value);
    const q = plan.placement.quote;
    if (q !== "plain" && isScalar(pair.key) && isScalar(pair.value)) {
      const t = q === "double" ? "QUOTE_DOUBLE" : "QUOTE_SINGLE";
      pair.key.type = t;
      pair.value.type = t;
    }
    const items = plan.map.items;
    const anchor = plan.placement.anchor;
    const at = anchor === undefined ? -1 : items.indexOf(anchor);
    const index = at === -1 ? 0 : plan.placement.after ? at + 1 : at;
    items.splice(index, 0, pair);
  }
}
