// registries.conf in pulls, against two real Distribution registries on 127.0.0.1 (an upstream
// and a mirror): mirror first when it has the image (the upstream sees no request), fallback to
// the upstream when the mirror lacks it, pull-from-mirror digest-only skipping the mirror for a
// tag, blocked (no request at all), location rewrite, all endpoints failing (the message names
// them), the CLI's --registries-conf; the single-manifest platform check; and the client's
// HTTPS-first scheme for insecure hosts (a plain-HTTP registry, a self-signed HTTPS server).

import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import https from "node:https";
import type { AddressInfo } from "node:net";
import { join, resolve } from "node:path";
import { after, before, describe, it } from "node:test";
import { isKimgError } from "../../src/errors.ts";
import { type ProgressEvent, pull } from "../../src/pull/index.ts";
import { parseRegistriesConf, RegistryClient } from "../../src/registry/index.ts";
import { FsBlobStore } from "../../src/store/index.ts";
import { makeTempDir, removeTempDir } from "../helpers/cleanup.ts";
import { run } from "../helpers/exec.ts";
import { type BuiltImage, buildImage, PLATFORMS } from "../helpers/images.ts";
import { type Registry, startRegistry } from "../helpers/registry.ts";
import { pushLayout } from "../helpers/skopeo.ts";

const BIN = resolve(import.meta.dirname, "../../dist/cli/kimg.cjs");
/** 127.0.0.1 as an IPv4-mapped IPv6 address: reachable, but not a loopback name to kimg. */
const MAPPED = "[::ffff:7f00:1]";

