// kimg digest REF: the manifest digest at the registry, as `crane digest` prints it. Thin: the
// library's remoteDigest does the work; credentials, registries.conf, --insecure-registry and
// retries come from the same flags and files as `kimg pull` (commands/pull.ts).

import { remoteDigest } from "../../pull-api.ts";
import { type CliIO, EXIT } from "../io.ts";
import { safe, toJson } from "../render/safe.ts";
import { credentialsOf, type RegistryFlags, registryOptionsOf } from "./pull.ts";

export interface DigestFlags extends RegistryFlags {
  readonly json: boolean;
}

export async function runDigest(ref: string, f: DigestFlags, io: CliIO): Promise<number> {
  const opts = await registryOptionsOf(f); // flag errors before any request
  const { chain } = await credentialsOf(ref, f);
  const r = await remoteDigest(ref, { ...opts, credentials: chain, candidates: chain });
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
