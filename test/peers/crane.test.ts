// crane (go-containerregistry, pinned in test/peers/versions.env) as an oracle: for the same
// images in a real Distribution registry, the digest kimg resolves, the manifest and config
// bytes it stores, and the platform it picks from an index equal crane's answers
// (`crane digest [--platform]`, `crane manifest`, `crane config`). Issue 12 §4 "crane".

import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { makeTempDir, removeTempDir } from "../helpers/cleanup.ts";
import {
  type BuiltImage,
  type BuiltIndex,
  buildImage,
  buildIndex,
  PLATFORMS,
} from "../helpers/images.ts";
import { kimgPullJson } from "../helpers/kimg-cli.ts";
import { peerBin } from "../helpers/peers.ts";
import { type Registry, startRegistry } from "../helpers/registry.ts";
import { pushLayout } from "../helpers/skopeo.ts";

const run = promisify(execFile);

describe("crane as the oracle for digests, manifests and configs", { timeout: 600_000 }, () => {
  let reg: Registry;
  let single: BuiltImage;
  let multi: BuiltIndex;
  let crane = "";
  const dirs: string[] = [];
  const craneOut = async (...args: string[]) =>
    (await run(crane, [...args, "--insecure"], { encoding: "buffer", maxBuffer: 64 << 20 }))
      .stdout as Buffer;

  before(async () => {
    crane = peerBin("crane");
    reg = await startRegistry();
    single = await buildImage({
      layers: [{ randomBytes: 3000 }, { randomBytes: 500 }],
      seed: "crane-1",
    });
    await pushLayout(single, "oracle/single:v1", reg);
    multi = await buildIndex({
      images: [
        { platform: PLATFORMS.linuxAmd64, layers: [{ randomBytes: 700 }] },
        { platform: PLATFORMS.linuxArm64, layers: [{ randomBytes: 800 }] },
      ],
      seed: "crane-multi",
    });
    await pushLayout(multi, "oracle/multi:v1", reg, { all: true });
  });
  after(async () => {
    await reg?.stop();
    for (const d of dirs) removeTempDir(d);
    if (single !== undefined) removeTempDir(single.layoutDir);
    if (multi !== undefined) removeTempDir(multi.layoutDir);
  });

  /** kimg pull into a fresh store: what it resolved and stored, and the store. */
  async function kimgPull(ref: string, platform?: string) {
    const store = makeTempDir("kimg-crane-store-");
    dirs.push(store);
    const r = await kimgPullJson(
      ref,
      store,
      platform !== undefined ? ["--platform", platform] : [],
    );
    return { store, ...r };
  }
  const blob = (store: string, digest: string) =>
    readFileSync(join(store, "blobs", ...digest.split(":")));

  it("a single-platform image: digest, manifest and config bytes", async () => {
    const ref = `${reg.host}/oracle/single:v1`;
    const k = await kimgPull(ref);
    const digest = (await craneOut("digest", ref)).toString().trim();
    assert.equal(k.resolved, digest);
    assert.equal(k.manifestDigest, digest);
    const manifest = await craneOut("manifest", ref);
    assert.deepEqual(blob(k.store, digest), manifest);
    const config = await craneOut("config", ref);
    const m = JSON.parse(manifest.toString()) as { config: { digest: string } };
    assert.deepEqual(blob(k.store, m.config.digest), config);
  });

  it("an index: the index digest, and the platform's manifest kimg picks is crane's", async () => {
    const ref = `${reg.host}/oracle/multi:v1`;
    for (const platform of ["linux/amd64", "linux/arm64"]) {
      const k = await kimgPull(ref, platform);
      assert.equal(k.resolved, (await craneOut("digest", ref)).toString().trim());
      const chosen = (await craneOut("digest", ref, "--platform", platform)).toString().trim();
      assert.equal(k.manifestDigest, chosen, platform);
      assert.deepEqual(
        blob(k.store, chosen),
        await craneOut("manifest", `${reg.host}/oracle/multi@${chosen}`),
      );
      const config = await craneOut("config", ref, "--platform", platform);
      const m = JSON.parse(blob(k.store, chosen).toString()) as { config: { digest: string } };
      assert.deepEqual(blob(k.store, m.config.digest), config, platform);
    }
  });
});
