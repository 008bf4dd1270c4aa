// registries.conf v2 parsing, validation, prefix matching and pull sources: table tests ported
// from containers/image pkg/sysregistriesv2/system_registries_v2_test.go (TestRefMatchingPrefix,
// TestRefMatchingSubdomainPrefix, TestRewriteReference*, TestPullSourcesFromReference,
// TestInvalidMirrorConfig, TestFindRegistry, TestV1BackwardsCompatibility) where they apply,
// plus the file lookup order.

import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { isKimgError } from "../../src/errors.ts";
import { parseNamed } from "../../src/ref/index.ts";
import {
  findRegistry,
  loadRegistriesConf,
  parseRegistriesConf,
  pullSources,
  type RegistriesConf,
  refMatchingPrefix,
  registriesConfPath,
} from "../../src/registry/index.ts";
import { makeTempDir, removeTempDir } from "../helpers/cleanup.ts";

const A64 = "a".repeat(64);
const DIG = `@sha256:${A64}`;

function sourcesOf(conf: RegistriesConf, ref: string) {
  return pullSources(parseNamed(ref), conf).map((s) => ({
    ref: `${s.host}/${s.repository}${s.reference.tag !== "" ? `:${s.reference.tag}` : ""}${s.reference.digest !== "" ? `@${s.reference.digest}` : ""}`,
    insecure: s.insecure,
    mirror: s.mirror,
  }));
}

function conf(registries: { prefix: string; location: string }[]): RegistriesConf {
  return {
    source: "t.conf",
    unqualifiedSearchRegistries: [],
    registries: registries.map((r) => ({
      ...r,
      insecure: false,
      blocked: false,
      mirrorByDigestOnly: false,
      mirrors: [],
    })),
  };
}

function throwsConf(f: () => unknown, text: string | RegExp, code = "REGISTRIES_CONF_INVALID") {
  assert.throws(f, (e: unknown) => {
    assert.ok(isKimgError(e), String(e));
    assert.equal(e.code, code);
    if (typeof text === "string") assert.ok(e.message.includes(text), e.message);
    else assert.match(e.message, text);
    assert.ok(!e.message.includes("\n"), "one line");
    return true;
  });
}

describe("refMatchingPrefix (upstream TestRefMatchingPrefix)", () => {
  const cases: [string, string, number][] = [
    ["docker.io", "docker.io", 9],
    ["docker.io", "example.com", -1],
    ["example.com:5000", "example.com:5000", 16],
    ["example.com:50000", "example.com:5000", -1],
    ["example.com:5000", "example.com", 11], // unintended upstream, kept
    ["example.com/foo", "example.com", 11],
    ["example.com/foo/bar", "example.com", 11],
    ["example.com/foo/bar:baz", "example.com", 11],
    [`example.com/foo/bar${DIG}`, "example.com", 11],
    ["docker.io", "docker.io/library", -1],
    ["docker.io/library", "docker.io/library", 17],
    ["example.com/library", "docker.io/library", -1],
    ["docker.io/libraryy", "docker.io/library", -1],
    ["docker.io/library/busybox", "docker.io/library", 17],
    ["docker.io", "docker.io/library/busybox", -1],
    ["docker.io/library/busybox", "docker.io/library/busybox", 25],
    ["example.com/library/busybox", "docker.io/library/busybox", -1],
    ["docker.io/library/busybox2", "docker.io/library/busybox", -1],
    ["example.com", "example.com/foo:bar", -1],
    ["example.com/foo", "example.com/foo:bar", -1],
    ["example.com/foo:bar", "example.com/foo:bar", 19],
    ["example.com/foo:bar2", "example.com/foo:bar", -1],
    [`example.com/foo${DIG}`, `example.com/foo${DIG}`, `example.com/foo${DIG}`.length],
    [`example.com/foo@sha256:${"b".repeat(64)}`, `example.com/foo${DIG}`, -1],
    ["example.com/foo", "*", -1],
    // TestRefMatchingSubdomainPrefix
    ["docker.io", "*.io", 9],
    ["docker.io/foo", "*.com", -1],
    ["example.com/foo", "*.co", -1],
    ["example.com/foo", "*.example.com", -1],
    ["example.com/foo", "*.com", 11],
    ["example.com/foo:bar", "*.com", 11],
    ["example.com/foo/bar:baz", "*.com", 11],
    ["yet.another.example.com/foo", "**.example.com", -1],
    ["yet.another.example.com/foo/bar", "*.another.example.com", 23],
    ["another.example.com/namespace.com/foo/bar/bbq:baz", "*.example.com", 19],
    ["example.net/namespace-ends-in.com/foo/bar/bbq:baz", "*.com", -1],
    ["another.example.com/namespace.com/foo/bar/bbq:baz", "*.namespace.com", -1],
    ["sub.example.com/foo/bar", "*.com", 15],
    ["another.sub.example.com/foo/bar/bbq:baz", "*.sub.example.com", 23],
    [`yet.another.example.com/foo/bar${DIG}`, "*.example.com", 23],
  ];
  for (const [ref, prefix, want] of cases) {
    it(`${ref} vs ${prefix} → ${want}`, () => assert.equal(refMatchingPrefix(ref, prefix), want));
  }
});

