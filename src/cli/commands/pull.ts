// kimg pull / images / rmi: the local store from the command line. Thin: the library does the
// work (pullWithPolicy, FsBlobStore, the credential chain); this renders progress events as
// lines or JSON and the store's records as a table. Credentials: `--creds`, `--pull-secret`
// files, Docker's config.json, containers' auth.json, in that order; each matching credential is
// tried in turn until one pulls, as the kubelet does.

import {
  type AuthCredential,
  authJsonSource,
  type CredentialProvider,
  credentialChain,
  defaultStoreDir,
  dockerConfigSource,
  FsBlobStore,
  findImageRecords,
  type ImageRecord,
  KimgError,
  loadRegistriesConf,
  type ProgressEvent,
  type PullPolicy,
  parseNormalizedNamed,
  pullSecretsSource,
  pullTryingCredentials,
  repoHost,
  type SecretObject,
  shortDigest,
  staticSource,
} from "../../pull-api.ts";
import { type CliIO, EXIT } from "../io.ts";
import { formatBytes, formatDuration } from "../render/bytes.ts";
import { type BarStream, ProgressBars } from "../render/progress-bars.ts";
import { safe, toJson } from "../render/safe.ts";

interface StoreFlags {
  readonly store?: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly homedir: string;
}

export interface PullFlags extends StoreFlags {
  readonly policy?: PullPolicy;
  readonly platform?: string;
  readonly jobs: number;
  readonly insecureHosts: readonly string[];
  readonly progress: "auto" | "plain" | "json";
  readonly isTTY: boolean;
  /** `--creds user:pass` for the image's registry. */
  readonly creds?: string;
  /** `--pull-secret FILE` (repeatable): YAML/JSON files with Secret objects. */
  readonly pullSecrets?: readonly string[];
  /** `--registries-conf FILE`; else $CONTAINERS_REGISTRIES_CONF, the user's, the system's. */
  readonly registriesConf?: string;
  /** `--retries N`, `--max-retry-wait D`, `--stall-timeout D`, `--timeout D` as typed. */
  readonly retries?: string;
  readonly maxRetryWait?: string;
  readonly stallTimeout?: string;
  readonly timeout?: string;
}

/** A `--flag` duration (Go syntax: 30s, 2m, 1h30m) in ms; INPUT_INVALID (exit 2) otherwise. */
async function durationFlag(flag: string, text: string): Promise<number> {
  // The kubelet's duration parser, loaded only when a duration flag is given (start-up).
  const { parseGoDuration } = await import("../../index.ts");
  let ms: number;
  try {
    ms = parseGoDuration(text);
  } catch (e) {
    throw new KimgError("INPUT_INVALID", `${flag}: ${(e as Error).message}`);
  }
  if (ms <= 0) throw new KimgError("INPUT_INVALID", `${flag}: must be positive, got ${text}`);
  return ms;
}

/**
 * The retry settings the flags give; unset ones keep retryOptions' defaults (src/registry
 * retry.ts: 5 tries, 60 s longest wait, 30 s stall limit, each with its reason).
 */
export async function retryFlags(f: PullFlags): Promise<{
  maxAttempts?: number;
  maxDelayMs?: number;
  stallTimeoutMs?: number;
}> {
  const out: { maxAttempts?: number; maxDelayMs?: number; stallTimeoutMs?: number } = {};
  if (f.retries !== undefined) {
    const n = Number(f.retries);
    if (!/^\d+$/.test(f.retries) || !Number.isSafeInteger(n)) {
      throw new KimgError(
        "INPUT_INVALID",
        `--retries must be a number of retries (0, 1, …), got ${f.retries}`,
      );
    }
    out.maxAttempts = n + 1;
  }
  if (f.maxRetryWait !== undefined)
    out.maxDelayMs = await durationFlag("--max-retry-wait", f.maxRetryWait);
  if (f.stallTimeout !== undefined)
    out.stallTimeoutMs = await durationFlag("--stall-timeout", f.stallTimeout);
  return out;
}

function openStore(f: StoreFlags): Promise<FsBlobStore> {
  return FsBlobStore.open(f.store ?? defaultStoreDir(f.env, f.homedir));
}

