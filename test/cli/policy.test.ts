// Tests for src/cli/commands/policy.ts: `kimg policy` run in memory (runPolicy with in-memory
// streams, and once through main()) — text, JSON and YAML output, colour, exit codes 0/1/2.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { PassThrough, Readable } from "node:stream";
import { after, before, describe, it } from "node:test";
import { type PolicyCommandOptions, runPolicy } from "../../src/cli/commands/policy.ts";
import { main } from "../../src/cli/main.ts";

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function sink(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  const chunks: Buffer[] = [];
  stream.on("data", (c: Buffer) => chunks.push(c));
  return { stream, text: () => Buffer.concat(chunks).toString("utf8") };
}

function io(stdinText: string, color: boolean) {
  const out = sink();
  const err = sink();
  return {
    io: { stdout: out.stream, stderr: err.stream, stdin: Readable.from([stdinText]), color },
    out,
    err,
  };
}

async function policy(
  inputs: string[],
  opts: PolicyCommandOptions = {},
  stdin = "",
  color = false,
): Promise<Run> {
  const t = io(stdin, color);
  const code = await runPolicy(inputs, opts, t.io);
  return { code, stdout: t.out.text(), stderr: t.err.text() };
}

const DEPLOY = `# the web tier
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      containers:
      - name: web
        image: nginx:1.25   # pinned
`;

const POD_NEVER = `apiVersion: v1
kind: Pod
metadata: {name: p, namespace: prod}
spec:
  containers:
  - name: a
    image: busybox
    imagePullPolicy: Never
`;

const BAD_POD = `apiVersion: v1
kind: Pod
metadata: {name: bad}
spec:
  containers:
  - name: a
    image: " nginx:1"
`;

let dir = "";
const path = (name: string) => join(dir, name);

