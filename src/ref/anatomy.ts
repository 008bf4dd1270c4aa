// The anatomy of a reference as the seed page draws it, for any of the parse modes: registry
// host (blue), port (green), repository (purple), image name (red), tag (brown), digest; and
// for each part whether it was written or implied by Docker Hub / Kubernetes defaults. Pure.

import { KimgError } from "../errors.ts";
import type { ParseOptions } from "./digest.ts";
import { failure, type RefFailure } from "./failure.ts";
import { parseImageName } from "./kubernetes.ts";
import {
  DEFAULT_DOMAIN,
  DEFAULT_TAG,
  LEGACY_DEFAULT_DOMAIN,
  parseAnyReference,
  parseDockerRef,
  parseNamed,
  parseNormalizedNamed,
  splitDockerDomain,
  tryParseNormalizedNamed,
} from "./normalize.ts";
import { parse, tryParse } from "./parse.ts";
import { isNamed, type Reference } from "./reference.ts";

/** The parse functions a caller can choose, named after upstream's. */
export type ParseMode = "normalized" | "parse" | "named" | "docker" | "any" | "k8s";
export const PARSE_MODES: readonly ParseMode[] = [
  "normalized",
  "parse",
  "named",
  "docker",
  "any",
  "k8s",
];

/**
 * Like parseWithMode, returning the failure instead of throwing. The normalized and parse
 * modes never allocate an Error (the bulk paths of `kimg parse -` and the benchmark).
 */
export function tryParseWithMode(
  input: string,
  mode: ParseMode,
  opts?: ParseOptions,
): Reference | RefFailure {
  if (mode === "normalized") return tryParseNormalizedNamed(input, opts);
  if (mode === "parse") return tryParse(input, opts);
  try {
    return parseWithMode(input, mode, opts);
  } catch (e) {
    if (e instanceof KimgError) return failure(e.code, e.message);
    throw e;
  }
}

/** Parses `input` with the upstream function the mode names. */
export function parseWithMode(input: string, mode: ParseMode, opts?: ParseOptions): Reference {
  switch (mode) {
    case "normalized":
      return parseNormalizedNamed(input, opts);
    case "parse":
      return parse(input, opts);
    case "named":
      return parseNamed(input, opts);
    case "docker":
      return parseDockerRef(input, opts);
    case "any":
      return parseAnyReference(input, opts);
    case "k8s": {
      // ParseImageName's view: repository fully qualified, tag `latest` when neither tag nor
      // digest, tag and digest both kept.
      const { repoToPull, tag, digest } = parseImageName(input, opts);
      const named = parseNormalizedNamed(repoToPull, opts);
      const kind = tag !== "" ? (digest !== "" ? "reference" : "tagged") : "canonical";
      return { kind, domain: named.domain, path: named.path, tag, digest };
    }
    default:
      throw new KimgError("INPUT_INVALID", `unknown parse mode ${String(mode)}`);
  }
}

export type AnatomyPartName = "registry" | "port" | "repository" | "imageName" | "tag" | "digest";

export interface AnatomyPart {
  /** "" when the reference has no such part. */
  readonly value: string;
  /** Not written in the input: supplied by a default (docker.io, library/, latest). */
  readonly implied: boolean;
  /** Why, when something other than the written text was used. */
  readonly note?: string;
}

export interface AnatomySegment {
  /** `separator` for the `/`, `:` and `@` between parts. */
  readonly part: AnatomyPartName | "separator";
  readonly text: string;
  readonly implied: boolean;
}

export interface Anatomy {
  readonly registry: AnatomyPart;
  readonly port: AnatomyPart;
  /** The namespace: the path without its last component (`example`, `library`). */
  readonly repository: AnatomyPart;
  /** The last path component (`web-example`, `nginx`). */
  readonly imageName: AnatomyPart;
  readonly tag: AnatomyPart;
  readonly digest: AnatomyPart;
  /** The result's full string, cut into its parts, for drawing. */
  readonly segments: readonly AnatomySegment[];
}

const NONE: AnatomyPart = { value: "", implied: false };

/** Splits a domain into host and port: `[::1]:5000` → `[::1]`, `5000`. */
export function splitHostPort(domain: string): { host: string; port: string } {
  const from = domain.startsWith("[") ? domain.indexOf("]") : 0;
  const colon = domain.indexOf(":", from);
  return colon === -1
    ? { host: domain, port: "" }
    : { host: domain.slice(0, colon), port: domain.slice(colon + 1) };
}

