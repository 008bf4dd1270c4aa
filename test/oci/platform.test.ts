// Platforms: the tables of containerd/platforms platforms_test.go (TestParseSelector,
// TestFormatAllEncoding, TestParseSelectorInvalid, TestFormatAllSkipsEmptyOSFeatures),
// compare_test.go (TestOnly, TestOnlyStrict, TestCompareOSFeatures),
// platform_windows_compat_test.go (Test_PlatformCompat), cpuinfo_linux_test.go
// (TestGetCPUVariantFromArch) and database.go's normalization, with the host passed in where
// containerd reads runtime.GOOS / GOARCH (upstream's defaults are the test host's; here
// linux/amd64 unless a case says otherwise).

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { KimgError } from "../../src/errors.ts";
import {
  comparePlatforms,
  cpuVariantFromCpuinfo,
  cpuVariantFromMachine,
  formatPlatform,
  formatPlatformAll,
  fromNodeArch,
  fromNodePlatform,
  hostPlatform,
  isKnownArch,
  isKnownOS,
  matchPlatform,
  normalizeArch,
  normalizePlatform,
  orderedPlatformMatcher,
  type Platform,
  parsePlatform,
  platformMatcher,
  platformVector,
  windowsVersionCompatible,
} from "../../src/oci/index.ts";
import { throwsKimg } from "./helpers.ts";

const HOST: Platform = { os: "linux", architecture: "amd64" };
const parse = (s: string, host: Platform = HOST) => parsePlatform(s, { host });

interface ParseCase {
  readonly input: string;
  readonly expected: Platform;
  readonly matches?: readonly Platform[];
  readonly formatted: string;
  /** FormatAll instead of Format (upstream useV2Format). */
  readonly all?: boolean;
}

// platforms_test.go TestParseSelector, defaultOS linux, defaultArch amd64, defaultVariant "".
const PARSE_CASES: readonly ParseCase[] = [
  {
    input: "linux/arm64",
    expected: { os: "linux", architecture: "arm64" },
    matches: [
      { os: "linux", architecture: "aarch64" },
      { os: "linux", architecture: "aarch64", variant: "v8" },
      { os: "linux", architecture: "arm64", variant: "v8" },
    ],
    formatted: "linux/arm64",
  },
  {
    input: "linux/arm64/v8",
    expected: { os: "linux", architecture: "arm64", variant: "v8" },
    matches: [
      { os: "linux", architecture: "aarch64" },
      { os: "linux", architecture: "aarch64", variant: "v8" },
      { os: "linux", architecture: "arm64" },
    ],
    formatted: "linux/arm64/v8",
  },
  {
    input: "linux/arm",
    expected: { os: "linux", architecture: "arm" },
    matches: [
      { os: "linux", architecture: "arm", variant: "v7" },
      { os: "linux", architecture: "armhf" },
      { os: "linux", architecture: "arm", variant: "7" },
    ],
    formatted: "linux/arm",
  },
  {
    input: "linux/arm/v6",
    expected: { os: "linux", architecture: "arm", variant: "v6" },
    matches: [{ os: "linux", architecture: "armel" }],
    formatted: "linux/arm/v6",
  },
  {
    input: "linux/arm/v7",
    expected: { os: "linux", architecture: "arm", variant: "v7" },
    matches: [
      { os: "linux", architecture: "arm" },
      { os: "linux", architecture: "armhf" },
    ],
    formatted: "linux/arm/v7",
  },
  { input: "arm", expected: { os: "linux", architecture: "arm" }, formatted: "linux/arm" },
  {
    input: "armel",
    expected: { os: "linux", architecture: "arm", variant: "v6" },
    formatted: "linux/arm/v6",
  },
  { input: "armhf", expected: { os: "linux", architecture: "arm" }, formatted: "linux/arm" },
  { input: "Aarch64", expected: { os: "linux", architecture: "arm64" }, formatted: "linux/arm64" },
  { input: "x86_64", expected: { os: "linux", architecture: "amd64" }, formatted: "linux/amd64" },
  {
    input: "Linux/x86_64",
    expected: { os: "linux", architecture: "amd64" },
    formatted: "linux/amd64",
  },
  { input: "i386", expected: { os: "linux", architecture: "386" }, formatted: "linux/386" },
  { input: "linux", expected: { os: "linux", architecture: "amd64" }, formatted: "linux/amd64" },
  { input: "s390x", expected: { os: "linux", architecture: "s390x" }, formatted: "linux/s390x" },
  {
    input: "linux/s390x",
    expected: { os: "linux", architecture: "s390x" },
    formatted: "linux/s390x",
  },
  { input: "macOS", expected: { os: "darwin", architecture: "amd64" }, formatted: "darwin/amd64" },
  {
    input: "windows",
    expected: { os: "windows", architecture: "amd64" },
    formatted: "windows/amd64",
  },
  {
    input: "windows()",
    expected: { os: "windows", architecture: "amd64" },
    formatted: "windows/amd64",
    all: true,
  },
  {
    input: "windows(10.0.17763)",
    expected: { os: "windows", architecture: "amd64", osVersion: "10.0.17763" },
    formatted: "windows(10.0.17763)/amd64",
    all: true,
  },
  {
    input: "windows(10.0.17763+win32k)",
    expected: {
      os: "windows",
      architecture: "amd64",
      osVersion: "10.0.17763",
      osFeatures: ["win32k"],
    },
    formatted: "windows(10.0.17763+win32k)/amd64",
    all: true,
  },
  {
    input: "linux(+gpu)",
    expected: { os: "linux", architecture: "amd64", osFeatures: ["gpu"] },
    formatted: "linux(+gpu)/amd64",
    all: true,
  },
  {
    input: "linux(+gpu+simd)",
    expected: { os: "linux", architecture: "amd64", osFeatures: ["gpu", "simd"] },
    formatted: "linux(+gpu+simd)/amd64",
    all: true,
  },
  {
    // Parse keeps the order; FormatAll sorts.
    input: "linux(+unsorted+erofs)",
    expected: { os: "linux", architecture: "amd64", osFeatures: ["unsorted", "erofs"] },
    formatted: "linux(+erofs+unsorted)/amd64",
    all: true,
  },
  {
    input: "windows(10.0.17763%2Bbuild.42)",
    expected: { os: "windows", architecture: "amd64", osVersion: "10.0.17763+build.42" },
    formatted: "windows(10.0.17763%2Bbuild.42)/amd64",
    all: true,
  },
  {
    input: "windows(10.0.17763%2Bbuild.42+win32k)",
    expected: {
      os: "windows",
      architecture: "amd64",
      osVersion: "10.0.17763+build.42",
      osFeatures: ["win32k"],
    },
    formatted: "windows(10.0.17763%2Bbuild.42+win32k)/amd64",
    all: true,
  },
  {
    input: "windows(50%25done)",
    expected: { os: "windows", architecture: "amd64", osVersion: "50%done" },
    formatted: "windows(50%25done)/amd64",
    all: true,
  },
];

