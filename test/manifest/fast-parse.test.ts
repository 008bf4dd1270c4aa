// Tests for src/manifest/fast-parse.ts and the `---` cut in load.ts: the fast reader must build
// exactly the tree the `yaml` package builds (values, styles, offsets) for every document it
// accepts, and give up (Bail) on everything else. Checked on hand-written cases and on
// generated manifests with random damage; loadManifests is checked against a whole-stream
// `parseAllDocuments` reference (documents, lines, positions, Documents, error messages).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import type { Document } from "yaml";
import { LineCounter, parseAllDocuments, Document as YamlDocument } from "yaml";
import { isKimgError } from "../../src/errors.ts";
import {
  Bail,
  FastReader,
  type LazyScalarFactory,
  PlainResolver,
  UNSUPPORTED_CHARS,
} from "../../src/manifest/fast-parse.ts";
import { loadManifests } from "../../src/manifest/index.ts";
import { kubernetesYamlTags } from "../../src/manifest/load.ts";
import type { MNode, MScalar, PeerSource, ScalarStyle } from "../../src/manifest/tree.ts";
import { fromYaml, yamlPeer } from "../../src/manifest/tree.ts";
import { mulberry32 } from "../helpers/prng.ts";

/** `KIMG_FUZZ=50 node scripts/test.mjs fast-parse` runs the generated cases 50 times over. */
const FUZZ = Math.max(1, Number(process.env.KIMG_FUZZ ?? 1) || 1);

const schemaDoc = new YamlDocument(null, { version: "1.1", customTags: kubernetesYamlTags });
const reader = new FastReader(new PlainResolver(schemaDoc.schema.tags, schemaDoc.options));

/** Lazy scalars (block, folded) resolved against the document the test parsed with `yaml`. */
class TestLazy implements LazyScalarFactory, PeerSource {
  doc: Document.Parsed | undefined;
  get document(): Document.Parsed {
    if (this.doc === undefined) throw new Error("no document");
    return this.doc;
  }
  lazyScalar(start: number, style: ScalarStyle, end?: number): MScalar {
    const source = this;
    const node: MScalar = {
      kind: "scalar",
      start,
      style,
      get value() {
        return (yamlPeer(source, node) as { value: unknown }).value;
      },
      get end() {
        return end ?? yamlPeer(source, node).range?.[1] ?? start;
      },
    };
    return node;
  }
}

function fast(text: string, lazy = new TestLazy(), deferred = false): MNode | null | "bail" {
  // load.ts keeps these characters away from the reader.
  UNSUPPORTED_CHARS.lastIndex = 0;
  if (UNSUPPORTED_CHARS.test(text)) return "bail";
  try {
    return reader.read(text, 0, text.length, lazy, deferred);
  } catch (e) {
    if (e instanceof Bail) return "bail";
    throw e;
  }
}

function sameValue(a: unknown, b: unknown): boolean {
  if (a instanceof Date && b instanceof Date) return a.getTime() === b.getTime();
  // Every parse makes a new Symbol("<<") for a merge key.
  if (typeof a === "symbol" && typeof b === "symbol") return a.description === b.description;
  return Object.is(a, b);
}

