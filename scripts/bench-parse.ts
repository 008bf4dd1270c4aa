// `npm run bench`: parse throughput of the normalized parse (ParseNormalizedNamed) on a
// realistic mixed corpus: references with and without registry, port, namespace, tag and
// digest, and about 10% invalid ones. One core (this process), a warm-up, then several timed
// rounds; reports the median. Not a test: numbers go in the closing note and
// docs/performance.md, never into assertions.

import { cpus } from "node:os";
import {
  parse,
  parseNormalizedNamed,
  type Reference,
  type RefFailure,
  tryParseNormalizedNamed,
} from "../src/index.ts";
import { mulberry32 } from "../test/helpers/prng.ts";

const rand = mulberry32(42);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;
const hex = (n: number): string => {
  let s = "";
  for (let i = 0; i < n; i++) s += "0123456789abcdef"[Math.floor(rand() * 16)];
  return s;
};

const REGISTRIES = [
  "",
  "",
  "",
  "",
  "docker.io/",
  "index.docker.io/",
  "gcr.io/",
  "ghcr.io/",
  "quay.io/",
  "registry.k8s.io/",
  "my-registry.example.com:5000/",
  "localhost:5000/",
  "localhost/",
  "10.0.0.12:443/",
  "[::1]:5000/",
  "123456789012.dkr.ecr.eu-west-1.amazonaws.com/",
];
const NAMESPACES = [
  "",
  "",
  "library/",
  "example/",
  "prometheus/",
  "bitnami/",
  "org/team/",
  "kube-system/",
];
const NAMES = [
  "nginx",
  "redis",
  "web-example",
  "node-exporter",
  "pause",
  "busybox",
  "alpine",
  "my_app",
  "api.server",
  "postgres",
  "coredns",
  "kube-proxy",
  "app--v2",
];
const TAGS = [
  "",
  "",
  "latest",
  "1.25",
  "v1.0.1",
  "3.9",
  "22.04",
  "stable-alpine",
  "v1.8.2-debian-12-r3",
  "LATEST",
];
const INVALID = [
  "Nginx",
  "nginx:",
  "nginx:-bad",
  "http://registry/foo",
  "foo bar",
  "",
  "nginx@sha256:abc",
  "UPPER/Case:1",
  "a/b/:c",
  `nginx@sha256:${"g".repeat(64)}`,
  "registry:5000/Foo",
  ":latest",
  "nginx::1",
  "-leading/dash",
  hex(64),
];

function validReference(): string {
  let s = pick(REGISTRIES) + pick(NAMESPACES) + pick(NAMES);
  const tag = pick(TAGS);
  if (tag !== "") s += `:${tag}`;
  if (rand() < 0.2) s += `@sha256:${hex(64)}`;
  return s;
}

const CORPUS_SIZE = 10_000;
const corpus: string[] = [];
for (let i = 0; i < CORPUS_SIZE; i++) corpus.push(rand() < 0.1 ? pick(INVALID) : validReference());

function checkCorpus(): { valid: number; invalid: number } {
  let valid = 0;
  for (const s of corpus) {
    const r = tryParseNormalizedNamed(s);
    if ("failed" in r) {
      // The fast path must agree with the throwing API on every input.
      try {
        parseNormalizedNamed(s);
        throw new Error(`disagreement on ${s}`);
      } catch (e) {
        if ((e as { message?: string }).message !== r.message)
          throw new Error(`message differs on ${s}`);
      }
    } else valid++;
  }
  return { valid, invalid: corpus.length - valid };
}

function timeRounds(
  name: string,
  f: (s: string) => unknown,
  iterations: number,
  rounds = 7,
): number {
  for (let i = 0; i < iterations / 4; i++) f(corpus[i % CORPUS_SIZE] as string); // warm-up
  const rates: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < iterations; i++) f(corpus[i % CORPUS_SIZE] as string);
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    rates.push(iterations / seconds);
  }
  rates.sort((a, b) => a - b);
  const median = rates[Math.floor(rates.length / 2)] as number;
  const fmt = (n: number) => Math.round(n).toLocaleString("en-US");
  console.log(
    `${name.padEnd(44)} ${fmt(median).padStart(11)} parses/s  (min ${fmt(rates[0] as number)}, max ${fmt(rates[rates.length - 1] as number)})`,
  );
  return median;
}

const { valid, invalid } = checkCorpus();
console.log(`node ${process.version}, ${cpus()[0]?.model ?? "cpu"}, one core`);
console.log(
  `corpus: ${corpus.length} references, ${valid} valid, ${invalid} invalid (${((invalid / corpus.length) * 100).toFixed(1)}%)`,
);
const N = 2_000_000;
const rate = timeRounds(
  "tryParseNormalizedNamed (failures as values)",
  (s) => tryParseNormalizedNamed(s),
  N,
);
timeRounds(
  "parseNormalizedNamed (throws KimgError)",
  (s) => {
    try {
      return parseNormalizedNamed(s);
    } catch {
      return undefined;
    }
  },
  N / 4,
);
timeRounds(
  "parse (no normalization, throws)",
  (s) => {
    try {
      return parse(s);
    } catch {
      return undefined;
    }
  },
  N / 4,
);
const target = 2_000_000;
console.log(
  `target ${target.toLocaleString("en-US")} parses/s for the normalized parse: ${rate >= target ? "met" : "NOT met"}`,
);
// Keep the result types referenced so the import list documents what is measured.
export type Measured = Reference | RefFailure;
