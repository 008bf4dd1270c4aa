// The JSON API of `kimg ui` (design: notes/issue6-api.md). Each handler calls the library the
// way the matching CLI command does and answers with the same shapes `--json` prints:
// /api/parse = `kimg parse --json`, /api/manifests = `kimg policy --json` (+ the `-o yaml`
// text), /api/images = `kimg images --json` (+ layer sharing), /api/images/inspect =
// `kimg inspect --json`, DELETE /api/images = `kimg rmi`, /api/pull = `kimg pull` with its
// progress events streamed as server-sent events.

import {
  applyDefaultImageTag,
  decideContainer,
  defaultCredentialSources,
  evalCRIPullErr,
  explainImage,
  type FsBlobStore,
  type ImageError,
  type ImageRecord,
  imageNeverPullError,
  inspectImage,
  inspectManifests,
  invalidImageNameError,
  isKimgError,
  isPullPolicy,
  KimgError,
  loadManifests,
  loadRegistriesConf,
  normalizeImageName,
  PARSE_MODES,
  type ParseMode,
  type PolicyPullResult,
  type PullPolicy,
  pinManifests,
  pullTryingCredentials,
  toYaml,
} from "../index.ts";
import { HttpError } from "./http.ts";
import type { PullJob, PullJobs } from "./pull-jobs.ts";

/** What the handlers share: the open store, the pull jobs, the environment for credentials. */
export interface ApiContext {
  readonly store: FsBlobStore;
  readonly jobs: PullJobs;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly homedir: string;
  readonly insecureHosts: readonly string[];
  readonly registriesConf?: string | undefined;
  /** Aborted when the server closes: running pulls stop. */
  readonly signal: AbortSignal;
}

/** The manifest text /api/manifests accepts (design: ≤ 1 MiB). */
export const MAX_MANIFEST_TEXT = 1024 * 1024;

function requiredString(params: URLSearchParams, name: string): string {
  const v = params.get(name);
  if (v === null) throw new HttpError(400, "INPUT_INVALID", `query parameter ${name} is required`);
  return v;
}

function optionalBoolean(body: Record<string, unknown>, name: string): boolean {
  const v = body[name];
  if (v === undefined || v === null) return false;
  if (typeof v !== "boolean") {
    throw new HttpError(400, "INPUT_INVALID", `${name} must be true or false`);
  }
  return v;
}

// ---------------------------------------------------------------------------------------------
// GET /api/parse?ref=R[&mode=M]

/** `kimg parse --json` for one reference: never an HTTP error for an invalid reference. */
export function parseHandler(params: URLSearchParams): unknown {
  const ref = requiredString(params, "ref");
  const mode = params.get("mode") ?? "normalized";
  if (!(PARSE_MODES as readonly string[]).includes(mode)) {
    throw new HttpError(
      400,
      "INPUT_INVALID",
      `mode: unknown mode ${JSON.stringify(mode)} (one of ${PARSE_MODES.join(", ")})`,
    );
  }
  return explainImage(ref, mode as ParseMode);
}

// ---------------------------------------------------------------------------------------------
// POST /api/decide

/**
 * One container: the API server's defaulting (SetDefaults_Container), AlwaysPullImages when
 * enabled, API validation, then what the kubelet does with the image present or not
 * (EnsureImageExists, credential-verification gate on as since 1.35 — as `kimg policy`), and
 * the lint advice.
 */
export function decideHandler(body: Record<string, unknown>): unknown {
  const image = body.image;
  if (typeof image !== "string")
    throw new HttpError(400, "INPUT_INVALID", "image must be a string");
  const declared = body.imagePullPolicy ?? "";
  if (typeof declared !== "string" || (declared !== "" && !isPullPolicy(declared))) {
    throw new HttpError(
      400,
      "INPUT_INVALID",
      `imagePullPolicy must be "", "Always", "IfNotPresent" or "Never", got ${JSON.stringify(declared)}`,
    );
  }
  return decideContainer(image, declared as "" | PullPolicy, {
    alwaysPullImages: optionalBoolean(body, "alwaysPullImages"),
    present: optionalBoolean(body, "present"),
  });
}

// ---------------------------------------------------------------------------------------------
// POST /api/manifests[?alwaysPullImages=1]

