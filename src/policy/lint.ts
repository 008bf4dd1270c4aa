// Advice on a container's image and pull policy, carrying the seed page's recommendations. Pure.
//
// Owns `lintContainer`. The findings restate the tutorial (shared/seed/README.md §3–5) and tie
// them to upstream behaviour:
// - `invalid-image` (error): the reference does not parse. API validation never parses images
//   (only "" and, in Pods, surrounding whitespace are rejected), so the kubelet is the one that
//   fails the container, with InvalidImageName:
//   kubernetes/kubernetes pkg/kubelet/images/image_manager.go EnsureImageExists →
//   applyDefaultImageTag → pkg/util/parsers ParseImageName (`couldn't parse image name …`).
// - `latest-tag` (warning): `:latest` or no tag (which means `:latest`, pkg/util/parsers) without a
//   digest: you cannot tell which version runs nor roll back properly.
// - `mutable-tag` (info): any other tag without a digest; a tag can be moved, a digest cannot.
// - `never-policy` (warning): effective policy Never — the kubelet never pulls
//   (image_manager.go: ErrImageNeverPull), so the image must be preloaded on every node.
// - `always-with-digest` (info): Always with a digest — safe and cheap, a digest never changes,
//   so the pull only re-checks the registry (and the pod's credentials).
//
// Choices: `latest-tag` and `mutable-tag` are exclusive (latest is the worse case of a mutable
// tag); `nginx:latest@sha256:…` gets neither, because the digest pins the content (it still
// defaults to Always). An invalid image yields only `invalid-image`.

import { KimgError } from "../errors.ts";
import { goQuote } from "../go/index.ts";
import { type ParseOptions, parseImageName } from "../ref/index.ts";
import { effectivePullPolicy } from "./pull-policy.ts";

export type FindingCode =
  | "invalid-image"
  | "latest-tag"
  | "mutable-tag"
  | "never-policy"
  | "always-with-digest";

export type FindingSeverity = "error" | "warning" | "info";

export interface Finding {
  readonly code: FindingCode;
  readonly severity: FindingSeverity;
  readonly message: string;
}

export interface LintInput {
  readonly image: string;
  /** The declared `imagePullPolicy` (undefined or "" when omitted). */
  readonly declaredPolicy?: string | undefined;
  /** The policy after API defaulting; computed from image and declaredPolicy when omitted. */
  readonly effectivePolicy?: string | undefined;
}

export type LintOptions = ParseOptions;

/** Findings for one container, most severe first (error, warning, info). */
export function lintContainer(input: LintInput, opts?: LintOptions): Finding[] {
  const { image } = input;
  const q = goQuote(image);
  let tag: string;
  let digest: string;
  try {
    ({ tag, digest } = parseImageName(image, opts));
  } catch (e) {
    if (!(e instanceof KimgError)) throw e;
    return [
      {
        code: "invalid-image",
        severity: "error",
        message: `image ${q} is not a valid reference, so the kubelet fails the container with InvalidImageName: ${e.message}`,
      },
    ];
  }

  const effective =
    input.effectivePolicy !== undefined && input.effectivePolicy !== ""
      ? input.effectivePolicy
      : effectivePullPolicy(input.declaredPolicy, image, opts).policy;
  const findings: Finding[] = [];

  if (digest === "" && tag === "latest") {
    const spelled = /:latest$/.test(image)
      ? `image ${q} uses the "latest" tag`
      : `image ${q} has no tag, so it means "latest"`;
    const stale =
      effective === "IfNotPresent" || effective === "Never"
        ? ` With imagePullPolicy ${effective}, a node keeps running whichever "latest" it already has.`
        : "";
    findings.push({
      code: "latest-tag",
      severity: "warning",
      message: `${spelled}: you cannot tell which version runs, nor roll back properly; use a version tag or, better, a digest.${stale}`,
    });
  } else if (digest === "") {
    findings.push({
      code: "mutable-tag",
      severity: "info",
      message: `image ${q} is pinned by tag ${goQuote(tag)} only; a tag can be moved to another image, so pin a digest (image@sha256:…) to be sure every container runs the same image`,
    });
  }

  if (effective === "Never") {
    findings.push({
      code: "never-policy",
      severity: "warning",
      message: `imagePullPolicy Never: the kubelet never pulls ${q}, so it must be preloaded on every node that may run this pod, or the container fails with ErrImageNeverPull`,
    });
  }

  if (effective === "Always" && digest !== "") {
    findings.push({
      code: "always-with-digest",
      severity: "info",
      message: `imagePullPolicy Always with a digest is safe and cheap: a digest never changes, so each start only re-checks the registry (and the pod's credentials) and downloads nothing already present`,
    });
  }
  return findings.sort((a, b) => SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity]);
}

const SEVERITY_RANK: Readonly<Record<FindingSeverity, number>> = { error: 0, warning: 1, info: 2 };
