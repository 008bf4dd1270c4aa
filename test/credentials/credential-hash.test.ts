// KEP-2535 support: credential origins (secrets.go SecretCoordinates, node-level default) and the
// kubelet's credential hash (keyring.go hashAuthConfig = hex(sha256(json.Marshal(AuthConfig)))).
//
// The expected hashes were derived by hand, independently of the code under test: the JSON Go's
// json.Marshal writes for keyring.go's AuthConfig struct (fields in declaration order username,
// password, auth, email, serveraddress, identitytoken, registrytoken; `omitempty` drops empty
// ones; `<`, `&`, `>` escaped as \u003c, \u0026, \u003e by Go's HTML-safe encoder) was written
// out literally and hashed with coreutils: `printf '%s' '<json>' | sha256sum`.
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { describe, it } from "node:test";
import {
  AuthCredential,
  authConfigJson,
  credentialHash,
  keyringFromSecrets,
  NODE_ORIGIN,
  parseCreds,
  type SecretObject,
} from "../../src/credentials/index.ts";

const b64 = (s: string) => Buffer.from(s).toString("base64");

describe("credentialHash (keyring.go hashAuthConfig)", () => {
  const vectors: [string, AuthCredential, string, string][] = [
    [
      "username + password",
      new AuthCredential({ username: "user", password: "pass", source: "t" }),
      '{"username":"user","password":"pass"}',
      "cb54b00fb550d4a17c448149caa29f38f4d5a44fb87c752e43db8160af3a032a",
    ],
    [
      "HTML characters escaped as Go does; email kept",
      new AuthCredential({
        username: "alice",
        password: "p<&>",
        email: "a@example.com",
        source: "t",
      }),
      '{"username":"alice","password":"p\\u003c\\u0026\\u003e","email":"a@example.com"}',
      "38fea81a1604e0cc019a57f7aa1f2e4af2a8c1663f4738f4dcee2834edc8823e",
    ],
    [
      "all empty → {}",
      new AuthCredential({ source: "t" }),
      "{}",
      "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",
    ],
    [
      "every field, in Go struct order",
      new AuthCredential({
        registryToken: "rt",
        identityToken: "it",
        serverAddress: "quay.io",
        email: "e",
        auth: "dTpw",
        password: "p",
        username: "u",
        source: "t",
      }),
      '{"username":"u","password":"p","auth":"dTpw","email":"e","serveraddress":"quay.io","identitytoken":"it","registrytoken":"rt"}',
      "c748f235bc66b85b109a448ee0e1ca44bda00cef5255b578534b12cd56528e4a",
    ],
  ];
  for (const [name, cred, json, hash] of vectors) {
    it(name, () => {
      assert.equal(authConfigJson(cred), json);
      assert.equal(credentialHash(cred), hash);
    });
  }

  it("a pull secret's credential hashes like the kubelet's keyring entry (no `auth` kept)", () => {
    // secrets.go → BasicDockerKeyring.Add copies only Username, Password, Email
    const k = keyringFromSecrets([
      {
        type: "kubernetes.io/dockerconfigjson",
        metadata: { name: "s", namespace: "ns" },
        data: {
          ".dockerconfigjson": b64(
            JSON.stringify({ auths: { "reg.io": { auth: b64("user:pass") } } }),
          ),
        },
      },
    ]);
    const c = k?.lookup("reg.io/app")[0];
    assert.ok(c);
    assert.equal(c.auth, "");
    assert.equal(
      credentialHash(c),
      "cb54b00fb550d4a17c448149caa29f38f4d5a44fb87c752e43db8160af3a032a",
    );
  });

  it("the origin and source do not change the hash", () => {
    const a = new AuthCredential({ username: "user", password: "pass", source: "x" });
    const b = new AuthCredential({
      username: "user",
      password: "pass",
      source: "y",
      origin: { kind: "secret", namespace: "n", name: "m" },
    });
    assert.equal(credentialHash(a), credentialHash(b));
  });

  it("different passwords → different hashes", () =>
    assert.notEqual(
      credentialHash(new AuthCredential({ username: "u", password: "a", source: "t" })),
      credentialHash(new AuthCredential({ username: "u", password: "b", source: "t" })),
    ));
});

describe("credential origins (KEP-2535)", () => {
  const secret = (metadata: SecretObject["metadata"], registry = "reg.io"): SecretObject => ({
    type: "kubernetes.io/dockerconfigjson",
    metadata,
    stringData: {
      ".dockerconfigjson": JSON.stringify({
        auths: { [registry]: { username: "u", password: "p" } },
      }),
    },
  });

  it("pod secret: namespace, name and uid from the Secret's metadata (secrets.go)", () => {
    const k = keyringFromSecrets([
      secret({ namespace: "team-a", name: "regcred", uid: "1234-abcd" }),
    ]);
    assert.deepEqual(k?.lookup("reg.io/app")[0]?.origin, {
      kind: "secret",
      namespace: "team-a",
      name: "regcred",
      uid: "1234-abcd",
    });
  });

  it("pod secret without uid (a manifest): uid left out", () => {
    const k = keyringFromSecrets([secret({ namespace: "team-a", name: "regcred" })]);
    const o = k?.lookup("reg.io/app")[0]?.origin;
    assert.deepEqual(o, { kind: "secret", namespace: "team-a", name: "regcred" });
    assert.ok(o !== undefined && !("uid" in o));
  });

  it("legacy kubernetes.io/dockercfg secrets carry their coordinates too", () => {
    const k = keyringFromSecrets([
      {
        type: "kubernetes.io/dockercfg",
        metadata: { namespace: "ns", name: "old", uid: "u1" },
        data: { ".dockercfg": b64(JSON.stringify({ "reg.io": { username: "a", password: "b" } })) },
      },
    ]);
    assert.deepEqual(k?.lookup("reg.io/x")[0]?.origin, {
      kind: "secret",
      namespace: "ns",
      name: "old",
      uid: "u1",
    });
  });

  it("two secrets for one registry: each credential keeps its own secret", () => {
    const k = keyringFromSecrets([
      secret({ namespace: "ns", name: "first", uid: "1" }),
      secret({ namespace: "ns", name: "second", uid: "2" }),
    ]);
    assert.deepEqual(
      k?.lookup("reg.io/x").map((c) => (c.origin.kind === "secret" ? c.origin.name : "?")),
      ["first", "second"],
    );
  });

  it("anything else defaults to node-level", () => {
    assert.deepEqual(new AuthCredential({ source: "t" }).origin, { kind: "node" });
    assert.equal(parseCreds("a:b").origin, NODE_ORIGIN);
  });

  it("a service-account-token origin is representable", () => {
    const c = new AuthCredential({
      username: "u",
      source: "credential provider p",
      origin: { kind: "serviceAccountToken", namespace: "ns", name: "default", uid: "sa-uid" },
    });
    assert.equal(c.origin.kind, "serviceAccountToken");
  });
});
