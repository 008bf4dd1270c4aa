// Unit tests for the WWW-Authenticate parser (containerd core/remotes/docker/auth/parse.go
// behaviour) and the Retry-After / back-off arithmetic of retry.ts.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseWWWAuthenticate } from "../../src/registry/auth.ts";
import { backoffDelay, delayFor, parseRetryAfter, retryOptions } from "../../src/registry/retry.ts";

describe("parseWWWAuthenticate", () => {
  it("parses a Bearer challenge with realm, service and scope", () => {
    assert.deepEqual(
      parseWWWAuthenticate(
        'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:samalba/my-app:pull,push"',
      ),
      [
        {
          scheme: "bearer",
          params: {
            realm: "https://auth.docker.io/token",
            service: "registry.docker.io",
            scope: "repository:samalba/my-app:pull,push",
          },
        },
      ],
    );
  });

  it("keeps commas and escaped quotes inside quoted strings, lower-cases names", () => {
    const [c] = parseWWWAuthenticate(
      'BEARER Realm="https://h/t?a=1,b=2", Error="insufficient_scope", error_description="say \\"no\\""',
    );
    assert.deepEqual(c, {
      scheme: "bearer",
      params: {
        realm: "https://h/t?a=1,b=2",
        error: "insufficient_scope",
        error_description: 'say "no"',
      },
    });
  });

  it("parses Basic, unquoted tokens, several challenges in one value, Bearer first", () => {
    assert.deepEqual(parseWWWAuthenticate('Basic realm="kimg-test"'), [
      { scheme: "basic", params: { realm: "kimg-test" } },
    ]);
    assert.deepEqual(parseWWWAuthenticate("Basic realm=x, Bearer realm=y, service=z"), [
      { scheme: "bearer", params: { realm: "y", service: "z" } },
      { scheme: "basic", params: { realm: "x" } },
    ]);
    assert.deepEqual(parseWWWAuthenticate(["Basic realm=a", 'Bearer realm="b"']), [
      { scheme: "bearer", params: { realm: "b" } },
      { scheme: "basic", params: { realm: "a" } },
    ]);
  });

  it("tolerates junk: empty, bare scheme, unterminated quote, token68", () => {
    assert.deepEqual(parseWWWAuthenticate(""), []);
    assert.deepEqual(parseWWWAuthenticate("Bearer"), [{ scheme: "bearer", params: {} }]);
    assert.deepEqual(parseWWWAuthenticate('Bearer realm="abc'), [
      { scheme: "bearer", params: { realm: "abc" } },
    ]);
    const n = parseWWWAuthenticate("Negotiate abc==, Basic realm=r");
    assert.deepEqual(
      n.map((c) => c.scheme),
      ["basic", "negotiate"],
    );
  });
});

describe("retry arithmetic", () => {
  const opts = retryOptions({ baseDelayMs: 100, maxDelayMs: 5000, now: () => 1_000_000 });
  it("parses Retry-After as seconds or an HTTP date", () => {
    assert.equal(parseRetryAfter("3", 0), 3000);
    assert.equal(parseRetryAfter(undefined, 0), undefined);
    assert.equal(parseRetryAfter("soon", 0), undefined);
    const now = Date.parse("2026-01-01T00:00:00Z");
    assert.equal(parseRetryAfter("Thu, 01 Jan 2026 00:00:07 GMT", now), 7000);
    assert.equal(parseRetryAfter("Wed, 31 Dec 2025 00:00:00 GMT", now), 0);
  });
  it("backs off exponentially with a cap; 429 uses Retry-After, capped", () => {
    assert.deepEqual(
      [1, 2, 3, 4, 10].map((r) => backoffDelay(r, opts)),
      [100, 200, 400, 800, 5000],
    );
    assert.equal(delayFor(1, 429, "2", opts), 2000);
    assert.equal(delayFor(1, 429, "3600", opts), 5000);
    assert.equal(delayFor(2, 503, "2", opts), 200, "Retry-After only for 429");
  });
});
