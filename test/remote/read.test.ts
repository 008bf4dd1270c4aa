// The store-less registry reads against a real Distribution registry, with crane (the Go-built
// test peer) and skopeo as oracles: kimg manifest --raw, config and ls must print what crane
// manifest, config and ls print; inspect --remote what skopeo inspect reports; tag lists and
// catalogs are read page by page through the registry's Link headers.

import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { isKimgError } from "../../src/errors.ts";
import {
  remoteCatalog,
  remoteImage,
  remoteInspect,
  remoteManifest,
  remoteReferrers,
  remoteTags,
} from "../../src/remote/index.ts";
import { makeTempDir, removeTempDir } from "../helpers/cleanup.ts";
import { forwardTo, startFaultServer } from "../helpers/fault-registry.ts";
import { putManifest, uploadBlobFile } from "../helpers/http-push.ts";
import {
  type BuiltImage,
  type BuiltIndex,
  buildImage,
  buildIndex,
  PLATFORMS,
} from "../helpers/images.ts";
import { runKimg } from "../helpers/kimg-cli.ts";
import { peerBin } from "../helpers/peers.ts";
import { type Registry, startRegistry } from "../helpers/registry.ts";
import { pushLayout } from "../helpers/skopeo.ts";

const exec = promisify(execFile);

