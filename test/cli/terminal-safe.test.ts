// Terminal escape injection (issue 19 item 5): text from the network — a registry's error
// message, an image's config fields and annotations — reaches kimg's output with its control
// characters escaped as Go's %q escapes them. A hostile registry (our fault server) and a real
// Distribution registry serving a hostile image drive the built binary; every byte of stdout and
// stderr is checked for raw C0, DEL, C1 and bidi controls.

import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { makeTempDir, removeTempDir } from "../helpers/cleanup.ts";
import { startFaultServer } from "../helpers/fault-registry.ts";
import { type BuiltImage, buildImage } from "../helpers/images.ts";
import { runKimg } from "../helpers/kimg-cli.ts";
import { type Registry, startRegistry } from "../helpers/registry.ts";
import { pushLayout } from "../helpers/skopeo.ts";

/** OSC title, clear screen, colour, bare CR, a forged line, C1 CSI, a bidi override. */
const HOSTILE =
  "\x1b]0;pwned-title\x07\x1b[2J\x1b[31mred\r\n kimg: Pulled fake-line\u009b2J\u202etxt\x00\x7f";

// What may appear raw in output: printable text, newline, and nothing else (no colour either:
// the binary runs without a TTY).
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding them is the point
const RAW_CONTROL = /[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069]/u;

function assertTerminalSafe(what: string, s: string): void {
  const m = RAW_CONTROL.exec(s);
  assert.equal(
    m,
    null,
    `${what}: raw control U+${(m?.[0].codePointAt(0) ?? 0).toString(16).padStart(4, "0")} at ${m?.index} in ${JSON.stringify(s)}`,
  );
}

/** A registry whose manifest GET fails with HOSTILE as its error message (HEAD: 405, so kimg GETs). */
function hostileErrors(req: IncomingMessage, res: ServerResponse): void {
  if (req.method === "HEAD") {
    res.writeHead(405).end();
    return;
  }
  res.writeHead(400, { "content-type": "application/json" });
  res.end(JSON.stringify({ errors: [{ code: "DENIED", message: HOSTILE }] }));
}

const kimg = (args: string[], home: string) =>
  runKimg(args, { env: { HOME: home }, timeoutMs: 60_000 });

describe("text from the network is printed with control characters escaped", {
  timeout: 180_000,
}, () => {
  const dirs: string[] = [];
  const temp = (p: string) => {
    const d = makeTempDir(p);
    dirs.push(d);
    return d;
  };
  let reg: Registry;
  let img: BuiltImage;
  let home: string;
  after(async () => {
    await reg?.stop();
    if (img !== undefined) removeTempDir(img.layoutDir);
    for (const d of dirs) removeTempDir(d);
  });
  before(async () => {
    home = temp("kimg-tsafe-home-");
    reg = await startRegistry();
    img = await buildImage({
      layers: [{ randomBytes: 100 }],
      config: {
        Labels: { title: HOSTILE },
        Env: [`EVIL=${HOSTILE}`],
        Cmd: ["/bin/sh", HOSTILE],
        User: HOSTILE,
      },
      configExtras: { author: HOSTILE },
      annotations: { "org.example.note": HOSTILE },
    });
    await pushLayout(img, "evil/app:v1", reg);
  });

  it("a registry error message: one line, escaped, on every progress mode", async (t) => {
    const evil = await startFaultServer(t);
    evil.handle(hostileErrors);
    const store = temp("kimg-tsafe-store-");
    for (const progress of ["plain", "json"]) {
      const r = await kimg(
        ["pull", "--store", store, "--progress", progress, `${evil.host}/x/y:v1`],
        home,
      );
      assert.equal(r.code, 5, r.stderr);
      assertTerminalSafe(`stderr (--progress ${progress})`, r.stderr);
      assertTerminalSafe(`stdout (--progress ${progress})`, r.stdout);
      const lines = r.stderr.split("\n").filter((l) => l !== "");
      assert.equal(lines.length, 1, r.stderr);
      // The text is still there for a person to read, as Go's %q shows it.
      assert.match(
        lines[0] ?? "",
        /\\x1b\]0;pwned-title\\a\\x1b\[2J\\x1b\[31mred\\r\\n kimg: Pulled/,
      );
      assert.match(lines[0] ?? "", /\\u009b2J\\u202etxt\\x00\\x7f/);
    }
  });

  it("kimg run: the Failed event and the waiting message are escaped", async (t) => {
    const evil = await startFaultServer(t);
    evil.handle(hostileErrors);
    const d = temp("kimg-tsafe-run-");
    const pod = join(d, "pod.yaml");
    writeFileSync(
      pod,
      `apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: c\n    image: ${evil.host}/x/y:v1\n`,
    );
    for (const output of [[], ["--output", "json"]]) {
      const r = await kimg(
        ["run", "--store", temp("kimg-tsafe-store-"), "--timeout", "3s", ...output, pod],
        home,
      );
      assert.equal(r.code, 1, r.stderr);
      assertTerminalSafe("run stdout", r.stdout);
      assertTerminalSafe("run stderr", r.stderr);
      assert.match(r.stdout, /pwned-title/);
    }
  });

  it("kimg inspect: config fields and annotations of a hostile image", async () => {
    const store = temp("kimg-tsafe-store-");
    const ref = `${reg.host}/evil/app:v1`;
    const p = await kimg(["pull", "--store", store, "--progress", "plain", ref], home);
    assert.equal(p.code, 0, p.stderr);
    assertTerminalSafe("pull stdout", p.stdout);
    for (const json of [false, true]) {
      const r = await kimg(["inspect", "--store", store, ...(json ? ["--json"] : []), ref], home);
      assert.equal(r.code, 0, r.stderr);
      assertTerminalSafe(`inspect${json ? " --json" : ""}`, r.stdout);
      if (json) {
        // The JSON still carries the exact value: only its spelling is escaped.
        const v = JSON.parse(r.stdout) as { config: { labels: Record<string, string> } };
        assert.equal(v.config.labels.title, HOSTILE);
      } else {
        assert.match(r.stdout, /title=\\x1b\]0;pwned-title\\a/);
      }
    }
  });
});
