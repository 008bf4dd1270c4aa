// Tests for src/manifest/load.ts: YAML 1.1 parsing, empty documents, JSON detection and
// `source:line:col` syntax errors.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isKimgError } from "../../src/errors.ts";
import { loadManifests, MAX_DEPTH } from "../../src/manifest/index.ts";

function syntaxError(text: string, source = "in.yaml"): string {
  try {
    loadManifests(text, source);
  } catch (e) {
    assert.ok(isKimgError(e, "INPUT_UNREADABLE"), `expected INPUT_UNREADABLE, got ${String(e)}`);
    return e.message;
  }
  assert.fail("expected a syntax error");
}

describe("loadManifests", () => {
  it("reads YAML 1.1 booleans and octals as Kubernetes does (yes/on/y → true)", () => {
    const f = loadManifests("a: yes\nb: on\nc: y\nd: off\ne: 0755\nf: 'yes'\n", "x.yaml");
    const js = f.documents[0]?.document.toJS();
    assert.deepEqual(js, { a: true, b: true, c: true, d: false, e: 493, f: "yes" });
  });

  it("skips empty documents and keeps stream positions", () => {
    const text = "---\n---\n# only a comment\n---\nkind: Pod\n---\n\n---\nkind: Service\n";
    const f = loadManifests(text, "x.yaml");
    assert.equal(f.documents.length, 2);
    assert.deepEqual(
      f.documents.map((d) => [d.index, d.line]),
      [
        [2, 5],
        [4, 9],
      ],
    );
  });

  it("loads empty input as no documents", () => {
    assert.equal(loadManifests("", "e.yaml").documents.length, 0);
    assert.equal(loadManifests("# nothing\n", "e.yaml").documents.length, 0);
  });

  it("keeps an explicit null document (it is reported later, not dropped)", () => {
    assert.equal(loadManifests("null\n", "n.yaml").documents.length, 1);
  });

  it("detects JSON input", () => {
    assert.equal(loadManifests('  {"kind": "Pod"}', "p.json").format, "json");
    assert.equal(loadManifests('\uFEFF[{"kind": "Pod"}]', "p.json").format, "json");
    assert.equal(loadManifests("kind: Pod\n", "p.yaml").format, "yaml");
    assert.deepEqual(loadManifests('{"kind": "Pod"}', "p.json").documents[0]?.document.toJS(), {
      kind: "Pod",
    });
  });

  it("reports a syntax error as source:line:col: problem, on one line", () => {
    const msg = syntaxError("kind: Pod\n---\nspec:\n  containers: [a,\n b: c\n", "deploy.yaml");
    assert.match(msg, /^deploy\.yaml:5:2: Flow sequence/);
    assert.ok(!msg.includes("\n"), msg);
    assert.ok(!/at line \d+, column/.test(msg), msg);
  });

  it("reports the first error's position and counts the others", () => {
    const msg = syntaxError("a: 1\nb: [\n---\nc: {\n");
    assert.match(msg, /^in\.yaml:\d+:\d+: .+ \(and \d+ more\)$/);
  });

  it("rejects duplicate keys, as go-yaml does", () => {
    const msg = syntaxError("kind: Pod\nmetadata:\n  name: a\n  name: b\n", "dup.yaml");
    assert.match(msg, /^dup\.yaml:4:3: .*unique/i);
  });

  it("maps offsets to 1-based line and column", () => {
    const f = loadManifests("a: 1\nbb: 2\n", "x.yaml");
    assert.deepEqual(f.position(0), { line: 1, column: 1 });
    assert.deepEqual(f.position(5), { line: 2, column: 1 });
    assert.deepEqual(f.position(7), { line: 2, column: 3 });
  });
});

describe("YAML as Kubernetes reads it (go-yaml v2)", () => {
  it("keeps timestamps and base-60 numbers as strings, reads 1.1 booleans and octals", async () => {
    const { inspectManifests } = await import("../../src/manifest/index.ts");
    const text = [
      "apiVersion: v1",
      "kind: Pod",
      "metadata: {name: 2024-01-01}",
      "spec:",
      "  containers:",
      "  - name: a",
      "    image: 2001-12-14",
      "  - name: b",
      "    image: 5:30",
      "  - name: c",
      "    image: nginx",
      "    imagePullPolicy: yes",
      "",
    ].join("\n");
    const report = inspectManifests([loadManifests(text, "t.yaml")]);
    const byName = new Map(report.containers.map((c) => [c.containerName, c]));
    assert.equal(byName.get("a")?.image, "2001-12-14");
    assert.equal(byName.get("b")?.image, "5:30");
    assert.equal(byName.get("b")?.effectivePolicy, "IfNotPresent"); // "5:30" is image 5, tag 30
    assert.equal(report.containers[0]?.name, "2024-01-01");
    // `yes` is still the boolean true, which the API server rejects for a string field.
    assert.ok((byName.get("c")?.errors.length ?? 0) > 0);
  });
});

describe("nesting depth (hostile input never overflows the stack)", () => {
  const refused = (text: string, where: RegExp) => {
    assert.throws(
      () => loadManifests(text, "deep.yaml"),
      (e: unknown) =>
        isKimgError(e) &&
        e.code === "INPUT_UNREADABLE" &&
        where.test(e.message) &&
        e.message.endsWith(`exceeded max depth of ${MAX_DEPTH}`),
    );
  };
  it("reads MAX_DEPTH levels", () => {
    const text = `${"[".repeat(MAX_DEPTH)}${"]".repeat(MAX_DEPTH)}`;
    assert.equal(loadManifests(text, "ok.yaml").documents.length, 1);
  });
  it("refuses one level more, at the bracket that goes too deep", () => {
    refused(`a: ${"[".repeat(MAX_DEPTH)}${"]".repeat(MAX_DEPTH)}`, /^deep\.yaml:1:1003: /);
  });
  it("800 KB of nested brackets, closed or not, flow maps too", () => {
    for (const text of [
      `a: ${"[".repeat(400_000)}${"]".repeat(400_000)}`,
      `a: ${"[".repeat(800_000)}`,
      `a: ${"{".repeat(800_000)}`,
      `kind: Pod\nspec: ${"{a: ".repeat(200_000)}`,
    ]) {
      refused(text, /^deep\.yaml:\d+:\d+: /);
    }
  });
  it("deep block nesting", () => {
    let text = "a:\n";
    for (let i = 1; i < 3000; i++) text += `${" ".repeat(i)}b:\n`;
    refused(text, /^deep\.yaml:\d+:\d+: /);
  });
});
