// The error tables are exhaustive (a Record over ErrorCode, checked by tsc), and misspelt
// options fail to compile (issue 11: `retry: { attempts: 1 }` was accepted and dropped).

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { EXIT, EXIT_CODE_OF, exitCodeFor } from "../src/cli/io.ts";
import type { ErrorCode } from "../src/errors.ts";
import type { ImageManagerOptions } from "../src/manager/index.ts";
import { HTTP_STATUS_OF, statusForCode } from "../src/server/http.ts";

describe("error tables", () => {
  it("every code has an exit code and an HTTP status, and both tables list the same codes", () => {
    assert.deepEqual(Object.keys(EXIT_CODE_OF).sort(), Object.keys(HTTP_STATUS_OF).sort());
    for (const code of Object.keys(EXIT_CODE_OF) as ErrorCode[]) {
      assert.ok(Object.values(EXIT).includes(exitCodeFor(code)), code);
      assert.ok(statusForCode(code) >= 400 && statusForCode(code) < 600, code);
    }
  });

  it("classes map as the README documents", () => {
    const cases: [ErrorCode, number, number][] = [
      ["REFERENCE_INVALID_FORMAT", EXIT.INVALID, 400],
      ["INPUT_UNREADABLE", EXIT.UNREADABLE, 400],
      ["STORE_NOT_FOUND", EXIT.UNREADABLE, 400],
      ["MANIFEST_UNKNOWN", EXIT.NOT_FOUND, 404],
      ["ERR_IMAGE_NEVER_PULL", EXIT.NOT_FOUND, 404],
      ["REGISTRY_UNAUTHORIZED", EXIT.UNAUTHORIZED, 401],
      ["REGISTRY_DENIED", EXIT.UNAUTHORIZED, 403],
      ["RATE_LIMITED", EXIT.NETWORK, 502],
      // Content a registry sent that fails verification is the registry's fault: 502, not 500.
      ["DIGEST_MISMATCH", EXIT.VERIFY, 502],
      ["INVALID_MANIFEST", EXIT.VERIFY, 502],
      ["STORE_CORRUPT", EXIT.VERIFY, 500],
      // A writer used after commit is a bug in kimg.
      ["WRITER_CLOSED", EXIT.INTERNAL, 500],
    ];
    for (const [code, exit, status] of cases) {
      assert.equal(exitCodeFor(code), exit, code);
      assert.equal(statusForCode(code), status, code);
    }
  });

  it("a misspelt option does not compile", () => {
    const ok: ImageManagerOptions["pull"] = { retry: { maxAttempts: 1 } };
    // @ts-expect-error `attempts` is not a RetryOptions field (it is `maxAttempts`).
    const misspelt: ImageManagerOptions["pull"] = { retry: { attempts: 1 } };
    assert.ok(ok !== undefined && misspelt !== undefined);
  });
});
