// KEP-2535 "Ensure secret pulled images": the kubelet's records of image pulls and the decision
// whether a pod may use an image that is already on the node (kubelet.md §6). Pure: no I/O, no
// clock (time is a parameter), no hashing — the I/O caller names the files
// (`sha256-<lowercase hex of sha256(key)>`, key = the normalized image name for intents — where
// upstream uses the image with its default tag, kimg normalizes fully, so `x`, `x:latest` and
// `docker.io/library/x:latest` are one intent —, the image ref (manifest digest) for pulled
// records; src/store/pull-records.ts `pullRecordFileName`) and reads/writes them.
//
// Upstream sources (kubernetes/kubernetes), read for this file:
// - pkg/kubelet/images/pullmanager/image_pull_manager.go — MustAttemptImagePull,
//   writePulledRecordIfChanged, pulledRecordMergeNewCreds, mergePullSecrets,
//   mergePullServiceAccounts, PruneUnknownRecords, writeRecordWhileMatchingLimit (100)
// - pkg/kubelet/images/pullmanager/image_pull_policies.go — the four policies,
//   NeverVerifyAllowlistedImages.imageMatches, getAllowlistImagePattern
// - pkg/kubelet/images/pullmanager/fs_pullrecords.go — GetImagePulledRecord (a record whose
//   imageRef differs from the requested one counts as absent), ImagePullIntentExists
// - staging/src/k8s.io/kubelet/config/v1alpha1/types.go (and v1beta1) — ImagePullIntent,
//   ImagePulledRecord, ImagePullCredentials, ImagePullSecret, ImagePullServiceAccount and
//   their JSON tags
// - pkg/kubelet/apis/config/validation/validation.go — the KubeletEnsureSecretPulledImages
//   block of ValidateKubeletConfiguration (policy and allowlist messages)
// - pkg/kubelet/images/pullmanager/{image_pull_policies_test.go,image_pull_manager_test.go}
//   and testdata/pulled/* — ported in test/kubelet/pull-records.test.ts

import { KimgError } from "../errors.ts";
import { goQuote, hasGoSurroundingSpace } from "../go/index.ts";
import { isJsonObject as isObject } from "../json/index.ts";
import {
  isFailure,
  referenceName,
  tryParseImageName,
  tryParseNormalizedNamed,
} from "../ref/index.ts";

// ---------------------------------------------------------------------------------------------
// Types (kubelet.config.k8s.io ImagePullIntent / ImagePulledRecord)

/** The API group and version the kubelet (1.35) writes records in. */
export const PULL_RECORDS_API_VERSION = "kubelet.config.k8s.io/v1beta1";
/** Versions accepted on read: 1.33–1.34 wrote v1alpha1 (same fields), 1.35 writes v1beta1. */
export const PULL_RECORDS_READABLE_API_VERSIONS: readonly string[] = [
  "kubelet.config.k8s.io/v1alpha1",
  "kubelet.config.k8s.io/v1beta1",
];

export type ImagePullCredentialsVerificationPolicy =
  | "NeverVerify"
  | "NeverVerifyPreloadedImages"
  | "NeverVerifyAllowlistedImages"
  | "AlwaysVerify";

/** In the order the kubelet's validation message lists them. */
export const IMAGE_PULL_CREDENTIALS_VERIFICATION_POLICIES: readonly ImagePullCredentialsVerificationPolicy[] =
  ["NeverVerify", "NeverVerifyPreloadedImages", "NeverVerifyAllowlistedImages", "AlwaysVerify"];

/** Default of `imagePullCredentialsVerificationPolicy` when the gate is on (v1beta1 defaults.go). */
export const DEFAULT_IMAGE_PULL_CREDENTIALS_VERIFICATION_POLICY: ImagePullCredentialsVerificationPolicy =
  "NeverVerifyPreloadedImages";

/**
 * While only *checking* credentials, a pod secret that matched by hash only or by coordinates
 * only is merged into the record as long as the record holds fewer secrets than this
 * (`writeRecordWhileMatchingLimit`: bounds writes under high namespace turnover).
 */
export const WRITE_RECORD_WHILE_MATCHING_LIMIT = 100;

/** A Kubernetes Secret's coordinates and the hash of the pull credential it holds. */
export interface ImagePullSecret {
  readonly uid: string;
  readonly namespace: string;
  readonly name: string;
  /** Hex SHA-256 of the credential (src/credentials credentialHash); "" if hashing failed. */
  readonly credentialHash: string;
}

/** A ServiceAccount whose token a credential-provider plugin used for the pull. */
export interface ImagePullServiceAccount {
  readonly uid: string;
  readonly namespace: string;
  readonly name: string;
}

