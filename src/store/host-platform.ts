// The platform a pull, an inspection, an unpack or an export picks from an index when none is
// given: the host's, from Node's process values, as containerd's platforms.DefaultSpec. Here
// (I/O: it reads `process`) rather than in the pure oci/ model, which does the mapping.

import {
  fromNodeArch,
  fromNodePlatform,
  hostPlatform,
  type Platform,
  parsePlatform,
} from "../oci/index.ts";

/** The host's platform from Node's process values (containerd DefaultSpec). */
export function defaultPlatform(): Platform {
  return hostPlatform({
    os: fromNodePlatform(process.platform),
    architecture: fromNodeArch(process.arch),
  });
}

/** A `--platform` value or a Platform; undefined is the host's. */
export function wantedPlatform(p: string | Platform | undefined): Platform {
  if (p === undefined) return defaultPlatform();
  // An OS-only (`linux`) or architecture-only (`arm64`) specifier takes the rest from the host,
  // as containerd's platforms.Parse does (issue 10 item 14).
  return typeof p === "string" ? parsePlatform(p, { host: defaultPlatform() }) : p;
}
