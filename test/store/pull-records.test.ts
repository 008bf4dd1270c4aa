// PullRecordFiles: the kubelet's pulling/ and pulled/ record files in the store
// (fs_pullrecords.go): names, modes, atomic replacement, listing, corrupt files.

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { isKimgError } from "../../src/errors.ts";
import { PullRecordFiles, pullRecordFileName } from "../../src/store/index.ts";
import { makeTempDir, removeTempDir } from "../helpers/cleanup.ts";

describe("PullRecordFiles", () => {
  const dirs: string[] = [];
  after(() => {
    for (const d of dirs) removeTempDir(d);
  });
  const files = () => {
    const d = makeTempDir("kimg-pullrec-");
    dirs.push(d);
    return { d, f: new PullRecordFiles(d) };
  };

  it("names files sha256-<hex of the key>", () => {
    const hex = createHash("sha256").update("docker.io/library/nginx:latest").digest("hex");
    assert.equal(pullRecordFileName("docker.io/library/nginx:latest"), `sha256-${hex}`);
  });

  it("writes 0600 files in 0700 directories, reads them back, replaces atomically", async () => {
    const { d, f } = files();
    await f.write("pulled", "sha256:abc", { imageRef: "sha256:abc", n: 1 });
    await f.write("pulled", "sha256:abc", { imageRef: "sha256:abc", n: 2 });
    assert.deepEqual(await f.read("pulled", "sha256:abc"), { imageRef: "sha256:abc", n: 2 });
    const dir = join(d, "image_manager", "pulled");
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    const names = readdirSync(dir);
    assert.deepEqual(names, [pullRecordFileName("sha256:abc")], "no temp file left");
    assert.equal(statSync(join(dir, names[0] ?? "")).mode & 0o777, 0o600);
    assert.equal(await f.read("pulling", "sha256:abc"), undefined, "kinds are separate");
  });

  it("lists records, skipping temp files; a corrupt one is listed with its error", async () => {
    const { d, f } = files();
    await f.write("pulling", "nginx", { image: "nginx" });
    await f.write("pulling", "redis", { image: "redis" });
    const dir = join(d, "image_manager", "pulling");
    writeFileSync(join(dir, `${pullRecordFileName("x")}.1234.tmp`), "{");
    writeFileSync(join(dir, pullRecordFileName("bad")), "{not json");
    const l = await f.list("pulling");
    assert.equal(l.length, 3);
    assert.deepEqual(
      l
        .filter((r) => r.error === undefined)
        .map((r) => r.value)
        .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
      [{ image: "nginx" }, { image: "redis" }],
    );
    assert.equal(l.filter((r) => r.error !== undefined).length, 1);
    await assert.rejects(f.read("pulling", "bad"), (e) => isKimgError(e, "STORE_CORRUPT"));
  });

  it("deletes records; an absent one is false; listing an absent kind is empty", async () => {
    const { f } = files();
    assert.deepEqual(await f.list("pulled"), []);
    await f.write("pulling", "nginx", { image: "nginx" });
    assert.equal(await f.exists("pulling", "nginx"), true);
    assert.equal(await f.delete("pulling", "nginx"), true);
    assert.equal(await f.delete("pulling", "nginx"), false);
    assert.equal(await f.exists("pulling", "nginx"), false);
  });
});