/** The first difference between two trees, or undefined. */
function diff(a: MNode | null, b: MNode | null, path = "$"): string | undefined {
  if (a === null || b === null) return a === b ? undefined : `${path}: ${a?.kind} vs ${b?.kind}`;
  if (a.kind !== b.kind) return `${path}: kind ${a.kind} vs ${b.kind}`;
  if (a.start !== b.start) return `${path}: start ${a.start} vs ${b.start}`;
  switch (a.kind) {
    case "scalar": {
      const s = b as MScalar;
      if (!sameValue(a.value, s.value))
        return `${path}: value ${String(a.value)} vs ${String(s.value)}`;
      if (a.end !== s.end) return `${path}: end ${a.end} vs ${s.end}`;
      if (a.style !== s.style) return `${path}: style ${a.style} vs ${s.style}`;
      return undefined;
    }
    case "alias": {
      if (b.kind !== "alias") return path;
      if (a.end !== b.end) return `${path}: end ${a.end} vs ${b.end}`;
      if (a.target?.kind !== b.target?.kind || a.target?.start !== b.target?.start) {
        return `${path}: alias target`;
      }
      return undefined;
    }
    case "map": {
      if (b.kind !== "map") return path;
      if (a.flow !== b.flow) return `${path}: flow`;
      if (a.items.length !== b.items.length)
        return `${path}: ${a.items.length} vs ${b.items.length} pairs`;
      for (let i = 0; i < a.items.length; i++) {
        const p = a.items[i];
        const q = b.items[i];
        const d =
          diff(p?.key ?? null, q?.key ?? null, `${path}.key${i}`) ??
          diff(p?.value ?? null, q?.value ?? null, `${path}.value${i}`);
        if (d) return d;
      }
      return undefined;
    }
    case "seq": {
      if (b.kind !== "seq") return path;
      if (a.flow !== b.flow) return `${path}: flow`;
      if (a.items.length !== b.items.length)
        return `${path}: ${a.items.length} vs ${b.items.length} items`;
      for (let i = 0; i < a.items.length; i++) {
        const d = diff(a.items[i] ?? null, b.items[i] ?? null, `${path}[${i}]`);
        if (d) return d;
      }
      return undefined;
    }
  }
}

interface Verdict {
  readonly accepted: boolean;
  readonly problem?: string;
}

/** Fast reader (built eagerly, and lazily) vs `yaml` on one document's text. */
function check(text: string): Verdict {
  const eager = checkMode(text, false);
  const deferred = checkMode(text, true);
  if (eager.accepted !== deferred.accepted) return { accepted: true, problem: "modes disagree" };
  return eager.problem === undefined ? deferred : eager;
}

function checkMode(text: string, deferred: boolean): Verdict {
  const lazy = new TestLazy();
  const mine = fast(text, lazy, deferred);
  if (mine === "bail") return { accepted: false };
  const docs = parseAllDocuments(text, { version: "1.1", customTags: kubernetesYamlTags });
  const list = Array.isArray(docs) ? docs : [];
  const errors = list.flatMap((d) => d.errors.map((e) => e.message));
  if (errors.length > 0) return { accepted: true, problem: `yaml reports ${errors[0]}` };
  if (mine === null) {
    const empty = list.every((d) => d.contents === null || fromYaml(d)?.kind === "scalar");
    return { accepted: true, ...(empty && list.length <= 1 ? {} : { problem: "not empty" }) };
  }
  if (list.length !== 1) return { accepted: true, problem: `${list.length} documents` };
  const doc = list[0] as Document.Parsed;
  lazy.doc = doc;
  const d = diff(mine, fromYaml(doc));
  return { accepted: true, ...(d ? { problem: d } : {}) };
}

function assertParity(text: string, mustAccept = false): void {
  const v = check(text);
  assert.equal(v.problem, undefined, `${JSON.stringify(text)}: ${v.problem}`);
  if (mustAccept) assert.ok(v.accepted, `expected the fast reader to read ${JSON.stringify(text)}`);
}

// ---------------------------------------------------------------------------------------------
// A generator of manifest-like documents

const KEYS = [
  "name",
  "image",
  "imagePullPolicy",
  "kind",
  "apiVersion",
  "metadata",
  "spec",
  "containers",
  "a",
  "b",
  "c",
  "app.kubernetes.io/name",
  "a b",
  "x-y",
  "a:b",
  "-k",
  "k#1",
  "é",
  '"quoted"',
  "'single'",
  '"a\\"b"',
  "'it''s'",
];
/** Keys the reader leaves to yaml (not strings, the merge key) or that test its corners. */
const ODD_KEYS = ["yes", "on", "1", "~", "<<", '"<<"', "null", "y", ".5", "?k", "[k]", "&k k"];

