// The OCI distribution-spec conformance suite (opencontainers/distribution-spec/conformance,
// built by scripts/build-peers.sh) against `kimg serve`, in its pull and content-discovery
// workflows, read-only: the content is preloaded (pushed to a Distribution registry, pulled
// into kimg's store) and named to the suite with OCI_RO_DATA_*. Push and the delete APIs are
// out of scope (kimg serve is read-only) and disabled.
//
// The suite prints its result table, then writes results.yaml; in read-only mode that second
// step dereferences data it never generated and panics (conformance run.go
// ReportResultsYAML indexes State.Data with the read-only entries' keys), so its exit status
// says nothing. The test reads the printed table: the overall result must be Pass with no
// FAIL or Error, and every enabled pull and discovery API must be Pass.

import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { after, before, describe, it } from "node:test";
import { killProcessGroup, makeTempDir, removeTempDir } from "../helpers/cleanup.ts";
import {
  type BuiltImage,
  type BuiltIndex,
  buildImage,
  buildIndex,
  PLATFORMS,
} from "../helpers/images.ts";
import { runKimg } from "../helpers/kimg-cli.ts";
import { type KimgServe, startKimgServe } from "../helpers/kimg-serve.ts";
import { peerBin } from "../helpers/peers.ts";
import { type Registry, startRegistry } from "../helpers/registry.ts";
import { pushLayout } from "../helpers/skopeo.ts";

describe("OCI conformance suite against kimg serve (pull, content discovery)", () => {
  let reg: Registry;
  let work: string;
  let img: BuiltImage;
  let idx: BuiltIndex;
  let serve: KimgServe;
  before(async () => {
    reg = await startRegistry();
    work = makeTempDir("conformance");
    img = await buildImage({
      dir: `${work}/img`,
      layers: [{ randomBytes: 50_000 }, { randomBytes: 300 }],
    });
    idx = await buildIndex({
      dir: `${work}/idx`,
      images: [
        { platform: PLATFORMS.linuxAmd64, layers: [{ randomBytes: 700 }] },
        { platform: PLATFORMS.linuxArm64, layers: [{ randomBytes: 700 }] },
      ],
    });
    await pushLayout(img, "conformance/repo1:v1", reg);
    await pushLayout(idx, "conformance/repo1:multi", reg, { all: true });
    for (const tag of ["v1", "multi"]) {
      const r = await runKimg([
        "pull",
        "--store",
        `${work}/store`,
        "--platform",
        "linux/amd64",
        "--progress",
        "plain",
        `${reg.host}/conformance/repo1:${tag}`,
      ]);
      assert.equal(r.code, 0, r.stderr);
    }
    serve = await startKimgServe(`${work}/store`);
  });
  after(async () => {
    if (serve !== undefined) await killProcessGroup(serve.child);
    await reg?.stop();
    if (work !== undefined) removeTempDir(work);
  });

  it("passes every enabled test of the pull and content-discovery workflows", async () => {
    const amd = idx.images.find((i) => i.platform.architecture === "amd64");
    assert.ok(amd !== undefined);
    const env = {
      ...process.env,
      OCI_REGISTRY: serve.host,
      OCI_TLS: "disabled",
      OCI_REPO1: "conformance/repo1",
      OCI_REPO2: "conformance/repo2",
      OCI_VERSION: "1.1",
      OCI_API_PULL: "true",
      OCI_API_PUSH: "false",
      OCI_API_TAGS_LIST: "true",
      OCI_API_REFERRER: "true",
      OCI_API_BLOBS_DELETE: "false",
      OCI_API_MANIFESTS_DELETE: "false",
      OCI_API_TAGS_DELETE: "false",
      OCI_RO_DATA_TAGS: "v1 multi",
      OCI_RO_DATA_MANIFESTS: [img.manifestDigest, idx.indexDigest, amd.manifestDigest].join(" "),
      OCI_RO_DATA_BLOBS: [img.configDigest, ...img.layers.map((l) => l.digest)].join(" "),
      OCI_RO_DATA_REFERRERS: img.manifestDigest,
      OCI_RESULTS_DIR: `${work}/results`,
      OCI_LOG: "warn",
    };
    const out = await new Promise<string>((resolve) => {
      execFile(
        peerBin("conformance", "conformance.test"),
        [],
        { env, cwd: work, timeout: 120_000, maxBuffer: 16 << 20, encoding: "utf8" },
        (_err, stdout, stderr) => resolve(`${stdout}\n${stderr}`),
      );
    });
    const table = out.slice(out.indexOf("OCI Conformance Result:"));
    assert.match(table, /^OCI Conformance Result: Pass$/m, out.slice(-4000));
    assert.match(table, /^ {2}FAIL\.+: +0$/m, table);
    assert.match(table, /^ {2}Error\.+: +0$/m, table);
    const pass = Number(/^ {2}Pass\.+: +(\d+)$/m.exec(table)?.[1]);
    assert.ok(pass >= 17, `only ${pass} tests passed:\n${table}`);
    for (const api of [
      "Ping",
      "Tag listing",
      "Blob get",
      "Blob head",
      "Manifest get by digest",
      "Manifest get by tag",
      "Manifest head by digest",
      "Manifest head by tag",
      "Referrers",
    ]) {
      const re = new RegExp(`^ {2}${api.replace(/ /g, " ")}\\.+: +(\\S+)$`, "m");
      assert.equal(re.exec(table)?.[1], "Pass", `${api}:\n${table}`);
    }
  });
});
