// kimg pin against a real Distribution registry: only the image values change (comments,
// anchors, flow style, quoting and JSON kept byte for byte), one HEAD per distinct image
// (counted in the registry's access log), moved tags caught by --check and re-pinned by
// --update, private images resolved with the Secret the Pod names in the same file, and bad
// input reported as file:line with a distinct exit code and nothing half-written.

import assert from "node:assert/strict";
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import { loadManifests } from "../../src/manifest/index.ts";
import { pinManifests } from "../../src/pin/index.ts";
import { makeTempDir, removeTempDir } from "../helpers/cleanup.ts";
import { type BuiltImage, buildImage, buildIndex, PLATFORMS } from "../helpers/images.ts";
import { runKimg } from "../helpers/kimg-cli.ts";
import { type Registry, startRegistry } from "../helpers/registry.ts";
import { pushLayout } from "../helpers/skopeo.ts";

const DIGEST_SUFFIX = /@sha256:[0-9a-f]{64}/g;

function realistic(host: string): string {
  return `# Rendered by helm: chart shop-1.2.3
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web   # the storefront
  namespace: shop
spec:
  template:
    spec:
      initContainers:
        - name: migrate
          image: &app "${host}/shop/app:1.0"   # anchored, double-quoted
      containers:
        - name: app
          image: *app
        - {name: sidecar, image: '${host}/shop/side:v2', imagePullPolicy: IfNotPresent}
        - name: tagless
          image: ${host}/shop/side
          # comment between keys
          ports: [{containerPort: 80}]
---
apiVersion: v1
kind: List
items:
  - apiVersion: batch/v1
    kind: CronJob
    metadata: {name: nightly}
    spec:
      schedule: "0 3 * * *"
      jobTemplate:
        spec:
          template:
            spec:
              containers:
                - name: job
                  image: >-
                    ${host}/shop/app:1.0
                - name: latest
                  image: ${host}/shop/side:latest
`;
}

