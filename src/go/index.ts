// Public API of src/go: the Go and apimachinery text forms kimg's messages must match byte for
// byte — time.Duration parsing and printing, strconv.Quote (`%q`), field.Error and
// aggregate.Error. Pure, below every other layer but errors, so ref, policy, kubelet and
// credentials share one copy of each (issue 11: credentials kept its own, and they disagreed).
// Re-exports only.
export {
  formatGoDuration,
  formatGoDurationNs,
  goTimeQuote,
  parseGoDuration,
  parseGoDurationNs,
  truncateToMs,
} from "./duration.ts";
export {
  aggregateMessage,
  type FieldError,
  type FieldErrorType,
  fieldDuplicate,
  fieldForbidden,
  fieldInvalid,
  fieldNotSupported,
  fieldRequired,
  goStringer,
  hasGoSurroundingSpace,
  isGoSpace,
  renderBadValue,
} from "./field-error.ts";
export { escapeControls, goQuote } from "./quote.ts";