/** Values the reader handles itself (typed ones included). */
const SCALARS = [
  "nginx",
  "nginx:1.25",
  "registry.example.com:5000/team/app@sha256:abc",
  "Always",
  "IfNotPresent",
  "yes",
  "Yes",
  "no",
  "on",
  "OFF",
  "y",
  "n",
  "true",
  "False",
  "~",
  "null",
  "Null",
  "NULL",
  "0",
  "-1",
  "+12",
  "0755",
  "0o7",
  "0x1F",
  "0b101",
  "1_000",
  "1e3",
  "e3",
  "1.5e-3",
  ".5",
  "1.",
  ".inf",
  "-.Inf",
  ".nan",
  "NaN",
  "12:30",
  "1:30:00.5",
  "190:20:30",
  "2001-12-14",
  "2001-12-14t21:59:43.10-05:00",
  "2001-12-14 21:59:43.10 +5",
  "2001-13-45",
  "a b c",
  "a #b",
  "a#b",
  "a:b",
  "-x",
  "--x",
  "a[0]",
  "a,b",
  "x]",
  "x}",
  '"dq"',
  '"a\\nb\\tc\\u00e9\\x41\\"\\\\\\/ \\_"',
  '"\\uD83D\\uDE00"',
  '"\\U0001F600"',
  '""',
  "''",
  "'it''s'",
  "'a # b'",
  '"a: b"',
  '"# c"',
  "café",
  "日本",
  "x".repeat(120),
];
/** Values the reader leaves to yaml, or that `yaml` rejects. */
const ODD_SCALARS = [
  "a: b",
  "a:",
  "- x",
  "[a]",
  "{b}",
  "?x",
  "? x",
  ":x",
  "&a x",
  "*a",
  "!t x",
  "%x",
  "@x",
  "`x",
  "|x",
  ">x",
  '"bad \\q"',
  '"\\x4"',
  "2001-13-45",
];

function pick<T>(r: () => number, xs: readonly T[]): T {
  return xs[Math.floor(r() * xs.length)] as T;
}

function spaces(n: number): string {
  return " ".repeat(Math.max(0, n));
}

class Gen {
  private out: string[] = [];
  constructor(private readonly r: () => number) {}

  private chance(p: number): boolean {
    return this.r() < p;
  }

  private key(): string {
    return this.chance(0.03) ? pick(this.r, ODD_KEYS) : pick(this.r, KEYS);
  }

  private scalar(): string {
    if (this.chance(0.04)) return this.alias();
    if (this.chance(0.04)) return `${this.anchor()} ${pick(this.r, SCALARS)}`;
    return this.chance(0.05) ? pick(this.r, ODD_SCALARS) : pick(this.r, SCALARS);
  }

  /** `&name`, sometimes reusing a name (the later anchor wins). */
  private anchor(): string {
    return `&${pick(this.r, ["a", "b", "base", "x-1", "y.z"])}`;
  }

  /** `*name`, usually of an anchor that exists. */
  private alias(): string {
    return `*${pick(this.r, ["a", "b", "base", "x-1", "y.z", "nope"])}`;
  }

  private junkLines(indent: number): void {
    while (this.chance(0.15)) {
      const k = Math.floor(this.r() * 3);
      if (k === 0) this.out.push("");
      else if (k === 1) this.out.push(`${spaces(indent + Math.floor(this.r() * 5) - 2)}# note`);
      else this.out.push(spaces(Math.floor(this.r() * 6)));
    }
  }

  private tail(): string {
    if (this.chance(0.1)) return "   # trailing";
    if (this.chance(0.05)) return "  ";
    return "";
  }

  private flow(depth: number): string {
    const isMap = this.chance(0.5);
    const n = depth > 2 ? 0 : Math.floor(this.r() * 4);
    const items: string[] = [];
    for (let i = 0; i < n; i++) {
      const v = this.chance(0.2) && depth < 3 ? this.flow(depth + 1) : this.scalar();
      items.push(isMap ? `${this.key()}: ${v}` : v);
    }
    const sep = this.chance(0.2) ? `,\n${spaces(Math.floor(this.r() * 8))}` : ", ";
    return isMap ? `{${items.join(sep)}}` : `[${items.join(sep)}]`;
  }

  private blockScalar(indent: number): string {
    const head = this.chance(0.1)
      ? pick(this.r, ["|2", "|#c", "|-+", ">1-"])
      : pick(this.r, ["|", ">", "|-", ">+", "|+", "| # c", ">- # c"]);
    const inner = indent + 1 + Math.floor(this.r() * 3);
    const lines = [head];
    const n = Math.floor(this.r() * 4);
    for (let i = 0; i < n; i++) {
      if (this.chance(0.2)) lines.push("");
      lines.push(`${spaces(inner + (this.chance(0.2) ? 2 : 0))}line ${i} # not a comment`);
    }
    if (this.chance(0.2)) lines.push(spaces(inner + 3));
    return lines.join("\n");
  }

