// pinManifests: the seed's "to be 100% sure every container runs the same image version, use
// the image digest", as one step over a set of Kubernetes manifests (`kimg pin`).
//
// - Every container image (manifest/pin.ts `findImageSites`) that names a tag is resolved at
//   its registry, once per distinct image and credential set: 1,000 containers naming 50
//   images cost 50 HEAD requests (remote/digest.ts, one HEAD each), at most `jobs` at once.
// - Credentials are the Pod's: the Secrets its `imagePullSecrets` name, when the same files
//   hold them (same namespace), tried before `keyring` (the CLI's --creds, --pull-secret and
//   the node-style sources), each matching credential in turn as the kubelet does.
// - The digest written is the one the tag names: an index's for a multi-platform image, as
//   `crane digest` and Kubernetes' imageID report it. With `platform`, the index must offer
//   that platform (one GET of the index per image), else the image is reported.
// - Images already pinned are checked: when the tag now names another digest they are
//   reported as moved, and re-pinned only with `update`. Digest-only images (`nginx@sha256:…`)
//   have no tag to check and are left alone.
// - A failed resolution is reported with file:line and the others still pinned, unless
//   `failFast` (the first failure stops new requests and is thrown).
// - Nothing is written here: the result carries each file's new text.

import { CredentialChain, pullSecretsSource, type SecretObject } from "../credentials/index.ts";
import { isKimgError, KimgError } from "../errors.ts";
import { mapLimit } from "../limit/index.ts";
import {
  findImageSites,
  type ImageSite,
  imageEdit,
  type ManifestFile,
  type PinPolicyChange,
  pinnedImage,
  policyChange,
  spliceText,
} from "../manifest/index.ts";
import { isIndexMediaType } from "../oci/index.ts";
import { parseNormalizedNamed, referenceString, tagNameOnly } from "../ref/index.ts";
import { ClientPool } from "../registry/index.ts";
import { type RemoteOptions, remoteDigest, remoteManifest } from "../remote/index.ts";
import { secretsInFile } from "./secrets.ts";

/** Resolutions in flight at once: registry round trips dominate, and 16 keep a registry busy without a burst. */
export const PIN_JOBS = 16;

export interface PinOptions extends Omit<RemoteOptions, "candidates" | "credentials"> {
  /** Credentials after the files' own secrets (--creds, --pull-secret, docker config, auth.json). */
  readonly keyring?: CredentialChain | undefined;
  /** Resolutions at once. Default PIN_JOBS. */
  readonly jobs?: number | undefined;
  /** Re-pin images whose tag now names another digest. */
  readonly update?: boolean | undefined;
  /** Stop at the first failed resolution (thrown). */
  readonly failFast?: boolean | undefined;
  /** `os/arch[/variant]` the index must offer (checked with one GET of the index). */
  readonly platform?: string | undefined;
}

export type PinStatus =
  /** Was `name:tag`, is now `name:tag@digest`. */
  | "pinned"
  /** Already `name:tag@digest`, and the tag still names that digest. */
  | "up-to-date"
  /** Already pinned, the tag now names another digest: re-pinned (`update`). */
  | "updated"
  /** Already pinned, the tag now names another digest: left as it is (no `update`). */
  | "moved"
  /** `name@digest` with no tag: nothing to resolve. */
  | "digest-only"
  /** Could not be resolved or rewritten; `error` says why. */
  | "failed";

export interface PinnedSite {
  readonly source: string;
  readonly line: number;
  readonly column: number;
  readonly kind: string;
  readonly name: string | null;
  readonly namespace: string;
  readonly fieldPath: string;
  readonly container: string | null;
  readonly image: string;
  /** The value written (equal to `image` when unchanged). */
  readonly pinned: string;
  readonly status: PinStatus;
  /** The digest the tag names now (undefined for digest-only and failures). */
  readonly digest?: string | undefined;
  /** The digest the image was pinned to before, when it had one. */
  readonly previousDigest?: string | undefined;
  readonly policy: PinPolicyChange;
  readonly error?: { readonly code: string; readonly message: string } | undefined;
}