describe("rewriting (upstream TestRewriteReferenceSuccess / …FailedDuringParseNamed)", () => {
  const ok: [string, string, string, string][] = [
    ["example.com/image", "example.com", "example.com", "example.com/image"],
    [
      "example.com:5000/image:latest",
      "example.com:5000",
      "example.com:5000",
      "example.com:5000/image:latest",
    ],
    [`example.com/foo${DIG}`, "example.com", "example.com", `example.com/foo${DIG}`],
    ["example.com/foo/image:latest", "example.com/foo", "example.com", "example.com/image:latest"],
    [
      "example.com/foo/image:latest",
      "example.com/foo",
      "example.com/path",
      "example.com/path/image:latest",
    ],
    ["docker.io/library/image", "docker.io/library", "example.com", "example.com/image"],
    ["docker.io/library/image", "docker.io", "example.com", "example.com/library/image"],
    ["docker.io/namespace/image", "*.io", "example.com", "example.com/namespace/image"],
    [
      "sub.example.io/library/prefix/image",
      "*.example.io",
      "example.com",
      "example.com/library/prefix/image",
    ],
    [
      "another.sub.example.io:5000/library/prefix/image:latest",
      "*.sub.example.io",
      "example.com",
      "example.com:5000/library/prefix/image:latest",
    ],
    [
      "foo.bar.io/ns1/ns2/ns3/ns4",
      "*.bar.io",
      "omg.bbq.com/roflmao",
      "omg.bbq.com/roflmao/ns1/ns2/ns3/ns4",
    ],
    [
      "abc.internal.registry.com/foo:bar",
      "*.internal.registry.com",
      "",
      "abc.internal.registry.com/foo:bar",
    ],
    [
      `alien.vs.predator.foobar.io:5000/foo${DIG}`,
      "*.foobar.io",
      "",
      `alien.vs.predator.foobar.io:5000/foo${DIG}`,
    ],
  ];
  for (const [input, prefix, location, want] of ok) {
    it(`${input} [${prefix} → ${location}] = ${want}`, () => {
      const got = sourcesOf(conf([{ prefix, location }]), input);
      assert.deepEqual(got, [{ ref: want, insecure: false, mirror: false }]);
    });
  }
  const bad: [string, string, string][] = [
    ["example.com/foo/image:latest", "example.com/foo", "example.com/path/"],
    [`example.com/foo${DIG}`, "example.com/foo", "example.com"],
    ["example.com:5000/image:latest", "example.com", ""],
    ["example.com:5000/image:latest", "example.com", "example.com:5000"],
  ];
  for (const [input, prefix, location] of bad) {
    it(`${input} [${prefix} → ${location}] fails`, () => {
      throwsConf(() => sourcesOf(conf([{ prefix, location }]), input), /./);
    });
  }
});

