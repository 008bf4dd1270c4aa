// pullTryingCredentials(): the kubelet's credential loop around one pull.
// Source: kubernetes pkg/kubelet/kuberuntime/kuberuntime_image.go `PullImage`:
//   keyring.Lookup(repoToPull) gives the matching credentials in keyring order; none → one pull
//   without credentials; else a pull with each credential in turn until one succeeds, the errors
//   aggregated (utilerrors.NewAggregate → "[e1, e2]") and never an anonymous retry once
//   credentials matched.
//
// The loop itself is registry/credential-loop.ts `withEachCredential`, shared with the remote
// reads; an IfNotPresent hit never asks for a credential, so it never runs a helper.

import type { PullPolicy } from "../policy/index.ts";
import {
  type CandidateCredential,
  type CredentialCandidates,
  type CredentialStore,
  hostOfName,
  repositoryOfName,
  withEachCredential,
} from "../registry/index.ts";
import type { CredentialSource } from "../store/index.ts";
import { type PolicyPullResult, pullWithPolicy } from "./policy.ts";
import type { PullOptions } from "./pull.ts";
import { pullName } from "./pull.ts";

export type { CandidateCredential, CredentialCandidates };

export interface TryingCredentialsOptions<C extends CandidateCredential>
  extends Omit<PullOptions, "credentials" | "credentialSource"> {
  /** The keyring: every credential for the image's repository, in the order to try them. */
  readonly candidates: CredentialCandidates<C>;
  /** What the image record says about the credential that worked. Default `{ kind: "credential" }`. */
  readonly describe?: (c: C) => CredentialSource;
  /** Other hosts (mirrors): their first usable credential. Default: none. */
  readonly otherHosts?: CredentialStore;
}

/**
 * pullWithPolicy with each matching credential in turn, as the kubelet does
 * (registry/credential-loop.ts).
 * @throws the single error of the only attempt, or a KimgError `[m1, m2, …]` with the last
 *   attempt's code when several credentials all failed.
 */
export async function pullTryingCredentials<C extends CandidateCredential>(
  refText: string,
  policy: PullPolicy | undefined,
  opts: TryingCredentialsOptions<C>,
): Promise<PolicyPullResult> {
  const name = pullName(refText);
  const { candidates, describe, otherHosts, ...pullOpts } = opts;
  return withEachCredential(
    {
      host: hostOfName(name),
      repository: repositoryOfName(name),
      candidates,
      otherHosts,
      signal: opts.signal,
    },
    (credentials, used) => {
      // The record names the credential the registry was given (read when the pull records).
      const credentialSource: { kind: string; hash?: string } = { kind: "anonymous" };
      const store: CredentialStore = {
        lookup: async (h) => {
          const c = await credentials.lookup(h);
          const u = used();
          if (u !== undefined) {
            const d = describe?.(u) ?? { kind: "credential" };
            credentialSource.kind = d.kind;
            if (d.hash !== undefined) credentialSource.hash = d.hash;
          }
          return c;
        },
      };
      return pullWithPolicy(refText, policy, {
        ...pullOpts,
        credentials: store,
        credentialSource,
      });
    },
  );
}