describe("parsePlatform: platforms_test.go TestParseSelector", () => {
  for (const c of PARSE_CASES) {
    it(c.input, () => {
      const p = parse(c.input);
      assert.deepEqual(p, c.expected);
      // NewMatcher(p) is Ordered(p): the platform itself, normalized.
      const m = orderedPlatformMatcher([p]);
      assert.ok(m.match(c.expected), `${c.input} matches its own result`);
      for (const mc of c.matches ?? []) {
        assert.ok(m.match(mc), `${c.input} matches ${JSON.stringify(mc)}`);
      }
      const format = c.all === true ? formatPlatformAll : formatPlatform;
      assert.equal(format(p), c.formatted);
      // Re-parse the formatted output: stable.
      assert.equal(format(parse(c.formatted)), c.formatted);
    });
  }

  it("an OS-only specifier takes the host's architecture and its arm variant unless v7", () => {
    const armv6 = { os: "linux", architecture: "arm", variant: "v6" };
    const armv7 = { os: "linux", architecture: "arm", variant: "v7" };
    const arm64 = { os: "linux", architecture: "arm64", variant: "v8" };
    assert.deepEqual(parse("linux", armv6), { os: "linux", architecture: "arm", variant: "v6" });
    assert.deepEqual(parse("linux", armv7), { os: "linux", architecture: "arm" });
    // Only arm gets the variant (platforms.go case 1), not arm64.
    assert.deepEqual(parse("windows", arm64), { os: "windows", architecture: "arm64" });
  });

  it("an architecture-only specifier takes the host's OS", () => {
    assert.deepEqual(parse("arm64", { os: "darwin", architecture: "arm64" }), {
      os: "darwin",
      architecture: "arm64",
    });
  });

  it("an OS-only or architecture-only specifier without a host is refused", () => {
    throwsKimg(() => parsePlatform("linux"), "INVALID_PLATFORM", /needs the host platform/);
    throwsKimg(() => parsePlatform("arm64"), "INVALID_PLATFORM", /needs the host platform/);
    // Fully specified ones need no host.
    assert.deepEqual(parsePlatform("windows/amd64"), { os: "windows", architecture: "amd64" });
  });

  it("normalizes variants of a three-part specifier, and gives arm64 an explicit v8", () => {
    assert.deepEqual(parse("linux/amd64/v1"), { os: "linux", architecture: "amd64" });
    assert.deepEqual(parse("linux/amd64/v3"), {
      os: "linux",
      architecture: "amd64",
      variant: "v3",
    });
    assert.deepEqual(parse("linux/aarch64/8"), {
      os: "linux",
      architecture: "arm64",
      variant: "v8",
    });
    assert.deepEqual(parse("linux/arm64/9.0"), {
      os: "linux",
      architecture: "arm64",
      variant: "v9",
    });
    assert.deepEqual(parse("linux/arm/5"), { os: "linux", architecture: "arm", variant: "v5" });
    assert.deepEqual(parse("linux/i386/whatever"), { os: "linux", architecture: "386" });
  });
});

