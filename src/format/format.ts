// Text for people: byte counts, durations, short digests and the one line a pull's progress
// event prints. Pure and self-contained (no imports), because the web page loads the compiled
// file as is (web/lib/format.js, copied at build time: scripts/post-build.mjs), so `kimg
// pull --progress plain` and `kimg ui`'s pull log print the same text from one definition
// (issue 11: web/app.js kept its own copies).

const UNITS = ["kB", "MB", "GB", "TB"] as const;

/** `512 B`, `1.50 kB`, `23.4 MB`: docker's decimal units. Not a finite number: `-`. */
export function formatBytes(n: number): string {
  if (typeof n !== "number" || !Number.isFinite(n)) return "-";
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

/** `sha256:` + the first 12 hex digits, as docker shortens IDs; no algorithm: 12 characters. */
export function shortDigest(d: string): string {
  const i = d.indexOf(":");
  return i === -1 ? d.slice(0, 12) : d.slice(0, i + 13);
}

/** The fields of a pull's progress events (src/pull/progress.ts ProgressEvent) a line shows. */
export type ProgressLineEvent =
  | {
      readonly type: "resolve";
      readonly ref: string;
      readonly digest: string;
      readonly mediaType: string;
      readonly size: number;
      readonly endpoint?: string | undefined;
    }
  | {
      readonly type: "manifest";
      readonly digest: string;
      readonly kind: string;
      readonly cached: boolean;
      readonly platform?: string | undefined;
    }
  | {
      readonly type: "blob-start";
      readonly digest: string;
      readonly size: number;
      readonly offset: number;
    }
  | {
      readonly type: "blob-progress";
      readonly digest: string;
      readonly current: number;
      readonly size: number;
    }
  | { readonly type: "blob-skipped" | "blob-done"; readonly digest: string }
  | {
      readonly type: "wait";
      readonly host: string;
      readonly ms: number;
      readonly attempt: number;
      readonly reason: string;
    }
  | { readonly type: "layers" | "done" };

/**
 * One line per event, as `kimg pull --progress plain` prints it; undefined for `layers` and
 * `done` (the TTY's waiting lines and the summary line cover them). Raw text: a terminal front
 * end escapes control characters first (cli/render/safe.ts), a web page sets textContent.
 */
export function progressText(e: ProgressLineEvent): string | undefined {
  switch (e.type) {
    case "resolve":
      return `${e.ref}: resolved to ${e.digest} (${e.mediaType}, ${formatBytes(e.size)})${e.endpoint !== undefined ? ` from ${e.endpoint}` : ""}`;
    case "manifest":
      return `${shortDigest(e.digest)}: ${e.kind}${e.cached ? " already exists" : " downloaded"}${e.platform !== undefined ? ` for ${e.platform}` : ""}`;
    case "blob-start":
      return `${shortDigest(e.digest)}: downloading ${formatBytes(e.size)}${e.offset > 0 ? ` (resuming at ${e.offset})` : ""}`;
    case "blob-progress":
      return `${shortDigest(e.digest)}: ${formatBytes(e.current)} / ${formatBytes(e.size)}`;
    case "blob-skipped":
      return `${shortDigest(e.digest)}: already exists`;
    case "blob-done":
      return `${shortDigest(e.digest)}: download complete`;
    case "wait":
      return `${e.host}: waiting ${formatDuration(e.ms)} before try ${e.attempt}: ${e.reason}`;
    default:
      return undefined;
  }
}
