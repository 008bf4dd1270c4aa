// kimg gc: the built binary on stores holding images recorded in the past (written through the
// store's API with a past clock, so the real clock of the binary sees them as old), with a
// configured capacity so usage is exact; one image pulled from the harness's Distribution
// registry. Invalid flags exit 1 with the kubelet's messages; --dry-run changes nothing;
// FreeDiskSpaceFailed is a warning (exit 0).

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { FsBlobStore } from "../../src/store/index.ts";
import { makeTempDir, removeTempDir } from "../helpers/cleanup.ts";
import { type BuiltImage, blobPath, buildImage } from "../helpers/images.ts";
import { runKimg } from "../helpers/kimg-cli.ts";
import { type Registry, startRegistry } from "../helpers/registry.ts";
import { pushLayout } from "../helpers/skopeo.ts";

const HOUR = 60 * 60_000;

const kimg = (args: string[]) => runKimg(args);

function imageBytes(img: BuiltImage): number {
  return img.configSize + img.manifestSize + img.layers.reduce((s, l) => s + l.size, 0);
}

/** docker-style size as kimg prints it (src/cli/render/bytes.ts). */
function kB(n: number): string {
  const v = n / 1000;
  return `${v < 10 ? v.toFixed(2) : v < 100 ? v.toFixed(1) : v.toFixed(0)} kB`;
}

const second = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");

