// Issue 19 item 7: a registry whose blob connection closes halfway on every attempt is a
// network failure of that registry (exit 5, one line naming the registry and the blob), never
// an internal error. The bytes come from a real Distribution registry; a forwarding front cuts
// the layer's body in the middle and destroys the socket, every time.

import assert from "node:assert/strict";
import http from "node:http";
import { after, before, describe, it } from "node:test";
import { isKimgError } from "../../src/errors.ts";
import { pull } from "../../src/pull/index.ts";
import { FsBlobStore } from "../../src/store/index.ts";
import { makeTempDir, removeTempDir } from "../helpers/cleanup.ts";
import { forwardTo, startFaultServer } from "../helpers/fault-registry.ts";
import { type BuiltImage, buildImage } from "../helpers/images.ts";
import { runKimg } from "../helpers/kimg-cli.ts";
import { type Registry, startRegistry } from "../helpers/registry.ts";
import { pushLayout } from "../helpers/skopeo.ts";

const kimg = (args: string[]) => runKimg(args);

describe("a blob connection that closes halfway on every attempt", { timeout: 180_000 }, () => {
  let reg: Registry;
  let img: BuiltImage;
  const dirs: string[] = [];
  before(async () => {
    reg = await startRegistry();
    img = await buildImage({ layers: [{ randomBytes: 200_000, gzipLevel: 0 }], seed: "cut" });
    await pushLayout(img, "cut/app:v1", reg);
  });
  after(async () => {
    await reg?.stop();
    if (img !== undefined) removeTempDir(img.layoutDir);
    for (const d of dirs) removeTempDir(d);
  });

  it("exit 5, one line naming the registry, the blob and the attempts", async (t) => {
    const layer = img.layers[0]?.digest ?? "";
    const front = await startFaultServer(t);
    let cuts = 0;
    front.handle((req, res) => {
      const up = http.request(
        {
          host: "127.0.0.1",
          port: Number(reg.host.split(":")[1]),
          method: req.method,
          path: req.url,
          headers: { ...req.headers, host: reg.host },
        },
        (r) => {
          res.writeHead(r.statusCode ?? 502, r.headers);
          res.flushHeaders();
          if (req.method === "GET" && req.url?.endsWith(`/blobs/${layer}`)) {
            let sent = 0;
            r.on("data", (c: Buffer) => {
              if (sent >= 1000) return;
              const part = c.subarray(0, 1000 - sent);
              sent += part.length;
              // The cut comes after the bytes are on the wire, so kimg sees a body that breaks
              // halfway, not a connection refused before the answer.
              const cut = sent >= 1000;
              res.write(part, () => {
                if (!cut) return;
                cuts++;
                r.destroy();
                res.socket?.destroy();
              });
            });
            return;
          }
          r.pipe(res);
        },
      );
      req.pipe(up);
    });
    const store = makeTempDir("kimg-cut-store-");
    dirs.push(store);
    const r = await kimg(["pull", "--store", store, `${front.host}/cut/app:v1`]);
    assert.equal(r.code, 5, r.stderr);
    assert.match(
      r.stderr,
      new RegExp(
        `^kimg: GET ${front.host}/v2/cut/app/blobs/${layer}: [^\\n]+ \\(after 5 attempts\\)\\n$`,
      ),
    );
    assert.doesNotMatch(r.stderr, /internal error/);
    assert.ok(cuts >= 5, `${cuts} cuts`);
  });

  it("a blob the registry keeps refusing (503) is asked for maxAttempts times, not attempts²", async (t) => {
    // Issue 11: the pull's blob loop (5 attempts) wrapped the client's retry (5): 25 requests.
    const layer = img.layers[0]?.digest ?? "";
    const front = await startFaultServer(t);
    front.handle((req, res) => {
      if (req.method === "GET" && req.url?.endsWith(`/blobs/${layer}`)) {
        res.writeHead(503).end();
        return;
      }
      forwardTo(reg.host, req, res);
    });
    const store = await FsBlobStore.open(makeTempDir("kimg-503-store-"));
    dirs.push(store.root);
    const waits: number[] = [];
    await assert.rejects(
      pull(`${front.host}/cut/app:v1`, {
        store,
        retry: { maxAttempts: 3, sleep: async (ms) => void waits.push(ms) },
      }),
      (e: Error) => isKimgError(e, "REGISTRY_UNAVAILABLE"),
    );
    const blobGets = front.requests.filter(
      (r) => r.method === "GET" && r.url.endsWith(`/blobs/${layer}`),
    );
    assert.equal(blobGets.length, 3);
    assert.equal(waits.length, 2);
  });
});
