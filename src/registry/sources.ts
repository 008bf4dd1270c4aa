// resolveFirst: a reference resolved on the first of its sources (registries.conf mirrors, then
// the registry itself) that knows it. Shared by pulls and the remote commands (kimg digest,
// manifest, config), so they pick the same endpoint a pull would.

import { KimgError } from "../errors.ts";
import type { Descriptor } from "../oci/index.ts";
import { referenceString } from "../ref/index.ts";
import type { CredentialStore } from "./auth.ts";
import { RegistryClient } from "./client.ts";
import type { PullSource } from "./registries-conf.ts";
import type { RetryOptions } from "./retry.ts";

export interface ClientPoolOptions {
  /** A client to use for sources on its host; clients for other hosts are made and closed. */
  readonly client?: RegistryClient | undefined;
  readonly insecureHosts?: readonly string[] | undefined;
  readonly credentials?: CredentialStore | undefined;
  readonly retry?: Partial<RetryOptions> | undefined;
}

/**
 * The registry clients of one operation over several sources: one per host, made on demand
 * and reused (connections, scheme probe, tokens), closed together.
 */
export class ClientPool {
  readonly #opts: ClientPoolOptions;
  readonly #made = new Map<string, RegistryClient>();
  constructor(opts: ClientPoolOptions) {
    this.#opts = opts;
  }

  for(s: PullSource): RegistryClient {
    const { client, insecureHosts, credentials, retry } = this.#opts;
    if (client !== undefined && client.host === s.host) return client;
    const key = `${s.host}|${s.insecure}`;
    const have = this.#made.get(key);
    if (have !== undefined) return have;
    const c = new RegistryClient({
      host: s.host,
      insecure: s.insecure,
      insecureHosts,
      credentials,
      retry,
    });
    this.#made.set(key, c);
    return c;
  }

  /** Closes the clients this pool made (not the caller's). */
  async close(): Promise<void> {
    await Promise.all([...this.#made.values()].map((c) => c.close()));
  }
}

/**
 * HEAD on each source in turn until one resolves (docker_image_src.go `newImageSource`). Only
 * an abort stops early; with one source its error is thrown as is; else the primary's error
 * (code and text) with the mirrors' failures before it.
 */
export async function resolveFirst(
  sources: readonly PullSource[],
  clientFor: (s: PullSource) => RegistryClient,
  ro: { signal?: AbortSignal },
): Promise<{ client: RegistryClient; source: PullSource; target: Descriptor }> {
  const failed: { source: PullSource; error: unknown }[] = [];
  for (const source of sources) {
    const client = clientFor(source);
    try {
      return { client, source, target: await client.resolve(source.reference, ro) };
    } catch (error) {
      if (ro.signal?.aborted === true) throw error;
      failed.push({ source, error });
    }
  }
  const last = failed[failed.length - 1];
  if (last === undefined) throw new KimgError("REGISTRY_ERROR", "no endpoint to pull from");
  if (failed.length === 1) throw last.error;
  const text = (f: { source: PullSource; error: unknown }) =>
    `${referenceString(f.source.reference)}: ${f.error instanceof Error ? f.error.message : String(f.error)}`;
  const extras = failed.slice(0, -1).map((f) => `[${text(f)}]`);
  const code = last.error instanceof KimgError ? last.error.code : "REGISTRY_ERROR";
  throw new KimgError(code, `(Mirrors also failed: ${extras.join(", ")}): ${text(last)}`, {
    cause: new AggregateError(failed.map((f) => f.error)),
  });
}
