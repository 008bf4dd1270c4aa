// kimg export (issue 10 items 6, 7), the built binary on images pulled from a real Distribution
// registry: an OCI image, a Docker-format image, and a three-platform index pulled for one
// platform. Each is exported in every format and read back by the real tools: skopeo (oci:,
// oci-archive:, docker-archive:), podman load, and `ctr images import` into a real containerd
// (1.6, Debian's) started for the test. Digests are kept: the imported image has the registry's
// manifest digest. umoci reads the OCI image's layout.

import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import {
  killProcessGroup,
  makeTempDir,
  removeTempDir,
  trackProcessGroup,
} from "../helpers/cleanup.ts";
import { requireBinary, run } from "../helpers/exec.ts";
import { pushLayoutHttp } from "../helpers/http-push.ts";
import {
  type BuiltImage,
  type BuiltIndex,
  buildImage,
  buildIndex,
  PLATFORMS,
} from "../helpers/images.ts";
import { runKimg } from "../helpers/kimg-cli.ts";
import { type Registry, startRegistry } from "../helpers/registry.ts";
import { pushLayout } from "../helpers/skopeo.ts";
import { waitFor } from "../helpers/wait.ts";

describe("kimg export", { timeout: 300_000 }, () => {
  let reg: Registry;
  let oci: BuiltImage;
  let docker: BuiltImage;
  let multi: BuiltIndex;
  let work = "";
  let store = "";
  let containerd: ChildProcess | undefined;
  let sock = "";
  const refs: Record<string, string> = {};
  const shortDirs: string[] = [];

  before(async () => {
    work = makeTempDir("kimg-export-");
    store = join(work, "store");
    reg = await startRegistry();
    oci = await buildImage({
      layers: [{ randomBytes: 5000 }, { randomBytes: 700, path: "b" }],
      seed: "export-oci",
    });
    docker = await buildImage({
      layers: [{ randomBytes: 4000 }],
      seed: "export-docker",
      format: "docker",
    });
    multi = await buildIndex({
      images: [
        { platform: PLATFORMS.linuxAmd64, layers: [{ randomBytes: 3000 }] },
        { platform: PLATFORMS.linuxArm64, layers: [{ randomBytes: 3100 }] },
        { platform: PLATFORMS.linuxS390x, layers: [{ randomBytes: 3200 }] },
      ],
      seed: "export-multi",
    });
    await pushLayout(oci, "exp/oci:v1", reg);
    await pushLayoutHttp(docker, "exp/docker:v1", reg); // skopeo cannot read Docker layouts
    await pushLayout(multi, "exp/multi:v1", reg, { all: true });
    refs.oci = `${reg.host}/exp/oci:v1`;
    refs.docker = `${reg.host}/exp/docker:v1`;
    refs.multi = `${reg.host}/exp/multi:v1`;
    for (const [k, r] of Object.entries(refs)) {
      const args = [
        "pull",
        r,
        "--store",
        store,
        ...(k === "multi" ? ["--platform", "linux/arm64"] : []),
      ];
      const p = await runKimg(args);
      assert.equal(p.code, 0, p.stderr);
    }
    // A real containerd on its own socket, root and state.
    const dir = join(work, "containerd");
    sock = join(dir, "c.sock");
    const config = join(work, "containerd.toml");
    writeFileSync(
      config,
      `version = 2\nroot = "${dir}/root"\nstate = "${dir}/state"\ndisabled_plugins = ["io.containerd.grpc.v1.cri"]\n[grpc]\n  address = "${sock}"\n`,
    );
    containerd = spawn(requireBinary("containerd"), ["--config", config], {
      detached: true,
      stdio: "ignore",
    });
    trackProcessGroup(containerd);
    await waitFor(() => existsSync(sock), 15_000);
    assert.ok(existsSync(sock), "containerd is serving");
  });
  after(async () => {
    if (containerd !== undefined) await killProcessGroup(containerd);
    await reg?.stop();
    for (const d of [oci?.layoutDir, docker?.layoutDir, multi?.layoutDir, work])
      if (d) removeTempDir(d);
    for (const d of shortDirs) rmSync(d, { recursive: true, force: true });
  });

  const manifestOf = (k: string): string =>
    k === "oci"
      ? oci.manifestDigest
      : k === "docker"
        ? docker.manifestDigest
        : (multi.images[1]?.manifestDigest ?? "");

  it("docker: the layout formats refuse a Docker-format image, saying why and what to use", async () => {
    for (const format of ["oci-layout", "oci-archive"]) {
      const out = join(work, `docker-${format}`);
      const r = await runKimg([
        "export",
        refs.docker ?? "",
        "--format",
        format,
        "-o",
        out,
        "--store",
        store,
      ]);
      assert.equal(r.code, 2, r.stderr);
      assert.match(
        r.stderr,
        /is a Docker-format image .*use --format docker-archive, which keeps its digests\n$/,
      );
      assert.equal(existsSync(out), false);
    }
  });

  for (const k of ["oci", "docker", "multi"]) {
    if (k !== "docker")
      it(`${k}: oci-layout is read by skopeo${k === "oci" ? " and umoci" : ""}`, async () => {
        const out = join(work, `${k}-layout`);
        const r = await runKimg([
          "export",
          refs[k] ?? "",
          "--format",
          "oci-layout",
          "-o",
          out,
          "--store",
          store,
        ]);
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stdout, /^Exported .* as oci-layout to /);
        const s = JSON.parse((await run("skopeo", ["inspect", "--raw", `oci:${out}:v1`])).stdout);
        assert.ok(s.layers.length >= 1);
        const copied = join(work, `${k}-copy`);
        await run("skopeo", ["copy", "--preserve-digests", `oci:${out}:v1`, `dir:${copied}`]);
        if (k === "oci") {
          const bundle = join(work, "umoci-bundle");
          await run("umoci", ["unpack", "--rootless", "--image", `${out}:v1`, bundle]);
          assert.ok(existsSync(join(bundle, "rootfs", "b")));
        }
      });

    it(`${k}: ${k === "docker" ? "docker-archive loads" : "oci-archive and docker-archive load"} into skopeo, podman and ctr with the registry's digest`, async () => {
      for (const format of k === "docker"
        ? ["docker-archive"]
        : ["oci-archive", "docker-archive"]) {
        const file = join(work, `${k}.${format}.tar`);
        const r = await runKimg([
          "export",
          refs[k] ?? "",
          "--format",
          format,
          "-o",
          file,
          "--store",
          store,
        ]);
        assert.equal(r.code, 0, r.stderr);
        const transport =
          format === "oci-archive" ? `oci-archive:${file}` : `docker-archive:${file}`;
        const ins = JSON.parse((await run("skopeo", ["inspect", transport])).stdout);
        assert.equal(ins.Architecture, k === "multi" ? "arm64" : "amd64");
        const pod = join(work, `podman-${k}-${format}`);
        // podman refuses a runroot longer than 50 characters.
        const runroot = mkdtempSync("/tmp/kp-");
        shortDirs.push(runroot);
        const loaded = await run("podman", [
          "--root",
          join(pod, "root"),
          "--runroot",
          runroot,
          "--storage-driver",
          "vfs",
          "load",
          "-i",
          file,
        ]);
        assert.match(loaded.stdout + loaded.stderr, /Loaded image/);
        const name = `kimg.test/${k}-${format}:v1`;
        await run("ctr", [
          "-a",
          sock,
          "-n",
          `kimg-${k}-${format}`,
          "images",
          "import",
          "--base-name",
          name.split(":")[0] ?? "",
          "--digests",
          file,
        ]);
        const ls = await run("ctr", ["-a", sock, "-n", `kimg-${k}-${format}`, "images", "ls"]);
        assert.ok(ls.stdout.includes(manifestOf(k)), ls.stdout);
        const check = await run("ctr", [
          "-a",
          sock,
          "-n",
          `kimg-${k}-${format}`,
          "images",
          "check",
        ]);
        assert.doesNotMatch(check.stdout, /incomplete|missing/, check.stdout);
      }
    });
  }

  it("bad input: unknown format exit 2, an existing non-empty output exit 2, an absent image exit 3", async () => {
    const bad = await runKimg([
      "export",
      refs.oci ?? "",
      "--format",
      "zip",
      "-o",
      join(work, "x"),
      "--store",
      store,
    ]);
    assert.equal(bad.code, 2);
    assert.equal(
      bad.stderr,
      'kimg: --format: "zip" is not one of oci-layout, oci-archive, docker-archive\n',
    );
    const full = join(work, "full");
    await run("mkdir", ["-p", join(full, "x")]);
    const exists = await runKimg([
      "export",
      refs.oci ?? "",
      "--format",
      "oci-layout",
      "-o",
      full,
      "--store",
      store,
    ]);
    assert.equal(exists.code, 2, exists.stderr);
    assert.match(exists.stderr, /exists and is not an empty directory/);
    const absent = await runKimg([
      "export",
      "nope:1",
      "--format",
      "oci-archive",
      "-o",
      join(work, "n.tar"),
      "--store",
      store,
    ]);
    assert.equal(absent.code, 3);
    assert.equal(existsSync(join(work, "n.tar")), false);
  });
});
