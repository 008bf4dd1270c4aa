// Issue 18 item 2: a malformed pull secret, config.json or auth.json entry is located — the file
// and line, the Secret, the data key, the registry key and the field — with the upstream text
// kept, exit 2, one line, and no secret in it. The built kimg against a real htpasswd
// Distribution registry (so config.json and auth.json are read: kimg asks for credentials only
// when the registry challenges).

import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { makeTempDir, removeTempDir } from "../helpers/cleanup.ts";
import { type BuiltImage, buildImage } from "../helpers/images.ts";
import { runKimg } from "../helpers/kimg-cli.ts";
import { type Registry, startRegistry } from "../helpers/registry.ts";
import { pushLayout } from "../helpers/skopeo.ts";

const ALICE = { user: "alice", pass: "Al1ce-located-pw" };
const SECRET_TEXT = "N0tForYourEyes";
const b64 = (s: string) => Buffer.from(s).toString("base64");

describe("malformed credentials are located (exit 2)", { timeout: 180_000 }, () => {
  let reg: Registry;
  let img: BuiltImage;
  let work: string;
  let ref: string;
  let n = 0;
  const write = (name: string, text: string): string => {
    const p = join(work, `${n++}-${name}`);
    writeFileSync(p, text);
    return p;
  };
  /** A Secret manifest whose .dockerconfigjson is `json` (as data, base64'd). */
  const secretYaml = (json: string, type = "kubernetes.io/dockerconfigjson") => `# a pull secret
apiVersion: v1
kind: Secret
metadata:
  name: regcred
  namespace: shop
type: ${type}
data:
  .dockerconfigjson: ${b64(json)}
`;
  const auths = (entry: unknown) => JSON.stringify({ auths: { [reg.host]: entry } });
  const expectLine = (r: { code: number; stdout: string; stderr: string }, line: string) => {
    assert.equal(r.code, 2, r.stderr);
    assert.equal(r.stderr, `kimg: ${line}\n`);
    assert.ok(!`${r.stdout}${r.stderr}`.includes(SECRET_TEXT), "no secret in the output");
  };

  before(async () => {
    work = makeTempDir("kimg-located-");
    reg = await startRegistry({ auth: "htpasswd", users: [ALICE] });
    img = await buildImage({ layers: [{ randomBytes: 1000 }], seed: "located" });
    await pushLayout(img, "shop/app:v1", reg, { creds: ALICE });
    ref = `${reg.host}/shop/app:v1`;
  });
  after(async () => {
    await reg?.stop();
    if (img !== undefined) removeTempDir(img.layoutDir);
    if (work !== undefined) removeTempDir(work);
  });

  const cases = (): [string, string, string][] => [
    [
      "auth that is not base64",
      secretYaml(auths({ auth: "!!!" })),
      `:9: secret shop/regcred: data[.dockerconfigjson]: auths["${reg.host}"].auth: illegal base64 data at input byte 0`,
    ],
    [
      "auth without a colon",
      secretYaml(auths({ auth: b64(`alice${SECRET_TEXT}`) })),
      `:9: secret shop/regcred: data[.dockerconfigjson]: auths["${reg.host}"].auth: unable to parse auth field, must be formatted as base64(username:password)`,
    ],
    [
      "a number where a string belongs",
      secretYaml(auths({ username: 5, password: SECRET_TEXT })),
      `:9: secret shop/regcred: data[.dockerconfigjson]: auths["${reg.host}"]: json: cannot unmarshal number into Go struct field dockerConfigEntryWithAuth.username of type string`,
    ],
    [
      "auths that is not an object",
      secretYaml(JSON.stringify({ auths: ["x"] })),
      ":9: secret shop/regcred: data[.dockerconfigjson]: json: cannot unmarshal array into Go struct field DockerConfigJSON.auths of type credentialprovider.DockerConfig",
    ],
    [
      "an entry that is not an object",
      secretYaml(auths(SECRET_TEXT)),
      `:9: secret shop/regcred: data[.dockerconfigjson]: auths["${reg.host}"]: json: cannot unmarshal string into Go value of type credentialprovider.dockerConfigEntryWithAuth`,
    ],
    [
      "content that is not JSON",
      secretYaml(`{"auths": ${SECRET_TEXT}`),
      ":9: secret shop/regcred: data[.dockerconfigjson]: invalid JSON",
    ],
    [
      "data that is not base64",
      secretYaml("x").replace(/\.dockerconfigjson: .*/, ".dockerconfigjson: '%%%'"),
      ":9: secret shop/regcred: data[.dockerconfigjson]: illegal base64 data at input byte 0",
    ],
    [
      "a Secret of another type",
      secretYaml(auths({ auth: b64(`${ALICE.user}:${ALICE.pass}`) }), "Opaque"),
      ':7: secret shop/regcred: type "Opaque" is not kubernetes.io/dockerconfigjson or kubernetes.io/dockercfg: not a pull secret',
    ],
  ];

  it("kimg pull --pull-secret: each malformed form, file:line, Secret, key, registry, field", async () => {
    for (const [what, yaml, suffix] of cases()) {
      const file = write("sec.yaml", yaml);
      const r = await runKimg(["pull", "--store", join(work, "store"), "--pull-secret", file, ref]);
      assert.doesNotThrow(() => expectLine(r, `${file}${suffix}`), what);
    }
  });

  it("kimg run: a malformed Secret in a manifest, before anything runs", async () => {
    const [what, yaml, suffix] = cases()[0] ?? ["", "", ""];
    const pod = `apiVersion: v1
kind: Pod
metadata: {name: p, namespace: shop}
spec:
  imagePullSecrets: [{name: regcred}]
  containers: [{name: app, image: "${ref}"}]
`;
    const file = write("run.yaml", `${pod}---\n${yaml}`);
    const r = await runKimg(["run", file, "--store", join(work, "store-run")]);
    // The Secret document (after a comment line) starts at line 9 of this file.
    assert.doesNotThrow(
      () => expectLine(r, `${file}:9: ${suffix.replace(/^:9: /, "")}`),
      `${what}: ${r.stderr}`,
    );
  });

  it("config.json and auth.json: the file, the registry key and the field", async () => {
    const docker = join(work, "docker");
    mkdirSync(docker);
    for (const [entry, why] of [
      [{ auth: "!!!" }, "illegal base64 data at input byte 0"],
      [{ auth: b64(`:${SECRET_TEXT}`) }, "invalid auth configuration file"],
      [{ auth: b64(`nocolon${SECRET_TEXT}`) }, "invalid auth configuration file"],
    ] as const) {
      writeFileSync(join(docker, "config.json"), auths(entry));
      const r = await runKimg(["pull", "--store", join(work, "store-dc"), ref], {
        env: { DOCKER_CONFIG: docker, HOME: work },
      });
      expectLine(
        r,
        `loading config file: ${join(docker, "config.json")}: auths["${reg.host}"].auth: ${why}`,
      );
    }
    const authFile = write("auth.json", auths({ auth: "!!!" }));
    const r = await runKimg(["pull", "--store", join(work, "store-aj"), ref], {
      env: { REGISTRY_AUTH_FILE: authFile, HOME: work },
    });
    expectLine(r, `${authFile}: auths["${reg.host}"].auth: illegal base64 data at input byte 0`);
  });
});