/** What pulled an image for one repository. `nodePodsAccessible` excludes the two lists. */
export interface ImagePullCredentials {
  readonly kubernetesSecrets?: readonly ImagePullSecret[];
  readonly kubernetesServiceAccounts?: readonly ImagePullServiceAccount[];
  readonly nodePodsAccessible?: boolean;
}

/** `pulling/<sha256(image)>`: written before every pull of the raw pod image `image`. */
export interface ImagePullIntent {
  readonly image: string;
}

/** `pulled/<sha256(imageRef)>`: the credentials each repository was pulled with. */
export interface ImagePulledRecord {
  /** RFC 3339, UTC, whole seconds (metav1.Time), e.g. `2024-10-21T12:26:40Z`. */
  readonly lastUpdatedTime: string;
  /** The image ref (image id) the CRI returned. */
  readonly imageRef: string;
  /**
   * Keyed by the pod image with tag and digest removed, as ParseImageName normalizes it
   * (`docker.io/library/nginx`). An own-property map (built with Object.fromEntries, read with
   * Object.hasOwn).
   */
  readonly credentialMapping: Readonly<Record<string, ImagePullCredentials>>;
}

// ---------------------------------------------------------------------------------------------
// Time: metav1.Time is RFC 3339 at whole seconds in UTC on the wire.

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[T](\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/** metav1.Time's JSON form of a time in ms since the epoch (sub-seconds truncated). */
export function formatRecordTime(ms: number): string {
  if (!Number.isFinite(ms)) throw new KimgError("INPUT_INVALID", `invalid time ${ms}`);
  const whole = Math.floor(ms / 1000) * 1000;
  return `${new Date(whole).toISOString().slice(0, 19)}Z`;
}

/** The ms since the epoch of an RFC 3339 time; undefined when the text is not RFC 3339. */
export function parseRecordTime(text: string): number | undefined {
  const m = RFC3339.exec(text);
  if (m === null) return undefined;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? undefined : ms;
}

function recordTimeOf(now: number | string): string {
  if (typeof now === "number") return formatRecordTime(now);
  const ms = parseRecordTime(now);
  if (ms === undefined) throw new KimgError("INPUT_INVALID", `invalid time ${goQuote(now)}`);
  return formatRecordTime(ms);
}

// ---------------------------------------------------------------------------------------------
// JSON boundary. The kubelet decodes with a strict codec: unknown or duplicate fields, a wrong
// kind or an unregistered apiVersion are errors, and an unreadable record means "pull".

function corrupt(what: string, detail: string): KimgError {
  return new KimgError("STORE_CORRUPT", `${what}: ${detail}`);
}

function parseInput(input: unknown, what: string): Record<string, unknown> {
  let value = input;
  if (typeof input === "string") {
    try {
      value = JSON.parse(input) as unknown;
    } catch {
      throw corrupt(what, "not valid JSON");
    }
  }
  if (!isObject(value)) throw corrupt(what, "not a JSON object");
  return value;
}

function checkFields(obj: Record<string, unknown>, allowed: readonly string[], what: string): void {
  for (const key of Object.keys(obj)) {
    if (!allowed.includes(key)) throw corrupt(what, `unknown field ${goQuote(key)}`);
  }
}

function checkTypeMeta(obj: Record<string, unknown>, kind: string, what: string): void {
  if (obj.kind !== kind) {
    throw corrupt(what, `kind ${goQuote(String(obj.kind ?? ""))} is not ${goQuote(kind)}`);
  }
  if (
    typeof obj.apiVersion !== "string" ||
    !PULL_RECORDS_READABLE_API_VERSIONS.includes(obj.apiVersion)
  ) {
    throw corrupt(what, `unsupported apiVersion ${goQuote(String(obj.apiVersion ?? ""))}`);
  }
}

function str(obj: Record<string, unknown>, key: string, what: string, required = true): string {
  const v = obj[key];
  if (v === undefined || v === null) {
    if (required) throw corrupt(what, `missing ${key}`);
    return "";
  }
  if (typeof v !== "string") throw corrupt(what, `${key} is not a string`);
  return v;
}

function list<T>(v: unknown, what: string, item: (x: unknown) => T): T[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw corrupt(what, "not a list");
  return v.map(item);
}

function decodeSecret(v: unknown): ImagePullSecret {
  const what = "pulled record: kubernetesSecrets";
  if (!isObject(v)) throw corrupt(what, "entry is not an object");
  checkFields(v, ["uid", "namespace", "name", "credentialHash"], what);
  return {
    uid: str(v, "uid", what, false),
    namespace: str(v, "namespace", what, false),
    name: str(v, "name", what, false),
    credentialHash: str(v, "credentialHash", what, false),
  };
}

function decodeServiceAccount(v: unknown): ImagePullServiceAccount {
  const what = "pulled record: kubernetesServiceAccounts";
  if (!isObject(v)) throw corrupt(what, "entry is not an object");
  checkFields(v, ["uid", "namespace", "name"], what);
  return {
    uid: str(v, "uid", what, false),
    namespace: str(v, "namespace", what, false),
    name: str(v, "name", what, false),
  };
}

function decodeCredentials(v: unknown, repo: string): ImagePullCredentials {
  const what = `pulled record: credentialMapping[${goQuote(repo)}]`;
  if (!isObject(v)) throw corrupt(what, "not an object");
  checkFields(v, ["kubernetesSecrets", "kubernetesServiceAccounts", "nodePodsAccessible"], what);
  const secrets = list(v.kubernetesSecrets, what, decodeSecret);
  const sas = list(v.kubernetesServiceAccounts, what, decodeServiceAccount);
  const node = v.nodePodsAccessible;
  if (node !== undefined && node !== null && typeof node !== "boolean") {
    throw corrupt(what, "nodePodsAccessible is not a boolean");
  }
  return credentials(secrets, sas, node === true);
}

/** Builds ImagePullCredentials with Go's omitempty: empty lists and `false` are absent. */
function credentials(
  secrets: readonly ImagePullSecret[],
  sas: readonly ImagePullServiceAccount[],
  node: boolean,
): ImagePullCredentials {
  return {
    ...(secrets.length > 0 ? { kubernetesSecrets: secrets } : {}),
    ...(sas.length > 0 ? { kubernetesServiceAccounts: sas } : {}),
    ...(node ? { nodePodsAccessible: true } : {}),
  };
}

/**
 * Validates an ImagePulledRecord read from disk (JSON text or an already parsed value) of
 * version v1alpha1 or v1beta1. Throws STORE_CORRUPT (the caller treats that as "pull", as the
 * kubelet does on a record it cannot decode).
 */
export function decodePulledRecord(input: unknown): ImagePulledRecord {
  const what = "pulled record";
  const obj = parseInput(input, what);
  checkFields(
    obj,
    ["kind", "apiVersion", "lastUpdatedTime", "imageRef", "credentialMapping"],
    what,
  );
  checkTypeMeta(obj, "ImagePulledRecord", what);
  const time = obj.lastUpdatedTime;
  let lastUpdatedTime = "0001-01-01T00:00:00Z"; // metav1.Time null/absent = Go's zero time
  if (time !== undefined && time !== null) {
    if (typeof time !== "string") throw corrupt(what, "lastUpdatedTime is not a string");
    const ms = parseRecordTime(time);
    if (ms === undefined) throw corrupt(what, `lastUpdatedTime ${goQuote(time)} is not RFC 3339`);
    lastUpdatedTime = formatRecordTime(ms);
  }
  const imageRef = str(obj, "imageRef", what, false);
  const mapping = obj.credentialMapping;
  const entries: [string, ImagePullCredentials][] = [];
  if (mapping !== undefined && mapping !== null) {
    if (!isObject(mapping)) throw corrupt(what, "credentialMapping is not an object");
    for (const [repo, v] of Object.entries(mapping))
      entries.push([repo, decodeCredentials(v, repo)]);
  }
  return { lastUpdatedTime, imageRef, credentialMapping: Object.fromEntries(entries) };
}

/** Validates an ImagePullIntent read from disk. Throws STORE_CORRUPT. */
export function decodePullIntent(input: unknown): ImagePullIntent {
  const what = "pull intent";
  const obj = parseInput(input, what);
  checkFields(obj, ["kind", "apiVersion", "image"], what);
  checkTypeMeta(obj, "ImagePullIntent", what);
  return { image: str(obj, "image", what, false) };
}

/**
 * The JSON value the kubelet writes for a record, fields in Go's order (kind, apiVersion,
 * lastUpdatedTime, imageRef, credentialMapping with sorted keys; empty fields omitted).
 */
export function encodePulledRecord(record: ImagePulledRecord): Record<string, unknown> {
  const repos = Object.keys(record.credentialMapping).sort(byteCompare);
  const mapping: [string, unknown][] = repos.map((repo) => {
    const c = record.credentialMapping[repo] as ImagePullCredentials;
    const secrets = c.kubernetesSecrets ?? [];
    const sas = c.kubernetesServiceAccounts ?? [];
    return [
      repo,
      {
        ...(secrets.length > 0
          ? {
              kubernetesSecrets: secrets.map((s) => ({
                uid: s.uid,
                namespace: s.namespace,
                name: s.name,
                credentialHash: s.credentialHash,
              })),
            }
          : {}),
        ...(sas.length > 0
          ? {
              kubernetesServiceAccounts: sas.map((s) => ({
                uid: s.uid,
                namespace: s.namespace,
                name: s.name,
              })),
            }
          : {}),
        ...(c.nodePodsAccessible === true ? { nodePodsAccessible: true } : {}),
      },
    ];
  });
  return {
    kind: "ImagePulledRecord",
    apiVersion: PULL_RECORDS_API_VERSION,
    lastUpdatedTime: record.lastUpdatedTime,
    imageRef: record.imageRef,
    ...(mapping.length > 0 ? { credentialMapping: Object.fromEntries(mapping) } : {}),
  };
}

/** The JSON value the kubelet writes for a pull intent. */
export function encodePullIntent(intent: ImagePullIntent): Record<string, unknown> {
  return { kind: "ImagePullIntent", apiVersion: PULL_RECORDS_API_VERSION, image: intent.image };
}

/**
 * Go's encoding/json text of a value (json.Encoder: `<`, `>`, `&`, U+2028 and U+2029 escaped,
 * trailing newline), so files are byte-identical to the kubelet's.
 */
export function goJSON(value: unknown): string {
  return `${JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`)}\n`;
}

function byteCompare(a: string, b: string): number {
  // strings.Compare; equal to UTF-16 order for the ASCII names records hold.
  return a < b ? -1 : a > b ? 1 : 0;
}

// ---------------------------------------------------------------------------------------------
// Merging credentials into a record (pulledRecordMergeNewCreds and friends)

/** The repository key of a pod image: ParseImageName's repo (tag and digest removed). */
export function recordRepoOf(image: string): string | undefined {
  const parsed = tryParseImageName(image);
  return isFailure(parsed) ? undefined : parsed.repoToPull;
}

function secretLess(a: ImagePullSecret, b: ImagePullSecret): number {
  return (
    byteCompare(a.namespace, b.namespace) ||
    byteCompare(a.name, b.name) ||
    byteCompare(a.uid, b.uid)
  );
}

function saLess(a: ImagePullServiceAccount, b: ImagePullServiceAccount): number {
  return (
    byteCompare(a.namespace, b.namespace) ||
    byteCompare(a.name, b.name) ||
    byteCompare(a.uid, b.uid)
  );
}

function coordKey(x: { uid: string; namespace: string; name: string }): string {
  return JSON.stringify([x.uid, x.namespace, x.name]);
}

/** mergePullSecrets: unique by (namespace, name, uid), the new hash wins, sorted. */
function mergeSecrets(
  orig: readonly ImagePullSecret[],
  add: readonly ImagePullSecret[],
): { secrets: readonly ImagePullSecret[]; changed: boolean } {
  const set = new Map<string, ImagePullSecret>();
  for (const s of orig) set.set(coordKey(s), s);
  let changed = false;
  for (const s of add) {
    const key = coordKey(s);
    const existing = set.get(key);
    if (existing === undefined || existing.credentialHash !== s.credentialHash) {
      changed = true;
      set.set(key, {
        uid: s.uid,
        namespace: s.namespace,
        name: s.name,
        credentialHash: s.credentialHash,
      });
    }
  }
  if (!changed) return { secrets: orig, changed };
  return { secrets: [...set.values()].sort(secretLess), changed };
}

/** mergePullServiceAccounts: a set of (uid, namespace, name), sorted. */
function mergeServiceAccounts(
  orig: readonly ImagePullServiceAccount[],
  add: readonly ImagePullServiceAccount[],
): { sas: readonly ImagePullServiceAccount[]; changed: boolean } {
  const set = new Map<string, ImagePullServiceAccount>();
  for (const s of orig) set.set(coordKey(s), s);
  let changed = false;
  for (const s of add) {
    const key = coordKey(s);
    if (!set.has(key)) {
      changed = true;
      set.set(key, { uid: s.uid, namespace: s.namespace, name: s.name });
    }
  }
  if (!changed) return { sas: orig, changed };
  return { sas: [...set.values()].sort(saLess), changed };
}

export interface RecordUpdate {
  readonly record: ImagePulledRecord;
  /** False when nothing changed (the kubelet then does not rewrite the file). */
  readonly changed: boolean;
}

/**
 * pulledRecordMergeNewCreds: merges `creds` for repository `repo` into `record`.
 * - no creds (or empty creds) → unchanged;
 * - new repo key → added as given;
 * - existing entry node-accessible → unchanged (it stays node-accessible);
 * - new creds node-accessible → the entry becomes node-accessible and loses its lists;
 * - secrets → mergeSecrets; otherwise service accounts → mergeServiceAccounts.
 * A change sets `lastUpdatedTime` to `now`.
 */
export function mergePulledRecord(
  record: ImagePulledRecord,
  repo: string,
  creds: ImagePullCredentials | undefined,
  now: number | string,
): RecordUpdate {
  if (creds === undefined) return { record, changed: false };
  const newSecrets = creds.kubernetesSecrets ?? [];
  const newSas = creds.kubernetesServiceAccounts ?? [];
  if (creds.nodePodsAccessible !== true && newSecrets.length === 0 && newSas.length === 0) {
    return { record, changed: false };
  }
  const updated = (entry: ImagePullCredentials): RecordUpdate => ({
    record: {
      lastUpdatedTime: recordTimeOf(now),
      imageRef: record.imageRef,
      credentialMapping: Object.fromEntries([
        ...Object.entries(record.credentialMapping),
        [repo, entry],
      ]),
    },
    changed: true,
  });
  if (!Object.hasOwn(record.credentialMapping, repo)) return updated(creds);
  const selected = record.credentialMapping[repo] as ImagePullCredentials;
  if (selected.nodePodsAccessible === true) return { record, changed: false };
  const secrets = selected.kubernetesSecrets ?? [];
  const sas = selected.kubernetesServiceAccounts ?? [];
  if (creds.nodePodsAccessible === true) return updated({ nodePodsAccessible: true });
  if (newSecrets.length > 0) {
    const merged = mergeSecrets(secrets, newSecrets);
    if (!merged.changed) return { record, changed: false };
    return updated(credentials(merged.secrets, sas, false));
  }
  const merged = mergeServiceAccounts(sas, newSas);
  if (!merged.changed) return { record, changed: false };
  return updated(credentials(secrets, merged.sas, false));
}

/** The credential a successful pull used (kubelet.md §6.1 "what is recorded"). */
export type PullCredentialUsed =
  /** A pod's image pull secret. */
  | {
      readonly kind: "secret";
      readonly uid: string;
      readonly namespace: string;
      readonly name: string;
      readonly credentialHash: string;
    }
  /** A credential-provider plugin in service-account-token mode. */
  | {
      readonly kind: "serviceAccount";
      readonly uid: string;
      readonly namespace: string;
      readonly name: string;
    }
  /** Anonymous, node config.json or a plain plugin: every pod on the node may use the image. */
  | { readonly kind: "node" };

/** The ImagePullCredentials the kubelet records for the credential that worked. */
export function pullCredentialsOf(
  credential: PullCredentialUsed | undefined,
): ImagePullCredentials | undefined {
  if (credential === undefined) return undefined;
  switch (credential.kind) {
    case "secret":
      return {
        kubernetesSecrets: [
          {
            uid: credential.uid,
            namespace: credential.namespace,
            name: credential.name,
            credentialHash: credential.credentialHash,
          },
        ],
      };
    case "serviceAccount":
      return {
        kubernetesServiceAccounts: [
          { uid: credential.uid, namespace: credential.namespace, name: credential.name },
        ],
      };
    case "node":
      return { nodePodsAccessible: true };
  }
}

export interface RecordSuccessfulPullInput {
  /** The CRI image ref the pull returned (the record's file is named after it). */
  readonly imageRef: string;
  /** The raw pod image (its repository is the mapping key). */
  readonly image: string;
  /**
   * The credential that worked; undefined = "pulled under unknown circumstances" (a leftover
   * intent found on the node at startup): the image becomes tracked without credentials, so
   * its next use must verify.
   */
  readonly credential?: PullCredentialUsed | undefined;
  /** ms since the epoch, or an RFC 3339 time. */
  readonly now: number | string;
}

/**
 * writePulledRecordIfChanged: the record to write after a successful pull, given the current
 * one (undefined when there is none or it could not be read; a record for another imageRef
 * counts as none). Throws INPUT_INVALID (`invalid image name "<img>": …`) when the image does
 * not parse — the kubelet then writes nothing.
 */
export function recordSuccessfulPull(
  record: ImagePulledRecord | undefined,
  input: RecordSuccessfulPullInput,
): RecordUpdate {
  const parsed = tryParseImageName(input.image);
  if (isFailure(parsed)) {
    throw new KimgError(
      "INPUT_INVALID",
      `invalid image name ${goQuote(input.image)}: ${parsed.message}`,
    );
  }
  const repo = parsed.repoToPull;
  const creds = pullCredentialsOf(input.credential);
  if (record === undefined || record.imageRef !== input.imageRef) {
    return {
      record: {
        lastUpdatedTime: recordTimeOf(input.now),
        imageRef: input.imageRef,
        // Just the record's existence makes the image "pulled by the kubelet".
        credentialMapping: creds === undefined ? {} : Object.fromEntries([[repo, creds]]),
      },
      changed: true,
    };
  }
  return mergePulledRecord(record, repo, creds, input.now);
}

/**
 * PruneUnknownRecords (run by image GC): a record is deleted when it was last updated before
 * the GC started and its image ref is no longer on the node.
 */
export function shouldPruneRecord(
  record: ImagePulledRecord,
  imageRefsOnNode: ReadonlySet<string>,
  gcStartedAt: number,
): boolean {
  const updated = parseRecordTime(record.lastUpdatedTime) ?? Number.NEGATIVE_INFINITY;
  if (!(updated < gcStartedAt)) return false;
  return !imageRefsOnNode.has(record.imageRef);
}

// ---------------------------------------------------------------------------------------------
// The preloaded-images allowlist (getAllowlistImagePattern, imageMatches)

/**
 * The kubelet's error for one allowlist pattern (getAllowlistImagePattern), undefined when
 * the pattern is valid. Exact upstream texts.
 */
export function allowlistPatternError(pattern: string): string | undefined {
  const r = compilePattern(pattern);
  return "error" in r ? r.error : undefined;
}

function compilePattern(pattern: string): { error: string } | { value: string; wildcard: boolean } {
  if (hasGoSurroundingSpace(pattern))
    return { error: `leading/trailing spaces are not allowed: ${pattern}` };
  let trimmed = pattern;
  let wildcard = false;
  if (pattern.endsWith("/*")) {
    wildcard = true;
    trimmed = trimmed.slice(0, -1);
  }
  if (trimmed.length === 0) return { error: `the supplied pattern is too short: ${pattern}` };
  if (trimmed.includes("*")) {
    return {
      error: `not a valid wildcard pattern, only patterns ending with '/*' are allowed: ${pattern}`,
    };
  }
  if (wildcard) {
    if (trimmed.length === 1) return { error: "at least registry hostname is required" };
    return { value: trimmed, wildcard: true };
  }
  const ref = tryParseNormalizedNamed(trimmed);
  if (isFailure(ref)) return { error: `failed to parse as an image name: ${ref.message}` };
  // image.Name() is the name without tag/digest, normalized: so `nginx` (not fully qualified)
  // is refused with this same message, as upstream does.
  if (trimmed !== referenceName(ref)) {
    return { error: `neither tag nor digest is accepted in an image reference: ${pattern}` };
  }
  return { value: trimmed, wildcard: false };
}

/** A compiled allowlist (NewNeverVerifyAllowListedPullPolicy). */
export interface Allowlist {
  readonly absolute: ReadonlySet<string>;
  /** Wildcard patterns without their `*`: `host/path/`. */
  readonly prefixes: readonly string[];
}

/** Compiles allowlist patterns; throws INPUT_INVALID with the first pattern's error. */
export function compileAllowlist(patterns: readonly string[]): Allowlist {
  const absolute = new Set<string>();
  const prefixes: string[] = [];
  for (const p of patterns) {
    const r = compilePattern(p);
    if ("error" in r) throw new KimgError("INPUT_INVALID", r.error);
    if (r.wildcard) prefixes.push(r.value);
    else absolute.add(r.value);
  }
  return { absolute, prefixes };
}

/**
 * Whether a pod image matches the allowlist. The image is normalized to its repository
 * (ParseNormalizedNamed(image).Name(): familiar name expanded, tag and digest removed) before
 * it is compared with exact entries and wildcard prefixes. Kubelets 1.33–1.35 compared the raw
 * pod image string instead, so `nginx` or `docker.io/library/nginx:1.25` never matched the
 * entry `docker.io/library/nginx`; kubernetes PR #137629 (image_pull_policies.go
 * imageMatches) fixed that, and kimg follows the fix (kubelet.md §6.3). An image that does not
 * parse matches nothing (so it is verified).
 */
export function matchesAllowlist(image: string, patterns: readonly string[] | Allowlist): boolean {
  const allowlist = isAllowlist(patterns) ? patterns : compileAllowlist(patterns);
  const ref = tryParseNormalizedNamed(image);
  if (isFailure(ref)) return false;
  const name = referenceName(ref);
  if (allowlist.absolute.has(name)) return true;
  return allowlist.prefixes.some((p) => name.startsWith(p));
}

function isAllowlist(x: readonly string[] | Allowlist): x is Allowlist {
  return !Array.isArray(x);
}

const ALLOWLIST_FIELD = "`preloadedImagesVerificationAllowlist`";

/**
 * ValidateAllowlistImagesPatterns as ValidateKubeletConfiguration reports it: at most one
 * message (upstream stops at the first invalid pattern):
 * `invalid configuration: invalid image pattern in \`preloadedImagesVerificationAllowlist\`: <err>`.
 */
