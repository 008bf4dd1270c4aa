import { mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { KimgError } from "../errors.ts";
import { errnoCode, isRecord, writeFileAtomic } from "./atomic-file.ts";

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
    if (!isRecord(x) || x.kind !== "ImageGCState" || x.version !== 1 || !isRecord(x.images)) {
      throw corrupt(this.path, "not an ImageGCState version 1");
    }
    const firstDetected = new Map<string, number>();
    for (const [id, rec] of Object.entries(x.images)) {
      if (!isRecord(rec)) throw corrupt(this.path, `image ${id} is not an object`);
      firstDetected.set(id, time(this.path, rec.firstDetected, `image ${id} firstDetected`));
    }
    const since =
      x.gcRunningSince === undefined
        ? undefined
        : time(this.path, x.gcRunningSince, "gcRunningSince");
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
