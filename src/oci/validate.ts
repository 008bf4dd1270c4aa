// Structural checks of untrusted JSON, shared by the manifest, index, descriptor and config
// parsers (design-models.md §6.4: "parse untrusted JSON into validated types at the edge").
// Pure: no I/O. Internal: the barrel does not export it.
//
// Every failure is a KimgError whose message names the field path, the way Go's
// encoding/json names the struct field: `manifest.layers[2].size: expected a non-negative
// integer, got -1`.
//
// JSON.parse versus Go's encoding/json (what containerd, Docker and CRI-O read with):
// - Duplicate keys: both keep the last value, so `{"schemaVersion":1,"schemaVersion":2}` reads
//   as 2 in both. No differential, nothing to reject.
// - Key case: Go matches struct fields case-insensitively (bytes.EqualFold, where the Kelvin
//   sign folds to `k` and the long s `ſ` to `s`), JSON.parse does not. A document with
//   `"Layers"` or `"ſize"` would mean one thing to containerd and another to us, so a key that
//   folds to a known field name without being it is rejected (containers/image decodes its
//   "ambiguous manifest" check into a struct for the same reason).
// - `null`: Go leaves the field at its zero value; here null counts as absent.
// - Numbers: Go refuses `1.0` or `1e3` for an int64 field; JSON.parse cannot tell `1e3` from
//   `1000` (Node 20 has no source-text access), so those are accepted. Sizes above 2^53-1 are
//   refused here though Go takes them up to 2^63-1: no real blob is that large.
// - Text: invalid UTF-8 is refused (Go would substitute U+FFFD); a byte-order mark is refused
//   (so does Go: "invalid character 'ï' looking for beginning of value").
// - `__proto__` keys stay plain data: maps are built with Object.fromEntries.

import { type ErrorCode, KimgError } from "../errors.ts";
import { isJsonObject } from "../json/index.ts";

/** Where a parse is: the error code to raise and a prefix naming the document (its digest). */
export interface Ctx {
  readonly code: ErrorCode;
  readonly prefix: string;
}

export type JsonObject = Readonly<Record<string, unknown>>;

export function makeCtx(code: ErrorCode, digest: string | undefined): Ctx {
  return { code, prefix: digest === undefined || digest === "" ? "" : `${digest}: ` };
}

export function invalid(ctx: Ctx, path: string, message: string): never {
  throw new KimgError(ctx.code, `${ctx.prefix}${path}: ${message}`);
}

/** A short JSON-ish name of a value's type for messages. */
export function typeName(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  return typeof v;
}

/** A value shown in a message: quoted and cut to a readable length. */
export function show(v: unknown): string {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 80 ? `${s.slice(0, 80)}…` : s;
}

export function isObject(v: unknown): v is JsonObject {
  return isJsonObject(v);
}

export function has(obj: JsonObject, key: string): boolean {
  return Object.hasOwn(obj, key);
}

/** Present and not null (Go's decoder leaves a field alone for null). */
export function present(obj: JsonObject, key: string): boolean {
  return Object.hasOwn(obj, key) && obj[key] !== null;
}

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const encoder = new TextEncoder();

/** Length of the input in bytes (UTF-8 for strings). */
export function byteLength(input: Uint8Array | string): number {
  return typeof input === "string" ? encoder.encode(input).length : input.length;
}

