// kimg pull / images / rmi: the local store from the command line. Thin: the library does the
// work (pullWithPolicy, FsBlobStore, the credential chain); this renders progress events as
// lines or JSON and the store's records as a table. Credentials: `--creds`, `--pull-secret`
// files, Docker's config.json, containers' auth.json, in that order; each matching credential is
// tried in turn until one pulls, as the kubelet does.

import {
  defaultCredentialSources,
  defaultStoreDir,
  FsBlobStore,
  findImageRecords,
  type ImageRecord,
  KimgError,
  loadRegistriesConf,
  type PolicyPullResult,
  type ProgressEvent,
  type PullPolicy,
  parseNormalizedNamed,
  progressText,
  pullTryingCredentials,
  type SecretObject,
  shortDigest,
} from "../../pull-api.ts";
import { type CliIO, EXIT } from "../io.ts";
import { formatBytes, formatDuration } from "../render/bytes.ts";
import { type BarStream, ProgressBars } from "../render/progress-bars.ts";
import { safe, toJson } from "../render/safe.ts";

interface StoreFlags {
  readonly store?: string | undefined;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly homedir: string;
}

/** The flags of every command that talks to a registry (pull, digest, …). */
export interface RegistryFlags {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly homedir: string;
  readonly platform?: string | undefined;
  readonly insecureHosts: readonly string[];
  /** `--creds user:pass` for the image's registry. */
  readonly creds?: string | undefined;
  /** `--pull-secret FILE` (repeatable): YAML/JSON files with Secret objects. */
  readonly pullSecrets?: readonly string[] | undefined;
  /** `--registries-conf FILE`; else $CONTAINERS_REGISTRIES_CONF, the user's, the system's. */
  readonly registriesConf?: string | undefined;
  /** `--retries N`, `--max-retry-wait D`, `--stall-timeout D` as typed. */
  readonly retries?: string | undefined;
  readonly maxRetryWait?: string | undefined;
  readonly stallTimeout?: string | undefined;
}

