// pull(): one image from a registry into the local store, the containerd way
// (../../shared/specs/registry.md "Pull pipeline summary", §8):
// 1. normalize the reference; its pull sources from registries.conf (mirrors that apply, then the
//    primary location, each with its rewritten repository; `blocked` fails before any request);
// 2. resolve (HEAD) on each source in turn: a source that fails (not found, unauthorized,
//    network, …) moves on to the next, and the first that resolves is used for the whole image
//    (containers/image docker/docker_image_src.go `newImageSource`; all failing ⇒ its
//    "(Mirrors also failed: [...]): primary: error" message with the primary's error code);
//    a RegistryClient per endpoint host, asking the CredentialStore for that host; when the target is in the store with every blob it needs (index → the
//    platform's manifest → config and layers), nothing more goes over the network;
// 3. else fetch the index (verified, stored) and select the platform, fetch the manifest
//    (verified against the digest, stored), the config (stored, parsed, layer count checked),
//    and the layers `jobs` at a time, each through writeBlob: resumed from the store's offset
//    with a Range request, retried a bounded number of times when the stream breaks, skipped
//    when already committed (a concurrent pull of the same blob waits on the store's ingest
//    lock, then skips it);
//    For a single manifest (no index) and an explicit `platform`, the config's platform must
//    match it (containerd's matcher) or the pull fails with PLATFORM_NOT_FOUND; without an
//    explicit platform any is accepted, as containerd does (core/images/image.go `Manifest`
//    checks the platform only below the root: `desc.Digest != image.Digest && platform != nil`;
//    docker pulls it too, with a warning);
// 4. record the image (putImage) under its ORIGINAL normalized name (not the mirror's).

import { isKimgError, KimgError } from "../errors.ts";
import { mapLimit } from "../limit/index.ts";
import {
  checkLayersMatchConfig,
  configPlatform,
  type Descriptor,
  formatPlatform,
  type ImageConfig,
  type ImageManifest,
  isIndexMediaType,
  MAX_CONFIG_BYTES,
  matchPlatform,
  type Platform,
  parseImageConfig,
  parseManifestOrIndex,
  selectManifest,
} from "../oci/index.ts";
import { parseNormalizedNamed, referenceString, tagNameOnly } from "../ref/index.ts";
import {
  ClientPool,
  type CredentialStore,
  pullSources,
  type RegistriesConf,
  type RegistryClient,
  type RetryOptions,
  type RetryWait,
  resolveFirst,
  retryOptions,
} from "../registry/index.ts";
import type { CredentialSource, ImagePlatform, Lease, LocalStore } from "../store/index.ts";
import { normalizeImageName, wantedPlatform, writeBlob } from "../store/index.ts";
import { type ProgressEvent, type PullResult, progressThrottle } from "./progress.ts";

export interface PullOptions {
  /** The store to pull into. */
  readonly store: LocalStore;
  /** Wanted platform (`linux/arm64` or a Platform). Default: the host's. */
  readonly platform?: string | Platform | undefined;
  /** Blobs downloaded at once. Default 3 (Docker's and containerd's max-concurrent-downloads). */
  readonly jobs?: number | undefined;
  /**
   * Hosts (`host[:port]`) that may be reached over plain HTTP and unverified TLS (HTTPS is tried
   * first). Loopback hosts always are.
   */
  readonly insecureHosts?: readonly string[] | undefined;
  /** registries.conf (`loadRegistriesConf`): mirrors, location rewrites, insecure, blocked. */
  readonly registriesConf?: RegistriesConf | undefined;
  /** Passed to the registry client as its CredentialStore. */
  readonly credentials?: CredentialStore | undefined;
  /** What the image record says about the credential. Default `{ kind: "anonymous" }` or `{ kind: "credential-store" }`. */
  readonly credentialSource?: CredentialSource | undefined;
  /** A client to use for the endpoint with its host; clients for other endpoints are made and closed. */
  readonly client?: RegistryClient | undefined;
  readonly retry?: Partial<RetryOptions> | undefined;
  readonly onProgress?: ((e: ProgressEvent) => void) | undefined;
  readonly signal?: AbortSignal | undefined;
}