describe("formatPlatformAll: platforms_test.go TestFormatAllEncoding", () => {
  const cases: readonly [Platform, string][] = [
    [
      { os: "windows", osVersion: "10.0.17763+build.42", architecture: "amd64" },
      "windows(10.0.17763%2Bbuild.42)/amd64",
    ],
    [
      {
        os: "windows",
        osVersion: "10.0.17763+build.42",
        osFeatures: ["win32k"],
        architecture: "amd64",
      },
      "windows(10.0.17763%2Bbuild.42+win32k)/amd64",
    ],
    [{ os: "windows", osVersion: "50%done", architecture: "amd64" }, "windows(50%25done)/amd64"],
    [
      { os: "windows", osVersion: "1.0(beta)", architecture: "amd64" },
      "windows(1.0%28beta%29)/amd64",
    ],
    [{ os: "windows", osVersion: "a/b", architecture: "amd64" }, "windows(a%2Fb)/amd64"],
    [
      { os: "windows", osVersion: "10.0.17763", architecture: "amd64" },
      "windows(10.0.17763)/amd64",
    ],
    [{ os: "linux", osFeatures: ["feat+v2"], architecture: "amd64" }, "linux(+feat%2Bv2)/amd64"],
    [{ os: "linux", osFeatures: ["100%gpu"], architecture: "amd64" }, "linux(+100%25gpu)/amd64"],
    [
      { os: "windows", osVersion: "10.0+build", osFeatures: ["feat+1"], architecture: "amd64" },
      "windows(10.0%2Bbuild+feat%2B1)/amd64",
    ],
  ];
  for (const [platform, expected] of cases) {
    it(expected, () => {
      assert.equal(formatPlatformAll(platform), expected);
      const reparsed = parse(expected);
      assert.equal(reparsed.osVersion, platform.osVersion);
      assert.deepEqual(reparsed.osFeatures, platform.osFeatures);
    });
  }

  it("skips empty and duplicate features (TestFormatAllSkipsEmptyOSFeatures)", () => {
    const p = { os: "linux", architecture: "amd64", osFeatures: ["", "gpu", "", "simd", "gpu"] };
    assert.equal(formatPlatformAll(p), "linux(+gpu+simd)/amd64");
  });

  it("formatPlatform leaves out os.version and features; no OS prints unknown", () => {
    assert.equal(
      formatPlatform({ os: "windows", architecture: "amd64", osVersion: "10.0.17763" }),
      "windows/amd64",
    );
    assert.equal(formatPlatform({ os: "", architecture: "amd64" }), "unknown");
    assert.equal(formatPlatformAll({ os: "", architecture: "amd64" }), "unknown");
  });

  it("cleans the joined path as Go's path.Join does", () => {
    assert.equal(formatPlatform({ os: "linux", architecture: "", variant: "v7" }), "linux/v7");
    assert.equal(formatPlatform({ os: "linux", architecture: "..", variant: "x" }), "x");
    assert.equal(formatPlatform({ os: "linux", architecture: "." }), "linux");
  });
});

describe("parsePlatform: invalid specifiers (TestParseSelectorInvalid)", () => {
  const OS_RE = String.raw`"^([A-Za-z0-9_-]+)(?:\\(([A-Za-z0-9_.%-]*)((?:\\+[A-Za-z0-9_.%-]+)*)\\))?$"`;
  const cases: readonly [string, string][] = [
    [
      "",
      `"" is an invalid OS component of "": OSAndVersion specifier component must match ${OS_RE}: invalid argument`,
    ],
    [
      "/linux/arm",
      `"" is an invalid OS component of "/linux/arm": OSAndVersion specifier component must match ${OS_RE}: invalid argument`,
    ],
    [
      "linux/arm/",
      `"" is an invalid component of "linux/arm/": platform specifier component must match "^[A-Za-z0-9_.-]+$": invalid argument`,
    ],
    [
      "linux /arm",
      `"linux " is an invalid OS component of "linux /arm": OSAndVersion specifier component must match ${OS_RE}: invalid argument`,
    ],
    [
      "linux/&arm",
      `"&arm" is an invalid component of "linux/&arm": platform specifier component must match "^[A-Za-z0-9_.-]+$": invalid argument`,
    ],
    ["linux/arm/foo/bar", `"linux/arm/foo/bar": cannot parse platform specifier: invalid argument`],
    ["*", `"*": wildcards not yet supported: invalid argument`],
    ["linux/*", `"linux/*": wildcards not yet supported: invalid argument`],
    ["foo", `"foo": unknown operating system or architecture: invalid argument`],
    [
      "windows(%zz)/amd64",
      `"windows(%zz)/amd64" has an invalid OS version "%zz": invalid URL escape "%zz"`,
    ],
    [
      "linux(+a%2)/amd64",
      `"linux(+a%2)/amd64" has invalid OS features: invalid os feature "a%2": invalid URL escape "%2"`,
    ],
  ];
  for (const [input, message] of cases) {
    it(JSON.stringify(input), () => {
      throwsKimg(() => parse(input), "INVALID_PLATFORM", message);
    });
  }

  it("a fifth component stays in the fourth (SplitN 4), which then fails the component check", () => {
    throwsKimg(
      () => parse("linux/arm/v7/x/y"),
      "INVALID_PLATFORM",
      `"x/y" is an invalid component of "linux/arm/v7/x/y": platform specifier component must match "^[A-Za-z0-9_.-]+$": invalid argument`,
    );
  });
});

describe("parsePlatform and formatPlatformAll round-trip (FuzzPlatformsParse)", () => {
  it("parse either throws INVALID_PLATFORM or gives a platform that formats and re-parses to itself", () => {
    const chars = fc.constantFrom(..."linuxwindowsarm64amd6/v7()+%._-2B*LX ".split(""));
    fc.assert(
      fc.property(fc.array(chars, { maxLength: 24 }), (cs) => {
        const s = cs.join("");
        let p: Platform;
        try {
          p = parse(s);
        } catch (e) {
          assert.ok(e instanceof KimgError && e.code === "INVALID_PLATFORM", String(e));
          return;
        }
        // Go's path.Join cleans "." and ".." away, so "l/." formats as "l", which no longer
        // parses: containerd has the same quirk (its fuzz test only checks errors).
        const dots = [p.architecture, p.variant].some((x) => x === "." || x === "..");
        if (dots) return;
        const once = formatPlatformAll(p);
        assert.equal(formatPlatformAll(parse(once)), once, `${s} → ${once}`);
      }),
      { numRuns: 3000 },
    );
  });
});

