// Shared helpers for the OCI model tests: error assertions and small document builders.

import assert from "node:assert/strict";
import { type ErrorCode, KimgError } from "../../src/errors.ts";

/**
 * Asserts that `fn` throws a KimgError with this code, and a message equal to `message`
 * (string) or matching it (RegExp). Returns the error for further checks.
 */
export function throwsKimg(
  fn: () => unknown,
  code: ErrorCode,
  message?: string | RegExp,
  label = "",
): KimgError {
  let thrown: unknown;
  let result: unknown;
  try {
    result = fn();
  } catch (e) {
    thrown = e;
  }
  if (thrown === undefined) {
    assert.fail(`${label}: expected ${code}, got a result: ${JSON.stringify(result)}`);
  }
  assert.ok(thrown instanceof KimgError, `${label}: expected a KimgError, got ${String(thrown)}`);
  assert.equal(thrown.code, code, `${label}: ${thrown.message}`);
  if (typeof message === "string") assert.equal(thrown.message, message, label);
  else if (message !== undefined) assert.match(thrown.message, message, label);
  return thrown;
}

export const D1 = "sha256:5b0bcabd1ed22e9fb1310cf6c2dec7cdef19f0ad69efa1f392e94a4333501270";
export const D2 = "sha256:9d3dd9504c685a304985025df4ed0283e47ac9ffa9bd0326fddf4d59513f0827";
export const D3 = "sha256:2b689805fbd00b2db1df73fae47562faac1a626d5f61744bfe29946ecff5d73d";
export const D4 = "sha256:c57089565e894899735d458f0fd4bb17a0f1e0df8d72da392b85c9b35ee777cd";
export const CONFIG_DIGEST =
  "sha256:c86f7763873b6c0aae22d963bab59b4f5debbed6685761b5951584f6efb0633b";

export const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
export const OCI_INDEX = "application/vnd.oci.image.index.v1+json";
export const OCI_CONFIG = "application/vnd.oci.image.config.v1+json";
export const OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip";
export const DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json";
export const DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json";
export const DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json";
export const DOCKER_LAYER_GZIP = "application/vnd.docker.image.rootfs.diff.tar.gzip";

/** A valid OCI manifest as a plain object (the image-spec manifest.md example, shortened). */
export function ociManifest(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: { mediaType: OCI_CONFIG, size: 1470, digest: CONFIG_DIGEST },
    layers: [
      { mediaType: OCI_LAYER_GZIP, size: 675598, digest: D2 },
      { mediaType: OCI_LAYER_GZIP, size: 156, digest: D3 },
      { mediaType: OCI_LAYER_GZIP, size: 148, digest: D4 },
    ],
    ...extra,
  };
}

/** A valid OCI index with one entry per platform `os/arch[/variant]`. */
export function ociIndex(platforms: readonly string[], extra: Record<string, unknown> = {}) {
  return {
    schemaVersion: 2,
    mediaType: OCI_INDEX,
    manifests: platforms.map((p, i) => {
      const [os, architecture, variant] = p.split("/");
      return {
        mediaType: OCI_MANIFEST,
        size: 1000 + i,
        digest: `sha256:${i.toString(16).padStart(64, "0")}`,
        platform: { os, architecture, ...(variant === undefined ? {} : { variant }) },
      };
    }),
    ...extra,
  };
}

/** JSON text of a value. */
export function json(v: unknown): string {
  return JSON.stringify(v);
}