/** The engine's settings a caller above passes through whole (the image manager's `pull`). */
export type PullSettings = Pick<
  PullOptions,
  "platform" | "jobs" | "insecureHosts" | "registriesConf" | "retry" | "signal"
>;

/** What `pull` returns (the `done` event's result). */
export type PulledImage = PullResult;

const DEFAULT_JOBS = 3;

function imagePlatform(p: Platform): ImagePlatform {
  return {
    os: p.os,
    architecture: p.architecture,
    ...(p.variant !== undefined && p.variant !== "" ? { variant: p.variant } : {}),
  };
}

/** Codes of errors that mean the connection or its stream broke (undici's and the kernel's). */
const NETWORK_ERROR_CODES = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "ECONNABORTED",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENETDOWN",
  "EAI_AGAIN",
  "ERR_STREAM_PREMATURE_CLOSE",
]);

/** The stream or connection broke (ECONNRESET, UND_ERR_SOCKET "other side closed", …). */
function isNetworkError(e: unknown): e is Error & { code?: string } {
  if (!(e instanceof Error) || e.name === "AbortError") return false;
  const code = (e as { code?: unknown }).code;
  return typeof code === "string" && (code.startsWith("UND_ERR") || NETWORK_ERROR_CODES.has(code));
}

/** Errors worth another attempt at a blob: the stream or connection broke. */
function retryable(e: unknown): boolean {
  if (isKimgError(e)) {
    return e.code === "REGISTRY_UNAVAILABLE" || e.code === "SIZE_MISMATCH";
  }
  return isNetworkError(e);
}

async function* once(b: Uint8Array): AsyncIterable<Uint8Array> {
  yield b;
}

/**
 * Is the blob stored whole? A stored file of another size than its descriptor says (truncated
 * by a foreign tool, a disk error) counts as missing: the pull fetches it again, and the
 * store's ingest replaces the damaged file (issue 10 item 2).
 */
async function hasBlob(store: LocalStore, d: Descriptor): Promise<boolean> {
  const info = await store.stat(d.digest);
  return info !== undefined && info.size === d.size;
}

async function readBlob(store: LocalStore, digest: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of await store.open(digest)) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

interface Plan {
  index?: Descriptor;
  manifest: Descriptor;
  parsed: ImageManifest;
  /** The index entry's platform (undefined for a single manifest: the config's then). */
  platform: Platform | undefined;
}

/**
 * Pulls `refText` into `opts.store` and records it. Resolves when the image is stored and
 * recorded (after the `done` event). The steps, in containerd's order (client/pull.go,
 * core/images/handlers.go): resolve the reference, fetch the documents and select the
 * platform, fetch the config and check it against the layers, fetch the layers, record the
 * image. Each step is a named method of PullRun below.
 * @throws KimgError: the reference's parse errors, registry errors (MANIFEST_UNKNOWN,
 *   REGISTRY_UNAUTHORIZED, …), PLATFORM_NOT_FOUND listing what the index offers,
 *   DIGEST_MISMATCH / SIZE_MISMATCH, LAYER_COUNT_MISMATCH.
 */
