// remoteDigest against a real CNCF Distribution registry, with crane (the Go-built test peer)
// as the oracle: `crane digest` and `crane digest --platform` must give the same digests.

import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { isKimgError } from "../../src/errors.ts";
import { remoteDigest } from "../../src/remote/index.ts";
import { makeTempDir, removeTempDir } from "../helpers/cleanup.ts";
import {
  type BuiltImage,
  type BuiltIndex,
  buildImage,
  buildIndex,
  PLATFORMS,
} from "../helpers/images.ts";
import { runKimg } from "../helpers/kimg-cli.ts";
import { peerBin } from "../helpers/peers.ts";
import { type Registry, startRegistry } from "../helpers/registry.ts";
import { pushLayout } from "../helpers/skopeo.ts";

describe("remoteDigest (kimg digest) against the registry, crane as the oracle", () => {
  let reg: Registry;
  let work: string;
  let img: BuiltImage;
  let idx: BuiltIndex;
  const crane = peerBin("crane");
  before(async () => {
    reg = await startRegistry();
    work = makeTempDir("remote-digest");
    img = await buildImage({ dir: `${work}/one`, layers: [{ randomBytes: 4096 }] });
    await pushLayout(img, "demo/one:v1", reg);
    idx = await buildIndex({
      dir: `${work}/multi`,
      images: [
        { platform: PLATFORMS.linuxAmd64, layers: [{ randomBytes: 2048 }] },
        { platform: PLATFORMS.linuxArm64, layers: [{ randomBytes: 2048 }] },
      ],
    });
    await pushLayout(idx, "demo/multi:v1", reg, { all: true });
  });
  after(async () => {
    await reg?.stop();
    if (work !== undefined) removeTempDir(work);
  });
  const craneDigest = async (...args: string[]) =>
    (await promisify(execFile)(crane, ["digest", ...args], { encoding: "utf8" })).stdout.trim();

  it("gives a manifest's digest with one HEAD, as crane digest does", async () => {
    reg.resetAccessLog();
    const r = await remoteDigest(`${reg.host}/demo/one:v1`);
    assert.equal(r.descriptor.digest, img.manifestDigest);
    assert.equal(r.descriptor.digest, await craneDigest(`${reg.host}/demo/one:v1`));
    assert.equal(r.reference, `${reg.host}/demo/one:v1`);
    const mine = (await reg.settledAccessLog()).filter(
      (l) => !/crane|go-container/i.test(l.userAgent ?? ""),
    );
    const manifestRequests = mine.filter((l) => l.path.includes("/manifests/"));
    assert.deepEqual(
      manifestRequests.map((l) => l.method),
      ["HEAD"],
    );
  });

  it("gives an index's digest, and with a platform that platform's manifest", async () => {
    const ref = `${reg.host}/demo/multi:v1`;
    const whole = await remoteDigest(ref);
    assert.equal(whole.descriptor.digest, idx.indexDigest);
    assert.equal(whole.descriptor.digest, await craneDigest(ref));
    for (const p of ["linux/amd64", "linux/arm64"]) {
      const one = await remoteDigest(ref, { platform: p });
      assert.equal(one.resolved.digest, idx.indexDigest);
      assert.equal(one.descriptor.digest, await craneDigest(ref, "--platform", p));
    }
    const arm = idx.images.find((i) => i.platform.architecture === "arm64");
    assert.equal(
      (await remoteDigest(ref, { platform: "linux/arm64" })).descriptor.digest,
      arm?.manifestDigest,
    );
  });

  it("names what an index offers when the platform is missing, and a missing tag", async () => {
    await assert.rejects(
      remoteDigest(`${reg.host}/demo/multi:v1`, { platform: "linux/s390x" }),
      (e) => {
        assert.ok(isKimgError(e));
        assert.equal(e.code, "PLATFORM_NOT_FOUND");
        assert.match(e.message, /linux\/amd64/);
        return true;
      },
    );
    await assert.rejects(remoteDigest(`${reg.host}/demo/one:nope`), (e) => {
      assert.ok(isKimgError(e));
      assert.equal(e.code, "MANIFEST_UNKNOWN");
      return true;
    });
  });
});

describe("kimg digest (the CLI)", () => {
  let reg: Registry;
  let work: string;
  let idx: BuiltIndex;
  before(async () => {
    reg = await startRegistry();
    work = makeTempDir("cli-digest");
    idx = await buildIndex({
      dir: `${work}/multi`,
      images: [
        { platform: PLATFORMS.linuxAmd64, layers: [{ randomBytes: 1024 }] },
        { platform: PLATFORMS.linuxArm64, layers: [{ randomBytes: 1024 }] },
      ],
    });
    await pushLayout(idx, "cli/multi:v1", reg, { all: true });
  });
  after(async () => {
    await reg?.stop();
    if (work !== undefined) removeTempDir(work);
  });
  const env = () => ({ HOME: work, PATH: process.env.PATH ?? "" });

  it("prints the digest, or with --json the descriptor, and --platform picks the entry", async () => {
    const ref = `${reg.host}/cli/multi:v1`;
    const plain = await runKimg(["digest", ref], { env: env() });
    assert.equal(plain.code, 0, plain.stderr);
    assert.equal(plain.stdout, `${idx.indexDigest}\n`);
    const arm = idx.images.find((i) => i.platform.architecture === "arm64");
    const j = await runKimg(["digest", ref, "--platform", "linux/arm64", "--json"], { env: env() });
    assert.equal(j.code, 0, j.stderr);
    const o = JSON.parse(j.stdout) as Record<string, unknown>;
    assert.equal(o.digest, arm?.manifestDigest);
    assert.equal(o.index, idx.indexDigest);
    assert.equal(o.reference, ref);
  });

  it("a missing tag exits 3 with one line naming the registry; a bad reference exits 1", async () => {
    const r = await runKimg(["digest", `${reg.host}/cli/multi:nope`], { env: env() });
    assert.equal(r.code, 3);
    assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    assert.match(r.stderr, new RegExp(reg.host.replace(/\./g, "\\.")));
    const bad = await runKimg(["digest", "UPPER/Case"], { env: env() });
    assert.equal(bad.code, 1, bad.stderr);
    assert.equal(bad.stderr.trim().split("\n").length, 1, bad.stderr);
  });
});
