// imagePullPolicy: the API server's default and what the kubelet does with it. Pure.
//
// Owns:
// - `defaultPullPolicy`: SetDefaults_Container (kubernetes/kubernetes pkg/apis/core/v1/defaults.go),
//   also used for ephemeral containers (SetDefaults_EphemeralContainer), with the seed rule
//   that decided it (`rule`) and an English explanation (`reason`).
// - `effectivePullPolicy`: the declared policy when non-empty, else the default.
// - `kubeletAction` / `describeKubeletAction`: the decision and event wording of
//   EnsureImageExists / imagePullPrecheck (kubernetes/kubernetes pkg/kubelet/images/image_manager.go)
//   before any pull is attempted (kubelet.md §5.3).
//
// Upstream notes (source wins over the spec where they differ):
// - SetDefaults_Container: `if ImagePullPolicy == "" { _, tag, _, _ := parsers.ParseImageName(image);
//   if tag == "latest" { Always } else { IfNotPresent } }` — the parse error is ignored, so an
//   unparsable or empty image defaults to IfNotPresent; the comparison is case-sensitive.
// - image_manager.go (1.33+, checked against the version with imagePullPrecheck and
//   KubeletEnsureSecretPulledImages): a policy that is neither Always, IfNotPresent nor Never
//   skips the ImageStatus lookup, so the image counts as absent and is PULLED. Older kubelets
//   (shouldPullImage, ≤1.32) returned "no pull" for such a policy, i.e. treated it like Never
//   (use the local image, else ErrImageNeverPull). The spec (§5.3) does not cover this case; we
//   follow the current source. (Unknown policies are rejected by API validation, so only
//   objects that bypass it can carry one.)
// - The "already present" event text depends on the gate: off → `…already present on machine`,
//   on (default since 1.35) and the pull manager finds the pod may use the image →
//   `…already present on machine and can be accessed by the pod`.

import { KimgError } from "../errors.ts";
import { goQuote } from "../go/index.ts";
import {
  applyDefaultImageTag,
  isFailure,
  type ParseOptions,
  tryParseImageName,
} from "../ref/index.ts";

export type PullPolicy = "Always" | "IfNotPresent" | "Never";

/** The supported values, in the order the API lists them (sorted, as sets.List() returns). */
export const PULL_POLICIES: readonly PullPolicy[] = ["Always", "IfNotPresent", "Never"];

export function isPullPolicy(value: unknown): value is PullPolicy {
  return value === "Always" || value === "IfNotPresent" || value === "Never";
}

/**
 * Which rule of the seed's table decided the default:
 * - `no-tag`: no tag and no digest, so the tag defaults to `latest` ⇒ Always
 * - `latest-tag`: explicit `:latest` ⇒ Always
 * - `latest-tag-with-digest`: `:latest@sha256:…` — the tag is still `latest` ⇒ Always
 * - `other-tag`: any other tag (including `LATEST`: tags are case-sensitive) ⇒ IfNotPresent
 * - `other-tag-with-digest`: `:1.0@sha256:…` ⇒ IfNotPresent
 * - `digest-only`: `@sha256:…` without a tag ⇒ IfNotPresent
 * - `unparsable`: the reference does not parse, so there is no tag ⇒ IfNotPresent
 * - `empty-image`: `""`, so there is no tag ⇒ IfNotPresent
 */
export type DefaultingRule =
  | "no-tag"
  | "latest-tag"
  | "latest-tag-with-digest"
  | "other-tag"
  | "other-tag-with-digest"
  | "digest-only"
  | "unparsable"
  | "empty-image";

export interface DefaultedPullPolicy {
  readonly policy: PullPolicy;
  readonly rule: DefaultingRule;
  /** A short English sentence, e.g. `no tag or digest, so the tag defaults to "latest" ⇒ Always`. */
  readonly reason: string;
  /** ParseImageName's tag ("latest" when neither tag nor digest; "" on a parse error). */
  readonly tag: string;
  /** ParseImageName's digest ("" when none or on a parse error). */
  readonly digest: string;
  /** The parse error message when the image does not parse (defaulting ignores it). */
  readonly parseError?: string;
}

