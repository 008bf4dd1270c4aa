// One image string, explained: how each parse mode reads it, its anatomy, its familiar and
// normalized forms, the kubelet's CRI image string and the pull policy the API server would
// default for it. What `kimg parse` prints and the web UI draws. Pure.

import type { ErrorCode } from "../errors.ts";
import { type DefaultingRule, defaultPullPolicy, type PullPolicy } from "../policy/index.ts";
import {
  type Anatomy,
  anatomy,
  criImageOf,
  familiarName,
  familiarString,
  isFailure,
  isNamed,
  type ParseMode,
  type ParseOptions,
  type Reference,
  type RefFailure,
  referenceString,
  tryParseImageName,
  tryParseNormalizedNamed,
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

function normalizedString(
  input: string,
  mode: ParseMode,
  r: Reference | RefFailure,
  opts: ParseOptions | undefined,
): string | null {
  const n = mode === "normalized" ? r : tryParseNormalizedNamed(input, opts);
  return isFailure(n) ? null : referenceString(n);
}

/** Explains `input` as the upstream function named by `mode` reads it. Never throws. */
export function explainImage(
  input: string,
  mode: ParseMode = "normalized",
  opts?: ParseOptions,
): ImageExplanation {
  const policy = defaultPullPolicy(input, opts);
  const r: Reference | RefFailure = tryParseWithMode(input, mode, opts);
  const ok = !isFailure(r);
  const a = ok ? anatomy(input, r, mode) : null;
  const k8s = tryParseImageName(input, opts);
  // Field order is the JSON output's order: identity, verdict, reference, anatomy, Kubernetes.
  return {
    input,
    mode,
    valid: ok,
    error: ok ? null : { code: r.code, message: r.message },
    kind: ok ? r.kind : null,
    domain: ok ? r.domain : "",
    path: ok ? r.path : "",
    tag: ok ? r.tag : "",
    digest: ok ? r.digest : "",
    string: ok ? referenceString(r) : null,
    familiar: ok ? familiarString(r) : null,
    familiarName: ok && isNamed(r) ? familiarName(r) : null,
    normalized: normalizedString(input, mode, r, opts),
    registry: a?.registry.value ?? "",
    port: a?.port.value ?? "",
    repository: a?.repository.value ?? "",
    imageName: a?.imageName.value ?? "",
    anatomy: a,
    defaultPullPolicy: policy.policy,
    defaultPullPolicyRule: policy.rule,
    defaultPullPolicyReason: policy.reason,
    criImage: ok && !isFailure(k8s) ? criImageOf(input, k8s) : null,
    ...(mode === "k8s" ? { repoToPull: isFailure(k8s) ? null : k8s.repoToPull } : {}),
  };
}