const PULL_SOURCES_CONF = `
[[registry]]
prefix = "registry-a.com/foo"
location = "registry-a.com/bar"
[[registry.mirror]]
location = "mirror-1.registry-a.com"
[[registry.mirror]]
location = "mirror-2.registry-a.com"
insecure = true

[[registry]]
prefix = "registry-b.com/foo"
location = "registry-b.com/bar"
mirror-by-digest-only = true
[[registry.mirror]]
location = "mirror-1.registry-b.com"
[[registry.mirror]]
location = "mirror-2.registry-b.com"

[[registry]]
prefix = "registry-c.com/baz"
location = "registry-c.com/bar"
[[registry.mirror]]
location = "mirror-1.registry-c.com"
[[registry.mirror]]
pull-from-mirror = "digest-only"
location = "mirror-2.registry-c.com"

[[registry]]
prefix = "registry-e.com/baz"
location = "registry-e.com/bar"
[[registry.mirror]]
pull-from-mirror = "tag-only"
location = "mirror-1.registry-e.com"
[[registry.mirror]]
pull-from-mirror = "tag-only"
location = "mirror-2.registry-e.com"

[[registry]]
prefix = "registry-g.com/baz"
location = "registry-g.com/bar"
[[registry.mirror]]
pull-from-mirror = "digest-only"
location = "mirror-1.registry-g.com"
[[registry.mirror]]
pull-from-mirror = "tag-only"
location = "mirror-2.registry-g.com"
[[registry.mirror]]
location = "mirror-3.registry-g.com"
[[registry.mirror]]
pull-from-mirror = "all"
location = "mirror-4.registry-g.com"
`;

describe("pullSources (upstream TestPullSourcesFromReference)", () => {
  const c = parseRegistriesConf(PULL_SOURCES_CONF, "pull-sources.conf");
  const cases: [string, string[], boolean[], string[], boolean[]][] = [
    [
      "registry-a.com/foo",
      ["mirror-1.registry-a.com", "mirror-2.registry-a.com", "registry-a.com/bar"],
      [false, true, false],
      ["mirror-1.registry-a.com", "mirror-2.registry-a.com", "registry-a.com/bar"],
      [false, true, false],
    ],
    [
      "registry-b.com/foo",
      ["mirror-1.registry-b.com", "mirror-2.registry-b.com", "registry-b.com/bar"],
      [false, false, false],
      ["registry-b.com/bar"],
      [false],
    ],
    [
      "registry-c.com/baz",
      ["mirror-1.registry-c.com", "mirror-2.registry-c.com", "registry-c.com/bar"],
      [false, false, false],
      ["mirror-1.registry-c.com", "registry-c.com/bar"],
      [false, false],
    ],
    [
      "registry-e.com/baz",
      ["registry-e.com/bar"],
      [false],
      ["mirror-1.registry-e.com", "mirror-2.registry-e.com", "registry-e.com/bar"],
      [false, false, false],
    ],
    [
      "registry-g.com/baz",
      [
        "mirror-1.registry-g.com",
        "mirror-3.registry-g.com",
        "mirror-4.registry-g.com",
        "registry-g.com/bar",
      ],
      [false, false, false, false],
      [
        "mirror-2.registry-g.com",
        "mirror-3.registry-g.com",
        "mirror-4.registry-g.com",
        "registry-g.com/bar",
      ],
      [false, false, false, false],
    ],
  ];
  for (const [prefix, dLocs, dIns, tLocs, tIns] of cases) {
    it(`${prefix}: digest and tag`, () => {
      const d = sourcesOf(c, `${prefix}/image${DIG}`);
      assert.deepEqual(
        d,
        dLocs.map((l, i) => ({
          ref: `${l}/image${DIG}`,
          insecure: dIns[i],
          mirror: i < dLocs.length - 1,
        })),
      );
      const t = sourcesOf(c, `${prefix}/image:aaa`);
      assert.deepEqual(
        t,
        tLocs.map((l, i) => ({
          ref: `${l}/image:aaa`,
          insecure: tIns[i],
          mirror: i < tLocs.length - 1,
        })),
      );
    });
  }
  it("no matching entry, or no config: the reference itself", () => {
    assert.deepEqual(sourcesOf(c, "other.example/x:1"), [
      { ref: "other.example/x:1", insecure: false, mirror: false },
    ]);
    assert.equal(
      pullSources(parseNamed("docker.io/library/nginx:1"), undefined)[0]?.host,
      "docker.io",
    );
  });
  it("docker.io: a prefix needs /library for official images", () => {
    const m = parseRegistriesConf(
      `[[registry]]\nprefix = "docker.io/library/alpine"\nlocation = "mirror.example/alpine"\n`,
    );
    assert.deepEqual(sourcesOf(m, "docker.io/library/alpine:3"), [
      { ref: "mirror.example/alpine:3", insecure: false, mirror: false },
    ]);
    assert.equal(
      sourcesOf(m, "docker.io/library/alpinex:3")[0]?.ref,
      "docker.io/library/alpinex:3",
    );
  });
  it("blocked: REGISTRY_BLOCKED naming the registry and the file, before any request", () => {
    const b = parseRegistriesConf(
      `[[registry]]\nlocation = "evil.example"\nblocked = true\n`,
      "/etc/x.conf",
    );
    throwsConf(
      () => sourcesOf(b, "evil.example/app:1"),
      "registry evil.example is blocked in /etc/x.conf",
      "REGISTRY_BLOCKED",
    );
    assert.equal(sourcesOf(b, "good.example/app:1").length, 1);
  });
  it("a mirror under a blocked entry is left out; a blocked primary location fails", () => {
    const b = parseRegistriesConf(`
[[registry]]
prefix = "src.example"
location = "dst.example"
[[registry.mirror]]
location = "bad-mirror.example"
[[registry.mirror]]
location = "good-mirror.example"
[[registry]]
location = "bad-mirror.example"
blocked = true
[[registry]]
prefix = "src2.example"
location = "bad-mirror.example/x"
`);
    assert.deepEqual(
      sourcesOf(b, "src.example/a:1").map((s) => s.ref),
      ["good-mirror.example/a:1", "dst.example/a:1"],
    );
    throwsConf(
      () => sourcesOf(b, "src2.example/a:1"),
      "registry bad-mirror.example is blocked",
      "REGISTRY_BLOCKED",
    );
  });
});

