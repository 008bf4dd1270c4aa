// Pinning images to digests in manifests (`kimg pin`), the pure part: where each container's
// `image` value sits in the text, and the text with new values spliced in. No I/O: resolving
// tags to digests is the caller's (src/pin).
//
// Owns:
// - `findImageSites(files)`: every container image (init, regular, ephemeral; every workload
//   kind src/manifest walks, Lists and multi-document streams included) with its source range,
//   quoting, declared pull policy and the PodSpec's imagePullSecrets.
// - `pinnedImage(image, digest)`: `name[:tag]` as written, then `@digest` (a digest already
//   there is replaced). The tag stays: it documents the version, and `:latest@sha256:…` keeps
//   Kubernetes' `Always` default (SetDefaults_Container reads the tag, not the digest).
// - `renderPinned(file, edits)`: the file's text with only those values changed; every other
//   byte (comments, layout, key order, quoting, anchors, flow style) is kept. A value reached
//   through an alias is changed once, at its anchor.

import type { PullPolicy } from "../policy/index.ts";
import { effectivePullPolicy } from "../policy/index.ts";
import type { TextEdit } from "./edit-plan.ts";
import type { ManifestFile } from "./load.ts";
import type { ScalarStyle } from "./tree.ts";
import type { ObjectLocation } from "./types.ts";
import { walkManifests } from "./walk.ts";
import { deref, findPair, isScalar, scalarValue, startOf } from "./yaml-nodes.ts";

export interface ImageSite {
  readonly file: ManifestFile;
  readonly object: ObjectLocation;
  /** e.g. `spec.template.spec.containers[0].image` */
  readonly fieldPath: string;
  readonly containerName: string | null;
  /** The value as written. */
  readonly image: string;
  /** 1-based line and column of the value. */
  readonly line: number;
  readonly column: number;
  /** `[start, end)` of the scalar in `file.text` (quotes included); the anchor's for an alias. */
  readonly start: number;
  readonly end: number;
  readonly style: ScalarStyle | undefined;
  /** Why the value cannot be rewritten in place (a block scalar), or undefined. */
  readonly notEditable: string | undefined;
  /** `imagePullPolicy` as written (string), or undefined when absent/null/not a string. */
  readonly declaredPolicy: string | undefined;
  /** The PodSpec's `imagePullSecrets[].name`. */
  readonly imagePullSecrets: readonly string[];
}

/** Every container image in `files` that is a string, in input order. */
export function findImageSites(files: readonly ManifestFile[]): ImageSite[] {
  const walk = walkManifests(files);
  const out: ImageSite[] = [];
  for (const c of walk.containers) {
    const r = c.reader;
    const pair = findPair(r, c.node, "image");
    if (pair === undefined) continue;
    const node = deref(r, pair.pair.value);
    if (!isScalar(node)) continue;
    const value = scalarValue(node);
    if (typeof value !== "string" || value === "") continue;
    const policy = findPair(r, c.node, "imagePullPolicy");
    const declared = policy === undefined ? undefined : scalarValue(deref(r, policy.pair.value));
    const name = scalarValue(deref(r, findPair(r, c.node, "name")?.pair.value));
    // The line is the container's own (`image: *app`), the range the anchor's value.
    const pos = c.file.position(startOf(pair.pair.value) ?? node.start);
    const block = node.style === "BLOCK_LITERAL" || node.style === "BLOCK_FOLDED";
    out.push({
      file: c.file,
      object: c.object,
      fieldPath: `${c.fieldPath}.image`,
      containerName: typeof name === "string" ? name : null,
      image: value,
      line: pos.line,
      column: pos.column,
      start: node.start,
      end: node.end,
      style: node.style,
      notEditable: block
        ? "the image is a block scalar (| or >); write it on one line to pin it"
        : undefined,
      declaredPolicy: typeof declared === "string" ? declared : undefined,
      imagePullSecrets: c.podSpec.imagePullSecrets,
    });
  }
  return out;
}

/** `image` with `digest` in place of any digest it has: `nginx:1.25` → `nginx:1.25@sha256:…`. */
export function pinnedImage(image: string, digest: string): string {
  const at = image.indexOf("@");
  return `${at === -1 ? image : image.slice(0, at)}@${digest}`;
}

/** What pinning does to the pull policy the API server stores for a container. */
export interface PinPolicyChange {
  readonly before: PullPolicy | null;
  readonly after: PullPolicy | null;
  readonly ruleBefore: string;
  readonly ruleAfter: string;
  /** The after rule's reason, in the seed's words. */
  readonly reason: string;
  readonly changed: boolean;
}

export function policyChange(
  declared: string | undefined,
  before: string,
  after: string,
): PinPolicyChange {
  const b = effectivePullPolicy(declared, before);
  const a = effectivePullPolicy(declared, after);
  return {
    before: b.policy,
    after: a.policy,
    ruleBefore: b.rule,
    ruleAfter: a.rule,
    reason: a.reason,
    changed: b.policy !== a.policy,
  };
}

/** The site's scalar with a new value, in the site's quoting (always double-quoted in JSON). */
export function imageEdit(site: ImageSite, value: string): TextEdit {
  const q =
    site.file.format === "json" || site.style === "QUOTE_DOUBLE"
      ? `"${value}"`
      : site.style === "QUOTE_SINGLE"
        ? `'${value}'`
        : value;
  // A plain scalar's range can run to the end of its line only; comments after it are not in it.
  return { at: site.start, remove: site.end - site.start, insert: q };
}

/** `text` with non-overlapping `edits` applied (sorted here; an edit inside another is dropped). */
export function spliceText(text: string, edits: readonly TextEdit[]): string {
  if (edits.length === 0) return text;
  const sorted = [...edits].sort((a, b) => a.at - b.at);
  const parts: string[] = [];
  let pos = 0;
  for (const t of sorted) {
    if (t.at < pos) continue;
    parts.push(text.slice(pos, t.at), t.insert);
    pos = t.at + t.remove;
  }
  parts.push(text.slice(pos));
  return parts.join("");
}
