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
  checkPullSecret,
  errnoText,
  isKimgError,
  KimgError,
  loadManifests,
  offsetAt,
  type SecretObject,
} from "../../index.ts";

type Root = Parameters<typeof offsetAt>[0];

/**
 * The line of what is wrong: the Secret's `type` when that is the problem, else its data key
 * (where the bad value is), else the object itself.
 */
function lineOf(
  root: Root,
  at: readonly (string | number)[],
  position: (offset: number) => { line: number },
  fallback: number,
  typeProblem: boolean,
): number {
  const candidates = typeProblem
    ? [[...at, "type"]]
    : [
        [...at, "stringData", ".dockerconfigjson"],
        [...at, "data", ".dockerconfigjson"],
        [...at, "stringData", ".dockercfg"],
        [...at, "data", ".dockercfg"],
      ];
  for (const path of [...candidates, at]) {
    const offset = offsetAt(root, path);
    if (offset !== undefined && offset >= 0) return position(offset).line;
  }
  return fallback;
}

/** The Secret-shaped objects of a manifest file (a `List`'s items included), each checked. */
export async function loadSecrets(path: string): Promise<SecretObject[]> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    throw new KimgError("INPUT_UNREADABLE", `${path}: cannot read: ${errnoText(e)}`);
  }
  const file = loadManifests(text, path);
  const out: SecretObject[] = [];
  const add = (v: unknown, root: Root, at: (string | number)[], docLine: number): void => {
    if (typeof v !== "object" || v === null || Array.isArray(v)) return;
    const o = v as Record<string, unknown>;
    if (o.kind === "List" && Array.isArray(o.items)) {
      o.items.forEach((item, i) => {
        add(item, root, [...at, "items", i], docLine);
      });
      return;
    }
    // Other kinds (a ConfigMap next to the Secret) are not pull secrets, and not an error.
    if (o.kind !== undefined && o.kind !== "Secret") return;
    try {
      checkPullSecret(o as SecretObject, { requirePullType: true });
    } catch (e) {
      if (!isKimgError(e)) throw e;
      const typeProblem = / type "[^"]*" is not /.test(e.message);
      throw new KimgError(
        "CREDENTIALS_INVALID",
        `${path}:${lineOf(root, at, file.position, docLine, typeProblem)}: ${e.message}`,
        { cause: e },
      );
    }
    out.push(o as SecretObject);
  };
  for (const d of file.documents) add(d.document.toJS(), d.root, [], d.line);
  return out;
}
