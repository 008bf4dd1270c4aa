// Pull secrets → keyring (secrets.go, config.go DockerConfigEntry.UnmarshalJSON,
// decodeDockerConfigFieldAuth) and Go's base64 error offsets.
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { describe, it } from "node:test";
import { inspect } from "node:util";
import { goBase64Decode } from "../../src/credentials/credential.ts";
import {
  decodeAuthField,
  ERR_AUTH_FIELD,
  keyringFromSecrets,
  parseDockerConfigEntry,
  pullSecretsSource,
  type SecretObject,
} from "../../src/credentials/index.ts";
import { isKimgError } from "../../src/errors.ts";

const b64 = (s: string) => Buffer.from(s).toString("base64");
const SECRET = "s3cr3t-P4ss";

function dockerconfigjson(auths: unknown, name = "regcred"): SecretObject {
  return {
    type: "kubernetes.io/dockerconfigjson",
    metadata: { name, namespace: "ns" },
    data: { ".dockerconfigjson": b64(JSON.stringify({ auths })) },
  };
}

function throwsCode(fn: () => unknown, code: string, message?: string) {
  assert.throws(fn, (e: unknown) => {
    assert.ok(isKimgError(e, code as never), `code ${String((e as { code?: string }).code)}`);
    if (message !== undefined) assert.equal((e as Error).message, message);
    assert.ok(!(e as Error).message.includes(SECRET), "secret in message");
    return true;
  });
}

describe("auth field (decodeDockerConfigFieldAuth)", () => {
  const ok: [string, string, string][] = [
    ["Zm9vOmJhcg==", "foo", "bar"], // padded → StdEncoding
    ["Zm9vOmJhcg", "foo", "bar"], // unpadded → RawStdEncoding
    [b64("user:pa:ss"), "user", "pa:ss"], // split at the first ":"
    [b64(":pw"), "", "pw"], // kubelet accepts an empty user (docker does not)
    [b64("u:"), "u", ""],
  ];
  for (const [field, user, pass] of ok) {
    it(`${field} → ${user}`, () =>
      assert.deepEqual(decodeAuthField(field), { username: user, password: pass }));
  }
  it("decoded text without ':' → the exact kubelet error", () =>
    throwsCode(() => decodeAuthField(b64(SECRET)), "CREDENTIALS_INVALID", ERR_AUTH_FIELD));
  it("ERR_AUTH_FIELD is the upstream text", () =>
    assert.equal(
      ERR_AUTH_FIELD,
      "unable to parse auth field, must be formatted as base64(username:password)",
    ));
  it("not base64 → Go's CorruptInputError text", () =>
    throwsCode(
      () => decodeAuthField("bad-auth-bad"),
      "CREDENTIALS_INVALID",
      "illegal base64 data at input byte 3",
    ));
  it("padded field decoded strictly (StdEncoding): misplaced padding", () =>
    throwsCode(
      () => decodeAuthField("Zm9v=mJhcg=="),
      "CREDENTIALS_INVALID",
      "illegal base64 data at input byte 4",
    ));
  it("unpadded field of impossible length", () =>
    throwsCode(
      () => decodeAuthField("Zm9vO"),
      "CREDENTIALS_INVALID",
      "illegal base64 data at input byte 4",
    ));
});

describe("goBase64Decode offsets (Go encoding/base64)", () => {
  const cases: [string, boolean, string | number][] = [
    ["Zm9vYmFy", true, "foobar"],
    ["Zm9vYg==", true, "foob"],
    ["Zm9vYmE=", true, "fooba"],
    ["Zm9vYg", false, "foob"],
    ["Zm9v\nYg==", true, "foob"], // newlines skipped
    ["Zm9vYg", true, 4], // padded decoder, missing padding: offset of the quantum
    ["Zm9vYg=", true, 7], // one "=" where two are needed: end of input
    ["Zm9vYg==x", true, 8], // trailing garbage after padding
    ["Zm9vYg==", false, 6], // raw decoder sees "=" as invalid
    ["Zm9v*mFy", true, 4],
    ["Z", false, 0],
  ];
  for (const [input, padded, want] of cases) {
    it(`${JSON.stringify(input)} padded=${padded} → ${want}`, () => {
      if (typeof want === "string") {
        assert.equal(goBase64Decode(input, padded).toString(), want);
      } else {
        assert.throws(() => goBase64Decode(input, padded), {
          message: `illegal base64 data at input byte ${want}`,
        });
      }
    });
  }
});

