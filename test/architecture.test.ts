// Keeps the layers' import directions honest (../shared/specs/design-models.md §6.2):
// pure model → pure policy → I/O → orchestration → front ends. Each folder of src/ may import
// only the folders listed for it; front ends reach the library only through src/index.ts.

import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, it } from "node:test";

const SRC = resolve(import.meta.dirname, "../src");

/** Folder (or top-level file) → what it may import. "node:*" = Node built-ins. */
const ALLOWED: Readonly<Record<string, readonly string[]>> = {
  errors: [],
  ref: ["errors"],
  policy: ["errors", "ref"],
  explain: ["errors", "ref", "policy"],
  manifest: ["errors", "ref", "policy", "yaml"],
  index: ["errors", "ref", "policy", "explain", "manifest"],
  // Front ends: the public API only, plus their own files and their libraries.
  cli: ["index", "cli", "commander", "node:*"],
};

/** Pure layers may not touch the outside world. */
const PURE = new Set(["errors", "ref", "policy", "explain"]);

function files(dir: string): string[] {
  return readdirSync(dir, { recursive: true })
    .map(String)
    .filter((f) => f.endsWith(".ts"))
    .map((f) => join(dir, f));
}

function layerOf(file: string): string {
  const rel = relative(SRC, file);
  const first = rel.split("/")[0] ?? "";
  return first.replace(/\.ts$/, "");
}

const IMPORT_RE =
  /(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/g;

function importsOf(file: string): string[] {
  const text = readFileSync(file, "utf8");
  return [...text.matchAll(IMPORT_RE)].map((m) => m[1] ?? m[2] ?? "");
}

function targetOf(file: string, spec: string): string {
  if (spec.startsWith("node:")) return "node:*";
  if (!spec.startsWith(".")) return spec.split("/")[0] ?? spec;
  return layerOf(resolve(dirname(file), spec));
}

describe("architecture", () => {
  const all = files(SRC);

  it("every source folder has a rule", () => {
    const unknown = [...new Set(all.map(layerOf))].filter((l) => !(l in ALLOWED));
    assert.deepEqual(
      unknown,
      [],
      `add these to ALLOWED with their place in the layers: ${unknown}`,
    );
  });

  it("imports only go down the layers", () => {
    const violations: string[] = [];
    for (const file of all) {
      const layer = layerOf(file);
      const allowed = new Set([layer, ...(ALLOWED[layer] ?? [])]);
      for (const spec of importsOf(file)) {
        const target = targetOf(file, spec);
        if (!allowed.has(target))
          violations.push(`${relative(SRC, file)} imports ${spec} (${target})`);
      }
    }
    assert.deepEqual(violations, []);
  });

  it("pure layers do no I/O", () => {
    const violations: string[] = [];
    for (const file of all) {
      if (!PURE.has(layerOf(file))) continue;
      const text = readFileSync(file, "utf8");
      for (const banned of ["node:", "process.", "setTimeout", "Date.now"]) {
        if (text.includes(banned)) violations.push(`${relative(SRC, file)} uses ${banned}`);
      }
    }
    assert.deepEqual(violations, []);
  });

  it("the checker sees imports (so it can fail)", () => {
    const main = join(SRC, "cli/main.ts");
    assert.ok(importsOf(main).includes("commander"));
    assert.equal(targetOf(main, "../ref/index.ts"), "ref");
  });
});
