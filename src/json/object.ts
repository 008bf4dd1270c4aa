// The one test every reader of untrusted JSON starts with: a JSON object (not null, not an
// array). Pure. Issue 11: oci, policy, kubelet, credentials and store each had a copy.

export function isJsonObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
