// A small deterministic PRNG (mulberry32) for generated test data and benchmark corpora:
// the same seed gives the same sequence on every run and machine. Not for anything secret.

/** Returns a function that yields numbers in [0, 1), determined by `seed`. */
export function mulberry32(seed: number): () => number {
  let a = seed | 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