  /** A plain or quoted scalar folded over lines (as go-yaml and controller-gen write them). */
  private multiLine(indent: number): string {
    const q = pick(this.r, ["", "", "'", '"']);
    const lines = [`${q}${pick(this.r, ["Spec defines", "a", "it''s", "x: y", "\\u00e9 ok"])}`];
    const n = 1 + Math.floor(this.r() * 3);
    for (let i = 0; i < n; i++) {
      if (this.chance(0.15)) lines.push(this.chance(0.5) ? "" : spaces(indent + 4));
      const more = this.chance(0.1) ? -1 : 1 + Math.floor(this.r() * 3);
      const word = pick(this.r, [
        "the state",
        "- of",
        "#x",
        "more: text",
        "a # b",
        "[z]",
        '\\"q\\"',
      ]);
      lines.push(`${spaces(indent + more)}${word}`);
    }
    return `${lines.join("\n")}${q}${this.tail()}`;
  }

  /** A value for `key:` in a map at `indent`; returns the text after `key:`. */
  private value(indent: number, depth: number): string {
    const r = this.r();
    const anchored = this.chance(0.08) ? ` ${this.anchor()}` : "";
    if (depth < 4 && r < 0.25) {
      const step = 1 + Math.floor(this.r() * 3);
      return `${anchored}${this.tail()}\n${this.map(indent + step, depth + 1)}`;
    }
    if (depth < 4 && r < 0.4) {
      const step = this.chance(0.4) ? 0 : 1 + Math.floor(this.r() * 3);
      return `${anchored}${this.tail()}\n${this.seq(indent + step, depth + 1)}`;
    }
    if (r < 0.5) return `${anchored} ${this.flow(depth)}${this.tail()}`;
    if (r < 0.55) return ` ${this.blockScalar(indent)}`;
    if (r < 0.58) return ` ${this.multiLine(indent)}`;
    if (r < 0.6) return this.tail();
    return ` ${this.scalar()}${this.tail()}`;
  }

  map(indent: number, depth: number): string {
    const save = this.out;
    this.out = [];
    const n = 1 + Math.floor(this.r() * 5);
    for (let i = 0; i < n; i++) {
      this.junkLines(indent);
      if (this.chance(0.05)) {
        const source = this.chance(0.8) ? this.alias() : `[${this.alias()}, ${this.alias()}]`;
        this.out.push(`${spaces(indent)}<<: ${source}${this.tail()}`);
        continue;
      }
      this.out.push(`${spaces(indent)}${this.key()}:${this.value(indent, depth)}`);
    }
    const text = this.out.join("\n");
    this.out = save;
    return text;
  }

  seq(indent: number, depth: number): string {
    const save = this.out;
    this.out = [];
    const n = 1 + Math.floor(this.r() * 4);
    for (let i = 0; i < n; i++) {
      this.junkLines(indent);
      const gap = spaces(1 + (this.chance(0.1) ? Math.floor(this.r() * 3) : 0));
      const r = this.r();
      if (r < 0.05 && depth < 4) {
        // An anchored mapping on the lines after the dash.
        const col = indent + 2 + Math.floor(this.r() * 2);
        this.out.push(`${spaces(indent)}-${gap}${this.anchor()}`);
        this.out.push(this.map(col, depth + 1));
      } else if (r < 0.08) {
        this.out.push(`${spaces(indent)}-${gap}${this.alias()}${this.tail()}`);
      } else if (r < 0.45 && depth < 4) {
        // A compact mapping: first key on the dash line, the rest aligned with it.
        const col = indent + 1 + gap.length;
        const body = this.map(col, depth + 1);
        this.out.push(`${spaces(indent)}-${gap}${body.trimStart()}`);
      } else if (r < 0.55) {
        this.out.push(`${spaces(indent)}-${gap}${this.flow(depth)}${this.tail()}`);
      } else if (r < 0.6) {
        this.out.push(`${spaces(indent)}-${gap}${this.blockScalar(indent)}`);
      } else if (r < 0.62) {
        this.out.push(`${spaces(indent)}-${gap}${this.multiLine(indent)}`);
      } else if (r < 0.63) {
        this.out.push(`${spaces(indent)}-`);
      } else {
        this.out.push(`${spaces(indent)}-${gap}${this.scalar()}${this.tail()}`);
      }
    }
    const text = this.out.join("\n");
    this.out = save;
    return text;
  }