export async function pull(refText: string, opts: PullOptions): Promise<PulledImage> {
  const ref = tagNameOnly(parseNormalizedNamed(refText));
  const name = referenceString(ref);
  const clients = new ClientPool({
    client: opts.client,
    insecureHosts: opts.insecureHosts,
    credentials: opts.credentials,
    retry: {
      ...opts.retry,
      // Every wait before a retry is said (issue 10 item 22): a 429's Retry-After, a back-off.
      onWait: (w: RetryWait) => {
        opts.retry?.onWait?.(w);
        opts.onProgress?.({ type: "wait", ...w });
      },
    },
  });
  const ro = opts.signal !== undefined ? { signal: opts.signal } : {};
  let lease: Lease | undefined;
  try {
    // 1. Resolve: the first endpoint (mirrors, then the registry) that knows the reference.
    const sources = pullSources(ref, opts.registriesConf);
    const { client, source, target } = await resolveFirst(sources, (s) => clients.for(s), ro);
    // Every blob this pull will reference is leased before it is looked for, so a concurrent
    // rmi, gc or prune cannot delete it between the check and putImage (store/leases.ts).
    lease = await opts.store.lease();
    const endpoint = `${source.host}/${source.repository}`;
    opts.onProgress?.({
      type: "resolve",
      ref: name,
      digest: target.digest,
      mediaType: target.mediaType,
      size: target.size,
      ...(endpoint !== `${ref.domain}/${ref.path}` ? { endpoint } : {}),
    });
    const run = new PullRun(opts, { name, client, repo: source.repository, lease });
    // 2. Fetch the documents; select the platform's manifest from an index.
    const p = await run.selectManifest(target);
    const blobs: Descriptor[] = [p.parsed.config, ...p.parsed.layers];
    await lease.add(blobs.map((b) => b.digest));
    const present = await Promise.all(blobs.map((b) => hasBlob(opts.store, b)));
    const upToDate = run.bytesDownloaded === 0 && present.every((x) => x);
    // 3. The config: it must parse and match the layers before they are fetched.
    const config = await run.fetchConfig(p, upToDate);
    // 4. The layers, `jobs` at a time.
    if (!upToDate) await run.fetchLayers(p.parsed.layers);
    else run.blobsSkipped = blobs.length;
    // 5. Record the image.
    return await run.record(p, config, blobs, upToDate);
  } finally {
    await lease?.release();
    await clients.close();
  }
}

/** One pull after its reference resolved: the steps, and what they counted. */
class PullRun {
  bytesDownloaded = 0;
  blobsDownloaded = 0;
  blobsSkipped = 0;
  readonly #opts: PullOptions;
  readonly #name: string;
  readonly #client: RegistryClient;
  readonly #repo: string;
  readonly #lease: Lease;
  readonly #wanted: Platform;
  readonly #ro: { signal?: AbortSignal };

  constructor(
    opts: PullOptions,
    r: { name: string; client: RegistryClient; repo: string; lease: Lease },
  ) {
    this.#opts = opts;
    this.#name = r.name;
    this.#client = r.client;
    this.#repo = r.repo;
    this.#lease = r.lease;
    this.#wanted = wantedPlatform(opts.platform);
    this.#ro = opts.signal !== undefined ? { signal: opts.signal } : {};
  }

