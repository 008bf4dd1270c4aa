// docker-credential-helpers protocol, `get` only: run `docker-credential-<name> get` with the
// server URL on stdin, read `{"ServerURL","Username","Secret"}` from stdout.
// Sources: docker/docker-credential-helpers client/client.go (`Get`), credentials/error.go
// ("credentials not found in native keychain", "no credentials server URL"), docker/cli
// cli/config/credentials/native_store.go (`<token>` username = identity token; not found = no
// credentials); ../../shared/specs/registry.md §3.2.
//
// Differences from upstream: docker waits for the helper forever; kimg kills it (SIGKILL) after a
// timeout (default 30 s) and caps its output at 1 MiB. stderr is never read, and a failing
// helper's stdout is never put into the message (docker quotes it: "out: `…`"), since it may
// hold a secret; the message names the helper, its exit status and how to run it to see the
// output, which the error keeps as `withheld` for `--debug` only. The protocol's own messages
// ("no credentials server URL", "no credentials username") are shown as docker shows them.

import { KimgError } from "../errors.ts";
import { AuthCredential, goStringFields, isObject } from "./credential.ts";
import { runBounded } from "./subprocess.ts";

export const HELPER_PREFIX = "docker-credential-";
export const ERR_CREDENTIALS_NOT_FOUND = "credentials not found in native keychain";
export const ERR_MISSING_SERVER_URL = "no credentials server URL";
export const ERR_MISSING_USERNAME = "no credentials username";
/** native_store.go tokenUsername. */
export const TOKEN_USERNAME = "<token>";
export const DEFAULT_HELPER_TIMEOUT_MS = 30_000;
const OUTPUT_MAX = 1024 * 1024;

export interface HelperOptions {
  /** ms; default 30 000. */
  timeoutMs?: number | undefined;
  /** Environment of the helper (PATH finds it); default process.env. */
  env?: NodeJS.ProcessEnv | undefined;
  signal?: AbortSignal | undefined;
}

async function run(
  program: string,
  input: string,
  opts: HelperOptions,
  timeoutMs: number,
  action: "get" | "store" | "erase" = "get",
): Promise<{ code: number | null; stdout: string }> {
  const doing = { get: "getting", store: "storing", erase: "erasing" }[action];
  const fail = (msg: string) =>
    new KimgError("CREDENTIAL_HELPER_FAILED", `error ${doing} credentials - ${msg}`);
  const r = await runBounded({
    program,
    args: [action],
    input,
    env: opts.env ?? process.env,
    timeoutMs,
    stdoutMax: OUTPUT_MAX,
    signal: opts.signal,
  });
  switch (r.kind) {
    case "exit":
      return { code: r.code, stdout: r.stdout };
    case "timeout":
      throw fail(`err: ${program} ${action}: timed out after ${timeoutMs} ms`);
    case "overflow":
      throw fail(`err: ${program} ${action}: output over ${OUTPUT_MAX} bytes`);
    case "aborted":
      throw new KimgError("ABORTED", `${program} ${action}: aborted`);
    case "spawn-error": {
      const e = r.error;
      const msg =
        e.code === "ENOENT" ? `exec: "${program}": executable file not found in $PATH` : e.message;
      throw fail(`err: ${msg}, out: \`\``);
    }
  }
}

/**
 * client.go `Get` + native_store.go: the helper's credential for `serverURL`, undefined when it
 * answers "credentials not found". Throws CREDENTIAL_HELPER_FAILED otherwise.
 */
export async function helperGet(
  name: string,
  serverURL: string,
  opts: HelperOptions = {},
): Promise<AuthCredential | undefined> {
  const program = HELPER_PREFIX + name;
  const timeoutMs = opts.timeoutMs ?? DEFAULT_HELPER_TIMEOUT_MS;
  if (opts.signal?.aborted) throw new KimgError("ABORTED", `${program} get: aborted`);
  const { code, stdout } = await run(program, serverURL, opts, timeoutMs);
  const out = stdout.trim();
  if (code !== 0) {
    if (out === ERR_CREDENTIALS_NOT_FOUND) return undefined;
    // client.go isValidCredsMessage: these two messages replace the exit status as the error
    const err =
      out === ERR_MISSING_SERVER_URL || out === ERR_MISSING_USERNAME
        ? out
        : `exit status ${code ?? "signal"}`;
    // docker prints the helper's output here ("out: `…`"); kimg never does: a failing helper
    // may print a token (issue 18). It says how to see it instead, and keeps it for --debug.
    if (err !== out) {
      throw new KimgError(
        "CREDENTIAL_HELPER_FAILED",
        `error getting credentials - err: ${err}, out: not shown (${program} may print secrets; to see it, run: echo ${serverURL} | ${program} get)`,
        out === "" ? undefined : { withheld: { from: `${program} get`, text: out } },
      );
    }
    throw new KimgError(
      "CREDENTIAL_HELPER_FAILED",
      `error getting credentials - err: ${err}, out: \`${out}\``,
    );
  }
  let doc: unknown;
  try {
    doc = JSON.parse(stdout);
  } catch {
    throw new KimgError("CREDENTIAL_HELPER_FAILED", `${program} get: output is not valid JSON`);
  }
  if (!isObject(doc)) {
    throw new KimgError("CREDENTIAL_HELPER_FAILED", `${program} get: output is not a JSON object`);
  }
  let f: { ServerURL?: string; Username?: string; Secret?: string };
  try {
    f = goStringFields(
      doc,
      ["ServerURL", "Username", "Secret"] as const,
      "credentials.Credentials",
    );
  } catch (e) {
    throw new KimgError("CREDENTIAL_HELPER_FAILED", `${program} get: ${(e as Error).message}`);
  }
  const username = f.Username ?? "";
  const secret = f.Secret ?? "";
  const source = `helper ${name}`;
  // native_store.go getCredentialsFromStore: ServerAddress is the address asked for
  if (username === TOKEN_USERNAME) {
    return new AuthCredential({ identityToken: secret, serverAddress: serverURL, source });
  }
  return new AuthCredential({ username, password: secret, serverAddress: serverURL, source });
}

/**
 * client.go `Store` / `Erase`: hands a credential to `docker-credential-NAME store` (JSON on
 * stdin: ServerURL, Username, Secret), or asks `erase` to forget `serverURL`. The helper's
 * output is never shown (it may echo a secret); its exit status is.
 */
export async function helperWrite(
  name: string,
  action: "store" | "erase",
  serverURL: string,
  cred: { username: string; secret: string } | undefined,
  opts: HelperOptions = {},
): Promise<void> {
  const program = HELPER_PREFIX + name;
  const input =
    action === "store"
      ? JSON.stringify({
          ServerURL: serverURL,
          Username: cred?.username ?? "",
          Secret: cred?.secret ?? "",
        })
      : serverURL;
  const { code, stdout } = await run(
    program,
    input,
    opts,
    opts.timeoutMs ?? DEFAULT_HELPER_TIMEOUT_MS,
    action,
  );
  if (code !== 0) {
    if (action === "erase" && stdout.trim() === ERR_CREDENTIALS_NOT_FOUND) return;
    throw new KimgError(
      "CREDENTIAL_HELPER_FAILED",
      `error ${action === "store" ? "storing" : "erasing"} credentials - err: exit status ${code ?? "signal"}, out: not shown (${program} may print secrets)`,
    );
  }
}
