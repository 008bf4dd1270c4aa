// kimg inspect: the built binary on a store filled by real pulls from the harness's
// Distribution registry. Two images share a base layer; a multi-platform index adds an index
// digest. Text and --json output, lookup by reference, digest and digest prefix, unknown
// images (exit 3, "No such image"), and what rmi of one sharing image leaves to the other.

import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { formatBytes } from "../../src/cli/render/bytes.ts";
import { makeTempDir, removeTempDir } from "../helpers/cleanup.ts";
import {
  type BuiltImage,
  type BuiltIndex,
  buildImage,
  buildIndex,
  MediaType,
  PLATFORMS,
} from "../helpers/images.ts";
import { runKimg } from "../helpers/kimg-cli.ts";
import { type Registry, startRegistry } from "../helpers/registry.ts";
import { pushLayout } from "../helpers/skopeo.ts";

const kimg = (args: string[]) => runKimg(args);

interface Inspection {
  name: string;
  names: string[];
  foundBy: string;
  manifestDigest: string;
  indexDigest?: string;
  mediaTypes: { target: string; manifest: string; config: string; index?: string };
  manifestSize: number;
  configDigest: string;
  configSize: number;
  platform: string;
  created?: string;
  author?: string;
  config: Record<string, unknown>;
  size: number;
  layers: {
    digest: string;
    mediaType: string;
    size: number;
    diffId?: string;
    sharedWith: string[];
  }[];
  pulledAt: string;
  lastUsed: string;
  credential?: { kind: string };
  raw: { manifest: unknown; config: unknown; index?: unknown };
}

