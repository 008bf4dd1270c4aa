// Issue 19 item 1: KEP-2535 after a crash. Tenant A (namespace shop, with the pull secret) runs a
// private image from a real htpasswd Distribution registry with IfNotPresent; its `kimg run` is
// killed with SIGKILL at each step of recording the pull (KIMG_KILL_AT, the run's failpoint).
// Then tenant B (namespace other, no secret) asks for the same image with Never, spelled every
// other way: no tag / :latest, docker.io/library/x / x (through a registries.conf prefix that
// maps docker.io/library/shopapi to the private registry), by digest, tag@digest. B must never
// be told the image "can be accessed by the pod": leftover intents become records that need
// verification (the kubelet's PullManager.initialize), and intents are keyed by the normalized
// name. A itself is then verified by pulling again (IfNotPresent), and B is still refused.

import assert from "node:assert/strict";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { makeTempDir, removeTempDir } from "../helpers/cleanup.ts";
import { type BuiltImage, buildImage } from "../helpers/images.ts";
import { runKimg } from "../helpers/kimg-cli.ts";
import { type Registry, startRegistry } from "../helpers/registry.ts";
import { pushLayout } from "../helpers/skopeo.ts";

const ALICE = { user: "alice", pass: "Al1ce-pw-shop" };

describe("kimg run killed while recording a pull (KEP-2535)", { timeout: 300_000 }, () => {
  let reg: Registry;
  let img: BuiltImage;
  let work: string;
  let conf: string;

  const kimg = (args: string[], env: Record<string, string> = {}) =>
    runKimg(args, {
      env: { HOME: work, CONTAINERS_REGISTRIES_CONF: conf, ...env },
      timeoutMs: 60_000,
    });

  const secret = () => `apiVersion: v1
kind: Secret
metadata: {name: regcred, namespace: shop}
type: kubernetes.io/dockerconfigjson
data:
  .dockerconfigjson: ${Buffer.from(
    JSON.stringify({
      auths: {
        [reg.host]: { auth: Buffer.from(`${ALICE.user}:${ALICE.pass}`).toString("base64") },
      },
    }),
  ).toString("base64")}
`;
  const pod = (
    ns: string,
    name: string,
    image: string,
    policy: string,
    withSecret = false,
  ) => `apiVersion: v1
kind: Pod
metadata: {name: ${name}, namespace: ${ns}}
spec:
${withSecret ? "  imagePullSecrets: [{name: regcred}]\n" : ""}  containers:
  - name: app
    image: ${JSON.stringify(image)}
    imagePullPolicy: ${policy}
`;
  let n = 0;
  const file = (docs: string[]): string => {
    const p = join(work, `m${n++}.yaml`);
    writeFileSync(p, docs.join("---\n"));
    return p;
  };
  /** The describe section of one pod. */
  const section = (out: string, name: string): string => {
    const start = out.indexOf(`Name:               ${name}\n`);
    assert.ok(start >= 0, `no pod ${name} in:\n${out}`);
    const next = out.indexOf("\nName:", start + 1);
    return out.slice(start, next < 0 ? undefined : next);
  };

  before(async () => {
    work = makeTempDir("kimg-run-crash-");
    reg = await startRegistry({ auth: "htpasswd", users: [ALICE] });
    img = await buildImage({ layers: [{ randomBytes: 30_000 }], seed: "run-crash" });
    await pushLayout(img, "shop/api:latest", reg, { creds: ALICE });
    conf = join(work, "registries.conf");
    // docker.io/library/shopapi is the private image (a location rewrite, as a mirror would).
    writeFileSync(
      conf,
      `[[registry]]\nprefix = "docker.io/library/shopapi"\nlocation = "${reg.host}/shop/api"\n`,
    );
  });
  after(async () => {
    await reg?.stop();
    if (img !== undefined) removeTempDir(img.layoutDir);
    if (work !== undefined) removeTempDir(work);
  });

  const steps = [
    "intent-written",
    "image-stored",
    "record-temp-written",
    "record-written",
    "intent-removed",
  ] as const;
  const scenarios = () => [
    {
      what: "a registry host",
      a: `${reg.host}/shop/api`,
      others: [
        `${reg.host}/shop/api:latest`,
        `${reg.host}/shop/api@${img.manifestDigest}`,
        `${reg.host}/shop/api:latest@${img.manifestDigest}`,
      ],
    },
    {
      what: "docker.io",
      a: "shopapi",
      others: [
        "shopapi:latest",
        "docker.io/library/shopapi",
        "docker.io/library/shopapi:latest",
        `docker.io/library/shopapi@${img.manifestDigest}`,
      ],
    },
  ];

  for (const scenario of ["a registry host", "docker.io"]) {
    for (const step of steps) {
      it(`${scenario}: killed at ${step}: tenant B never reaches the image, whatever the spelling`, async () => {
        const s = scenarios().find((x) => x.what === scenario);
        assert.ok(s !== undefined);
        const store = makeTempDir("kimg-run-crash-store-");
        try {
          const a = await kimg(
            [
              "run",
              file([secret(), pod("shop", "a", s.a, "IfNotPresent", true)]),
              "--store",
              store,
            ],
            { KIMG_KILL_AT: step },
          );
          assert.equal(
            a.signal,
            "SIGKILL",
            `A was killed at ${step}: ${a.code} ${a.stderr}${a.stdout}`,
          );
          const pulling = readdirSync(join(store, "image_manager", "pulling")).filter((f) =>
            /^sha256-[0-9a-f]{64}$/.test(f),
          );
          assert.equal(pulling.length, step === "intent-removed" ? 0 : 1, `intents after ${step}`);

          // B: every spelling, and A's own, with Never and no secret.
          const spellings = [s.a, ...s.others];
          const b = await kimg([
            "run",
            file(spellings.map((im, i) => pod("other", `b${i}`, im, "Never"))),
            "--store",
            store,
            "--timeout",
            "2s",
          ]);
          assert.equal(b.code, 1, b.stderr + b.stdout);
          spellings.forEach((im, i) => {
            const sec = section(b.stdout, `b${i}`);
            assert.match(
              sec,
              /^ {6}Reason: {7}ErrImageNeverPull$/m,
              `${im} after ${step}:\n${sec}`,
            );
            assert.doesNotMatch(sec, /can be accessed by the pod|Image ID:/, `${im} after ${step}`);
          });
          if (step !== "intent-written" && step !== "intent-removed") {
            // The leftover intent became a record without credentials, and is gone.
            assert.deepEqual(
              readdirSync(join(store, "image_manager", "pulling")).filter(
                (f) => !f.endsWith(".tmp"),
              ),
              [],
            );
            const pulled = readdirSync(join(store, "image_manager", "pulled")).filter((f) =>
              /^sha256-[0-9a-f]{64}$/.test(f),
            );
            assert.equal(pulled.length, 1);
            const rec = JSON.parse(
              readFileSync(join(store, "image_manager", "pulled", String(pulled[0])), "utf8"),
            ) as { imageRef: string; credentialMapping?: Record<string, unknown> };
            assert.equal(rec.imageRef, img.manifestDigest);
            const mapping = Object.values(rec.credentialMapping ?? {});
            if (step === "record-written") {
              // A's own record, with its secret: never node-wide.
              assert.equal(mapping.length, 1);
              assert.equal(
                (mapping[0] as { nodePodsAccessible?: boolean }).nodePodsAccessible,
                undefined,
              );
            } else {
              // Recovered from the intent: tracked, with no credentials (must verify).
              assert.deepEqual(mapping, [], JSON.stringify(rec));
            }
          }

          // A again with its secret: verified by a pull (IfNotPresent), then B is still refused.
          const a2 = await kimg([
            "run",
            file([secret(), pod("shop", "a", s.a, "IfNotPresent", true)]),
            "--store",
            store,
            "--timeout",
            "20s",
          ]);
          assert.equal(a2.code, 0, a2.stderr + a2.stdout);
          const b2 = await kimg([
            "run",
            file(spellings.map((im, i) => pod("other", `c${i}`, im, "Never"))),
            "--store",
            store,
            "--timeout",
            "2s",
          ]);
          assert.equal(b2.code, 1);
          spellings.forEach((im, i) => {
            assert.match(section(b2.stdout, `c${i}`), /^ {6}Reason: {7}ErrImageNeverPull$/m, im);
          });
          // And A, with Never now: its secret is on the record.
          const a3 = await kimg([
            "run",
            file([secret(), pod("shop", "a", s.a, "Never", true)]),
            "--store",
            store,
            "--timeout",
            "5s",
          ]);
          assert.equal(a3.code, 0, a3.stderr + a3.stdout);
          assert.match(a3.stdout, /already present on machine and can be accessed by the pod/);
        } finally {
          removeTempDir(store);
        }
      });
    }
  }
});