describe("normalizePlatform (database.go normalizeOS, normalizeArch; Normalize)", () => {
  // registry.md §4.1, checked against database.go.
  const arch: readonly [string, string, string, string][] = [
    ["x86_64", "", "amd64", ""],
    ["x86-64", "", "amd64", ""],
    ["amd64", "v1", "amd64", ""],
    ["AMD64", "V2", "amd64", "v2"],
    ["i386", "v9", "386", ""],
    ["aarch64", "", "arm64", ""],
    ["arm64", "8", "arm64", ""],
    ["arm64", "v8", "arm64", ""],
    ["arm64", "v8.0", "arm64", ""],
    ["arm64", "v8.2", "arm64", "v8.2"],
    ["arm64", "9", "arm64", "v9"],
    ["arm64", "9.0", "arm64", "v9"],
    ["arm64", "v9.0", "arm64", "v9"],
    ["armhf", "", "arm", "v7"],
    ["armhf", "v6", "arm", "v7"],
    ["armel", "", "arm", "v6"],
    ["arm", "", "arm", "v7"],
    ["arm", "7", "arm", "v7"],
    ["arm", "5", "arm", "v5"],
    ["arm", "6", "arm", "v6"],
    ["arm", "8", "arm", "v8"],
    ["arm", "v4", "arm", "v4"],
    ["ppc64le", "", "ppc64le", ""],
  ];
  for (const [a, v, na, nv] of arch) {
    it(`${a}/${v || '""'} → ${na}/${nv || '""'}`, () => {
      assert.deepEqual(normalizeArch(a, v), { architecture: na, variant: nv });
    });
  }

  it("lower-cases the OS, maps macos to darwin, fills an empty OS from the host", () => {
    assert.equal(normalizePlatform({ os: "Linux", architecture: "amd64" }).os, "linux");
    assert.equal(normalizePlatform({ os: "MacOS", architecture: "arm64" }).os, "darwin");
    assert.equal(normalizePlatform({ os: "", architecture: "amd64" }).os, "");
    assert.equal(
      normalizePlatform({ os: "", architecture: "amd64" }, { hostOS: "linux" }).os,
      "linux",
    );
  });

  it("sorts and de-duplicates os.features, keeps os.version, drops default variants", () => {
    assert.deepEqual(
      normalizePlatform({
        os: "windows",
        architecture: "x86_64",
        variant: "v1",
        osVersion: "10.0.20348.1",
        osFeatures: ["win32k", "b", "win32k", "a"],
      }),
      {
        os: "windows",
        architecture: "amd64",
        osVersion: "10.0.20348.1",
        osFeatures: ["a", "b", "win32k"],
      },
    );
  });

  it("knows Go's operating systems and architectures (syslist.go)", () => {
    assert.ok(isKnownOS("linux") && isKnownOS("windows") && isKnownOS("zos"));
    assert.ok(!isKnownOS("macos") && !isKnownOS("Linux"));
    assert.ok(isKnownArch("riscv64") && isKnownArch("loong64") && isKnownArch("wasm"));
    assert.ok(!isKnownArch("x86_64") && !isKnownArch("aarch64"));
  });
});