/** For commands that only read or remove: a missing store is an error, never created. */
function openExistingStore(f: StoreFlags): Promise<FsBlobStore> {
  return FsBlobStore.openExisting(f.store ?? defaultStoreDir(f.env, f.homedir));
}

/** One line per event (none for `done`: the summary line follows). */
export function progressLine(e: ProgressEvent): string | undefined {
  const line = progressText(e);
  // Media types and endpoints come from the registry's headers.
  return line === undefined ? undefined : safe(line);
}

function progressText(e: ProgressEvent): string | undefined {
  switch (e.type) {
    case "resolve":
      return `${e.ref}: resolved to ${e.digest} (${e.mediaType}, ${formatBytes(e.size)})${e.endpoint !== undefined ? ` from ${e.endpoint}` : ""}`;
    case "manifest":
      return `${shortDigest(e.digest)}: ${e.kind}${e.cached ? " already exists" : " downloaded"}${e.platform !== undefined ? ` for ${e.platform}` : ""}`;
    case "blob-start":
      return `${shortDigest(e.digest)}: downloading ${formatBytes(e.size)}${e.offset > 0 ? ` (resuming at ${e.offset})` : ""}`;
    case "blob-progress":
      return `${shortDigest(e.digest)}: ${formatBytes(e.current)} / ${formatBytes(e.size)}`;
    case "blob-skipped":
      return `${shortDigest(e.digest)}: already exists`;
    case "blob-done":
      return `${shortDigest(e.digest)}: download complete`;
    case "wait":
      return `${e.host}: waiting ${formatDuration(e.ms)} before try ${e.attempt}: ${e.reason}`;
    case "layers": // the TTY display's "Waiting" lines; each layer gets its own lines anyway
    case "done":
      return undefined;
  }
}

/**
 * The credential sources in order: `--creds`, pull secrets, docker config.json (DOCKER_CONFIG),
 * containers auth.json (REGISTRY_AUTH_FILE), each tagged with the kind the image record shows.
 */
async function credentialSources(
  f: PullFlags,
  host: string,
): Promise<{ kind: string; source: CredentialProvider }[]> {
  const out: { kind: string; source: CredentialProvider }[] = [];
  if (f.creds !== undefined) out.push({ kind: "creds", source: staticSource(f.creds, { host }) });
  const secrets: SecretObject[] = [];
  if ((f.pullSecrets ?? []).length > 0) {
    // Loads `yaml`: only when the flag is given (start-up of a plain pull, performance.md).
    const { loadSecrets } = await import("./pull-secrets.ts");
    for (const p of f.pullSecrets ?? []) secrets.push(...(await loadSecrets(p)));
  }
  if (secrets.length > 0) out.push({ kind: "pull-secret", source: pullSecretsSource(secrets) });
  out.push({ kind: "docker-config", source: dockerConfigSource({ env: f.env, home: f.homedir }) });
  out.push({ kind: "auth-json", source: authJsonSource({ env: f.env, home: f.homedir }) });
  return out;
}

/**
 * Plain (piped) progress: a line per layer state change, and at most one byte-count line per
 * layer this often (issue 10 item 19: one per 256 KiB flooded logs). JSON keeps every event.
 */
export const PLAIN_PROGRESS_MS = 5000;

