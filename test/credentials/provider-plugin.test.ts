// Kubelet credential-provider exec plugins (plugin.go, config.go, plugins.go) with REAL executable
// plugin scripts written into a temp bin dir; invocations are counted through a log file the
// script appends to (one line per run: its args and the request it read on stdin).
import assert from "node:assert/strict";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import {
  type CredentialProviderConfig,
  credentialProviderPlugins,
  decodeCredentialProviderConfig,
  loadCredentialProviderConfig,
  mergeCredentialProviderConfigs,
  type PluginProviderOptions,
} from "../../src/credentials/index.ts";
import {
  parseCredentialProviderResponse,
  schemelessUrlError,
} from "../../src/credentials/provider-plugin.ts";
import { isKimgError, type KimgError } from "../../src/errors.ts";

const V1 = "credentialprovider.kubelet.k8s.io/v1";
const SECRET = "plugin-S3CRET";
const base = mkdtempSync(join(tmpdir(), "kimg-plugins-"));
after(() => rmSync(base, { recursive: true, force: true }));
const bin = join(base, "bin");
mkdirSync(bin);

// A plugin that logs "<args>|<stdin>" to $LOG, optionally sleeps $SLEEP s, writes $STDERR to
// stderr, prints $RESPONSE and exits with $EXIT (default 0).
const SCRIPT = `#!/bin/sh
req=$(cat)
printf '%s|%s\\n' "$*" "$req" >> "$LOG"
if [ -n "$SLEEP" ]; then sleep "$SLEEP"; fi
if [ -n "$STDERR" ]; then printf '%s\\n' "$STDERR" >&2; fi
printf '%s' "$RESPONSE"
exit \${EXIT:-0}
`;
for (const name of ["plugin", "plugin-b"]) {
  writeFileSync(join(bin, name), SCRIPT);
  chmodSync(join(bin, name), 0o755);
}
writeFileSync(join(bin, "not-executable"), SCRIPT);
chmodSync(join(bin, "not-executable"), 0o644);

let logN = 0;
function newLog(): string {
  return join(base, `log-${logN++}`);
}
function runs(log: string): string[] {
  return existsSync(log) ? readFileSync(log, "utf8").trim().split("\n") : [];
}

function response(over: Record<string, unknown> = {}): string {
  return JSON.stringify({
    kind: "CredentialProviderResponse",
    apiVersion: V1,
    cacheKeyType: "Image",
    cacheDuration: "5m",
    auth: { "reg.example.com": { username: "plugin-user", password: SECRET } },
    ...over,
  });
}

interface Setup {
  log: string;
  env?: Record<string, string>;
  name?: string;
  matchImages?: string[];
  defaultCacheDuration?: string;
  args?: string[];
  apiVersion?: string;
}
function providerDoc(s: Setup): Record<string, unknown> {
  return {
    name: s.name ?? "plugin",
    matchImages: s.matchImages ?? ["*.example.com", "reg.example.com:5000"],
    defaultCacheDuration: s.defaultCacheDuration ?? "0s",
    apiVersion: s.apiVersion ?? V1,
    ...(s.args !== undefined ? { args: s.args } : {}),
    env: Object.entries({ LOG: s.log, ...s.env }).map(([name, value]) => ({ name, value })),
  };
}
function config(...setups: Setup[]): CredentialProviderConfig {
  return loadCredentialProviderConfig({
    apiVersion: "kubelet.config.k8s.io/v1",
    kind: "CredentialProviderConfig",
    providers: setups.map(providerDoc),
  });
}

async function plugins(cfg: CredentialProviderConfig, extra: Partial<PluginProviderOptions> = {}) {
  const errors: string[] = [];
  const p = await credentialProviderPlugins(cfg, {
    binDir: bin,
    onError: (e) => errors.push(e.message),
    ...extra,
  });
  return { p, errors };
}

