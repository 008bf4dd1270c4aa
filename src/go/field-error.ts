// Kubernetes field-level validation errors and the Go formatting they are printed with. Pure.
//
// Owns: the `FieldError` value (k8s.io/apimachinery pkg/util/validation/field/errors.go `Error`),
// its `Error()` rendering, Go's whitespace set
// (strings.TrimSpace / unicode.IsSpace) and the message of an aggregate of errors
// (k8s.io/apimachinery pkg/util/errors/errors.go `aggregate.Error`).
//
// Upstream sources (read for this file):
// - kubernetes/apimachinery pkg/util/validation/field/errors.go — Error(), ErrorBody(),
//   Required/Invalid/NotSupported/Forbidden constructors, ErrorType.String()
// - kubernetes/apimachinery pkg/util/errors/errors.go — aggregate.Error() (dedup, "[a, b]")
// - Go strings.TrimSpace / unicode.IsSpace
// Go's %q (strconv.Quote) is quote.ts (goQuote).

import { goQuote } from "./quote.ts";

/** The field error types this package produces (upstream has more, e.g. FieldValueTooLong). */
export type FieldErrorType =
  | "FieldValueRequired"
  | "FieldValueInvalid"
  | "FieldValueNotSupported"
  | "FieldValueDuplicate"
  | "FieldValueForbidden";

export interface FieldError {
  readonly type: FieldErrorType;
  /** Dotted field path, e.g. `spec.containers[0].image`. */
  readonly field: string;
  /** The offending value (absent for Required and Forbidden, which never print it). */
  readonly badValue?: unknown;
  /** Upstream's detail text; "" when there is none. */
  readonly detail: string;
  /** Exactly Go's `(*field.Error).Error()`: `<field>: <ErrorBody>`. */
  readonly message: string;
}

const TYPE_TEXT: Readonly<Record<FieldErrorType, string>> = {
  FieldValueRequired: "Required value",
  FieldValueInvalid: "Invalid value",
  FieldValueNotSupported: "Unsupported value",
  FieldValueDuplicate: "Duplicate value",
  FieldValueForbidden: "Forbidden",
};

function render(type: FieldErrorType, field: string, detail: string, badValue?: unknown): string {
  let body = TYPE_TEXT[type];
  // Required and Forbidden never print the value; Invalid and NotSupported always do.
  if (type !== "FieldValueRequired" && type !== "FieldValueForbidden") {
    body += `: ${renderBadValue(badValue)}`;
  }
  if (detail !== "") body += `: ${detail}`;
  return `${field}: ${body}`;
}

/** field.Required(path, detail). */
export function fieldRequired(field: string, detail = ""): FieldError {
  return {
    type: "FieldValueRequired",
    field,
    detail,
    message: render("FieldValueRequired", field, detail),
  };
}

/** field.Invalid(path, value, detail). */
export function fieldInvalid(field: string, badValue: unknown, detail: string): FieldError {
  return {
    type: "FieldValueInvalid",
    field,
    badValue,
    detail,
    message: render("FieldValueInvalid", field, detail, badValue),
  };
}

/** field.NotSupported(path, value, validValues): detail `supported values: "A", "B"`. */
export function fieldNotSupported(
  field: string,
  badValue: unknown,
  supported: readonly string[],
): FieldError {
  const detail =
    supported.length > 0 ? `supported values: ${supported.map(goQuote).join(", ")}` : "";
  return {
    type: "FieldValueNotSupported",
    field,
    badValue,
    detail,
    message: render("FieldValueNotSupported", field, detail, badValue),
  };
}

/** field.Duplicate(path, value). */
export function fieldDuplicate(field: string, badValue: unknown): FieldError {
  return {
    type: "FieldValueDuplicate",
    field,
    badValue,
    detail: "",
    message: render("FieldValueDuplicate", field, "", badValue),
  };
}

/**
 * A bad value that Go prints through its `String()` method (ErrorBody's `fmt.Stringer` case),
 * e.g. a time.Duration (`1m0s`) or a value Go prints with `%#v` (`[]string{"a", "b"}`): the
 * text is printed as given, unquoted.
 */
export class GoStringer {
  constructor(readonly text: string) {}
}
export function goStringer(text: string): GoStringer {
  return new GoStringer(text);
}

