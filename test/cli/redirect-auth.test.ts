// Issue 19 item 4: a blob redirect target can never make kimg send the registry's password (or
// its token) anywhere. The registry is a real Distribution registry with token auth (its token
// server on another port, as Docker Hub's is on another host); in front of it a forwarding
// proxy redirects every blob GET to a "CDN" origin, which answers 401 with a Bearer challenge
// naming an "evil" token server of its own. The built `kimg pull --creds` runs against it.

import assert from "node:assert/strict";
import { createReadStream } from "node:fs";
import type http from "node:http";
import { after, before, describe, it } from "node:test";
import { makeTempDir, removeTempDir } from "../helpers/cleanup.ts";
import { type FaultServer, forwardTo, startFaultServer } from "../helpers/fault-registry.ts";
import { type BuiltImage, blobPath, buildImage } from "../helpers/images.ts";
import { runKimg } from "../helpers/kimg-cli.ts";
import { type Registry, startRegistry } from "../helpers/registry.ts";
import { pushLayout } from "../helpers/skopeo.ts";
import { startTokenServer, type TokenServer } from "../helpers/token-server.ts";

const ALICE = { user: "alice", pass: "Al1ce-secret-pw" };
const ANON_TOKEN = "anon-token-from-the-cdn-realm";

const kimg = (args: string[]) => runKimg(args, { timeoutMs: 60_000 });

/** Forwards a request to the real registry as it came (headers included). */
const forward = (reg: Registry, req: http.IncomingMessage, res: http.ServerResponse): void =>
  forwardTo(reg.host, req, res);