  document(): string {
    const r = this.r();
    let body: string;
    if (r < 0.75) body = this.map(this.chance(0.05) ? 2 : 0, 0);
    else if (r < 0.85) body = this.seq(0, 0);
    else body = this.flow(0);
    const head = this.chance(0.2) ? "# head\n" : "";
    return `${head}${body}${this.chance(0.8) ? "\n" : ""}`;
  }
}

const DAMAGE = [
  " ",
  "  ",
  "\n",
  ":",
  ": ",
  "-",
  "- ",
  "#",
  " #",
  '"',
  "'",
  "{",
  "}",
  "[",
  "]",
  ",",
];
const DAMAGE_MORE = [
  "|",
  ">",
  "&a ",
  "*a",
  "!!str ",
  "? ",
  "x",
  "\\",
  "\t",
  "\r",
  "---\n",
  "...\n",
];

function damage(r: () => number, text: string): string {
  let t = text;
  const n = 1 + Math.floor(r() * 3);
  for (let i = 0; i < n; i++) {
    const at = Math.floor(r() * (t.length + 1));
    if (r() < 0.3) {
      t = t.slice(0, at) + t.slice(at + 1);
    } else {
      const ins = r() < 0.8 ? pick(r, DAMAGE) : pick(r, DAMAGE_MORE);
      t = t.slice(0, at) + ins + t.slice(at);
    }
  }
  return t;
}

// ---------------------------------------------------------------------------------------------
// The reference: what loadManifests did before the fast reader (whole stream through yaml).

interface RefFile {
  readonly documents: { index: number; line: number; doc: Document.Parsed }[];
  readonly lineCounter: LineCounter;
  readonly error?: string;
}

function reference(text: string, source: string): RefFile {
  const lineCounter = new LineCounter();
  const parsed = parseAllDocuments(text, {
    version: "1.1",
    customTags: kubernetesYamlTags,
    lineCounter,
    prettyErrors: true,
    keepSourceTokens: false,
  });
  const docs = Array.isArray(parsed) ? parsed : [];
  const errors = docs.flatMap((d) => d.errors);
  const first = errors[0];
  const pos = (o: number) => {
    const p = lineCounter.linePos(o);
    return { line: Math.max(1, p.line), column: Math.max(1, p.col) };
  };
  if (first) {
    const lp = first.linePos?.[0];
    const at = lp ? { line: lp.line, column: lp.col } : pos(first.pos[0]);
    const msg = (first.message.split("\n", 1)[0] ?? "").replace(
      / at line \d+, column \d+:?\s*$/,
      "",
    );
    const more = errors.length > 1 ? ` (and ${errors.length - 1} more)` : "";
    return {
      documents: [],
      lineCounter,
      error: `${source}:${at.line}:${at.column}: ${msg.trim()}${more}`,
    };
  }
  const documents: RefFile["documents"] = [];
  docs.forEach((doc, index) => {
    const c = doc.contents;
    if (c === null) return;
    if (
      c !== null &&
      typeof c === "object" &&
      "value" in c &&
      c.value === null &&
      (c as { source?: string }).source === "" &&
      !(c as { tag?: string }).tag
    )
      return;
    documents.push({ index, line: pos(c.range?.[0] ?? doc.range[0]).line, doc });
  });
  return { documents, lineCounter };
}

/** A value, or the message of what it threw. */
function outcome(f: () => unknown): unknown {
  try {
    return f();
  } catch (e) {
    return `threw ${(e as Error).message}`;
  }
}

