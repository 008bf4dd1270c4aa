// defaultCredentialSources(): the credential chain `kimg pull`, `kimg unpack` and `kimg ui`'s
// pulls use, in order — `--creds` for the image's registry, pull-secret objects, Docker's
// config.json (DOCKER_CONFIG, ~/.docker), containers' auth.json (REGISTRY_AUTH_FILE,
// XDG_RUNTIME_DIR, ~/.config/containers) — each credential tagged with the kind of source it
// came from, which the image record shows (`credentials: pull-secret`). One definition, so the
// front ends cannot drift apart (issue 11: the CLI and the UI server each built their own).

import { authJsonSource } from "./auth-json.ts";
import { CredentialChain, pullSecretsSource } from "./chain.ts";
import type { AuthCredential, CredentialProvider } from "./credential.ts";
import { dockerConfigSource } from "./docker-config.ts";
import type { SecretObject } from "./pull-secrets.ts";
import { staticSource } from "./static.ts";

/** Which source a credential came from, as the image record names it. */
export type CredentialSourceKind = "creds" | "pull-secret" | "docker-config" | "auth-json";

export interface DefaultCredentialSourcesOptions {
  /** The environment: DOCKER_CONFIG, REGISTRY_AUTH_FILE, XDG_RUNTIME_DIR… */
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly home: string;
  /** `user:pass` for `host` (`--creds`), first in the chain. */
  readonly creds?: { readonly value: string; readonly host: string } | undefined;
  /** Secret objects (`--pull-secret` files, already read), after `creds`. */
  readonly pullSecrets?: readonly SecretObject[] | undefined;
}

export interface DefaultCredentialSources {
  readonly chain: CredentialChain;
  /** The record's description of a credential the chain returned. */
  describe(c: AuthCredential): { kind: CredentialSourceKind | "credential-store" };
}

export function defaultCredentialSources(
  o: DefaultCredentialSourcesOptions,
): DefaultCredentialSources {
  const sources: { kind: CredentialSourceKind; source: CredentialProvider }[] = [];
  if (o.creds !== undefined) {
    sources.push({ kind: "creds", source: staticSource(o.creds.value, { host: o.creds.host }) });
  }
  if (o.pullSecrets !== undefined && o.pullSecrets.length > 0) {
    sources.push({ kind: "pull-secret", source: pullSecretsSource(o.pullSecrets) });
  }
  sources.push({ kind: "docker-config", source: dockerConfigSource({ env: o.env, home: o.home }) });
  sources.push({ kind: "auth-json", source: authJsonSource({ env: o.env, home: o.home }) });
  const kindOf = new WeakMap<AuthCredential, CredentialSourceKind>();
  const chain = new CredentialChain(
    sources.map(
      ({ kind, source }): CredentialProvider => ({
        name: source.name,
        async lookupAll(repo, signal) {
          const list = await source.lookupAll(repo, signal);
          for (const c of list) kindOf.set(c, kind);
          return list;
        },
      }),
    ),
  );
  return { chain, describe: (c) => ({ kind: kindOf.get(c) ?? "credential-store" }) };
}
