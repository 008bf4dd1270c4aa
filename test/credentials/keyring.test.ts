// Tables ported from kubernetes pkg/credentialprovider/keyring_test.go (TestURLsMatch,
// TestDockerKeyringForGlob, TestKeyringMiss, TestKeyringMissWithDockerHubCredentials,
// TestKeyringHitWith*DockerHub, TestIsDefaultRegistryMatch, TestDockerKeyringLookup,
// TestIssue3797), plus ordering with several matching keys.
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { describe, it } from "node:test";
import {
  AuthCredential,
  DockerKeyring,
  isDefaultRegistryMatch,
  keyringKey,
  parseDockercfg,
  urlsMatchStr,
} from "../../src/credentials/index.ts";

const b64 = (s: string) => Buffer.from(s).toString("base64");

function keyringOf(location: string): DockerKeyring {
  const k = new DockerKeyring();
  const cfg = JSON.stringify({
    [location]: { email: "foo@bar.baz", auth: b64("foo:bar") },
  });
  k.add(parseDockercfg(cfg, "test"));
  return k;
}

const cred = (username: string, password: string) =>
  new AuthCredential({ username, password, source: "test" });

describe("URLsMatch (keyring_test.go TestURLsMatch)", () => {
  const cases: [string, string, boolean][] = [
    ["*.kubernetes.io", "prefix.kubernetes.io", true],
    ["prefix.*.io", "prefix.kubernetes.io", true],
    ["prefix.kubernetes.*", "prefix.kubernetes.io", true],
    ["*-good.kubernetes.io", "prefix-good.kubernetes.io", true],
    ["*.kubernetes.io/blah", "prefix.kubernetes.io/blah", true],
    ["prefix.*.io/foo", "prefix.kubernetes.io/foo/bar", true],
    ["*.kubernetes.io:1111/blah", "prefix.kubernetes.io:1111/blah", true],
    ["prefix.*.io:1111/foo", "prefix.kubernetes.io:1111/foo/bar", true],
    ["*.kubernetes.io", "kubernetes.io", false],
    ["*.*.kubernetes.io", "prefix.kubernetes.io", false],
    ["*.*.kubernetes.io", "kubernetes.io", false],
    ["kubernetes.io", "kubernetes.com", false],
    ["k*.io", "quay.io", false],
    ["*.kubernetes.io:1234/blah", "prefix.kubernetes.io:1111/blah", false],
    ["prefix.*.io/foo", "prefix.kubernetes.io:1111/foo/bar", false],
    // kimg additions: absent port is not 443; malformed glob never matches; path is a plain prefix
    ["quay.io", "quay.io:443", false],
    ["quay.io:443", "quay.io", false],
    ["[.io", "a.io", false],
    ["quay.io/pong", "quay.io/pongz/x", true],
    // Go's url.Parse reads "?" as the start of a query and a leading "[" as an IPv6 literal:
    ["quay.io/p?ng", "quay.io/pang", true], // path "/p"
    ["qu?y.io", "quay.io", false], // host "qu"
    ["[a-q]uay.io", "quay.io", false], // invalid port "uay.io" after host
    ["q[a-u]ay.io", "quay.io", true],
    ["q[!a-u]ay.io", "quay.io", true], // Go negates with "^", so "!" is a member
    ["q[v-z]ay.io", "quay.io", false],
  ];
  for (const [glob, target, want] of cases) {
    it(`${glob} vs ${target} → ${want}`, () => assert.equal(urlsMatchStr(glob, target), want));
  }
});

describe("keyring hits (TestDockerKeyringForGlob)", () => {
  const cases: [string, string][] = [
    ["https://hello.kubernetes.io", "hello.kubernetes.io"],
    ["https://*.docker.io", "prefix.docker.io"],
    ["https://prefix.*.io", "prefix.docker.io"],
    ["https://prefix.docker.*", "prefix.docker.io"],
    ["https://*.docker.io/path", "prefix.docker.io/path"],
    ["https://prefix.*.io/path", "prefix.docker.io/path/subpath"],
    ["https://prefix.docker.*/path", "prefix.docker.io/path"],
    ["https://*.docker.io:8888", "prefix.docker.io:8888"],
    ["https://prefix.*.io:8888", "prefix.docker.io:8888"],
    ["https://prefix.docker.*:8888", "prefix.docker.io:8888"],
    ["https://*.docker.io/path:1111", "prefix.docker.io/path:1111"],
    ["https://*.docker.io/v1/", "prefix.docker.io/path:1111"],
    ["https://*.docker.io/v2/", "prefix.docker.io/path:1111"],
    ["https://prefix.docker.*/path:1111", "prefix.docker.io/path:1111"],
    ["prefix.docker.io:1111", "prefix.docker.io:1111/path"],
    ["*.docker.io:1111", "prefix.docker.io:1111/path"],
  ];
  for (const [glob, target] of cases) {
    it(`${glob} matches ${target}/foo/bar`, () => {
      const got = keyringOf(glob).lookup(`${target}/foo/bar`);
      assert.equal(got.length, 1);
      assert.equal(got[0]?.username, "foo");
      assert.equal(got[0]?.password, "bar");
      assert.equal(got[0]?.email, "foo@bar.baz");
    });
  }
});