describe("kimg pin against the registry", () => {
  let reg: Registry;
  let work: string;
  let app: BuiltImage;
  let side: BuiltImage;
  let multiDigest: string;
  before(async () => {
    reg = await startRegistry();
    work = makeTempDir("pin");
    app = await buildImage({ dir: `${work}/app`, layers: [{ randomBytes: 1024 }] });
    side = await buildImage({ dir: `${work}/side`, layers: [{ randomBytes: 512 }] });
    await pushLayout(app, "shop/app:1.0", reg);
    for (const t of ["v2", "latest"]) await pushLayout(side, `shop/side:${t}`, reg);
    const idx = await buildIndex({
      dir: `${work}/multi`,
      images: [
        { platform: PLATFORMS.linuxAmd64, layers: [{ randomBytes: 256 }] },
        { platform: PLATFORMS.linuxArm64, layers: [{ randomBytes: 256 }] },
      ],
    });
    await pushLayout(idx, "shop/multi:3", reg, { all: true });
    multiDigest = idx.indexDigest;
  });
  after(async () => {
    await reg?.stop();
    if (work !== undefined) removeTempDir(work);
  });

  it("changes only the image values, keeping every other byte", async () => {
    const text = realistic(reg.host).replace(
      /image: >-\n\s+\S+\n/,
      `image: ${reg.host}/shop/app:1.0\n`,
    );
    const file = loadManifests(text, "shop.yaml");
    reg.resetAccessLog();
    const r = await pinManifests([file]);
    const out = r.files[0]?.text ?? "";
    assert.equal(out.replace(DIGEST_SUFFIX, ""), text, "removing the digests gives the input back");
    assert.match(
      out,
      new RegExp(`image: &app "${reg.host}/shop/app:1.0@${app.manifestDigest}"   # anchored`),
    );
    assert.match(out, /image: \*app\n/, "the alias is untouched; its anchor was pinned");
    assert.match(
      out,
      new RegExp(`image: '${reg.host}/shop/side:v2@${side.manifestDigest}', imagePullPolicy`),
    );
    assert.match(out, new RegExp(`image: ${reg.host}/shop/side@${side.manifestDigest}\n`));
    // Three distinct images (app:1.0, side:v2, and side = side:latest): three HEADs, nothing else.
    const manifests = (await reg.settledAccessLog()).filter((l) => l.path.includes("/manifests/"));
    assert.deepEqual(
      manifests.map((l) => l.method),
      ["HEAD", "HEAD", "HEAD"],
    );
    assert.equal(r.resolutions, 3);
    const byName = new Map(r.sites.map((s) => [s.container, s]));
    assert.equal(byName.get("tagless")?.policy.before, "Always");
    assert.equal(byName.get("tagless")?.policy.after, "IfNotPresent");
    assert.equal(byName.get("latest")?.policy.after, "Always", ":latest@sha256 stays Always");
    assert.equal(byName.get("app")?.policy.changed, false);
    assert.equal(byName.get("sidecar")?.policy.after, "IfNotPresent");
  });

  it("resolves each distinct image once across 300 containers", async () => {
    const docs = Array.from({ length: 300 }, (_, i) => {
      const image = [
        `${reg.host}/shop/app:1.0`,
        `${reg.host}/shop/side:v2`,
        `${reg.host}/shop/multi:3`,
      ][i % 3];
      return `apiVersion: v1\nkind: Pod\nmetadata: {name: p${i}}\nspec:\n  containers:\n  - name: c\n    image: ${image}\n`;
    });
    writeFileSync(`${work}/many.yaml`, docs.join("---\n"));
    reg.resetAccessLog();
    const cli = await runKimg(["pin", "--json", `${work}/many.yaml`]);
    assert.equal(cli.code, 0, cli.stderr);
    const manifests = (await reg.settledAccessLog()).filter((l) => l.path.includes("/manifests/"));
    assert.equal(manifests.length, 3, manifests.map((l) => `${l.method} ${l.path}`).join("\n"));
    const j = JSON.parse(cli.stdout) as { resolutions: number; summary: { pinned: number } };
    assert.equal(j.resolutions, 3);
    assert.equal(j.summary.pinned, 300);
    const { spawnSync } = await import("node:child_process");
    const { KIMG_BIN } = await import("../helpers/kimg-cli.ts");
    const piped = spawnSync(process.execPath, [KIMG_BIN, "pin", "-"], {
      input: docs[0],
      encoding: "utf8",
      env: { ...process.env, CONTAINERS_REGISTRIES_CONF: "/dev/null" },
    });
    assert.equal(piped.status, 0, piped.stderr);
    assert.equal(
      piped.stdout,
      docs[0]?.replace(
        `${reg.host}/shop/app:1.0`,
        `${reg.host}/shop/app:1.0@${app.manifestDigest}`,
      ),
    );
    assert.match(piped.stderr, /^<stdin>:7: Pod default\/p0 c: /m);
    assert.equal((await runKimg(["pin", "-w", "-"])).code, 2, "-w cannot write standard input");
    const printed = await runKimg(["pin", `${work}/many.yaml`]);
    assert.equal(printed.code, 0, printed.stderr);
    assert.match(
      printed.stdout,
      new RegExp(`shop/multi:3@${multiDigest}`),
      "an index is pinned by the index digest",
    );
  });

  it("-w writes in place keeping the mode, --check passes, then catches a moved tag; --update re-pins", async () => {
    const dir = `${work}/repo`;
    mkdirSync(`${dir}/deploy`, { recursive: true });
    const json = JSON.stringify(
      {
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name: "j" },
        spec: { containers: [{ name: "c", image: `${reg.host}/shop/moving:1` }] },
      },
      null,
      2,
    );
    await pushLayout(app, "shop/moving:1", reg);
    writeFileSync(`${dir}/deploy/pod.json`, `${json}\n`);
    writeFileSync(`${dir}/deploy/README.md`, "not a manifest\n");
    chmodSync(`${dir}/deploy/pod.json`, 0o640);
    const before = await runKimg(["pin", "--check", dir]);
    assert.equal(before.code, 1, before.stderr);
    assert.match(before.stderr, /pod\.json:\d+: Pod default\/j c: .* is not pinned/);
    const diff = await runKimg(["pin", "--diff", dir]);
    assert.equal(diff.code, 0, diff.stderr);
    assert.match(diff.stdout, /^--- a\//m);
    assert.match(
      diff.stdout,
      new RegExp(`^\\+ +"image": "${reg.host}/shop/moving:1@${app.manifestDigest}"`, "m"),
    );
    const w = await runKimg(["pin", "-w", dir]);
    assert.equal(w.code, 0, w.stderr);
    const written = readFileSync(`${dir}/deploy/pod.json`, "utf8");
    assert.equal(written, `${json.replace("moving:1", `moving:1@${app.manifestDigest}`)}\n`);
    JSON.parse(written);
    assert.equal(statSync(`${dir}/deploy/pod.json`).mode & 0o777, 0o640);
    assert.equal((await runKimg(["pin", "--check", dir])).code, 0);
    await pushLayout(side, "shop/moving:1", reg); // the tag moves
    const moved = await runKimg(["pin", "--check", dir]);
    assert.equal(moved.code, 1);
    assert.match(
      moved.stderr,
      new RegExp(`the tag now names ${side.manifestDigest}, not the pinned ${app.manifestDigest}`),
    );
    const kept = await runKimg(["pin", "-w", dir]);
    assert.equal(kept.code, 0, kept.stderr);
    assert.ok(
      readFileSync(`${dir}/deploy/pod.json`, "utf8").includes(app.manifestDigest),
      "no --update: the pin stays",
    );
    const upd = await runKimg(["pin", "-w", "--update", dir]);
    assert.equal(upd.code, 0, upd.stderr);
    assert.ok(readFileSync(`${dir}/deploy/pod.json`, "utf8").includes(side.manifestDigest));
    assert.equal((await runKimg(["pin", "--check", dir])).code, 0);
  });

  it("reports an unknown image and a block scalar at file:line, pins the rest, writes nothing on a YAML error", async () => {
    writeFileSync(
      `${work}/mixed.yaml`,
      realistic(reg.host).replace("shop/side:v2", "shop/nope:v9"),
    );
    const r = await runKimg(["pin", `${work}/mixed.yaml`]);
    assert.equal(r.code, 3, r.stderr);
    assert.match(
      r.stderr,
      /mixed\.yaml:17: Deployment shop\/web sidecar: .*shop\/nope:v9: manifest unknown/,
    );
    assert.match(r.stderr, /mixed\.yaml:37: CronJob default\/nightly job: .*block scalar/);
    assert.match(
      r.stdout,
      new RegExp(`shop/app:1.0@${app.manifestDigest}`),
      "the other images are still pinned",
    );
    const ff = await runKimg(["pin", "--fail-fast", `${work}/mixed.yaml`]);
    assert.equal(ff.code, 3);
    assert.equal(ff.stdout, "");
    assert.equal(ff.stderr.trim().split("\n").length, 1, ff.stderr);
    const good = `${work}/good.yaml`;
    const goodText = `apiVersion: v1\nkind: Pod\nmetadata: {name: g}\nspec:\n  containers:\n  - name: c\n    image: ${reg.host}/shop/app:1.0\n`;
    writeFileSync(good, goodText);
    writeFileSync(`${work}/broken.yaml`, "apiVersion: v1\nkind: Pod\nspec: {containers: [\n");
    const broken = await runKimg(["pin", "-w", good, `${work}/broken.yaml`]);
    assert.equal(broken.code, 2, broken.stderr);
    assert.match(broken.stderr, /broken\.yaml:\d+/);
    assert.equal(broken.stderr.trim().split("\n").length, 1, broken.stderr);
    assert.equal(
      readFileSync(good, "utf8"),
      goodText,
      "nothing written when an input cannot be read",
    );
    writeFileSync(
      `${work}/two.yaml`,
      `${goodText}---\n${goodText.replace(`${reg.host}/shop/app:1.0`, "quay.io/shop/app:1.0")}`,
    );
    const two = await runKimg(["pin", "--creds", "a:b", `${work}/two.yaml`]);
    assert.equal(two.code, 2, two.stderr);
    assert.match(
      two.stderr,
      /--creds: the images come from 2 registries \(127\.0\.0\.1:\d+, quay\.io\)/,
    );
  });
});

