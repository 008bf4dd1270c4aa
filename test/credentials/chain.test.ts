// The chain: source order, the registry client's CredentialStore shape, path-scoped lookups,
// the kubelet's try-in-order loop, and --creds parsing; no secret in any message.
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { describe, it } from "node:test";
import { inspect } from "node:util";
import {
  AuthCredential,
  credentialChain,
  parseCreds,
  pullSecretsSource,
  repositoryOf,
  staticSource,
  tryCredentials,
} from "../../src/credentials/index.ts";
import { isKimgError, KimgError } from "../../src/errors.ts";
import type { CredentialStore } from "../../src/registry/index.ts";

const b64 = (s: string) => Buffer.from(s).toString("base64");
const SECRET = "chain-S3CRET:with:colons";

const secret = (auths: Record<string, unknown>) => ({
  type: "kubernetes.io/dockerconfigjson",
  stringData: { ".dockerconfigjson": JSON.stringify({ auths }) },
});

describe("--creds", () => {
  it("splits at the first ':'", () => {
    const c = parseCreds(`alice:${SECRET}`);
    assert.equal(c.username, "alice");
    assert.equal(c.password, SECRET);
    assert.ok(!inspect(c).includes(SECRET));
  });
  for (const [value, msg] of [
    ["", "--creds: credentials can't be empty"],
    [`:${SECRET}`, "--creds: username can't be empty"],
    ["alice", "--creds: password can't be empty"],
    ["alice:", "--creds: password can't be empty"],
  ] as const) {
    it(`${JSON.stringify(value.replace(SECRET, "…"))} → ${msg}`, () =>
      assert.throws(
        () => parseCreds(value),
        (e: unknown) => isKimgError(e, "CREDENTIALS_INVALID") && e.message === msg,
      ));
  }
  it("a host-scoped static source answers only its host", async () => {
    const s = staticSource("a:b", { host: "quay.io" });
    assert.equal((await s.lookupAll("quay.io/x")).length, 1);
    assert.equal((await s.lookupAll("ghcr.io/x")).length, 0);
  });
});

describe("credentialChain", () => {
  const chain = credentialChain([
    staticSource("cli:pw", { host: "reg.example.com" }),
    pullSecretsSource([
      secret({ "reg.example.com/team": { auth: b64(`team:${SECRET}`) } }),
      secret({ "*.example.com": { username: "wild", password: "w" } }),
    ]),
    pullSecretsSource([
      secret({ "https://index.docker.io/v1/": { username: "hub", password: "h" } }),
    ]),
  ]);

  it("concatenates sources in order (static, then secrets most-specific-first)", async () => {
    const got = await chain.lookupAll("reg.example.com/team/app");
    assert.deepEqual(
      got.map((c) => c.username),
      ["cli", "team", "wild"],
    );
    assert.deepEqual(
      (await chain.lookupAll("other.example.com/x")).map((c) => c.username),
      ["wild"],
    );
  });

  it("lookupAllForImage normalizes references as the kubelet does", async () => {
    assert.equal(repositoryOf("nginx:1.25"), "docker.io/library/nginx");
    assert.deepEqual(
      (await chain.lookupAllForImage("nginx:1.25")).map((c) => c.username),
      ["hub"],
    );
    assert.throws(
      () => repositoryOf("not a ref"),
      (e: unknown) => isKimgError(e),
    );
  });

  it("is the registry client's CredentialStore (first credential for a host)", async () => {
    const store: CredentialStore = chain;
    assert.deepEqual(await store.lookup("reg.example.com"), { username: "cli", password: "pw" });
    assert.deepEqual(await store.lookup("docker.io"), { username: "hub", password: "h" });
    // a bare host is not a one-segment Docker Hub repository: no Hub fallback
    assert.equal(await store.lookup("ghcr.io"), undefined);
    assert.equal(await store.lookup("localhost:5000"), undefined);
  });

  it("forRepository applies path-scoped keys for that repository's host only", async () => {
    const c = credentialChain(chain.sources.slice(1));
    const store: CredentialStore = c.forRepository("reg.example.com/team/app");
    assert.deepEqual(await store.lookup("reg.example.com"), { username: "team", password: SECRET });
    assert.deepEqual(await c.lookup("reg.example.com"), { username: "wild", password: "w" });
    assert.deepEqual(await store.lookup("x.example.com"), { username: "wild", password: "w" });
  });

  it("prefers username/password, then identity token, then auth, then registry token", () => {
    const mk = (i: ConstructorParameters<typeof AuthCredential>[0]) =>
      new AuthCredential(i).toRegistryCredential();
    assert.deepEqual(mk({ source: "t", username: "u", password: "p", identityToken: "i" }), {
      username: "u",
      password: "p",
    });
    assert.deepEqual(mk({ source: "t", identityToken: "i", auth: b64("a:b") }), {
      identityToken: "i",
    });
    assert.deepEqual(mk({ source: "t", auth: b64("a:b"), registryToken: "r" }), {
      username: "a",
      password: "b",
    });
    assert.deepEqual(mk({ source: "t", registryToken: "r" }), { registryToken: "r" });
    assert.equal(mk({ source: "t" }), undefined);
  });
});

describe("tryCredentials (kubelet pull loop)", () => {
  const a = new AuthCredential({ username: "a", password: SECRET, source: "t" });
  const b = new AuthCredential({ username: "b", password: "pb", source: "t" });

  it("no credentials: one anonymous attempt", async () => {
    const seen: unknown[] = [];
    const r = await tryCredentials([], async (c) => {
      seen.push(c);
      return "ok";
    });
    assert.equal(r, "ok");
    assert.deepEqual(seen, [undefined]);
  });

  it("tries each in order until one works", async () => {
    const seen: string[] = [];
    const r = await tryCredentials([a, b], async (c) => {
      const u = c !== undefined && "username" in c ? c.username : "anon";
      seen.push(u);
      if (u === "a") throw new KimgError("REGISTRY_UNAUTHORIZED", "denied a");
      return u;
    });
    assert.equal(r, "b");
    assert.deepEqual(seen, ["a", "b"]);
  });

  it("all fail: aggregate error, no anonymous retry, no secret", async () => {
    const seen: unknown[] = [];
    await assert.rejects(
      tryCredentials([a, b], async (c) => {
        seen.push(c);
        throw new KimgError("REGISTRY_UNAUTHORIZED", `denied ${seen.length}`);
      }),
      (e: unknown) =>
        isKimgError(e, "REGISTRY_UNAUTHORIZED") &&
        e.message === "[denied 1, denied 2]" &&
        !e.message.includes(SECRET),
    );
    assert.equal(seen.length, 2);
    assert.ok(!seen.includes(undefined));
    const one = new KimgError("REGISTRY_DENIED", "only");
    await assert.rejects(
      tryCredentials([a], async () => {
        throw one;
      }),
      (e: unknown) => e === one,
    );
  });
});
