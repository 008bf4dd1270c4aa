// The parsed reference value and its string forms (distribution/reference reference.go).
// Pure.

/**
 * What a reference holds, named as upstream's types are:
 * - `repository`: a name only (`reference.Named`)
 * - `tagged`: name and tag (`reference.NamedTagged`)
 * - `canonical`: name and digest (`reference.Canonical`)
 * - `reference`: name, tag and digest (upstream's `reference` struct, both kept)
 * - `digest`: a digest only (`digestReference`, from ParseAnyReference)
 */
export type ReferenceKind = "repository" | "tagged" | "canonical" | "reference" | "digest";

export interface Reference {
  readonly kind: ReferenceKind;
  /** Registry host and optional port, e.g. `docker.io`, `localhost:5000`; "" when absent. */
  readonly domain: string;
  /** Repository path below the domain, e.g. `library/nginx`; "" for a digest-only reference. */
  readonly path: string;
  /** "" when absent. */
  readonly tag: string;
  /** `algorithm:hex`, "" when absent. */
  readonly digest: string;
}

export function kindOf(hasName: boolean, tag: string, digest: string): ReferenceKind {
  if (!hasName) return "digest";
  if (tag !== "") return digest !== "" ? "reference" : "tagged";
  return digest !== "" ? "canonical" : "repository";
}

export function makeReference(domain: string, path: string, tag = "", digest = ""): Reference {
  return { kind: kindOf(path !== "", tag, digest), domain, path, tag, digest };
}

/** True for every kind except digest-only (upstream: implements `Named`). */
export function isNamed(ref: Reference): boolean {
  return ref.kind !== "digest";
}

/** `Name()`: domain + "/" + path, or the path alone when there is no domain. */
export function referenceName(ref: Reference): string {
  return ref.domain === "" ? ref.path : `${ref.domain}/${ref.path}`;
}

/** `String()`: `name[:tag][@digest]`, or the digest alone for a digest-only reference. */
export function referenceString(ref: Reference): string {
  if (ref.kind === "digest") return ref.digest;
  let s = referenceName(ref);
  if (ref.tag !== "") s += `:${ref.tag}`;
  if (ref.digest !== "") s += `@${ref.digest}`;
  return s;
}

/** `IsNameOnly`: neither tagged nor canonical. */
export function isNameOnly(ref: Reference): boolean {
  return ref.kind === "repository";
}
