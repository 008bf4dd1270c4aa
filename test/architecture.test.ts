// Keeps the layers honest (../shared/specs/design-models.md §6.2, docs/architecture.md): the
// folders of src/ form an ORDER — pure model → pure policy → I/O → orchestration → facades →
// front ends — and a folder may import only folders of a LOWER rank, only through their
// index.ts, and no file may sit in an import cycle. Each folder also lists the outside packages
// it may use. Front ends reach the library only through the facades (index, core, pull-api).

import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, it } from "node:test";

const SRC = resolve(import.meta.dirname, "../src");

/** The layers, lowest first. A folder imports only folders of lower layers. */
const LAYERS: readonly (readonly string[])[] = [
  ["errors"],
  // Go's and apimachinery's text forms: durations, %q, field.Error, aggregate.Error.
  // Bounded concurrency; text for people (import-free: the web page loads it as is).
  ["go", "limit", "format", "json"],
  ["ref"],
  // The pure OCI model (manifests, indexes, configs, platforms) and the pull-policy rules.
  ["oci", "policy"],
  // Pure: explanations, the kubelet's rules (time is a parameter), manifests as text → results.
  ["explain", "kubelet", "manifest"],
  // I/O: the blob store and image records (disk), the registry client (HTTP), credential sources.
  ["store", "registry", "credentials"],
  // I/O over a stored image: unpacking into a root filesystem, exporting to layouts and archives.
  ["unpack", "export"],
  // Orchestration: registry → store pulls with the kubelet's pull-policy rules; remote reads
  // of a registry that need no store (kimg digest and the crane-like commands).
  ["pull", "remote"],
  // Orchestration: the kubelet's image manager on one node; manifests pinned to digests;
  // registry writes (push, copy, tag, delete) from a registry, a layout or the store.
  ["manager", "pin", "push"],
  // Facades: the public API (index), and narrow entries without manifests (core, pull-api), so
  // `kimg parse` and `kimg pull` start without loading `yaml`.
  ["core"],
  ["pull-api", "index"],
  // Front ends: `kimg ui`'s HTTP server, then the CLI (which starts it).
  ["server", "serve"],
  ["cli"],
];

/** Outside packages each folder may use ("node:*" = Node built-ins); none for the rest. */
const PACKAGES: Readonly<Record<string, readonly string[]>> = {
  manifest: ["yaml"],
  store: ["node:*", "valibot"],
  registry: ["node:*", "undici", "smol-toml"],
  credentials: ["node:*"],
  unpack: ["node:*", "tar-stream", "fzstd"],
  export: ["node:*", "tar-stream"],
  manager: ["node:*"],
  push: ["node:*"],
  server: ["node:*"],
  serve: ["node:*"],
  cli: ["node:*", "commander", "diff"],
};

/** Facades re-export whole folders; front ends may import nothing else of the library. */
const FACADES = new Set(["core", "pull-api", "index"]);
const FRONT_ENDS = new Set(["server", "serve", "cli"]);

const RANK: ReadonlyMap<string, number> = new Map(
  LAYERS.flatMap((names, rank) => names.map((n) => [n, rank] as const)),
);

/** Layers that may not touch the outside world (manifest takes text and returns results). */
const PURE = new Set([
  "errors",
  "go",
  "limit",
  "format",
  "json",
  "ref",
  "oci",
  "policy",
  "explain",
  "manifest",
  "kubelet",
]);

