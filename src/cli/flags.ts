// Flag values shared by the commands: one check, one wording.

import { KimgError } from "../core.ts";

/** `--jobs`, `--page-size`…: a positive integer, else INPUT_INVALID naming the flag (exit 2). */
export function positiveInteger(value: string, flag: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < 1) {
    throw new KimgError("INPUT_INVALID", `${flag} must be a positive integer, got ${value}`);
  }
  return n;
}
