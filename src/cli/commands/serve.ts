// kimg serve: the store as a read-only OCI registry (src/serve). Thin: opens the store, starts
// the server, logs `listening on URL` once it is ready, and on SIGINT/SIGTERM stops accepting,
// lets requests in flight finish, and exits 0.

import { defaultStoreDir, FsBlobStore, KimgError } from "../../index.ts";
import { startRegistryServer } from "../../serve/index.ts";
import { type CliIO, EXIT } from "../io.ts";

export interface ServeFlags {
  readonly store?: string | undefined;
  readonly listen?: string | undefined;
  readonly tlsCert?: string | undefined;
  readonly tlsKey?: string | undefined;
  readonly maxConnections?: string | undefined;
  readonly accessLog: boolean;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly homedir: string;
}

/** `HOST:PORT`, `[V6]:PORT` or `:PORT`. */
function parseListen(text: string | undefined): {
  host?: string;
  port?: number;
  explicit: boolean;
} {
  if (text === undefined) return { explicit: false };
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(text);
  const port = Number(m?.[3]);
  if (m === null || port > 65535) {
    throw new KimgError(
      "INPUT_INVALID",
      `--listen: expected HOST:PORT, got ${JSON.stringify(text)}`,
    );
  }
  const host = m[1] ?? m[2] ?? "";
  return { ...(host !== "" ? { host } : {}), port, explicit: host !== "" };
}

export async function runServe(f: ServeFlags, io: CliIO): Promise<number> {
  const listen = parseListen(f.listen);
  if ((f.tlsCert === undefined) !== (f.tlsKey === undefined)) {
    throw new KimgError("INPUT_INVALID", "--tls-cert and --tls-key go together");
  }
  const maxConnections = f.maxConnections === undefined ? undefined : Number(f.maxConnections);
  if (
    maxConnections !== undefined &&
    (!Number.isSafeInteger(maxConnections) || maxConnections < 1)
  ) {
    throw new KimgError(
      "INPUT_INVALID",
      `--max-connections must be a positive integer, got ${f.maxConnections}`,
    );
  }
  const store = await FsBlobStore.openExisting(f.store ?? defaultStoreDir(f.env, f.homedir));
  const srv = await startRegistryServer({
    store,
    host: listen.host,
    port: listen.port,
    hostExplicit: listen.explicit,
    tls:
      f.tlsCert !== undefined && f.tlsKey !== undefined
        ? { certFile: f.tlsCert, keyFile: f.tlsKey }
        : undefined,
    maxConnections,
    accessLog: f.accessLog ? (line) => io.stderr.write(`${line}\n`) : undefined,
  });
  io.stderr.write(`listening on ${srv.url}\n`);
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      void srv.close().then(resolve);
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
  return EXIT.OK;
}
