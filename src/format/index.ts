// Public API of src/format: text for people (bytes, durations, short digests, progress lines).
// Pure and import-free, so the web page can load it too. Re-exports only.
export {
  formatBytes,
  formatDuration,
  type ProgressLineEvent,
  progressText,
  shortDigest,
} from "./format.ts";