describe("keyringFromSecrets (secrets.go)", () => {
  it("reads kubernetes.io/dockerconfigjson: auth replaces username/password", () => {
    const k = keyringFromSecrets([
      dockerconfigjson({
        "quay.io": {
          username: "ignored",
          password: "ignored",
          auth: b64(`bob:${SECRET}`),
          email: "b@x",
        },
      }),
    ]);
    const got = k?.lookup("quay.io/org/app") ?? [];
    assert.equal(got.length, 1);
    assert.equal(got[0]?.username, "bob");
    assert.equal(got[0]?.password, SECRET);
    assert.equal(got[0]?.email, "b@x");
    assert.equal(got[0]?.source, "secret ns/regcred");
  });

  it("reads kubernetes.io/dockercfg (legacy map), field names case-insensitively", () => {
    const k = keyringFromSecrets([
      {
        type: "kubernetes.io/dockercfg",
        data: {
          ".dockercfg": b64(
            JSON.stringify({ "https://quay.io/v1/": { Username: "u", PASSWORD: "p" } }),
          ),
        },
      },
    ]);
    assert.deepEqual(
      k?.lookup("quay.io/x").map((c) => [c.username, c.password]),
      [["u", "p"]],
    );
  });

  it("stringData is read (and wins over data)", () => {
    const k = keyringFromSecrets([
      {
        type: "kubernetes.io/dockerconfigjson",
        data: {
          ".dockerconfigjson": b64(
            JSON.stringify({ auths: { "quay.io": { username: "old", password: "x" } } }),
          ),
        },
        stringData: {
          ".dockerconfigjson": JSON.stringify({
            auths: { "quay.io": { username: "new", password: "y" } },
          }),
        },
      },
    ]);
    assert.deepEqual(
      k?.lookup("quay.io/x").map((c) => c.username),
      ["new"],
    );
  });

  it("ignores other types, wrong keys, empty values; undefined when nothing valid", () => {
    const auths = JSON.stringify({ auths: { "quay.io": { username: "u", password: "p" } } });
    assert.equal(
      keyringFromSecrets([
        { type: "Opaque", data: { ".dockerconfigjson": b64(auths) } },
        { type: "kubernetes.io/dockerconfigjson", data: { ".dockercfg": b64(auths) } },
        { type: "kubernetes.io/dockercfg", data: { ".dockerconfigjson": b64(auths) } },
        { type: "kubernetes.io/dockerconfigjson", data: { ".dockerconfigjson": "" } },
        { type: "kubernetes.io/dockerconfigjson" },
      ]),
      undefined,
    );
  });

  it("keeps imagePullSecrets order for the same key", () => {
    const k = keyringFromSecrets([
      dockerconfigjson({ "quay.io": { username: "first", password: "1" } }, "a"),
      dockerconfigjson({ "https://quay.io/v1/": { username: "second", password: "2" } }, "b"),
    ]);
    assert.deepEqual(
      k?.lookup("quay.io/x").map((c) => c.username),
      ["first", "second"],
    );
  });

  it("a bad auth field aborts with the exact upstream error, no secret", () =>
    throwsCode(
      () =>
        keyringFromSecrets([
          dockerconfigjson({ "quay.io": { username: "u", password: "p" } }, "fine"),
          dockerconfigjson({ "quay.io": { auth: b64(SECRET) } }, "broken"),
        ]),
      "CREDENTIALS_INVALID",
      `secret ns/broken: data[.dockerconfigjson]: auths["quay.io"].auth: ${ERR_AUTH_FIELD}`,
    ));

  it("invalid JSON: CREDENTIALS_INVALID without the content", () =>
    throwsCode(
      () =>
        keyringFromSecrets([
          {
            type: "kubernetes.io/dockerconfigjson",
            stringData: { ".dockerconfigjson": `{"auths": ${SECRET}` },
          },
        ]),
      "CREDENTIALS_INVALID",
    ));

  it("wrong JSON types: Go's unmarshal errors", () => {
    throwsCode(
      () => keyringFromSecrets([dockerconfigjson({ "quay.io": { username: 5 } })]),
      "CREDENTIALS_INVALID",
      'secret ns/regcred: data[.dockerconfigjson]: auths["quay.io"]: json: cannot unmarshal number into Go struct field dockerConfigEntryWithAuth.username of type string',
    );
    throwsCode(
      () =>
        keyringFromSecrets([
          {
            type: "kubernetes.io/dockerconfigjson",
            stringData: { ".dockerconfigjson": '{"auths":"x"}' },
          },
        ]),
      "CREDENTIALS_INVALID",
      'secret "": data[.dockerconfigjson]: json: cannot unmarshal string into Go struct field DockerConfigJSON.auths of type credentialprovider.DockerConfig',
    );
  });

  it("data that is not base64 is CREDENTIALS_INVALID", () =>
    throwsCode(
      () =>
        keyringFromSecrets([
          { type: "kubernetes.io/dockerconfigjson", data: { ".dockerconfigjson": "%%%" } },
        ]),
      "CREDENTIALS_INVALID",
      'secret "": data[.dockerconfigjson]: illegal base64 data at input byte 0',
    ));

  it("pullSecretsSource answers lookups; credentials never show their secret", async () => {
    const src = pullSecretsSource([
      dockerconfigjson({ "*.example.com": { username: "u", password: SECRET } }),
    ]);
    const [c] = await src.lookupAll("reg.example.com/app");
    assert.ok(c !== undefined);
    assert.equal(c.password, SECRET);
    for (const shown of [
      inspect(c),
      String(c),
      `${c}`,
      JSON.stringify(c),
      inspect([c], { depth: 5 }),
    ]) {
      assert.ok(!shown.includes(SECRET), shown);
    }
    assert.ok(inspect(c).includes("u"));
    assert.deepEqual(await src.lookupAll("example.com/app"), []);
  });
});

