// Pull progress as data: a discriminated union of events the puller emits in order (resolve,
// manifest, layers (the list), then per blob start → progress… → done, or skipped; finally done). Front ends
// render them (kimg pull prints one line per event or JSON). Pure: no I/O.

export interface PullResult {
  /** The normalized reference pulled (`docker.io/library/nginx:latest`, `host/repo@sha256:…`). */
  readonly ref: string;
  /** The image manifest's digest (for a multi-platform image: the selected platform's). */
  readonly digest: string;
  /** The index's digest when the reference resolved to an index. */
  readonly indexDigest?: string;
  /** `os/arch[/variant]` of the pulled manifest (from the index entry or the config). */
  readonly platform: string;
  /** Bytes of the image's blobs (manifest, config, layers; the index too when there is one). */
  readonly size: number;
  /** Layers of the manifest. */
  readonly layers: number;
  /** Blob bytes this pull fetched from the registry (manifests included). */
  readonly bytesDownloaded: number;
  /** Blobs (config and layers) fetched by this pull. */
  readonly blobsDownloaded: number;
  /** Blobs (config and layers) already in the store. */
  readonly blobsSkipped: number;
  /** The resolved manifest was stored with all its blobs: only the HEAD went to the registry. */
  readonly upToDate: boolean;
}

export type ProgressEvent =
  | {
      readonly type: "resolve";
      readonly ref: string;
      readonly digest: string;
      readonly mediaType: string;
      readonly size: number;
      /** `host/repository` pulled from when not the reference's own (a mirror or a rewrite). */
      readonly endpoint?: string;
    }
  | {
      readonly type: "manifest";
      readonly kind: "index" | "manifest";
      readonly digest: string;
      readonly mediaType: string;
      readonly size: number;
      /** True when read from the store (no GET). */
      readonly cached: boolean;
      /** The selected platform (kind "manifest" of an index only). */
      readonly platform?: string;
    }
  | {
      readonly type: "blob-start";
      readonly digest: string;
      readonly mediaType: string;
      readonly size: number;
      /** Bytes already in the store (a resumed download); 0 for a fresh one. */
      readonly offset: number;
      readonly attempt: number;
    }
  | {
      readonly type: "blob-progress";
      readonly digest: string;
      readonly size: number;
      /** Bytes of the blob on disk so far. */
      readonly current: number;
    }
  | {
      readonly type: "blob-skipped";
      readonly digest: string;
      readonly mediaType: string;
      readonly size: number;
    }
  | {
      readonly type: "blob-done";
      readonly digest: string;
      readonly mediaType: string;
      readonly size: number;
      /** Bytes this pull fetched for it (less than size after a resume). */
      readonly downloaded: number;
    }
  | {
      /** The layers this pull needs, in manifest order, before any of them is fetched. */
      readonly type: "layers";
      readonly layers: readonly {
        readonly digest: string;
        readonly mediaType: string;
        readonly size: number;
      }[];
    }
  | {
      /** kimg waits before trying a request again: a 429's Retry-After, or a back-off. */
      readonly type: "wait";
      readonly host: string;
      readonly ms: number;
      readonly reason: string;
      readonly attempt: number;
    }
  | { readonly type: "done"; readonly result: PullResult };

export type ProgressListener = (e: ProgressEvent) => void;

/** blob-progress at most every PROGRESS_BYTES or PROGRESS_MS, whichever comes first. */
export const PROGRESS_BYTES = 256 * 1024;
export const PROGRESS_MS = 100;

/** A throttle for one blob's progress events. */
export function progressThrottle(
  emit: ProgressListener | undefined,
  digest: string,
  size: number,
  now: () => number = Date.now,
): (current: number) => void {
  let lastBytes = -1;
  let lastTime = 0;
  return (current) => {
    if (emit === undefined) return;
    const t = now();
    if (
      lastBytes < 0 ||
      current - lastBytes >= PROGRESS_BYTES ||
      t - lastTime >= PROGRESS_MS ||
      current === size
    ) {
      lastBytes = current;
      lastTime = t;
      emit({ type: "blob-progress", digest, size, current });
    }
  };
}
