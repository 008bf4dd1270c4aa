// decideContainer(): one container's image decision from the API server to the node, the way
// `kimg policy` reports each container of a manifest and `kimg ui`'s /api/decide answers.
// Pure. The steps, in the order Kubernetes runs them:
//   1. defaulting (SetDefaults_Container → policy `effectivePullPolicy`);
//   2. with `alwaysPullImages`, the AlwaysPullImages plugin's Admit on a CREATE of a one-container
//      Pod (policy `admitAlwaysPullImages`: the plugin itself, not a copy of its rule);
//   3. API validation of the admitted container (`validateContainer`);
//   4. what the kubelet does with the image present or absent (`describeKubeletAction`, the
//      KEP-2535 credential-verification gate on as since 1.35), its waiting state, and lint.

import { isKimgError } from "../errors.ts";
import type { FieldError } from "../go/index.ts";
import {
  admitAlwaysPullImages,
  describeKubeletAction,
  effectivePullPolicy,
  type Finding,
  type KubeletActionDescription,
  lintContainer,
  type PullPolicy,
  podCreateRequest,
  validateContainer,
} from "../policy/index.ts";
import { applyDefaultImageTag } from "../ref/index.ts";
import { imageNeverPullError, invalidImageNameError } from "./waiting.ts";

export interface DecideContainerOptions {
  /** The AlwaysPullImages admission plugin is enabled. Default false. */
  readonly alwaysPullImages?: boolean | undefined;
  /** Whether the image is on the node. Default false (absent). */
  readonly present?: boolean | undefined;
}

export interface AdmissionChange {
  readonly plugin: "AlwaysPullImages";
  /** The plugin changed the policy (it was not Always already). */
  readonly changed: boolean;
  readonly from: PullPolicy;
  readonly to: "Always";
  readonly reason: string;
}

export interface ContainerDecision {
  readonly image: string;
  /** As written; "" when the field is empty or absent. */
  readonly declaredPolicy: string;
  /** After the API server's defaulting. */
  readonly defaultedPolicy: PullPolicy;
  /** After admission: what the kubelet sees. */
  readonly effectivePolicy: PullPolicy;
  readonly defaulted: boolean;
  readonly rule: string;
  readonly reason: string;
  readonly admission: AdmissionChange | null;
  readonly present: boolean;
  readonly kubelet: KubeletActionDescription & {
    readonly waiting?: { readonly reason: string; readonly message: string };
  };
  readonly errors: FieldError[];
  readonly findings: Finding[];
}

/**
 * One container's decision. `declaredPolicy` must be "" or a supported policy (the API server
 * rejects anything else while validating; callers check it at their boundary).
 */
export function decideContainer(
  image: string,
  declaredPolicy: "" | PullPolicy,
  opts: DecideContainerOptions = {},
): ContainerDecision {
  const present = opts.present === true;
  const eff = effectivePullPolicy(declaredPolicy === "" ? undefined : declaredPolicy, image);
  const defaulted: PullPolicy = eff.policy ?? "IfNotPresent"; // declared is supported or empty
  let admission: AdmissionChange | null = null;
  if (opts.alwaysPullImages === true) {
    const admitted = admitAlwaysPullImages(
      podCreateRequest({
        kind: "Pod",
        metadata: { name: "pod" },
        spec: { containers: [{ name: "app", image, imagePullPolicy: defaulted }] },
      }),
    );
    const changed = admitted.changes.length > 0;
    admission = {
      plugin: "AlwaysPullImages",
      changed,
      from: defaulted,
      to: "Always",
      reason: changed
        ? `the AlwaysPullImages admission plugin is enabled, so ${defaulted} becomes Always`
        : "the AlwaysPullImages admission plugin is enabled; the policy is already Always",
    };
  }
  const effectivePolicy: PullPolicy = admission !== null ? "Always" : defaulted;
  const d = describeKubeletAction(image, effectivePolicy, present, {
    verification: { mustAttemptPull: false },
  });
  let waiting: { reason: string; message: string } | undefined;
  if (d.action === "ErrImageNeverPull") {
    const w = imageNeverPullError(image);
    waiting = { reason: w.error, message: w.message };
  } else if (d.action === "InvalidImageName") {
    const w = invalidImageNameError(image, parseErrorOf(image));
    waiting = { reason: w.error, message: w.message };
  }
  return {
    image,
    declaredPolicy,
    defaultedPolicy: defaulted,
    effectivePolicy,
    defaulted: eff.defaulted,
    rule: eff.rule,
    reason: eff.reason,
    admission,
    present,
    kubelet: { ...d, ...(waiting !== undefined ? { waiting } : {}) },
    errors: validateContainer(
      { name: "app", image, imagePullPolicy: effectivePolicy },
      "spec.containers[0]",
      { pod: true },
    ),
    findings:
      image === ""
        ? []
        : lintContainer({
            image,
            ...(declaredPolicy !== "" ? { declaredPolicy } : {}),
            effectivePolicy,
          }),
  };
}

function parseErrorOf(image: string): string {
  try {
    applyDefaultImageTag(image);
    return "";
  } catch (e) {
    if (!isKimgError(e)) throw e;
    return e.message;
  }
}
