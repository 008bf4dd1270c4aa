// The blob-progress throttle: an event every 256 KiB or 100 ms, the first and last always.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { PROGRESS_BYTES, type ProgressEvent, progressThrottle } from "../../src/pull/index.ts";

describe("progressThrottle", () => {
  it("emits on the first chunk, every 256 KiB or 100 ms, and at the end", () => {
    const seen: number[] = [];
    let t = 0;
    const size = 3 * PROGRESS_BYTES;
    const tick = progressThrottle(
      (e: ProgressEvent) => {
        if (e.type === "blob-progress") seen.push(e.current);
      },
      "sha256:x",
      size,
      () => t,
    );
    for (let n = 1024; n <= size; n += 1024) tick(n); // no time passes
    assert.deepEqual(seen, [1024, 1024 + PROGRESS_BYTES, 1024 + 2 * PROGRESS_BYTES, size]);
    seen.length = 0;
    const slow = progressThrottle(
      (e: ProgressEvent) => {
        if (e.type === "blob-progress") seen.push(e.current);
      },
      "sha256:y",
      10_000,
      () => t,
    );
    slow(1);
    slow(2);
    t += 100;
    slow(3);
    slow(4);
    assert.deepEqual(seen, [1, 3]);
  });

  it("does nothing without a listener", () => {
    progressThrottle(undefined, "sha256:x", 10)(5);
  });
});