export function validateAllowlist(patterns: readonly string[]): string[] {
  for (const p of patterns) {
    const err = allowlistPatternError(p);
    if (err !== undefined)
      return [`invalid configuration: invalid image pattern in ${ALLOWLIST_FIELD}: ${err}`];
  }
  return [];
}

/**
 * The KubeletEnsureSecretPulledImages block of ValidateKubeletConfiguration with the gate on:
 * the (defaulted) policy must be one of the four; an allowlist needs NeverVerifyAllowlistedImages
 * (message keeps upstream's typo "Vertification"); patterns must be valid.
 */
export function validateCredentialVerificationConfig(
  policy: string,
  allowlist: readonly string[] | undefined,
): string[] {
  const errs: string[] = [];
  if (!(IMAGE_PULL_CREDENTIALS_VERIFICATION_POLICIES as readonly string[]).includes(policy)) {
    const [a, b, c, d] = IMAGE_PULL_CREDENTIALS_VERIFICATION_POLICIES.map((p) => goQuote(p));
    errs.push(
      `invalid configuration: option ${goQuote(policy)} specified for imagePullCredentialsVerificationPolicy. Valid options are ${a}, ${b}, ${c} or ${d}`,
    );
  }
  const patterns = allowlist ?? [];
  if (patterns.length > 0 && policy !== "NeverVerifyAllowlistedImages") {
    errs.push(
      `invalid configuration: can't set ${ALLOWLIST_FIELD} if \`imagePullCredentialsVertificationPolicy\` is not "NeverVerifyAllowlistedImages"`,
    );
  } else {
    errs.push(...validateAllowlist(patterns));
  }
  return errs;
}