before(() => {
  dir = mkdtempSync(join(tmpdir(), "kimg-policy-"));
  writeFileSync(path("deploy.yaml"), DEPLOY);
  writeFileSync(path("pod.yaml"), POD_NEVER);
  writeFileSync(path("bad.yaml"), BAD_POD);
  writeFileSync(path("broken.yaml"), "kind: Pod\nspec:\n  containers: [a,\n b: c\n");
  writeFileSync(path("list.yaml"), "kind: ConfigMap\nmetadata: {name: cm}\n");
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe("kimg policy: text", () => {
  it("prints one block per container with location, policy and kubelet actions", async () => {
    const r = await policy([path("deploy.yaml")]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, "");
    const lines = r.stdout.split("\n");
    assert.equal(
      lines[0],
      `Deployment (default)/web  spec.template.spec.containers[0] (web)  ${path("deploy.yaml")}:10`,
    );
    assert.match(r.stdout, /^ {2}image {12}"nginx:1\.25"$/m);
    assert.match(
      r.stdout,
      /^ {2}imagePullPolicy {2}not set → IfNotPresent \(default: tag "1\.25" is not "latest"/m,
    );
    assert.match(
      r.stdout,
      /^ {2}image present {4}uses the local image \(Normal Pulled: Container image "nginx:1\.25" already present on machine/m,
    );
    assert.match(
      r.stdout,
      /^ {2}image absent {5}pulls \(Normal Pulling: Pulling image "nginx:1\.25"\)$/m,
    );
    assert.match(r.stdout, /^ {2}info {13}mutable-tag: /m);
    assert.match(r.stdout, /^note: Objects without metadata\.namespace/m);
    assert.match(r.stdout, /^1 container, 0 errors, 0 warnings \(1 object checked\)\n$/m);
    assert.ok(!r.stdout.includes("\x1b["), "no colour");
  });

  it("colours only when io.color is set", async () => {
    const r = await policy([path("pod.yaml")], {}, "", true);
    assert.ok(r.stdout.includes("\x1b[1mPod prod/p\x1b[22m"), r.stdout);
    assert.ok(r.stdout.includes("\x1b[31mfails: ErrImageNeverPull\x1b[39m"));
  });

  it("shows AlwaysPullImages on Pods and the scope note", async () => {
    const r = await policy([path("pod.yaml"), path("deploy.yaml")], { alwaysPullImages: true });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^ {2}admission {8}AlwaysPullImages: Never → Always$/m);
    assert.equal(r.stdout.match(/admission/g)?.length, 1);
    assert.match(
      r.stdout,
      /^note: AlwaysPullImages was applied as a CREATE of each Pod \(1 Pod\)/m,
    );
    assert.match(r.stdout, /AlwaysPullImages applied to 1 Pod\)$/m);
  });

  it("validation errors: exit 1, errors listed with field paths", async () => {
    const r = await policy([path("bad.yaml")]);
    assert.equal(r.code, 1);
    assert.match(
      r.stdout,
      /^ {2}error {12}spec\.containers\[0\]\.image: Invalid value: " nginx:1": must not have leading or trailing whitespace$/m,
    );
    assert.match(r.stdout, /^1 container, 2 errors, 0 warnings/m);
  });

  it("lists skipped objects and problems with file:line", async () => {
    const r = await policy(["-"], {}, "kind: ConfigMap\nmetadata: {name: cm}\n---\nfoo: bar\n");
    assert.equal(r.code, 1);
    assert.match(
      r.stdout,
      /^<stdin>:1: skipped ConfigMap cm: kind ConfigMap is not one kimg checks/m,
    );
    assert.match(r.stdout, /^<stdin>:4: error: document has no "kind"/m);
  });
});

describe("kimg policy: json", () => {
  it("prints one JSON document with containers, problems, skipped", async () => {
    for (const opts of [{ json: true }, { output: "json" as const }]) {
      const r = await policy([path("deploy.yaml"), path("list.yaml")], opts);
      assert.equal(r.code, 0, r.stderr);
      const doc = JSON.parse(r.stdout) as Record<string, unknown>;
      assert.deepEqual(Object.keys(doc), ["containers", "problems", "skipped", "notes", "summary"]);
      const [c] = doc.containers as Record<string, unknown>[];
      assert.equal(c?.fieldPath, "spec.template.spec.containers[0]");
      assert.equal(c?.storedPolicy, "IfNotPresent");
      assert.equal(c?.source, path("deploy.yaml"));
      assert.equal(c?.line, 10);
      assert.deepEqual(
        (doc.skipped as Record<string, unknown>[]).map((s) => s.kind),
        ["ConfigMap"],
      );
    }
  });
});

describe("kimg policy: yaml", () => {
  it("prints the stored manifests with comments kept; several inputs joined by ---", async () => {
    const r = await policy(
      [path("deploy.yaml"), "-"],
      { output: "yaml", alwaysPullImages: true },
      POD_NEVER,
    );
    assert.equal(r.code, 0, r.stderr);
    assert.equal(
      r.stdout,
      `${DEPLOY.replace("# pinned\n", "# pinned\n        imagePullPolicy: IfNotPresent\n")}---\n${POD_NEVER.replace("Never", "Always")}`,
    );
  });

  it("keeps stdout YAML and reports errors on stderr", async () => {
    const r = await policy([path("bad.yaml")], { output: "yaml" });
    assert.equal(r.code, 1);
    assert.match(r.stdout, /imagePullPolicy: IfNotPresent/);
    assert.match(
      r.stderr,
      /^kimg: .*bad\.yaml:6: Pod \(default\)\/bad: spec\.containers\[0\]\.image: Invalid value/m,
    );
  });
});

describe("kimg policy: unreadable input", () => {
  it("a YAML syntax error: exit 2, one line with file:line:col; the readable file still reported", async () => {
    const r = await policy([path("deploy.yaml"), path("broken.yaml")]);
    assert.equal(r.code, 2);
    assert.match(r.stdout, /deploy\.yaml:\d+/, "as kubectl, what could be read is reported");
    assert.match(r.stderr, /^kimg: .*broken\.yaml:4:2: Flow sequence[^\n]*\n$/);
  });

  it("a readable file and a missing one: the report for the first, the error for the second, exit 2 (issue 10 item 17)", async () => {
    const r = await policy([path("deploy.yaml"), path("nope.yaml")]);
    assert.equal(r.code, 2);
    assert.match(r.stdout, /deploy\.yaml:\d+/);
    assert.equal(r.stderr, `kimg: ${path("nope.yaml")}: cannot read: no such file or directory\n`);
  });

  it("a missing file: exit 2, one line", async () => {
    const r = await policy([path("nope.yaml")]);
    assert.equal(r.code, 2);
    assert.equal(r.stderr, `kimg: ${path("nope.yaml")}: cannot read: no such file or directory\n`);
  });

  it("a directory, an unknown digest algorithm, no input: exit 2", async () => {
    assert.equal((await policy([dir])).code, 2);
    const alg = await policy([path("deploy.yaml")], { digestAlgorithms: ["md5"] });
    assert.equal(alg.code, 2);
    assert.match(alg.stderr, /unknown algorithm "md5"/);
    assert.equal((await policy([])).code, 2);
  });

  it("stdin given twice is read once", async () => {
    const r = await policy(["-", "-"], { json: true }, DEPLOY);
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout) as { containers: unknown[] };
    assert.equal(doc.containers.length, 2);
  });
});

describe("kimg policy through main()", () => {
  it("wires options and exit codes", async () => {
    const t = io("", false);
    const code = await main(
      ["policy", "--always-pull-images", "-o", "json", path("pod.yaml")],
      t.io,
    );
    assert.equal(code, 0, t.err.text());
    const doc = JSON.parse(t.out.text()) as { containers: { storedPolicy: string }[] };
    assert.equal(doc.containers[0]?.storedPolicy, "Always");

    const bad = io("", false);
    assert.equal(await main(["policy", path("broken.yaml")], bad.io), 2);
    assert.equal(bad.err.text().split("\n").length, 2, "one line");
  });
});

describe("kimg policy -o yaml: warnings about the printed YAML", () => {
  it("goes to stderr when one aliased container cannot hold both policies", async () => {
    const text = [
      "apiVersion: v1",
      "kind: List",
      "items:",
      "- apiVersion: v1",
      "  kind: Pod",
      "  metadata: {name: a}",
      "  spec:",
      "    containers:",
      "    - &c",
      "      name: web",
      "      image: nginx:1.25",
      "- apiVersion: apps/v1",
      "  kind: Deployment",
      "  metadata: {name: d}",
      "  spec:",
      "    template:",
      "      spec:",
      "        containers:",
      "        - *c",
      "",
    ].join("\n");
    const r = await policy(["-"], { output: "yaml", alwaysPullImages: true }, text);
    assert.equal(r.code, 0);
    assert.match(r.stderr, /^kimg: <stdin>:19: warning: .*the written YAML keeps Always/m);
    assert.doesNotMatch(r.stdout, /warning/);
  });
});

describe("kimg policy: hostile nesting (the built binary, with its own stack)", () => {
  const BIN = resolve(import.meta.dirname, "../../dist/cli/kimg.cjs");
  for (const [what, text] of [
    ["800 KB of nested brackets", `a: ${"[".repeat(400_000)}${"]".repeat(400_000)}`],
    ["3,000 levels", `a: ${"[".repeat(3000)}${"]".repeat(3000)}`],
    ["3,000 unclosed flow maps", `a: ${"{".repeat(3000)}`],
  ] as const) {
    it(`${what}: exit 2, one line naming the place, never an internal error`, () => {
      const r = spawnSync(process.execPath, [BIN, "policy", "-"], {
        input: text,
        encoding: "utf8",
      });
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, /^kimg: <stdin>:1:\d+: exceeded max depth of 1000\n$/);
    });
  }
});
