// Shared assertions for the reference tests.

import assert from "node:assert/strict";
import { KimgError } from "../../src/errors.ts";
import type { ExpectedError } from "./vectors.ts";

/** Asserts that `fn` throws a KimgError with exactly this code and message. */
export function assertKimgError(fn: () => unknown, expected: ExpectedError, label = ""): void {
  let thrown: unknown;
  let result: unknown;
  try {
    result = fn();
  } catch (e) {
    thrown = e;
  }
  if (thrown === undefined) {
    assert.fail(
      `${label}: expected error ${expected.code} "${expected.message}", got ${JSON.stringify(result)}`,
    );
  }
  assert.ok(thrown instanceof KimgError, `${label}: expected a KimgError, got ${String(thrown)}`);
  assert.deepEqual(
    { code: thrown.code, message: thrown.message },
    { code: expected.code, message: expected.message },
    label,
  );
}

/** A short, readable test name for long inputs. */
export function short(s: string, max = 80): string {
  const shown = s === "" ? '""' : s;
  return shown.length <= max ? shown : `${shown.slice(0, max)}… (${s.length} chars)`;
}
