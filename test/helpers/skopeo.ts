// Test harness: owns driving skopeo (1.9.3 here) for tests: pushing OCI layouts built by
// images.ts to a test registry, pulling back into an OCI layout (the peer to compare a client
// against), and inspecting manifests. Failures throw with skopeo's stderr in the message.
// skopeo reads the OCI layout reference as `oci:DIR:REF`, splitting at the first ":" after DIR.

import { type RunResult, run } from "./exec.ts";
import type { User } from "./registry.ts";

/** A registry address: "127.0.0.1:PORT", or anything with a `host` (a `Registry`). */
export type RegistryTarget = string | { host: string };

export interface SkopeoAuthOptions {
  creds?: User;
  /** Default 120 s. */
  timeoutMs?: number;
}

export interface PushOptions extends SkopeoAuthOptions {
  /** Ref name inside the layout (`oci:DIR:REF`). Default: the image's `ref`, else "latest". */
  layoutRef?: string;
  /** Copy every manifest of an index (`--all`); without it only the host platform's. */
  all?: boolean;
  /**
   * Keep digests byte-identical (`--preserve-digests`). Default true unless `format` is given
   * (skopeo silently ignores `--format` with `--preserve-digests`).
   */
  preserveDigests?: boolean;
  /** Convert on push (`--format oci|v2s2`); digests change. */
  format?: "oci" | "v2s2";
}

export interface PushResult extends RunResult {
  /** `docker://…` reference pushed to. */
  dest: string;
}

function hostOf(r: RegistryTarget): string {
  return typeof r === "string" ? r : r.host;
}

function credArgs(prefix: "dest" | "src" | "", creds: User | undefined): string[] {
  if (creds === undefined) return prefix === "" ? ["--no-creds"] : [`--${prefix}-no-creds`];
  return [prefix === "" ? "--creds" : `--${prefix}-creds`, `${creds.user}:${creds.pass}`];
}

function tlsArg(prefix: "dest" | "src" | ""): string {
  return prefix === "" ? "--tls-verify=false" : `--${prefix}-tls-verify=false`;
}

/**
 * Pushes `oci:LAYOUT:REF` to `docker://HOST/NAME:TAG` (plain HTTP). `layout` is a layout dir or
 * a built image/index (whose `ref` is used). `dest` is "name:tag" or "name@sha256:…".
 */
export async function pushLayout(
  layout: string | { layoutDir: string; ref: string | null },
  dest: string,
  registry: RegistryTarget,
  opts: PushOptions = {},
): Promise<PushResult> {
  const dir = typeof layout === "string" ? layout : layout.layoutDir;
  const layoutRef =
    opts.layoutRef ?? (typeof layout === "string" ? "latest" : (layout.ref ?? "latest"));
  const target = `docker://${hostOf(registry)}/${dest}`;
  const preserve = opts.preserveDigests ?? opts.format === undefined;
  if (preserve && opts.format !== undefined) {
    throw new Error("pushLayout: skopeo ignores --format with --preserve-digests; pick one");
  }
  const args = [
    "copy",
    "--quiet",
    tlsArg("dest"),
    ...credArgs("dest", opts.creds),
    ...(opts.all === true ? ["--all"] : []),
    ...(preserve ? ["--preserve-digests"] : []),
    ...(opts.format === undefined ? [] : ["--format", opts.format]),
    `oci:${dir}:${layoutRef}`,
    target,
  ];
  const r = await run("skopeo", args, timeout(opts));
  return { ...r, dest: target };
}

/** Copies `docker://HOST/REF` into an OCI layout at `dir` under ref name `layoutRef`. */
export async function pullToLayout(
  registry: RegistryTarget,
  ref: string,
  dir: string,
  layoutRef: string,
  opts: SkopeoAuthOptions & { all?: boolean; preserveDigests?: boolean } = {},
): Promise<RunResult> {
  return run(
    "skopeo",
    [
      "copy",
      "--quiet",
      tlsArg("src"),
      ...credArgs("src", opts.creds),
      ...(opts.all === true ? ["--all"] : []),
      ...(opts.preserveDigests === false ? [] : ["--preserve-digests"]),
      `docker://${hostOf(registry)}/${ref}`,
      `oci:${dir}:${layoutRef}`,
    ],
    timeout(opts),
  );
}

/** The manifest (or index) bytes as the registry serves them: `skopeo inspect --raw`. */
export async function inspectRaw(
  registry: RegistryTarget,
  ref: string,
  opts: SkopeoAuthOptions = {},
): Promise<string> {
  const { stdout } = await run(
    "skopeo",
    [
      "inspect",
      "--raw",
      tlsArg(""),
      ...credArgs("", opts.creds),
      `docker://${hostOf(registry)}/${ref}`,
    ],
    timeout(opts),
  );
  return stdout;
}

/** `skopeo inspect` of one image (for an index: the host platform's), parsed. */
export async function inspect(
  registry: RegistryTarget,
  ref: string,
  opts: SkopeoAuthOptions = {},
): Promise<{ Digest: string; Layers: string[]; Architecture: string; Os: string }> {
  const { stdout } = await run(
    "skopeo",
    ["inspect", tlsArg(""), ...credArgs("", opts.creds), `docker://${hostOf(registry)}/${ref}`],
    timeout(opts),
  );
  return JSON.parse(stdout) as {
    Digest: string;
    Layers: string[];
    Architecture: string;
    Os: string;
  };
}

/** `skopeo inspect --raw oci:DIR:REF`: the manifest/index a layout ref points at. */
export async function inspectLayoutRaw(dir: string, layoutRef: string): Promise<string> {
  const { stdout } = await run("skopeo", ["inspect", "--raw", `oci:${dir}:${layoutRef}`]);
  return stdout;
}

function timeout(o: SkopeoAuthOptions): { timeoutMs?: number } {
  return o.timeoutMs === undefined ? {} : { timeoutMs: o.timeoutMs };
}
