// kimg's command line. Thin: commander wiring only; each command's module is imported when
// that command runs, so `kimg --help` and a one-reference parse start quickly.

import { homedir } from "node:os";
import { Command, CommanderError, Option } from "commander";
import type { ErrorCode } from "../core.ts";
import { type CliIO, colorWanted, EXIT, exitCodeFor } from "./io.ts";

const VERSION = "0.1.0";

function processIO(): CliIO {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    // A getter: process.stdin makes its stream (a pipe's is a net.Socket) when first read,
    // about 4 ms of start-up that only commands reading stdin need.
    get stdin() {
      return process.stdin;
    },
    color: colorWanted(process.stdout),
  };
}

const PLAIN_LINE = /^[\x20-\x7e]*$/;

/**
 * An error message on one line with its control characters escaped: it may quote a registry,
 * a header or a helper (render/safe.ts). The escaper is loaded only when a message needs it.
 */
async function oneLine(message: string): Promise<string> {
  if (PLAIN_LINE.test(message)) return message;
  const { safe } = await import("./render/safe.ts");
  return safe(message);
}

/** Prints an error the way every command does: one line, no stack unless --debug. */
async function report(err: unknown, debug: boolean, io: CliIO): Promise<number> {
  if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT.OK : EXIT.UNREADABLE;
  // Checked by name, not instanceof: main.ts does not load the library until a command runs.
  const e = err as { name?: string; code?: ErrorCode; message?: string; stack?: string };
  if (e?.name === "KimgError") {
    io.stderr.write(`kimg: ${await oneLine(e.message ?? "")}\n`);
    if (debug) {
      // A helper's or plugin's output is never printed, but --debug asks for it (issue 18).
      const { withheldOf } = await import("../core.ts");
      for (const w of withheldOf(err)) {
        io.stderr.write(
          `kimg: warning: --debug shows what ${await oneLine(w.from)} printed; it may hold a secret\n${await oneLine(w.text)}\n`,
        );
      }
    }
    if (debug && e.stack) io.stderr.write(`${e.stack}\n`);
    return e.code === undefined ? EXIT.INTERNAL : exitCodeFor(e.code);
  }
  io.stderr.write(
    `kimg: internal error: ${await oneLine(e?.message ?? String(err))}${debug ? "" : " (run with --debug for details)"}\n`,
  );
  if (debug && e?.stack) io.stderr.write(`${e.stack}\n`);
  return EXIT.INTERNAL;
}

/** `--store DIR`, declared once for every command that reads or writes the store. */
function storeOption(): Option {
  return new Option(
    "--store <dir>",
    "store directory (default: $KIMG_STORE or the user's data dir)",
  );
}