describe("findRegistry (upstream TestFindRegistry, without drop-ins)", () => {
  const c = parseRegistriesConf(`
[[registry]]
location = "registry.com:5000"
prefix = "simple-prefix.com"
[[registry]]
location = "another-registry.com:5000"
prefix = "complex-prefix.com:4000/with/path"
[[registry]]
location = "registry.com:5000"
prefix = "another-registry.com"
[[registry]]
location = "no-prefix.com"
[[registry]]
location = "empty-prefix.com"
prefix = ""
[[registry]]
location = "subdomain-prefix.com"
prefix = "*.so.simple-prefix.com"
[[registry]]
location = "subdomain-prefix-2.com"
prefix = "*.simple-prefix.com"
[[registry]]
location = "subdomain-prefix-4.com"
prefix = "*.bar.docker.io"
[[registry]]
location = "subdomain-prefix-2.com"
prefix = "*.docker.io"
[[registry]]
location = "subdomain-prefix-5.com"
prefix = "foo.bar.example.com:5000"
[[registry]]
prefix="*.internal.registry.com"
`);
  const loc = (name: string) => findRegistry(c, name)?.location;
  it("longest prefix, wildcards, boundaries", () => {
    assert.equal(loc("simple-prefix.com/foo/bar:latest"), "registry.com:5000");
    assert.equal(findRegistry(c, "simple-prefix.com/foo/bar:latest")?.prefix, "simple-prefix.com");
    assert.equal(loc("simple-prefix.com"), "registry.com:5000");
    assert.equal(loc("not.so.simple-prefix.com/"), "subdomain-prefix.com");
    assert.equal(loc("not.quite.simple-prefix.com/"), "subdomain-prefix-2.com");
    assert.equal(
      loc("not.quite.simple-prefix.com:5000/with/path/and/beyond:tag"),
      "subdomain-prefix-2.com",
    );
    assert.equal(loc("foo.bar.docker.io:5000/omg/wtf/bbq:foo"), "subdomain-prefix-4.com");
    assert.equal(loc("foo.docker.io:5000/omg/wtf/bbq:foo"), "subdomain-prefix-2.com");
    assert.equal(loc("foo.bar.example.com:5000/omg/wtf/bbq:foo"), "subdomain-prefix-5.com");
    assert.equal(
      loc("complex-prefix.com:4000/with/path/and/beyond:tag"),
      "another-registry.com:5000",
    );
    assert.equal(loc("no-prefix.com/foo:tag"), "no-prefix.com");
    assert.equal(loc("empty-prefix.com/foo:tag"), "empty-prefix.com");
    assert.equal(findRegistry(c, "simple-prefix.comx"), undefined);
    assert.equal(findRegistry(c, "complex-prefix.com:4000/with/pathx"), undefined);
    assert.equal(loc("abc.internal.registry.com/x"), "");
  });
  it("duplicates: the first entry of a prefix wins; sorted by prefix", () => {
    const d = parseRegistriesConf(
      `[[registry]]\nprefix="b.example"\nlocation="one.example"\n[[registry]]\nprefix="b.example"\nlocation="two.example"\n[[registry]]\nlocation="a.example"\n`,
    );
    assert.deepEqual(
      d.registries.map((r) => [r.prefix, r.location]),
      [
        ["a.example", "a.example"],
        ["b.example", "one.example"],
      ],
    );
  });
});