describe("remote reads against the registry, crane and skopeo as oracles", () => {
  let reg: Registry;
  let work: string;
  let img: BuiltImage;
  let idx: BuiltIndex;
  const crane = peerBin("crane");
  const craneOut = async (...args: string[]) =>
    (await exec(crane, args, { encoding: "buffer", maxBuffer: 64 << 20 })).stdout as Buffer;
  before(async () => {
    reg = await startRegistry();
    work = makeTempDir("remote-read");
    img = await buildImage({
      dir: `${work}/one`,
      layers: [{ randomBytes: 4096 }, { randomBytes: 1024 }],
      config: { Env: ["PATH=/bin", "MODE=test"], Labels: { team: "images" }, Cmd: ["/bin/sh"] },
    });
    await pushLayout(img, "demo/one:v1", reg);
    idx = await buildIndex({
      dir: `${work}/multi`,
      images: [
        { platform: PLATFORMS.linuxAmd64, layers: [{ randomBytes: 2048 }] },
        { platform: PLATFORMS.linuxArm64, layers: [{ randomBytes: 2048 }] },
      ],
    });
    await pushLayout(idx, "demo/multi:v1", reg, { all: true });
    // 23 tags, so that pages of 5 take five requests.
    const m = await remoteManifest(`${reg.host}/demo/one:v1`);
    for (let i = 0; i < 22; i++) {
      await putManifest(
        reg,
        "demo/one",
        `t${String(i).padStart(2, "0")}`,
        m.bytes,
        m.descriptor.mediaType,
      );
    }
  });
  after(async () => {
    await reg?.stop();
    if (work !== undefined) removeTempDir(work);
  });

  it("manifest: the stored bytes, as crane manifest prints them, verified by digest", async () => {
    for (const ref of [`${reg.host}/demo/one:v1`, `${reg.host}/demo/multi:v1`]) {
      const m = await remoteManifest(ref);
      assert.deepEqual(m.bytes, await craneOut("manifest", ref));
      assert.equal(
        `sha256:${createHash("sha256").update(m.bytes).digest("hex")}`,
        m.descriptor.digest,
      );
    }
    const arm = await remoteManifest(`${reg.host}/demo/multi:v1`, { platform: "linux/arm64" });
    assert.equal(arm.document.kind, "manifest");
    assert.deepEqual(
      arm.bytes,
      await craneOut("manifest", "--platform", "linux/arm64", `${reg.host}/demo/multi:v1`),
    );
    const cli = await runKimg(["manifest", "--raw", `${reg.host}/demo/multi:v1`]);
    assert.equal(cli.code, 0, cli.stderr);
    assert.equal(
      cli.stdout,
      (await craneOut("manifest", `${reg.host}/demo/multi:v1`)).toString("utf8"),
    );
    const text = await runKimg(["manifest", `${reg.host}/demo/multi:v1`]);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /manifests\s+linux\/amd64\s+sha256:/);
    assert.match(text.stdout, /linux\/arm64\/v8\s+sha256:/);
  });

  it("config: one platform's config, as crane config prints it", async () => {
    const one = await remoteImage(`${reg.host}/demo/one:v1`);
    assert.deepEqual(one.configBytes, await craneOut("config", `${reg.host}/demo/one:v1`));
    assert.deepEqual(one.config.config?.env, ["PATH=/bin", "MODE=test"]);
    for (const p of ["linux/amd64", "linux/arm64"]) {
      const r = await remoteImage(`${reg.host}/demo/multi:v1`, { platform: p });
      assert.deepEqual(
        r.configBytes,
        await craneOut("config", "--platform", p, `${reg.host}/demo/multi:v1`),
      );
      assert.equal(`${r.config.os}/${r.config.architecture}`, p);
    }
    const cli = await runKimg(["config", "--platform", "linux/arm64", `${reg.host}/demo/multi:v1`]);
    assert.equal(cli.code, 0, cli.stderr);
    assert.equal(
      cli.stdout,
      (await craneOut("config", "--platform", "linux/arm64", `${reg.host}/demo/multi:v1`)).toString(
        "utf8",
      ),
    );
  });

  it("ls: every tag, page by page through Link headers, as crane ls lists them", async (t) => {
    // Distribution 2.8 (Debian's) lists tags in one page whatever ?n= says; this front pages
    // its real answer as Distribution 3, Harbor and Docker Hub do (?n=&last=, Link rel="next").
    const front = await startFaultServer(t);
    front.handle(async (req, res) => {
      const u = new URL(req.url ?? "/", front.url);
      if (!u.pathname.endsWith("/tags/list")) return forwardTo(reg.host, req, res);
      const all = (await (await fetch(`${reg.url}${u.pathname}`)).json()) as {
        name: string;
        tags: string[];
      };
      const n = Number(u.searchParams.get("n") ?? "5");
      const last = u.searchParams.get("last");
      all.tags.sort(); // lexical order, as the spec asks of paginated lists
      const rest = last === null ? all.tags : all.tags.filter((x) => x > last);
      const page = rest.slice(0, n);
      const headers: Record<string, string> = { "content-type": "application/json" };
      if (rest.length > n) {
        headers.link = `<${u.pathname}?n=${n}&last=${encodeURIComponent(page[page.length - 1] ?? "")}>; rel="next"`;
      }
      res.writeHead(200, headers).end(JSON.stringify({ name: all.name, tags: page }));
    });
    const r = await remoteTags(`${front.host}/demo/one`, { pageSize: 5 });
    const craneTags = (await craneOut("ls", `${front.host}/demo/one`))
      .toString("utf8")
      .trim()
      .split("\n");
    assert.deepEqual(r.tags, craneTags);
    assert.equal(r.tags.length, 23);
    const pages = front.requests.filter(
      (l) =>
        l.url.includes("/tags/list") &&
        !/crane|go-container/i.test(String(l.headers["user-agent"])),
    );
    assert.equal(pages.length, 5, pages.map((p) => p.url).join("\n"));
    const cli = await runKimg(["ls", "--full-ref", "--page-size", "7", `${front.host}/demo/one`]);
    assert.equal(cli.code, 0, cli.stderr);
    assert.deepEqual(
      cli.stdout.trim().split("\n"),
      craneTags.map((x) => `${front.host}/demo/one:${x}`),
    );
    const missing = await runKimg(["ls", `${reg.host}/demo/none`]);
    assert.equal(missing.code, 3, missing.stderr);
    assert.match(missing.stderr, /repository name not known to registry/);
    assert.equal(missing.stderr.trim().split("\n").length, 1);
    await assert.rejects(
      remoteTags(`${reg.host}/demo/none`),
      (e) => isKimgError(e) && e.code === "NAME_UNKNOWN",
    );
  });

  it("ls: a Link to another host or back to a read page is refused", async (t) => {
    const front = await startFaultServer(t);
    front.handle((req, res) => {
      const u = new URL(req.url ?? "/", front.url);
      if (u.pathname === "/v2/") return void res.writeHead(200).end("{}");
      const link = u.searchParams.has("last")
        ? `<${u.pathname}?last=a>; rel="next"`
        : `<http://203.0.113.9/v2/x/tags/list?last=a>; rel="next"`;
      res
        .writeHead(200, { "content-type": "application/json", link })
        .end(JSON.stringify({ name: "x", tags: ["a"] }));
    });
    await assert.rejects(remoteTags(`${front.host}/x`), /on another host \(203\.0\.113\.9\)/);
    await assert.rejects(
      remoteTags(`${front.host}/x`, { last: "a" }),
      /leads back to a page already read/,
    );
  });

  it("catalog: every repository, paginated, as crane catalog lists them", async () => {
    reg.resetAccessLog();
    const r = await remoteCatalog(reg.host, { pageSize: 1 });
    const pages = (await reg.settledAccessLog()).filter((l) => l.path.startsWith("/v2/_catalog"));
    assert.ok(pages.length >= 2, pages.map((p) => p.path).join("\n"));
    const craneRepos = (await craneOut("catalog", reg.host)).toString("utf8").trim().split("\n");
    assert.deepEqual(r.repositories, craneRepos);
    assert.deepEqual(r.repositories, ["demo/multi", "demo/one"]);
    const cli = await runKimg(["catalog", "--json", reg.host]);
    assert.equal(cli.code, 0, cli.stderr);
    assert.deepEqual(JSON.parse(cli.stdout).repositories, craneRepos);
  });

  it("inspect --remote: what skopeo inspect reports (digest, created, labels, env, layers, tags)", async () => {
    const ref = `${reg.host}/demo/one:v1`;
    const mine = await remoteInspect(ref, { tags: true });
    const sk = JSON.parse(
      (
        await exec("skopeo", ["inspect", "--tls-verify=false", `docker://${ref}`], {
          encoding: "utf8",
        })
      ).stdout,
    ) as {
      Digest: string;
      Labels: Record<string, string>;
      Env: string[];
      Layers: string[];
      RepoTags: string[];
      Created?: string;
      Architecture: string;
      Os: string;
    };
    assert.equal(mine.digest, sk.Digest);
    assert.deepEqual(mine.labels, sk.Labels);
    assert.deepEqual(mine.env, sk.Env);
    assert.deepEqual(
      mine.layers.map((l) => l.digest),
      sk.Layers,
    );
    assert.deepEqual(
      mine.layers.map((l) => l.size),
      img.layers.map((l) => l.size),
    );
    assert.deepEqual(mine.tags, sk.RepoTags);
    assert.equal(mine.platform, `${sk.Os}/${sk.Architecture}`);
    const multi = await remoteInspect(`${reg.host}/demo/multi:v1`, { platform: "linux/arm64" });
    assert.equal(multi.digest, idx.indexDigest);
    assert.deepEqual(
      multi.platforms?.map((p) => p.platform),
      ["linux/amd64", "linux/arm64/v8"],
    );
    assert.equal(multi.platform, "linux/arm64/v8");
    const cli = await runKimg(["inspect", "--remote", "--tags", ref]);
    assert.equal(cli.code, 0, cli.stderr);
    assert.match(cli.stdout, /labels\s+team=images/);
    assert.match(cli.stdout, /\n {2}tags +(t\d\d|v1)\n/);
  });

  it("referrers: the registry has no referrers API, so the tag schema answers", async () => {
    const subject = img.manifestDigest;
    const empty = await remoteReferrers(`${reg.host}/demo/one@${subject}`);
    assert.equal(empty.via, "tag-schema");
    assert.deepEqual(empty.index.manifests, []);
    // A referrer (an artifact manifest with a subject) and the fallback index under sha256-<hex>.
    const emptyBlob = Buffer.from("{}");
    const artifact = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: "application/vnd.oci.image.manifest.v1+json",
        artifactType: "application/vnd.example.sbom",
        config: {
          mediaType: "application/vnd.oci.empty.v1+json",
          digest: `sha256:${createHash("sha256").update(emptyBlob).digest("hex")}`,
          size: 2,
        },
        layers: [],
        subject: {
          mediaType: "application/vnd.oci.image.manifest.v1+json",
          digest: subject,
          size: img.manifestSize,
        },
      }),
    );
    const artifactDigest = `sha256:${createHash("sha256").update(artifact).digest("hex")}`;
    const fallback = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: "application/vnd.oci.image.index.v1+json",
        manifests: [
          {
            mediaType: "application/vnd.oci.image.manifest.v1+json",
            artifactType: "application/vnd.example.sbom",
            digest: artifactDigest,
            size: artifact.length,
          },
          {
            mediaType: "application/vnd.oci.image.manifest.v1+json",
            artifactType: "application/vnd.example.sig",
            digest: artifactDigest,
            size: artifact.length,
          },
        ],
      }),
    );
    const emptyPath = `${work}/empty.json`;
    writeFileSync(emptyPath, emptyBlob);
    await uploadBlobFile(
      reg,
      "demo/one",
      emptyPath,
      `sha256:${createHash("sha256").update(emptyBlob).digest("hex")}`,
    );
    await putManifest(
      reg,
      "demo/one",
      artifactDigest,
      artifact,
      "application/vnd.oci.image.manifest.v1+json",
    );
    await putManifest(
      reg,
      "demo/one",
      subject.replace(":", "-"),
      fallback,
      "application/vnd.oci.image.index.v1+json",
    );
    const all = await remoteReferrers(`${reg.host}/demo/one:v1`);
    assert.equal(all.via, "tag-schema");
    assert.equal(all.subject.digest, subject);
    assert.equal(all.index.manifests.length, 2);
    const sboms = await remoteReferrers(`${reg.host}/demo/one:v1`, {
      artifactType: "application/vnd.example.sbom",
    });
    assert.deepEqual(
      sboms.index.manifests.map((d) => d.artifactType),
      ["application/vnd.example.sbom"],
    );
    const cli = await runKimg(["referrers", `${reg.host}/demo/one:v1`]);
    assert.equal(cli.code, 0, cli.stderr);
    assert.match(cli.stdout, /referrers tag schema/);
    assert.match(cli.stdout, /application\/vnd\.example\.sig/);
  });
});