// ---------------------------------------------------------------------------------------------
// Policies (RequireCredentialVerificationForImage)

/**
 * Whether the policy requires the pod's credentials to be verified for an image present on
 * the node. `pulledByKubelet`: a pulled record or a pull intent exists for it.
 */
export function requiresCredentialVerification(
  policy: ImagePullCredentialsVerificationPolicy,
  image: string,
  pulledByKubelet: boolean,
  allowlist: readonly string[] | Allowlist = [],
): boolean {
  switch (policy) {
    case "NeverVerify":
      return false;
    case "NeverVerifyPreloadedImages":
      return pulledByKubelet;
    case "NeverVerifyAllowlistedImages":
      // Regardless of who pulled it (upstream ignores imagePulledByKubelet here).
      return !matchesAllowlist(image, allowlist);
    case "AlwaysVerify":
      return true;
    default:
      throw new KimgError(
        "INPUT_INVALID",
        `unknown image pull credential verification policy: ${String(policy as unknown)}`,
      );
  }
}

// ---------------------------------------------------------------------------------------------
// MustAttemptImagePull

/** The pod's credentials for the image's repository, as far as KEP-2535 can tell them apart. */
export interface PodPullCredentials {
  /** Matched credentials that came from the pod's pull secrets (keyring order). */
  readonly secrets: readonly ImagePullSecret[];
  /** The pod's service account, when a plugin in service-account-token mode matched. */
  readonly serviceAccount?: ImagePullServiceAccount;
}