export interface PinnedFile {
  readonly source: string;
  readonly text: string;
  readonly changed: boolean;
}

export interface PinResult {
  readonly sites: readonly PinnedSite[];
  readonly files: readonly PinnedFile[];
  /** Distinct resolutions made (each one HEAD at the registry, more only with `platform`). */
  readonly resolutions: number;
  readonly summary: {
    readonly containers: number;
    readonly pinned: number;
    readonly upToDate: number;
    readonly updated: number;
    readonly moved: number;
    readonly digestOnly: number;
    readonly failed: number;
  };
}

interface Resolution {
  digest?: string;
  error?: unknown;
}

/** Pins every container image of `files` (see the header). */
export async function pinManifests(
  files: readonly ManifestFile[],
  opts: PinOptions = {},
): Promise<PinResult> {
  const sites = findImageSites(files);
  const secrets = files.flatMap((f) => secretsInFile(f));
  const jobs: { key: string; lookup: string; secrets: SecretObject[] }[] = [];
  const keyOf = new Map<ImageSite, string>();
  const bad = new Map<ImageSite, unknown>();
  const seen = new Set<string>();
  for (const site of sites) {
    let lookup: string;
    try {
      const ref = parseNormalizedNamed(site.image);
      if (ref.tag === "" && ref.digest !== "") continue; // digest-only
      lookup = referenceString(tagNameOnly({ ...ref, digest: "" }));
    } catch (e) {
      bad.set(site, e);
      continue;
    }
    const own = podSecrets(site, secrets);
    const key = `${lookup}\u0000${own.map((s) => ids(s)).join(",")}`;
    keyOf.set(site, key);
    if (seen.has(key)) continue;
    seen.add(key);
    jobs.push({ key, lookup, secrets: own });
  }

  const resolved = new Map<string, Resolution>();
  // One client pool per credential set, so the images of a registry share its connections,
  // scheme probe and tokens instead of paying them once per image.
  const pools = new Map<string, { chain: CredentialChain; pool: ClientPool }>();
  const poolFor = (secrets: readonly SecretObject[]) => {
    const id = secrets.map(ids).join(",");
    let p = pools.get(id);
    if (p === undefined) {
      const chain = chainOf(secrets, opts);
      p = { chain, pool: new ClientPool({ ...opts, credentials: chain }) };
      pools.set(id, p);
    }
    return p;
  };
  const resolve = async (job: (typeof jobs)[number]): Promise<void> => {
    try {
      resolved.set(job.key, { digest: await resolveOne(job.lookup, poolFor(job.secrets), opts) });
    } catch (error) {
      if (opts.failFast === true || (isKimgError(error) && error.code === "ABORTED")) throw error;
      resolved.set(job.key, { error });
    }
  };
  try {
    await mapLimit(jobs, opts.jobs ?? PIN_JOBS, resolve);
  } finally {
    await Promise.all([...pools.values()].map((p) => p.pool.close()));
  }

  const out: PinnedSite[] = [];
  const editsByFile = new Map<ManifestFile, Map<number, ReturnType<typeof imageEdit>>>();
  for (const site of sites) {
    const key = keyOf.get(site);
    const r = key === undefined ? undefined : resolved.get(key);
    const had = site.image.includes("@")
      ? site.image.slice(site.image.indexOf("@") + 1)
      : undefined;
    let status: PinStatus;
    let pinned = site.image;
    let error: unknown = bad.get(site) ?? r?.error;
    if (key === undefined && error === undefined) status = "digest-only";
    else if (error !== undefined || r?.digest === undefined) status = "failed";
    else if (had === undefined) {
      status = "pinned";
      pinned = pinnedImage(site.image, r.digest);
    } else if (had === r.digest) status = "up-to-date";
    else if (opts.update === true) {
      status = "updated";
      pinned = pinnedImage(site.image, r.digest);
    } else status = "moved";
    if (pinned !== site.image && site.notEditable !== undefined) {
      status = "failed";
      error = new KimgError("INPUT_INVALID", site.notEditable);
      pinned = site.image;
    }
    if (pinned !== site.image) {
      const edits = editsByFile.get(site.file) ?? new Map();
      edits.set(site.start, imageEdit(site, pinned));
      editsByFile.set(site.file, edits);
    }
    out.push({
      source: site.file.source,
      line: site.line,
      column: site.column,
      kind: site.object.kind,
      name: site.object.name,
      namespace: site.object.namespace,
      fieldPath: site.fieldPath,
      container: site.containerName,
      image: site.image,
      pinned,
      status,
      ...(r?.digest !== undefined ? { digest: r.digest } : {}),
      ...(had !== undefined ? { previousDigest: had } : {}),
      policy: policyChange(site.declaredPolicy, site.image, pinned),
      ...(error !== undefined ? { error: errorOf(error) } : {}),
    });
  }
  const count = (s: PinStatus) => out.filter((x) => x.status === s).length;
  return {
    sites: out,
    files: files.map((f) => {
      const edits = editsByFile.get(f);
      const text = edits === undefined ? f.text : spliceText(f.text, [...edits.values()]);
      return { source: f.source, text, changed: text !== f.text };
    }),
    resolutions: jobs.length,
    summary: {
      containers: out.length,
      pinned: count("pinned"),
      upToDate: count("up-to-date"),
      updated: count("updated"),
      moved: count("moved"),
      digestOnly: count("digest-only"),
      failed: count("failed"),
    },
  };
}

