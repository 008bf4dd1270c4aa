// Tests for src/kubelet/backoff.ts, ported from client-go util/flowcontrol/backoff_test.go
// (TestSlowBackoff, TestBackoffReset, TestBackoffHightWaterMark, TestBackoffGC,
// TestIsInBackOffSinceUpdate; the jitter tests do not apply: the kubelet's back-off has none),
// plus the kubelet's schedule (kubelet.md §5.7: 10 s doubling to 300 s, forgotten after 600 s).
// upstream's fake clock becomes an explicit `now` in milliseconds.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  backoffKey,
  IMAGE_BACKOFF_INITIAL_MS,
  IMAGE_BACKOFF_MAX_MS,
  ImageBackoff,
} from "../../src/kubelet/index.ts";

const T0 = Date.UTC(2026, 10, 28);
const step = 1000; // time.Second

describe("client-go backoff_test.go", () => {
  it("TestSlowBackoff", () => {
    const id = "_idSlow";
    let now = T0;
    const maxDuration = 50 * step;
    const b = new ImageBackoff(step, maxDuration);
    const cases = [0, 1, 2, 4, 8, 16, 32, 50, 50, 50];
    for (const [ix, c] of cases.entries()) {
      now += step;
      assert.equal(b.get(id), c * step, `input: '${ix}'`);
      b.next(id, now);
    }
    // Now confirm that the Reset cancels backoff.
    b.next(id, now);
    b.reset(id);
    assert.equal(b.get(id), 0, "Reset didn't clear the backoff.");
  });

  it("TestBackoffReset", () => {
    const id = "_idReset";
    let now = T0;
    const maxDuration = step * 5;
    const b = new ImageBackoff(step, maxDuration);
    // get to backoff = maxDuration
    for (let i = 0; i <= maxDuration / step; i++) {
      now += step;
      b.next(id, now);
    }
    // backoff should be capped at maxDuration
    assert.ok(b.isInBackOffSince(id, now, now), `expected to be in Backoff got ${b.get(id)}`);
    const lastUpdate = now;
    now += 2 * maxDuration + step; // time += 11s, 11 > 2*maxDuration
    assert.ok(
      !b.isInBackOffSince(id, lastUpdate, now),
      "expected to not be in Backoff after reset",
    );
  });

  it("TestBackoffHightWaterMark", () => {
    const id = "_idHiWaterMark";
    let now = T0;
    const maxDuration = 5 * step;
    const b = new ImageBackoff(step, maxDuration);
    // get to backoff = maxDuration
    for (let i = 0; i <= maxDuration / step; i++) {
      now += step;
      b.next(id, now);
    }
    // backoff high watermark expires after 2*maxDuration
    now += maxDuration + step;
    b.next(id, now);
    assert.equal(b.get(id), maxDuration, "expected Backoff to stay at high watermark");
  });

  it("TestBackoffGC", () => {
    const id = "_idGC";
    let now = T0;
    const maxDuration = 5 * step;
    const b = new ImageBackoff(step, maxDuration);
    for (let i = 0; i <= maxDuration / step; i++) {
      now += step;
      b.next(id, now);
    }
    now += maxDuration + step;
    b.gc(now);
    assert.ok(b.has(id), "expected GC to skip entry");
    now += maxDuration + step;
    b.gc(now);
    assert.ok(!b.has(id), "expected GC of entry");
  });

  it("TestIsInBackOffSinceUpdate", () => {
    const id = "_idIsInBackOffSinceUpdate";
    const maxDuration = 10 * step;
    const b = new ImageBackoff(step, maxDuration);
    const startTime = T0;
    const cases: [tick: number, inBackOff: boolean, value: number][] = [
      [0, false, 0],
      [1, false, 1],
      [2, true, 2],
      [3, false, 2],
      [4, true, 4],
      [5, true, 4],
      [6, true, 4],
      [7, false, 4],
      [8, true, 8],
      [9, true, 8],
      [10, true, 8],
      [11, true, 8],
      [12, true, 8],
      [13, true, 8],
      [14, true, 8],
      [15, false, 8],
      [16, true, 10],
      [17, true, 10],
      [18, true, 10],
      [19, true, 10],
      [20, true, 10],
      [21, true, 10],
      [22, true, 10],
      [23, true, 10],
      [24, true, 10],
      [25, false, 10],
      [26, true, 10],
      [27, true, 10],
      [28, true, 10],
      [29, true, 10],
      [30, true, 10],
      [31, true, 10],
      [32, true, 10],
      [33, true, 10],
      [34, true, 10],
      [35, false, 10],
      [56, false, 0],
      [57, false, 1],
    ];
    for (const [tick, inBackOff, value] of cases) {
      const now = startTime + tick * step;
      assert.equal(b.isInBackOffSinceUpdate(id, now), inBackOff, `at tick ${tick}`);
      if (inBackOff) assert.equal(b.get(id), value * step, `backoff value at tick ${tick}`);
      if (!inBackOff) b.next(id, now);
    }
  });
});