// compare_test.go TestOnly: which platforms Only(p) matches.
const ONLY: readonly [string, readonly string[], readonly string[]][] = [
  [
    "linux/amd64",
    ["linux/amd64", "linux/386"],
    ["linux/amd64/v2", "linux/arm/v7", "linux/arm64", "windows/amd64", "windows/arm"],
  ],
  [
    "linux/amd64/v2",
    ["linux/amd64", "linux/amd64/v1", "linux/amd64/v2", "linux/386"],
    [
      "linux/amd64/v3",
      "linux/amd64/v4",
      "linux/arm/v7",
      "linux/arm64",
      "windows/amd64",
      "windows/arm",
    ],
  ],
  [
    "linux/386",
    ["linux/386"],
    ["linux/amd64", "linux/arm/v7", "linux/arm64", "windows/amd64", "windows/arm"],
  ],
  [
    "windows/amd64",
    ["windows/amd64", "windows(10.0.17763)/amd64"],
    ["linux/amd64", "linux/arm/v7", "linux/arm64", "windows/arm"],
  ],
  [
    "linux/arm/v8",
    ["linux/arm", "linux/arm/v5", "linux/arm/v6", "linux/arm/v7", "linux/arm/v8"],
    ["linux/amd64", "linux/arm/v4", "linux/arm64", "windows/amd64", "windows/arm"],
  ],
  [
    "linux/arm/v7",
    ["linux/arm", "linux/arm/v5", "linux/arm/v6", "linux/arm/v7"],
    ["linux/amd64", "linux/arm/v4", "linux/arm/v8", "linux/arm64", "windows/amd64", "windows/arm"],
  ],
  [
    "linux/arm/v6",
    ["linux/arm/v5", "linux/arm/v6"],
    [
      "linux/amd64",
      "linux/arm",
      "linux/arm/v4",
      "linux/arm/v7",
      "linux/arm/v8",
      "linux/arm64",
      "windows/amd64",
      "windows/arm",
    ],
  ],
  [
    "linux/arm/v5",
    ["linux/arm/v5"],
    [
      "linux/amd64",
      "linux/arm",
      "linux/arm/v4",
      "linux/arm/v6",
      "linux/arm/v7",
      "linux/arm/v8",
      "linux/arm64",
      "windows/amd64",
      "windows/arm",
    ],
  ],
  [
    "linux/arm/v4",
    ["linux/arm/v4"],
    [
      "linux/amd64",
      "linux/arm",
      "linux/arm/v5",
      "linux/arm/v6",
      "linux/arm/v7",
      "linux/arm/v8",
      "linux/arm64",
      "windows/amd64",
      "windows/arm",
    ],
  ],
  [
    "linux/arm64/v9.6",
    [
      "linux/arm",
      "linux/arm/v5",
      "linux/arm/v6",
      "linux/arm/v7",
      "linux/arm/v8",
      "linux/arm64",
      "linux/arm64/v8",
      "linux/arm64/v8.1",
      "linux/arm64/v8.2",
      "linux/arm64/v8.3",
      "linux/arm64/v8.4",
      "linux/arm64/v8.5",
      "linux/arm64/v8.6",
      "linux/arm64/v8.7",
      "linux/arm64/v8.8",
      "linux/arm64/v8.9",
      "linux/arm64/v9",
      "linux/arm64/v9.0",
      "linux/arm64/v9.1",
      "linux/arm64/v9.2",
      "linux/arm64/v9.3",
      "linux/arm64/v9.4",
      "linux/arm64/v9.5",
      "linux/arm64/v9.6",
    ],
    ["linux/amd64", "linux/arm/v4", "windows/amd64", "windows/arm", "linux/arm64/v8.10"],
  ],
  [
    "linux/arm64/v9",
    [
      "linux/arm",
      "linux/arm/v5",
      "linux/arm/v6",
      "linux/arm/v7",
      "linux/arm/v8",
      "linux/arm64",
      "linux/arm64/v8",
      "linux/arm64/v8.1",
      "linux/arm64/v8.2",
      "linux/arm64/v8.3",
      "linux/arm64/v8.4",
      "linux/arm64/v8.5",
      "linux/arm64/v9",
      "linux/arm64/v9.0",
    ],
    ["linux/amd64", "linux/arm/v4", "windows/amd64", "windows/arm", "linux/arm64/v8.6"],
  ],
  [
    "linux/arm64/v8.1",
    [
      "linux/arm",
      "linux/arm/v5",
      "linux/arm/v6",
      "linux/arm/v7",
      "linux/arm/v8",
      "linux/arm64",
      "linux/arm64/v8",
      "linux/arm64/v8.1",
    ],
    [
      "linux/amd64",
      "linux/arm/v4",
      "linux/arm/v9",
      "linux/arm64/v9",
      "windows/amd64",
      "windows/arm",
    ],
  ],
  [
    "linux/arm64",
    [
      "linux/arm",
      "linux/arm/v5",
      "linux/arm/v6",
      "linux/arm/v7",
      "linux/arm/v8",
      "linux/arm64",
      "linux/arm64/v8",
    ],
    [
      "linux/amd64",
      "linux/arm/v4",
      "linux/arm/v9",
      "linux/arm64/v9",
      "windows/amd64",
      "windows/arm",
    ],
  ],
];

// compare_test.go TestOnlyStrict.
const ONLY_STRICT: readonly [string, readonly string[], readonly string[]][] = [
  [
    "linux/amd64",
    ["linux/amd64"],
    ["linux/386", "linux/arm/v7", "linux/arm64", "windows/amd64", "windows/arm"],
  ],
  [
    "linux/386",
    ["linux/386"],
    ["linux/amd64", "linux/arm/v7", "linux/arm64", "windows/amd64", "windows/arm"],
  ],
  [
    "windows/amd64",
    ["windows/amd64", "windows(10.0.17763)/amd64"],
    ["linux/amd64", "linux/arm/v7", "linux/arm64", "windows/arm"],
  ],
  [
    "windows(10.0.17763)/amd64",
    ["windows/amd64", "windows(10.0.17763)/amd64"],
    ["linux/amd64", "linux/arm/v7", "linux/arm64", "windows/arm"],
  ],
  [
    "linux/arm/v8",
    ["linux/arm/v8"],
    [
      "linux/arm",
      "linux/arm/v5",
      "linux/arm/v6",
      "linux/arm/v7",
      "linux/amd64",
      "linux/arm/v4",
      "linux/arm64",
      "windows/amd64",
      "windows/arm",
    ],
  ],
  [
    "linux/arm/v7",
    ["linux/arm", "linux/arm/v7"],
    [
      "linux/arm/v5",
      "linux/arm/v6",
      "linux/amd64",
      "linux/arm/v4",
      "linux/arm/v8",
      "linux/arm64",
      "windows/amd64",
      "windows/arm",
    ],
  ],
  [
    "linux/arm64/v9.5",
    ["linux/arm64/v9.5"],
    [
      "linux/arm",
      "linux/arm/v5",
      "linux/arm/v8",
      "linux/amd64",
      "linux/arm64/v8",
      "linux/arm64/v8.1",
      "linux/arm64/v9",
      "linux/arm64/v9.1",
      "linux/arm64/v9.4",
      "windows/amd64",
    ],
  ],
  [
    "linux/arm64/v9",
    ["linux/arm64/v9", "linux/arm64/v9.0"],
    ["linux/arm", "linux/arm/v8", "linux/arm/v9", "linux/arm64/v8", "linux/arm64/v8.1"],
  ],
  [
    "linux/arm64/v8.1",
    ["linux/arm64/v8.1"],
    ["linux/arm", "linux/arm/v8", "linux/arm/v9", "linux/arm64/v8", "linux/arm64/v9"],
  ],
  [
    "linux/arm64",
    ["linux/arm64", "linux/arm64/v8"],
    ["linux/arm", "linux/arm/v5", "linux/arm/v8", "linux/amd64", "linux/arm/v9", "linux/arm64/v9"],
  ],
];