describe("exec protocol (plugin.go ExecPlugin)", () => {
  it("success: request on stdin, args, env appended, auth map matched like a docker config", async () => {
    const log = newLog();
    const { p, errors } = await plugins(
      config({ log, args: ["--flag", "x"], env: { RESPONSE: response() } }),
    );
    const creds = await p.lookupAll("reg.example.com/team/app");
    assert.deepEqual(errors, []);
    assert.equal(creds.length, 1);
    assert.equal(creds[0]?.username, "plugin-user");
    assert.equal(creds[0]?.password, SECRET);
    assert.equal(creds[0]?.source, "credential provider plugin");
    assert.deepEqual(creds[0]?.origin, { kind: "node" });
    assert.deepEqual(runs(log), [
      `--flag x|{"kind":"CredentialProviderRequest","apiVersion":"${V1}","image":"reg.example.com/team/app"}`,
    ]);
  });

  it("the kubelet's environment is passed, config env wins over it", async () => {
    const log = newLog();
    const { p } = await plugins(config({ log, env: { RESPONSE: response(), KEEP: "config" } }), {
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", KEEP: "kubelet", RESPONSE: "kubelet" },
    });
    assert.equal((await p.lookupAll("reg.example.com/a"))[0]?.username, "plugin-user");
  });

  it("the response's auth keys are matched against the image (non-matching key → nothing)", async () => {
    const log = newLog();
    const { p } = await plugins(
      config({
        log,
        env: {
          RESPONSE: response({
            auth: {
              "reg.example.com/team": { username: "team", password: "1" },
              "*.example.com": { username: "any", password: "2" },
              "other.example.com": { username: "other", password: "3" },
            },
          }),
        },
      }),
    );
    assert.deepEqual(
      (await p.lookupAll("reg.example.com/team/app")).map((c) => c.username),
      ["team", "any"],
    );
  });

  it("matchImages filters: a non-matching image never runs the plugin", async () => {
    const log = newLog();
    const { p } = await plugins(config({ log, env: { RESPONSE: response() } }));
    assert.deepEqual(await p.lookupAll("quay.io/org/app"), []);
    assert.deepEqual(await p.lookupAll("reg.example.com:5001/app"), [], "ports must be equal");
    assert.deepEqual(await p.lookupAll("a.b.example.com/app"), [], "* is one label");
    assert.equal(runs(log).length, 0);
    await p.lookupAll("reg.example.com:5000/app");
    assert.equal(runs(log).length, 1);
  });

  it("timeout: the plugin is killed, the provider contributes nothing, onError hears why", async () => {
    const log = newLog();
    const { p, errors } = await plugins(
      config({ log, env: { RESPONSE: response(), SLEEP: "5", STDERR: "slow" } }),
      { timeoutMs: 300 },
    );
    const t0 = Date.now();
    assert.deepEqual(await p.lookupAll("reg.example.com/app"), []);
    assert.ok(Date.now() - t0 < 3000, "killed, not waited for");
    assert.deepEqual(errors, [
      "error execing credential provider plugin plugin for image reg.example.com/app: context deadline exceeded: ",
    ]);
  });

  it("non-zero exit: exit status and stderr", async () => {
    const log = newLog();
    const { p, errors } = await plugins(
      config({ log, env: { RESPONSE: response(), EXIT: "3", STDERR: "boom\nline2" } }),
    );
    assert.deepEqual(await p.lookupAll("reg.example.com/app"), []);
    assert.equal(errors.length, 1);
    // Upstream appends stderr; kimg never prints it (it may hold secrets: issue 18).
    assert.match(
      String(errors[0]),
      /^error execing credential provider plugin plugin for image reg\.example\.com\/app: exit status 3: stderr not shown \(it may hold secrets; to see it, run \S+ with the request on stdin\)$/,
    );
    assert.ok(!String(errors[0]).includes("boom"));
  });

  it("bad JSON on stdout", async () => {
    const log = newLog();
    const { p, errors } = await plugins(config({ log, env: { RESPONSE: `not json ${SECRET}` } }));
    assert.deepEqual(await p.lookupAll("reg.example.com/app"), []);
    assert.deepEqual(errors, ["error reading GVK from response: invalid JSON"]);
  });

  it("wrong apiVersion in the response", async () => {
    const log = newLog();
    const { p, errors } = await plugins(
      config({
        log,
        env: { RESPONSE: response({ apiVersion: "credentialprovider.kubelet.k8s.io/v1beta1" }) },
      }),
    );
    assert.deepEqual(await p.lookupAll("reg.example.com/app"), []);
    assert.deepEqual(errors, [
      "apiVersion from credential plugin response did not match expected apiVersion:credentialprovider.kubelet.k8s.io/v1, actual apiVersion:credentialprovider.kubelet.k8s.io/v1beta1",
    ]);
  });

  it("a v1beta1 provider gets a v1beta1 request and accepts a v1beta1 response", async () => {
    const log = newLog();
    const beta = "credentialprovider.kubelet.k8s.io/v1beta1";
    const { p, errors } = await plugins(
      config({ log, apiVersion: beta, env: { RESPONSE: response({ apiVersion: beta }) } }),
    );
    assert.equal((await p.lookupAll("reg.example.com/app")).length, 1);
    assert.deepEqual(errors, []);
    assert.match(
      runs(log)[0] ?? "",
      /"apiVersion":"credentialprovider\.kubelet\.k8s\.io\/v1beta1"/,
    );
  });

  it("invalid cacheKeyType → no credentials", async () => {
    const log = newLog();
    const { p, errors } = await plugins(
      config({ log, env: { RESPONSE: response({ cacheKeyType: "Pod" }) } }),
    );
    assert.deepEqual(await p.lookupAll("reg.example.com/app"), []);
    assert.deepEqual(errors, [
      'credential provider plugin did not return a valid cacheKeyType: "Pod"',
    ]);
  });

  it("strict response decoding: unknown field, wrong kind, bad duration → one generic message", () => {
    const msg = "error decoding credential provider plugin response from stdout";
    const bad = [
      response({ extra: 1 }),
      response({ kind: "CredentialProviderRequest" }),
      response({ cacheDuration: "soon" }),
      response({ cacheDuration: 60 }),
      response({ auth: { "reg.example.com": { username: "u", password: SECRET, token: "x" } } }),
      response({ auth: [] }),
    ];
    for (const b of bad) {
      assert.throws(
        () => parseCredentialProviderResponse(b, V1),
        (e: unknown) => isKimgError(e, "CREDENTIAL_HELPER_FAILED") && (e as Error).message === msg,
        b,
      );
    }
  });
});