describe("credentials never follow a blob redirect", { timeout: 180_000 }, () => {
  let ts: TokenServer;
  let reg: Registry;
  let img: BuiltImage;
  let front: FaultServer;
  let cdn: FaultServer;
  let evil: FaultServer;
  const dirs: string[] = [];
  const store = () => {
    const d = makeTempDir("kimg-redirect-store-");
    dirs.push(d);
    return d;
  };

  before(async () => {
    ts = await startTokenServer({
      users: [ALICE],
      grants: [{ who: { user: "alice" }, name: "*", actions: ["*"] }],
    });
    reg = await startRegistry({ auth: "token", tokenServer: ts });
    img = await buildImage({ layers: [{ randomBytes: 50_000 }], seed: "redirect-auth" });
    await pushLayout(img, "private/app:v1", reg, { creds: ALICE });
    [front, cdn, evil] = await Promise.all([
      startFaultServer(),
      startFaultServer(),
      startFaultServer(),
    ]);
    // The registry's front: blob GETs go to the CDN origin, the rest to the real registry.
    front.handle((req, res) => {
      const m = /\/blobs\/(sha256:[0-9a-f]{64})$/.exec(req.url ?? "");
      if (req.method === "GET" && m !== null) {
        res.writeHead(307, { location: `${cdn.url}/cdn/${m[1]}?sig=1` }).end();
        return;
      }
      forward(reg, req, res);
    });
    evil.handle((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ token: ANON_TOKEN, expires_in: 300 }));
    });
  });
  after(async () => {
    await Promise.all([front?.close(), cdn?.close(), evil?.close()]);
    await reg?.stop();
    await ts?.stop();
    if (img !== undefined) removeTempDir(img.layoutDir);
    for (const d of dirs) removeTempDir(d);
  });

  /** What the CDN and the evil realm saw: never a credential of the registry's. */
  function assertNothingLeaked(): void {
    const basic = `Basic ${Buffer.from(`${ALICE.user}:${ALICE.pass}`).toString("base64")}`;
    assert.ok(evil.requests.length > 0, "the CDN's challenge was followed");
    for (const r of evil.requests) {
      assert.equal(r.headers.authorization, undefined, `evil realm got ${r.headers.authorization}`);
      assert.doesNotMatch(r.url, /account=|alice/);
    }
    for (const r of cdn.requests) {
      const a = r.headers.authorization;
      assert.ok(a === undefined || a === `Bearer ${ANON_TOKEN}`, `CDN got ${a}`);
      assert.notEqual(a, basic);
    }
    // The registry's own realm (another port: another origin) did get alice's password.
    assert.ok(ts.requests.some((r) => r.user === ALICE.user));
  }

  it("a CDN that accepts its own anonymous token: pulled, no credential went there", async () => {
    cdn.handle((req, res) => {
      if (req.headers.authorization !== `Bearer ${ANON_TOKEN}`) {
        res.writeHead(401, {
          "www-authenticate": `Bearer realm="${evil.url}/token",service="cdn"`,
        });
        res.end();
        return;
      }
      const digest = /\/cdn\/(sha256:[0-9a-f]{64})/.exec(req.url ?? "")?.[1] ?? "";
      createReadStream(blobPath(img.layoutDir, digest)).pipe(res);
    });
    evil.requests.length = 0;
    const r = await kimg([
      "pull",
      "--store",
      store(),
      "--progress",
      "plain",
      "--creds",
      `${ALICE.user}:${ALICE.pass}`,
      `${front.host}/private/app:v1`,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assertNothingLeaked();
    assert.ok(cdn.requests.some((q) => q.headers.authorization === `Bearer ${ANON_TOKEN}`));
  });

  it("a CDN that keeps answering 401: exit 5, one line naming it, nothing leaked", async () => {
    cdn.handle((_req, res) => {
      res.writeHead(401, { "www-authenticate": `Bearer realm="${evil.url}/token",service="cdn"` });
      res.end();
    });
    evil.requests.length = 0;
    const r = await kimg([
      "pull",
      "--store",
      store(),
      "--creds",
      `${ALICE.user}:${ALICE.pass}`,
      `${front.host}/private/app:v1`,
    ]);
    assert.equal(r.code, 5, r.stderr);
    assert.match(
      r.stderr,
      new RegExp(
        `^kimg: GET ${front.host}/v2/private/app/blobs/sha256:[0-9a-f]{64}: the registry redirected to ${cdn.host}, which answered 401 Unauthorized; kimg sends the registry's credentials only to the registry\\n$`,
      ),
    );
    assert.ok(!r.stderr.includes(ALICE.pass));
    assertNothingLeaked();
  });

  it("a CDN asking for Basic gets nothing at all", async () => {
    cdn.handle((_req, res) => {
      res.writeHead(401, { "www-authenticate": 'Basic realm="cdn"' }).end();
    });
    const r = await kimg([
      "pull",
      "--store",
      store(),
      "--creds",
      `${ALICE.user}:${ALICE.pass}`,
      `${front.host}/private/app:v1`,
    ]);
    assert.equal(r.code, 5, r.stderr);
    for (const q of cdn.requests) assert.equal(q.headers.authorization, undefined);
  });
});

describe("token realms the registry names", { timeout: 60_000 }, () => {
  for (const [realm, why] of [
    ["file:///etc/passwd", /unsupported protocol scheme "file"/],
    ["data:,x", /unsupported protocol scheme "data"/],
    ["not a url", /not a URL/],
    ["http://user:pw@127.0.0.1:1/token", /a URL with user information/],
  ] as const) {
    it(`${realm}: exit 5, one line, no internal error`, async (t) => {
      const reg = await startFaultServer(t);
      reg.handle((_req, res) => {
        res.writeHead(401, { "www-authenticate": `Bearer realm="${realm}",service="x"` }).end();
      });
      const d = makeTempDir("kimg-realm-store-");
      t.after(() => removeTempDir(d));
      const r = await kimg(["pull", "--store", d, `${reg.host}/a/b:v1`]);
      assert.equal(r.code, 5, r.stderr);
      assert.match(r.stderr, /^kimg: [^\n]*invalid token realm[^\n]*\n$/);
      assert.match(r.stderr, why);
      assert.doesNotMatch(r.stderr, /pw@/);
    });
  }
});