export function buildProgram(io: CliIO, setExit: (code: number) => void): Command {
  const program = new Command("kimg")
    .description("Kubernetes' container-image handling: references, pull policy, pulls.")
    .version(VERSION)
    .option("--debug", "print stack traces with errors")
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
      // One style for every error line: `kimg: …`, commander's own included (issue 10 item 18).
      outputError: (s, write) => write(s.replace(/^error: /, "kimg: ")),
    });

  const debug = (): boolean => program.opts<{ debug?: boolean }>().debug === true;
  const run = (f: () => Promise<number>) => async () => {
    try {
      setExit(await f());
    } catch (err) {
      setExit(await report(err, debug(), io));
    }
  };

  program
    .command("parse")
    .description(
      "explain image references: anatomy, normalized and familiar forms, default pull policy",
    )
    .argument("[refs...]", "references; - reads one per line from standard input")
    .addOption(
      new Option("--mode <mode>", "which upstream parser reads the references")
        .choices(["normalized", "parse", "named", "docker", "any", "k8s"])
        .default("normalized"),
    )
    .option(
      "--digest-algorithms <list>",
      "digest algorithms to accept, comma-separated",
      "sha256,sha384,sha512",
    )
    .option("--json", "one JSON object per reference, one per line")
    .action((refs: string[], opts: { mode?: string; digestAlgorithms?: string; json?: boolean }) =>
      run(async () => {
        const { runParse } = await import("./commands/parse.ts");
        const inputs = refs.length > 0 ? refs : process.stdin.isTTY ? [] : ["-"];
        if (inputs.length === 0) {
          io.stderr.write(
            "kimg parse: give references as arguments, or - to read them from standard input\n",
          );
          return EXIT.UNREADABLE;
        }
        return runParse(inputs, opts, io);
      })(),
    );

  program
    .command("policy")
    .description(
      "imagePullPolicy for every container in Kubernetes manifests: defaulting, validation, admission, what the kubelet does",
    )
    .argument("[files...]", "YAML or JSON manifests; - reads standard input")
    .option("--always-pull-images", "apply the AlwaysPullImages admission plugin to Pods")
    .option("--json", "machine-readable output (same as -o json)")
    .addOption(
      new Option("-o, --output <format>", "output format")
        .choices(["text", "json", "yaml"])
        .default("text"),
    )
    .option(
      "--digest-algorithms <list>",
      "digest algorithms to accept, comma-separated",
      "sha256,sha384,sha512",
    )
    .action(
      (
        files: string[],
        opts: {
          alwaysPullImages?: boolean;
          json?: boolean;
          output?: "text" | "json" | "yaml";
          digestAlgorithms?: string;
        },
      ) =>
        run(async () => {
          const [{ runPolicy }, { parseDigestAlgorithms }] = await Promise.all([
            import("./commands/policy.ts"),
            import("./commands/parse.ts"),
          ]);
          const inputs = files.length > 0 ? files : process.stdin.isTTY ? [] : ["-"];
          if (inputs.length === 0) {
            io.stderr.write(
              "kimg: policy: give manifest files as arguments, or - to read standard input\n",
            );
            return EXIT.UNREADABLE;
          }
          return runPolicy(
            inputs,
            {
              alwaysPullImages: opts.alwaysPullImages === true,
              json: opts.json === true,
              output: opts.json === true ? "json" : (opts.output ?? "text"),
              digestAlgorithms: [...parseDigestAlgorithms(opts.digestAlgorithms)],
            },
            io,
          );
        })(),
    );

  const collect = (v: string, prev: string[]): string[] => [...prev, v];
  // The registry flags pull, digest and the other registry commands share.
  const insecureRegistryOption = () =>
    new Option(
      "--insecure-registry <host[:port]>",
      "plain HTTP and unverified TLS allowed for this registry, HTTPS tried first (repeatable)",
    )
      .argParser(collect)
      .default([] as string[]);
  const registriesConfOption = () =>
    new Option(
      "--registries-conf <file>",
      "containers registries.conf (default: $CONTAINERS_REGISTRIES_CONF, ~/.config/containers/registries.conf, /etc/containers/registries.conf)",
    );
  const pullSecretOption = () =>
    new Option(
      "--pull-secret <file>",
      "YAML/JSON file with kubernetes.io/dockerconfigjson or dockercfg Secrets (repeatable)",
    )
      .argParser(collect)
      .default([] as string[]);
  program
    .command("pull")
    .description("pull an image into the local store (only a HEAD when it is up to date)")
    .argument("<ref>", "image reference")
    .addOption(
      new Option(
        "--policy <policy>",
        "imagePullPolicy (default: Kubernetes' default for the ref)",
      ).choices(["Always", "IfNotPresent", "Never"]),
    )
    .option("--platform <os/arch[/variant]>", "platform to pull from a multi-platform image")
    .option("--jobs <n>", "blobs downloaded at once", "3")
    .addOption(storeOption())
    .addOption(insecureRegistryOption())
    .addOption(new Option("--creds <user:pass>", "credentials for the image's registry"))
    .addOption(registriesConfOption())
    .addOption(pullSecretOption())
    .addOption(
      new Option("--progress <mode>", "progress output")
        .choices(["auto", "plain", "json"])
        .default("auto"),
    )
    .option("--retries <n>", "tries after the first for a failing request (default 4)")
    .option(
      "--max-retry-wait <duration>",
      "longest wait before a retry; a registry asking for longer fails at once (default 60s)",
    )
    .option(
      "--stall-timeout <duration>",
      "a registry that sends less than 1 KiB in this long is stalled (default 30s)",
    )
    .option("--timeout <duration>", "give up on the whole pull after this long (default: none)")
    .action(
      (
        ref: string,
        opts: {
          policy?: "Always" | "IfNotPresent" | "Never";
          platform?: string;
          jobs: string;
          store?: string;
          insecureRegistry: string[];
          creds?: string;
          pullSecret: string[];
          registriesConf?: string;
          progress: "auto" | "plain" | "json";
          retries?: string;
          maxRetryWait?: string;
          stallTimeout?: string;
          timeout?: string;
        },
      ) =>
        run(async () => {
          const { runPull } = await import("./commands/pull.ts");
          const jobs = Number(opts.jobs);
          if (!Number.isSafeInteger(jobs) || jobs < 1) {
            io.stderr.write(`kimg: --jobs must be a positive integer, got ${opts.jobs}\n`);
            return EXIT.UNREADABLE;
          }
          return runPull(
            ref,
            {
              policy: opts.policy,
              platform: opts.platform,
              jobs,
              store: opts.store,
              insecureHosts: opts.insecureRegistry,
              creds: opts.creds,
              pullSecrets: opts.pullSecret,
              registriesConf: opts.registriesConf,
              progress: opts.progress,
              retries: opts.retries,
              maxRetryWait: opts.maxRetryWait,
              stallTimeout: opts.stallTimeout,
              timeout: opts.timeout,
              isTTY: (process.stdout as { isTTY?: boolean }).isTTY === true,
              env: process.env,
              homedir: homedir(),
            },
            io,
          );
        })(),
    );

  program
    .command("digest")
    .description("print the manifest digest of an image at its registry (one HEAD; no store)")
    .argument("<ref>", "image reference")
    .option(
      "--platform <os/arch[/variant]>",
      "for a multi-platform image: the digest of this platform's manifest, not the index's",
    )
    .option("--json", "one JSON object: reference, digest, media type, size, endpoint")
    .addOption(insecureRegistryOption())
    .addOption(new Option("--creds <user:pass>", "credentials for the image's registry"))
    .addOption(registriesConfOption())
    .addOption(pullSecretOption())
    .option("--retries <n>", "tries after the first for a failing request (default 4)")
    .action(
      (
        ref: string,
        opts: {
          platform?: string;
          json?: boolean;
          insecureRegistry: string[];
          creds?: string;
          pullSecret: string[];
          registriesConf?: string;
          retries?: string;
        },
      ) =>
        run(async () => {
          const { runDigest } = await import("./commands/digest.ts");
          return runDigest(
            ref,
            {
              platform: opts.platform,
              json: opts.json === true,
              insecureHosts: opts.insecureRegistry,
              creds: opts.creds,
              pullSecrets: opts.pullSecret,
              registriesConf: opts.registriesConf,
              retries: opts.retries,
              env: process.env,
              homedir: homedir(),
            },
            io,
          );
        })(),
    );

  program
    .command("images")
    .description("list the images in the local store")
    .argument("[ref]", "only images of this repository (and tag or digest, when given)")
    .option("-q, --quiet", "only the image IDs (manifest digests), one per image")
    .option("--json", "one JSON array of image records")
    .addOption(storeOption())
    .action((ref: string | undefined, opts: { json?: boolean; quiet?: boolean; store?: string }) =>
      run(async () => {
        const { runImages } = await import("./commands/pull.ts");
        return runImages(
          {
            json: opts.json === true,
            quiet: opts.quiet === true,
            filter: ref,
            store: opts.store,
            env: process.env,
            homedir: homedir(),
          },
          io,
        );
      })(),
    );

  program
    .command("rmi")
    .description(
      "remove images from the local store, and the blobs they used that nothing else needs",
    )
    .argument("<ref...>", "image references, or unambiguous prefixes of image IDs (digests)")
    .addOption(storeOption())
    .action((refs: string[], opts: { store?: string }) =>
      run(async () => {
        const { runRmi } = await import("./commands/pull.ts");
        return runRmi(
          refs,
          {
            store: opts.store,
            env: process.env,
            homedir: homedir(),
          },
          io,
        );
      })(),
    );

  program
    .command("verify")
    .description(
      "check the store: re-hash blobs, check every image's references and the store's files (no network)",
    )
    .argument("[ref...]", "only these images (default: every image and every blob)")
    .option("--repair", "delete corrupt blobs (pull again to refetch) and rebuild damaged metadata")
    .option("--json", "one JSON object: the report")
    .addOption(storeOption())
    .action((refs: string[], opts: { repair?: boolean; json?: boolean; store?: string }) =>
      run(async () => {
        const { runVerify } = await import("./commands/verify.ts");
        return runVerify(
          {
            refs,
            repair: opts.repair === true,
            json: opts.json === true,
            store: opts.store,
            env: process.env,
            homedir: homedir(),
          },
          io,
        );
      })(),
    );

  program
    .command("export")
    .description(
      "write a stored image as an OCI layout, an OCI archive or a Docker archive (for skopeo, podman, docker, ctr)",
    )
    .argument("<ref>", "image reference, or a manifest or index digest (or a prefix of one)")
    .requiredOption(
      "--format <format>",
      "oci-layout (a directory), oci-archive or docker-archive (a tar file)",
    )
    .requiredOption("-o, --output <path>", "the directory (oci-layout) or file to write")
    .option("--platform <os/arch[/variant]>", "which stored platform (default: the last pulled)")
    .option("--json", "one JSON object: what was written")
    .addOption(storeOption())
    .action(
      (
        ref: string,
        opts: { format: string; output: string; platform?: string; json?: boolean; store?: string },
      ) =>
        run(async () => {
          const formats = ["oci-layout", "oci-archive", "docker-archive"] as const;
          const format = formats.find((x) => x === opts.format);
          if (format === undefined) {
            io.stderr.write(
              `kimg: --format: ${JSON.stringify(opts.format)} is not one of ${formats.join(", ")}\n`,
            );
            return EXIT.UNREADABLE;
          }
          const { runExport } = await import("./commands/export.ts");
          return runExport(
            ref,
            {
              format,
              output: opts.output,
              platform: opts.platform,
              json: opts.json === true,
              store: opts.store,
              env: process.env,
              homedir: homedir(),
            },
            io,
          );
        })(),
    );

  // The shared flags of the registry reads (manifest, config, ls, catalog, referrers,
  // inspect --remote), and their mapping onto RegistryFlags.
  interface RegistryOpts {
    platform?: string;
    json?: boolean;
    insecureRegistry: string[];
    creds?: string;
    pullSecret: string[];
    registriesConf?: string;
    retries?: string;
  }
  const withRegistryOptions = (c: Command): Command =>
    c
      .addOption(insecureRegistryOption())
      .addOption(new Option("--creds <user:pass>", "credentials for the registry"))
      .addOption(registriesConfOption())
      .addOption(pullSecretOption())
      .option("--retries <n>", "tries after the first for a failing request (default 4)");
  const registryFlags = (o: RegistryOpts) => ({
    platform: o.platform,
    json: o.json === true,
    insecureHosts: o.insecureRegistry,
    creds: o.creds,
    pullSecrets: o.pullSecret,
    registriesConf: o.registriesConf,
    retries: o.retries,
    env: process.env,
    homedir: homedir(),
  });
  const platformOption = () =>
    new Option(
      "--platform <os/arch[/variant]>",
      "for a multi-platform image: this platform's manifest (default: this host's)",
    );

  type CopyOpts = RegistryOpts & {
    store?: string;
    allPlatforms?: boolean;
    jobs?: string;
    chunkSize?: string;
    quiet?: boolean;
    progress?: string;
  };
  const copyCommand = (name: string, description: string, srcHelp: string) =>
    withRegistryOptions(
      program
        .command(name)
        .description(description)
        .argument("<src>", srcHelp)
        .argument("<dst>", "destination: a registry reference (host/repo:tag)")
        .option("--all-platforms", "copy a multi-platform index whole, byte for byte (digest kept)")
        .addOption(platformOption())
        .option("--jobs <n>", "blobs copied at once (default 4)")
        .option(
          "--chunk-size <bytes>",
          "upload blobs larger than this in resumable chunks (e.g. 16Mi)",
        )
        .option("-q, --quiet", "no line per blob")
        .addOption(
          new Option("--progress <mode>", "a line per blob, or one JSON event per line").choices([
            "plain",
            "json",
          ]),
        )
        .option(
          "--json",
          "one JSON object: destination, digest, blobs pushed, existing and mounted",
        )
        .addOption(storeOption()),
    ).action((src: string, dst: string, opts: CopyOpts) =>
      run(async () => {
        const { runCopy } = await import("./commands/push.ts");
        return runCopy(
          src,
          dst,
          {
            ...registryFlags(opts),
            store: opts.store,
            allPlatforms: opts.allPlatforms === true,
            jobs: opts.jobs,
            chunkSize: opts.chunkSize,
            quiet: opts.quiet === true,
            progress: opts.progress,
          },
          io,
          name === "push" ? "store" : "registry",
        );
      })(),
    );
  copyCommand(
    "push",
    "push an image from the store or an OCI layout to a registry",
    "an image in the store (NAME, store:NAME) or an OCI layout (oci:DIR[:TAG])",
  );
  copyCommand(
    "copy",
    "copy an image between registries (streamed), from the store or a layout, or into the store",
    "a registry reference (REF, docker://REF), store:NAME or oci:DIR[:TAG]; dst store: pulls",
  );

  withRegistryOptions(
    program
      .command("tag")
      .description("tag an image at its registry (the manifest PUT under a new tag; no blob moves)")
      .argument("<ref>", "image reference")
      .argument("<tag>", "the new tag, in the same repository")
      .option("--json", "one JSON object: the new reference and its digest"),
  ).action((ref: string, tag: string, opts: RegistryOpts) =>
    run(async () => {
      const { runTag } = await import("./commands/push.ts");
      return runTag(ref, tag, registryFlags(opts), io);
    })(),
  );

  withRegistryOptions(
    program
      .command("delete")
      .description("delete a manifest at its registry (by digest; a tag is resolved first)")
      .argument("<ref>", "image reference (every tag naming the same digest goes too)")
      .option("--json", "one JSON object: the reference and the digest deleted"),
  ).action((ref: string, opts: RegistryOpts) =>
    run(async () => {
      const { runDelete } = await import("./commands/push.ts");
      return runDelete(ref, registryFlags(opts), io);
    })(),
  );

  type LoginOpts = {
    username?: string;
    password?: string;
    passwordStdin?: boolean;
    authfile?: string;
    insecureRegistry: string[];
    json?: boolean;
  };
  const loginFlags = (o: LoginOpts) => ({
    json: o.json === true,
    username: o.username,
    password: o.password,
    passwordStdin: o.passwordStdin === true,
    authfile: o.authfile,
    insecureHosts: o.insecureRegistry,
    env: process.env,
    homedir: homedir(),
  });
  program
    .command("login")
    .description("log in to a registry: check the credentials, then save them (docker config.json)")
    .argument("<host>", "registry host[:port]")
    .option("-u, --username <user>", "user name (prompted for on a terminal)")
    .option("--password-stdin", "read the password from standard input")
    .option("-p, --password <password>", "the password (insecure: visible to other users; warns)")
    .option("--authfile <file>", "write containers' auth.json here instead of Docker's config.json")
    .option("--json", "one JSON object: the host and where the credentials were saved")
    .addOption(insecureRegistryOption())
    .action((host: string, opts: LoginOpts) =>
      run(async () => {
        const { runLogin } = await import("./commands/login.ts");
        return runLogin(host, loginFlags(opts), io);
      })(),
    );
  program
    .command("logout")
    .description("forget the saved login for a registry")
    .argument("<host>", "registry host[:port]")
    .option("--authfile <file>", "containers' auth.json instead of Docker's config.json")
    .option("--json", "one JSON object: the host and whether a login was removed")
    .action((host: string, opts: LoginOpts) =>
      run(async () => {
        const { runLogout } = await import("./commands/login.ts");
        return runLogout(host, loginFlags({ ...opts, insecureRegistry: [] }), io);
      })(),
    );

  program
    .command("serve")
    .description(
      "serve the store as a read-only OCI registry (pull API) for containerd, podman, skopeo",
    )
    .option(
      "--listen <host:port>",
      "where to listen (default 127.0.0.1:5000; another host must be named)",
    )
    .option("--tls-cert <file>", "serve HTTPS with this certificate (PEM)")
    .option("--tls-key <file>", "the certificate's key (PEM)")
    .option("--max-connections <n>", "open connections at most (default 1024)")
    .option("--access-log", "one line per request on standard error (common log format)")
    .addOption(storeOption())
    .action(
      (opts: {
        listen?: string;
        tlsCert?: string;
        tlsKey?: string;
        maxConnections?: string;
        accessLog?: boolean;
        store?: string;
      }) =>
        run(async () => {
          const { runServe } = await import("./commands/serve.ts");
          return runServe(
            {
              store: opts.store,
              listen: opts.listen,
              tlsCert: opts.tlsCert,
              tlsKey: opts.tlsKey,
              maxConnections: opts.maxConnections,
              accessLog: opts.accessLog === true,
              env: process.env,
              homedir: homedir(),
            },
            io,
          );
        })(),
    );

  withRegistryOptions(
    program
      .command("pin")
      .description(
        "pin every container image in Kubernetes manifests to its digest (name:tag@sha256:…)",
      )
      .argument(
        "<inputs...>",
        "manifest files, directories (their .yaml/.yml/.json files), or - for stdin",
      )
      .option("-w, --write", "replace each file in place (atomically), not print")
      .option("--diff", "print a unified diff of each changed file")
      .option("--check", "write nothing; exit 1 when an image is not pinned or its tag moved (CI)")
      .option("--update", "re-pin images whose tag now names another digest")
      .option(
        "--platform <os/arch[/variant]>",
        "check that multi-platform images offer this platform (one GET of the index each)",
      )
      .option("--jobs <n>", "images resolved at once (default 16)")
      .option("--fail-fast", "stop at the first image that cannot be resolved")
      .option("--json", "one JSON object: each container, its digest, status and policy change"),
  ).action(
    (
      inputs: string[],
      opts: RegistryOpts & {
        write?: boolean;
        diff?: boolean;
        check?: boolean;
        update?: boolean;
        jobs?: string;
        failFast?: boolean;
      },
    ) =>
      run(async () => {
        const { runPin } = await import("./commands/pin.ts");
        return runPin(
          inputs,
          {
            ...registryFlags(opts),
            write: opts.write === true,
            diff: opts.diff === true,
            check: opts.check === true,
            update: opts.update === true,
            failFast: opts.failFast === true,
            jobs: opts.jobs,
          },
          io,
        );
      })(),
  );

  withRegistryOptions(
    program
      .command("manifest")
      .description("print an image's manifest or index from its registry (no store)")
      .argument("<ref>", "image reference")
      .option("--raw", "the bytes exactly as the registry holds them (as crane manifest prints)")
      .addOption(
        new Option(
          "--platform <os/arch[/variant]>",
          "for a multi-platform image: that platform's manifest, not the index",
        ),
      )
      .option("--json", "one JSON object: reference, digest, media type, size and the document"),
  ).action((ref: string, opts: RegistryOpts & { raw?: boolean }) =>
    run(async () => {
      const { runManifest } = await import("./commands/remote.ts");
      return runManifest(ref, { ...registryFlags(opts), raw: opts.raw === true }, io);
    })(),
  );

  withRegistryOptions(
    program
      .command("config")
      .description("print one platform's image config from its registry, raw (no store)")
      .argument("<ref>", "image reference")
      .addOption(platformOption())
      .option("--json", "one JSON object: reference, manifest and config digests, the config"),
  ).action((ref: string, opts: RegistryOpts) =>
    run(async () => {
      const { runConfig } = await import("./commands/remote.ts");
      return runConfig(ref, registryFlags(opts), io);
    })(),
  );

  withRegistryOptions(
    program
      .command("ls")
      .description("list a repository's tags at its registry, every page")
      .argument("<repository>", "repository (a tag or digest in it is ignored)")
      .option("--full-ref", "print repository:tag, not the tag alone")
      .option("--omit-digest-tags", "leave out sha256-… tags (signatures, attestations)")
      .option("--page-size <n>", "tags asked for per page (?n=)")
      .option("--json", "one JSON object: repository and tags"),
  ).action(
    (
      repo: string,
      opts: RegistryOpts & { fullRef?: boolean; omitDigestTags?: boolean; pageSize?: string },
    ) =>
      run(async () => {
        const { runLs } = await import("./commands/remote.ts");
        return runLs(
          repo,
          {
            ...registryFlags(opts),
            fullRef: opts.fullRef === true,
            omitDigestTags: opts.omitDigestTags === true,
            pageSize: opts.pageSize,
          },
          io,
        );
      })(),
  );

  withRegistryOptions(
    program
      .command("catalog")
      .description("list a registry's repositories (GET /v2/_catalog), every page")
      .argument("<host>", "registry host[:port]")
      .option("--page-size <n>", "repositories asked for per page (?n=)")
      .option("--json", "one JSON object: host and repositories"),
  ).action((host: string, opts: RegistryOpts & { pageSize?: string }) =>
    run(async () => {
      const { runCatalog } = await import("./commands/remote.ts");
      return runCatalog(host, { ...registryFlags(opts), pageSize: opts.pageSize }, io);
    })(),
  );

  withRegistryOptions(
    program
      .command("referrers")
      .description("list what refers to an image (OCI 1.1 referrers API, or the tag schema)")
      .argument("<ref>", "image reference (a tag is resolved to its digest first)")
      .option("--artifact-type <type>", "only referrers of this artifactType")
      .option("--json", "one JSON object: subject, how they were found, the referrers index"),
  ).action((ref: string, opts: RegistryOpts & { artifactType?: string }) =>
    run(async () => {
      const { runReferrers } = await import("./commands/remote.ts");
      return runReferrers(ref, { ...registryFlags(opts), artifactType: opts.artifactType }, io);
    })(),
  );

  withRegistryOptions(
    program
      .command("inspect")
      .description("show what the local store knows about an image, or with --remote its registry")
      .argument("<ref>", "image reference, or a manifest or index digest (or a prefix of one)")
      .option("--json", "one JSON object, the raw manifest and config included")
      .option("--remote", "ask the image's registry, not the store (skopeo inspect docker://)")
      .option("--tags", "with --remote: also list the repository's tags")
      .addOption(platformOption())
      .addOption(storeOption()),
  ).action(
    (ref: string, opts: RegistryOpts & { store?: string; remote?: boolean; tags?: boolean }) =>
      run(async () => {
        if (opts.remote === true) {
          const { runInspectRemote } = await import("./commands/remote.ts");
          return runInspectRemote(ref, { ...registryFlags(opts), tags: opts.tags === true }, io);
        }
        if (opts.tags === true || opts.platform !== undefined) {
          io.stderr.write("kimg: --tags and --platform go with --remote\n");
          return EXIT.UNREADABLE;
        }
        const { runInspect } = await import("./commands/inspect.ts");
        return runInspect(
          ref,
          {
            json: opts.json === true,
            store: opts.store,
            env: process.env,
            homedir: homedir(),
          },
          io,
        );
      })(),
  );

  program
    .command("prune")
    .description("delete blobs no image uses (older than an hour) and abandoned partial downloads")
    .option("--dry-run", "say what would be deleted, delete nothing")
    .option("--json", "one JSON object: what was deleted and the bytes reclaimed")
    .addOption(storeOption())
    .action((opts: { dryRun?: boolean; json?: boolean; store?: string }) =>
      run(async () => {
        const { runPrune } = await import("./commands/prune.ts");
        return runPrune(
          {
            dryRun: opts.dryRun === true,
            json: opts.json === true,
            store: opts.store,
            env: process.env,
            homedir: homedir(),
          },
          io,
        );
      })(),
    );

  program
    .command("run")
    .description(
      "run pods' image pulls as a node's kubelet would: events, waiting reasons, back-off, pull secrets",
    )
    .argument(
      "<files...>",
      "YAML/JSON manifests: Pods, workloads, Secrets, ServiceAccounts (- for stdin)",
    )
    .option(
      "--node-config <file>",
      "KubeletConfiguration (kubelet.config.k8s.io/v1beta1): pull and verification settings",
    )
    .addOption(storeOption())
    .option("--always-pull-images", "the AlwaysPullImages admission plugin is enabled")
    .option("--timeout <duration>", "give up on pods not ready after this long (3s, 90s, 5m)", "5m")
    .addOption(
      new Option("--output <format>", "describe-style tables, or JSON lines of events")
        .choices(["table", "json"])
        .default("table"),
    )
    .option("-n, --namespace <ns>", "namespace of objects without one", "default")
    .option("--platform <os/arch[/variant]>", "platform to pull from multi-platform images")
    .addOption(insecureRegistryOption())
    .option("--registries-conf <file>", "containers registries.conf (default as for kimg pull)")
    .option(
      "--root-dir <dir>",
      "the kubelet's root dir, searched first for config.json (default: the store)",
    )
    .option(
      "--image-credential-provider-config <file>",
      "CredentialProviderConfig (kubelet.config.k8s.io/v1) of exec credential plugins",
    )
    .option("--image-credential-provider-bin-dir <dir>", "where the credential plugins are")
    .action(
      (
        files: string[],
        opts: {
          nodeConfig?: string;
          store?: string;
          alwaysPullImages?: boolean;
          timeout: string;
          output: "table" | "json";
          namespace: string;
          platform?: string;
          insecureRegistry: string[];
          registriesConf?: string;
          rootDir?: string;
          imageCredentialProviderConfig?: string;
          imageCredentialProviderBinDir?: string;
        },
      ) =>
        run(async () => {
          const { runRun } = await import("./commands/run.ts");
          return runRun(
            {
              files,
              store: opts.store,
              nodeConfig: opts.nodeConfig,
              alwaysPullImages: opts.alwaysPullImages === true,
              timeout: opts.timeout,
              output: opts.output,
              namespace: opts.namespace,
              platform: opts.platform,
              insecureHosts: opts.insecureRegistry,
              registriesConf: opts.registriesConf,
              rootDir: opts.rootDir,
              ...(opts.imageCredentialProviderConfig !== undefined
                ? { credentialProviderConfig: opts.imageCredentialProviderConfig }
                : {}),
              ...(opts.imageCredentialProviderBinDir !== undefined
                ? { credentialProviderBinDir: opts.imageCredentialProviderBinDir }
                : {}),
              env: process.env,
            },
            io,
          );
        })(),
    );

  program
    .command("gc")
    .description(
      "the kubelet's image garbage collection: remove unused images by age and down to the low threshold",
    )
    .option("--high <percent>", "imageGCHighThresholdPercent: usage that triggers GC (default 85)")
    .option("--low <percent>", "imageGCLowThresholdPercent: usage GC frees down to (default 80)")
    .option(
      "--min-age <duration>",
      "imageMinimumGCAge: keep images first detected more recently (default 2m)",
    )
    .option(
      "--max-age <duration>",
      "imageMaximumGCAge: remove images unused this long (default 0s: off)",
    )
    .option(
      "--node-config <file>",
      "KubeletConfiguration (kubelet.config.k8s.io/v1beta1) whose imageGC* settings apply; flags override them",
    )
    .option(
      "--capacity <size>",
      "image filesystem capacity (10Gi, 500Mi, 2G, 1.5GB); default: the store's filesystem",
    )
    .option("--pinned <refs...>", "images never removed (like the runtime's pinned images)")
    .option("--all-unused", "delete every unused image older than --min-age (DeleteUnusedImages)")
    .option("--dry-run", "say what would be removed, remove nothing")
    .option("--json", "one JSON object: the GC report")
    .addOption(storeOption())
    .action(
      (opts: {
        high?: string;
        low?: string;
        minAge?: string;
        maxAge?: string;
        nodeConfig?: string;
        capacity?: string;
        pinned?: string[];
        allUnused?: boolean;
        dryRun?: boolean;
        json?: boolean;
        store?: string;
      }) =>
        run(async () => {
          const { runGc } = await import("./commands/gc.ts");
          return runGc(
            {
              high: opts.high,
              low: opts.low,
              minAge: opts.minAge,
              maxAge: opts.maxAge,
              nodeConfig: opts.nodeConfig,
              capacity: opts.capacity,
              pinned: opts.pinned ?? [],
              allUnused: opts.allUnused === true,
              dryRun: opts.dryRun === true,
              json: opts.json === true,
              store: opts.store,
              env: process.env,
              homedir: homedir(),
            },
            io,
          );
        })(),
    );

  program
    .command("unpack")
    .description(
      "unpack an image's layers into a root filesystem directory, atomically (pulls it first when absent)",
    )
    .argument("<ref>", "image reference (or a stored manifest digest)")
    .argument("<dir>", "target directory: must not exist or be empty, unless --force")
    .option("--platform <os/arch[/variant]>", "platform to pull and unpack")
    .addOption(storeOption())
    .option("--force", "replace DIR when it exists and is not empty")
    .option(
      "--max-size <size>",
      "refuse layers whose files hold more than this (default 64Gi, and no layer expanding over 100 times its compressed size)",
    )
    .option("--max-files <n>", "refuse layers with more tar entries than this (default 1000000)")
    .option("--allow-devices", "create device nodes (as root; never world-writable)")
    .option("--keep-setuid", "keep setuid/setgid bits on files (dropped by default, with a note)")
    .option(
      "--keep-privileged-xattrs",
      "apply trusted.* and security.* xattrs (as root; skipped by default, with a note)",
    )
    .option(
      "--insecure-registry <host[:port]>",
      "as for kimg pull, when the image has to be pulled (repeatable)",
      collect,
      [] as string[],
    )
    .option("--creds <user:pass>", "credentials for the image's registry (for the pull)")
    .option(
      "--pull-secret <file>",
      "YAML/JSON file with kubernetes.io/dockerconfigjson or dockercfg Secrets (repeatable; for the pull)",
      collect,
      [] as string[],
    )
    .option("--registries-conf <file>", "containers registries.conf for the pull (as kimg pull)")
    .option("--json", "one JSON object: the unpack report")
    .action(
      (
        ref: string,
        dir: string,
        opts: {
          platform?: string;
          store?: string;
          force?: boolean;
          maxSize?: string;
          maxFiles?: string;
          allowDevices?: boolean;
          keepSetuid?: boolean;
          keepPrivilegedXattrs?: boolean;
          insecureRegistry: string[];
          creds?: string;
          pullSecret: string[];
          registriesConf?: string;
          json?: boolean;
        },
      ) =>
        run(async () => {
          const { runUnpack } = await import("./commands/unpack.ts");
          // SIGINT/SIGTERM: stop, delete the temp directory, leave no DIR behind.
          const ac = new AbortController();
          const stop = (): void => ac.abort(new Error("interrupted"));
          process.once("SIGINT", stop);
          process.once("SIGTERM", stop);
          try {
            return await runUnpack(
              ref,
              dir,
              {
                platform: opts.platform,
                store: opts.store,
                force: opts.force === true,
                maxSize: opts.maxSize,
                maxFiles: opts.maxFiles,
                allowDevices: opts.allowDevices === true,
                keepSetuid: opts.keepSetuid === true,
                keepPrivilegedXattrs: opts.keepPrivilegedXattrs === true,
                json: opts.json === true,
                insecureHosts: opts.insecureRegistry,
                creds: opts.creds,
                pullSecrets: opts.pullSecret,
                ...(opts.registriesConf !== undefined
                  ? { registriesConf: opts.registriesConf }
                  : {}),
                isTTY: (process.stdout as { isTTY?: boolean }).isTTY === true,
                env: process.env,
                homedir: homedir(),
                signal: ac.signal,
              },
              io,
            );
          } finally {
            process.removeListener("SIGINT", stop);
            process.removeListener("SIGTERM", stop);
          }
        })(),
    );

  program
    .command("ui")
    .description(
      "the web UI: references, pull policy, manifests, the store's images and live pulls (loopback only)",
    )
    .option("--port <n>", "port to listen on (0: any free port)", "7861")
    .option("--host <addr>", "address to listen on (default 127.0.0.1; others only when given)")
    .addOption(storeOption())
    .option("--open", "open the page in the desktop's browser")
    .addOption(insecureRegistryOption())
    .option("--registries-conf <file>", "containers registries.conf (default as for kimg pull)")
    .action(
      (opts: {
        port: string;
        host?: string;
        store?: string;
        open?: boolean;
        insecureRegistry: string[];
        registriesConf?: string;
      }) =>
        run(async () => {
          const { runUi } = await import("./commands/ui.ts");
          const port = Number(opts.port);
          if (!Number.isSafeInteger(port) || port < 0 || port > 65535) {
            io.stderr.write(`kimg: --port must be 0…65535, got ${opts.port}\n`);
            return EXIT.UNREADABLE;
          }
          return runUi(
            {
              port,
              host: opts.host,
              store: opts.store,
              open: opts.open === true,
              insecureHosts: opts.insecureRegistry,
              registriesConf: opts.registriesConf,
              env: process.env,
              homedir: homedir(),
            },
            io,
          );
        })(),
    );

  return program;
}

export async function main(argv: readonly string[], io: CliIO = processIO()): Promise<number> {
  let code: number = EXIT.OK;
  const program = buildProgram(io, (c) => {
    code = c;
  });
  try {
    await program.parseAsync([...argv], { from: "user" });
  } catch (err) {
    code = await report(err, argv.includes("--debug"), io);
  }
  return code;
}
