// The kubelet's credential loop around one registry operation, for pulls and remote reads alike.
// Source: kubernetes pkg/kubelet/kuberuntime/kuberuntime_image.go `PullImage`:
//   keyring.Lookup(repoToPull) gives the matching credentials in keyring order; none → one
//   attempt without credentials; else an attempt with each credential in turn until one
//   succeeds, the errors aggregated (utilerrors.NewAggregate → "[e1, e2]") and never an
//   anonymous retry once credentials matched.
//
// The list is asked for lazily, when the image's registry first asks the client for a
// credential (a 401 challenge), so an anonymous registry never runs a credential helper. The
// one difference from the kubelet that follows: when the registry never challenged, a failure
// is not retried with the other credentials (they could not change it).

import { KimgError } from "../errors.ts";
import type { CredentialStore } from "./auth.ts";

type RegistryCredential = NonNullable<Awaited<ReturnType<CredentialStore["lookup"]>>>;

/** One candidate credential (structurally src/credentials AuthCredential). */
export interface CandidateCredential {
  toRegistryCredential(): RegistryCredential | undefined;
}

/** Ordered credentials for a normalized repository (`docker.io/library/nginx`). */
export interface CredentialCandidates<C extends CandidateCredential = CandidateCredential> {
  lookupAll(repo: string, signal?: AbortSignal): Promise<readonly C[]>;
}

export interface CredentialLoopOptions<C extends CandidateCredential> {
  /** The image's registry host and normalized repository (`docker.io`, `docker.io/library/x`). */
  readonly host: string;
  readonly repository: string;
  readonly candidates: CredentialCandidates<C>;
  /** Other hosts (mirrors): their first usable credential. Default: none. */
  readonly otherHosts?: CredentialStore | undefined;
  readonly signal?: AbortSignal | undefined;
}

/**
 * Runs `attempt` with a CredentialStore that hands out the candidates one at a time, once per
 * failed attempt. `used` is the candidate the store handed out (undefined: anonymous).
 * @throws the single error of the only attempt, or a KimgError `[m1, m2, …]` with the last
 *   attempt's code when several credentials all failed.
 */
export async function withEachCredential<C extends CandidateCredential, T>(
  opts: CredentialLoopOptions<C>,
  attempt: (credentials: CredentialStore, used: () => C | undefined) => Promise<T>,
): Promise<T> {
  const { host, repository, candidates, otherHosts, signal } = opts;
  let list: readonly C[] | undefined;
  let index = 0;
  const errors: unknown[] = [];
  for (;;) {
    const current = index;
    let handed: C | undefined;
    const credentials: CredentialStore = {
      lookup: async (h) => {
        if (h !== host) return otherHosts?.lookup(h);
        list ??= await candidates.lookupAll(repository, signal);
        handed = list[current];
        return handed?.toRegistryCredential();
      },
    };
    try {
      return await attempt(credentials, () => handed);
    } catch (e) {
      errors.push(e);
      if (list === undefined || index + 1 >= list.length || signal?.aborted === true) break;
      index++;
    }
  }
  if (errors.length === 1) throw errors[0];
  const last = errors[errors.length - 1];
  const code = last instanceof KimgError ? last.code : "REGISTRY_ERROR";
  const msg = `[${errors.map((e) => (e instanceof Error ? e.message : String(e))).join(", ")}]`;
  throw new KimgError(code, msg, { cause: new AggregateError(errors) });
}

/** The registry host of a normalized name (`docker.io/library/x:1` → `docker.io`). */
export function hostOfName(name: string): string {
  return name.slice(0, name.indexOf("/"));
}

/** The repository of a normalized name: without `:tag` and `@digest`. */
export function repositoryOfName(name: string): string {
  const at = name.indexOf("@");
  const noDigest = at >= 0 ? name.slice(0, at) : name;
  const slash = noDigest.lastIndexOf("/");
  const colon = noDigest.lastIndexOf(":");
  return colon > slash ? noDigest.slice(0, colon) : noDigest;
}