describe("cache (plugin.go getCachedCredentials: image → registry → global)", () => {
  async function clocked(env: Record<string, string>, defaultCacheDuration = "0s") {
    const log = newLog();
    let now = 5_000_000;
    const { p, errors } = await plugins(config({ log, env, defaultCacheDuration }), {
      now: () => now,
    });
    return {
      p,
      errors,
      count: () => runs(log).length,
      advance: (ms: number) => {
        now += ms;
      },
    };
  }

  it("Image: same image cached; another image of the registry runs the plugin again", async () => {
    const c = await clocked({ RESPONSE: response({ cacheKeyType: "Image", cacheDuration: "1m" }) });
    await c.p.lookupAll("reg.example.com/a");
    await c.p.lookupAll("reg.example.com/a");
    assert.equal(c.count(), 1);
    await c.p.lookupAll("reg.example.com/b");
    assert.equal(c.count(), 2);
  });

  it("Registry: every image of that registry from the cache, another registry runs it", async () => {
    const c = await clocked({
      RESPONSE: response({ cacheKeyType: "Registry", cacheDuration: "1m" }),
    });
    await c.p.lookupAll("reg.example.com/a");
    const hit = await c.p.lookupAll("reg.example.com/b/c");
    assert.equal(hit[0]?.username, "plugin-user");
    assert.equal(c.count(), 1);
    await c.p.lookupAll("other.example.com/a");
    assert.equal(c.count(), 2);
  });

  it("Global: one run for every registry", async () => {
    const c = await clocked({
      RESPONSE: response({ cacheKeyType: "Global", cacheDuration: "1m" }),
    });
    await c.p.lookupAll("reg.example.com/a");
    await c.p.lookupAll("other.example.com/b");
    await c.p.lookupAll("reg.example.com:5000/c");
    assert.equal(c.count(), 1);
  });

  it("expiry: still cached at exactly cacheDuration, re-run just after", async () => {
    const c = await clocked({ RESPONSE: response({ cacheDuration: "1m" }) });
    await c.p.lookupAll("reg.example.com/a");
    c.advance(60_000);
    await c.p.lookupAll("reg.example.com/a");
    assert.equal(c.count(), 1);
    c.advance(1);
    await c.p.lookupAll("reg.example.com/a");
    assert.equal(c.count(), 2);
  });

  it("cacheDuration 0 → never cached, even with a default", async () => {
    const c = await clocked({ RESPONSE: response({ cacheDuration: "0s" }) }, "10m");
    await c.p.lookupAll("reg.example.com/a");
    await c.p.lookupAll("reg.example.com/a");
    assert.equal(c.count(), 2);
  });

  it("cacheDuration absent → the provider's defaultCacheDuration", async () => {
    const c = await clocked({ RESPONSE: response({ cacheDuration: undefined }) }, "10m");
    await c.p.lookupAll("reg.example.com/a");
    c.advance(10 * 60_000);
    await c.p.lookupAll("reg.example.com/a");
    assert.equal(c.count(), 1);
    c.advance(1);
    await c.p.lookupAll("reg.example.com/a");
    assert.equal(c.count(), 2);
  });

  it("cacheDuration absent and default 0 → not cached", async () => {
    const c = await clocked({ RESPONSE: response({ cacheDuration: undefined }) }, "0s");
    await c.p.lookupAll("reg.example.com/a");
    await c.p.lookupAll("reg.example.com/a");
    assert.equal(c.count(), 2);
  });

  it("a failure is not cached", async () => {
    const c = await clocked({ RESPONSE: "nope" }, "10m");
    await c.p.lookupAll("reg.example.com/a");
    await c.p.lookupAll("reg.example.com/a");
    assert.equal(c.count(), 2);
    assert.equal(c.errors.length, 2);
  });
});