describe("matchPlatform: compare_test.go TestOnly", () => {
  for (const [wanted, yes, no] of ONLY) {
    it(wanted, () => {
      const w = parse(wanted);
      for (const c of yes) assert.ok(matchPlatform(w, parse(c)), `Only(${wanted}) matches ${c}`);
      for (const c of no) assert.ok(!matchPlatform(w, parse(c)), `Only(${wanted}) rejects ${c}`);
    });
  }
});

describe("matchPlatform strict: compare_test.go TestOnlyStrict", () => {
  for (const [wanted, yes, no] of ONLY_STRICT) {
    it(wanted, () => {
      const m = platformMatcher(parse(wanted), { strict: true });
      for (const c of yes) assert.ok(m.match(parse(c)), `OnlyStrict(${wanted}) matches ${c}`);
      for (const c of no) assert.ok(!m.match(parse(c)), `OnlyStrict(${wanted}) rejects ${c}`);
    });
  }
});

describe("comparePlatforms: compare_test.go TestCompareOSFeatures", () => {
  const cases: readonly [string, readonly string[], readonly string[]][] = [
    [
      "linux/amd64",
      ["windows/amd64", "linux/amd64", "linux(+other)/amd64", "linux/arm64"],
      ["linux/amd64", "linux(+other)/amd64", "windows/amd64", "linux/arm64"],
    ],
    [
      "linux(+none)/amd64",
      ["windows/amd64", "linux/amd64", "linux/arm64", "linux(+other)/amd64"],
      ["linux/amd64", "linux(+other)/amd64", "windows/amd64", "linux/arm64"],
    ],
    [
      "linux(+other)/amd64",
      ["windows/amd64", "linux/amd64", "linux/arm64", "linux(+other)/amd64"],
      ["linux(+other)/amd64", "linux/amd64", "windows/amd64", "linux/arm64"],
    ],
    [
      "linux(+af+other+zf)/amd64",
      ["windows/amd64", "linux/amd64", "linux/arm64", "linux(+other)/amd64"],
      ["linux(+other)/amd64", "linux/amd64", "windows/amd64", "linux/arm64"],
    ],
    [
      "linux(+f1+f2)/amd64",
      ["linux/amd64", "linux(+f2)/amd64", "linux(+f1)/amd64", "linux(+f1+f2)/amd64"],
      ["linux(+f1+f2)/amd64", "linux(+f2)/amd64", "linux(+f1)/amd64", "linux/amd64"],
    ],
    [
      // Upstream: "should likely fail and be updated when os version is considered for linux".
      "linux(7.2+other)/amd64",
      ["linux/amd64", "linux(+other)/amd64", "linux(7.1)/amd64", "linux(7.2+other)/amd64"],
      ["linux(+other)/amd64", "linux(7.2+other)/amd64", "linux/amd64", "linux(7.1)/amd64"],
    ],
  ];
  for (const [wanted, input, expected] of cases) {
    for (const strict of [false, true]) {
      it(`${wanted}${strict ? " (strict)" : ""}`, () => {
        const w = parse(wanted);
        const sorted = input
          .map((s) => parse(s))
          .sort((a, b) => comparePlatforms(w, a, b, { strict }))
          .map(formatPlatformAll);
        assert.deepEqual(sorted, expected);
      });
    }
  }

  it("ranks the wanted platform before what it can also run (vector order)", () => {
    const w = parse("linux/arm64");
    const sorted = ["linux/arm/v5", "linux/arm/v7", "linux/arm64/v8", "linux/arm/v6", "linux/amd64"]
      .map((s) => parse(s))
      .sort((a, b) => comparePlatforms(w, a, b))
      .map(formatPlatform);
    assert.deepEqual(sorted, [
      "linux/arm64/v8",
      "linux/arm/v7",
      "linux/arm/v6",
      "linux/arm/v5",
      "linux/amd64",
    ]);
  });
});