export interface MustAttemptImagePullInput {
  /** The raw pod image. */
  readonly image: string;
  /** The image ref of the image on the node; "" when absent. */
  readonly imageRef: string;
  /** The pulled record stored for `imageRef` (undefined/null when none). */
  readonly pulledRecord?: ImagePulledRecord | null | undefined;
  /** Set when the record (or the intent) could not be read or decoded: the kubelet pulls. */
  readonly recordError?: string | undefined;
  /** A pull intent for `image` is in flight or on disk. */
  readonly intentExists: boolean;
  /**
   * The pod's credentials, or a function computing them (called only when the decision needs
   * them, as upstream's getPodCredentials; what it throws propagates, as upstream returns it).
   */
  readonly podCredentials: PodPullCredentials | (() => PodPullCredentials);
  readonly policy: ImagePullCredentialsVerificationPolicy;
  readonly allowlist?: readonly string[] | Allowlist | undefined;
  /** For `lastUpdatedTime` of an updated record: ms since the epoch or RFC 3339. */
  readonly now: number | string;
}

/** Upstream's metric result labels of the check. */
export type PullCheckResult =
  | "error"
  | "credentialPolicyAllowed"
  | "mustAuthenticate"
  | "credentialRecordFound";

export interface PullDecision {
  /** True: the pod must pull (so the registry checks its own credentials). */
  readonly pull: boolean;
  readonly result: PullCheckResult;
  /** Why, in words (for `explain` output and logs). */
  readonly reason: string;
  /**
   * The record to write back: a pod secret that matched by hash only or by coordinates only
   * (record holding fewer than 100 secrets) becomes known, so rotated secrets and copies in
   * other namespaces keep working without a pull.
   */
  readonly updatedRecord?: ImagePulledRecord;
}

