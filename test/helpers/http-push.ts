// Test harness: owns pushing content to a test registry byte for byte over plain node:http:
// whole OCI layouts (any manifest media type — skopeo 1.9.3's `oci:` source refuses Docker
// schema2 manifests and manifest lists in index.json, so Docker-format images from images.ts go
// through here), single blobs (monolithic upload) and hand-made manifests for tests of odd
// content. Not kimg's client: deliberately the simplest correct upload.

import { createReadStream } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { request } from "./http.ts";
import { blobPath, MediaType, REF_NAME_ANNOTATION, sha256 } from "./images.ts";
import type { RegistryTarget } from "./skopeo.ts";

export interface HttpPushOptions {
  /** `Authorization` header value sent with every request (Basic or Bearer). */
  authorization?: string;
}

interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
}

function base(registry: RegistryTarget): string {
  return `http://${typeof registry === "string" ? registry : registry.host}`;
}

function authHeaders(o: HttpPushOptions): Record<string, string> {
  return o.authorization === undefined ? {} : { authorization: o.authorization };
}

/** Uploads one blob file (monolithic POST + PUT) unless the repository has it. */
export async function uploadBlobFile(
  registry: RegistryTarget,
  name: string,
  path: string,
  digest: string,
  opts: HttpPushOptions = {},
): Promise<void> {
  const url = `${base(registry)}/v2/${name}/blobs/${digest}`;
  const head = await request(url, { method: "HEAD", headers: authHeaders(opts) });
  if (head.status === 200) return;
  const start = await request(`${base(registry)}/v2/${name}/blobs/uploads/`, {
    method: "POST",
    headers: { ...authHeaders(opts), "content-length": "0" },
  });
  const location = start.headers.location;
  if (start.status !== 202 || location === undefined) {
    throw new Error(`upload ${digest} to ${name}: POST answered ${start.status} ${start.body}`);
  }
  const put = new URL(location, base(registry));
  put.searchParams.set("digest", digest);
  const { size } = await stat(path);
  const done = await request(put.href, {
    method: "PUT",
    headers: {
      ...authHeaders(opts),
      "content-type": "application/octet-stream",
      "content-length": String(size),
    },
    body: createReadStream(path),
  });
  if (done.status !== 201) {
    throw new Error(`upload ${digest} to ${name}: PUT answered ${done.status} ${done.body}`);
  }
}

/** PUTs manifest bytes under `reference` (tag or digest); returns the registry's digest. */
export async function putManifest(
  registry: RegistryTarget,
  name: string,
  reference: string,
  bytes: Uint8Array,
  mediaType: string,
  opts: HttpPushOptions = {},
): Promise<string> {
  const r = await request(`${base(registry)}/v2/${name}/manifests/${reference}`, {
    method: "PUT",
    headers: { ...authHeaders(opts), "content-type": mediaType },
    body: bytes,
  });
  if (r.status !== 201) {
    throw new Error(`PUT manifest ${name}:${reference} answered ${r.status} ${r.body}`);
  }
  return String(r.headers["docker-content-digest"] ?? "");
}

const INDEX_TYPES: ReadonlySet<string> = new Set([MediaType.ociIndex, MediaType.dockerList]);

async function pushDescriptor(
  registry: RegistryTarget,
  name: string,
  layoutDir: string,
  d: Descriptor,
  opts: HttpPushOptions,
): Promise<void> {
  const bytes = await readFile(blobPath(layoutDir, d.digest));
  if (sha256(bytes) !== d.digest) throw new Error(`layout blob ${d.digest} is corrupt`);
  const doc = JSON.parse(bytes.toString("utf8")) as {
    manifests?: Descriptor[];
    config?: Descriptor;
    layers?: Descriptor[];
  };
  if (INDEX_TYPES.has(d.mediaType)) {
    for (const child of doc.manifests ?? [])
      await pushDescriptor(registry, name, layoutDir, child, opts);
  } else {
    for (const b of [...(doc.config === undefined ? [] : [doc.config]), ...(doc.layers ?? [])]) {
      await uploadBlobFile(registry, name, blobPath(layoutDir, b.digest), b.digest, opts);
    }
  }
  const got = await putManifest(registry, name, d.digest, bytes, d.mediaType, opts);
  if (got !== d.digest) throw new Error(`registry digested ${d.digest} as ${got}`);
}

/**
 * Pushes the manifest or index named `layoutRef` in an OCI layout, and everything it refers to,
 * byte for byte, to `dest` ("name:tag"). Returns the digest of the top manifest.
 */
export async function pushLayoutHttp(
  layout: string | { layoutDir: string; ref: string | null },
  dest: string,
  registry: RegistryTarget,
  opts: HttpPushOptions & { layoutRef?: string } = {},
): Promise<string> {
  const dir = typeof layout === "string" ? layout : layout.layoutDir;
  const layoutRef =
    opts.layoutRef ?? (typeof layout === "string" ? "latest" : (layout.ref ?? "latest"));
  const index = JSON.parse(await readFile(join(dir, "index.json"), "utf8")) as {
    manifests: Descriptor[];
  };
  const top = index.manifests.find((m) => m.annotations?.[REF_NAME_ANNOTATION] === layoutRef);
  if (top === undefined) throw new Error(`${dir}: no manifest named ${layoutRef} in index.json`);
  const colon = dest.lastIndexOf(":");
  if (colon < 0 || dest.includes("@")) throw new Error(`pushLayoutHttp: dest must be name:tag`);
  const name = dest.slice(0, colon);
  const tag = dest.slice(colon + 1);
  await pushDescriptor(registry, name, dir, top, opts);
  const bytes = await readFile(blobPath(dir, top.digest));
  await putManifest(registry, name, tag, bytes, top.mediaType, opts);
  return top.digest;
}