function assertSameLoad(text: string): void {
  const ref = reference(text, "s.yaml");
  let file: ReturnType<typeof loadManifests>;
  try {
    file = loadManifests(text, "s.yaml");
  } catch (e) {
    assert.ok(isKimgError(e), String(e));
    assert.equal(e.message, ref.error, JSON.stringify(text));
    return;
  }
  assert.equal(ref.error, undefined, `no error for ${JSON.stringify(text)}`);
  const where = JSON.stringify(text);
  assert.deepEqual(
    file.documents.map((d) => [d.index, d.line]),
    ref.documents.map((d) => [d.index, d.line]),
    where,
  );
  file.documents.forEach((d, i) => {
    const want = ref.documents[i]?.doc as Document.Parsed;
    const got = d.document;
    assert.equal(diff(d.root, fromYaml(want)), undefined, where);
    assert.equal(
      outcome(() => got.toString()),
      outcome(() => want.toString()),
      where,
    );
    assert.deepEqual(
      outcome(() => got.toJS()),
      outcome(() => want.toJS()),
      where,
    );
    assert.deepEqual(got.range, want.range, where);
    assert.deepEqual(
      got.warnings.map((w) => w.message),
      want.warnings.map((w) => w.message),
      where,
    );
  });
  for (let o = 0; o <= text.length; o++) {
    const p = ref.lineCounter.linePos(o);
    const want = { line: Math.max(1, p.line), column: Math.max(1, p.col) };
    const got = file.position(o);
    if (got.line !== want.line || got.column !== want.column) {
      assert.deepEqual(got, want, `offset ${o} of ${where}`);
    }
  }
}

// ---------------------------------------------------------------------------------------------

describe("fast reader: parity with yaml", () => {
  it("reads typical manifests itself, node for node", () => {
    const cases = [
      "apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\nspec:\n  containers:\n  - name: c\n    image: nginx:1.25   # pinned\n    imagePullPolicy: Always\n",
      'a:\n- x\n- k: 1\n  z: [1, 2, {a: b}]\nb: {c: \'d\', "e": "f\\u00e9"}\n',
      "# c\n\n  # d\na: |\n  x\n\n  y\nb: >-\n    folded\n    text\n\nc: ok\n",
      '{"apiVersion": "v1", "kind": "List",\n "items": [\n  {"kind": "Pod", "spec": {"containers": [{"name": "a", "image": "x"}]}}\n ]\n}\n',
      '- {name: app, image: "r:5000/a:v1"}\n- name: b\n  image: b\n',
      "a: yes\nb: on\nc: y\nd: off\ne: 0755\nf: 'yes'\ng: ~\nh:\ni: 1e3\nj: 2001-12-14\n",
      "a: &x 1\nb: *x\nc: &m {k: v}\nd:\n  <<: *m\n  <<: [*m, *nope]\n  e: *m\n",
      "containers:\n- &base\n  name: base\n  image: x\n- <<: *base\n  name: copy\n- *base\n",
      "a: {<<: *x, b: [&y 1, *y]}\n",
      "description: 'APIVersion defines the versioned schema\n  of an object.'\nb: plain text\n  folded\n\n  again # c\nc: \"x\\\n  y \\u00e9\"\n",
      "a: 1\r\nb:\r\n  - x  # c\r\n  - {k: 'z',\r\n     w: \"v\"}\r\nc: |\r\n  t\r\n\r\n  u\r\nd:\r\n",
      "---\n# only a comment\n",
      "--- # c\nkind: Pod\n",
      "a:\n  b:\n    c: 1\n  d: 2\n",
      "k: v",
    ];
    for (const c of cases) assertParity(c, !c.startsWith("---\n#"));
  });

  it("leaves tags, complex keys, flow scalars over lines, tabs and lone CRs to yaml", () => {
    const cases = [
      "a: !!str 1\n",
      "- &a k: v\n",
      "a: &x\nb: 1\n",
      "a: *x:\n",
      "? a\n: b\n",
      "a: b\nc\n",
      "a: 'b\nc'\n",
      "a: [b\n  c]\n",
      "a: b\n  c: d\n",
      "a:\tb\n",
      "a: 1\rb: 2\n",
      "a: 1\na: 2\n",
      "yes: 1\n",
      "a: b: c\n",
      "- - x\n",
      "a: {b: 1,\nc: 2}\n",
      "a: [1, 2,]\n",
      "null\n",
      "a: |2\n   x\n",
    ];
    for (const c of cases) {
      assert.equal(fast(c), "bail", JSON.stringify(c));
      assertParity(c);
    }
  });

  it("agrees with yaml on generated manifests, whole and damaged", () => {
    let accepted = 0;
    let total = 0;
    fc.assert(
      fc.property(fc.integer(), (seed) => {
        const r = mulberry32(seed);
        let text = new Gen(r).document();
        if (r() < 0.2) text = text.replaceAll("\n", "\r\n");
        const damaged = damage(r, text);
        for (const t of [text, damaged]) {
          const v = check(t);
          total++;
          if (v.accepted) accepted++;
          assert.equal(v.problem, undefined, `seed ${seed}: ${JSON.stringify(t)}: ${v.problem}`);
        }
      }),
      { numRuns: 3000 * FUZZ, includeErrorInReport: true },
    );
    // The generator must exercise the reader, not only its bail-outs.
    assert.ok(accepted > total / 4, `${accepted} of ${total} accepted`);
  });

  it("resolves plain scalars exactly as the YAML 1.1 schema does", () => {
    const samples = [
      ...SCALARS,
      ...ODD_SCALARS,
      ...["Y", "N", "TRUE", "Off", "+.inf", "-0b1", "+0x1", "e3", "E+5", "-e1", ".e1", "._"],
      ...[
        "0_",
        "1__",
        "+",
        "-",
        ".",
        "..",
        "0b",
        "0x",
        "1:60",
        "1:5:",
        "2001-1-1",
        "2001-1-1T1:2:3",
      ],
    ];
    for (const s of samples) assertParity(`v: ${s}\n`);
    for (const s of samples) assertParity(`[${s}]\n`);
  });
});

