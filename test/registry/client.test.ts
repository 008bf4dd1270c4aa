// RegistryClient against the real CNCF Distribution registry of the test harness
// (test/helpers/registry.ts): anonymous, htpasswd (Basic) and token (Bearer) auth. Resolve,
// manifests by digest and tag, blobs with Range resume, indexes with platform selection, and
// the denial / unknown messages.

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { isKimgError, type KimgError } from "../../src/errors.ts";
import { parseDigest, parseManifestOrIndex, selectManifest } from "../../src/oci/index.ts";
import { parseNormalizedNamed } from "../../src/ref/index.ts";
import type { Credential } from "../../src/registry/auth.ts";
import { RegistryClient } from "../../src/registry/client.ts";
import { removeTempDir } from "../helpers/cleanup.ts";
import {
  type BuiltImage,
  type BuiltIndex,
  buildImage,
  buildIndex,
  MediaType,
  PLATFORMS,
  sha256,
} from "../helpers/images.ts";
import { type Registry, startRegistry } from "../helpers/registry.ts";
import { pushLayout } from "../helpers/skopeo.ts";
import { startTokenServer, type TokenServer } from "../helpers/token-server.ts";

const ALICE = { user: "alice", pass: "wonderland" };
const BOB = { user: "bob", pass: "builder" };

async function readAll(s: AsyncIterable<unknown>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of s) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

const creds = (c: Credential | undefined) => ({ lookup: async () => c });
const desc = (l: { digest: string; size: number }) => ({
  digest: parseDigest(l.digest),
  size: l.size,
});