describe("parseRegistriesConf validation (upstream wording)", () => {
  const cases: [string, string | RegExp][] = [
    [
      `[[registry]]\nprefix = "registry-a.com/foo"\nlocation = "registry-a.com/bar"\npull-from-mirror = "digest-only"\n`,
      'registry[0].pull-from-mirror: pull-from-mirror must not be set for a non-mirror registry "registry-a.com/foo"',
    ],
    [
      `[[registry]]\nprefix = "registry-a.com/foo"\nlocation = "registry-a.com/bar"\nmirror-by-digest-only = true\n[[registry.mirror]]\nlocation = "mirror-1.registry-a.com"\npull-from-mirror = "digest-only"\n`,
      'cannot set mirror usage mirror-by-digest-only for the registry ("registry-a.com/foo") and pull-from-mirror for per-mirror ("mirror-1.registry-a.com") at the same time',
    ],
    [
      `[[registry]]\nprefix = "registry-a.com/foo"\nlocation = "registry-a.com/bar"\n[[registry.mirror]]\nlocation = "mirror-1.registry-a.com"\npull-from-mirror = "notvalid"\n`,
      'registry[0].mirror[0].pull-from-mirror: unsupported pull-from-mirror value "notvalid" for mirror "mirror-1.registry-a.com"',
    ],
    [
      `[[registry]]\nlocation = "https://example.com"\n`,
      "registry[0].location: invalid location 'https://example.com': URI schemes are not supported",
    ],
    [
      `[[registry]]\ninsecure = true\n`,
      "registry[0]: invalid condition: both location and prefix are unset",
    ],
    [
      `[[registry]]\nprefix = "example.com/foo"\n`,
      "invalid condition: location is unset and prefix is not in the format: *.example.com",
    ],
    [
      `[[registry]]\nlocation = "x.example"\n[[registry.mirror]]\ninsecure = true\n`,
      "registry[0].mirror[0].location: invalid condition: mirror location is unset",
    ],
    [
      `[[registry]]\nprefix = "*.example.com/foo"\nlocation = "x.example"\n`,
      'Wildcarded prefix should be in the format: *.example.com. Current prefix "*.example.com/foo" is incorrectly formatted',
    ],
    [
      `[[registry]]\nprefix = "a.example"\nlocation = "x.example"\n[[registry]]\nprefix = "b.example"\nlocation = "x.example"\ninsecure = true\n`,
      "registry 'x.example' is defined multiple times with conflicting 'insecure' setting",
    ],
    [
      `[[registry]]\nprefix = "a.example"\nlocation = "x.example"\nblocked = true\n[[registry]]\nprefix = "b.example"\nlocation = "x.example"\n`,
      "conflicting 'blocked' setting",
    ],
    [
      `[[registry]]\nlocation = "x.example"\ninsecure = "yes"\n`,
      "registry[0].insecure: expected a boolean, got string",
    ],
    [`registry = "x"\n`, "registry: expected an array of tables ([[registry]])"],
    [`short-name-mode = "sometimes"\n`, 'short-name-mode: invalid short-name mode: "sometimes"'],
    [
      `[registries.search]\nregistries = ["a.example"]\n[[registry]]\nlocation = "b.example"\n`,
      "registries: mixing sysregistry v1/v2 is not supported",
    ],
    [`[[registry]]\nlocation = \n`, /^f\.conf:2:\d+: invalid TOML: /],
  ];
  for (const [text, want] of cases) {
    it(typeof want === "string" ? want : String(want), () => {
      throwsConf(() => parseRegistriesConf(text, "f.conf"), want);
      if (typeof want === "string") {
        assert.throws(
          () => parseRegistriesConf(text, "f.conf"),
          (e: Error) => e.message.startsWith("f.conf: "),
        );
      }
    });
  }
  it("ignored: unqualified-search-registries, short-name-mode, aliases, unknown keys", () => {
    const c = parseRegistriesConf(
      `unqualified-search-registries = ["registry.fedoraproject.org", "docker.io"]\nshort-name-mode = "enforcing"\nsomething-new = 1\n[aliases]\n"fedora" = "registry.fedoraproject.org/fedora"\n`,
    );
    assert.deepEqual(c.unqualifiedSearchRegistries, ["registry.fedoraproject.org", "docker.io"]);
    assert.equal(c.shortNameMode, "enforcing");
    assert.deepEqual(c.registries, []);
  });
  it("trailing slashes trimmed; prefix defaults to location", () => {
    const c = parseRegistriesConf(
      `[[registry]]\nlocation = "example.com/ns/"\n[[registry.mirror]]\nlocation = "m.example/"\n`,
    );
    assert.deepEqual(c.registries[0], {
      prefix: "example.com/ns",
      location: "example.com/ns",
      insecure: false,
      blocked: false,
      mirrorByDigestOnly: false,
      mirrors: [{ location: "m.example", insecure: false, pullFromMirror: "" }],
    });
  });
  it("v1 is converted as upstream ConvertToV2 (TestV1BackwardsCompatibility)", () => {
    const c = parseRegistriesConf(
      `[registries.search]\nregistries = ["registry-a.com////", "registry-c.com", "registry-d.com"]\n[registries.block]\nregistries = ["registry-b.com"]\n[registries.insecure]\nregistries = ["registry-d.com", "registry-e.com", "registry-a.com"]\n`,
    );
    assert.deepEqual(
      c.registries.map((r) => [r.location, r.insecure, r.blocked]),
      [
        ["registry-a.com", true, false],
        ["registry-b.com", false, true],
        ["registry-d.com", true, false],
        ["registry-e.com", true, false],
      ],
    );
    assert.deepEqual(c.unqualifiedSearchRegistries, [
      "registry-a.com////",
      "registry-c.com",
      "registry-d.com",
    ]);
  });
});

