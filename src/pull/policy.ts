// pullWithPolicy(): the kubelet's EnsureImageExists over the local store
// (pkg/kubelet/images/image_manager.go): the policy (or the Kubernetes default for the
// reference), the image's presence in the store, then use it, pull it, or fail with
// ErrImageNeverPull — with the kubelet's message texts.

import { KimgError } from "../errors.ts";
import { defaultPullPolicy, kubeletAction, type PullPolicy } from "../policy/index.ts";
import type { ImageRecord } from "../store/index.ts";
import { type PulledImage, type PullOptions, pull, pullName } from "./pull.ts";

export type PolicyPullResult =
  | {
      readonly action: "use-local";
      readonly policy: PullPolicy;
      /** `Container image "<ref>" already present on machine` */
      readonly message: string;
      readonly record: ImageRecord;
    }
  | {
      readonly action: "pull";
      readonly policy: PullPolicy;
      /** `Successfully pulled image "<ref>"` or `Image is up to date for <ref>` */
      readonly message: string;
      readonly image: PulledImage;
    };

/**
 * Applies `policy` (undefined: `defaultPullPolicy(refText)`, as the API server would):
 * IfNotPresent or Never with the image recorded → no network (its lastUsed is updated);
 * Never without it → ERR_IMAGE_NEVER_PULL; otherwise `pull`.
 */
export async function pullWithPolicy(
  refText: string,
  policy: PullPolicy | undefined,
  opts: PullOptions,
): Promise<PolicyPullResult> {
  const effective = policy ?? defaultPullPolicy(refText).policy;
  const name = pullName(refText);
  const record = effective === "Always" ? undefined : await opts.store.getPresentImage(name);
  const action = kubeletAction(effective, record !== undefined);
  if (action === "use-local" && record !== undefined) {
    await opts.store.markImageUsed(name);
    return {
      action: "use-local",
      policy: effective,
      message: `Container image "${refText}" already present on machine`,
      record,
    };
  }
  if (action === "ErrImageNeverPull") {
    throw new KimgError(
      "ERR_IMAGE_NEVER_PULL",
      `Container image "${refText}" is not present with pull policy of Never`,
    );
  }
  const image = await pull(refText, opts);
  return {
    action: "pull",
    policy: effective,
    message: image.upToDate
      ? `Image is up to date for ${image.ref}`
      : `Successfully pulled image "${refText}"`,
    image,
  };
}
