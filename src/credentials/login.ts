// Saving and forgetting a registry login (`kimg login`, `kimg logout`), as docker login and
// podman login write them:
// - Docker's config.json (`$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`), the key
//   `https://index.docker.io/v1/` for Docker Hub, `auths[key].auth = base64(user:pass)`
//   (docker/cli cli/config/configfile/file.go `Save`, credentials/file_store.go).
// - containers' auth.json with `authfile` (containers/image pkg/docker/config: the key is the
//   registry host, `docker.io` for Docker Hub).
// - Through a credential helper when the file names one for the host (`credHelpers[key]`) or
//   for all (`credsStore`): `docker-credential-NAME store` / `erase`, and the file keeps no
//   plaintext entry for that key (file.go: `Save` drops helper-held auths).
// Every other field of the file is kept as it was. The file is replaced atomically, mode 0600,
// its directory created 0700 when missing; a file that is not a JSON object is refused, never
// overwritten.

import { randomBytes } from "node:crypto";
import { mkdir, open, readFile, rename, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { errnoText, KimgError } from "../errors.ts";
import { dockerConfigPath, getAuthConfigKey } from "./docker-config.ts";
import { helperWrite } from "./helper.ts";

export interface LoginFileOptions {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly home: string;
  /** containers' auth.json to use instead of Docker's config.json. */
  readonly authfile?: string | undefined;
}

export interface LoginFile {
  readonly path: string;
  readonly format: "docker" | "containers";
}

export function loginFile(o: LoginFileOptions): LoginFile {
  if (o.authfile !== undefined) return { path: o.authfile, format: "containers" };
  return { path: dockerConfigPath(o.env as NodeJS.ProcessEnv, o.home), format: "docker" };
}

/** The key a login is stored under in that file format. */
export function loginKey(file: LoginFile, host: string): string {
  if (file.format === "docker") return getAuthConfigKey(host);
  return host === "index.docker.io" || host === "registry-1.docker.io" ? "docker.io" : host;
}

type Doc = Record<string, unknown>;

async function readDoc(path: string): Promise<Doc> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    if ((e as { code?: string }).code === "ENOENT") return {};
    throw new KimgError("INPUT_UNREADABLE", `${path}: cannot read: ${errnoText(e)}`);
  }
  let doc: unknown;
  try {
    doc = text.trim() === "" ? {} : JSON.parse(text);
  } catch {
    throw new KimgError(
      "CREDENTIALS_INVALID",
      `${path}: not valid JSON; fix or move it, kimg does not overwrite it`,
    );
  }
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) {
    throw new KimgError(
      "CREDENTIALS_INVALID",
      `${path}: not a JSON object; fix or move it, kimg does not overwrite it`,
    );
  }
  return doc as Doc;
}

function helperFor(doc: Doc, key: string): string | undefined {
  const helpers = doc.credHelpers;
  if (typeof helpers === "object" && helpers !== null) {
    const h = (helpers as Record<string, unknown>)[key];
    if (typeof h === "string" && h !== "") return h;
  }
  return typeof doc.credsStore === "string" && doc.credsStore !== "" ? doc.credsStore : undefined;
}

/**
 * Temp file in the same directory (0600 from its creation, so the secret is never readable by
 * others), fsync, rename. Here rather than store/atomic-file.ts: credentials sit beside the
 * store in the layers and do not import it.
 */
async function writeDoc(path: string, doc: Doc): Promise<void> {
  const dir = dirname(path);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const tmp = join(dir, `.${basename(path)}.${process.pid}-${randomBytes(4).toString("hex")}.tmp`);
  const fh = await open(tmp, "wx", 0o600);
  try {
    await fh.writeFile(`${JSON.stringify(doc, null, "\t")}\n`, "utf8");
    await fh.sync();
    await fh.close();
    await rename(tmp, path);
  } catch (e) {
    await fh.close().catch(() => {});
    await rm(tmp, { force: true });
    throw e;
  }
}

function auths(doc: Doc): Record<string, unknown> {
  const a = doc.auths;
  if (typeof a === "object" && a !== null && !Array.isArray(a)) return a as Record<string, unknown>;
  const fresh: Record<string, unknown> = {};
  doc.auths = fresh;
  return fresh;
}

/** Saves `username`/`password` for `host`; says where (`/path/config.json` or `helper NAME`). */
export async function saveLogin(
  file: LoginFile,
  host: string,
  cred: { username: string; password: string },
  opts: { env?: NodeJS.ProcessEnv } = {},
): Promise<{ where: string }> {
  const doc = await readDoc(file.path);
  const key = loginKey(file, host);
  const helper = helperFor(doc, key);
  const a = auths(doc);
  if (helper !== undefined) {
    await helperWrite(
      helper,
      "store",
      key,
      { username: cred.username, secret: cred.password },
      opts,
    );
    if (key in a) {
      delete a[key];
      await writeDoc(file.path, doc);
    }
    return { where: `credential helper docker-credential-${helper}` };
  }
  const entry =
    typeof a[key] === "object" && a[key] !== null ? (a[key] as Record<string, unknown>) : {};
  for (const k of ["username", "password", "identitytoken", "registrytoken"]) delete entry[k];
  entry.auth = Buffer.from(`${cred.username}:${cred.password}`).toString("base64");
  a[key] = entry;
  await writeDoc(file.path, doc);
  return { where: file.path };
}

/** Forgets the login for `host`; false when there was none in the file (a helper is asked anyway). */
export async function removeLogin(
  file: LoginFile,
  host: string,
  opts: { env?: NodeJS.ProcessEnv } = {},
): Promise<boolean> {
  const doc = await readDoc(file.path);
  const key = loginKey(file, host);
  const helper = helperFor(doc, key);
  const a = auths(doc);
  const had = key in a;
  if (helper !== undefined) await helperWrite(helper, "erase", key, undefined, opts);
  if (had) {
    delete a[key];
    await writeDoc(file.path, doc);
  }
  return had || helper !== undefined;
}