describe("kimg pin with a private registry", () => {
  let reg: Registry;
  let work: string;
  let img: BuiltImage;
  const user = { user: "shop", pass: "pin-secret-9" };
  before(async () => {
    reg = await startRegistry({ auth: "htpasswd", users: [user] });
    work = makeTempDir("pin-private");
    img = await buildImage({ dir: `${work}/img`, layers: [{ randomBytes: 256 }] });
    await pushLayout(img, "private/app:2", reg, { creds: user });
  });
  after(async () => {
    await reg?.stop();
    if (work !== undefined) removeTempDir(work);
  });

  const secret = (host: string, pass: string) => {
    const auth = Buffer.from(`${user.user}:${pass}`).toString("base64");
    const cfg = Buffer.from(JSON.stringify({ auths: { [host]: { auth } } })).toString("base64");
    return `apiVersion: v1\nkind: Secret\nmetadata: {name: regcred, namespace: shop}\ntype: kubernetes.io/dockerconfigjson\ndata:\n  .dockerconfigjson: ${cfg}\n`;
  };
  const pod = (host: string, secrets: boolean) =>
    `apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: shop}\nspec:\n${secrets ? "  imagePullSecrets: [{name: regcred}]\n" : ""}  containers:\n  - name: c\n    image: ${host}/private/app:2\n`;

  it("uses the Secret the Pod names in the same file, and says which credential failed", async () => {
    writeFileSync(`${work}/ok.yaml`, `${secret(reg.host, user.pass)}---\n${pod(reg.host, true)}`);
    const ok = await runKimg(["pin", `${work}/ok.yaml`], { env: { HOME: `${work}/home` } });
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, new RegExp(`private/app:2@${img.manifestDigest}`));
    writeFileSync(
      `${work}/unnamed.yaml`,
      `${secret(reg.host, user.pass)}---\n${pod(reg.host, false)}`,
    );
    const unnamed = await runKimg(["pin", `${work}/unnamed.yaml`], {
      env: { HOME: `${work}/home` },
    });
    assert.equal(unnamed.code, 4, "a Secret the Pod does not name is not used");
    assert.match(unnamed.stderr, /unnamed\.yaml:\d+: Pod shop\/p c: .*pull access denied/);
    writeFileSync(
      `${work}/wrong.yaml`,
      `${secret(reg.host, "wrong-pass")}---\n${pod(reg.host, true)}`,
    );
    const wrong = await runKimg(["pin", `${work}/wrong.yaml`], { env: { HOME: `${work}/home` } });
    assert.equal(wrong.code, 4, wrong.stderr);
    assert.match(
      wrong.stderr,
      /wrong\.yaml:\d+: .*authentication failed: the registry refused the credentials from secret shop\/regcred/,
    );
    assert.doesNotMatch(wrong.stderr, /wrong-pass|pin-secret/);
  });
});