describe("kimg gc", { timeout: 180_000 }, () => {
  let a: BuiltImage;
  let c: BuiltImage;
  let reg: Registry;
  const dirs: string[] = [];

  before(async () => {
    a = await buildImage({ seed: "cli-gc-a", layers: [{ randomBytes: 30_000, gzipLevel: 0 }] });
    c = await buildImage({ seed: "cli-gc-c", layers: [{ randomBytes: 50_000, gzipLevel: 0 }] });
    reg = await startRegistry();
    await pushLayout(a, "test/gc:v1", reg);
  });
  after(async () => {
    await reg?.stop();
    for (const d of [a?.layoutDir, c?.layoutDir, ...dirs]) if (d !== undefined) removeTempDir(d);
  });

  /** A store with a (pulled 3 h ago, used 2 h ago) and c (pulled 3 h ago, used 1 h ago). */
  async function aged() {
    const dir = makeTempDir("kimg-cli-gc-");
    dirs.push(dir);
    const pulled = Date.now() - 3 * HOUR;
    const store = await FsBlobStore.open(dir, { now: () => pulled });
    for (const [img, name] of [
      [a, "reg.example/a:1"],
      [c, "reg.example/c:1"],
    ] as const) {
      const blobs = [img.configDigest, ...img.layers.map((l) => l.digest), img.manifestDigest];
      for (const dg of blobs) {
        const data = await readFile(blobPath(img.layoutDir, dg));
        const w = await store.ingest({ digest: dg, size: data.byteLength });
        await w.write(data);
        await w.commit();
      }
      await store.putImage({
        name,
        target: {
          mediaType: img.manifestMediaType,
          digest: img.manifestDigest,
          size: img.manifestSize,
        },
        manifestDigest: img.manifestDigest,
        blobs,
      });
    }
    const usedA = Date.now() - 2 * HOUR;
    const usedC = Date.now() - HOUR;
    await store.markImageUsed("reg.example/a:1", new Date(usedA));
    await store.markImageUsed("reg.example/c:1", new Date(usedC));
    const used = imageBytes(a) + imageBytes(c);
    // 95% used: toFree = 20% − 5% of capacity, less than a alone.
    const capacity = Math.ceil((used * 100) / 95);
    return { dir, store, usedA, usedC, capacity };
  }

  it("invalid flags exit 2 (a bad command line, issue 10 item 15) with the kubelet's messages", async () => {
    const dir = makeTempDir("kimg-cli-gc-");
    dirs.push(dir);
    const cases: [string[], string][] = [
      [
        ["--high", "80", "--low", "80"],
        "kimg: invalid configuration: imageGCLowThresholdPercent (--image-gc-low-threshold) 80 must be less than imageGCHighThresholdPercent (--image-gc-high-threshold) 80\n",
      ],
      [
        ["--high", "101"],
        "kimg: invalid configuration: imageGCHighThresholdPercent (--image-gc-high-threshold) 101 must be between 0 and 100, inclusive\n",
      ],
      [
        ["--max-age", "1m"],
        "kimg: invalid configuration: imageMaximumGCAge 1m0s must be greater than imageMinimumGCAge 2m0s\n",
      ],
      [["--min-age", "2x"], 'kimg: imageMinimumGCAge: time: unknown unit "x" in duration "2x"\n'],
      [["--high", "high"], 'kimg: invalid value "high" for --high: not an integer\n'],
      [
        ["--capacity", "10XB"],
        'kimg: invalid size "10XB": want a number of bytes with an optional suffix (Ki, Mi, Gi, Ti, k, M, G, T, kB, MB, GB, TB)\n',
      ],
    ];
    for (const [args, stderr] of cases) {
      const r = await kimg(["gc", ...args, "--store", dir]);
      assert.equal(r.code, 2, args.join(" "));
      assert.equal(r.stderr, stderr);
      assert.equal(r.stdout, "");
    }
  });

  it("--dry-run says what would be deleted and deletes nothing", async () => {
    const s = await aged();
    const before = readFileSync(join(s.dir, "kimg.json"), "utf8");
    const r = await kimg(["gc", "--dry-run", "--capacity", String(s.capacity), "--store", s.dir]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(
      r.stdout,
      [
        `Would delete: reg.example/a:1 (${kB(imageBytes(a))}, reason: space, last used ${second(s.usedA)})`,
        `Image filesystem usage (configured capacity ${kB(s.capacity)}): 95% before, ${100 - Math.floor(((s.capacity - imageBytes(c)) * 100) / s.capacity)}% after (estimated); high threshold 85%, low 80%`,
        `Reclaimable space: ${kB(imageBytes(a))} (1 image, 3 blobs)`,
        "",
      ].join("\n"),
    );
    assert.equal(readFileSync(join(s.dir, "kimg.json"), "utf8"), before);
    assert.ok(existsSync(s.store.path(a.manifestDigest)));
    assert.ok(!existsSync(join(s.dir, "image_manager", "gc-state.json")));
  });

  it("the dry run's estimate is what the real run does, with the store over a configured capacity and leftovers in it (issue 10 item 9)", async () => {
    const s = await aged();
    // An unreferenced leftover: not an image's, so GC neither counts nor deletes it.
    const junk = Buffer.alloc(20_000, 7);
    const w = await s.store.ingest({
      digest: `sha256:${createHash("sha256").update(junk).digest("hex")}`,
      size: junk.byteLength,
    });
    await w.write(junk);
    await w.commit();
    // Capacity below what the store holds: usage is 100% before either run.
    const capacity = Math.floor(imageBytes(c) * 0.9);
    const args = ["gc", "--capacity", String(capacity), "--store", s.dir];
    const usage = (out: string): string => /usage \(.*?\): (.*?);/.exec(out)?.[1] ?? out;
    const dry = await kimg([...args, "--dry-run"]);
    assert.equal(dry.code, 0, dry.stderr);
    const real = await kimg(args);
    assert.equal(real.code, 0, real.stderr);
    assert.equal(usage(dry.stdout), `${usage(real.stdout)} (estimated)`);
    assert.match(real.stdout, /100% before, 100% after/);
  });

  it("--pinned that matches no image is warned about", async () => {
    const s = await aged();
    const r = await kimg(["gc", "--dry-run", "--pinned", "nope:1", "--store", s.dir]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, "kimg: warning: --pinned nope:1 matches no image in the store\n");
    const ok = await kimg(["gc", "--dry-run", "--pinned", "reg.example/a:1", "--store", s.dir]);
    assert.equal(ok.stderr, "");
  });

  it("removes the least recently used image; --pinned keeps it; FreeDiskSpaceFailed is a warning", async () => {
    const s = await aged();
    const pinned = await kimg([
      "gc",
      "--capacity",
      String(s.capacity),
      "--pinned",
      "reg.example/a:1",
      "reg.example/c:1",
      "--store",
      s.dir,
    ]);
    assert.equal(pinned.code, 0, pinned.stderr);
    const toFree =
      Math.floor((s.capacity * 20) / 100) - (s.capacity - imageBytes(a) - imageBytes(c));
    assert.equal(
      pinned.stdout,
      [
        `Image filesystem usage (configured capacity ${kB(s.capacity)}): 95% before, 95% after; high threshold 85%, low 80%`,
        "Reclaimed space: 0 B (0 images, 0 blobs)",
        `Warning FreeDiskSpaceFailed Failed to garbage collect required amount of images. Attempted to free ${toFree} bytes, but only found 0 bytes eligible to free.`,
        "",
      ].join("\n"),
    );

    const r = await kimg(["gc", "--json", "--capacity", String(s.capacity), "--store", s.dir]);
    assert.equal(r.code, 0, r.stderr);
    const o = JSON.parse(r.stdout) as {
      removed: { id: string; names: string[]; reason: string; size: number }[];
      reclaimedBytes: number;
      amountToFree: number;
      events: unknown[];
      capacitySource: string;
      before: { usagePercent: number };
    };
    assert.deepEqual(
      o.removed.map((x) => [x.id, x.names, x.reason, x.size]),
      [[a.manifestDigest, ["reg.example/a:1"], "space", imageBytes(a)]],
    );
    assert.equal(o.reclaimedBytes, imageBytes(a));
    assert.equal(o.amountToFree, toFree);
    assert.deepEqual(o.events, []);
    assert.equal(o.capacitySource, "configured");
    assert.equal(o.before.usagePercent, 95);
    assert.ok(!existsSync(s.store.path(a.manifestDigest)));
    assert.ok(existsSync(s.store.path(c.manifestDigest)));
    const state = JSON.parse(
      readFileSync(join(s.dir, "image_manager", "gc-state.json"), "utf8"),
    ) as { images: Record<string, unknown> };
    assert.deepEqual(Object.keys(state.images), [c.manifestDigest]);
  });

  it("--node-config: the KubeletConfiguration's image GC settings apply; flags override them", async () => {
    const s = await aged();
    const cfg = join(s.dir, "kubelet.yaml");
    writeFileSync(
      cfg,
      "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\nimageGCHighThresholdPercent: 96\nimageGCLowThresholdPercent: 50\n",
    );
    const kept = await kimg([
      "gc",
      "--node-config",
      cfg,
      "--capacity",
      String(s.capacity),
      "--store",
      s.dir,
    ]);
    assert.equal(kept.code, 0, kept.stderr);
    assert.match(kept.stdout, /: 95% before, 95% after; high threshold 96%, low 50%\n/);
    const r = await kimg([
      "gc",
      "--node-config",
      cfg,
      "--high",
      "95",
      "--json",
      "--capacity",
      String(s.capacity),
      "--store",
      s.dir,
    ]);
    assert.equal(r.code, 0, r.stderr);
    const o = JSON.parse(r.stdout) as { policy: unknown; removed: { names: string[] }[] };
    assert.deepEqual(o.policy, {
      highThresholdPercent: 95,
      lowThresholdPercent: 50,
      minAgeMs: 120_000,
      maxAgeMs: 0,
    });
    // Down to 50%: both images go.
    assert.deepEqual(
      o.removed.map((x) => x.names[0]),
      ["reg.example/a:1", "reg.example/c:1"],
    );

    writeFileSync(
      cfg,
      "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\nimageGCHighThresholdPercent: 80\nimageGCLowThresholdPercent: 90\n",
    );
    const bad = await kimg(["gc", "--node-config", cfg, "--store", s.dir]);
    assert.equal(bad.code, 2);
    assert.equal(
      bad.stderr,
      `kimg: ${cfg}: invalid configuration: imageGCLowThresholdPercent (--image-gc-low-threshold) 90 must be less than imageGCHighThresholdPercent (--image-gc-high-threshold) 80\n`,
    );
  });

  it("an image pulled from the registry: --all-unused --min-age 0s deletes it", async () => {
    const dir = makeTempDir("kimg-cli-gc-");
    dirs.push(dir);
    const ref = `${reg.host}/test/gc:v1`;
    const p = await kimg(["pull", ref, "--store", dir]);
    assert.equal(p.code, 0, p.stderr);
    const young = await kimg(["gc", "--all-unused", "--store", dir]);
    assert.equal(young.code, 0, young.stderr);
    assert.match(young.stdout, /^Image filesystem usage \(\d.* filesystem\): \d+% before/);
    assert.match(young.stdout, /Reclaimed space: 0 B \(0 images, 0 blobs\)\n$/);
    const r = await kimg(["gc", "--all-unused", "--min-age", "0s", "--store", dir]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      new RegExp(
        `^Deleted: ${reg.host}/test/gc:v1 \\(${kB(imageBytes(a)).replace(".", "\\.")}, reason: space, last used `,
      ),
    );
    assert.match(
      r.stdout,
      new RegExp(
        `Reclaimed space: ${kB(imageBytes(a)).replace(".", "\\.")} \\(1 image, 3 blobs\\)\n$`,
      ),
    );
    const images = await kimg(["images", "--json", "--store", dir]);
    assert.deepEqual(JSON.parse(images.stdout), []);
  });
});
