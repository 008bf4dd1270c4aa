// The image GC manager's node state, kept in the store so consecutive kimg runs behave like one
// long-running kubelet: `<store>/image_manager/gc-state.json` (next to the KEP-2535 pull
// records; directory 0700, file 0600, written atomically: temp file, fsync, rename, fsync dir).
//
// The kubelet keeps this in memory (pkg/kubelet/images/image_gc_manager.go: imageRecords with
// firstDetected per image ID; kubelet.go StartGarbageCollection: beganGC); kimg is a command
// that exits, so it persists both:
//   {"kind":"ImageGCState","version":1,"gcRunningSince":"<RFC 3339>",
//    "images":{"<image ID>":{"firstDetected":"<RFC 3339>"}}}

import { mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import * as v from "valibot";
import { KimgError } from "../errors.ts";
import { errnoCode, writeFileAtomic } from "./atomic-file.ts";

export const IMAGE_GC_STATE_FILE = "gc-state.json";

export interface ImageGCState {
  /** When GC first ran on this store (the kubelet's beganGC), ms; undefined = never. */
  readonly gcRunningSince?: number | undefined;
  /** Image ID → when the GC manager first detected it, ms. */
  readonly firstDetected: ReadonlyMap<string, number>;
}

export const EMPTY_IMAGE_GC_STATE: ImageGCState = Object.freeze({
  firstDetected: new Map<string, number>(),
});

/** gc-state.json as read back (valibot; times are checked by `time` below). */
const StateSchema = v.object({
  kind: v.literal("ImageGCState"),
  version: v.literal(1),
  gcRunningSince: v.exactOptional(v.string()),
  images: v.record(v.string(), v.object({ firstDetected: v.string() })),
});

function corrupt(path: string, what: string): KimgError {
  return new KimgError("STORE_CORRUPT", `store: ${path}: ${what}`);
}

function time(path: string, x: unknown, what: string): number {
  const t = typeof x === "string" ? Date.parse(x) : Number.NaN;
  if (!Number.isFinite(t)) throw corrupt(path, `${what} is not a time`);
  return t;
}

export class ImageGCStateFile {
  readonly dir: string;
  readonly path: string;

  constructor(storeRoot: string) {
    this.dir = join(storeRoot, "image_manager");
    this.path = join(this.dir, IMAGE_GC_STATE_FILE);
  }

  /** The saved state; the empty state when there is none. STORE_CORRUPT when malformed. */
  async read(): Promise<ImageGCState> {
    let text: string;
    try {
      text = await readFile(this.path, "utf8");
    } catch (e) {
      if (errnoCode(e) === "ENOENT") return EMPTY_IMAGE_GC_STATE;
      throw e;
    }
    let x: unknown;
    try {
      x = JSON.parse(text);
    } catch (e) {
      throw new KimgError("STORE_CORRUPT", `store: ${this.path} is not valid JSON`, { cause: e });
    }
    const r = v.safeParse(StateSchema, x);
    if (!r.success) {
      const i = r.issues[0];
      const path = i === undefined ? null : v.getDotPath(i);
      throw corrupt(
        this.path,
        path === null ? "not an ImageGCState version 1" : `${path}: ${i?.message ?? "malformed"}`,
      );
    }
    const firstDetected = new Map<string, number>();
    for (const [id, rec] of Object.entries(r.output.images)) {
      firstDetected.set(id, time(this.path, rec.firstDetected, `image ${id} firstDetected`));
    }
    const since =
      r.output.gcRunningSince === undefined
        ? undefined
        : time(this.path, r.output.gcRunningSince, "gcRunningSince");
    return { gcRunningSince: since, firstDetected };
  }

  /** Replaces the saved state atomically (images sorted by ID, so the file is stable). */
  async write(state: ImageGCState): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const images: Record<string, { firstDetected: string }> = {};
    for (const id of [...state.firstDetected.keys()].sort()) {
      images[id] = { firstDetected: new Date(state.firstDetected.get(id) as number).toISOString() };
    }
    const doc = {
      kind: "ImageGCState",
      version: 1,
      ...(state.gcRunningSince !== undefined
        ? { gcRunningSince: new Date(state.gcRunningSince).toISOString() }
        : {}),
      images,
    };
    await writeFileAtomic(this.dir, this.path, `${JSON.stringify(doc, null, 2)}\n`, {
      mode: 0o600,
    });
  }
}
