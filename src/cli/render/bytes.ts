// Byte counts and durations for humans: the library's src/format (shared with the web page),
// re-exported where the CLI's renderers import them.
export { formatBytes, formatDuration } from "../../core.ts";
