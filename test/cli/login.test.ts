// kimg login / logout against a real Distribution registry with htpasswd auth: credentials
// are checked before they are saved, written atomically with mode 0600 into Docker's
// config.json (other fields kept), containers' auth.json with --authfile, or handed to the
// configured credential helper; the saved login is then used by the other commands.

import assert from "node:assert/strict";
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import { makeTempDir, removeTempDir } from "../helpers/cleanup.ts";
import { buildImage } from "../helpers/images.ts";
import { runKimg } from "../helpers/kimg-cli.ts";
import { type Registry, startRegistry } from "../helpers/registry.ts";
import { pushLayout } from "../helpers/skopeo.ts";

describe("kimg login and logout", () => {
  let reg: Registry;
  let work: string;
  const alice = { user: "alice", pass: "login-pw-77" };
  before(async () => {
    reg = await startRegistry({ auth: "htpasswd", users: [alice] });
    work = makeTempDir("login");
    const img = await buildImage({ dir: `${work}/img`, layers: [{ randomBytes: 128 }] });
    await pushLayout(img, "team/app:v1", reg, { creds: alice });
  });
  after(async () => {
    await reg?.stop();
    if (work !== undefined) removeTempDir(work);
  });

  const withStdin = async (args: string[], input: string, env: Record<string, string>) => {
    const { spawn } = await import("node:child_process");
    const { KIMG_BIN } = await import("../helpers/kimg-cli.ts");
    return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const p = spawn(process.execPath, [KIMG_BIN, ...args], {
        env: { ...process.env, DOCKER_CONFIG: "", CONTAINERS_REGISTRIES_CONF: "/dev/null", ...env },
      });
      let stdout = "";
      let stderr = "";
      p.stdout.on("data", (c) => (stdout += c));
      p.stderr.on("data", (c) => (stderr += c));
      p.on("close", (code) => resolve({ code, stdout, stderr }));
      p.stdin.end(input);
    });
  };

  it("checks, then saves to config.json 0600 keeping its other fields; the login is used; logout forgets it", async () => {
    const home = `${work}/home`;
    mkdirSync(`${home}/.docker`, { recursive: true });
    writeFileSync(
      `${home}/.docker/config.json`,
      JSON.stringify({ auths: { "other.example": { auth: "eDp5" } }, psFormat: "table" }),
    );
    chmodSync(`${home}/.docker/config.json`, 0o644);
    const wrong = await withStdin(
      ["login", "-u", alice.user, "--password-stdin", reg.host],
      "nope\n",
      { HOME: home },
    );
    assert.equal(wrong.code, 4, wrong.stderr);
    assert.match(wrong.stderr, /authentication failed/);
    assert.doesNotMatch(wrong.stderr, /nope/);
    assert.ok(
      !readFileSync(`${home}/.docker/config.json`, "utf8").includes(reg.host),
      "nothing saved",
    );
    const ok = await withStdin(
      ["login", "-u", alice.user, "--password-stdin", reg.host],
      `${alice.pass}\n`,
      { HOME: home },
    );
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(ok.stdout, "Login Succeeded\n");
    const cfg = JSON.parse(readFileSync(`${home}/.docker/config.json`, "utf8"));
    assert.equal(
      cfg.auths[reg.host].auth,
      Buffer.from(`${alice.user}:${alice.pass}`).toString("base64"),
    );
    assert.equal(cfg.auths["other.example"].auth, "eDp5");
    assert.equal(cfg.psFormat, "table");
    assert.equal(statSync(`${home}/.docker/config.json`).mode & 0o777, 0o600);
    const ls = await runKimg(["ls", `${reg.host}/team/app`], { env: { HOME: home } });
    assert.equal(ls.code, 0, ls.stderr);
    assert.equal(ls.stdout, "v1\n");
    const out = await runKimg(["logout", reg.host], { env: { HOME: home } });
    assert.equal(out.stdout, `Removing login credentials for ${reg.host}\n`);
    assert.ok(!(reg.host in JSON.parse(readFileSync(`${home}/.docker/config.json`, "utf8")).auths));
    assert.equal(
      (await runKimg(["logout", reg.host], { env: { HOME: home } })).stdout,
      `Not logged in to ${reg.host}\n`,
    );
    assert.equal((await runKimg(["ls", `${reg.host}/team/app`], { env: { HOME: home } })).code, 4);
  });

  it("--password warns, --authfile writes containers' auth.json, and a non-terminal without a password is refused", async () => {
    const home = `${work}/home2`;
    const authfile = `${work}/auth/auth.json`;
    const r = await runKimg(
      ["login", "-u", alice.user, "-p", alice.pass, "--authfile", authfile, reg.host],
      { env: { HOME: home } },
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /WARNING! Using --password via the CLI is insecure/);
    assert.equal(statSync(authfile).mode & 0o777, 0o600);
    assert.ok(JSON.parse(readFileSync(authfile, "utf8")).auths[reg.host].auth);
    assert.ok(!existsSync(`${home}/.docker/config.json`));
    const viaAuthFile = await runKimg(["ls", `${reg.host}/team/app`], {
      env: { HOME: home, REGISTRY_AUTH_FILE: authfile },
    });
    assert.equal(viaAuthFile.code, 0, viaAuthFile.stderr);
    const asJson = await runKimg(
      ["login", "--json", "-u", alice.user, "-p", alice.pass, "--authfile", authfile, reg.host],
      { env: { HOME: home } },
    );
    assert.deepEqual(JSON.parse(asJson.stdout), { host: reg.host, saved: authfile });
    const outJson = await runKimg(["logout", "--json", "--authfile", authfile, reg.host], {
      env: { HOME: home },
    });
    assert.deepEqual(JSON.parse(outJson.stdout), { host: reg.host, removed: true });
    const noPw = await withStdin(["login", "-u", alice.user, reg.host], "", { HOME: home });
    assert.equal(noPw.code, 2, noPw.stderr);
    assert.match(noPw.stderr, /no password: use --password-stdin/);
    const notJson = `${work}/bad.json`;
    writeFileSync(notJson, "{not json");
    const bad = await runKimg([
      "login",
      "-u",
      alice.user,
      "-p",
      alice.pass,
      "--authfile",
      notJson,
      reg.host,
    ]);
    assert.equal(bad.code, 2, bad.stderr);
    assert.equal(
      readFileSync(notJson, "utf8"),
      "{not json",
      "a file that is not JSON is never overwritten",
    );
  });

  it("on a terminal, asks for the user name and the password, and does not echo the password", async () => {
    // util-linux script(1) gives kimg a pseudo-terminal; the answers are typed once the
    // prompts appear, as a person would (typed earlier, the terminal itself would echo them).
    const { spawn } = await import("node:child_process");
    const { KIMG_BIN } = await import("../helpers/kimg-cli.ts");
    const home = `${work}/home-tty`;
    const p = spawn(
      "script",
      ["-qec", `${process.execPath} ${KIMG_BIN} login ${reg.host}`, "/dev/null"],
      {
        env: {
          ...process.env,
          HOME: home,
          DOCKER_CONFIG: "",
          CONTAINERS_REGISTRIES_CONF: "/dev/null",
        },
      },
    );
    let out = "";
    const answered = new Set<string>();
    p.stdout.on("data", (c: Buffer) => {
      out += c.toString();
      if (out.includes("Username: ") && !answered.has("u")) {
        answered.add("u");
        p.stdin.write(`${alice.user}\r`);
      }
      if (out.includes("Password: ") && !answered.has("p")) {
        answered.add("p");
        p.stdin.write(`${alice.pass}\r`);
      }
    });
    const code = await new Promise<number | null>((r) => p.on("close", r));
    assert.equal(code, 0, out);
    assert.match(out, /Username: alice/, "the user name is echoed");
    assert.match(out, /Password: \r?\n/);
    assert.doesNotMatch(out, new RegExp(alice.pass), "the password is not");
    assert.match(out, /Login Succeeded/);
    const cfg = JSON.parse(readFileSync(`${home}/.docker/config.json`, "utf8"));
    assert.equal(
      cfg.auths[reg.host].auth,
      Buffer.from(`${alice.user}:${alice.pass}`).toString("base64"),
    );
  });

  it("stores through the configured credential helper, keeping no plaintext in the file", async () => {
    const home = `${work}/home3`;
    const bin = `${work}/bin`;
    mkdirSync(`${home}/.docker`, { recursive: true });
    mkdirSync(bin, { recursive: true });
    // A real helper program: store/get/erase against a file, as docker-credential-pass would.
    const db = `${work}/helper-db.json`;
    writeFileSync(
      `${bin}/docker-credential-kimgtest`,
      `#!/bin/sh\ncase "$1" in\n  store) cat > ${db} ;;\n  get) read url; if [ -f ${db} ]; then cat ${db}; else echo "credentials not found in native keychain"; exit 1; fi ;;\n  erase) rm -f ${db} ;;\nesac\n`,
    );
    chmodSync(`${bin}/docker-credential-kimgtest`, 0o755);
    writeFileSync(`${home}/.docker/config.json`, JSON.stringify({ credsStore: "kimgtest" }));
    const env = { HOME: home, PATH: `${bin}:${process.env.PATH}` };
    const ok = await withStdin(
      ["login", "-u", alice.user, "--password-stdin", reg.host],
      alice.pass,
      env,
    );
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stderr, /credential helper docker-credential-kimgtest/);
    assert.deepEqual(JSON.parse(readFileSync(db, "utf8")), {
      ServerURL: reg.host,
      Username: alice.user,
      Secret: alice.pass,
    });
    assert.ok(!readFileSync(`${home}/.docker/config.json`, "utf8").includes('auth"'));
    const ls = await runKimg(["ls", `${reg.host}/team/app`], { env });
    assert.equal(ls.code, 0, ls.stderr);
    await runKimg(["logout", reg.host], { env });
    assert.ok(!existsSync(db), "erase was called");
  });
});
