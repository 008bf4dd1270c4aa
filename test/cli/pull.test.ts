// kimg pull / images / rmi: the built binary (dist/, built by scripts/test.mjs) against the
// harness's real Distribution registry, with --store in a temp dir: progress lines, the
// summary line, exit codes, images --json and rmi.

import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { makeTempDir, removeTempDir } from "../helpers/cleanup.ts";
import {
  type BuiltImage,
  type BuiltIndex,
  buildImage,
  buildIndex,
  PLATFORMS,
} from "../helpers/images.ts";
import { runKimg } from "../helpers/kimg-cli.ts";
import { type Registry, startRegistry } from "../helpers/registry.ts";
import { pushLayout } from "../helpers/skopeo.ts";

const kimg = (args: string[]) => runKimg(args);

describe("kimg pull, images, rmi", { timeout: 180_000 }, () => {
  let reg: Registry;
  let img: BuiltImage;
  let idx: BuiltIndex;
  let store: string;

  before(async () => {
    reg = await startRegistry();
    img = await buildImage({
      layers: [{ randomBytes: 300_000, gzipLevel: 0 }, { randomBytes: 500 }, { randomBytes: 50 }],
    });
    idx = await buildIndex({
      images: [PLATFORMS.linuxAmd64, PLATFORMS.linuxArm64].map((platform) => ({
        platform,
        layers: [{ randomBytes: 1000 }],
      })),
    });
    await pushLayout(img, "test/app:v1", reg);
    await pushLayout(idx, "test/multi:v1", reg, { all: true });
    store = makeTempDir("kimg-cli-store-");
  });
  after(async () => {
    await reg?.stop();
    for (const d of [img?.layoutDir, idx?.layoutDir, store]) if (d !== undefined) removeTempDir(d);
  });

  it("pulls with one line per event, then the summary; again: up to date", async () => {
    const ref = `${reg.host}/test/app:v1`;
    const r = await kimg(["pull", ref, "--policy", "Always", "--store", store]);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split("\n");
    assert.match(
      lines[0] ?? "",
      new RegExp(`^${ref.replaceAll(".", "\\.")}: resolved to ${img.manifestDigest} `),
    );
    assert.equal(lines.filter((l) => l.endsWith(": download complete")).length, 4);
    // At most one byte count per layer every 5 s (issue 10 item 19).
    assert.ok(lines.filter((l) => / \/ /.test(l)).length <= 4, "progress lines");
    assert.match(
      lines.at(-1) ?? "",
      new RegExp(
        `^Pulled ${ref.replaceAll(".", "\\.")}: digest ${img.manifestDigest}, [\\d.]+ kB, 3 layers \\([\\d.]+ kB downloaded\\) in [\\d.]+m?s$`,
      ),
    );
    assert.equal(r.stderr, "");

    const again = await kimg(["pull", ref, "--policy", "Always", "--store", store]);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.stdout.trimEnd().split("\n").at(-1), `Image is up to date for ${ref}`);

    // v1 defaults to IfNotPresent: no network.
    const local = await kimg(["pull", ref, "--store", store]);
    assert.equal(local.stdout, `Container image "${ref}" already present on machine\n`);
  });

  it("--progress json prints one JSON event per line", async () => {
    const s = makeTempDir("kimg-cli-json-");
    try {
      const r = await kimg([
        "pull",
        `${reg.host}/test/multi:v1`,
        "--platform",
        "linux/arm64",
        "--progress",
        "json",
        "--store",
        s,
      ]);
      assert.equal(r.code, 0, r.stderr);
      const events = r.stdout
        .trimEnd()
        .split("\n")
        .map((l) => JSON.parse(l) as { type: string; result?: { platform: string } });
      assert.equal(events[0]?.type, "resolve");
      const done = events.find((e) => e.type === "done");
      assert.equal(done?.result?.platform, "linux/arm64/v8");
      assert.equal(events.at(-1)?.type, "summary");
    } finally {
      removeTempDir(s);
    }
  });

  it("images --json and the table list the pulled image", async () => {
    const j = await kimg(["images", "--json", "--store", store]);
    assert.equal(j.code, 0, j.stderr);
    const recs = JSON.parse(j.stdout) as { name: string; manifestDigest: string }[];
    assert.deepEqual(
      recs.map((r) => [r.name, r.manifestDigest]),
      [[`${reg.host}/test/app:v1`, img.manifestDigest]],
    );
    const t = await kimg(["images", "--store", store]);
    const [head, row] = t.stdout.trimEnd().split("\n");
    assert.match(head ?? "", /^REPOSITORY\s+TAG\s+DIGEST\s+SIZE\s+PULLED\s+LAST USED$/);
    assert.match(
      row ?? "",
      new RegExp(`^${reg.host.replaceAll(".", "\\.")}/test/app\\s+v1\\s+sha256:[0-9a-f]{12}\\s+`),
    );
  });

  it("exit codes: Never and absent, unknown manifest, platform miss, bad flags", async () => {
    const s = makeTempDir("kimg-cli-err-");
    try {
      const never = await kimg([
        "pull",
        `${reg.host}/test/app:v1`,
        "--policy",
        "Never",
        "--store",
        s,
      ]);
      assert.equal(never.code, 3);
      assert.equal(
        never.stderr,
        `kimg: Container image "${reg.host}/test/app:v1" is not present with pull policy of Never\n`,
      );
      const unknown = await kimg(["pull", `${reg.host}/test/nope:v1`, "--store", s]);
      assert.equal(unknown.code, 3, unknown.stderr);
      assert.equal(unknown.stderr.split("\n").length, 2, "one line");
      const plat = await kimg([
        "pull",
        `${reg.host}/test/multi:v1`,
        "--platform",
        "linux/s390x",
        "--store",
        s,
      ]);
      assert.equal(plat.code, 3);
      assert.match(plat.stderr, /available: linux\/amd64, linux\/arm64\/v8/);
      const bad = await kimg(["pull", `${reg.host}/test/app:v1`, "--jobs", "0", "--store", s]);
      assert.equal(bad.code, 2);
      // One try: the back-off between tries is pull-network and fault tests' business.
      const down = await kimg(["pull", "127.0.0.1:1/test/app:v1", "--retries", "0", "--store", s]);
      assert.equal(down.code, 5, down.stderr);
    } finally {
      removeTempDir(s);
    }
  });

  it("rmi untags and deletes the blobs no image uses", async () => {
    const r = await kimg(["rmi", `${reg.host}/test/app:v1`, "--store", store]);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split("\n");
    assert.equal(lines[0], `Untagged: ${reg.host}/test/app:v1`);
    assert.equal(lines.filter((l) => l.startsWith("Deleted: ")).length, 5);
    const [, hex] = img.manifestDigest.split(":");
    assert.ok(!existsSync(join(store, "blobs", "sha256", hex ?? "")));
    const again = await kimg(["rmi", `${reg.host}/test/app:v1`, "--store", store]);
    assert.equal(again.code, 3);
    assert.equal(again.stderr, `kimg: No such image: ${reg.host}/test/app:v1\n`);
    const list = await kimg(["images", "--json", "--store", store]);
    assert.deepEqual(JSON.parse(list.stdout), []);
  });
});
