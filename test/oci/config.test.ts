// parseImageConfig, configPlatform and checkLayersMatchConfig: image-spec
// schema/config_test.go-style cases, a Docker config, and containerd's unpacker rule
// "number of layers and diffIDs don't match".

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  checkLayersMatchConfig,
  configPlatform,
  MAX_CONFIG_BYTES,
  parseImageConfig,
  parseManifest,
} from "../../src/oci/index.ts";
import {
  D1,
  D2,
  D3,
  D4,
  DOCKER_CONFIG,
  json,
  OCI_CONFIG,
  ociManifest,
  throwsKimg,
} from "./helpers.ts";

/** The image-spec config.md example. */
const EXAMPLE = {
  created: "2015-10-31T22:22:56.015925234Z",
  author: "Alyssa P. Hacker <alyspdev@example.com>",
  architecture: "amd64",
  os: "linux",
  config: {
    User: "alice",
    ExposedPorts: { "8080/tcp": {} },
    Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "FOO=oci_is_a"],
    Entrypoint: ["/bin/my-app-binary"],
    Cmd: ["--foreground", "--config", "/etc/my-app.d/default.cfg"],
    Volumes: { "/var/job-result-data": {}, "/var/log/my-app-logs": {} },
    WorkingDir: "/home/alice",
    Labels: { "com.example.project.git.url": "https://example.com/project.git" },
  },
  rootfs: { diff_ids: [D2, D3], type: "layers" },
  history: [
    {
      created: "2015-10-31T22:22:54.690851953Z",
      created_by:
        "/bin/sh -c #(nop) ADD file:a3bc1e842b69636f9df5256c49c5374fb4eef1e281fe3f282c65fb853ee171c5 in /",
    },
    {
      created: "2015-10-31T22:22:55.613815829Z",
      created_by: '/bin/sh -c #(nop) CMD ["sh"]',
      empty_layer: true,
    },
    { created: "2015-10-31T22:22:56.329850019Z", created_by: "/bin/sh -c apk add curl" },
  ],
};

const withConfig = (patch: Record<string, unknown>) => json({ ...EXAMPLE, ...patch });

describe("parseImageConfig", () => {
  it("reads the image-spec example", () => {
    const c = parseImageConfig(json(EXAMPLE), { mediaType: OCI_CONFIG });
    assert.equal(c.architecture, "amd64");
    assert.equal(c.os, "linux");
    assert.equal(c.created, "2015-10-31T22:22:56.015925234Z");
    assert.deepEqual(c.rootfs, { type: "layers", diffIds: [D2, D3] });
    assert.deepEqual(c.config?.exposedPorts, ["8080/tcp"]);
    assert.deepEqual(c.config?.volumes, ["/var/job-result-data", "/var/log/my-app-logs"]);
    assert.deepEqual(c.config?.entrypoint, ["/bin/my-app-binary"]);
    assert.equal(c.config?.workingDir, "/home/alice");
    assert.equal(c.history?.length, 3);
    assert.equal(c.history?.[1]?.emptyLayer, true);
    assert.equal(c.history?.[0]?.emptyLayer, undefined);
  });

  it("reads a Docker config with its extra fields", () => {
    const docker = {
      architecture: "arm64",
      variant: "v8",
      os: "linux",
      container: "abc",
      container_config: { Hostname: "abc", Cmd: null },
      docker_version: "24.0.7",
      config: {
        Env: ["A=b"],
        Cmd: null,
        Entrypoint: null,
        Labels: null,
        Volumes: null,
        OnBuild: null,
      },
      rootfs: { type: "layers", diff_ids: [D1] },
    };
    const c = parseImageConfig(json(docker), { mediaType: DOCKER_CONFIG });
    assert.equal(c.variant, "v8");
    assert.deepEqual(c.config, { env: ["A=b"] });
  });

  it("refuses a media type that is not an image config (artifacts are not parsed)", () => {
    throwsKimg(
      () => parseImageConfig(json(EXAMPLE), { mediaType: "application/vnd.example.config+json" }),
      "UNSUPPORTED_MEDIA_TYPE",
      'not an image config: media type "application/vnd.example.config+json" (an artifact\'s config is not parsed)',
    );
  });

  const bad: readonly [string, string, string][] = [
    [
      "architecture missing",
      json({ ...EXAMPLE, architecture: undefined }),
      "config.architecture: required",
    ],
    ["os missing", json({ ...EXAMPLE, os: undefined }), "config.os: required"],
    ["os a number", withConfig({ os: 1 }), "config.os: expected a string, got number"],
    ["rootfs missing", json({ ...EXAMPLE, rootfs: undefined }), "config.rootfs: required"],
    [
      "rootfs.type not layers",
      withConfig({ rootfs: { type: "foo", diff_ids: [] } }),
      'config.rootfs.type: expected "layers", got "foo"',
    ],
    [
      "rootfs.type missing",
      withConfig({ rootfs: { diff_ids: [] } }),
      "config.rootfs.type: required",
    ],
    [
      "rootfs.diff_ids missing",
      withConfig({ rootfs: { type: "layers" } }),
      "config.rootfs.diff_ids: required",
    ],
    [
      "a diff_id that is not a digest",
      withConfig({ rootfs: { type: "layers", diff_ids: [D1, "sha256:xyz"] } }),
      'config.rootfs.diff_ids[1]: invalid checksum digest length: "sha256:xyz"',
    ],
    [
      "a diff_id that is a number",
      withConfig({ rootfs: { type: "layers", diff_ids: [5] } }),
      "config.rootfs.diff_ids[0]: expected a string, got number",
    ],
    [
      "Env not an array",
      withConfig({ config: { Env: "A=b" } }),
      "config.config.Env: expected an array, got string",
    ],
    [
      "Cmd with a number",
      withConfig({ config: { Cmd: ["a", 1] } }),
      "config.config.Cmd[1]: expected a string, got number",
    ],
    [
      "ExposedPorts with a string value",
      withConfig({ config: { ExposedPorts: { "80/tcp": "" } } }),
      'config.config.ExposedPorts["80/tcp"]: expected an object, got string',
    ],
    [
      "Labels with a number",
      withConfig({ config: { Labels: { a: 1 } } }),
      'config.config.Labels["a"]: expected a string, got number',
    ],
    [
      "history not an array",
      withConfig({ history: {} }),
      "config.history: expected an array, got object",
    ],
    [
      "history entry not an object",
      withConfig({ history: ["x"] }),
      "config.history[0]: expected an object, got string",
    ],
    [
      "empty_layer a string",
      withConfig({ history: [{ empty_layer: "true" }] }),
      "config.history[0].empty_layer: expected a boolean, got string",
    ],
    [
      "a case-twin of rootfs",
      withConfig({ RootFS: {} }),
      'config: field "RootFS" differs from "rootfs" only in case (Go decoders read it as "rootfs")',
    ],
    [
      "a case-twin of diff_ids",
      withConfig({ rootfs: { type: "layers", diff_ids: [], DIFF_IDS: [D1] } }),
      'config.rootfs: field "DIFF_IDS" differs from "diff_ids" only in case (Go decoders read it as "diff_ids")',
    ],
    ["not an object", "[]", "config: expected a JSON object, got array"],
  ];
  for (const [name, input, message] of bad) {
    it(name, () => {
      throwsKimg(() => parseImageConfig(input), "INVALID_CONFIG", message);
    });
  }

  it("prefixes messages with the config's digest", () => {
    throwsKimg(
      () => parseImageConfig("[]", { digest: D4 }),
      "INVALID_CONFIG",
      `${D4}: config: expected a JSON object, got array`,
    );
  });

  it("caps the size at MAX_CONFIG_BYTES (4 MiB) or the given cap", () => {
    assert.equal(MAX_CONFIG_BYTES, 4 * 1024 * 1024);
    const text = json(EXAMPLE);
    throwsKimg(
      () => parseImageConfig(text, { maxBytes: 100 }),
      "MANIFEST_TOO_LARGE",
      `rejecting ${text.length} byte config: larger than the 100 byte limit`,
    );
    throwsKimg(() => parseImageConfig(text + " ".repeat(MAX_CONFIG_BYTES)), "MANIFEST_TOO_LARGE");
  });
});