/** The tag that SetDefaults_Container compares against (parsers.DefaultImageTag). */
const DEFAULT_TAG = "latest";

/** SetDefaults_Container's choice for an empty `imagePullPolicy`. */
export function defaultPullPolicy(image: string, opts?: ParseOptions): DefaultedPullPolicy {
  // The failure as a value: defaulting ignores parse errors, and bulk callers (kimg parse -)
  // should not pay for an Error per invalid image.
  const parsed = tryParseImageName(image, opts);
  if (isFailure(parsed)) {
    const rule: DefaultingRule = image === "" ? "empty-image" : "unparsable";
    const reason =
      image === ""
        ? "the image is empty, so there is no tag ⇒ IfNotPresent"
        : `the image cannot be parsed (${parsed.message}), so there is no tag ⇒ IfNotPresent`;
    return {
      policy: "IfNotPresent",
      rule,
      reason,
      tag: "",
      digest: "",
      parseError: parsed.message,
    };
  }
  const { tag, digest } = parsed;
  let policy: PullPolicy;
  let rule: DefaultingRule;
  let reason: string;
  if (tag === DEFAULT_TAG) {
    policy = "Always";
    if (digest !== "") {
      rule = "latest-tag-with-digest";
      reason = `tag "latest" is present (the digest does not change that) ⇒ Always`;
    } else if (hasExplicitTag(image, tag)) {
      // ParseImageName reports "latest" both for an explicit `:latest` and for no tag at all.
      rule = "latest-tag";
      reason = `tag "latest" ⇒ Always`;
    } else {
      rule = "no-tag";
      reason = `no tag or digest, so the tag defaults to "latest" ⇒ Always`;
    }
  } else if (tag === "") {
    policy = "IfNotPresent";
    rule = "digest-only";
    reason = "digest only, so there is no tag ⇒ IfNotPresent";
  } else {
    policy = "IfNotPresent";
    rule = digest !== "" ? "other-tag-with-digest" : "other-tag";
    const caseNote = tag.toLowerCase() === DEFAULT_TAG ? " (tags are case-sensitive)" : "";
    reason = `tag ${goQuote(tag)} is not "latest"${caseNote} ⇒ IfNotPresent`;
  }
  // One object literal of a fixed shape (spreads into literals are slow in V8 on hot paths).
  return { policy, rule, reason, tag, digest };
}

/**
 * Whether the raw image spells the tag out. ParseImageName cannot tell `nginx` from
 * `nginx:latest`; the tag is explicit when the name part (before any `@`) ends in `:<tag>`
 * after its last `/` (a `:` before the last `/` is a registry port).
 */
function hasExplicitTag(image: string, tag: string): boolean {
  const at = image.indexOf("@");
  const name = at === -1 ? image : image.slice(0, at);
  const lastPart = name.slice(name.lastIndexOf("/") + 1);
  return lastPart.endsWith(`:${tag}`);
}

export interface EffectivePullPolicy {
  /** The policy the kubelet will get; null when the declared value is not supported (the API rejects the object). */
  readonly policy: PullPolicy | null;
  /** The declared `imagePullPolicy` as given (undefined when absent). */
  readonly declared: string | undefined;
  /** True when the declared value was empty and the API default applies. */
  readonly defaulted: boolean;
  /** `explicit` for a supported declared value, `unsupported` for any other non-empty value. */
  readonly rule: DefaultingRule | "explicit" | "unsupported";
  readonly reason: string;
}

/**
 * The policy that ends up on the stored object: a non-empty declared value wins (defaulting only
 * fills `""`), otherwise SetDefaults_Container decides.
 */
export function effectivePullPolicy(
  declared: string | undefined,
  image: string,
  opts?: ParseOptions,
): EffectivePullPolicy {
  if (declared === undefined || declared === "") {
    const d = defaultPullPolicy(image, opts);
    return { policy: d.policy, declared, defaulted: true, rule: d.rule, reason: d.reason };
  }
  if (isPullPolicy(declared)) {
    return {
      policy: declared,
      declared,
      defaulted: false,
      rule: "explicit",
      reason: `imagePullPolicy is set to ${declared}, so no default applies`,
    };
  }
  return {
    policy: null,
    declared,
    defaulted: false,
    rule: "unsupported",
    reason: `imagePullPolicy ${goQuote(declared)} is not one of ${PULL_POLICIES.map(goQuote).join(", ")}, so the API server rejects the object`,
  };
}