/** Decodes bytes or text as one JSON object. */
export function decodeJsonObject(input: Uint8Array | string, ctx: Ctx, root: string): JsonObject {
  let text: string;
  if (typeof input === "string") {
    text = input;
  } else {
    try {
      text = utf8.decode(input);
    } catch {
      return invalid(ctx, root, "not valid UTF-8");
    }
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    return invalid(ctx, root, `invalid JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (!isObject(value)) return invalid(ctx, root, `expected a JSON object, got ${typeName(value)}`);
  return value;
}

// Go's bytes.EqualFold on ASCII field names: ASCII case, plus the two non-ASCII letters whose
// simple case folding reaches ASCII (U+212A KELVIN SIGN ~ k, U+017F LATIN SMALL LETTER LONG S ~ s).
function fold(s: string): string {
  return s.replace(/[A-Z\u212a\u017f]/g, (c) =>
    c === "\u212a" ? "k" : c === "\u017f" ? "s" : c.toLowerCase(),
  );
}

/**
 * Rejects keys that Go's decoder would read as one of `known` but JSON.parse does not
 * (`"Layers"` for `layers`). Unknown keys are otherwise allowed, as everywhere in OCI.
 */
export function checkKeys(obj: JsonObject, known: readonly string[], ctx: Ctx, path: string): void {
  for (const key of Object.keys(obj)) {
    if (known.includes(key)) continue;
    const f = fold(key);
    const twin = known.find((k) => fold(k) === f);
    if (twin !== undefined) {
      invalid(
        ctx,
        path,
        `field ${show(key)} differs from ${show(twin)} only in case (Go decoders read it as ${show(twin)})`,
      );
    }
  }
}

export function optString(
  obj: JsonObject,
  key: string,
  ctx: Ctx,
  path: string,
): string | undefined {
  const v = obj[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "string")
    invalid(ctx, `${path}.${key}`, `expected a string, got ${typeName(v)}`);
  return v;
}

export function reqString(obj: JsonObject, key: string, ctx: Ctx, path: string): string {
  const v = optString(obj, key, ctx, path);
  if (v === undefined) invalid(ctx, `${path}.${key}`, "required");
  return v;
}

export function optBoolean(
  obj: JsonObject,
  key: string,
  ctx: Ctx,
  path: string,
): boolean | undefined {
  const v = obj[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "boolean")
    invalid(ctx, `${path}.${key}`, `expected a boolean, got ${typeName(v)}`);
  return v;
}

export function optArray(
  obj: JsonObject,
  key: string,
  ctx: Ctx,
  path: string,
): readonly unknown[] | undefined {
  const v = obj[key];
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v)) invalid(ctx, `${path}.${key}`, `expected an array, got ${typeName(v)}`);
  return v;
}

export function reqArray(obj: JsonObject, key: string, ctx: Ctx, path: string): readonly unknown[] {
  const v = optArray(obj, key, ctx, path);
  if (v === undefined) invalid(ctx, `${path}.${key}`, "required");
  return v;
}

export function optObject(
  obj: JsonObject,
  key: string,
  ctx: Ctx,
  path: string,
): JsonObject | undefined {
  const v = obj[key];
  if (v === undefined || v === null) return undefined;
  if (!isObject(v)) invalid(ctx, `${path}.${key}`, `expected an object, got ${typeName(v)}`);
  return v;
}

export function reqObject(obj: JsonObject, key: string, ctx: Ctx, path: string): JsonObject {
  const v = optObject(obj, key, ctx, path);
  if (v === undefined) invalid(ctx, `${path}.${key}`, "required");
  return v;
}

export function optStringArray(
  obj: JsonObject,
  key: string,
  ctx: Ctx,
  path: string,
): readonly string[] | undefined {
  const arr = optArray(obj, key, ctx, path);
  if (arr === undefined) return undefined;
  return arr.map((v, i) => {
    if (typeof v !== "string") {
      invalid(ctx, `${path}.${key}[${i}]`, `expected a string, got ${typeName(v)}`);
    }
    return v;
  });
}

/** A string → string map (annotations, labels), as a plain object with no prototype tricks. */
export function optStringMap(
  obj: JsonObject,
  key: string,
  ctx: Ctx,
  path: string,
): Readonly<Record<string, string>> | undefined {
  const m = optObject(obj, key, ctx, path);
  if (m === undefined) return undefined;
  const entries = Object.entries(m).map(([k, v]): [string, string] => {
    if (typeof v !== "string") {
      invalid(ctx, `${path}.${key}[${show(k)}]`, `expected a string, got ${typeName(v)}`);
    }
    return [k, v];
  });
  return Object.fromEntries(entries);
}

/** `{ [key]: value }`, or `{}` when value is undefined: builds objects with optional fields. */
export function opt<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}
