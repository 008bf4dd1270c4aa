// Issue 10, the bad-input items: each is one line and its proper exit code, never an internal
// error (70) or a library option's name. The built kimg against a real Distribution registry.
// - 11: `kimg unpack REF /no/such/dir` — a missing parent directory is exit 2, before any pull;
// - 14: `--platform linux` takes the host's architecture, as containerd's platforms.Parse does;
// - 15: command-line errors keep exit 2.

import assert from "node:assert/strict";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { makeTempDir, removeTempDir } from "../helpers/cleanup.ts";
import { type BuiltIndex, buildIndex, PLATFORMS } from "../helpers/images.ts";
import { runKimg } from "../helpers/kimg-cli.ts";
import { type Registry, startRegistry } from "../helpers/registry.ts";
import { pushLayout } from "../helpers/skopeo.ts";

const HOST_ARCH = process.arch === "x64" ? "amd64" : process.arch;

describe("bad input: one line, its exit code (issue 10)", { timeout: 120_000 }, () => {
  let reg: Registry;
  let idx: BuiltIndex;
  let work: string;
  let ref: string;

  before(async () => {
    work = makeTempDir("kimg-input-errors-");
    reg = await startRegistry();
    idx = await buildIndex({
      images: [
        { platform: PLATFORMS.linuxAmd64, layers: [{ randomBytes: 500 }] },
        { platform: PLATFORMS.linuxArm64, layers: [{ randomBytes: 600 }] },
      ],
      seed: "input-errors",
    });
    await pushLayout(idx, "multi/app:v1", reg, { all: true });
    ref = `${reg.host}/multi/app:v1`;
  });
  after(async () => {
    await reg?.stop();
    if (idx !== undefined) removeTempDir(idx.layoutDir);
    if (work !== undefined) removeTempDir(work);
  });

  it("11: unpack into a directory whose parent does not exist: exit 2, one line, nothing pulled", async () => {
    const store = join(work, "store-11");
    await reg.settledAccessLog();
    reg.resetAccessLog();
    const r = await runKimg(["unpack", "--store", store, ref, "/no/such/dir"]);
    assert.equal(r.code, 2, r.stderr);
    assert.equal(
      r.stderr,
      "kimg: unpack: /no/such does not exist (the parent directory of dir must exist)\n",
    );
    assert.equal(r.stdout, "");
    await reg.settledAccessLog();
    assert.ok(
      reg.accessLog().every((l) => !l.path.includes("/multi/app/")),
      "no request before the check",
    );
    const file = join(work, "a-file");
    writeFileSync(file, "x");
    const r2 = await runKimg(["unpack", "--store", store, ref, join(file, "rootfs")]);
    assert.equal(r2.code, 2, r2.stderr);
    assert.equal(r2.stderr, `kimg: unpack: ${file} is not a directory\n`);
  });

  it("14: --platform linux picks the host's architecture, as containerd does", async () => {
    const store = join(work, "store-14");
    const r = await runKimg([
      "pull",
      "--store",
      store,
      "--platform",
      "linux",
      "--progress",
      "plain",
      ref,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /opts\.host/);
    const images = await runKimg(["images", "--store", store, "--json"]);
    const list = JSON.parse(images.stdout) as { platform?: { os: string; architecture: string } }[];
    assert.deepEqual(list[0]?.platform, { os: "linux", architecture: HOST_ARCH });
    const arm = await runKimg([
      "pull",
      "--store",
      join(work, "store-14b"),
      "--platform",
      "arm64",
      ref,
    ]);
    assert.equal(arm.code, 0, arm.stderr);
  });

  it("18: a missing file reads the same in every command", async () => {
    const store = join(work, "store-18");
    const nope = join(work, "nope.yaml");
    for (const args of [
      ["run", nope, "--store", store],
      ["policy", nope],
      ["pull", "--pull-secret", nope, "--store", store, ref],
      ["gc", "--node-config", nope, "--store", store],
      ["run", "--node-config", nope, nope, "--store", store],
    ]) {
      const r = await runKimg(args);
      assert.equal(r.code, 2, args.join(" "));
      assert.equal(
        r.stderr,
        `kimg: ${nope}: cannot read: no such file or directory\n`,
        args.join(" "),
      );
    }
    const conf = await runKimg(["pull", "--registries-conf", nope, "--store", store, ref]);
    assert.equal(conf.code, 2);
    assert.equal(
      conf.stderr,
      `kimg: ${nope}: cannot read registries configuration: no such file or directory\n`,
    );
  });

  it("15: command-line errors exit 2", async () => {
    for (const args of [
      ["pull", "--creds", "nc", ref],
      ["pull", "--platform", "linux/!!", ref],
      ["pull", "--nope", ref],
      ["unpack", ref],
      ["gc", "--capacity", "lots"],
    ]) {
      const r = await runKimg(args, { env: { HOME: work } });
      assert.equal(r.code, 2, `${args.join(" ")}: ${r.code} ${r.stderr}`);
      assert.equal(r.stderr.trimEnd().split("\n").length, 1, r.stderr);
      assert.match(r.stderr, /^kimg: /);
    }
    assert.ok(!existsSync(join(work, "store-15")));
  });
});