/** What the kubelet does before starting a container (kubelet.md §5.3), precheck included. */
export type KubeletAction = "pull" | "use-local" | "ErrImageNeverPull";

/**
 * The credential-verification column of the §5.3 table (KEP-2535, gate
 * `KubeletEnsureSecretPulledImages`, on by default since 1.35). Omit it to model the gate off.
 * With it, a present image is only used when `mustAttemptPull` is false — the pull manager's
 * `MustAttemptImagePull` verdict for this pod, which the image-manager work computes.
 */
export interface CredentialVerification {
  readonly mustAttemptPull: boolean;
}

/**
 * The kubelet's decision for a container's policy and the image's presence on the node
 * (EnsureImageExists / imagePullPrecheck). `policy` is a string because objects that bypass API
 * validation can carry any value; see the header for how the kubelet treats unknown values.
 */
export function kubeletAction(
  policy: string,
  imagePresent: boolean,
  verification?: CredentialVerification,
): KubeletAction {
  // Only IfNotPresent and Never look the image up; Always and unknown policies never find it.
  const lookedUp = policy === "IfNotPresent" || policy === "Never";
  const present = lookedUp && imagePresent;
  if (!present && policy === "Never") return "ErrImageNeverPull";
  if (present && (verification === undefined || !verification.mustAttemptPull)) {
    return "use-local";
  }
  // Pull required. Never: present but not accessible to this pod — same answer as absent, so
  // the image's presence is not revealed.
  return policy === "Never" ? "ErrImageNeverPull" : "pull";
}

export interface KubeletEvent {
  readonly type: "Normal" | "Warning";
  /**
   * pkg/kubelet/events/event.go reason: Pulled, Pulling, ErrImageNeverPull, InspectFailed here;
   * the image manager (src/kubelet events.ts) adds Failed, BackOff and the others.
   */
  readonly reason: string;
  readonly message: string;
}

export interface KubeletActionDescription {
  /** `InvalidImageName` when the image does not parse (checked before the policy). */
  readonly action: KubeletAction | "InvalidImageName";
  /** The image string sent to the CRI (tag defaulted, §1.2); null when the image does not parse. */
  readonly criImage: string | null;
  /** The first event the kubelet records for this decision. */
  readonly event: KubeletEvent;
}

export interface DescribeKubeletActionOptions extends ParseOptions {
  readonly verification?: CredentialVerification | undefined;
}

/**
 * `kubeletAction` plus the kubelet's own words (image_manager.go). Messages quote the raw
 * container image with Go's %q. For a pull, only the first event (`Pulling image …`) is
 * described; back-off and pull results belong to the image manager.
 */
export function describeKubeletAction(
  image: string,
  policy: string,
  imagePresent: boolean,
  opts?: DescribeKubeletActionOptions,
): KubeletActionDescription {
  const q = goQuote(image);
  let criImage: string;
  try {
    criImage = applyDefaultImageTag(image, opts);
  } catch (e) {
    if (!(e instanceof KimgError)) throw e;
    return {
      action: "InvalidImageName",
      criImage: null,
      event: {
        type: "Warning",
        reason: "InspectFailed",
        message: `Failed to apply default image tag ${q}: ${e.message}`,
      },
    };
  }
  const verification = opts?.verification;
  const action = kubeletAction(policy, imagePresent, verification);
  switch (action) {
    case "use-local":
      return {
        action,
        criImage,
        event: {
          type: "Normal",
          reason: "Pulled",
          message:
            verification === undefined
              ? `Container image ${q} already present on machine`
              : `Container image ${q} already present on machine and can be accessed by the pod`,
        },
      };
    case "ErrImageNeverPull":
      return {
        action,
        criImage,
        event: {
          type: "Warning",
          reason: "ErrImageNeverPull",
          message: `Container image ${q} is not present with pull policy of Never`,
        },
      };
    case "pull":
      return {
        action,
        criImage,
        event: { type: "Normal", reason: "Pulling", message: `Pulling image ${q}` },
      };
  }
}