describe("coalescing and combining", () => {
  it("concurrent identical requests run the plugin once (singleflight by image)", async () => {
    const log = newLog();
    const { p } = await plugins(
      config({ log, env: { RESPONSE: response({ cacheDuration: "0s" }), SLEEP: "0.3" } }),
    );
    const all = await Promise.all(
      Array.from({ length: 5 }, () => p.lookupAll("reg.example.com/a")),
    );
    assert.equal(runs(log).length, 1);
    for (const creds of all) assert.equal(creds[0]?.password, SECRET);
    await Promise.all([p.lookupAll("reg.example.com/a"), p.lookupAll("reg.example.com/b")]);
    assert.equal(runs(log).length, 3, "different images are not coalesced");
  });

  it("several providers: results combined in one keyring, config order for equal keys", async () => {
    const logA = newLog();
    const logB = newLog();
    const auth = (user: string, extra: Record<string, unknown> = {}) =>
      response({ auth: { "reg.example.com": { username: user, password: "x" }, ...extra } });
    const { p } = await plugins(
      config(
        { log: logA, env: { RESPONSE: auth("first") } },
        {
          log: logB,
          name: "plugin-b",
          env: {
            RESPONSE: auth("second", {
              "reg.example.com/team": { username: "specific", password: "y" },
            }),
          },
        },
      ),
    );
    assert.deepEqual(
      (await p.lookupAll("reg.example.com/team/app")).map((c) => c.username),
      ["specific", "first", "second"],
    );
  });

  it("one provider failing does not stop the others", async () => {
    const { p, errors } = await plugins(
      config(
        { log: newLog(), env: { RESPONSE: "", EXIT: "1" } },
        { log: newLog(), name: "plugin-b", env: { RESPONSE: response() } },
      ),
    );
    assert.deepEqual(
      (await p.lookupAll("reg.example.com/a")).map((c) => c.username),
      ["plugin-user"],
    );
    assert.equal(errors.length, 1);
  });
});

describe("registration (plugin.go RegisterCredentialProviderPlugins)", () => {
  const cfg = (name: string) => config({ log: newLog(), name });
  async function rejects(p: Promise<unknown>, message: string) {
    await assert.rejects(p, (e: unknown) => {
      assert.equal((e as KimgError).message, message);
      return true;
    });
  }
  it("missing bin dir", () =>
    rejects(
      credentialProviderPlugins(cfg("plugin"), { binDir: join(base, "nope") }),
      `plugin binary directory ${join(base, "nope")} did not exist`,
    ));
  it("missing plugin binary (upstream prints LookPath's empty path)", () =>
    rejects(
      credentialProviderPlugins(cfg("absent"), { binDir: bin }),
      "plugin binary executable  did not exist",
    ));
  it("plugin binary not executable", () =>
    rejects(
      credentialProviderPlugins(cfg("not-executable"), { binDir: bin }),
      `error inspecting binary executable : exec: "${join(bin, "not-executable")}": permission denied`,
    ));
  it("tokenAttributes: validated, then the provider is disabled and reported", async () => {
    const doc = {
      apiVersion: "kubelet.config.k8s.io/v1",
      kind: "CredentialProviderConfig",
      providers: [
        {
          ...providerDoc({ log: newLog() }),
          tokenAttributes: {
            serviceAccountTokenAudience: "aud",
            cacheType: "ServiceAccount",
            requireServiceAccount: true,
          },
        },
      ],
    };
    const { p, errors } = await plugins(loadCredentialProviderConfig(doc));
    assert.equal(p.providers.length, 0);
    assert.match(
      errors[0] ?? "",
      /service account token mode \(tokenAttributes\) is not supported by kimg/,
    );
  });
});

