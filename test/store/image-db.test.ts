// kimg.json's records as read back: the valibot schemas name the image and the field that is
// wrong (issue 11), and a well-formed record comes back as written.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isKimgError } from "../../src/errors.ts";
import { parseMetadata } from "../../src/store/image-db.ts";

const good = {
  name: "docker.io/library/a:1",
  target: {
    mediaType: "application/vnd.oci.image.manifest.v1+json",
    digest: "sha256:aa",
    size: 10,
  },
  manifestDigest: "sha256:aa",
  platform: { os: "linux", architecture: "amd64" },
  size: 100,
  pulledAt: "2026-12-07T00:00:00.000Z",
  lastUsed: "2026-12-07T00:00:00.000Z",
  credential: { kind: "anonymous" },
  blobs: ["sha256:aa", "sha256:bb"],
};

describe("parseMetadata", () => {
  it("a well-formed record comes back as written, absent fields absent", () => {
    const m = parseMetadata({ storeVersion: 1, images: { [good.name]: good } });
    assert.deepEqual(m.images[good.name], good);
    assert.ok(!("indexDigest" in (m.images[good.name] ?? {})));
  });

  it("a malformed field: STORE_CORRUPT naming the image and the field's path", () => {
    const cases: [unknown, RegExp][] = [
      [
        { ...good, target: { ...good.target, size: -1 } },
        /image docker\.io\/library\/a:1: target\.size: /,
      ],
      [{ ...good, blobs: ["sha256:aa", 7] }, /image docker\.io\/library\/a:1: blobs\.1: /],
      [{ ...good, platform: { os: "linux" } }, /: platform\.architecture: /],
      [{ ...good, name: "docker.io/library/b:1" }, /: name is "docker\.io\/library\/b:1"$/],
      ["not an object", /image docker\.io\/library\/a:1: /],
    ];
    for (const [rec, re] of cases) {
      assert.throws(
        () => parseMetadata({ storeVersion: 1, images: { [good.name]: rec } }),
        (e: Error) => isKimgError(e, "STORE_CORRUPT") && re.test(e.message),
        String(re),
      );
    }
  });
});
