// The one error type of kimg. Pure: no I/O.
//
// Every error carries a stable `code` (a closed union, so callers and front ends can switch on
// it) and a message. Where Docker, distribution/reference, go-digest or Kubernetes define the
// message text, ours equals theirs byte for byte, so output can be compared with upstream tools.

export type ErrorCode =
  // distribution/reference sentinels (reference.go)
  | "REFERENCE_INVALID_FORMAT" // "invalid reference format"
  | "TAG_INVALID_FORMAT" // "invalid tag format"
  | "DIGEST_INVALID_FORMAT" // "invalid digest format" (WithDigest only)
  | "NAME_CONTAINS_UPPERCASE" // "repository name must be lowercase"
  | "NAME_EMPTY" // "repository name must have at least one component"
  | "NAME_TOO_LONG" // "repository name must not be more than 255 characters"
  | "NAME_NOT_CANONICAL" // "repository name must be canonical"
  // distribution/reference formatted errors (normalize.go)
  | "NAME_IS_IDENTIFIER" // "invalid repository name (<s>), cannot specify 64-byte hexadecimal strings"
  | "REPOSITORY_NOT_LOWERCASE" // "invalid reference format: repository name (<remote>) must be lowercase"
  // go-digest (digest.go)
  | "DIGEST_CHECKSUM_FORMAT" // "invalid checksum digest format"
  | "DIGEST_CHECKSUM_LENGTH" // "invalid checksum digest length"
  | "DIGEST_UNSUPPORTED" // "unsupported digest algorithm"
  // path.Match (FamiliarMatch)
  | "BAD_PATTERN" // "syntax error in pattern"
  // input that could not be read (files, YAML, JSON)
  | "INPUT_UNREADABLE"
  | "INPUT_INVALID"
  // OCI model (src/oci/): untrusted manifests, indexes, configs and platforms
  | "INVALID_MANIFEST" // a manifest or index that is not JSON, breaks the schema or is ambiguous
  | "INVALID_CONFIG" // an image config that is not JSON or breaks the schema
  | "UNSUPPORTED_MEDIA_TYPE" // schema 1, an unknown top-level media type, or the other kind of document
  | "MANIFEST_TOO_LARGE" // a manifest, index or config over the size cap ("rejecting N byte manifest")
  | "INVALID_PLATFORM" // a platform specifier containerd's platforms.Parse rejects
  | "PLATFORM_NOT_FOUND" // no entry of an index matches the wanted platform
  | "LAYER_COUNT_MISMATCH" // manifest layers and config rootfs.diff_ids differ in number
  | "UNSAFE_PATH" // a digest that would not be a safe file-name segment (CVE-2024-3727), or a hostile layer entry
  // local store (src/store/)
  | "DIGEST_MISMATCH" // content hashed to another digest than the descriptor's; the data is deleted
  | "SIZE_MISMATCH" // content longer (deleted) or shorter (kept for resume) than the descriptor's size
  | "BLOB_NOT_FOUND" // no committed blob with that digest in the store
  | "STORE_NOT_FOUND" // a read-only command pointed at a directory that holds no store: "no store at DIR"
  | "STORE_CORRUPT" // oci-layout, index.json or kimg.json unreadable or not what the layout requires
  | "STORE_VERSION_UNSUPPORTED" // kimg.json written by a newer kimg (storeVersion above ours)
  | "WRITER_CLOSED" // write/commit on a blob writer already committed, closed or aborted
  | "ABORTED" // stopped by the caller's AbortSignal
  // registry client (src/registry/); messages as containerd's / docker's, with host, request and
  // status, never a credential
  | "REGISTRY_UNAUTHORIZED" // 401 after authenticating, or the token server refused: "pull access denied, …"
  | "REGISTRY_DENIED" // 403 (DENIED): "pull access denied, …"
  | "MANIFEST_UNKNOWN" // 404 on a manifest (MANIFEST_UNKNOWN / NAME_UNKNOWN): "manifest unknown"
  | "BLOB_UNKNOWN" // 404 on a blob: "blob unknown"
  | "NAME_UNKNOWN" // 404 listing a repository's tags (NAME_UNKNOWN): "repository name not known to registry"
  | "REGISTRY_UNAVAILABLE" // 5xx or connection errors after the retries
  | "RATE_LIMITED" // 429 (TOOMANYREQUESTS) after the retries
  | "REGISTRY_ERROR" // any other status, or a protocol violation (redirect loop, bad Content-Range, …)
  // registries.conf (src/registry/registries-conf.ts; containers/image sysregistriesv2)
  | "REGISTRIES_CONF_INVALID" // unreadable, not TOML, or failing validation: "<file>: <field>: …"
  | "REGISTRY_BLOCKED" // the registries.conf entry matching the image has blocked = true
  // credentials (src/credentials/); messages never contain a credential
  | "CREDENTIALS_INVALID" // a pull secret, docker config, auth.json or --creds value that cannot be used ("unable to parse auth field, …")
  | "CREDENTIAL_HELPER_FAILED" // a docker-credential-<name> program failed, timed out or printed bad output
  // pulls (src/pull/)
  | "ERR_IMAGE_NEVER_PULL" // kubelet: `Container image "<ref>" is not present with pull policy of Never`
  | "IMAGE_NOT_FOUND" // no image record of that name in the store ("No such image: <ref>")
  // unpacking layers into a root filesystem (src/unpack/); UNSAFE_PATH above for hostile entries
  | "UNPACK_LIMIT" // --max-size / --max-files exceeded while streaming (decompression bombs)
  | "LAYER_INVALID" // a layer that is not a (gzip/zstd) tar, or has an entry kimg cannot apply
  // the kubelet's image manager (src/manager/)
  | "PULL_QPS_EXCEEDED"; // registryPullQPS throttle: "pull QPS exceeded" (pkg/kubelet/images/helpers.go)