describe("keyring misses (TestKeyringMiss)", () => {
  const cases: [string, string][] = [
    ["https://hello.kubernetes.io", "world.mesos.org/foo/bar"],
    ["https://*.docker.com", "prefix.docker.io"],
    ["https://suffix.*.io", "prefix.docker.io"],
    ["https://prefix.docker.c*", "prefix.docker.io"],
    ["https://prefix.*.io/path:1111", "prefix.docker.io/path/subpath:1111"],
    ["suffix.*.io", "prefix.docker.io"],
  ];
  for (const [glob, target] of cases) {
    it(`${glob} misses ${target}/foo/bar`, () => {
      assert.deepEqual(keyringOf(glob).lookup(`${target}/foo/bar`), []);
    });
  }
});

describe("Docker Hub credentials (https://index.docker.io/v1/)", () => {
  const hub = () => keyringOf("https://index.docker.io/v1/");
  it("are stored under index.docker.io", () => assert.deepEqual(hub().keys, ["index.docker.io"]));
  it("do not match another registry", () =>
    assert.deepEqual(hub().lookup("world.mesos.org/foo/bar"), []));
  for (const repo of [
    "google/docker-registry",
    "jenkins",
    "index.docker.io/v1//google/docker-registry",
    "docker.io/library/nginx",
  ]) {
    it(`apply to ${repo}`, () => {
      const got = hub().lookup(repo);
      assert.equal(got.length, 1);
      assert.equal(got[0]?.username, "foo");
    });
  }
});

describe("isDefaultRegistryMatch (TestIsDefaultRegistryMatch)", () => {
  const cases: [string, boolean][] = [
    ["foo/bar", true],
    ["docker.io/foo/bar", true],
    ["index.docker.io/foo/bar", true],
    ["foo", true],
    ["", false],
    ["registry.tld/foo/bar", false],
    ["registry:5000/foo/bar", false],
    ["myhostdocker.io/foo/bar", false],
  ];
  for (const [image, want] of cases) {
    it(`${JSON.stringify(image)} → ${want}`, () =>
      assert.equal(isDefaultRegistryMatch(image), want));
  }
});

describe("lookup order (TestDockerKeyringLookup, TestIssue3797)", () => {
  const ada = cred("ada", "smash");
  const grace = cred("grace", "squash");
  const dk = new DockerKeyring();
  dk.add([
    ["bar.example.com/pong", grace],
    ["bar.example.com", ada],
  ]);
  const cases: [string, AuthCredential[]][] = [
    ["bar.example.com", [ada]],
    ["bar.example.com/pong", [grace, ada]],
    ["bar.example.com/ping", [ada]],
    ["bar.example.com/pongz", [grace, ada]],
    ["bar.example.com/pong/pang", [grace, ada]],
    ["example.com", []],
    ["foo.example.com", []],
  ];
  for (const [image, want] of cases) {
    it(`${image} → [${want.map((c) => c.username)}]`, () =>
      assert.deepEqual(dk.lookup(image), want));
  }

  it("https://quay.io/v1/ matches quay.io, quay.io/foo, quay.io/foo/bar", () => {
    const rex = cred("rex", "tiny arms");
    const k = new DockerKeyring();
    k.add([["https://quay.io/v1/", rex]]);
    for (const image of ["quay.io", "quay.io/foo", "quay.io/foo/bar"]) {
      assert.deepEqual(k.lookup(image), [rex], image);
    }
  });

  it("sorts keys descending byte-wise, same-key credentials in insertion order", () => {
    const a = cred("a", "1");
    const b = cred("b", "2");
    const c = cred("c", "3");
    const d = cred("d", "4");
    const k = new DockerKeyring();
    k.add([
      ["*.example.com", a],
      ["reg.example.com", b],
    ]);
    k.add([
      ["https://reg.example.com/v2/", c], // same key as reg.example.com, added later
      ["reg.example.com/team", d],
    ]);
    assert.deepEqual(k.keys, ["reg.example.com/team", "reg.example.com", "*.example.com"]);
    assert.deepEqual(
      k.lookup("reg.example.com/team/app").map((x) => x.username),
      ["d", "b", "c", "a"],
    );
    assert.deepEqual(
      k.lookup("other.example.com/app").map((x) => x.username),
      ["a"],
    );
  });

  it("index.docker.io credentials are not used when another key matched", () => {
    const k = new DockerKeyring();
    k.add([
      ["https://index.docker.io/v1/", cred("hub", "x")],
      ["docker.io/team", cred("team", "y")],
    ]);
    assert.deepEqual(
      k.lookup("docker.io/team/app").map((x) => x.username),
      ["team"],
    );
    assert.deepEqual(
      k.lookup("docker.io/other/app").map((x) => x.username),
      ["hub"],
    );
  });
});

describe("key normalization", () => {
  const cases: [string, string | undefined][] = [
    ["quay.io", "quay.io"],
    ["https://quay.io/v1/", "quay.io"],
    ["http://quay.io/v2/", "quay.io"],
    ["https://quay.io/v2/foo", "quay.io/foo"],
    ["quay.io/", "quay.io"],
    ["localhost:5000/a", "localhost:5000/a"],
    ["https://user@quay.io/x", "quay.io/x"],
    ["quay.io:port", undefined],
    ["bad host.io", undefined],
    ["quay.io/%zz", undefined],
    ["quay.io/a%2Fb", "quay.io/a/b"],
  ];
  for (const [loc, want] of cases) {
    it(`${loc} → ${want}`, () => assert.equal(keyringKey(loc), want));
  }
  it("invalid keys are skipped, the rest kept", () => {
    const k = new DockerKeyring();
    k.add([
      ["quay.io:port", cred("bad", "x")],
      ["quay.io", cred("good", "y")],
    ]);
    assert.deepEqual(k.keys, ["quay.io"]);
  });
});