/** `kimg policy --json` for one pasted text, plus the `-o yaml` write-back as defaultedYaml. */
export function manifestsHandler(body: Record<string, unknown>, params: URLSearchParams): unknown {
  const text = body.text;
  if (typeof text !== "string") throw new HttpError(400, "INPUT_INVALID", "text must be a string");
  if (Buffer.byteLength(text, "utf8") > MAX_MANIFEST_TEXT) {
    throw new HttpError(413, "PAYLOAD_TOO_LARGE", `manifest text over ${MAX_MANIFEST_TEXT} bytes`);
  }
  const flag = params.get("alwaysPullImages");
  const source = typeof body.source === "string" && body.source !== "" ? body.source : "manifest";
  // INPUT_UNREADABLE (YAML syntax) → 400 with the parser's message and line.
  const file = loadManifests(text, source);
  const report = inspectManifests([file], {
    alwaysPullImages: flag === "1" || flag === "true",
  });
  return { ...report, defaultedYaml: toYaml([file], report) };
}

// ---------------------------------------------------------------------------------------------
// POST /api/pin[?update=1]

/**
 * `kimg pin --json` for one pasted text, plus the pinned text as pinnedYaml. It asks registries
 * with this node's credentials (docker config, auth.json), so it needs the page's token like
 * the routes that change something: another site cannot make the node resolve images.
 */
export async function pinHandler(
  ctx: ApiContext,
  body: Record<string, unknown>,
  params: URLSearchParams,
): Promise<unknown> {
  const text = body.text;
  if (typeof text !== "string") throw new HttpError(400, "INPUT_INVALID", "text must be a string");
  if (Buffer.byteLength(text, "utf8") > MAX_MANIFEST_TEXT) {
    throw new HttpError(413, "PAYLOAD_TOO_LARGE", `manifest text over ${MAX_MANIFEST_TEXT} bytes`);
  }
  const source = typeof body.source === "string" && body.source !== "" ? body.source : "manifest";
  const file = loadManifests(text, source);
  const registriesConf = await loadRegistriesConf({
    path: ctx.registriesConf,
    env: ctx.env,
    home: ctx.homedir,
  });
  const { chain } = defaultCredentialSources({ env: ctx.env, home: ctx.homedir });
  const flag = params.get("update");
  const r = await pinManifests([file], {
    keyring: chain,
    insecureHosts: ctx.insecureHosts,
    registriesConf,
    update: flag === "1" || flag === "true",
    signal: ctx.signal,
  });
  return {
    sites: r.sites,
    summary: r.summary,
    resolutions: r.resolutions,
    pinnedYaml: r.files[0]?.text ?? text,
  };
}

// ---------------------------------------------------------------------------------------------
// GET /api/images, GET /api/images/inspect, DELETE /api/images

/**
 * `kimg images --json` records, each with `sharedLayers`: how many of its blobs (layers and
 * config; not its manifest or index) other images — other targets, not other tags of the same
 * image — also use, and `sharedWith`: those images' names.
 */
export async function imagesHandler(ctx: ApiContext): Promise<unknown> {
  const records = await ctx.store.listImages();
  const targetsOf = new Map<string, Set<string>>();
  for (const r of records) {
    for (const b of r.blobs) {
      let s = targetsOf.get(b);
      if (s === undefined) {
        s = new Set();
        targetsOf.set(b, s);
      }
      s.add(r.target.digest);
    }
  }
  const byTarget = new Map<string, string[]>();
  for (const r of records) {
    const list = byTarget.get(r.target.digest) ?? [];
    list.push(r.name);
    byTarget.set(r.target.digest, list);
  }
  return records.map((r: ImageRecord) => {
    const own = new Set([r.manifestDigest, r.target.digest, r.indexDigest ?? ""]);
    let sharedLayers = 0;
    const sharedWith = new Set<string>();
    for (const b of r.blobs) {
      if (own.has(b)) continue;
      const others = [...(targetsOf.get(b) ?? [])].filter((t) => t !== r.target.digest);
      if (others.length === 0) continue;
      sharedLayers++;
      for (const t of others) for (const n of byTarget.get(t) ?? []) sharedWith.add(n);
    }
    return { ...r, sharedLayers, sharedWith: [...sharedWith].sort() };
  });
}

export function inspectHandler(ctx: ApiContext, params: URLSearchParams): Promise<unknown> {
  return inspectImage(ctx.store, requiredString(params, "ref"));
}

/**
 * `kimg rmi`: untag, then delete the blobs that image used and nothing else needs. A pull in
 * flight (this server's or another process's) protects its blobs with a lease.
 */