/**
 * What a registry answered, kept as data on the error (its message flattens it): the request,
 * the status and the body's `errors[]` (distribution-spec "Error Codes": code and message as
 * sent, each message capped at 500 characters). Never holds a credential: requests carry them
 * in headers, which are not kept.
 */
export interface RegistryErrorInfo {
  readonly status: number;
  readonly method: string;
  readonly host: string;
  readonly path: string;
  readonly errors: readonly { readonly code: string; readonly message: string }[];
}

export interface KimgErrorOptions extends ErrorOptions {
  /** The registry's answer when a registry request failed with an error status. */
  readonly registry?: RegistryErrorInfo | undefined;
  /**
   * Text kept out of the message because it may hold a secret: what a credential helper or
   * provider plugin printed when it failed. Front ends show it only when asked (`--debug`),
   * with a warning; never in events, JSON output or API answers (docs/security.md).
   */
  readonly withheld?: { readonly from: string; readonly text: string };
}

export class KimgError extends Error {
  override readonly name = "KimgError";
  readonly code: ErrorCode;
  readonly withheld?: { readonly from: string; readonly text: string };
  readonly registry?: RegistryErrorInfo;
  constructor(code: ErrorCode, message: string, options?: KimgErrorOptions) {
    super(message, options);
    this.code = code;
    if (options?.withheld !== undefined) this.withheld = options.withheld;
    if (options?.registry !== undefined) this.registry = options.registry;
  }
}

/** Every withheld text of an error, its causes and the errors it aggregates (depth-first). */
export function withheldOf(
  e: unknown,
  seen = new Set<unknown>(),
): { from: string; text: string }[] {
  if (typeof e !== "object" || e === null || seen.has(e)) return [];
  seen.add(e);
  const out: { from: string; text: string }[] = [];
  const w = (e as { withheld?: { from: string; text: string } }).withheld;
  if (w !== undefined) out.push(w);
  out.push(...withheldOf((e as { cause?: unknown }).cause, seen));
  if (e instanceof AggregateError) for (const x of e.errors) out.push(...withheldOf(x, seen));
  return out;
}

export function isKimgError(e: unknown, code?: ErrorCode): e is KimgError {
  return e instanceof KimgError && (code === undefined || e.code === code);
}

/**
 * What a file-system error says, as Go's os errors print it (`no such file or directory`,
 * `permission denied`…), without Node's `ENOENT: …, open '…'` decoration: every command says
 * `FILE: cannot read: <this>` the same way (issue 10 item 18).
 */
export function errnoText(e: unknown): string {
  const err = e as { code?: string; message?: string };
  switch (err?.code) {
    case "ENOENT":
      return "no such file or directory";
    case "EACCES":
    case "EPERM":
      return "permission denied";
    case "EISDIR":
      return "is a directory";
    case "ENOTDIR":
      return "not a directory";
    case "ELOOP":
      return "too many levels of symbolic links";
    default:
      return err?.message ?? String(e);
  }
}