describe("platformVector (compare.go)", () => {
  const fmt = (s: string) => platformVector(normalizePlatform(parse(s))).map(formatPlatform);

  it("amd64/vN: vN…v1, then 386", () => {
    assert.deepEqual(fmt("linux/amd64/v4"), [
      "linux/amd64/v4",
      "linux/amd64/v3",
      "linux/amd64/v2",
      "linux/amd64/v1",
      "linux/386",
    ]);
    assert.deepEqual(fmt("linux/amd64"), ["linux/amd64", "linux/386"]);
  });

  it("arm/vN: vN…v5", () => {
    assert.deepEqual(fmt("linux/arm"), ["linux/arm/v7", "linux/arm/v6", "linux/arm/v5"]);
    assert.deepEqual(fmt("linux/arm/v4"), ["linux/arm/v4"]);
  });

  it("arm64 (v8 by default): v8, then arm/v8…v5", () => {
    assert.deepEqual(fmt("linux/arm64"), [
      "linux/arm64/v8",
      "linux/arm/v8",
      "linux/arm/v7",
      "linux/arm/v6",
      "linux/arm/v5",
    ]);
  });

  it("arm64/v9.2: v9.2…v9, v8.7…v8, then arm/v8…v5", () => {
    assert.deepEqual(fmt("linux/arm64/v9.2"), [
      "linux/arm64/v9.2",
      "linux/arm64/v9.1",
      "linux/arm64/v9",
      "linux/arm64/v8.7",
      "linux/arm64/v8.6",
      "linux/arm64/v8.5",
      "linux/arm64/v8.4",
      "linux/arm64/v8.3",
      "linux/arm64/v8.2",
      "linux/arm64/v8.1",
      "linux/arm64/v8",
      "linux/arm/v8",
      "linux/arm/v7",
      "linux/arm/v6",
      "linux/arm/v5",
    ]);
  });

  it("an arm64 variant containerd does not know gives an empty vector: nothing matches", () => {
    assert.deepEqual(fmt("linux/arm64/v10"), []);
    assert.ok(!matchPlatform(parse("linux/arm64/v10"), parse("linux/arm64/v10")));
  });

  it("caps absurd amd64 versions instead of looping ~forever", () => {
    const v = platformVector({
      os: "linux",
      architecture: "amd64",
      variant: "v9223372036854775807",
    });
    assert.equal(v.length, 1 + 128 + 1);
    assert.equal(formatPlatform(v[v.length - 1] ?? HOST), "linux/386");
  });

  it("keeps os.version and os.features on every entry", () => {
    const v = platformVector({
      os: "windows",
      architecture: "amd64",
      variant: "v2",
      osVersion: "10.0.1.2",
      osFeatures: ["x"],
    });
    assert.deepEqual(
      v.map((p) => [p.osVersion, p.osFeatures]),
      [
        ["10.0.1.2", ["x"]],
        ["10.0.1.2", ["x"]],
        ["10.0.1.2", ["x"]],
      ],
    );
  });
});

describe("Windows os.version (platform_windows_compat_test.go Test_PlatformCompat)", () => {
  const LTSC2019 = 17763;
  const LTSC2022 = 20348;
  const WIN11_22H2 = 22621;
  const V23H2 = 25398;
  const LTSC2025 = 26100;
  const cases: readonly [number, number, boolean][] = [
    [LTSC2019, LTSC2019, true],
    [LTSC2019, LTSC2022, false],
    [LTSC2022, LTSC2019, false],
    [LTSC2022, LTSC2022, true],
    [WIN11_22H2, LTSC2019, false],
    [WIN11_22H2, LTSC2022, true],
    [V23H2, LTSC2019, false],
    [V23H2, LTSC2022, true],
    [LTSC2025, LTSC2022, true],
    [LTSC2022, LTSC2025, false],
    [LTSC2022, WIN11_22H2, false],
    [LTSC2025, WIN11_22H2, true],
  ];
  for (const [host, ctr, ok] of cases) {
    it(`host ${host} ${ok ? "runs" : "does not run"} ${ctr}`, () => {
      assert.equal(windowsVersionCompatible(`10.0.${host}`, `10.0.${ctr}.1`), ok);
    });
  }

  it("an empty or unparsable version on either side is compatible", () => {
    assert.ok(windowsVersionCompatible("", "10.0.17763"));
    assert.ok(windowsVersionCompatible("10.0", "10.0.17763"));
    assert.ok(windowsVersionCompatible("10.0.99999", "10.0.17763")); // build > uint16
    assert.ok(windowsVersionCompatible("10.0.17763", ""));
    assert.ok(!windowsVersionCompatible("10.0.17763", "6.3.17763"));
  });

  it("a Windows host matches images by build (matcher), and ignores win32k", () => {
    const host = parse("windows(10.0.20348)/amd64");
    const img = (v: string, f?: string) =>
      ({
        os: "windows",
        architecture: "amd64",
        osVersion: v,
        ...(f ? { osFeatures: [f] } : {}),
      }) as Platform;
    assert.ok(matchPlatform(host, img("10.0.20348.3091")));
    assert.ok(!matchPlatform(host, img("10.0.17763.1234")));
    assert.ok(!matchPlatform(host, img("10.0.26100.2894")));
    assert.ok(matchPlatform(host, img("10.0.20348.3091", "win32k")));
    // Other features are still required to be a subset of the wanted ones.
    assert.ok(!matchPlatform(host, img("10.0.20348.3091", "gpu")));
    // Not Windows: win32k is a feature like any other.
    assert.ok(
      !matchPlatform(parse("linux/amd64"), {
        os: "linux",
        architecture: "amd64",
        osFeatures: ["win32k"],
      }),
    );
  });
});