export async function removeHandler(ctx: ApiContext, params: URLSearchParams): Promise<unknown> {
  const ref = requiredString(params, "ref");
  const name = normalizeImageName(ref);
  const report = await ctx.store.removeImages([name]);
  if (report.removed.length === 0) {
    throw new KimgError("IMAGE_NOT_FOUND", `No such image: ${ref}`);
  }
  return { untagged: name, deleted: report.deleted.map((b) => b.digest) };
}

// ---------------------------------------------------------------------------------------------
// POST /api/pull, GET /api/pull/ID/events

export interface PullRequest {
  readonly ref: string;
  readonly policy?: PullPolicy;
  readonly platform?: string;
}

export function pullRequestOf(body: Record<string, unknown>): PullRequest {
  const { ref, policy, platform } = body;
  if (typeof ref !== "string" || ref === "") {
    throw new HttpError(400, "INPUT_INVALID", "ref must be a non-empty string");
  }
  if (policy !== undefined && policy !== null && policy !== "" && !isPullPolicy(policy)) {
    throw new HttpError(
      400,
      "INPUT_INVALID",
      `policy must be "", "Always", "IfNotPresent" or "Never", got ${JSON.stringify(policy)}`,
    );
  }
  if (platform !== undefined && platform !== null && typeof platform !== "string") {
    throw new HttpError(400, "INPUT_INVALID", "platform must be a string");
  }
  return {
    ref,
    ...(isPullPolicy(policy) ? { policy } : {}),
    ...(typeof platform === "string" && platform !== "" ? { platform } : {}),
  };
}

/**
 * The `error` event of a failed pull: the KimgError code and the kubelet's waiting reason and
 * message for it (pkg/kubelet/images/image_manager.go): InvalidImageName for a reference that
 * does not parse, ErrImageNeverPull, else ErrImagePull with the runtime's error text — a
 * registry that cannot be reached too, as containerd reports it (it does not send the CRI's
 * `RegistryUnavailable` prefix that evalCRIPullErr would turn into that reason).
 */
export function pullErrorEvent(
  ref: string,
  e: unknown,
): { code: string; message: string; reason: string; error: string } {
  const code = isKimgError(e) ? e.code : "INTERNAL";
  const text = e instanceof Error ? e.message : String(e);
  let ie: ImageError;
  if (code === "ERR_IMAGE_NEVER_PULL") ie = imageNeverPullError(ref);
  else ie = evalCRIPullErr(ref, text);
  return { code, reason: ie.error, message: ie.message, error: text };
}

function resultEvent(r: PolicyPullResult): unknown {
  return r.action === "use-local"
    ? { action: r.action, policy: r.policy, message: r.message, record: r.record }
    : { action: r.action, policy: r.policy, message: r.message, image: r.image };
}

/**
 * Runs one pull as `kimg pull` does (pullTryingCredentials over Docker's config.json, then
 * containers' auth.json; registries.conf), its progress and outcome as the job's events.
 */
export async function runPullJob(ctx: ApiContext, job: PullJob, p: PullRequest): Promise<void> {
  const { jobs } = ctx;
  // The kubelet checks the image name before the policy (EnsureImageExists →
  // applyDefaultImageTag): an unparsable reference is InvalidImageName, never a pull.
  try {
    applyDefaultImageTag(p.ref);
  } catch (e) {
    if (!isKimgError(e)) throw e;
    const ie = invalidImageNameError(p.ref, e.message);
    jobs.emit(job, "error", {
      code: e.code,
      reason: ie.error,
      message: ie.message,
      error: e.message,
    });
    return;
  }
  try {
    const registriesConf = await loadRegistriesConf({
      path: ctx.registriesConf,
      env: ctx.env,
      home: ctx.homedir,
    });
    const { chain, describe } = defaultCredentialSources({ env: ctx.env, home: ctx.homedir });
    const r = await pullTryingCredentials(p.ref, p.policy, {
      store: ctx.store,
      candidates: chain,
      describe,
      otherHosts: chain,
      insecureHosts: ctx.insecureHosts,
      registriesConf,
      onProgress: (e) => jobs.emit(job, "progress", e),
      platform: p.platform,
      signal: ctx.signal,
    });
    jobs.emit(job, "result", resultEvent(r));
  } catch (e) {
    jobs.emit(job, "error", pullErrorEvent(p.ref, e));
  }
}