describe("pulls with registries.conf (two Distribution registries)", { timeout: 180_000 }, () => {
  let up: Registry;
  let mir: Registry;
  let img: BuiltImage;
  let img2: BuiltImage;
  const dirs: string[] = [];
  const tmp = (): string => {
    const d = makeTempDir("kimg-mirrors-");
    dirs.push(d);
    return d;
  };
  const fresh = async () => {
    for (const r of [up, mir]) {
      await r.settledAccessLog();
      r.resetAccessLog();
    }
  };
  const blobGets = (r: Registry) =>
    r.accessLog().filter((l) => l.method === "GET" && l.path.includes("/blobs/"));

  before(async () => {
    [up, mir] = await Promise.all([startRegistry(), startRegistry()]);
    img = await buildImage({ layers: [{ randomBytes: 50_000 }, { randomBytes: 500 }], seed: "m1" });
    img2 = await buildImage({ layers: [{ randomBytes: 3000 }], seed: "m2" });
    await pushLayout(img, "test/app:v1", up);
    await pushLayout(img, "test/app:v1", mir);
    await pushLayout(img2, "test/only-up:v1", up);
    await pushLayout(img, "bar/app:v1", up);
  });
  after(async () => {
    await up?.stop();
    await mir?.stop();
    for (const d of [img?.layoutDir, img2?.layoutDir, ...dirs])
      if (d !== undefined) removeTempDir(d);
  });

  const mirrorConf = (extra = "") =>
    parseRegistriesConf(
      `[[registry]]\nlocation = "${up.host}"\n[[registry.mirror]]\nlocation = "${mir.host}"\n${extra}`,
      "mirrors.conf",
    );

  it("the mirror has the image: pulled from the mirror, the upstream sees no request", async () => {
    const store = await FsBlobStore.open(tmp());
    await fresh();
    const events: ProgressEvent[] = [];
    const r = await pull(`${up.host}/test/app:v1`, {
      store,
      registriesConf: mirrorConf(),
      onProgress: (e) => events.push(e),
    });
    assert.equal(r.ref, `${up.host}/test/app:v1`);
    assert.equal(r.digest, img.manifestDigest);
    const resolveEvent = events[0];
    assert.equal(resolveEvent?.type, "resolve");
    assert.equal(
      resolveEvent?.type === "resolve" ? resolveEvent.endpoint : "",
      `${mir.host}/test/app`,
    );
    await up.settledAccessLog();
    await mir.settledAccessLog();
    assert.deepEqual(up.accessLog(), []);
    assert.equal(blobGets(mir).length, 3); // config + 2 layers
    // The record keeps the original name.
    const rec = await store.getImage(`${up.host}/test/app:v1`);
    assert.equal(rec?.manifestDigest, img.manifestDigest);
  });

  it("the mirror lacks it: HEAD 404 on the mirror, then everything from the upstream", async () => {
    const store = await FsBlobStore.open(tmp());
    await fresh();
    const events: ProgressEvent[] = [];
    const r = await pull(`${up.host}/test/only-up:v1`, {
      store,
      registriesConf: mirrorConf(),
      onProgress: (e) => events.push(e),
    });
    assert.equal(r.digest, img2.manifestDigest);
    const ev = events[0];
    assert.ok(ev?.type === "resolve" && ev.endpoint === undefined);
    await up.settledAccessLog();
    await mir.settledAccessLog();
    assert.deepEqual(
      mir.accessLog().map((l) => `${l.method} ${l.status}`),
      ["HEAD 404"],
    );
    assert.equal(blobGets(up).length, 2);
  });

  it('pull-from-mirror = "digest-only": a tag skips the mirror, a digest uses it', async () => {
    const conf = mirrorConf('pull-from-mirror = "digest-only"\n');
    await fresh();
    await pull(`${up.host}/test/app:v1`, {
      store: await FsBlobStore.open(tmp()),
      registriesConf: conf,
    });
    await mir.settledAccessLog();
    await up.settledAccessLog();
    assert.deepEqual(mir.accessLog(), []);
    assert.equal(blobGets(up).length, 3);
    await fresh();
    await pull(`${up.host}/test/app@${img.manifestDigest}`, {
      store: await FsBlobStore.open(tmp()),
      registriesConf: conf,
    });
    await mir.settledAccessLog();
    await up.settledAccessLog();
    assert.deepEqual(up.accessLog(), []);
    assert.equal(blobGets(mir).length, 3);
  });

  it("mirror-by-digest-only = true: the same for every mirror", async () => {
    const conf = parseRegistriesConf(
      `[[registry]]\nlocation = "${up.host}"\nmirror-by-digest-only = true\n[[registry.mirror]]\nlocation = "${mir.host}"\n`,
    );
    await fresh();
    await pull(`${up.host}/test/app:v1`, {
      store: await FsBlobStore.open(tmp()),
      registriesConf: conf,
    });
    await mir.settledAccessLog();
    assert.deepEqual(mir.accessLog(), []);
  });

  it("blocked = true: REGISTRY_BLOCKED naming the registry, no request anywhere", async () => {
    const conf = parseRegistriesConf(
      `[[registry]]\nlocation = "${up.host}"\nblocked = true\n[[registry.mirror]]\nlocation = "${mir.host}"\n`,
      "blocked.conf",
    );
    await fresh();
    await assert.rejects(
      pull(`${up.host}/test/app:v1`, {
        store: await FsBlobStore.open(tmp()),
        registriesConf: conf,
      }),
      (e: unknown) =>
        isKimgError(e, "REGISTRY_BLOCKED") &&
        e.message === `registry ${up.host} is blocked in blocked.conf`,
    );
    await up.settledAccessLog();
    await mir.settledAccessLog();
    assert.deepEqual([...up.accessLog(), ...mir.accessLog()], []);
  });

  it("location rewrite: example.test/foo → 127.0.0.1:PORT/bar, recorded under example.test/foo", async () => {
    const conf = parseRegistriesConf(
      `[[registry]]\nprefix = "example.test/foo"\nlocation = "${up.host}/bar"\n`,
    );
    const store = await FsBlobStore.open(tmp());
    await fresh();
    const events: ProgressEvent[] = [];
    const r = await pull("example.test/foo/app:v1", {
      store,
      registriesConf: conf,
      onProgress: (e) => events.push(e),
    });
    assert.equal(r.ref, "example.test/foo/app:v1");
    assert.equal(r.digest, img.manifestDigest);
    const ev = events[0];
    assert.ok(ev?.type === "resolve" && ev.endpoint === `${up.host}/bar/app`);
    assert.ok((await store.getImage("example.test/foo/app:v1")) !== undefined);
    await up.settledAccessLog();
    assert.ok(
      up.accessLog().every((l) => l.path.startsWith("/v2/bar/app/")),
      "rewritten path",
    );
  });

  it("every endpoint fails: the primary's code, the mirrors' failures named first", async () => {
    const conf = parseRegistriesConf(
      `[[registry]]\nprefix = "${up.host}/test"\nlocation = "${up.host}/nothing"\n[[registry.mirror]]\nlocation = "${mir.host}/none"\n`,
    );
    await assert.rejects(
      pull(`${up.host}/test/app:v1`, {
        store: await FsBlobStore.open(tmp()),
        registriesConf: conf,
      }),
      (e: unknown) => {
        assert.ok(isKimgError(e, "MANIFEST_UNKNOWN"), String(e));
        assert.ok(
          e.message.startsWith(`(Mirrors also failed: [${mir.host}/none/app:v1: manifest unknown`),
          e.message,
        );
        assert.ok(e.message.includes(`]): ${up.host}/nothing/app:v1: manifest unknown`), e.message);
        return true;
      },
    );
  });

  it("an unreachable mirror (connection refused) moves on to the next endpoint", async () => {
    const conf = parseRegistriesConf(
      `[[registry]]\nlocation = "${up.host}"\n[[registry.mirror]]\nlocation = "127.0.0.1:1"\n[[registry.mirror]]\nlocation = "${mir.host}"\n`,
    );
    const events: ProgressEvent[] = [];
    await pull(`${up.host}/test/app:v1`, {
      store: await FsBlobStore.open(tmp()),
      registriesConf: conf,
      retry: { maxAttempts: 1 },
      onProgress: (e) => events.push(e),
    });
    const ev = events[0];
    assert.ok(ev?.type === "resolve" && ev.endpoint === `${mir.host}/test/app`);
  });

  it("single manifest: an explicit --platform must match the config's; none accepts any", async () => {
    assert.equal(img.platform.architecture, PLATFORMS.linuxAmd64.architecture);
    await assert.rejects(
      pull(`${up.host}/test/app:v1`, {
        store: await FsBlobStore.open(tmp()),
        platform: "linux/s390x",
      }),
      (e: unknown) =>
        isKimgError(e, "PLATFORM_NOT_FOUND") &&
        e.message ===
          `no match for platform in manifest: ${up.host}/test/app:v1 is a single-platform image for linux/amd64, not linux/s390x`,
    );
    const r = await pull(`${up.host}/test/app:v1`, {
      store: await FsBlobStore.open(tmp()),
      platform: "linux/amd64",
    });
    assert.equal(r.platform, "linux/amd64");
  });

  it("kimg pull --registries-conf FILE", async () => {
    const dir = tmp();
    const file = join(dir, "registries.conf");
    writeFileSync(file, `[[registry]]\nprefix = "example.test/foo"\nlocation = "${up.host}/bar"\n`);
    const env: NodeJS.ProcessEnv = { ...process.env, CONTAINERS_REGISTRIES_CONF: "/dev/null" };
    delete env.KIMG_STORE;
    const kimg = (args: string[]) =>
      new Promise<{ code: number; stdout: string; stderr: string }>((ok) => {
        execFile(
          process.execPath,
          [BIN, ...args],
          { env, encoding: "utf8" },
          (err, stdout, stderr) => {
            ok({
              code: err === null ? 0 : typeof err.code === "number" ? err.code : -1,
              stdout,
              stderr,
            });
          },
        );
      });
    const store = join(dir, "store");
    const r = await kimg([
      "pull",
      "example.test/foo/app:v1",
      "--registries-conf",
      file,
      "--store",
      store,
      "--progress",
      "plain",
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      new RegExp(
        `^example\\.test/foo/app:v1: resolved to ${img.manifestDigest} .* from ${up.host.replace(/\./g, "\\.")}/bar/app$`,
        "m",
      ),
    );
    assert.match(r.stdout, /^Pulled example\.test\/foo\/app:v1: /m);
    // A blocked registry: exit 4 and the message.
    writeFileSync(file, `[[registry]]\nlocation = "example.test"\nblocked = true\n`);
    const b = await kimg([
      "pull",
      "example.test/foo/app:v1",
      "--policy",
      "Always",
      "--registries-conf",
      file,
      "--store",
      store,
    ]);
    assert.equal(b.code, 4);
    assert.match(
      b.stderr,
      new RegExp(`registry example\\.test is blocked in ${file.replace(/[.]/g, "\\.")}`),
    );
    // An invalid file: exit 2, one line naming the file and the field.
    writeFileSync(file, `[[registry]]\nlocation = "https://x.example"\n`);
    const bad = await kimg([
      "pull",
      "example.test/foo/app:v1",
      "--registries-conf",
      file,
      "--store",
      store,
    ]);
    assert.equal(bad.code, 2);
    assert.match(
      bad.stderr,
      /registry\[0\]\.location: invalid location 'https:\/\/x\.example': URI schemes are not supported/,
    );
    // $CONTAINERS_REGISTRIES_CONF is read when no flag is given.
    writeFileSync(file, `[[registry]]\nprefix = "example.test/foo"\nlocation = "${up.host}/bar"\n`);
    env.CONTAINERS_REGISTRIES_CONF = file;
    const viaEnv = await kimg(["pull", "example.test/foo/app:v1", "--store", join(dir, "store2")]);
    assert.equal(viaEnv.code, 0, viaEnv.stderr);
  });

  it("HTTPS first: an insecure non-loopback host serving plain HTTP works; a secure one is never downgraded", async () => {
    const host = `${MAPPED}:${up.port}`;
    const secure = new RegistryClient({ host, retry: { maxAttempts: 1 } });
    try {
      await assert.rejects(secure.ping(), (e: unknown) => isKimgError(e, "REGISTRY_UNAVAILABLE"));
      assert.equal(secure.baseUrl.protocol, "https:");
    } finally {
      await secure.close();
    }
    for (const c of [
      new RegistryClient({ host, insecure: true }),
      new RegistryClient({ host, insecureHosts: [host] }),
    ]) {
      try {
        assert.equal((await c.ping()).status, 200);
        assert.equal(c.baseUrl.protocol, "http:");
      } finally {
        await c.close();
      }
    }
    // Through registries.conf: the primary location insecure.
    const conf = parseRegistriesConf(`[[registry]]\nlocation = "${host}"\ninsecure = true\n`);
    const r = await pull(`${host}/test/app:v1`, {
      store: await FsBlobStore.open(tmp()),
      registriesConf: conf,
    });
    assert.equal(r.digest, img.manifestDigest);
  });
});

describe("HTTPS first with a self-signed certificate", { timeout: 60_000 }, () => {
  let dir: string;
  let server: https.Server;
  let port: number;
  before(async () => {
    dir = makeTempDir("kimg-tls-");
    const key = join(dir, "key.pem");
    const cert = join(dir, "cert.pem");
    await run("openssl", [
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-keyout",
      key,
      "-out",
      cert,
      "-subj",
      "/CN=kimg self-signed test",
      "-days",
      "2",
      "-sha256",
      "-addext",
      "subjectAltName=IP:127.0.0.1,IP:::ffff:7f00:1",
    ]);
    server = https.createServer(
      { key: readFileSync(key), cert: readFileSync(cert) },
      (req, res) => {
        res.writeHead(req.url === "/v2/" ? 200 : 404, {
          "content-type": "application/json",
          "docker-distribution-api-version": "registry/2.0",
        });
        res.end("{}");
      },
    );
    await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
    port = (server.address() as AddressInfo).port;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((ok) => server.close(ok));
    removeTempDir(dir);
  });

  it("works only when the host is insecure (or loopback), staying on HTTPS", async () => {
    const host = `${MAPPED}:${port}`;
    const secure = new RegistryClient({ host, retry: { maxAttempts: 1 } });
    try {
      await assert.rejects(secure.ping(), (e: unknown) => {
        assert.ok(isKimgError(e, "REGISTRY_UNAVAILABLE"), String(e));
        assert.match(e.message, /certificate/i);
        return true;
      });
    } finally {
      await secure.close();
    }
    for (const c of [
      new RegistryClient({ host, insecure: true }),
      new RegistryClient({ host: `127.0.0.1:${port}` }),
    ]) {
      try {
        assert.equal((await c.ping()).status, 200);
        assert.equal(c.baseUrl.protocol, "https:");
      } finally {
        await c.close();
      }
    }
  });
});