/** field.Forbidden(path, detail). */
export function fieldForbidden(field: string, detail: string): FieldError {
  return {
    type: "FieldValueForbidden",
    field,
    detail,
    message: render("FieldValueForbidden", field, detail),
  };
}

/**
 * How ErrorBody prints a bad value: strings with %q; int64/float64/bool with %v; anything else
 * as JSON (encoding/json: map keys sorted, `<`, `>`, `&`, U+2028, U+2029 escaped).
 * Numbers: values from untrusted YAML reach us only for our own type errors (the real API
 * rejects them while decoding), so integers print as Go prints an int64 and other numbers as
 * Go's %v of a float64 (shortest %g).
 */
export function renderBadValue(value: unknown): string {
  if (value instanceof GoStringer) return value.text;
  switch (typeof value) {
    case "string":
      return goQuote(value);
    case "number":
      return Number.isSafeInteger(value) ? String(value) : goFloat(value);
    case "boolean":
      return String(value);
    case "bigint":
      return value.toString();
    default:
      return goJSON(value);
  }
}

/** Go's `%v` of a float64: strconv.FormatFloat(f, 'g', -1, 64). */
function goFloat(n: number): string {
  if (Number.isNaN(n)) return "NaN";
  if (n === Number.POSITIVE_INFINITY) return "+Inf";
  if (n === Number.NEGATIVE_INFINITY) return "-Inf";
  if (n === 0) return Object.is(n, -0) ? "-0" : "0";
  const [mantissa = "", expText = "0"] = n.toExponential().split("e");
  const exp = Number(expText);
  // Shortest formatting switches to %e when exp < -4 || exp >= 6 (eprec is 6 for shortest).
  if (exp < -4 || exp >= 6) {
    const abs = Math.abs(exp);
    return `${mantissa}e${exp < 0 ? "-" : "+"}${abs < 10 ? `0${abs}` : String(abs)}`;
  }
  return String(n); // JS prints plain decimals in this range, with the same shortest digits
}

/** encoding/json.Marshal for plain JSON-like values (our own messages only). */
function goJSON(value: unknown): string {
  const sorted = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sorted);
    if (v !== null && typeof v === "object") {
      const out: Record<string, unknown> = {};
      for (const k of Object.keys(v).sort()) out[k] = sorted((v as Record<string, unknown>)[k]);
      return out;
    }
    return v;
  };
  const text = JSON.stringify(sorted(value)) ?? "null";
  return text.replace(/[<>&\u2028\u2029]/g, (c) => `\\u${hex(c.charCodeAt(0), 4)}`);
}

function hex(n: number, width: number): string {
  return n.toString(16).padStart(width, "0");
}

/**
 * Go's unicode.IsSpace, the set strings.TrimSpace removes. It differs from JavaScript's
 * String.prototype.trim: Go includes U+0085 (NEL) and excludes U+FEFF (BOM).
 */
export function isGoSpace(cp: number): boolean {
  switch (cp) {
    case 0x09:
    case 0x0a:
    case 0x0b:
    case 0x0c:
    case 0x0d:
    case 0x20:
    case 0x85:
    case 0xa0:
    case 0x1680:
    case 0x2028:
    case 0x2029:
    case 0x202f:
    case 0x205f:
    case 0x3000:
      return true;
    default:
      return cp >= 0x2000 && cp <= 0x200a;
  }
}

/** `len(s) != len(strings.TrimSpace(s))`: whether s starts or ends with Go whitespace. */
export function hasGoSurroundingSpace(s: string): boolean {
  if (s === "") return false;
  // Every Go space is a single UTF-16 unit, so the first and last units suffice.
  return isGoSpace(s.charCodeAt(0)) || isGoSpace(s.charCodeAt(s.length - 1));
}

/**
 * utilerrors.NewAggregate(errs).Error(): one error prints alone; several print as
 * `[e1, e2, …]` after dropping repeated messages (and a list that dedups to one prints alone).
 */
export function aggregateMessage(messages: readonly string[]): string {
  if (messages.length === 0) return "";
  if (messages.length === 1) return messages[0] ?? "";
  const seen = [...new Set(messages)];
  return seen.length === 1 ? (seen[0] ?? "") : `[${seen.join(", ")}]`;
}