describe("configPlatform (containerd ConfigPlatform)", () => {
  it("is the config's platform, normalized", () => {
    const c = parseImageConfig(withConfig({ architecture: "aarch64", variant: "v8", os: "Linux" }));
    assert.deepEqual(configPlatform(c), { os: "linux", architecture: "arm64" });
    const w = parseImageConfig(
      withConfig({ os: "windows", "os.version": "10.0.20348.3091", "os.features": ["win32k"] }),
    );
    assert.deepEqual(configPlatform(w), {
      os: "windows",
      architecture: "amd64",
      osVersion: "10.0.20348.3091",
      osFeatures: ["win32k"],
    });
  });
});

describe("checkLayersMatchConfig", () => {
  const manifest = parseManifest(json(ociManifest()));

  it("pairs layers with diff_ids in order", () => {
    const config = parseImageConfig(
      withConfig({ rootfs: { type: "layers", diff_ids: [D1, D3, D4] } }),
    );
    const pairs = checkLayersMatchConfig(manifest, config);
    assert.deepEqual(
      pairs.map((p) => [p.layer.digest, p.diffId]),
      [
        [D2, D1],
        [D3, D3],
        [D4, D4],
      ],
    );
  });

  it("throws containerd's message when the counts differ", () => {
    const config = parseImageConfig(json(EXAMPLE));
    throwsKimg(
      () => checkLayersMatchConfig(manifest, config),
      "LAYER_COUNT_MISMATCH",
      "number of layers and diffIDs don't match: 3 != 2",
    );
  });

  it("does not count entries that are not layers (containerd IsLayerType)", () => {
    const m = parseManifest(
      json(
        ociManifest({
          layers: [
            { mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", size: 1, digest: D2 },
            { mediaType: "application/vnd.example.sbom+json", size: 1, digest: D3 },
            { mediaType: "application/vnd.docker.image.rootfs.diff.tar.gzip", size: 1, digest: D4 },
          ],
        }),
      ),
    );
    const pairs = checkLayersMatchConfig(m, parseImageConfig(json(EXAMPLE)));
    assert.deepEqual(
      pairs.map((p) => p.layer.digest),
      [D2, D4],
    );
  });
});
