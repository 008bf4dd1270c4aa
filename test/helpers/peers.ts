// The Go-built test peers (test/peers/versions.env): where each one's binaries are, built
// first by scripts/build-peers.sh when missing, so no test skips for a missing peer. npm test
// builds them all before the tests start; this is for a test file run on its own.

import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";

const SCRIPT = resolve(import.meta.dirname, "../../scripts/build-peers.sh");

export type PeerName = "crane" | "crictl" | "etcd" | "containerd" | "conformance" | "kubernetes";

/** The directory holding `name`'s binaries, building them first when they are not there. */
export function peerDir(name: PeerName): string {
  const dir = execFileSync("bash", [SCRIPT, "--print-dir", name], { encoding: "utf8" }).trim();
  if (!existsSync(join(dir, ".stamp"))) {
    execFileSync("bash", [SCRIPT, name], { stdio: ["ignore", "inherit", "inherit"] });
  }
  return dir;
}

/** The path of one binary of a peer: `peerBin("kubernetes", "kube-apiserver")`. */
export function peerBin(name: PeerName, bin: string = name): string {
  return join(peerDir(name), bin);
}
