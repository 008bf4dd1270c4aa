// kimg inspect: what the local store knows about one image (docker image inspect), no
// network. Thin: inspectImage() does the work; this renders it as aligned text or JSON.

import { defaultStoreDir, FsBlobStore, type ImageInspection, inspectImage } from "../../index.ts";
import { type CliIO, EXIT } from "../io.ts";
import { formatBytes } from "../render/bytes.ts";
import { safe, toJson } from "../render/safe.ts";

export interface InspectFlags {
  readonly json: boolean;
  readonly store?: string | undefined;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly homedir: string;
}

const isoSeconds = (s: string): string => s.replace(/\.\d+Z$/, "Z");
const list = (xs: readonly string[] | undefined): string =>
  xs === undefined || xs.length === 0 ? "-" : toJson(xs);

/** The text form: one `key  value` line per field, then one block per layer. */
export function renderInspection(i: ImageInspection): string {
  const c = i.config;
  const rows: [string, string][] = [
    ["names", i.names.join(", ")],
    ["manifest", `${i.manifestDigest} (${i.mediaTypes.manifest}, ${formatBytes(i.manifestSize)})`],
    [
      "index",
      i.indexDigest === undefined ? "-" : `${i.indexDigest} (${i.mediaTypes.index ?? "?"})`,
    ],
    ["config", `${i.configDigest} (${i.mediaTypes.config}, ${formatBytes(i.configSize)})`],
    ["platform", i.platform],
    ["created", i.created ?? "-"],
    ["author", i.author ?? "-"],
    ["entrypoint", list(c.entrypoint)],
    ["cmd", list(c.cmd)],
    ["workingdir", c.workingDir === undefined || c.workingDir === "" ? "-" : c.workingDir],
    ["user", c.user === undefined || c.user === "" ? "-" : c.user],
  ];
  const multi = (key: string, values: readonly string[]): void => {
    if (values.length === 0) rows.push([key, "-"]);
    values.forEach((v, n) => {
      rows.push([n === 0 ? key : "", v]);
    });
  };
  multi("env", c.env ?? []);
  multi(
    "labels",
    Object.entries(c.labels ?? {}).map(([k, v]) => `${k}=${v}`),
  );
  rows.push(["exposed ports", (c.exposedPorts ?? []).join(" ") || "-"]);
  if (c.volumes !== undefined && c.volumes.length > 0) rows.push(["volumes", c.volumes.join(" ")]);
  rows.push(
    ["size", formatBytes(i.size)],
    ["pulled", isoSeconds(i.pulledAt)],
    ["last used", isoSeconds(i.lastUsed)],
    ["credential", i.credential?.kind ?? "-"],
    ["layers", String(i.layers.length)],
  );
  const width = Math.max(...rows.map(([k]) => k.length)) + 2;
  const out = [i.name, ...rows.map(([k, v]) => `  ${k.padEnd(width)}${v}`)];
  i.layers.forEach((l, n) => {
    out.push(
      `  ${String(n + 1).padStart(3)}  ${l.digest}`,
      `       ${l.mediaType}, ${formatBytes(l.size)}`,
      `       diff_id ${l.diffId ?? "-"}`,
      `       shared with ${l.sharedWith.length === 0 ? "-" : l.sharedWith.join(", ")}`,
    );
  });
  // Config fields, labels and annotations are the image author's text.
  return out.map(safe).join("\n");
}

export async function runInspect(ref: string, f: InspectFlags, io: CliIO): Promise<number> {
  const store = await FsBlobStore.openExisting(f.store ?? defaultStoreDir(f.env, f.homedir));
  const i = await inspectImage(store, ref);
  io.stdout.write(f.json ? `${toJson(i, 2)}\n` : `${renderInspection(i)}\n`);
  return EXIT.OK;
}
