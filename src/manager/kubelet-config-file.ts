// loadKubeletConfigurationFile(): a KubeletConfiguration file (YAML or JSON, as the kubelet's
// --config reads it) → the defaulted, validated configuration and its warnings. One loader for
// `kimg run --node-config` and `kimg gc --node-config`, with one wording for its errors
// (issue 11: the two commands read the file in two ways and said it in two ways):
//   `FILE: cannot read: no such file or directory`            INPUT_UNREADABLE (exit 2)
//   `FILE: expected one KubeletConfiguration document, found 2` INPUT_INVALID (exit 1)
//   `FILE: invalid configuration: …`                          INPUT_INVALID (the kubelet's words)

import { readFile } from "node:fs/promises";
import { errnoText, isKimgError, KimgError } from "../errors.ts";
import { type LoadedKubeletConfiguration, loadKubeletConfiguration } from "../kubelet/index.ts";
import { loadManifests } from "../manifest/index.ts";

export async function loadKubeletConfigurationFile(
  path: string,
): Promise<LoadedKubeletConfiguration> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    throw new KimgError("INPUT_UNREADABLE", `${path}: cannot read: ${errnoText(e)}`);
  }
  return kubeletConfigurationFromText(text, path);
}

/** The same for text already read (standard input, a ConfigMap); `source` names it in errors. */
export function kubeletConfigurationFromText(
  text: string,
  source: string,
): LoadedKubeletConfiguration {
  const docs = loadManifests(text, source).documents;
  if (docs.length !== 1) {
    throw new KimgError(
      "INPUT_INVALID",
      `${source}: expected one KubeletConfiguration document, found ${docs.length}`,
    );
  }
  try {
    return loadKubeletConfiguration(docs[0]?.document.toJS() as unknown);
  } catch (e) {
    if (isKimgError(e)) throw new KimgError("INPUT_INVALID", `${source}: ${e.message}`);
    throw e;
  }
}
