// Runs every test file under test/ with node's test runner and tsx.
// Node 20 neither expands quoted globs nor treats a directory as "all tests in it",
// so the files are listed here explicitly (see ../shared/specs/ecosystem.md §4.8).
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join } from "node:path";

const root = new URL("..", import.meta.url).pathname;

// What the tests need from Debian, installed when missing: no test skips for a missing tool.
const deps = spawnSync("bash", [join(root, "scripts/test-deps.sh")], { stdio: "inherit" });
if (deps.status !== 0) {
  console.error("test dependencies missing: not running the tests");
  process.exit(deps.status ?? 1);
}

// The Go-built test peers (test/peers/versions.env: Kubernetes, etcd, containerd, crictl,
// crane, the OCI conformance suite), each built once into ~/.cache/kimg-peers/: the
// differential tests run against them, and none is skipped for a missing peer.
const peers = spawnSync("bash", [join(root, "scripts/build-peers.sh")], { stdio: "inherit" });
if (peers.status !== 0) {
  console.error("test peers missing: not running the tests (scripts/build-peers.sh said why)");
  process.exit(peers.status ?? 1);
}

// The CLI tests run the built binary: build first, so they never test a stale dist/.
const build = spawnSync("npm", ["run", "--silent", "build"], { cwd: root, stdio: "inherit" });
if (build.status !== 0) {
  console.error("build failed: not running the tests");
  process.exit(build.status ?? 1);
}
const only = process.argv.slice(2);
// The longest files start first, so the run does not end waiting on one of them alone (they
// were last in name order). Measured with KIMG_TEST_CONCURRENCY=3 on a 2-CPU machine.
const SLOW_FIRST = [
  // The real node's matrix runs about 2 min: started first, it overlaps everything else.
  "test/peers/kubelet.test.ts",
  "test/store/gc-race.test.ts",
  "test/pull/kill.test.ts",
  "test/unpack/apply.test.ts",
  "test/store/processes.test.ts",
  "test/cli/run.test.ts",
  "test/cli/run-crash.test.ts",
  "test/cli/hostile-registry.test.ts",
  "test/cli/inspect.test.ts",
  "test/unpack/hostile.test.ts",
];
const weight = (f) => {
  const i = SLOW_FIRST.indexOf(f);
  return i < 0 ? 0 : SLOW_FIRST.length - i;
};
const files = readdirSync(join(root, "test"), { recursive: true })
  .map(String)
  .filter((f) => f.endsWith(".test.ts"))
  .map((f) => join("test", f))
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort((a, b) => weight(b) - weight(a) || a.localeCompare(b));
if (files.length === 0) {
  console.error("no test files found");
  process.exit(1);
}
// Files run side by side: most of a file's time is spent waiting on registries and child
// processes, so the runner's default (one file at a time on a 2-CPU machine: CPUs − 1) leaves
// the machine idle. KIMG_TEST_CONCURRENCY overrides (1 = serial, for debugging).
const concurrency =
  Number(process.env.KIMG_TEST_CONCURRENCY) || Math.max(2, availableParallelism() + 1);
const r = spawnSync(
  process.execPath,
  ["--import", "tsx", "--test", `--test-concurrency=${concurrency}`, ...files],
  {
    cwd: root,
    stdio: "inherit",
  },
);
process.exit(r.status ?? 1);