  #emit(e: ProgressEvent): void {
    this.#opts.onProgress?.(e);
  }

  /** An index or manifest by descriptor: from the store when there, else fetched and stored. */
  async fetchDocument(
    d: Descriptor,
    kind: "index" | "manifest",
    platform?: string,
  ): Promise<Buffer> {
    const store = this.#opts.store;
    const plat = platform !== undefined ? { platform } : {};
    const event = {
      type: "manifest",
      kind,
      digest: d.digest,
      mediaType: d.mediaType,
      size: d.size,
    } as const;
    await this.#lease.add([d.digest]);
    if (await hasBlob(store, d)) {
      const bytes = await readBlob(store, d.digest);
      this.#emit({ ...event, cached: true, ...plat });
      return bytes;
    }
    const m = await this.#client.getManifest(this.#repo, d.digest, this.#ro);
    if (m.size !== d.size) {
      throw new KimgError(
        "SIZE_MISMATCH",
        `${kind} ${d.digest}: ${m.size} bytes, descriptor says ${d.size}`,
      );
    }
    this.bytesDownloaded += m.size;
    await writeBlob(store, d, async () => ({ start: 0, body: once(m.bytes) }), this.#ro);
    this.#emit({ ...event, cached: false, ...plat });
    return m.bytes;
  }

  /** Index → the wanted platform's manifest → the parsed manifest. */
  async selectManifest(target: Descriptor): Promise<Plan> {
    const bytes = await this.fetchDocument(
      target,
      isIndexMediaType(target.mediaType) ? "index" : "manifest",
    );
    const doc = parseManifestOrIndex(bytes, {
      ...(target.mediaType !== "" ? { mediaType: target.mediaType } : {}),
      digest: target.digest,
    });
    if (doc.kind === "manifest") {
      const manifest = { ...target, mediaType: doc.manifest.mediaType };
      return { manifest, parsed: doc.manifest, platform: undefined };
    }
    const chosen = selectManifest(doc.index, this.#wanted, { source: `index of ${this.#name}` });
    const mbytes = await this.fetchDocument(
      chosen,
      "manifest",
      chosen.platform !== undefined ? formatPlatform(chosen.platform) : undefined,
    );
    const m = parseManifestOrIndex(mbytes, { mediaType: chosen.mediaType, digest: chosen.digest });
    if (m.kind !== "manifest") {
      throw new KimgError("UNSUPPORTED_MEDIA_TYPE", `${chosen.digest}: an index inside an index`);
    }
    return {
      index: { ...target, mediaType: doc.index.mediaType },
      manifest: chosen,
      parsed: m.manifest,
      platform: chosen.platform,
    };
  }

  /** The config, fetched unless the image is up to date, parsed and checked against the layers. */
  async fetchConfig(p: Plan, upToDate: boolean): Promise<ImageConfig> {
    const cfg = p.parsed.config;
    if (cfg.size > MAX_CONFIG_BYTES) {
      throw new KimgError(
        "MANIFEST_TOO_LARGE",
        `config ${cfg.digest}: rejecting ${cfg.size} byte config`,
      );
    }
    if (!upToDate) await this.fetchBlob(cfg);
    const config = parseImageConfig(await readBlob(this.#opts.store, cfg.digest), {
      mediaType: cfg.mediaType,
      digest: cfg.digest,
    });
    checkLayersMatchConfig(p.parsed, config);
    if (p.platform === undefined && this.#opts.platform !== undefined) {
      const has = configPlatform(config);
      if (!matchPlatform(this.#wanted, has)) {
        throw new KimgError(
          "PLATFORM_NOT_FOUND",
          `no match for platform in manifest: ${this.#name} is a single-platform image for ${formatPlatform(has)}, not ${formatPlatform(this.#wanted)}`,
        );
      }
    }
    return config;
  }

  /** The layers, at most `jobs` at a time; the TTY display's "Waiting" lines first. */
  async fetchLayers(layers: readonly Descriptor[]): Promise<void> {
    this.#emit({
      type: "layers",
      layers: layers.map((l) => ({ digest: l.digest, mediaType: l.mediaType, size: l.size })),
    });
    await mapLimit(layers, this.#opts.jobs ?? DEFAULT_JOBS, (b) => this.fetchBlob(b));
  }

  /** One blob into the store, unless it is there; a body that breaks is resumed. */
  async fetchBlob(b: Descriptor): Promise<void> {
    const store = this.#opts.store;
    const signal = this.#opts.signal;
    const short = { digest: b.digest, mediaType: b.mediaType, size: b.size };
    if (await hasBlob(store, b)) {
      this.blobsSkipped++;
      this.#emit({ type: "blob-skipped", ...short });
      return;
    }
    // One retry policy (issue 11): the client retries each request (connection errors, 5xx,
    // 429) up to retry.maxAttempts; this loop only resumes a body that broke after the
    // response arrived, at the store's offset, within the same number of attempts. A request
    // the client gave up on is not tried again here (5 × 5 = 25 requests before).
    const attempts = Math.max(1, retryOptions(this.#opts.retry).maxAttempts);
    let got = 0;
    let fetched = false;
    for (let attempt = 1; ; attempt++) {
      let inBody = false;
      try {
        const r = await writeBlob(
          store,
          b,
          async (offset) => {
            fetched = true;
            this.#emit({ type: "blob-start", ...short, offset, attempt });
            const res = await this.#client.getBlob(this.#repo, b, { ...this.#ro, offset });
            inBody = true;
            const tick = progressThrottle(this.#opts.onProgress, b.digest, b.size);
            let current = res.offset;
            const counted = async function* (this: PullRun): AsyncIterable<Uint8Array> {
              for await (const c of res.stream) {
                const chunk = c as Uint8Array;
                current += chunk.byteLength;
                got += chunk.byteLength;
                this.bytesDownloaded += chunk.byteLength;
                yield chunk;
                tick(current);
              }
            };
            return { start: res.offset, body: counted.call(this) };
          },
          this.#ro,
        );
        if (!fetched && r.resume === "exists") {
          // Another pull committed it while we waited for the ingest lock.
          this.blobsSkipped++;
          this.#emit({ type: "blob-skipped", ...short });
          return;
        }
        this.blobsDownloaded++;
        this.#emit({ type: "blob-done", ...short, downloaded: got });
        return;
      } catch (e) {
        // A stalled body is tried once more, not five times: a trickling registry would
        // otherwise hold the pull for attempts × the stall limit (issue 10 item 21).
        const stalled = (e as { stalled?: boolean }).stalled === true;
        if (
          inBody &&
          attempt < (stalled ? Math.min(2, attempts) : attempts) &&
          retryable(e) &&
          signal?.aborted !== true
        )
          continue;
        // A connection that broke on every attempt is the registry's failure, not kimg's.
        if (isNetworkError(e) && signal?.aborted !== true) {
          throw new KimgError(
            "REGISTRY_UNAVAILABLE",
            `GET ${this.#client.host}/v2/${this.#repo}/blobs/${b.digest}: ${e.message} (after ${attempt} attempts)`,
            { cause: e },
          );
        }
        throw e;
      }
    }
  }

  /** The image record (kimg.json and index.json), then the `done` event. */
  async record(
    p: Plan,
    config: ImageConfig,
    blobs: readonly Descriptor[],
    upToDate: boolean,
  ): Promise<PulledImage> {
    const opts = this.#opts;
    const platform = p.platform ?? configPlatform(config);
    const credential: CredentialSource =
      opts.credentialSource ??
      (opts.credentials === undefined ? { kind: "anonymous" } : { kind: "credential-store" });
    const root = p.index ?? p.manifest;
    const record = await opts.store.putImage({
      name: this.#name,
      target: { mediaType: root.mediaType, digest: root.digest, size: root.size },
      manifestDigest: p.manifest.digest,
      ...(p.index !== undefined ? { indexDigest: p.index.digest } : {}),
      platform: imagePlatform(platform),
      credential,
      blobs: blobs.map((b) => b.digest),
    });
    const result: PulledImage = {
      ref: this.#name,
      digest: p.manifest.digest,
      ...(p.index !== undefined ? { indexDigest: p.index.digest } : {}),
      platform: formatPlatform(platform),
      size: record.size,
      layers: p.parsed.layers.length,
      bytesDownloaded: this.bytesDownloaded,
      blobsDownloaded: this.blobsDownloaded,
      blobsSkipped: this.blobsSkipped,
      upToDate,
    };
    this.#emit({ type: "done", result });
    return result;
  }
}

/**
 * The normalized name a pull of `refText` records: the store's own key (normalizeImageName:
 * `tagNameOnly` + `referenceString`), one definition so the two can never drift (issue 11).
 */
export function pullName(refText: string): string {
  return normalizeImageName(refText);
}