describe("remote reads with htpasswd auth", () => {
  let reg: Registry;
  let work: string;
  const user = { user: "alice", pass: "s3cret-pass" };
  before(async () => {
    reg = await startRegistry({ auth: "htpasswd", users: [user] });
    work = makeTempDir("remote-read-auth");
    const img = await buildImage({ dir: `${work}/one`, layers: [{ randomBytes: 512 }] });
    await pushLayout(img, "private/app:v1", reg, { creds: user });
  });
  after(async () => {
    await reg?.stop();
    if (work !== undefined) removeTempDir(work);
  });

  it("reads with --creds or a docker config, and says 401 without, naming no secret", async () => {
    const ok = await runKimg([
      "ls",
      "--creds",
      `${user.user}:${user.pass}`,
      `${reg.host}/private/app`,
    ]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(ok.stdout, "v1\n");
    const home = `${work}/home`;
    mkdirSync(`${home}/.docker`, { recursive: true });
    const auth = Buffer.from(`${user.user}:${user.pass}`).toString("base64");
    writeFileSync(
      `${home}/.docker/config.json`,
      JSON.stringify({ auths: { [reg.host]: { auth } } }),
    );
    const viaConfig = await runKimg(["config", `${reg.host}/private/app:v1`], {
      env: { HOME: home },
    });
    assert.equal(viaConfig.code, 0, viaConfig.stderr);
    assert.match(viaConfig.stdout, /"rootfs"/);
    const denied = await runKimg(["manifest", `${reg.host}/private/app:v1`], {
      env: { HOME: `${work}/nohome` },
    });
    assert.equal(denied.code, 4, denied.stderr);
    assert.equal(denied.stderr.trim().split("\n").length, 1);
    assert.doesNotMatch(denied.stderr, /s3cret/);
    const wrong = await runKimg(["catalog", "--creds", "alice:wrong", reg.host]);
    assert.notEqual(wrong.code, 0);
    assert.doesNotMatch(wrong.stderr, /wrong/);
  });
});
