import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  anatomy,
  type ParseMode,
  parseWithMode,
  splitHostPort,
  tryParseWithMode,
} from "../../src/ref/index.ts";

function parts(input: string, mode: ParseMode = "normalized") {
  const a = anatomy(input, parseWithMode(input, mode), mode);
  return {
    registry: a.registry.value,
    port: a.port.value,
    repository: a.repository.value,
    imageName: a.imageName.value,
    tag: a.tag.value,
    digest: a.digest.value,
    implied: Object.entries(a)
      .filter(([k, v]) => k !== "segments" && (v as { implied: boolean }).implied)
      .map(([k]) => k),
    drawn: a.segments.map((s) => s.text).join(""),
  };
}

const D = `sha256:${"45b23dee08af5e43a7fea6c4cf9c25ccf269ee113168c19722f87876677c5cb2"}`;

describe("anatomy", () => {
  it("draws the seed's example", () => {
    assert.deepEqual(parts("my-registry.example.com:5000/example/web-example:v1.0.1"), {
      registry: "my-registry.example.com",
      port: "5000",
      repository: "example",
      imageName: "web-example",
      tag: "v1.0.1",
      digest: "",
      implied: [],
      drawn: "my-registry.example.com:5000/example/web-example:v1.0.1",
    });
  });

  const table: [string, ParseMode, Partial<ReturnType<typeof parts>>][] = [
    [
      "nginx",
      "normalized",
      {
        registry: "docker.io",
        repository: "library",
        imageName: "nginx",
        tag: "",
        implied: ["registry", "repository"],
        drawn: "docker.io/library/nginx",
      },
    ],
    [
      "nginx",
      "docker",
      {
        tag: "latest",
        implied: ["registry", "repository", "tag"],
        drawn: "docker.io/library/nginx:latest",
      },
    ],
    ["nginx", "k8s", { tag: "latest", implied: ["registry", "repository", "tag"] }],
    ["nginx:latest", "docker", { tag: "latest", implied: ["registry", "repository"] }],
    [
      "eipwork/kuboard",
      "normalized",
      { registry: "docker.io", repository: "eipwork", imageName: "kuboard", implied: ["registry"] },
    ],
    ["docker.io/ubuntu", "normalized", { repository: "library", implied: ["repository"] }],
    ["index.docker.io/ubuntu", "normalized", { registry: "docker.io", implied: ["repository"] }],
    [
      "localhost:5000/a/b/c:1",
      "normalized",
      {
        registry: "localhost",
        port: "5000",
        repository: "a/b",
        imageName: "c",
        tag: "1",
        implied: [],
      },
    ],
    [
      "[::1]:5000/foo",
      "normalized",
      { registry: "[::1]", port: "5000", repository: "", imageName: "foo" },
    ],
    ["foo/bar", "parse", { registry: "foo", repository: "", imageName: "bar", implied: [] }],
    ["bar", "parse", { registry: "", repository: "", imageName: "bar", implied: [], drawn: "bar" }],
    [`nginx:1.25@${D}`, "docker", { tag: "", digest: D, drawn: `docker.io/library/nginx@${D}` }],
    [`nginx@${D}`, "normalized", { tag: "", digest: D }],
  ];
  for (const [input, mode, want] of table) {
    it(`${mode}: ${input.slice(0, 60)}`, () => {
      const got = parts(input, mode);
      for (const [k, v] of Object.entries(want)) {
        assert.deepEqual(got[k as keyof typeof got], v, k);
      }
    });
  }

  it("notes why a part is implied or dropped", () => {
    const a = anatomy(`nginx:1.25@${D}`, parseWithMode(`nginx:1.25@${D}`, "docker"), "docker");
    assert.match(a.tag.note ?? "", /dropped/);
    const b = anatomy(
      "index.docker.io/x/y",
      parseWithMode("index.docker.io/x/y", "normalized"),
      "normalized",
    );
    assert.match(b.registry.note ?? "", /rewritten/);
  });

  it("describes a digest-only reference (any mode)", () => {
    const id = "45b23dee08af5e43a7fea6c4cf9c25ccf269ee113168c19722f87876677c5cb2";
    const a = anatomy(id, parseWithMode(id, "any"), "any");
    assert.equal(a.digest.value, `sha256:${id}`);
    assert.equal(a.digest.implied, true);
    assert.equal(a.imageName.value, "");
  });

  it("splits host and port, IPv6 included", () => {
    assert.deepEqual(splitHostPort("a.b:1"), { host: "a.b", port: "1" });
    assert.deepEqual(splitHostPort("[fe80::1]"), { host: "[fe80::1]", port: "" });
    assert.deepEqual(splitHostPort("[fe80::1]:443"), { host: "[fe80::1]", port: "443" });
  });

  it("tryParseWithMode returns the failure for every mode instead of throwing", () => {
    for (const mode of ["normalized", "parse", "named", "docker", "any", "k8s"] as const) {
      const r = tryParseWithMode("Foo:", mode);
      assert.ok("failed" in r, mode);
    }
  });
});
