// Pull secrets written next to the workloads in manifest files: the Secret objects of a loaded
// file (a `List`'s items included), each checked as the kubelet's keyring will read it
// (checkPullSecret), a malformed one refused with the upstream text located —
// `sec.yaml:7: secret shop/regcred: data[.dockerconfigjson]: auths["HOST"].auth: illegal base64
// data at input byte 0` (CREDENTIALS_INVALID). Shared by `--pull-secret FILE` and `kimg pin`,
// which resolves a Pod's images with the secrets its imagePullSecrets name in the same files.

import { checkPullSecret, type SecretObject } from "../credentials/index.ts";
import { isKimgError, KimgError } from "../errors.ts";
import { type ManifestFile, offsetAt } from "../manifest/index.ts";

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

export interface SecretsInFileOptions {
  /**
   * Every object must be a pull secret (`--pull-secret FILE`): a Secret of another type is an
   * error. Default false: only Secrets of the two pull-secret types are read, others skipped.
   */
  readonly requirePullType?: boolean;
}

/** The pull Secrets of a loaded manifest file, each checked (CREDENTIALS_INVALID at file:line). */
export function secretsInFile(file: ManifestFile, opts: SecretsInFileOptions = {}): SecretObject[] {
  const strict = opts.requirePullType === true;
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
    if (strict ? o.kind !== undefined && o.kind !== "Secret" : o.kind !== "Secret") return;
    if (
      !strict &&
      o.type !== "kubernetes.io/dockerconfigjson" &&
      o.type !== "kubernetes.io/dockercfg"
    ) {
      return;
    }
    try {
      checkPullSecret(o as SecretObject, { requirePullType: true });
    } catch (e) {
      if (!isKimgError(e)) throw e;
      const typeProblem = / type "[^"]*" is not /.test(e.message);
      throw new KimgError(
        "CREDENTIALS_INVALID",
        `${file.source}:${lineOf(root, at, file.position, docLine, typeProblem)}: ${e.message}`,
        { cause: e },
      );
    }
    out.push(o as SecretObject);
  };
  for (const d of file.documents) {
    // Only Secrets and Lists are read as JS (the `yaml` Document is parsed on first access; a
    // stream of workloads must not pay for it).
    if (!strict && !mayHoldSecret(d.root)) continue;
    add(d.document.toJS(), d.root, [], d.line);
  }
  return out;
}

/** The document's top-level `kind` is Secret or a List (or missing: not ours to guess). */
function mayHoldSecret(root: Root): boolean {
  if (root === null || typeof root !== "object" || root.kind !== "map") return false;
  for (const p of root.items) {
    if (p.key?.kind === "scalar" && p.key.value === "kind") {
      const v = p.value?.kind === "scalar" ? p.value.value : undefined;
      return typeof v !== "string" || v === "Secret" || v.endsWith("List");
    }
  }
  return false;
}
