// pullTryingCredentials(): the kubelet's loop over matching credentials
// (kuberuntime_image.go PullImage), against the real Distribution registry with htpasswd auth.

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { isKimgError } from "../../src/errors.ts";
import { type CandidateCredential, pullTryingCredentials } from "../../src/pull/index.ts";
import { FsBlobStore } from "../../src/store/index.ts";
import { makeTempDir, removeTempDir } from "../helpers/cleanup.ts";
import { type BuiltImage, buildImage } from "../helpers/images.ts";
import { type Registry, startRegistry } from "../helpers/registry.ts";
import { pushLayout } from "../helpers/skopeo.ts";

const ALICE = { user: "alice", pass: "alice-secret-1" };

class Cand implements CandidateCredential {
  uses = 0;
  constructor(
    readonly label: string,
    readonly user: string,
    readonly pass: string,
  ) {}
  toRegistryCredential() {
    this.uses++;
    return { username: this.user, password: this.pass };
  }
}

describe("pullTryingCredentials: each matching credential in keyring order", {
  timeout: 120_000,
}, () => {
  let reg: Registry;
  let img: BuiltImage;
  let ref: string;
  const dirs: string[] = [];
  const store = async () => {
    const d = makeTempDir("kimg-trycreds-");
    dirs.push(d);
    return FsBlobStore.open(d);
  };

  before(async () => {
    reg = await startRegistry({ auth: "htpasswd", users: [ALICE] });
    img = await buildImage({ layers: [{ randomBytes: 1024 }] });
    await pushLayout(img, "private/app:v1", reg, { creds: ALICE });
    ref = `${reg.host}/private/app:v1`;
  });
  after(async () => {
    await reg?.stop();
    for (const d of [img?.layoutDir, ...dirs]) if (d !== undefined) removeTempDir(d);
  });

  it("a wrong credential first, the right one second: pulled with the second, recorded as it", async () => {
    const wrong = new Cand("a", ALICE.user, "nope");
    const right = new Cand("b", ALICE.user, ALICE.pass);
    const repos: string[] = [];
    const r = await pullTryingCredentials(ref, "Always", {
      store: await store(),
      candidates: {
        async lookupAll(repo) {
          repos.push(repo);
          return [wrong, right];
        },
      },
      describe: (c) => ({ kind: `source-${c.label}` }),
    });
    assert.equal(r.action, "pull");
    assert.deepEqual(repos, [`${reg.host}/private/app`], "one keyring lookup, by repository");
    assert.ok(wrong.uses >= 1 && right.uses >= 1);
    const rec = r.action === "pull" ? r.image : undefined;
    assert.equal(rec?.digest, img.manifestDigest);
  });

  it("the record names the credential that worked", async () => {
    const s = await store();
    await pullTryingCredentials(ref, "Always", {
      store: s,
      candidates: {
        lookupAll: async () => [
          new Cand("a", ALICE.user, "nope"),
          new Cand("b", ALICE.user, ALICE.pass),
        ],
      },
      describe: (c) => ({ kind: `source-${c.label}` }),
    });
    const recs = await s.listImages();
    assert.equal(recs.length, 1);
    assert.equal(recs[0]?.credential?.kind, "source-b");
  });

  it("all credentials wrong: one aggregated denial, no anonymous attempt after them", async () => {
    const c1 = new Cand("a", ALICE.user, "wrong-1");
    const c2 = new Cand("b", "mallory", "wrong-2");
    const described: string[] = [];
    await assert.rejects(
      pullTryingCredentials(ref, "Always", {
        store: await store(),
        candidates: { lookupAll: async () => [c1, c2] },
        describe: (c) => {
          described.push(c.label);
          return { kind: c.label };
        },
      }),
      (e: unknown) => {
        assert.ok(isKimgError(e));
        assert.equal(e.code, "REGISTRY_UNAUTHORIZED");
        assert.match(
          e.message,
          /^\[authentication failed: .*refused the credentials.*, authentication failed: .*refused the credentials.*\]$/,
        );
        assert.ok(!e.message.includes("wrong-1") && !e.message.includes("wrong-2"));
        return true;
      },
    );
    // Each attempt asked for its own credential once; a third (anonymous) attempt would have
    // asked again and found none.
    assert.deepEqual([...new Set(described)], ["a", "b"]);
  });

  it("no matching credential: one anonymous attempt, its error as is", async () => {
    let lookups = 0;
    await assert.rejects(
      pullTryingCredentials(ref, "Always", {
        store: await store(),
        candidates: {
          lookupAll: async () => {
            lookups++;
            return [];
          },
        },
      }),
      (e: unknown) => {
        assert.ok(isKimgError(e));
        assert.equal(e.code, "REGISTRY_UNAUTHORIZED");
        assert.doesNotMatch(e.message, /^\[/);
        return true;
      },
    );
    assert.equal(lookups, 1);
  });

  it("IfNotPresent with the image present: no keyring lookup at all", async () => {
    const s = await store();
    const right = new Cand("b", ALICE.user, ALICE.pass);
    await pullTryingCredentials(ref, "Always", {
      store: s,
      candidates: { lookupAll: async () => [right] },
    });
    let lookups = 0;
    const r = await pullTryingCredentials(ref, "IfNotPresent", {
      store: s,
      candidates: {
        lookupAll: async () => {
          lookups++;
          return [right];
        },
      },
    });
    assert.equal(r.action, "use-local");
    assert.equal(lookups, 0);
  });
});
