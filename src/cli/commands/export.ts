// kimg export REF: a stored image as an OCI layout directory, an OCI archive or a Docker
// archive, for the tools that do not read kimg's store directly (skopeo, podman load, docker
// load, ctr images import, umoci). Thin: exportImage does the work (src/export/).

import { defaultStoreDir, type ExportFormat, exportImage, FsBlobStore } from "../../index.ts";
import { type CliIO, EXIT } from "../io.ts";
import { formatBytes } from "../render/bytes.ts";
import { safe, toJson } from "../render/safe.ts";

export interface ExportFlags {
  readonly format: ExportFormat;
  readonly output: string;
  readonly platform?: string | undefined;
  readonly json: boolean;
  readonly store?: string | undefined;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly homedir: string;
}

export async function runExport(ref: string, f: ExportFlags, io: CliIO): Promise<number> {
  const store = await FsBlobStore.openExisting(f.store ?? defaultStoreDir(f.env, f.homedir));
  const r = await exportImage(store, ref, {
    format: f.format,
    output: f.output,
    platform: f.platform,
  });
  io.stdout.write(
    f.json
      ? `${toJson(r)}\n`
      : `${safe(`Exported ${r.image} (${r.platform}, ${r.digest}) as ${r.format} to ${r.output}: ${r.blobs} blobs, ${formatBytes(r.bytes)}`)}\n`,
  );
  return EXIT.OK;
}