describe("kimg inspect", { timeout: 180_000 }, () => {
  let reg: Registry;
  let base: BuiltImage;
  let app: BuiltImage;
  let idx: BuiltIndex;
  let store: string;
  let baseRef: string;
  let appRef: string;
  let multiRef: string;

  before(async () => {
    reg = await startRegistry();
    // Same seed and same first layer: the base layer is one blob shared by both images.
    base = await buildImage({ layers: [{ randomBytes: 20_000 }, { randomBytes: 300 }], seed: "s" });
    app = await buildImage({
      layers: [{ randomBytes: 20_000 }, { randomBytes: 700 }, { randomBytes: 40 }],
      seed: "s",
      config: {
        Entrypoint: ["/app"],
        Cmd: ["--serve"],
        Env: ["PATH=/bin", "MODE=prod"],
        WorkingDir: "/srv",
        User: "1000:1000",
        Labels: { "org.opencontainers.image.title": "app", team: "kimg" },
        ExposedPorts: { "8080/tcp": {}, "53/udp": {} },
      },
      configExtras: { author: "kimg tests" },
    });
    idx = await buildIndex({
      images: [PLATFORMS.linuxAmd64, PLATFORMS.linuxArm64].map((platform) => ({
        platform,
        layers: [{ randomBytes: 900 }],
      })),
    });
    await pushLayout(base, "test/base:v1", reg);
    await pushLayout(app, "test/app:v1", reg);
    await pushLayout(idx, "test/multi:v1", reg, { all: true });
    store = makeTempDir("kimg-cli-inspect-");
    baseRef = `${reg.host}/test/base:v1`;
    appRef = `${reg.host}/test/app:v1`;
    multiRef = `${reg.host}/test/multi:v1`;
    for (const args of [[baseRef], [appRef], [multiRef, "--platform", "linux/arm64"]]) {
      const r = await kimg(["pull", ...args, "--store", store]);
      assert.equal(r.code, 0, r.stderr);
    }
  });
  after(async () => {
    await reg?.stop();
    for (const d of [base?.layoutDir, app?.layoutDir, idx?.layoutDir, store]) {
      if (d !== undefined) removeTempDir(d);
    }
  });

  const inspectJson = async (q: string, s = store): Promise<Inspection> => {
    const r = await kimg(["inspect", q, "--json", "--store", s]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, "");
    return JSON.parse(r.stdout) as Inspection;
  };

  it("--json: digests, media types, platform, the config's fields, layers and their sharing", async () => {
    const i = await inspectJson(appRef);
    assert.equal(i.name, appRef);
    assert.deepEqual(i.names, [appRef]);
    assert.equal(i.foundBy, "name");
    assert.equal(i.manifestDigest, app.manifestDigest);
    assert.equal(i.indexDigest, undefined);
    assert.deepEqual(i.mediaTypes, {
      target: MediaType.ociManifest,
      manifest: MediaType.ociManifest,
      config: MediaType.ociConfig,
    });
    assert.equal(i.manifestSize, app.manifestSize);
    assert.equal(i.configDigest, app.configDigest);
    assert.equal(i.configSize, app.configSize);
    assert.equal(i.platform, "linux/amd64");
    assert.equal(i.created, "2024-01-01T00:00:00Z");
    assert.equal(i.author, "kimg tests");
    assert.deepEqual(i.config, {
      entrypoint: ["/app"],
      cmd: ["--serve"],
      env: ["PATH=/bin", "MODE=prod"],
      workingDir: "/srv",
      user: "1000:1000",
      labels: { "org.opencontainers.image.title": "app", team: "kimg" },
      exposedPorts: ["8080/tcp", "53/udp"],
    });
    assert.equal(
      i.size,
      app.manifestSize + app.configSize + app.layers.reduce((n, l) => n + l.size, 0),
    );
    assert.deepEqual(
      i.layers,
      app.layers.map((l, n) => ({
        digest: l.digest,
        mediaType: l.mediaType,
        size: l.size,
        diffId: l.diffId,
        sharedWith: n === 0 ? [baseRef] : [],
      })),
    );
    assert.equal(base.layers[0]?.digest, app.layers[0]?.digest, "the fixture shares a layer");
    assert.notEqual(base.layers[1]?.digest, app.layers[1]?.digest);
    assert.deepEqual(i.raw.manifest, JSON.parse(app.manifest.toString()));
    assert.deepEqual(i.raw.config, JSON.parse(app.config.toString()));
    assert.equal(i.credential?.kind, "anonymous");
    assert.match(i.pulledAt, /^\d{4}-\d\d-\d\dT/);
    assert.match(i.lastUsed, /^\d{4}-\d\d-\d\dT/);

    const b = await inspectJson(baseRef);
    assert.deepEqual(
      b.layers.map((l) => l.sharedWith),
      [[appRef], []],
    );
  });

  it("a multi-platform image: the index digest and media type, the selected platform", async () => {
    const i = await inspectJson(multiRef);
    const arm = idx.images[1];
    assert.equal(i.indexDigest, idx.indexDigest);
    assert.equal(i.manifestDigest, arm?.manifestDigest);
    assert.deepEqual(i.mediaTypes, {
      target: MediaType.ociIndex,
      manifest: MediaType.ociManifest,
      config: MediaType.ociConfig,
      index: MediaType.ociIndex,
    });
    assert.equal(i.platform, "linux/arm64/v8");
    assert.deepEqual(i.raw.index, JSON.parse(idx.index.toString()));
    assert.equal(i.layers[0]?.digest, arm?.layers[0]?.digest);
  });

  it("the text form", async () => {
    const r = await kimg(["inspect", appRef, "--store", store]);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split("\n");
    assert.equal(lines[0], appRef);
    const field = (k: string) => lines.find((l) => l.startsWith(`  ${k} `))?.slice(2 + 15);
    assert.equal(
      field("manifest"),
      `${app.manifestDigest} (${MediaType.ociManifest}, ${app.manifestSize} B)`,
    );
    assert.equal(field("index"), "-");
    assert.equal(field("platform"), "linux/amd64");
    assert.equal(field("author"), "kimg tests");
    assert.equal(field("entrypoint"), '["/app"]');
    assert.equal(field("cmd"), '["--serve"]');
    assert.equal(field("workingdir"), "/srv");
    assert.equal(field("user"), "1000:1000");
    assert.equal(field("exposed ports"), "8080/tcp 53/udp");
    assert.equal(field("credential"), "anonymous");
    assert.equal(field("layers"), "3");
    const env = lines.findIndex((l) => l.startsWith("  env "));
    assert.deepEqual(
      lines.slice(env, env + 2).map((l) => l.slice(17)),
      ["PATH=/bin", "MODE=prod"],
    );
    const l0 = lines.indexOf(`    1  ${app.layers[0]?.digest}`);
    assert.ok(l0 > 0, r.stdout);
    assert.deepEqual(lines.slice(l0 + 1, l0 + 4), [
      `       ${MediaType.ociLayerGzip}, ${formatBytes(app.layers[0]?.size ?? 0)}`,
      `       diff_id ${app.layers[0]?.diffId}`,
      `       shared with ${baseRef}`,
    ]);
    assert.equal(lines.at(-1), "       shared with -");
  });

  it("finds an image by manifest digest, digest prefix or bare hex prefix, like docker by ID", async () => {
    for (const q of [
      app.manifestDigest,
      app.manifestDigest.slice(0, 19),
      app.manifestDigest.slice(7, 19),
    ]) {
      const i = await inspectJson(q);
      assert.equal(i.name, appRef, q);
      assert.equal(i.foundBy, "digest");
    }
    // The index digest finds the multi-platform image too.
    assert.equal((await inspectJson(idx.indexDigest)).name, multiRef);
  });

  it("unknown image: exit 3 and docker's message; a bad reference: exit 3 too", async () => {
    for (const q of [
      `${reg.host}/test/app:v2`,
      `${reg.host}/test/app`,
      `sha256:${"0".repeat(64)}`,
      "sha256:0000",
      "no such thing",
    ]) {
      const r = await kimg(["inspect", q, "--store", store]);
      assert.equal(r.code, 3, `${q}: ${r.stderr}`);
      assert.equal(r.stderr, `kimg: No such image: ${q}\n`);
      assert.equal(r.stdout, "");
    }
  });

  it("rmi of one of two images sharing a layer keeps the shared layer; prune then has nothing", async () => {
    const s = makeTempDir("kimg-cli-inspect-rmi-");
    try {
      for (const ref of [baseRef, appRef]) {
        assert.equal((await kimg(["pull", ref, "--store", s])).code, 0);
      }
      const shared = base.layers[0]?.digest ?? "";
      const rmi = await kimg(["rmi", baseRef, "--store", s]);
      assert.equal(rmi.code, 0, rmi.stderr);
      const deleted = rmi.stdout
        .trimEnd()
        .split("\n")
        .filter((l) => l.startsWith("Deleted: "))
        .map((l) => l.slice(9))
        .sort();
      assert.deepEqual(
        deleted,
        [base.manifestDigest, base.configDigest, base.layers[1]?.digest ?? ""].sort(),
      );
      const blob = (d: string) => join(s, "blobs", "sha256", d.slice(7));
      assert.ok(existsSync(blob(shared)), "the shared layer stays");
      const i = await inspectJson(appRef, s);
      assert.deepEqual(
        i.layers.map((l) => l.sharedWith),
        [[], [], []],
      );
      const p = await kimg(["prune", "--store", s]);
      assert.equal(p.code, 0, p.stderr);
      assert.equal(p.stdout, "Total reclaimed space: 0 B\n");
      for (const l of app.layers) assert.ok(existsSync(blob(l.digest)));
      const gone = await kimg(["inspect", baseRef, "--store", s]);
      assert.equal(gone.code, 3);
    } finally {
      removeTempDir(s);
    }
  });
});
