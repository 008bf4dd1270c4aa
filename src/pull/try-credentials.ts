// pullTryingCredentials(): the kubelet's credential loop around one pull.
// Source: kubernetes pkg/kubelet/kuberuntime/kuberuntime_image.go `PullImage`:
//   keyring.Lookup(repoToPull) gives the matching credentials in keyring order; none → one pull
//   without credentials; else a pull with each credential in turn until one succeeds, the errors
//   aggregated (utilerrors.NewAggregate → "[e1, e2]") and never an anonymous retry once
//   credentials matched.
//
// kimg asks for the list lazily, when the image's registry first asks the client for a
// credential (a 401 challenge), so an IfNotPresent hit or an anonymous registry never runs a
// credential helper. The one difference from the kubelet that follows: when the registry never
// challenged, a failure is not retried with the other credentials (they could not change it).

import { KimgError } from "../errors.ts";
import type { PullPolicy } from "../policy/index.ts";
import type { CredentialStore } from "../registry/index.ts";
import type { CredentialSource } from "../store/index.ts";
import { type PolicyPullResult, pullWithPolicy } from "./policy.ts";
import type { PullOptions } from "./pull.ts";
import { pullName } from "./pull.ts";

type RegistryCredential = NonNullable<Awaited<ReturnType<CredentialStore["lookup"]>>>;

/** One candidate credential (structurally src/credentials AuthCredential). */
export interface CandidateCredential {
  toRegistryCredential(): RegistryCredential | undefined;
}

/** Ordered credentials for a normalized repository (`docker.io/library/nginx`). */
export interface CredentialCandidates<C extends CandidateCredential> {
  lookupAll(repo: string, signal?: AbortSignal): Promise<readonly C[]>;
}

export interface TryingCredentialsOptions<C extends CandidateCredential>
  extends Omit<PullOptions, "credentials" | "credentialSource"> {
  /** The keyring: every credential for the image's repository, in the order to try them. */
  readonly candidates: CredentialCandidates<C>;
  /** What the image record says about the credential that worked. Default `{ kind: "credential" }`. */
  readonly describe?: (c: C) => CredentialSource;
  /** Other hosts (mirrors): their first usable credential. Default: none. */
  readonly otherHosts?: CredentialStore;
}

/** The registry host of a normalized name (`docker.io/library/x:1` → `docker.io`). */
function hostOf(name: string): string {
  return name.slice(0, name.indexOf("/"));
}

/** The repository of a normalized name: without `:tag` and `@digest`. */
function repositoryOf(name: string): string {
  const at = name.indexOf("@");
  const noDigest = at >= 0 ? name.slice(0, at) : name;
  const slash = noDigest.lastIndexOf("/");
  const colon = noDigest.lastIndexOf(":");
  return colon > slash ? noDigest.slice(0, colon) : noDigest;
}

/**
 * pullWithPolicy with each matching credential in turn, as the kubelet does.
 * @throws the single error of the only attempt, or a KimgError `[m1, m2, …]` with the last
 *   attempt's code when several credentials all failed.
 */
export async function pullTryingCredentials<C extends CandidateCredential>(
  refText: string,
  policy: PullPolicy | undefined,
  opts: TryingCredentialsOptions<C>,
): Promise<PolicyPullResult> {
  const name = pullName(refText);
  const host = hostOf(name);
  const repo = repositoryOf(name);
  const { candidates, describe, otherHosts, ...pullOpts } = opts;
  let list: readonly C[] | undefined;
  let index = 0;
  const errors: unknown[] = [];
  for (;;) {
    const credentialSource: { kind: string; hash?: string } = { kind: "anonymous" };
    const current = index;
    const credentials: CredentialStore = {
      lookup: async (h) => {
        if (h !== host) return otherHosts?.lookup(h);
        list ??= await candidates.lookupAll(repo, opts.signal);
        const c = list[current];
        if (c === undefined) return undefined;
        const d = describe?.(c) ?? { kind: "credential" };
        credentialSource.kind = d.kind;
        if (d.hash !== undefined) credentialSource.hash = d.hash;
        return c.toRegistryCredential();
      },
    };
    try {
      return await pullWithPolicy(refText, policy, { ...pullOpts, credentials, credentialSource });
    } catch (e) {
      errors.push(e);
      if (list === undefined || index + 1 >= list.length || opts.signal?.aborted === true) break;
      index++;
    }
  }
  if (errors.length === 1) throw errors[0];
  const last = errors[errors.length - 1];
  const code = last instanceof KimgError ? last.code : "REGISTRY_ERROR";
  const msg = `[${errors.map((e) => (e instanceof Error ? e.message : String(e))).join(", ")}]`;
  throw new KimgError(code, msg, { cause: new AggregateError(errors) });
}