function decide(
  pull: boolean,
  result: PullCheckResult,
  reason: string,
  updatedRecord?: ImagePulledRecord,
): PullDecision {
  return updatedRecord === undefined
    ? { pull, result, reason }
    : { pull, result, reason, updatedRecord };
}

/** MustAttemptImagePull (kubelet.md §6.2 steps 1–9). */
export function mustAttemptImagePull(input: MustAttemptImagePullInput): PullDecision {
  const { image, imageRef } = input;
  // 1.
  if (imageRef === "")
    return decide(true, "mustAuthenticate", "the image is not present on the node");
  // 2. GetImagePulledRecord: a record for another imageRef is no record.
  if (input.recordError !== undefined) {
    return decide(
      true,
      "error",
      `unable to access cache records about image pulls: ${input.recordError}`,
    );
  }
  const record =
    input.pulledRecord !== undefined &&
    input.pulledRecord !== null &&
    input.pulledRecord.imageRef === imageRef
      ? input.pulledRecord
      : undefined;
  const pulledByKubelet = record !== undefined || input.intentExists;
  // 3.
  if (
    !requiresCredentialVerification(input.policy, image, pulledByKubelet, input.allowlist ?? [])
  ) {
    return decide(
      false,
      "credentialPolicyAllowed",
      `the ${input.policy} policy does not require credential verification for this image${pulledByKubelet ? "" : " (not pulled by the kubelet)"}`,
    );
  }
  // 4.
  if (record === undefined) {
    return decide(
      true,
      "mustAuthenticate",
      "the image must be verified and there is no record of its pull",
    );
  }
  // 5.
  const repo = recordRepoOf(image);
  if (repo === undefined) {
    return decide(
      true,
      "error",
      "failed to parse image name, forcing image credentials reverification",
    );
  }
  if (!Object.hasOwn(record.credentialMapping, repo)) {
    return decide(true, "mustAuthenticate", `no credentials are recorded for ${repo}`);
  }
  const cached = record.credentialMapping[repo] as ImagePullCredentials;
  // 6.
  if (cached.nodePodsAccessible === true) {
    return decide(
      false,
      "credentialRecordFound",
      `${repo} was pulled with credentials every pod on the node has`,
    );
  }
  const cachedSecrets = cached.kubernetesSecrets ?? [];
  const cachedSas = cached.kubernetesServiceAccounts ?? [];
  // 7.
  if (cachedSecrets.length === 0 && cachedSas.length === 0) {
    return decide(true, "mustAuthenticate", `no credentials are recorded for ${repo}`);
  }
  // 8.
  const pod =
    typeof input.podCredentials === "function" ? input.podCredentials() : input.podCredentials;
  const canWrite = cachedSecrets.length < WRITE_RECORD_WHILE_MATCHING_LIMIT;
  const merged = (s: ImagePullSecret): ImagePulledRecord | undefined => {
    const u = mergePulledRecord(record, repo, { kubernetesSecrets: [s] }, input.now);
    return u.changed ? u.record : undefined;
  };
  for (const podSecret of pod.secrets) {
    for (const c of cachedSecrets) {
      // An empty cached hash means hashing failed when the record was written.
      const hashesMatch =
        c.credentialHash.length > 0 && podSecret.credentialHash === c.credentialHash;
      const coordsMatch =
        podSecret.uid === c.uid && podSecret.namespace === c.namespace && podSecret.name === c.name;
      const who = `${podSecret.namespace}/${podSecret.name}`;
      if (hashesMatch) {
        const update = !coordsMatch && canWrite ? merged(podSecret) : undefined;
        return decide(
          false,
          "credentialRecordFound",
          coordsMatch
            ? `${repo} was pulled with the pod's secret ${who}`
            : `${repo} was pulled with the same credential the pod's secret ${who} holds`,
          update,
        );
      }
      // Upstream only accepts a coordinates-only match while the record can still be
      // written (fewer than 100 secrets); past that it keeps looking, and may end up pulling.
      if (coordsMatch && canWrite) {
        return decide(
          false,
          "credentialRecordFound",
          `${repo} was pulled with the pod's secret ${who} (its credential has changed since)`,
          merged(podSecret),
        );
      }
    }
  }
  const sa = pod.serviceAccount;
  if (
    sa !== undefined &&
    cachedSas.some((c) => c.uid === sa.uid && c.namespace === sa.namespace && c.name === sa.name)
  ) {
    return decide(
      false,
      "credentialRecordFound",
      `${repo} was pulled with the pod's service account ${sa.namespace}/${sa.name}`,
    );
  }
  // 9.
  return decide(true, "mustAuthenticate", `none of the pod's credentials is recorded for ${repo}`);
}