describe("config_test.go tables (TestDockerConfigEntryJSONDecode, TestDecodeDockerConfigFieldAuth)", () => {
  const entry: [string, [string, string, string] | string][] = [
    [
      '{"username": "foo", "password": "bar", "email": "foo@example.com"}',
      ["foo", "bar", "foo@example.com"],
    ],
    ['{"auth": "Zm9vOmJhcg==", "email": "foo@example.com"}', ["foo", "bar", "foo@example.com"]],
    [
      '{"username": "foo", "password": "bar", "auth": "cGluZzpwb25n", "email": "foo@example.com"}',
      ["ping", "pong", "foo@example.com"],
    ],
    ['{"auth": "pants", "email": "foo@example.com"}', "illegal base64 data at input byte 4"],
    [
      '{"email": false}',
      "json: cannot unmarshal bool into Go struct field dockerConfigEntryWithAuth.email of type string",
    ],
  ];
  for (const [json, want] of entry) {
    it(json, () => {
      const run = () => parseDockerConfigEntry(JSON.parse(json), "t");
      if (typeof want === "string") {
        assert.throws(
          run,
          (e: unknown) => isKimgError(e, "CREDENTIALS_INVALID") && e.message === want,
        );
      } else {
        const c = run();
        assert.deepEqual([c.username, c.password, c.email], want);
      }
    });
  }
  it("Zm9vOmJhcg== → foo:bar; cGFudHM= (no colon) and pants (bad base64) fail", () => {
    assert.deepEqual(decodeAuthField("Zm9vOmJhcg=="), { username: "foo", password: "bar" });
    assert.throws(() => decodeAuthField("cGFudHM="), { message: ERR_AUTH_FIELD });
    assert.throws(() => decodeAuthField("pants"), {
      message: "illegal base64 data at input byte 4",
    });
  });
});