/** What "touching the outside world" looks like in source. */
const IMPURE: readonly RegExp[] = [
  /["']node:/,
  /\bprocess\./,
  /\bsetTimeout\b/,
  /\bsetInterval\b/,
  /\bsetImmediate\b/,
  /\bDate\.now\b/,
  /\bnew Date\(\s*\)/,
  /\bMath\.random\b/,
  /\bfetch\(/,
  /\brequire\(/,
];

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

// `import … from "x"`, `export … from "x"`, `import "x"` (side effects) and `import("x")`.
const IMPORT_RE =
  /(?:^|\n)\s*(?:import|export)\s[^;'"]*?from\s+["']([^"']+)["']|(?:^|\n)\s*import\s+["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/g;

/** Test-only override: a fake file's text, so the self-test can feed violations. */
const fakeText = new Map<string, string>();

function importsOf(file: string, o: { runtimeOnly?: boolean } = {}): string[] {
  const text = fakeText.get(file) ?? readFileSync(file, "utf8");
  return [...text.matchAll(IMPORT_RE)]
    .filter((m) => !(o.runtimeOnly === true && /^\s*(?:import|export)\s+type\s/.test(m[0])))
    .map((m) => m[1] ?? m[2] ?? m[3] ?? "");
}

function violationsOfText(file: string, text: string): string[] {
  fakeText.set(file, text);
  try {
    return violationsOf([file]);
  } finally {
    fakeText.delete(file);
  }
}

function targetOf(file: string, spec: string): string {
  if (spec.startsWith("node:")) return "node:*";
  if (!spec.startsWith(".")) return spec.split("/")[0] ?? spec;
  return layerOf(resolve(dirname(file), spec));
}

/** What breaks the order: a lower or equal layer, a file past a folder's index, a package. */
function violationsOf(list: readonly string[]): string[] {
  const out: string[] = [];
  for (const file of list) {
    const layer = layerOf(file);
    const rank = RANK.get(layer) ?? -1;
    for (const spec of importsOf(file)) {
      const target = targetOf(file, spec);
      const where = `${relative(SRC, file)} imports ${spec}`;
      if (!spec.startsWith(".")) {
        if (!(PACKAGES[layer] ?? []).includes(target)) out.push(`${where}: package not allowed`);
        continue;
      }
      if (target === layer) continue; // inside the folder (cycles are checked below)
      const targetRank = RANK.get(target);
      if (targetRank === undefined || targetRank >= rank) {
        out.push(`${where}: ${target} is not below ${layer}`);
        continue;
      }
      if (FRONT_ENDS.has(layer) && !FACADES.has(target) && !FRONT_ENDS.has(target)) {
        out.push(`${where}: a front end uses the library through index, core or pull-api`);
        continue;
      }
      const path = relative(SRC, resolve(dirname(file), spec));
      const throughIndex = path === `${target}.ts` || path === `${target}/index.ts`;
      if (!throughIndex) out.push(`${where}: import ${target}/index.ts instead`);
    }
  }
  return out;
}

/** Import cycles among the files, each printed once as a → b → a. */
function cyclesOf(list: readonly string[]): string[] {
  const edges = new Map<string, string[]>();
  for (const file of list) {
    // Runtime imports only: a type-only import is erased (Descriptor ↔ Platform types may refer
    // to each other), but a runtime cycle makes module initialisation order matter.
    edges.set(
      file,
      importsOf(file, { runtimeOnly: true })
        .filter((spec) => spec.startsWith("."))
        .map((spec) => resolve(dirname(file), spec)),
    );
  }
  const state = new Map<string, "open" | "done">();
  const found: string[] = [];
  const stack: string[] = [];
  const visit = (f: string): void => {
    state.set(f, "open");
    stack.push(f);
    for (const g of edges.get(f) ?? []) {
      if (state.get(g) === "open") {
        found.push([...stack.slice(stack.indexOf(g)), g].map((x) => relative(SRC, x)).join(" → "));
      } else if (state.get(g) === undefined && edges.has(g)) visit(g);
    }
    stack.pop();
    state.set(f, "done");
  };
  for (const f of list) if (state.get(f) === undefined) visit(f);
  return found;
}

describe("architecture", () => {
  const all = files(SRC);

  it("every source folder has a layer", () => {
    const unknown = [...new Set(all.map(layerOf))].filter((l) => !RANK.has(l));
    assert.deepEqual(unknown, [], `add these to LAYERS in their place: ${unknown}`);
  });

  it("imports only go down the layers, through each folder's index.ts", () => {
    assert.deepEqual(violationsOf(all), []);
  });

  it("no file is in an import cycle", () => {
    assert.deepEqual(cyclesOf(all), []);
  });

  it("pure layers do no I/O", () => {
    const violations: string[] = [];
    for (const file of all) {
      if (!PURE.has(layerOf(file))) continue;
      // Comments may mention these; code may not.
      const code = readFileSync(file, "utf8").replace(/\/\*[\s\S]*?\*\/|\/\/[^\n]*/g, "");
      for (const banned of IMPURE) {
        if (banned.test(code)) violations.push(`${relative(SRC, file)} uses ${banned.source}`);
      }
    }
    assert.deepEqual(violations, []);
  });

  it("the checker catches each kind of violation (so it can fail)", () => {
    const unpack = join(SRC, "unpack/fake.ts");
    const fake = (file: string, text: string) => {
      const v = violationsOfText(file, text);
      assert.equal(v.length, 1, `${file}: ${text} → ${v}`);
    };
    fake(unpack, 'import { pull } from "../pull/index.ts";'); // upward
    fake(unpack, 'import { x } from "../store/usage.ts";'); // past the index
    fake(join(SRC, "registry/fake.ts"), 'import { x } from "../store/index.ts";'); // same layer
    fake(join(SRC, "oci/fake.ts"), 'import { x } from "node:fs";'); // a package
    fake(join(SRC, "cli/fake.ts"), 'import { x } from "../store/index.ts";'); // past the facades
    assert.deepEqual(violationsOfText(unpack, 'import { x } from "../store/index.ts";'), []);
  });

  it("the checker sees every form of import (so it can fail)", () => {
    const main = join(SRC, "cli/main.ts");
    assert.ok(importsOf(main).includes("commander"));
    assert.equal(targetOf(main, "../ref/index.ts"), "ref");
    const forms = [
      ...`import "undici";\nimport x from "a";\nexport * from "b";\nawait import("c");`.matchAll(
        IMPORT_RE,
      ),
    ].map((m) => m[1] ?? m[2] ?? m[3]);
    assert.deepEqual(forms, ["undici", "a", "b", "c"]);
  });
});