describe("which file (registriesConfPath / loadRegistriesConf)", () => {
  const dir = makeTempDir("kimg-regconf-");
  after(() => removeTempDir(dir));
  const home = join(dir, "home");
  const sys = join(dir, "etc-registries.conf");
  const user = join(home, ".config", "containers", "registries.conf");
  it("explicit, then $CONTAINERS_REGISTRIES_CONF, then the user's if it exists, then the system's if it exists, else none", async () => {
    const none = await registriesConfPath({ env: {}, home, systemPath: sys });
    assert.equal(none, undefined);
    assert.equal(await loadRegistriesConf({ env: {}, home, systemPath: sys }), undefined);
    writeFileSync(sys, `[[registry]]\nlocation = "sys.example"\n`);
    assert.equal(await registriesConfPath({ env: {}, home, systemPath: sys }), sys);
    mkdirSync(join(home, ".config", "containers"), { recursive: true });
    writeFileSync(user, `[[registry]]\nlocation = "user.example"\n`);
    assert.equal(await registriesConfPath({ env: {}, home, systemPath: sys }), user);
    assert.equal(
      await registriesConfPath({
        env: { CONTAINERS_REGISTRIES_CONF: "/env.conf" },
        home,
        systemPath: sys,
      }),
      "/env.conf",
    );
    assert.equal(
      await registriesConfPath({
        path: "/x.conf",
        env: { CONTAINERS_REGISTRIES_CONF: "/env.conf" },
        home,
        systemPath: sys,
      }),
      "/x.conf",
    );
    const loaded = await loadRegistriesConf({ env: {}, home, systemPath: sys });
    assert.equal(loaded?.source, user);
    assert.equal(loaded?.registries[0]?.location, "user.example");
  });
  it("an explicit or $CONTAINERS_REGISTRIES_CONF file that is missing is an error; /dev/null is an empty config", async () => {
    await assert.rejects(
      loadRegistriesConf({ path: join(dir, "missing.conf") }),
      (e: unknown) =>
        isKimgError(e, "REGISTRIES_CONF_INVALID") &&
        e.message.includes(
          "missing.conf: cannot read registries configuration: no such file or directory",
        ),
    );
    await assert.rejects(
      loadRegistriesConf({ env: { CONTAINERS_REGISTRIES_CONF: join(dir, "nope.conf") } }),
      (e: unknown) => isKimgError(e, "REGISTRIES_CONF_INVALID"),
    );
    const empty = await loadRegistriesConf({
      env: { CONTAINERS_REGISTRIES_CONF: "/dev/null" },
      home,
    });
    assert.deepEqual(empty?.registries, []);
  });
});