describe("config validation (config.go validateCredentialProviderConfig)", () => {
  const P = (over: Record<string, unknown>) => ({
    name: "p",
    matchImages: ["*.example.com"],
    defaultCacheDuration: "10m",
    apiVersion: V1,
    ...over,
  });
  const doc = (...providers: unknown[]) => ({
    apiVersion: "kubelet.config.k8s.io/v1",
    kind: "CredentialProviderConfig",
    providers,
  });
  const fails = (d: unknown, message: string) =>
    assert.throws(
      () => loadCredentialProviderConfig(d),
      (e: unknown) => {
        assert.ok(isKimgError(e, "INPUT_INVALID"));
        assert.equal((e as Error).message, message);
        return true;
      },
    );
  const V = "failed to validate credential provider config: ";

  it("a valid config decodes with durations in ms", () => {
    const c = loadCredentialProviderConfig(
      doc(P({ args: ["a"], env: [{ name: "A", value: "b" }] })),
    );
    assert.deepEqual(c.providers[0], {
      name: "p",
      matchImages: ["*.example.com"],
      defaultCacheDurationMs: 600_000,
      apiVersion: V1,
      args: ["a"],
      env: [{ name: "A", value: "b" }],
    });
  });
  it("v1alpha1 and v1beta1 config versions are accepted", () => {
    for (const v of ["kubelet.config.k8s.io/v1alpha1", "kubelet.config.k8s.io/v1beta1"]) {
      loadCredentialProviderConfig({ ...doc(P({})), apiVersion: v });
    }
  });
  it("no providers", () =>
    fails(doc(), `${V}providers: Required value: at least 1 item in plugins is required`));
  it("name rules, aggregated in order", () =>
    fails(
      doc(P({ name: "a/b c" })),
      `${V}[providers.name: Invalid value: "a/b c": provider name cannot contain '/', providers.name: Invalid value: "a/b c": provider name cannot contain spaces]`,
    ));
  it("name '.' and '..'", () => {
    fails(
      doc(P({ name: "." })),
      `${V}providers.name: Invalid value: ".": provider name cannot be '.'`,
    );
    fails(
      doc(P({ name: ".." })),
      `${V}providers.name: Invalid value: "..": provider name cannot be '..'`,
    );
  });
  it("duplicate names", () => fails(doc(P({}), P({})), `${V}providers.name: Duplicate value: "p"`));
  it("apiVersion required / allowed values", () => {
    fails(doc(P({ apiVersion: "" })), `${V}providers.apiVersion: Required value`);
    fails(
      doc(P({ apiVersion: "credentialprovider.kubelet.k8s.io/v2" })),
      `${V}providers.apiVersion: Unsupported value: "credentialprovider.kubelet.k8s.io/v2": supported values: "credentialprovider.kubelet.k8s.io/v1", "credentialprovider.kubelet.k8s.io/v1alpha1", "credentialprovider.kubelet.k8s.io/v1beta1"`,
    );
  });
  it("matchImages required and parsable", () => {
    fails(
      doc(P({ matchImages: [] })),
      `${V}providers.matchImages: Required value: at least 1 item in matchImages is required`,
    );
    fails(
      doc(P({ matchImages: ["reg.io:port"] })),
      `${V}providers.matchImages: Invalid value: "reg.io:port": match image is invalid: parse "https://reg.io:port": invalid port ":port" after host`,
    );
  });
  it("defaultCacheDuration required and non-negative", () => {
    fails(
      doc(P({ defaultCacheDuration: undefined })),
      `${V}providers.defaultCacheDuration: Required value`,
    );
    fails(
      doc(P({ defaultCacheDuration: "-90s" })),
      `${V}providers.defaultCacheDuration: Invalid value: -1m30s: must be greater than or equal to 0`,
    );
  });
  it("tokenAttributes rules", () => {
    fails(
      doc(
        P({
          apiVersion: "credentialprovider.kubelet.k8s.io/v1beta1",
          tokenAttributes: {
            requiredServiceAccountAnnotationKeys: ["a/b/c", "k"],
            optionalServiceAccountAnnotationKeys: ["k"],
            requireServiceAccount: false,
          },
        }),
      ),
      `${V}[providers.tokenAttributes.serviceAccountTokenAudience: Required value, providers.tokenAttributes: Forbidden: tokenAttributes is only supported for credentialprovider.kubelet.k8s.io/v1 API version, providers.tokenAttributes.requiredServiceAccountAnnotationKeys: Forbidden: requireServiceAccount cannot be false when requiredServiceAccountAnnotationKeys is set, providers.tokenAttributes.requiredServiceAccountAnnotationKeys: Invalid value: "a/b/c": a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName'), providers.tokenAttributes: Invalid value: []string{"k"}: annotation keys cannot be both required and optional, providers.tokenAttributes.cacheType: Required value: cacheType is required to be set when tokenAttributes is specified. Supported values are: ServiceAccount, Token]`,
    );
    fails(
      doc(
        P({
          tokenAttributes: {
            serviceAccountTokenAudience: "a",
            requireServiceAccount: true,
            cacheType: "Pod",
          },
        }),
      ),
      `${V}providers.tokenAttributes.cacheType: Unsupported value: "Pod": supported values: "ServiceAccount", "Token"`,
    );
  });

  it("decoding: kind, version, unknown fields, types", () => {
    const dec = (d: unknown, msg: string) =>
      assert.throws(() => decodeCredentialProviderConfig(d), {
        message: `error decoding credential provider config: ${msg}`,
      });
    dec(
      { ...doc(P({})), kind: "KubeletConfiguration" },
      'failed to decode "KubeletConfiguration" (wrong Kind)',
    );
    dec(
      { ...doc(P({})), apiVersion: "kubelet.config.k8s.io/v2" },
      'no kind "CredentialProviderConfig" is registered for version "kubelet.config.k8s.io/v2"',
    );
    dec(doc(P({ extra: true })), 'strict decoding error: unknown field "providers[0].extra"');
    dec(
      doc(P({ name: 1 })),
      "json: cannot unmarshal number into Go struct field CredentialProvider.providers.name of type string",
    );
    dec(
      doc(P({ defaultCacheDuration: "10 minutes" })),
      'time: unknown unit " minutes" in duration "10 minutes"',
    );
  });

  it("several documents (a config dir): duplicate names across files", () => {
    const a = decodeCredentialProviderConfig(doc(P({})));
    assert.throws(() => mergeCredentialProviderConfigs([a, a]), {
      message: 'duplicate provider name "p" found in configuration file(s)',
    });
  });
});

