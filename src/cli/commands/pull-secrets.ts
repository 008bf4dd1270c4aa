// `--pull-secret FILE`: the Secret objects of YAML/JSON manifest files. Its own module, imported
// only when the flag is given, because reading manifests loads `yaml` (35–70 ms of start-up
// that a plain `kimg pull` does not need).
//
// Every Secret is checked when the file is read, as the keyring will read it (checkPullSecret):
// a malformed one is refused before any pull with the upstream text located —
// `sec.yaml:7: secret shop/regcred: data[.dockerconfigjson]: auths["HOST"].auth: illegal base64
// data at input byte 0` — and exit 2 (CREDENTIALS_INVALID: input that cannot be read).

import { readFile } from "node:fs/promises";
import {
  errnoText,
  KimgError,
  loadManifests,
  type SecretObject,
  secretsInFile,
} from "../../index.ts";

/** The Secret-shaped objects of a manifest file (a `List`'s items included), each checked. */
export async function loadSecrets(path: string): Promise<SecretObject[]> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    throw new KimgError("INPUT_UNREADABLE", `${path}: cannot read: ${errnoText(e)}`);
  }
  return secretsInFile(loadManifests(text, path), { requirePullType: true });
}
