// kimg digest REF: the manifest digest at the registry, as `crane digest` prints it. Thin: the
// library's remoteDigest does the work; credentials, registries.conf, --insecure-registry and
// retries come from the same flags and files as `kimg pull` (commands/pull.ts).

import { remoteDigest } from "../../pull-api.ts";
import { type CliIO, EXIT } from "../io.ts";
import { safe, toJson } from "../render/safe.ts";
import { credentialsOf, type PullFlags, pullOptionsOf } from "./pull.ts";

export interface DigestFlags
  extends Omit<PullFlags, "policy" | "jobs" | "progress" | "isTTY" | "store"> {
  readonly json: boolean;
}

export async function runDigest(ref: string, f: DigestFlags, io: CliIO): Promise<number> {
  const flags: PullFlags = { ...f, jobs: 1, progress: "plain", isTTY: false };
  const opts = await pullOptionsOf(flags); // flag errors before any request
  const { chain } = await credentialsOf(ref, flags);
  const r = await remoteDigest(ref, {
    insecureHosts: opts.pull.insecureHosts,
    registriesConf: opts.pull.registriesConf,
    retry: opts.pull.retry,
    credentials: chain,
    platform: f.platform,
  });
  if (f.json) {
    io.stdout.write(
      `${toJson({
        reference: r.reference,
        digest: r.descriptor.digest,
        mediaType: r.descriptor.mediaType,
        size: r.descriptor.size,
        ...(r.descriptor !== r.resolved ? { index: r.resolved.digest } : {}),
        endpoint: r.endpoint,
      })}\n`,
    );
  } else io.stdout.write(`${safe(r.descriptor.digest)}\n`);
  return EXIT.OK;
}
