// Byte counts and durations for humans, as docker prints them (decimal units: kB, MB, GB).
// Pure.

const UNITS = ["kB", "MB", "GB", "TB"] as const;

/** `512 B`, `1.5 kB`, `23.4 MB`. */
export function formatBytes(n: number): string {
  if (n < 1000) return `${n} B`;
  let v = n;
  let unit: string = "B";
  for (const u of UNITS) {
    if (v < 1000) break;
    v /= 1000;
    unit = u;
  }
  return `${v < 10 ? v.toFixed(2) : v < 100 ? v.toFixed(1) : v.toFixed(0)} ${unit}`;
}

/** `850ms`, `1.23s`, `2m3s`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(2)}s`;
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)}m${s % 60}s`;
}