export interface PullFlags extends StoreFlags, RegistryFlags {
  readonly policy?: PullPolicy | undefined;
  readonly jobs: number;
  readonly progress: "auto" | "plain" | "json";
  readonly isTTY: boolean;
  /** `--timeout D` as typed. */
  readonly timeout?: string | undefined;
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
export async function retryFlags(f: RegistryFlags): Promise<{
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

/** The credential chain for `ref` from `--creds`, `--pull-secret` and the user's files. */
export async function credentialsOf(ref: string, f: RegistryFlags) {
  const named = parseNormalizedNamed(ref); // throws as pull() would, before any file is read
  return defaultCredentialSources({
    env: f.env,
    home: f.homedir,
    creds: f.creds !== undefined ? { value: f.creds, host: named.domain } : undefined,
    pullSecrets: await pullSecretObjects(f),
  });
}

/** Secret objects from the `--pull-secret` files (loads `yaml` only when the flag is given). */
async function pullSecretObjects(f: RegistryFlags): Promise<SecretObject[]> {
  if ((f.pullSecrets ?? []).length === 0) return [];
  const { loadSecrets } = await import("./pull-secrets.ts");
  const out: SecretObject[] = [];
  for (const p of f.pullSecrets ?? []) out.push(...(await loadSecrets(p)));
  return out;
}

/**
 * Plain (piped) progress: a line per layer state change, and at most one byte-count line per
 * layer this often (issue 10 item 19: one per 256 KiB flooded logs). JSON keeps every event.
 */
export const PLAIN_PROGRESS_MS = 5000;

export async function runPull(ref: string, f: PullFlags, io: CliIO): Promise<number> {
  const started = Date.now();
  const opts = await pullOptionsOf(f); // flag errors before anything is opened
  const { chain, describe } = await credentialsOf(ref, f);
  const progress = progressPrinter(f, io);
  // The kubelet's loop: every credential matching the image's repository, in order, until one
  // pulls; other hosts (mirrors) get their first usable credential.
  const r = await withDeadline(
    opts.timeoutMs,
    `pull ${ref}`,
    `kimg pull --timeout ${f.timeout}`,
    async (signal) =>
      pullTryingCredentials(ref, f.policy, {
        ...opts.pull,
        store: await openStore(f),
        candidates: chain,
        describe,
        otherHosts: chain,
        onProgress: progress.onEvent,
        signal,
      }),
  ).finally(() => progress.finish());
  const line = summaryLine(r, Date.now() - started);
  if (f.progress === "json") {
    io.stdout.write(`${toJson({ type: "summary", action: r.action, message: line })}\n`);
  } else io.stdout.write(`${safe(line)}\n`);
  return EXIT.OK;
}

/** The pull options the flags give (retries, registries.conf, platform, jobs) and --timeout. */
async function pullOptionsOf(f: PullFlags) {
  const timeoutMs =
    f.timeout === undefined ? undefined : await durationFlag("--timeout", f.timeout);
  return { timeoutMs, pull: { ...(await registryOptionsOf(f)), jobs: f.jobs } };
}

/** What every registry command's flags give: retries, registries.conf, insecure hosts, platform. */
export async function registryOptionsOf(f: RegistryFlags) {
  const retry = await retryFlags(f);
  const registriesConf = await loadRegistriesConf({
    path: f.registriesConf,
    env: f.env,
    home: f.homedir,
  });
  return { insecureHosts: f.insecureHosts, registriesConf, retry, platform: f.platform };
}

/**
 * Runs `work` with a signal that aborts after `timeoutMs` (none when undefined or past what a
 * Node timer holds, ~24.8 days); a pull stopped by it fails with one wording, as `kimg run
 * --timeout` says it (issue 10 item 16): `pull REF: context deadline exceeded (FLAG)`.
 */
async function withDeadline<T>(
  timeoutMs: number | undefined,
  what: string,
  flag: string,
  work: (signal: AbortSignal | undefined) => Promise<T>,
): Promise<T> {
  if (timeoutMs === undefined || timeoutMs > 2 ** 31 - 1) return work(undefined);
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(new Error("context deadline exceeded")), timeoutMs);
  try {
    return await work(deadline.signal);
  } catch (e) {
    if (!deadline.signal.aborted) throw e;
    throw new KimgError("REGISTRY_UNAVAILABLE", `${what}: context deadline exceeded (${flag})`, {
      cause: e,
    });
  } finally {
    clearTimeout(timer);
  }
}

/** The last line of a pull: what was used or pulled, its size and how long it took. */
function summaryLine(r: PolicyPullResult, elapsedMs: number): string {
  if (r.action === "use-local") return r.message;
  const i = r.image;
  if (i.upToDate) return `Image is up to date for ${i.ref}`;
  return `Pulled ${i.ref}: digest ${i.digest}, ${formatBytes(i.size)}, ${i.layers} layers (${formatBytes(i.bytesDownloaded)} downloaded) in ${formatDuration(elapsedMs)}`;
}

/**
 * Progress as the flags and the terminal ask: docker-style bars redrawn in place on a terminal
 * that can move the cursor (not TERM=dumb), JSON lines with `--progress json`, else one line per
 * layer step — and, when piped or `--progress plain`, byte counts at most every
 * PLAIN_PROGRESS_MS per layer.
 */
function progressPrinter(
  f: PullFlags,
  io: CliIO,
): { onEvent: (e: ProgressEvent) => void; finish: () => void } {
  const json = f.progress === "json";
  const everyEvent = f.progress === "plain" || (f.progress === "auto" && !f.isTTY);
  const bars =
    f.progress === "auto" && f.isTTY && f.env.TERM !== "dumb"
      ? new ProgressBars(io.stdout as BarStream, { lineOf: progressLine })
      : undefined;
  const lastProgress = new Map<string, number>();
  const onEvent = (e: ProgressEvent): void => {
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
      if (now - (lastProgress.get(e.digest) ?? 0) < PLAIN_PROGRESS_MS) return;
      lastProgress.set(e.digest, now);
    }
    const line = progressLine(e);
    if (line !== undefined) io.stdout.write(`${line}\n`);
  };
  return { onEvent, finish: () => bars?.finish() };
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
  readonly quiet?: boolean | undefined;
  /** `[REPOSITORY[:TAG]]` */
  readonly filter?: string | undefined;
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