describe("loadManifests: the --- cut", () => {
  it("matches a whole-stream parse: documents, lines, Documents, positions", () => {
    const streams = [
      "",
      "# nothing\n",
      "---\n---\n# only a comment\n---\nkind: Pod\n---\n\n---\nkind: Service\n",
      "# head comment\n---\nkind: Pod\nmetadata: {name: a}\n",
      "kind: A\n---\nkind: B\n--- # c\nkind: C\n---",
      "kind: A\n# tail\n---\n# lead\nkind: B\n",
      "a: &x {k: v}\nb: *x\n---\nc: 1\n",
      "a: 1\r\n---\r\nb: 2\r\n",
      "%YAML 1.1\n---\na: 1\n...\n---\nb: 2\n",
      "\uFEFF# bom\n---\na: 1\n",
      "null\n---\na: 1\n",
      "a: 1\n---\na: 1\na: 2\n---\nb: [\n",
      "a: |\n  x\n---\nb: 1\n",
      // Errors: counted as in the whole stream (an unclosed quote runs past `---`).
      "a: 1\n---\nb: 'x\n---\nc: 1\n---\nd: [\n",
      "a: 1\n---\nb: {\n---\nc: 1\nc: 2\n---\nok: 1\n",
      "a: 1\n---\nb: 1\n---\nkind: Pod\nspec:\n  containers: [a,\n b: c\n",
    ];
    for (const s of streams) assertSameLoad(s);
  });

  it("matches a whole-stream parse on generated streams", () => {
    fc.assert(
      fc.property(fc.integer(), (seed) => {
        const r = mulberry32(seed);
        const g = new Gen(r);
        const parts: string[] = [];
        if (r() < 0.3) parts.push("# leading comment\n");
        const n = 1 + Math.floor(r() * 4);
        for (let i = 0; i < n; i++) {
          let d = g.document();
          if (r() < 0.15) d = damage(r, d);
          if (r() < 0.15) d = d.replaceAll("\n", "\r\n");
          if (i > 0 || r() < 0.5) parts.push(pick(r, ["---\n", "--- # doc\n", "---   \n"]));
          parts.push(d.endsWith("\n") ? d : `${d}\n`);
        }
        assertSameLoad(parts.join(""));
      }),
      { numRuns: 400 * FUZZ, includeErrorInReport: true },
    );
  });
});