export async function runPull(ref: string, f: PullFlags, io: CliIO): Promise<number> {
  const started = Date.now();
  const retry = await retryFlags(f); // flag errors before anything is opened
  const timeoutMs =
    f.timeout === undefined ? undefined : await durationFlag("--timeout", f.timeout);
  const store = await openStore(f);
  const json = f.progress === "json";
  const everyEvent = f.progress === "plain" || (f.progress === "auto" && !f.isTTY);
  // A terminal that can move the cursor (not TERM=dumb): docker-style bars, redrawn in place.
  const bars =
    f.progress === "auto" && f.isTTY && f.env.TERM !== "dumb"
      ? new ProgressBars(io.stdout as BarStream, { lineOf: progressLine })
      : undefined;
  const lastProgress = new Map<string, number>();
  const onProgress = (e: ProgressEvent): void => {
    if (e.type === "blob-start") lastProgress.set(e.digest, Date.now());
    if (bars !== undefined) {
      bars.onEvent(e);
      return;
    }
    if (json) {
      io.stdout.write(`${toJson(e)}\n`);
      return;
    }
    if (e.type === "blob-progress") {
      if (!everyEvent) return; // a TTY: one line per layer step
      const now = Date.now();
      const last = lastProgress.get(e.digest) ?? 0;
      if (now - last < PLAIN_PROGRESS_MS) return;
      lastProgress.set(e.digest, now);
    }
    const line = progressLine(e);
    if (line !== undefined) io.stdout.write(`${line}\n`);
  };
  const named = parseNormalizedNamed(ref); // throws as pull() would, before any file is read
  const registriesConf = await loadRegistriesConf({
    ...(f.registriesConf !== undefined ? { path: f.registriesConf } : {}),
    env: f.env,
    home: f.homedir,
  });
  const repo = `${named.domain}/${named.path}`;
  const sources = await credentialSources(f, repoHost(repo));
  const kindOf = new WeakMap<AuthCredential, string>();
  const tagged = sources.map(
    ({ kind, source }): CredentialProvider => ({
      name: source.name,
      async lookupAll(r, signal) {
        const list = await source.lookupAll(r, signal);
        for (const c of list) kindOf.set(c, kind);
        return list;
      },
    }),
  );
  const chain = credentialChain(tagged);
  const deadline = timeoutMs !== undefined ? new AbortController() : undefined;
  const deadlineTimer =
    deadline !== undefined && timeoutMs !== undefined && timeoutMs <= 2 ** 31 - 1
      ? setTimeout(() => deadline.abort(new Error("context deadline exceeded")), timeoutMs)
      : undefined;
  // The kubelet's loop: every credential matching the image's repository, in order, until one
  // pulls; other hosts (mirrors) get their first usable credential.
  const r = await pullTryingCredentials(ref, f.policy, {
    store,
    candidates: chain,
    describe: (c) => ({ kind: kindOf.get(c) ?? "credential-store" }),
    otherHosts: chain,
    jobs: f.jobs,
    insecureHosts: f.insecureHosts,
    ...(registriesConf !== undefined ? { registriesConf } : {}),
    onProgress,
    retry,
    ...(deadline !== undefined ? { signal: deadline.signal } : {}),
    ...(f.platform !== undefined ? { platform: f.platform } : {}),
  })
    .catch((e: unknown) => {
      // One wording for a deadline, as `kimg run --timeout` says it (issue 10 item 16).
      if (deadline?.signal.aborted === true) {
        throw new KimgError(
          "REGISTRY_UNAVAILABLE",
          `pull ${ref}: context deadline exceeded (kimg pull --timeout ${f.timeout})`,
          { cause: e },
        );
      }
      throw e;
    })
    .finally(() => {
      if (deadlineTimer !== undefined) clearTimeout(deadlineTimer);
      bars?.finish();
    });
  let line: string;
  if (r.action === "use-local") line = r.message;
  else if (r.image.upToDate) line = `Image is up to date for ${r.image.ref}`;
  else {
    const i = r.image;
    line = `Pulled ${i.ref}: digest ${i.digest}, ${formatBytes(i.size)}, ${i.layers} layers (${formatBytes(i.bytesDownloaded)} downloaded) in ${formatDuration(Date.now() - started)}`;
  }
  if (json) io.stdout.write(`${toJson({ type: "summary", action: r.action, message: line })}\n`);
  else io.stdout.write(`${safe(line)}\n`);
  return EXIT.OK;
}

/**
 * The REPOSITORY and TAG cells of a record. A name pinned by digest is its own record (the
 * store keys records by full name, as containerd's image store does), so its TAG cell shows
 * the pin: `v1@sha256:0123456789ab` beside the plain `v1` row (issue 10 item 10).
 */
function repoAndTag(name: string): [string, string] {
  const r = parseNormalizedNamed(name);
  const pin = r.digest === "" ? "" : `@${shortDigest(r.digest)}`;
  const tag = `${r.tag}${pin}`;
  return [`${r.domain}/${r.path}`, tag === "" ? "<none>" : tag];
}

