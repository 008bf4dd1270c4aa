// kimg login HOST / kimg logout HOST, as docker login and podman login do them. Thin: the
// registry client checks the credentials (RegistryClient.login) before anything is saved, and
// src/credentials/login.ts writes Docker's config.json (or containers' auth.json with
// --authfile), through the configured credential helper when there is one.
// The password comes from a prompt that does not echo, or --password-stdin; --password works
// but warns, as docker does, because argv is visible to every user of the machine.

import {
  convertToHostname,
  KimgError,
  loginFile,
  parseNormalizedNamed,
  RegistryClient,
  removeLogin,
  saveLogin,
} from "../../pull-api.ts";
import { type CliIO, EXIT } from "../io.ts";
import { safe, toJson } from "../render/safe.ts";

export interface LoginFlags {
  readonly json: boolean;
  readonly username?: string | undefined;
  readonly password?: string | undefined;
  readonly passwordStdin: boolean;
  readonly authfile?: string | undefined;
  readonly insecureHosts: readonly string[];
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly homedir: string;
}

/** `https://host/v2/` or `host` → `host` (docker's convertToHostname), checked as a reference domain. */
function hostOf(text: string): string {
  const h = convertToHostname(text.trim());
  const ref = parseNormalizedNamed(`${h}/x`);
  if (ref.domain !== h && h !== "docker.io" && h !== "index.docker.io") {
    throw new KimgError("INPUT_INVALID", `not a registry host: ${JSON.stringify(text)}`);
  }
  return h === "index.docker.io" ? "docker.io" : h;
}

type Tty = NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?: (raw: boolean) => void };

/** One line from the terminal; with `hidden`, nothing is echoed (raw mode). */
function prompt(io: CliIO, question: string, hidden: boolean): Promise<string> {
  const input = io.stdin as Tty;
  // Echo goes off before the question shows: an answer typed as soon as it appears is not echoed.
  if (hidden) input.setRawMode?.(true);
  io.stderr.write(question);
  return new Promise((resolve, reject) => {
    let line = "";
    const done = (err?: Error) => {
      input.removeListener("data", onData);
      if (hidden) input.setRawMode?.(false);
      (input as unknown as { pause?: () => void }).pause?.();
      if (hidden) io.stderr.write("\n");
      if (err) reject(err);
      else resolve(line);
    };
    const onData = (chunk: Buffer | string) => {
      for (const ch of chunk.toString()) {
        if (ch === "\r" || ch === "\n") return done();
        if (ch === "\u0003") return done(new KimgError("ABORTED", "login cancelled"));
        if (ch === "\u007f" || ch === "\b") line = line.slice(0, -1);
        else line += ch;
      }
    };
    input.on("data", onData);
    (input as unknown as { resume?: () => void }).resume?.();
  });
}

async function readAll(io: CliIO): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of io.stdin)
    chunks.push(typeof c === "string" ? Buffer.from(c) : (c as Buffer));
  return Buffer.concat(chunks).toString("utf8");
}

export async function runLogin(hostText: string, f: LoginFlags, io: CliIO): Promise<number> {
  const host = hostOf(hostText);
  if (f.passwordStdin && f.password !== undefined) {
    throw new KimgError("INPUT_INVALID", "--password and --password-stdin are mutually exclusive");
  }
  const tty = (io.stdin as Tty).isTTY === true;
  let username = f.username;
  if (f.passwordStdin && username === undefined) {
    throw new KimgError("INPUT_INVALID", "must provide --username with --password-stdin");
  }
  if (username === undefined) {
    if (!tty)
      throw new KimgError(
        "INPUT_INVALID",
        "no username: give -u USER (standard input is not a terminal)",
      );
    username = (await prompt(io, "Username: ", false)).trim();
  }
  if (username === "") throw new KimgError("INPUT_INVALID", "the username is empty");
  let password = f.password;
  if (password !== undefined) {
    io.stderr.write("WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n");
  } else if (f.passwordStdin) {
    password = (await readAll(io)).replace(/\r?\n$/, "");
  } else {
    if (!tty)
      throw new KimgError(
        "INPUT_INVALID",
        "no password: use --password-stdin (standard input is not a terminal)",
      );
    password = await prompt(io, "Password: ", true);
  }
  if (password === "") throw new KimgError("INPUT_INVALID", "the password is empty");

  const client = new RegistryClient({
    host,
    insecureHosts: f.insecureHosts,
    credentials: {
      lookup: async (h) =>
        h === host ? { username, password, source: `the login for ${host}` } : undefined,
    },
  });
  try {
    await client.login();
  } finally {
    await client.close();
  }
  const file = loginFile({ env: f.env, home: f.homedir, authfile: f.authfile });
  const { where } = await saveLogin(
    file,
    host,
    { username, password },
    { env: f.env as NodeJS.ProcessEnv },
  );
  if (f.json) {
    io.stdout.write(`${toJson({ host, saved: where })}\n`);
    return EXIT.OK;
  }
  io.stderr.write(`credentials saved in ${safe(where)}\n`);
  io.stdout.write("Login Succeeded\n");
  return EXIT.OK;
}

export async function runLogout(hostText: string, f: LoginFlags, io: CliIO): Promise<number> {
  const host = hostOf(hostText);
  const file = loginFile({ env: f.env, home: f.homedir, authfile: f.authfile });
  const had = await removeLogin(file, host, { env: f.env as NodeJS.ProcessEnv });
  if (f.json) io.stdout.write(`${toJson({ host, removed: had })}\n`);
  else {
    io.stdout.write(
      had ? `Removing login credentials for ${safe(host)}\n` : `Not logged in to ${safe(host)}\n`,
    );
  }
  return EXIT.OK;
}
