// Hostile layers of issue 19 item 6, timed through the built unpacker (dist/): each must unpack,
// or be refused, in under 2 s. Each runs on the disk (BENCH_DIR, default the system temp dir)
// and on tmpfs (/dev/shm), median of 3; the "floor" column is what creating as many inodes in
// one directory costs here with coreutils (`xargs touch`), which no unpacker can beat.
//
//   npm run bench:hostile          (writes the table to stdout, for docs/performance.md)

import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildLayer, type TarPart, type TestLayer } from "../test/helpers/layers.ts";

const { unpackLayers } = (await import(
  new URL("../dist/unpack/index.js", import.meta.url).href
)) as typeof import("../src/unpack/index.ts");

interface Case {
  name: string;
  /** Inodes the layer asks for (for the floor). */
  inodes: number;
  build: () => Promise<TestLayer>;
}

/** PAX records for `count` user.* xattrs on one entry. */
const userXattrs = (count: number): Record<string, string> =>
  Object.fromEntries(Array.from({ length: count }, (_, i) => [`SCHILY.xattr.user.k${i}`, `v${i}`]));

const pad = (n: number): string => Array.from({ length: n }, () => "d/..").join("/");
const chain = (links: number, files: number): TarPart[] => {
  const e: TarPart[] = [
    { name: "d/", type: "dir" },
    { name: "l0/", type: "dir" },
  ];
  for (let i = 1; i <= links; i++) {
    e.push({ name: `l${i}`, type: "symlink", linkname: `${pad(30)}/l${i - 1}` });
  }
  for (let i = 0; i < files; i++) e.push({ name: `l${links}/f${i}`, content: "x" });
  return e;
};

const cases: Case[] = [
  {
    name: "1 entry with 2,000 user.* xattrs (5 KB)",
    inodes: 1,
    build: () => buildLayer([{ name: "f", content: "x", pax: userXattrs(2000) }]),
  },
  {
    name: "1 entry with 128 user.* xattrs (the cap)",
    inodes: 1,
    build: () => buildLayer([{ name: "f", content: "x", pax: userXattrs(128) }]),
  },
  {
    name: "5,000 FIFOs",
    inodes: 5000,
    build: () =>
      buildLayer(Array.from({ length: 5000 }, (_, i) => ({ name: `p/f${i}`, type: "fifo" }))),
  },
  {
    name: "2,000 files behind a 250-symlink chain padded with d/..",
    inodes: 2252,
    build: () => buildLayer(chain(250, 2000)),
  },
  {
    name: "2,000 files behind a 40-symlink chain padded with d/.. (allowed)",
    inodes: 2042,
    build: () => buildLayer(chain(40, 2000)),
  },
  {
    name: "3.2 GB of zeros in a ~3 MB gzip layer",
    inodes: 1,
    build: () => buildLayer([{ name: "zeros", zeros: 3200 * 1024 * 1024 }]),
  },
  {
    name: "a PAX 1.0 sparse file",
    inodes: 1,
    build: () =>
      buildLayer([
        {
          name: "GNUSparseFile.0/big",
          content: "x",
          pax: { "GNU.sparse.major": "1", "GNU.sparse.minor": "0", "GNU.sparse.name": "big" },
        },
      ]),
  },
  {
    name: "66,000 hardlinks to one file (EMLINK on ext4)",
    inodes: 66001,
    build: () => {
      const e: TarPart[] = [{ name: "target", content: "x" }];
      for (let i = 0; i < 66_000; i++)
        e.push({ name: `h/${i}`, type: "hardlink", linkname: "target" });
      return buildLayer(e);
    },
  },
];

const median = (xs: number[]): number =>
  [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

/** `xargs touch` of N names in one fresh directory under `base`: the file system's floor. */
function floorMs(base: string, n: number): number {
  const d = mkdtempSync(join(base, "kimg-floor-"));
  const t = performance.now();
  execFileSync("sh", ["-c", `cd "${d}" && seq 1 ${n} | xargs touch`]);
  const ms = performance.now() - t;
  rmSync(d, { recursive: true, force: true });
  return ms;
}

async function run(layer: TestLayer, base: string): Promise<{ ms: number; outcome: string }> {
  const parent = mkdtempSync(join(base, "kimg-hostile-"));
  const t = performance.now();
  let outcome: string;
  try {
    const r = await unpackLayers([layer.input()], join(parent, "rootfs"));
    outcome = `unpacked (${r.files} entries)`;
  } catch (e) {
    outcome = `refused: ${(e as { code?: string }).code}`;
  }
  const ms = performance.now() - t;
  rmSync(parent, { recursive: true, force: true });
  return { ms, outcome };
}

const disk = process.env.BENCH_DIR ?? tmpdir();
const places: Array<[string, string]> = [[`disk (${disk})`, disk]];
if (existsSync("/dev/shm")) places.push(["tmpfs (/dev/shm)", "/dev/shm"]);

console.log(
  `| layer | blob | ${places.map(([p]) => `${p}: outcome | time | floor`).join(" | ")} |`,
);
console.log(`|---|---|${places.map(() => "---|---|---").join("|")}|`);
for (const c of cases) {
  const layer = await c.build();
  const cols: string[] = [];
  for (const [, base] of places) {
    const times: number[] = [];
    let outcome = "";
    for (let i = 0; i < 3; i++) {
      const r = await run(layer, base);
      times.push(r.ms);
      outcome = r.outcome;
    }
    cols.push(outcome);
    cols.push(`${(median(times) / 1000).toFixed(2)} s`);
    cols.push(c.inodes > 1 ? `${(floorMs(base, c.inodes) / 1000).toFixed(2)} s` : "–");
  }
  const kb =
    layer.size < 1024 * 1024
      ? `${(layer.size / 1024).toFixed(0)} KB`
      : `${(layer.size / 1024 / 1024).toFixed(1)} MB`;
  console.log(`| ${c.name} | ${kb} | ${cols.join(" | ")} |`);
}
