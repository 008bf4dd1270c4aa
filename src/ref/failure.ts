// Parse failures as values. Pure.
//
// Like Go's sentinel errors, the fixed failures are allocated once; the hot parse paths
// return them instead of throwing, because building an Error (and its stack) costs more than
// a whole parse. The public parse functions throw a KimgError made from the failure; the
// `try*` functions hand the failure back for bulk use (`kimg parse -`, the benchmark).

import { type ErrorCode, KimgError } from "../errors.ts";

export interface RefFailure {
  readonly failed: true;
  readonly code: ErrorCode;
  readonly message: string;
}

export function failure(code: ErrorCode, message: string): RefFailure {
  return Object.freeze({ failed: true as const, code, message });
}

export function isFailure(x: unknown): x is RefFailure {
  return typeof x === "object" && x !== null && (x as { failed?: unknown }).failed === true;
}

export function raise(f: RefFailure): never {
  throw new KimgError(f.code, f.message);
}