/**
 * `kimg images REF`: crictl's and docker's `images [REPOSITORY[:TAG]]` filter. The repository
 * must match; a tag or digest in the filter must match too (a digest matches the name's pin,
 * the manifest or the index).
 */
export function imageFilter(text: string): (r: ImageRecord) => boolean {
  const f = parseNormalizedNamed(text);
  return (rec) => {
    const r = parseNormalizedNamed(rec.name);
    if (r.domain !== f.domain || r.path !== f.path) return false;
    if (f.tag !== "" && r.tag !== f.tag) return false;
    if (f.digest === "") return true;
    return [r.digest, rec.manifestDigest, rec.indexDigest].includes(f.digest);
  };
}

const isoSeconds = (s: string): string => s.replace(/\.\d+Z$/, "Z");

export function renderImages(records: readonly ImageRecord[]): string {
  const rows = [
    ["REPOSITORY", "TAG", "DIGEST", "SIZE", "PULLED", "LAST USED"],
    ...records.map((r) => [
      ...repoAndTag(r.name).map(safe),
      shortDigest(r.manifestDigest),
      formatBytes(r.size),
      isoSeconds(r.pulledAt),
      isoSeconds(r.lastUsed),
    ]),
  ];
  const widths =
    rows[0]?.map((_, c) => Math.max(...rows.map((row) => (row[c] ?? "").length))) ?? [];
  return rows
    .map((row) =>
      row
        .map((cell, c) => (c === row.length - 1 ? cell : cell.padEnd((widths[c] ?? 0) + 3)))
        .join(""),
    )
    .join("\n");
}

export interface ImagesFlags extends StoreFlags {
  readonly json: boolean;
  /** `-q`: only the image IDs (manifest digests), one per image, as `crictl images -q`. */
  readonly quiet?: boolean;
  /** `[REPOSITORY[:TAG]]` */
  readonly filter?: string;
}

export async function runImages(f: ImagesFlags, io: CliIO): Promise<number> {
  const keep = f.filter !== undefined ? imageFilter(f.filter) : () => true;
  const store = await openExistingStore(f);
  const records = (await store.listImages()).filter(keep);
  if (f.quiet === true) {
    const ids = [...new Set(records.map((r) => r.manifestDigest))];
    io.stdout.write(f.json ? `${toJson(ids, 2)}\n` : ids.map((id) => `${id}\n`).join(""));
    return EXIT.OK;
  }
  io.stdout.write(f.json ? `${toJson(records, 2)}\n` : `${renderImages(records)}\n`);
  return EXIT.OK;
}

/**
 * `crictl rmi REF|ID…`: each argument is a reference or an unambiguous prefix of a manifest or
 * index digest (an ID removes every name of that image, as crictl does). The blobs the removed
 * images referenced and nothing else needs are deleted; a pull in flight keeps its blobs (its
 * lease), and leftovers of other work stay for `kimg prune`. Arguments that match nothing are
 * reported and the others still removed (docker rmi, crictl rmi); exit 3 if any matched nothing.
 */
export async function runRmi(refs: readonly string[], f: StoreFlags, io: CliIO): Promise<number> {
  const store = await openExistingStore(f);
  const records = await store.listImages();
  const names = new Set<string>();
  const missing: string[] = [];
  for (const ref of refs) {
    const hit = findImageRecords(records, ref);
    if (hit === undefined) missing.push(ref);
    else for (const r of hit.records) names.add(r.name);
  }
  if (names.size > 0) {
    const report = await store.removeImages([...names]);
    for (const r of report.removed) io.stdout.write(`Untagged: ${r.name}\n`);
    for (const b of report.deleted) io.stdout.write(`Deleted: ${b.digest}\n`);
  }
  if (missing.length === 0) return EXIT.OK;
  for (const ref of missing.slice(0, -1)) io.stderr.write(`kimg: No such image: ${safe(ref)}\n`);
  throw new KimgError("IMAGE_NOT_FOUND", `No such image: ${missing[missing.length - 1]}`);
}