describe("the host platform (defaults_unix.go, cpuinfo*.go)", () => {
  it("hostPlatform maps Node's names and keeps a variant only on arm and arm64", () => {
    assert.deepEqual(hostPlatform({ os: "linux", architecture: "x64", variant: "v3" }), {
      os: "linux",
      architecture: "amd64",
    });
    assert.deepEqual(hostPlatform({ os: "linux", architecture: "arm64", variant: "v8" }), {
      os: "linux",
      architecture: "arm64",
      variant: "v8",
    });
    assert.deepEqual(hostPlatform({ os: "win32", architecture: "ia32" }), {
      os: "windows",
      architecture: "386",
    });
    assert.deepEqual(hostPlatform({ os: "linux", architecture: "ppc64", endianness: "LE" }), {
      os: "linux",
      architecture: "ppc64le",
    });
  });

  it("fromNodeArch / fromNodePlatform", () => {
    const arch: readonly [string, string][] = [
      ["x64", "amd64"],
      ["ia32", "386"],
      ["arm", "arm"],
      ["arm64", "arm64"],
      ["mipsel", "mipsle"],
      ["s390x", "s390x"],
      ["riscv64", "riscv64"],
      ["loong64", "loong64"],
      ["ppc64", "ppc64"],
      ["amd64", "amd64"],
    ];
    for (const [node, go] of arch) assert.equal(fromNodeArch(node), go, node);
    assert.equal(fromNodeArch("ppc64", "LE"), "ppc64le");
    assert.equal(fromNodePlatform("win32"), "windows");
    assert.equal(fromNodePlatform("sunos"), "solaris");
    assert.equal(fromNodePlatform("linux"), "linux");
    assert.equal(fromNodePlatform("darwin"), "darwin");
  });

  it("an arm64 host prefers arm64, then 32-bit arm v8…v5 (Default = Only(DefaultSpec))", () => {
    const host = hostPlatform({ os: "linux", architecture: "arm64", variant: "v8" });
    assert.ok(matchPlatform(host, { os: "linux", architecture: "arm64" }));
    assert.ok(matchPlatform(host, { os: "linux", architecture: "arm", variant: "v7" }));
    assert.ok(!matchPlatform(host, { os: "linux", architecture: "amd64" }));
  });

  // cpuinfo_linux_test.go TestGetCPUVariantFromArch
  const machines: readonly [string, string | undefined][] = [
    ["aarch64", "8"],
    ["Armv8", "8"],
    ["armv7", "7"],
    ["armv7l", "7"],
    ["armv6", "6"],
    ["armv5", "5"],
    ["armv4", "4"],
    ["armv3", "3"],
    ["armv9", "unknown"],
    ["armxxxx", undefined],
    ["armv", undefined],
    ["x", undefined],
  ];
  for (const [m, v] of machines) {
    it(`cpuVariantFromMachine(${m}) = ${v}`, () => {
      assert.equal(cpuVariantFromMachine(m), v);
    });
  }

  const RPI_ZERO = [
    "processor\t: 0",
    "model name\t: ARMv6-compatible processor rev 7 (v6l)",
    "BogoMIPS\t: 697.95",
    "Features\t: half thumb fastmult vfp edsp java tls",
    "CPU implementer\t: 0x41",
    "CPU architecture: 7",
    "CPU variant\t: 0x0",
  ].join("\n");
  const RPI4_64 =
    "processor\t: 0\nBogoMIPS\t: 108.00\nCPU implementer\t: 0x41\nCPU architecture: 8\n";
  const ARMV7 = "processor\t: 0\nmodel name\t: ARMv7 Processor rev 4 (v7l)\nCPU architecture: 7\n";

  it("cpuVariantFromCpuinfo reads CPU architecture, with the Raspberry Pi ARMv6 quirk", () => {
    assert.equal(cpuVariantFromCpuinfo({ architecture: "arm", cpuinfo: RPI_ZERO }), "v6");
    // The quirk applies on 32-bit arm only.
    assert.equal(cpuVariantFromCpuinfo({ architecture: "arm64", cpuinfo: RPI_ZERO }), "v7");
    assert.equal(cpuVariantFromCpuinfo({ architecture: "arm", cpuinfo: ARMV7 }), "v7");
    assert.equal(cpuVariantFromCpuinfo({ architecture: "arm64", cpuinfo: RPI4_64 }), "v8");
    assert.equal(
      cpuVariantFromCpuinfo({ architecture: "arm", cpuinfo: "CPU architecture: 5TEJ\n" }),
      "v5",
    );
    assert.equal(
      cpuVariantFromCpuinfo({ architecture: "arm", cpuinfo: "CPU architecture: 9\n" }),
      "unknown",
    );
  });

  it("falls back to the machine name only when cpuinfo lacks the field", () => {
    assert.equal(
      cpuVariantFromCpuinfo({ architecture: "arm", cpuinfo: "processor: 0\n", machine: "armv7l" }),
      "v7",
    );
    assert.equal(cpuVariantFromCpuinfo({ architecture: "arm", cpuinfo: "processor: 0\n" }), "");
    // Unreadable cpuinfo: containerd gives up ("").
    assert.equal(cpuVariantFromCpuinfo({ architecture: "arm", machine: "armv7l" }), "");
  });

  it("has no variant off arm, and fixed ones on darwin, windows and freebsd", () => {
    assert.equal(cpuVariantFromCpuinfo({ architecture: "x64", cpuinfo: ARMV7 }), "");
    assert.equal(cpuVariantFromCpuinfo({ architecture: "arm64", os: "darwin" }), "v8");
    assert.equal(cpuVariantFromCpuinfo({ architecture: "arm", os: "win32" }), "v7");
    assert.equal(cpuVariantFromCpuinfo({ architecture: "arm", os: "freebsd" }), "unknown");
    assert.equal(cpuVariantFromCpuinfo({ architecture: "arm64", os: "openbsd" }), "");
  });
});
