// The credential chain: explicit sources asked in order, their answers concatenated, as the
// kubelet's union keyring does (pod pull secrets, then node config, then plugins); and the
// registry client's `CredentialStore` on top (first credential only).
// Sources: kubernetes pkg/credentialprovider/keyring.go (`UnionDockerKeyring`),
// pkg/kubelet/images/puller / kuberuntime_image.go `PullImage` (no credentials → one anonymous
// pull; else each credential in order until one works, errors aggregated, no anonymous retry),
// k8s.io/apimachinery util/errors `aggregate.Error` ("[e1, e2]").
//
// kimg's registry client asks `lookup(host)` once per registry: a host cannot select
// repository-scoped keys (`quay.io/org`). `forRepository(repo)` binds the repository so those
// keys apply; `lookupAll(repo)` gives the kubelet's ordered list for `tryCredentials`.

import { KimgError } from "../errors.ts";
import { tryParseImageName } from "../ref/index.ts";
import type { AuthCredential, CredentialProvider, RegistryCredential } from "./credential.ts";
import { repoHost } from "./credential.ts";
import { keyringFromSecrets, type SecretObject } from "./pull-secrets.ts";

/** Structurally the registry client's CredentialStore (src/registry/auth.ts). */
export interface HostCredentialStore {
  lookup(host: string): Promise<RegistryCredential | undefined>;
}

/** A source of the keyring built from pull secrets (throws now on a malformed secret). */
export function pullSecretsSource(secrets: readonly SecretObject[]): CredentialProvider {
  const keyring = keyringFromSecrets(secrets);
  return {
    name: "imagePullSecrets",
    async lookupAll(repo) {
      return keyring?.lookup(repo) ?? [];
    },
  };
}

/** The normalized repository of an image reference (`nginx` → `docker.io/library/nginx`). */
export function repositoryOf(image: string): string {
  const r = tryParseImageName(image);
  if ("repoToPull" in r) return r.repoToPull;
  throw new KimgError("REFERENCE_INVALID_FORMAT", r.message);
}

export class CredentialChain implements HostCredentialStore {
  readonly sources: readonly CredentialProvider[];

  constructor(sources: readonly CredentialProvider[]) {
    this.sources = [...sources];
  }

  /** Every source's credentials for `repo` (normalized repository or bare host), in order. */
  async lookupAll(repo: string, signal?: AbortSignal): Promise<AuthCredential[]> {
    const out: AuthCredential[] = [];
    for (const s of this.sources) out.push(...(await s.lookupAll(repo, signal)));
    return out;
  }

  /** lookupAll for an image reference as written (`nginx:1.25`, `quay.io/a/b@sha256:…`). */
  lookupAllForImage(image: string, signal?: AbortSignal): Promise<AuthCredential[]> {
    return this.lookupAll(repositoryOf(image), signal);
  }

  /**
   * CredentialStore: the first usable credential for a registry host. Asks for `<host>/`: a bare
   * `ghcr.io` has one path segment, which the kubelet's Docker Hub fallback would take for a Hub
   * repository (isDefaultRegistryMatch); `ghcr.io/` is what any repository of that host shares.
   */
  async lookup(host: string): Promise<RegistryCredential | undefined> {
    return firstUsable(await this.lookupAll(`${host}/`));
  }

  /** A CredentialStore that answers for `repo`'s host with `repo`'s (path-scoped) credentials. */
  forRepository(repo: string): HostCredentialStore {
    return {
      lookup: async (host) =>
        firstUsable(await this.lookupAll(repoHost(repo) === host ? repo : `${host}/`)),
    };
  }
}

function firstUsable(list: readonly AuthCredential[]): RegistryCredential | undefined {
  for (const c of list) {
    const r = c.toRegistryCredential();
    if (r !== undefined) return r;
  }
  return undefined;
}

/** `credentialChain(sources)`: see CredentialChain. */
export function credentialChain(sources: readonly CredentialProvider[]): CredentialChain {
  return new CredentialChain(sources);
}

/**
 * The kubelet's pull loop: no credentials → one anonymous attempt; else each credential in order
 * until one succeeds. When all fail, one error is rethrown as is; several are aggregated as
 * `[m1, m2, …]` with the last error's code (never an anonymous retry).
 */
export async function tryCredentials<T>(
  creds: readonly AuthCredential[],
  attempt: (cred: RegistryCredential | undefined, from: AuthCredential | undefined) => Promise<T>,
): Promise<T> {
  if (creds.length === 0) return attempt(undefined, undefined);
  const errors: unknown[] = [];
  for (const c of creds) {
    try {
      return await attempt(c.toRegistryCredential(), c);
    } catch (e) {
      errors.push(e);
    }
  }
  if (errors.length === 1) throw errors[0];
  const last = errors[errors.length - 1];
  const code = last instanceof KimgError ? last.code : "REGISTRY_ERROR";
  const msg = `[${errors.map((e) => (e instanceof Error ? e.message : String(e))).join(", ")}]`;
  throw new KimgError(code, msg, { cause: new AggregateError(errors) });
}
