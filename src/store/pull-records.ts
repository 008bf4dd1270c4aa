// The kubelet's image pull records on disk (KEP-2535, kubelet.md §6.1), kept in the store so
// consecutive `kimg run`s behave like one node: `<store>/image_manager/pulling/` holds pull
// intents, `<store>/image_manager/pulled/` pulled records; directories 0700, files 0600, each
// named `sha256-<hex of sha256(key)>` and written atomically (temp file, fsync, rename, fsync
// dir) as pkg/kubelet/images/pullmanager/fs_pullrecords.go does. The contents are opaque here
// (JSON values); src/kubelet validates them.

import { createHash } from "node:crypto";
import { mkdir, readdir, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { KimgError } from "../errors.ts";
import { errnoCode, writeFileAtomic } from "./atomic-file.ts";

export type PullRecordKind = "pulling" | "pulled";

/** `sha256-<hex>` of a key (the image for intents, the image ref for pulled records). */
export function pullRecordFileName(key: string): string {
  return `sha256-${createHash("sha256").update(key).digest("hex")}`;
}

export interface StoredPullRecord {
  readonly file: string;
  /** Parsed JSON, or undefined when the file is not JSON (reported in `error`). */
  readonly value: unknown;
  readonly error?: string;
}

export interface PullRecordFilesOptions {
  /** Called once a record's temp file is durable, before its rename (a crash-test failpoint). */
  readonly beforeRename?: ((kind: PullRecordKind) => void) | undefined;
}

export class PullRecordFiles {
  readonly root: string;
  readonly #opts: PullRecordFilesOptions;

  constructor(storeRoot: string, opts: PullRecordFilesOptions = {}) {
    this.root = join(storeRoot, "image_manager");
    this.#opts = opts;
  }

  #dir(kind: PullRecordKind): string {
    return join(this.root, kind);
  }

  async #ensure(kind: PullRecordKind): Promise<string> {
    const dir = this.#dir(kind);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    return dir;
  }

  /** Writes the record for `key` atomically (0600). */
  async write(kind: PullRecordKind, key: string, value: unknown): Promise<void> {
    const dir = await this.#ensure(kind);
    const target = join(dir, pullRecordFileName(key));
    await writeFileAtomic(dir, target, `${JSON.stringify(value)}\n`, {
      mode: 0o600,
      beforeRename: () => this.#opts.beforeRename?.(kind),
    });
  }

  /** The record for `key`; undefined when there is none. STORE_CORRUPT when it is not JSON. */
  async read(kind: PullRecordKind, key: string): Promise<unknown> {
    const path = join(this.#dir(kind), pullRecordFileName(key));
    let text: string;
    try {
      text = await readFile(path, "utf8");
    } catch (e) {
      if (errnoCode(e) === "ENOENT") return undefined;
      throw e;
    }
    try {
      return JSON.parse(text) as unknown;
    } catch (e) {
      throw new KimgError("STORE_CORRUPT", `store: ${path} is not valid JSON`, { cause: e });
    }
  }

  async exists(kind: PullRecordKind, key: string): Promise<boolean> {
    return (await this.read(kind, key).catch(() => null)) !== undefined;
  }

  /** True when a record was removed. */
  async delete(kind: PullRecordKind, key: string): Promise<boolean> {
    const path = join(this.#dir(kind), pullRecordFileName(key));
    try {
      await rm(path);
      return true;
    } catch (e) {
      if (errnoCode(e) === "ENOENT") return false;
      throw e;
    }
  }

  /** Every record of a kind (temp files left by a crash are ignored). */
  async list(kind: PullRecordKind): Promise<StoredPullRecord[]> {
    const dir = this.#dir(kind);
    let names: string[];
    try {
      names = await readdir(dir);
    } catch (e) {
      if (errnoCode(e) === "ENOENT") return [];
      throw e;
    }
    const out: StoredPullRecord[] = [];
    for (const n of names.sort()) {
      if (!/^sha256-[0-9a-f]{64}$/.test(n)) continue;
      const file = join(dir, n);
      try {
        out.push({ file, value: JSON.parse(await readFile(file, "utf8")) as unknown });
      } catch (e) {
        if (errnoCode(e) === "ENOENT") continue;
        out.push({ file, value: undefined, error: (e as Error).message });
      }
    }
    return out;
  }

  /** Removes a listed record by its file path (for pruning records of vanished images). */
  async deleteFile(file: string): Promise<void> {
    await rm(file, { force: true });
  }
}
