// The first step of every remote read: a reference parsed, its endpoints (registries.conf
// mirrors, then the registry) tried in the pull's order, the clients closed afterwards. And
// for the listing reads (tags, catalog), the registry itself: a mirror holds what was pulled
// through it, not the repository's tag list (skopeo list-tags and crane ls ask the registry).

import type { Descriptor } from "../oci/index.ts";
import { parseNormalizedNamed, type Reference, tagNameOnly } from "../ref/index.ts";
import {
  ClientPool,
  type CredentialCandidates,
  type CredentialStore,
  type PullSource,
  pullSources,
  type RegistriesConf,
  type RegistryClient,
  type RetryOptions,
  resolveFirst,
  withEachCredential,
} from "../registry/index.ts";

export interface RemoteOptions {
  readonly insecureHosts?: readonly string[] | undefined;
  readonly registriesConf?: RegistriesConf | undefined;
  /** Credentials for hosts other than the image's (mirrors), or for all when no `candidates`. */
  readonly credentials?: CredentialStore | undefined;
  /**
   * The keyring for the image's repository: each matching credential is tried in turn, as the
   * kubelet does (registry/credential-loop.ts), instead of only the first.
   */
  readonly candidates?: CredentialCandidates | undefined;
  readonly retry?: Partial<RetryOptions> | undefined;
  readonly signal?: AbortSignal | undefined;
  /**
   * Clients to reuse across calls (their connections and tokens), made with the caller's
   * credentials and closed by the caller. Not used with `candidates`, whose every attempt
   * needs clients of its own.
   */
  readonly clients?: ClientPool | undefined;
}

export interface Resolved {
  readonly ref: Reference;
  readonly client: RegistryClient;
  readonly source: PullSource;
  readonly target: Descriptor;
  readonly ro: { signal?: AbortSignal };
}

/** Resolves `refText` (one HEAD on the first endpoint that knows it) and runs `fn` with it. */
export async function withResolved<T>(
  refText: string,
  opts: RemoteOptions,
  fn: (r: Resolved) => Promise<T>,
): Promise<T> {
  const ref = tagNameOnly(parseNormalizedNamed(refText));
  return eachCredential(ref, opts, async (o) => {
    const ro = o.signal !== undefined ? { signal: o.signal } : {};
    const shared = o.candidates === undefined ? o.clients : undefined;
    const clients = shared ?? new ClientPool(o);
    try {
      const sources = pullSources(ref, o.registriesConf);
      const { client, source, target } = await resolveFirst(sources, (s) => clients.for(s), ro);
      return await fn({ ref, client, source, target, ro });
    } finally {
      if (shared === undefined) await clients.close();
    }
  });
}

/** `fn` once per candidate credential until one succeeds (once when there are no candidates). */
function eachCredential<T>(
  ref: Reference,
  opts: RemoteOptions,
  fn: (o: RemoteOptions) => Promise<T>,
): Promise<T> {
  const { candidates } = opts;
  if (candidates === undefined) return fn(opts);
  return withEachCredential(
    {
      host: ref.domain,
      repository: `${ref.domain}/${ref.path}`,
      candidates,
      otherHosts: opts.credentials,
      signal: opts.signal,
    },
    (credentials) => fn({ ...opts, credentials }),
  );
}

/** Runs `fn` with a client for the registry that `ref` names (its own location, no mirror). */
export async function withRegistry<T>(
  ref: Reference,
  opts: RemoteOptions,
  fn: (client: RegistryClient, source: PullSource) => Promise<T>,
): Promise<T> {
  return eachCredential(ref, opts, async (o) => {
    const clients = new ClientPool(o);
    try {
      const sources = pullSources(ref, o.registriesConf);
      const primary = sources.find((s) => !s.mirror) ?? sources[sources.length - 1];
      if (primary === undefined) throw new Error("pullSources returned no endpoint");
      return await fn(clients.for(primary), primary);
    } finally {
      await clients.close();
    }
  });
}
