// `--pull-secret FILE`: the Secret objects of YAML/JSON manifest files. Its own module, imported
// only when the flag is given, because reading manifests loads `yaml` (35–70 ms of start-up
// that a plain `kimg pull` does not need).

import { readFile } from "node:fs/promises";
import { KimgError, loadManifests, type SecretObject } from "../../index.ts";

/** The Secret-shaped objects of a manifest file (a `List`'s items included). */
export async function loadSecrets(path: string): Promise<SecretObject[]> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    throw new KimgError("INPUT_UNREADABLE", `${path}: cannot read: ${(e as Error).message}`);
  }
  const out: SecretObject[] = [];
  const add = (v: unknown): void => {
    if (typeof v !== "object" || v === null || Array.isArray(v)) return;
    const o = v as Record<string, unknown>;
    if (o.kind === "List" && Array.isArray(o.items)) for (const i of o.items) add(i);
    else out.push(o as SecretObject);
  };
  for (const d of loadManifests(text, path).documents) add(d.document.toJS());
  return out;
}
