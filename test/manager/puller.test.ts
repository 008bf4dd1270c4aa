// ImagePuller: serial and parallel pullers, the registryPullQPS token bucket, shared identical
// pulls (puller.go, helpers.go throttledImageService).

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isKimgError } from "../../src/errors.ts";
import { ImagePuller, TokenBucket } from "../../src/manager/puller.ts";

/** A pull that finishes when told to; records how many run at once. */
function gate() {
  let running = 0;
  let peak = 0;
  const releases: (() => void)[] = [];
  const run = () =>
    new Promise<string>((resolve) => {
      running++;
      peak = Math.max(peak, running);
      releases.push(() => {
        running--;
        resolve("ok");
      });
    });
  const tick = () => new Promise((r) => setImmediate(r));
  return {
    run,
    tick,
    releaseAll: async () => {
      for (let i = 0; i < 100; i++) {
        await tick();
        const r = releases.shift();
        if (r === undefined) continue;
        r();
      }
    },
    peak: () => peak,
    running: () => running,
  };
}

describe("ImagePuller", () => {
  it("serial (default): one pull at a time", async () => {
    const g = gate();
    const p = new ImagePuller({ qps: 0 });
    const all = Promise.all([1, 2, 3, 4].map((i) => p.pull(`k${i}`, g.run)));
    await g.tick();
    assert.equal(g.running(), 1);
    await g.releaseAll();
    await all;
    assert.equal(g.peak(), 1);
  });

  it("parallel with maxParallelImagePulls 2: two at a time; unlimited: all", async () => {
    const g = gate();
    const p = new ImagePuller({ serialize: false, maxParallel: 2, qps: 0 });
    const all = Promise.all([1, 2, 3, 4, 5].map((i) => p.pull(`k${i}`, g.run)));
    await g.tick();
    assert.equal(g.running(), 2);
    await g.releaseAll();
    await all;
    assert.equal(g.peak(), 2);

    const g2 = gate();
    const u = new ImagePuller({ serialize: false, qps: 0 });
    const all2 = Promise.all([1, 2, 3, 4, 5].map((i) => u.pull(`k${i}`, g2.run)));
    await g2.tick();
    assert.equal(g2.running(), 5);
    await g2.releaseAll();
    await all2;
  });

  it("identical pulls in flight share one run", async () => {
    let runs = 0;
    const p = new ImagePuller({ serialize: false, qps: 0 });
    const run = async () => {
      runs++;
      await new Promise((r) => setTimeout(r, 5));
      return runs;
    };
    const [a, b] = await Promise.all([p.pull("same", run), p.pull("same", run)]);
    assert.equal(runs, 1);
    assert.equal(a.value, 1);
    assert.equal(b.value, 1);
    assert.deepEqual([a.shared, b.shared], [false, true]);
    await p.pull("same", run); // after it finished: a new run
    assert.equal(runs, 2);
  });

  it("registryPullQPS: burst tokens at once, then `pull QPS exceeded` until refilled", async () => {
    let t = 1_000;
    const p = new ImagePuller({ serialize: false, qps: 1, burst: 2, now: () => t });
    const ok = async () => "ok";
    assert.equal((await p.pull("a", ok)).value, "ok");
    assert.equal((await p.pull("b", ok)).value, "ok");
    await assert.rejects(p.pull("c", ok), (e) => {
      assert.ok(isKimgError(e, "PULL_QPS_EXCEEDED"));
      assert.equal(e.message, "pull QPS exceeded");
      return true;
    });
    t += 1_000; // one token back
    assert.equal((await p.pull("d", ok)).value, "ok");
    await assert.rejects(p.pull("e", ok));
  });

  it("pullMs is measured when the pull runs, not while queued", async () => {
    let t = 0;
    const p = new ImagePuller({ qps: 0, now: () => t });
    const slow = async () => {
      t += 500;
      return 1;
    };
    const [a, b] = await Promise.all([p.pull("a", slow), p.pull("b", slow)]);
    assert.equal(a.pullMs, 500);
    assert.equal(b.pullMs, 500); // queued for 500 ms behind a, not counted
  });

  it("the token bucket refills continuously up to burst (x/time/rate)", () => {
    const b = new TokenBucket(2, 3, 0);
    assert.deepEqual(
      [b.tryAccept(0), b.tryAccept(0), b.tryAccept(0), b.tryAccept(0)],
      [true, true, true, false],
    );
    assert.equal(b.tryAccept(499), false);
    assert.equal(b.tryAccept(500), true);
    assert.equal(b.tryAccept(10_000), true); // capped at burst 3, not 19
    assert.deepEqual(
      [b.tryAccept(10_000), b.tryAccept(10_000), b.tryAccept(10_000)],
      [true, true, false],
    );
  });
});