function part(value: string, implied: boolean, note?: string): AnatomyPart {
  return note === undefined ? { value, implied } : { value, implied, note };
}

/**
 * Describes `ref`, the result of parsing `input` in `mode`, part by part.
 */
export function anatomy(input: string, ref: Reference, mode: ParseMode): Anatomy {
  if (!isNamed(ref)) {
    const implied = ref.digest !== input;
    const digest = part(
      ref.digest,
      implied,
      implied ? "an image ID is a sha256 digest" : undefined,
    );
    return {
      registry: NONE,
      port: NONE,
      repository: NONE,
      imageName: NONE,
      tag: NONE,
      digest,
      segments: [{ part: "digest", text: ref.digest, implied }],
    };
  }
  const normalizing = mode !== "parse";
  const split = normalizing ? splitDockerDomain(input) : undefined;
  const { host, port } = splitHostPort(ref.domain);
  const registryImplied = split !== undefined && !split.domainWritten;
  let registryNote: string | undefined;
  if (registryImplied) {
    registryNote = `no registry written: Docker Hub (${DEFAULT_DOMAIN})`;
    // Upstream FIXME kept on purpose: without a "/", `localhost:5000` or `example.com` is an
    // official image name (with tag 5000), not a registry.
    const first = input.split(/[:@]/, 1)[0] ?? "";
    if (!input.includes("/") && (first.includes(".") || first === "localhost")) {
      registryNote += `; without a "/", "${first}" is an image name, not a registry`;
    }
  } else if (split !== undefined && input.startsWith(`${LEGACY_DEFAULT_DOMAIN}/`)) {
    registryNote = `${LEGACY_DEFAULT_DOMAIN} is rewritten to ${DEFAULT_DOMAIN}`;
  }
  const slash = ref.path.lastIndexOf("/");
  const repository = slash === -1 ? "" : ref.path.slice(0, slash);
  const imageName = ref.path.slice(slash + 1);
  const libraryImplied = split?.libraryAdded === true;
  // Which tag did the input carry? Normalizing modes keep the written tag except docker
  // (drops it next to a digest, adds latest) and k8s (adds latest).
  const written =
    normalizing && (mode === "docker" || mode === "k8s") ? writtenTag(input) : ref.tag;
  const tagImplied = ref.tag !== "" && written === "" && ref.tag === DEFAULT_TAG;
  let tagNote: string | undefined;
  if (tagImplied) tagNote = `no tag or digest written: the tag defaults to "${DEFAULT_TAG}"`;
  else if (ref.tag === "" && ref.digest === "" && normalizing) {
    tagNote = `none written: docker pull and Kubernetes use "${DEFAULT_TAG}"`;
  } else if (ref.tag === "" && written !== "")
    tagNote = `tag "${written}" dropped: the digest decides`;

  const segments: AnatomySegment[] = [];
  const push = (p: AnatomySegment["part"], text: string, implied: boolean) => {
    if (text !== "") segments.push({ part: p, text, implied });
  };
  if (ref.domain !== "") {
    push("registry", host, registryImplied);
    if (port !== "") {
      push("separator", ":", registryImplied);
      push("port", port, registryImplied);
    }
    push("separator", "/", registryImplied);
  }
  if (repository !== "") {
    push("repository", repository, libraryImplied);
    push("separator", "/", libraryImplied);
  }
  push("imageName", imageName, false);
  if (ref.tag !== "") {
    push("separator", ":", tagImplied);
    push("tag", ref.tag, tagImplied);
  }
  if (ref.digest !== "") {
    push("separator", "@", false);
    push("digest", ref.digest, false);
  }
  return {
    registry: part(host, registryImplied, registryNote),
    port: part(port, port !== "" && registryImplied),
    repository: part(
      repository,
      libraryImplied,
      libraryImplied ? "Docker Hub's official images live in library/" : undefined,
    ),
    imageName: part(imageName, false),
    tag: part(ref.tag, tagImplied, tagNote),
    digest: part(ref.digest, false),
    segments,
  };
}

function writtenTag(input: string): string {
  try {
    return parseNormalizedNamed(input).tag;
  } catch {
    return "";
  }
}