describe("RegistryClient, anonymous Distribution registry", { timeout: 120_000 }, () => {
  let reg: Registry;
  let img: BuiltImage;
  let idx: BuiltIndex;
  let c: RegistryClient;

  before(async () => {
    reg = await startRegistry();
    img = await buildImage({ layers: [{ randomBytes: 300_000 }, { randomBytes: 1000 }] });
    idx = await buildIndex({
      images: [PLATFORMS.linuxAmd64, PLATFORMS.linuxArm64].map((platform) => ({
        platform,
        layers: [{ randomBytes: 2000 }],
      })),
    });
    await pushLayout(img, "test/app:v1", reg);
    await pushLayout(idx, "test/multi:v1", reg, { all: true });
    c = new RegistryClient({ host: reg.host });
  });
  after(async () => {
    await c?.close();
    await reg?.stop();
    if (img !== undefined) removeTempDir(img.layoutDir);
    if (idx !== undefined) removeTempDir(idx.layoutDir);
  });

  it("pings /v2/ over plain HTTP (loopback: HTTPS tried first, then HTTP)", async () => {
    assert.deepEqual(await c.ping(), { status: 200, challenges: [] });
    assert.equal(c.baseUrl.protocol, "http:");
  });

  it("resolves a tag with one HEAD to the manifest's descriptor", async () => {
    await reg.settledAccessLog();
    reg.resetAccessLog();
    const d = await c.resolve(parseNormalizedNamed(`${reg.host}/test/app:v1`));
    assert.deepEqual(
      { ...d },
      { mediaType: MediaType.ociManifest, digest: img.manifestDigest, size: img.manifestSize },
    );
    const log = await reg.settledAccessLog();
    assert.deepEqual(
      log.map((l) => [l.method, l.path, l.status]),
      [["HEAD", "/v2/test/app/manifests/v1", 200]],
    );
  });

  it("gets the manifest by digest and by tag, verified", async () => {
    const byDigest = await c.getManifest("test/app", img.manifestDigest);
    assert.ok(byDigest.bytes.equals(img.manifest));
    assert.equal(byDigest.digest, img.manifestDigest);
    assert.equal(byDigest.mediaType, MediaType.ociManifest);
    const byTag = await c.getManifest("test/app", "v1");
    assert.equal(byTag.digest, img.manifestDigest);
    assert.equal(byTag.size, img.manifestSize);
    const parsed = parseManifestOrIndex(byTag.bytes, { mediaType: byTag.mediaType });
    assert.equal(parsed.kind, "manifest");
  });

  it("gets a blob whose bytes hash to its digest, and resumes at an offset", async () => {
    const layer = img.layers[0];
    assert.ok(layer !== undefined);
    const full = await c.getBlob("test/app", desc(layer));
    assert.equal(full.offset, 0);
    const all = await readAll(full.stream);
    assert.equal(all.length, layer.size);
    assert.equal(sha256(all), layer.digest);
    const off = 123_456;
    const rest = await c.getBlob("test/app", desc(layer), { offset: off });
    assert.equal(rest.offset, off, "206 from the offset");
    const tail = await readAll(rest.stream);
    assert.ok(tail.equals(all.subarray(off)));
  });

  it("an index resolves, and selectManifest picks the platform's manifest", async () => {
    const d = await c.resolve(parseNormalizedNamed(`${reg.host}/test/multi:v1`));
    assert.equal(d.digest, idx.indexDigest);
    assert.equal(d.mediaType, MediaType.ociIndex);
    const m = await c.getManifest("test/multi", d.digest);
    const parsed = parseManifestOrIndex(m.bytes, { mediaType: m.mediaType });
    assert.equal(parsed.kind, "index");
    if (parsed.kind !== "index") return;
    const pick = selectManifest(parsed.index, { os: "linux", architecture: "arm64" });
    assert.equal(pick.digest, idx.images[1]?.manifestDigest);
    const child = await c.getManifest("test/multi", pick.digest);
    assert.equal(child.digest, pick.digest);
  });

  it("unknown tag, repository and blob: manifest unknown / blob unknown with host, request and status", async () => {
    await assert.rejects(
      c.resolve(parseNormalizedNamed(`${reg.host}/test/app:nope`)),
      (e: Error) => {
        assert.ok(isKimgError(e, "MANIFEST_UNKNOWN"));
        assert.equal(
          e.message,
          `manifest unknown: (HEAD ${reg.host}/v2/test/app/manifests/nope: 404 Not Found)`,
        );
        return true;
      },
    );
    await assert.rejects(c.getManifest("no/such", "v1"), (e: Error) => {
      assert.ok(isKimgError(e, "MANIFEST_UNKNOWN"));
      assert.match(e.message, /^manifest unknown: manifest_unknown: manifest unknown \(GET /);
      assert.ok(e.message.includes(`GET ${reg.host}/v2/no/such/manifests/v1: 404 Not Found`));
      // The registry's errors[] stays data on the error, not only text in its message.
      assert.deepEqual((e as KimgError).registry, {
        status: 404,
        method: "GET",
        host: reg.host,
        path: "/v2/no/such/manifests/v1",
        errors: [{ code: "MANIFEST_UNKNOWN", message: "manifest unknown" }],
      });
      return true;
    });
    await assert.rejects(
      c.getManifest("test/app", "nope"),
      /^KimgError: manifest unknown: manifest_unknown: manifest unknown/,
    );
    const missing = { digest: `sha256:${"0".repeat(64)}` as never, size: 1 };
    await assert.rejects(c.getBlob("test/app", missing), (e: Error) => {
      assert.ok(isKimgError(e, "BLOB_UNKNOWN"));
      assert.match(e.message, /^blob unknown: blob_unknown: blob unknown to registry/);
      return true;
    });
  });
});

describe("RegistryClient, htpasswd (Basic) registry", { timeout: 120_000 }, () => {
  let reg: Registry;
  let img: BuiltImage;
  before(async () => {
    reg = await startRegistry({ auth: "htpasswd", users: [ALICE, BOB] });
    img = await buildImage({ layers: [{ randomBytes: 2048 }] });
    await pushLayout(img, "private/app:v1", reg, { creds: ALICE });
  });
  after(async () => {
    await reg?.stop();
    if (img !== undefined) removeTempDir(img.layoutDir);
  });

  it("401 → Basic → success with the right password", async () => {
    const c = new RegistryClient({
      host: reg.host,
      credentials: creds({ username: BOB.user, password: BOB.pass }),
    });
    try {
      const m = await c.getManifest("private/app", "v1");
      assert.equal(m.digest, img.manifestDigest);
    } finally {
      await c.close();
    }
  });

  it("wrong password or none: a clear denial, never the password", async () => {
    for (const cred of [{ username: "bob", password: "s3cret-wrong" }, undefined]) {
      const c = new RegistryClient({ host: reg.host, credentials: creds(cred) });
      try {
        await assert.rejects(c.getManifest("private/app", "v1"), (e: Error) => {
          assert.ok(isKimgError(e, "REGISTRY_UNAUTHORIZED"), String(e));
          assert.match(
            e.message,
            cred === undefined
              ? /^pull access denied, repository does not exist or may require authorization: unauthorized: authentication required/
              : /^authentication failed: the registry refused the credentials from the given credentials: unauthorized: authentication required/,
          );
          assert.ok(
            e.message.includes(`GET ${reg.host}/v2/private/app/manifests/v1: 401 Unauthorized`),
          );
          assert.ok(!e.message.includes("s3cret-wrong"));
          assert.ok(!/Basic [A-Za-z0-9+/=]{8,}/.test(e.message));
          return true;
        });
      } finally {
        await c.close();
      }
    }
  });
});

describe("RegistryClient, token (Bearer) registry", { timeout: 120_000 }, () => {
  let ts: TokenServer;
  let reg: Registry;
  let img: BuiltImage;
  before(async () => {
    ts = await startTokenServer({
      users: [ALICE, BOB],
      grants: [
        { who: "anonymous", name: "public/*", actions: ["pull"] },
        { who: { user: "alice" }, name: "*", actions: ["*"] },
        { who: { user: "bob" }, name: "private/*", actions: ["pull"] },
      ],
    });
    reg = await startRegistry({ auth: "token", tokenServer: ts });
    img = await buildImage({ layers: [{ randomBytes: 4096 }] });
    await pushLayout(img, "public/app:v1", reg, { creds: ALICE });
    await pushLayout(img, "private/app:v1", reg, { creds: ALICE });
  });
  after(async () => {
    await reg?.stop();
    await ts?.stop();
    if (img !== undefined) removeTempDir(img.layoutDir);
  });

  it("anonymous: 401 → token → success, one token per scope", async () => {
    const c = new RegistryClient({ host: reg.host });
    try {
      const before = ts.requests.length;
      const d = await c.resolve(parseNormalizedNamed(`${reg.host}/public/app:v1`));
      assert.equal(d.digest, img.manifestDigest);
      const m = await c.getManifest("public/app", d.digest);
      assert.ok(m.bytes.equals(img.manifest));
      const layer = img.layers[0];
      assert.ok(layer !== undefined);
      assert.equal(
        sha256(await readAll((await c.getBlob("public/app", desc(layer))).stream)),
        layer.digest,
      );
      assert.equal(ts.requests.length, before + 1, "token cached for the scope");
      assert.equal(ts.requests.at(-1)?.user, null);
      assert.deepEqual(ts.requests.at(-1)?.scopes, ["repository:public/app:pull"]);
    } finally {
      await c.close();
    }
  });

  it("with credentials: Basic at the token server, pulls private/*", async () => {
    const c = new RegistryClient({
      host: reg.host,
      credentials: creds({ username: BOB.user, password: BOB.pass }),
    });
    try {
      assert.equal((await c.getManifest("private/app", "v1")).digest, img.manifestDigest);
      assert.equal(ts.requests.at(-1)?.user, "bob");
    } finally {
      await c.close();
    }
  });

  it("anonymous on a private repository: pull access denied (insufficient_scope)", async () => {
    const c = new RegistryClient({ host: reg.host });
    try {
      await assert.rejects(c.getManifest("private/app", "v1"), (e: Error) => {
        assert.ok(isKimgError(e, "REGISTRY_UNAUTHORIZED"));
        assert.match(
          e.message,
          /^pull access denied, repository does not exist or may require authorization: server message: insufficient_scope: authorization failed; /,
        );
        assert.ok(
          e.message.includes(`GET ${reg.host}/v2/private/app/manifests/v1: 401 Unauthorized`),
        );
        return true;
      });
    } finally {
      await c.close();
    }
  });

  it("wrong password: the token server's 401 becomes a denial without the password", async () => {
    const c = new RegistryClient({
      host: reg.host,
      credentials: creds({ username: BOB.user, password: "hunter2-wrong" }),
    });
    try {
      await assert.rejects(c.getManifest("private/app", "v1"), (e: Error) => {
        assert.ok(isKimgError(e, "REGISTRY_UNAUTHORIZED"), String(e));
        assert.match(
          e.message,
          /^authentication failed: the token server refused the credentials from the given credentials: GET 127\.0\.0\.1:\d+\/token: 401 Unauthorized/,
        );
        assert.ok(!e.message.includes("hunter2"));
        return true;
      });
      assert.equal(ts.requests.at(-1)?.status, 401);
    } finally {
      await c.close();
    }
  });
});
