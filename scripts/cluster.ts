// The one-node cluster for people (issue 12 §3): the same helpers the tests use
// (test/helpers/cluster.ts, node.ts, registry.ts), kept running in the background.
//   node --import tsx scripts/cluster.ts serve [--always-pull-images]   (what `up` starts)
// scripts/cluster.sh is the interface: up | down | env.
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { startControlPlane } from "../test/helpers/cluster.ts";
import { startNode } from "../test/helpers/node.ts";
import { peerDir } from "../test/helpers/peers.ts";
import { startRegistry } from "../test/helpers/registry.ts";

const STATE = process.env.KIMG_CLUSTER_DIR ?? "/tmp/kimg-cluster";

async function serve(alwaysPullImages: boolean): Promise<void> {
  const started = Date.now();
  mkdirSync(STATE, { recursive: true });
  const reg = await startRegistry();
  const cp = await startControlPlane({ alwaysPullImages, controllers: true });
  const node = await startNode(cp, { registry: reg });
  const path = [dirname(cp.kubectlPath), peerDir("crictl"), peerDir("crane")].join(":");
  writeFileSync(
    join(STATE, "env"),
    [
      `export KUBECONFIG=${JSON.stringify(cp.kubeconfig)}`,
      `export PATH=${JSON.stringify(path)}:"$PATH"`,
      `export KIMG_TEST_REGISTRY=${JSON.stringify(reg.host)}`,
      `export CONTAINER_RUNTIME_ENDPOINT=${JSON.stringify(`unix://${node.socket}`)}`,
      "",
    ].join("\n"),
  );
  writeFileSync(join(STATE, "ready"), `${((Date.now() - started) / 1000).toFixed(1)}\n`);
  const stop = async () => {
    await node.stop();
    await cp.stop();
    await reg.stop();
    rmSync(STATE, { recursive: true, force: true });
    process.exit(0);
  };
  process.on("SIGTERM", () => void stop());
  process.on("SIGINT", () => void stop());
  setInterval(() => {}, 1 << 30);
}

if (process.argv[2] === "serve") {
  serve(process.argv.includes("--always-pull-images")).catch((e: unknown) => {
    console.error(`cluster: ${(e as Error).message}`);
    process.exit(1);
  });
} else {
  console.error("usage: scripts/cluster.sh up [--always-pull-images] | down | env");
  process.exit(2);
}