describe("the kubelet's image back-off (kubelet.md §5.7)", () => {
  it("defaults: 10 s initial, 300 s max", () => {
    assert.equal(IMAGE_BACKOFF_INITIAL_MS, 10_000);
    assert.equal(IMAGE_BACKOFF_MAX_MS, 300_000);
    const b = new ImageBackoff();
    assert.equal(b.initialMs, 10_000);
    assert.equal(b.maxMs, 300_000);
  });

  it("failures retried as soon as allowed: 10, 20, 40, 80, 160, 300, 300 s", () => {
    const b = new ImageBackoff();
    const key = backoffKey("uid-1", "nginx");
    let now = T0;
    const delays: number[] = [];
    for (let i = 0; i < 7; i++) {
      assert.ok(!b.isInBackOffSinceUpdate(key, now));
      b.next(key, now);
      delays.push(b.get(key));
      // One ms before the window ends it is still in back-off; at the end it is not.
      assert.ok(b.isInBackOffSinceUpdate(key, now + b.get(key) - 1));
      now += b.get(key);
    }
    assert.deepEqual(
      delays.map((d) => d / 1000),
      [10, 20, 40, 80, 160, 300, 300],
    );
  });

  it("an entry not updated for more than 600 s counts as absent; exactly 600 s does not", () => {
    const b = new ImageBackoff();
    const key = "k";
    b.next(key, T0);
    b.next(key, T0 + 10_000); // 20 s
    b.next(key, T0 + 30_000); // 40 s
    // 600 s after the last update: not expired, so the delay doubles.
    b.next(key, T0 + 30_000 + 600_000);
    assert.equal(b.get(key), 80_000);
    // 600 001 ms later: expired, back to 10 s.
    b.next(key, T0 + 30_000 + 600_000 + 600_001);
    assert.equal(b.get(key), 10_000);
    // isInBackOffSinceUpdate is false once expired even if the delay were longer.
    const c = new ImageBackoff(10_000, 100);
    c.next("x", T0);
    assert.ok(c.isInBackOffSinceUpdate("x", T0 + 200));
    assert.ok(!c.isInBackOffSinceUpdate("x", T0 + 201));
  });

  it("gc (after a successful pull) drops only expired entries; success does not reset a key", () => {
    const b = new ImageBackoff();
    b.next("old", T0);
    b.next("recent", T0 + 500_000);
    b.gc(T0 + 600_001);
    assert.deepEqual(b.keys(), ["recent"]);
    assert.equal(b.get("recent"), 10_000);
  });

  it("keys are per pod UID and raw image", () => {
    assert.equal(backoffKey("3f1c", "nginx"), "3f1c_nginx");
    assert.equal(
      backoffKey("3f1c", "docker.io/library/nginx:latest"),
      "3f1c_docker.io/library/nginx:latest",
    );
    const b = new ImageBackoff();
    b.next(backoffKey("pod-a", "nginx"), T0);
    assert.ok(b.isInBackOffSinceUpdate(backoffKey("pod-a", "nginx"), T0 + 1));
    assert.ok(!b.isInBackOffSinceUpdate(backoffKey("pod-b", "nginx"), T0 + 1));
    assert.ok(!b.isInBackOffSinceUpdate(backoffKey("pod-a", "nginx:latest"), T0 + 1));
  });

  it("remembers the previous error per key until forgotten", () => {
    const b = new ImageBackoff();
    const key = backoffKey("uid", "app:1");
    assert.equal(b.previousError(key), undefined);
    b.setPreviousError(key, "ErrImagePull: manifest unknown");
    assert.equal(b.previousError(key), "ErrImagePull: manifest unknown");
    assert.equal(b.previousError(backoffKey("uid", "app:2")), undefined);
    b.forgetPreviousError(key);
    assert.equal(b.previousError(key), undefined);
  });
});