describe("Go helpers", () => {
  it("durations are Go's, from src/go: the int64 maximum is accepted, fractions truncate to ns", () => {
    // The old local float parser refused Go's maximum and kept 1.0000001ms as 1.0000001 ms.
    const max = loadCredentialProviderConfig({
      apiVersion: "kubelet.config.k8s.io/v1",
      kind: "CredentialProviderConfig",
      providers: [
        {
          name: "p",
          apiVersion: "credentialprovider.kubelet.k8s.io/v1",
          matchImages: ["*.example.com"],
          defaultCacheDuration: "2562047h47m16.854775807s",
        },
        {
          name: "q",
          apiVersion: "credentialprovider.kubelet.k8s.io/v1",
          matchImages: ["*.example.com"],
          defaultCacheDuration: "1.0000001ms",
        },
      ],
    });
    assert.equal(max.providers[0]?.defaultCacheDurationMs, 9_223_372_036_854.775);
    assert.equal(max.providers[1]?.defaultCacheDurationMs, 1);
  });
  it("url.Parse errors for matchImages", () => {
    assert.equal(schemelessUrlError("*.example.com"), undefined);
    assert.equal(schemelessUrlError("reg.example.com:5000/path"), undefined);
    assert.equal(
      schemelessUrlError("a b.io"),
      'parse "https://a b.io": invalid character " " in host name',
    );
    assert.equal(
      schemelessUrlError("reg.io/%zz"),
      'parse "https://reg.io/%zz": invalid URL escape "%zz"',
    );
    assert.equal(schemelessUrlError("[::1"), `parse "https://[::1": missing ']' in host`);
  });
});