/** The Secrets of the files that the site's PodSpec names, in its imagePullSecrets order. */
function podSecrets(site: ImageSite, secrets: readonly SecretObject[]): SecretObject[] {
  return site.imagePullSecrets.flatMap((name) =>
    secrets.filter((s) => {
      const o = coordinates(s);
      return o.name === name && o.namespace === site.object.namespace;
    }),
  );
}

/** A Secret's namespace (`default` when the manifest sets none, as for the Pods) and name. */
function coordinates(s: SecretObject): { namespace: string; name: string } {
  const str = (v: unknown) => (typeof v === "string" ? v : "");
  const ns = str(s.metadata?.namespace);
  return { namespace: ns === "" ? "default" : ns, name: str(s.metadata?.name) };
}

function ids(s: SecretObject): string {
  const o = coordinates(s);
  return `${o.namespace}/${o.name}`;
}

function chainOf(secrets: readonly SecretObject[], opts: PinOptions): CredentialChain {
  const base = opts.keyring?.sources ?? [];
  return new CredentialChain(secrets.length > 0 ? [pullSecretsSource(secrets), ...base] : base);
}

/**
 * One HEAD on the shared clients with the first matching credential; when the registry
 * refuses it and more credentials match, the kubelet's loop over each of them (fresh clients).
 */
async function resolveOne(
  lookup: string,
  shared: { chain: CredentialChain; pool: ClientPool },
  opts: PinOptions,
): Promise<string> {
  const remote: RemoteOptions = { ...opts, credentials: shared.chain, clients: shared.pool };
  let d: Awaited<ReturnType<typeof remoteDigest>>;
  try {
    d = await remoteDigest(lookup, remote);
  } catch (e) {
    const refused =
      isKimgError(e) && (e.code === "REGISTRY_UNAUTHORIZED" || e.code === "REGISTRY_DENIED");
    if (!refused || (await shared.chain.lookupAllForImage(lookup)).length < 2) throw e;
    d = await remoteDigest(lookup, {
      ...opts,
      credentials: shared.chain,
      candidates: shared.chain,
    });
  }
  if (opts.platform !== undefined && isIndexMediaType(d.resolved.mediaType)) {
    // The platform must be in the index (PLATFORM_NOT_FOUND lists what is there).
    await remoteManifest(`${lookup.replace(/:[^:/@]+$/, "")}@${d.resolved.digest}`, {
      ...remote,
      platform: opts.platform,
    });
  }
  return d.resolved.digest;
}

function errorOf(e: unknown): { code: string; message: string } {
  if (isKimgError(e)) return { code: e.code, message: e.message };
  return { code: "INTERNAL", message: e instanceof Error ? e.message : String(e) };
}
