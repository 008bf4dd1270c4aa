// `--creds user:pass`: one credential for every registry (or only for `host`).
// Source: containers/skopeo cmd/skopeo/utils.go `parseCreds` / `getDockerAuth` ("credentials
// can't be empty", "username can't be empty"; split at the first ":").
//
// Difference from upstream: skopeo prompts for a missing password; kimg has no prompt and
// rejects `user` without `:password` ("password can't be empty"). Messages never echo the value.

import { KimgError } from "../errors.ts";
import { AuthCredential, type CredentialProvider, repoHost } from "./credential.ts";

/** Parses `user:pass` (first ":" splits; the password may contain ":"). */
export function parseCreds(creds: string, source = "--creds"): AuthCredential {
  if (creds === "")
    throw new KimgError("CREDENTIALS_INVALID", `${source}: credentials can't be empty`);
  const i = creds.indexOf(":");
  const username = i < 0 ? creds : creds.slice(0, i);
  const password = i < 0 ? "" : creds.slice(i + 1);
  if (username === "")
    throw new KimgError("CREDENTIALS_INVALID", `${source}: username can't be empty`);
  if (password === "")
    throw new KimgError("CREDENTIALS_INVALID", `${source}: password can't be empty`);
  return new AuthCredential({ username, password, source });
}

export interface StaticSourceOptions {
  /** Only for this registry host (as in references: `docker.io`, `localhost:5000`). */
  host?: string | undefined;
  source?: string | undefined;
}

/** A source answering `creds` (a `user:pass` string or a credential) for every repo. */
export function staticSource(
  creds: string | AuthCredential,
  opts: StaticSourceOptions = {},
): CredentialProvider {
  const cred = typeof creds === "string" ? parseCreds(creds, opts.source) : creds;
  return {
    name: opts.source ?? "--creds",
    async lookupAll(repo) {
      if (opts.host !== undefined && repoHost(repo) !== opts.host) return [];
      return [cred];
    },
  };
}
