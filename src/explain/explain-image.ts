// One image string, explained: how each parse mode reads it, its anatomy, its familiar and
// normalized forms, the kubelet's CRI image string and the pull policy the API server would
// default for it. What `kimg parse` prints and the web UI draws. Pure.

import type { ErrorCode } from "../errors.ts";
import { type DefaultingRule, defaultPullPolicy, type PullPolicy } from "../policy/index.ts";
import {
  type Anatomy,
  anatomy,
  applyDefaultImageTag,
  familiarName,
  familiarString,
  isFailure,
  isNamed,
  type ParseMode,
  type ParseOptions,
  parseImageName,
  parseWithMode,
  type Reference,
  type RefFailure,
  referenceString,
  tryParseWithMode,
} from "../ref/index.ts";

export interface ImageExplanation {
  readonly input: string;
  readonly mode: ParseMode;
  readonly valid: boolean;
  readonly error: { readonly code: ErrorCode; readonly message: string } | null;
  readonly kind: Reference["kind"] | null;
  /** Reference fields as the mode's upstream function returns them ("" when absent). */
  readonly domain: string;
  readonly path: string;
  readonly tag: string;
  readonly digest: string;
  /** The parsed reference's String() in this mode. */
  readonly string: string | null;
  /** Docker's familiar (short) form, `nginx:1.25`. */
  readonly familiar: string | null;
  readonly familiarName: string | null;
  /** Fully qualified, as ParseNormalizedNamed gives it (independent of mode). */
  readonly normalized: string | null;
  /** The seed's anatomy. */
  readonly registry: string;
  readonly port: string;
  readonly repository: string;
  readonly imageName: string;
  readonly anatomy: Anatomy | null;
  /** What the API server would set for an empty imagePullPolicy (errors ignored, as upstream). */
  readonly defaultPullPolicy: PullPolicy;
  readonly defaultPullPolicyRule: DefaultingRule;
  readonly defaultPullPolicyReason: string;
  /** The string the kubelet sends to the runtime (`nginx` → `nginx:latest`). */
  readonly criImage: string | null;
  /** ParseImageName's repository (k8s mode only). */
  readonly repoToPull?: string | null;
}

function safe<T>(f: () => T): T | null {
  try {
    return f();
  } catch {
    return null;
  }
}

/** Explains `input` as the upstream function named by `mode` reads it. Never throws. */
export function explainImage(
  input: string,
  mode: ParseMode = "normalized",
  opts?: ParseOptions,
): ImageExplanation {
  const policy = defaultPullPolicy(input, opts);
  const r: Reference | RefFailure = tryParseWithMode(input, mode, opts);
  const base = {
    input,
    mode,
    defaultPullPolicy: policy.policy,
    defaultPullPolicyRule: policy.rule,
    defaultPullPolicyReason: policy.reason,
  };
  const k8s =
    mode === "k8s" ? { repoToPull: safe(() => parseImageName(input, opts).repoToPull) } : {};
  if (isFailure(r)) {
    return {
      ...base,
      ...k8s,
      valid: false,
      error: { code: r.code, message: r.message },
      kind: null,
      domain: "",
      path: "",
      tag: "",
      digest: "",
      string: null,
      familiar: null,
      familiarName: null,
      normalized: null,
      registry: "",
      port: "",
      repository: "",
      imageName: "",
      anatomy: null,
      criImage: null,
    };
  }
  const a = anatomy(input, r, mode);
  return {
    ...base,
    ...k8s,
    valid: true,
    error: null,
    kind: r.kind,
    domain: r.domain,
    path: r.path,
    tag: r.tag,
    digest: r.digest,
    string: referenceString(r),
    familiar: familiarString(r),
    familiarName: isNamed(r) ? familiarName(r) : null,
    normalized: safe(() => referenceString(parseWithMode(input, "normalized", opts))),
    registry: a.registry.value,
    port: a.port.value,
    repository: a.repository.value,
    imageName: a.imageName.value,
    anatomy: a,
    criImage: safe(() => applyDefaultImageTag(input, opts)),
  };
}
