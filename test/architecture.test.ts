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
  oci: ["errors", "ref"],
  policy: ["errors", "ref"],
  explain: ["errors", "ref", "policy"],
  // Pure kubelet rules: events and waiting reasons, back-off, KEP-2535 pull records, image GC
  // planning, KubeletConfiguration defaulting and validation. Time is always a parameter.
  kubelet: ["errors", "ref", "policy"],
  manifest: ["errors", "ref", "policy", "yaml"],
  // I/O: the local blob store and image records (node:fs, node:crypto; no HTTP).
  store: ["errors", "ref", "node:*"],
  core: ["errors", "ref", "oci", "policy", "explain"],
  // I/O: the registry HTTP client (undici; no disk) and registries.conf (smol-toml).
  registry: ["errors", "ref", "oci", "node:*", "undici", "smol-toml"],
  // I/O orchestration: registry → store pulls, the kubelet's policy rules.
  pull: ["errors", "ref", "oci", "store", "registry", "policy", "node:*"],
  // I/O: credential sources (files, credential-helper programs); the registry client's
  // CredentialStore is implemented structurally, without importing registry.
  credentials: ["errors", "ref", "node:*"],
  // Orchestration: the kubelet's image manager on one node (pods from manifests, pull secrets,
  // back-off, pull records, image GC) over the pull engine and the store.
  manager: [
    "errors",
    "ref",
    "oci",
    "policy",
    "kubelet",
    "manifest",
    "store",
    "registry",
    "credentials",
    "pull",
    "node:*",
  ],
  // I/O: layers → a root filesystem (tar-stream, fzstd for zstd on Node without zlib zstd);
  // unpackImage reads a stored image through pull's inspectImage.
  unpack: ["errors", "ref", "oci", "store", "pull", "node:*", "tar-stream", "fzstd"],
  // I/O: a stored image → an OCI layout, OCI archive or Docker archive (tar-stream).
  export: ["errors", "ref", "oci", "store", "pull", "node:*", "tar-stream"],
  index: [
    "core",
    "credentials",
    "manifest",
    "store",
    "registry",
    "pull",
    "kubelet",
    "manager",
    "unpack",
    "export",
  ],
  // index minus manifest (no `yaml`): the narrow entry `kimg pull`/`images`/`rmi` import, so a
  // pull's start-up does not load the manifest parser (docs/performance.md "Pulling").
  "pull-api": ["core", "credentials", "store", "registry", "pull"],
  // Front ends: the public API only (index; core or pull-api, both without manifests), their
  // own files and their libraries.
  cli: ["index", "core", "pull-api", "cli", "server", "commander", "node:*"],
  // Front end: `kimg ui`'s HTTP server (node:http only) and JSON API over the public API; the
  // CLI starts it (`kimg ui`).
  server: ["index", "core", "server", "node:*"],
};

/** Layers that may not touch the outside world (manifest takes text and returns results). */
const PURE = new Set(["errors", "ref", "oci", "policy", "explain", "manifest", "kubelet"]);

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

function importsOf(file: string): string[] {
  const text = readFileSync(file, "utf8");
  return [...text.matchAll(IMPORT_RE)].map((m) => m[1] ?? m[2] ?? m[3] ?? "");
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
      // Comments may mention these; code may not.
      const code = readFileSync(file, "utf8").replace(/\/\*[\s\S]*?\*\/|\/\/[^\n]*/g, "");
      for (const banned of IMPURE) {
        if (banned.test(code)) violations.push(`${relative(SRC, file)} uses ${banned.source}`);
      }
    }
    assert.deepEqual(violations, []);
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
