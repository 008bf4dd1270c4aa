// Runs the built binary (dist/, made by `npm test`'s pretest build) as a user would.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { resolve } from "node:path";
import { Readable, Writable } from "node:stream";
import { describe, it } from "node:test";
import { runParse } from "../../src/cli/commands/parse.ts";

const BIN = resolve(import.meta.dirname, "../../dist/cli/kimg.cjs");

function kimg(args: string[], input?: string, env: NodeJS.ProcessEnv = {}) {
  // Colour is decided by the environment: start from one without NO_COLOR/FORCE_COLOR
  // (an empty FORCE_COLOR forces colour, as in Node itself).
  const base = { ...process.env };
  delete base.NO_COLOR;
  delete base.FORCE_COLOR;
  const r = spawnSync(process.execPath, [BIN, ...args], {
    input: input ?? "",
    encoding: "utf8",
    env: { ...base, ...env },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("kimg parse", () => {
  it("draws the seed's anatomy, plain when not a TTY", () => {
    const r = kimg(["parse", "my-registry.example.com:5000/example/web-example:v1.0.1"]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(!r.stdout.includes("\x1b["), "no escape codes");
    assert.match(r.stdout, /^ {2}registry {4}my-registry\.example\.com$/m);
    assert.match(r.stdout, /^ {2}port {8}5000$/m);
    assert.match(r.stdout, /^ {2}repository {2}example$/m);
    assert.match(r.stdout, /^ {2}image name {2}web-example$/m);
    assert.match(r.stdout, /^ {2}tag {9}v1\.0\.1$/m);
    assert.match(r.stdout, /^ {2}pull policy IfNotPresent if unset/m);
  });

  it("colours parts as the seed does when asked to", () => {
    const r = kimg(["parse", "my-registry.example.com:5000/example/web-example:v1.0.1"], "", {
      FORCE_COLOR: "1",
    });
    const first = r.stdout.split("\n")[0] ?? "";
    assert.ok(first.includes("\x1b[34mmy-registry.example.com\x1b[39m"), "registry blue");
    assert.ok(first.includes("\x1b[32m5000\x1b[39m"), "port green");
    assert.ok(first.includes("\x1b[35mexample\x1b[39m"), "repository purple");
    assert.ok(first.includes("\x1b[31mweb-example\x1b[39m"), "image name red");
    assert.ok(first.includes("\x1b[33mv1.0.1\x1b[39m"), "tag brown");
  });

  it("NO_COLOR wins over FORCE_COLOR", () => {
    const r = kimg(["parse", "nginx"], "", { FORCE_COLOR: "1", NO_COLOR: "1" });
    assert.ok(!r.stdout.includes("\x1b["), "no escape codes");
  });

  it("--json prints one object per line with the documented fields; exit 1 when any is invalid", () => {
    const r = kimg(["parse", "--json", "nginx", "Foo", "quay.io/a/b:1"]);
    assert.equal(r.code, 1);
    const lines = r.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    assert.equal(lines.length, 3);
    assert.equal(lines[0].string, "docker.io/library/nginx");
    assert.equal(lines[0].defaultPullPolicy, "Always");
    assert.equal(lines[1].valid, false);
    assert.equal(lines[1].error.code, "REPOSITORY_NOT_LOWERCASE");
    assert.equal(lines[2].registry, "quay.io");
    assert.equal(lines[2].repository, "a");
    assert.equal(lines[2].imageName, "b");
    assert.equal(r.stderr, "");
  });

  it("reads references from standard input with -", () => {
    const r = kimg(["parse", "--json", "-"], "nginx\r\n\nredis:7\n");
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    assert.deepEqual(
      lines.map((l) => l.familiar),
      ["nginx", "redis:7"],
    );
  });

  it("- streams: each line's result is printed before the next line arrives", async () => {
    const child = spawn(process.execPath, [BIN, "parse", "--json", "-"], {
      stdio: ["pipe", "pipe", "inherit"],
    });
    child.stdout.setEncoding("utf8");
    const results: string[] = [];
    for (const ref of ["nginx", "redis:7", "Foo"]) {
      child.stdin.write(`${ref}\n`);
      // The line's JSON must come back while stdin is still open.
      const [chunk] = (await once(child.stdout, "data")) as [string];
      results.push(JSON.parse(chunk.trim()).input);
    }
    child.stdin.end();
    const [code] = (await once(child, "close")) as [number];
    assert.deepEqual(results, ["nginx", "redis:7", "Foo"]);
    assert.equal(code, 1);
  });

  it("refuses - twice (standard input can be read once)", () => {
    const r = kimg(["parse", "-", "-"], "nginx\n");
    assert.equal(r.code, 2);
    assert.match(r.stderr, /can be read only once/);
  });

  it("keeps memory bounded: waits for a slow reader instead of buffering", async () => {
    let written = 0;
    let maxBuffered = 0;
    const stdout = new Writable({
      highWaterMark: 16 * 1024,
      write(chunk: Buffer, _enc, done) {
        written += chunk.length;
        maxBuffered = Math.max(maxBuffered, stdout.writableLength);
        setImmediate(done); // a slow consumer
      },
    });
    const stdin = Readable.from(["nginx\nquay.io/a/b:1\nFoo\n".repeat(20_000)]);
    const code = await runParse(
      ["-"],
      { json: true },
      { stdout, stderr: stdout, stdin, color: false },
    );
    assert.equal(code, 1);
    assert.ok(written > 20_000_000, `wrote ${written} bytes`);
    // Without backpressure the whole output (over 20 MB) would queue up in the stream.
    assert.ok(maxBuffered < 256 * 1024, `buffered up to ${maxBuffered} bytes`);
  });

  it("the policy line follows Kubernetes' defaulting whatever --mode (issue 10 item 8)", () => {
    const named = kimg(["parse", "--mode", "named", "nginx"]).stdout;
    assert.match(
      named,
      /pull policy Always if unset: no tag or digest, so the tag defaults to "latest"/,
    );
    assert.match(
      named,
      /on a node +valid as a pod image: the kubelet parses it with ParseImageName/,
    );
    assert.doesNotMatch(named, /unparsable image has no tag|InvalidImageName/);
    const bad = kimg(["parse", "UPPER:1"]).stdout;
    assert.match(bad, /pull policy IfNotPresent if unset: the image cannot be parsed/);
    assert.match(bad, /on a node +the kubelet fails the container with InvalidImageName/);
  });

  it("--mode picks the upstream function", () => {
    const d = `sha256:${"c".repeat(64)}`;
    const docker = JSON.parse(kimg(["parse", "--json", "--mode", "docker", `a:1@${d}`]).stdout);
    assert.equal(docker.string, `docker.io/library/a@${d}`);
    const k8s = JSON.parse(kimg(["parse", "--json", "--mode", "k8s", "a"]).stdout);
    assert.equal(k8s.repoToPull, "docker.io/library/a");
    assert.equal(k8s.tag, "latest");
    const parse = JSON.parse(kimg(["parse", "--json", "--mode", "parse", "foo/bar"]).stdout);
    assert.equal(parse.domain, "foo");
    const named = kimg(["parse", "--json", "--mode", "named", "foo"]);
    assert.equal(JSON.parse(named.stdout).error.message, "repository name must be canonical");
    const any = JSON.parse(kimg(["parse", "--json", "--mode", "any", "c".repeat(64)]).stdout);
    assert.equal(any.kind, "digest");
  });

  it("--digest-algorithms narrows the accepted digests", () => {
    const ref = `a@sha384:${"d".repeat(96)}`;
    assert.equal(kimg(["parse", ref]).code, 0);
    const r = kimg(["parse", "--json", "--digest-algorithms", "sha256", ref]);
    assert.equal(r.code, 1);
    assert.equal(JSON.parse(r.stdout).error.message, "unsupported digest algorithm");
  });

  it("bad flags give one line and exit 2", () => {
    const bad = kimg(["parse", "--digest-algorithms", "md5", "x"]);
    assert.equal(bad.code, 2);
    assert.equal(bad.stderr.trim().split("\n").length, 1);
    assert.match(bad.stderr, /unknown algorithm "md5"/);
    assert.equal(kimg(["parse", "--mode", "bogus", "x"]).code, 2);
    assert.equal(kimg(["nosuch"]).code, 2);
  });

  it("--help and --version exit 0", () => {
    assert.equal(kimg(["--version"]).stdout.trim(), "0.1.0");
    const h = kimg(["--help"]);
    assert.equal(h.code, 0);
    assert.match(h.stdout, /parse/);
    assert.match(h.stdout, /policy/);
  });
});

describe("colour decision", () => {
  it("follows NO_COLOR, FORCE_COLOR and the terminal", async () => {
    const { colorWanted } = await import("../../src/cli/io.ts");
    const tty = { isTTY: true };
    const pipe = { isTTY: false };
    assert.equal(colorWanted(tty, {}), true);
    assert.equal(colorWanted(pipe, {}), false);
    assert.equal(colorWanted(tty, { TERM: "dumb" }), false);
    assert.equal(colorWanted(tty, { NO_COLOR: "1" }), false);
    assert.equal(colorWanted(tty, { NO_COLOR: "" }), true);
    assert.equal(colorWanted(tty, { FORCE_COLOR: "0" }), false);
    assert.equal(colorWanted(tty, { FORCE_COLOR: "false" }), false);
    assert.equal(colorWanted(pipe, { FORCE_COLOR: "1" }), true);
    assert.equal(colorWanted(pipe, { FORCE_COLOR: "" }), true);
    assert.equal(colorWanted(pipe, { FORCE_COLOR: "1", NO_COLOR: "1" }), false);
  });
});
