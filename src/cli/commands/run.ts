// kimg run FILE…: the image side of a node running the pods of some manifests. Thin: the library
// does the work (podsFromObjects, ImageManager, runPods); this reads the files and the node's
// configuration, and prints per pod what `kubectl describe pod` would show: the containers'
// image states and an Events table (or the events as JSON lines while they happen).

import { readFile } from "node:fs/promises";
import { homedir } from "node:os";
import {
  type CredentialProvider,
  checkPullSecret,
  credentialProviderPlugins,
  defaultKubeletConfiguration,
  defaultStoreDir,
  errnoText,
  FsBlobStore,
  ImageManager,
  isKimgError,
  KimgError,
  type KubeletConfiguration,
  kubeletConfigurationFromText,
  loadCredentialProviderConfig,
  loadKubeletConfigurationFile,
  loadManifests,
  loadRegistriesConf,
  type ManifestObject,
  nodeDockerConfigSource,
  type PodImageStatus,
  parseGoDuration,
  podsFromObjects,
  type RecordedEvent,
  runPods,
  type SecretObject,
} from "../../index.ts";
import { type CliIO, EXIT } from "../io.ts";
import { safe, toJson } from "../render/safe.ts";

export interface RunFlags {
  readonly files: readonly string[];
  readonly store?: string | undefined;
  readonly nodeConfig?: string | undefined;
  readonly alwaysPullImages: boolean;
  readonly timeout: string;
  readonly output: "table" | "json";
  readonly namespace?: string | undefined;
  readonly platform?: string | undefined;
  readonly insecureHosts: readonly string[];
  readonly registriesConf?: string | undefined;
  /** The kubelet's --root-dir: where node config.json is looked for first. */
  readonly rootDir?: string | undefined;
  readonly credentialProviderConfig?: string | undefined;
  readonly credentialProviderBinDir?: string | undefined;
  readonly env: Readonly<Record<string, string | undefined>>;
}

async function readText(path: string, io: CliIO): Promise<string> {
  if (path === "-") {
    const chunks: Buffer[] = [];
    for await (const c of io.stdin as AsyncIterable<Buffer>) chunks.push(c);
    return Buffer.concat(chunks).toString("utf8");
  }
  try {
    return await readFile(path, "utf8");
  } catch (e) {
    throw new KimgError("INPUT_UNREADABLE", `${path}: cannot read: ${errnoText(e)}`);
  }
}

async function objectsOf(path: string, io: CliIO): Promise<ManifestObject[]> {
  const source = path === "-" ? "<stdin>" : path;
  const file = loadManifests(await readText(path, io), source);
  return file.documents.map((d) => ({ value: d.document.toJS(), where: `${source}:${d.line}` }));
}

/** The node's KubeletConfiguration: the file's (`-` = standard input), else the defaults. */
export async function loadNodeConfig(
  path: string | undefined,
  io: CliIO,
): Promise<KubeletConfiguration> {
  if (path === undefined) return defaultKubeletConfiguration();
  const { config, warnings } =
    path === "-"
      ? kubeletConfigurationFromText(await readText(path, io), "<stdin>")
      : await loadKubeletConfigurationFile(path);
  printConfigWarnings(path === "-" ? "<stdin>" : path, warnings, io);
  return config;
}

/** The kubelet only logs these (unknown fields, gates kimg ignores): one line each. */
export function printConfigWarnings(path: string, warnings: readonly string[], io: CliIO): void {
  for (const w of warnings) io.stderr.write(`kimg: ${path}: warning: ${w}\n`);
}

/** kubectl's HumanDuration (k8s.io/apimachinery pkg/util/duration). */
export function humanDuration(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 0) return "<invalid>";
  if (s < 60 * 2) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 10) return s % 60 === 0 ? `${m}m` : `${m}m${s % 60}s`;
  if (m < 60 * 3) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 8) return m % 60 === 0 ? `${h}h` : `${h}h${m % 60}m`;
  if (h < 48) return `${h}h`;
  return `${Math.floor(h / 24)}d`;
}

interface Aggregated {
  readonly e: RecordedEvent;
  first: number;
  last: number;
  count: number;
}

/** Events as kubectl describe lists them: identical ones folded into one row with a count. */
export function eventRows(events: readonly RecordedEvent[], now: number): string[][] {
  const byKey = new Map<string, Aggregated>();
  for (const e of events) {
    const key = `${e.type}\u0000${e.reason}\u0000${e.message}\u0000${e.fieldPath ?? ""}`;
    const a = byKey.get(key);
    if (a === undefined) byKey.set(key, { e, first: e.time, last: e.time, count: 1 });
    else {
      a.last = e.time;
      a.count++;
    }
  }
  const rows = [...byKey.values()].sort((x, y) => x.last - y.last || x.first - y.first);
  return rows.map((a) => [
    a.e.type,
    a.e.reason,
    a.count > 1
      ? `${humanDuration(now - a.last)} (x${a.count} over ${humanDuration(now - a.first)})`
      : humanDuration(now - a.first),
    "kubelet",
    a.e.message,
  ]);
}

function table(unsafeRows: readonly string[][], indent: string): string {
  const rows = unsafeRows.map((r) => r.map(safe));
  const widths = rows[0]?.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? "").length))) ?? [];
  return rows
    .map(
      (r) =>
        indent +
        r
          .map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd((widths[c] ?? 0) + 2)))
          .join(""),
    )
    .join("\n");
}

/** One pod, `kubectl describe pod` style (the image-related parts). */
export function describePod(
  s: PodImageStatus,
  events: readonly RecordedEvent[],
  now: number,
): string {
  const p = s.pod;
  const lines = [
    `Name:               ${p.name}`,
    `Namespace:          ${p.namespace}`,
    `From:               ${p.origin}`,
    `Service Account:    ${p.serviceAccountName}`,
  ];
  if (p.imagePullSecrets.length > 0) {
    lines.push(
      `Image Pull Secrets: ${p.imagePullSecrets.join(", ")}${p.secretsFromServiceAccount ? " (from the ServiceAccount)" : ""}`,
    );
  }
  for (const c of p.admissionChanges) lines.push(`Admission:          ${c}`);
  for (const [title, init] of [
    ["Init Containers:", true],
    ["Containers:", false],
  ] as const) {
    const cs = s.containers.filter((c) => c.init === init);
    if (cs.length === 0) continue;
    lines.push(title);
    for (const c of cs) {
      lines.push(`  ${c.name}:`, `    Image:          ${safe(c.image)}`);
      if (c.imageRef !== undefined) {
        lines.push(`    Image ID:       ${c.imageRef}`, "    State:          image ready");
      } else if (c.waiting !== undefined) {
        lines.push("    State:          Waiting", `      Reason:       ${c.waiting.reason}`);
        if (c.waiting.message !== undefined)
          lines.push(`      Message:      ${safe(c.waiting.message)}`);
      }
    }
  }
  const mine = events.filter((e) => e.podUID === p.uid);
  if (mine.length === 0) lines.push("Events:             <none>");
  else {
    lines.push("Events:");
    lines.push(
      table(
        [
          ["Type", "Reason", "Age", "From", "Message"],
          ["----", "------", "----", "----", "-------"],
          ...eventRows(mine, now),
        ],
        "  ",
      ),
    );
  }
  return lines.join("\n");
}

export async function runRun(f: RunFlags, io: CliIO): Promise<number> {
  let timeoutMs: number;
  try {
    timeoutMs = parseGoDuration(f.timeout);
  } catch (e) {
    throw new KimgError("INPUT_INVALID", `--timeout: ${(e as Error).message}`);
  }
  if (timeoutMs < 0)
    throw new KimgError("INPUT_INVALID", `--timeout: must not be negative, got ${f.timeout}`);
  const config = await loadNodeConfig(f.nodeConfig, io);
  const objects: ManifestObject[] = [];
  for (const file of f.files) objects.push(...(await objectsOf(file, io)));
  const input = podsFromObjects(objects, {
    alwaysPullImages: f.alwaysPullImages,
    namespace: f.namespace,
  });
  // A malformed pull secret is refused before anything runs, located (issue 18); the kubelet
  // would fail each pull that uses it with the same text, unlocated.
  for (const sec of input.secrets) {
    try {
      checkPullSecret(sec.object as SecretObject);
    } catch (e) {
      if (!isKimgError(e)) throw e;
      throw new KimgError(
        "CREDENTIALS_INVALID",
        `${sec.where !== undefined ? `${sec.where}: ` : ""}${e.message}`,
        { cause: e },
      );
    }
  }
  for (const r of input.rejected) io.stderr.write(`kimg: ${safe(r.message)}\n`);
  if (input.pods.length === 0) {
    if (input.rejected.length > 0) return EXIT.INVALID;
    throw new KimgError("INPUT_INVALID", `no pods or workloads in ${f.files.join(", ")}`);
  }

  const home = homedir();
  const store = await FsBlobStore.open(f.store ?? defaultStoreDir(f.env, home));
  const nodeCredentials: CredentialProvider[] = [
    nodeDockerConfigSource({
      rootDir: f.rootDir ?? store.root,
      home: f.env.HOME ?? home,
      onError: (e) => io.stderr.write(`kimg: warning: ${safe(e.message)}\n`),
    }),
  ];
  if (f.credentialProviderConfig !== undefined) {
    if (f.credentialProviderBinDir === undefined) {
      throw new KimgError(
        "INPUT_INVALID",
        "--image-credential-provider-config needs --image-credential-provider-bin-dir",
      );
    }
    const cpPath = f.credentialProviderConfig;
    const objs = await objectsOf(cpPath, io);
    if (objs.length !== 1) {
      throw new KimgError(
        "INPUT_INVALID",
        `${cpPath}: expected one CredentialProviderConfig document, found ${objs.length}`,
      );
    }
    let pluginConfig: ReturnType<typeof loadCredentialProviderConfig>;
    try {
      pluginConfig = loadCredentialProviderConfig(objs[0]?.value);
    } catch (e) {
      // Say which file, as for --node-config.
      if (e instanceof KimgError) throw new KimgError("INPUT_INVALID", `${cpPath}: ${e.message}`);
      throw e;
    }
    nodeCredentials.push(
      await credentialProviderPlugins(pluginConfig, {
        binDir: f.credentialProviderBinDir,
        onError: (e, provider) =>
          io.stderr.write(`kimg: credential provider ${provider}: ${safe(e.message)}\n`),
      }),
    );
  }
  const registriesConf = await loadRegistriesConf({
    path: f.registriesConf,
    env: f.env,
    home,
  });

  // A pull in flight when --timeout runs out is cancelled, so the run ends on time (the pull
  // engine's own retries of a dead registry would otherwise take ~15 s more); the kubelet's
  // equivalent is the CRI call's deadline (`context deadline exceeded`). Node timers hold at
  // most 2^31-1 ms (~24.8 days): a longer timeout leaves pulls uncancelled.
  let deadline: AbortController | undefined;
  if (timeoutMs <= 2 ** 31 - 1) {
    const c = new AbortController();
    setTimeout(
      () => c.abort(new Error(`context deadline exceeded (kimg run --timeout ${f.timeout})`)),
      timeoutMs,
    ).unref();
    deadline = c;
  }
  const events: RecordedEvent[] = [];
  const json = f.output === "json";
  // KIMG_KILL_AT=STEP: a failpoint for crash tests, as etcd's gofail is — the run kills itself
  // with SIGKILL right after that step of recording a pull (test/cli/run-crash.test.ts).
  const killAt = f.env.KIMG_KILL_AT;
  const manager = new ImageManager({
    store,
    config,
    ...(killAt !== undefined && killAt !== ""
      ? {
          onRecordStep: (step: string) => {
            if (step === killAt) process.kill(process.pid, "SIGKILL");
          },
        }
      : {}),
    pull: {
      signal: deadline?.signal,
      insecureHosts: f.insecureHosts,
      registriesConf,
      platform: f.platform,
    },
    secrets: input.secrets,
    nodeCredentials,
    onEvent: (e) => {
      events.push(e);
      if (json) {
        io.stdout.write(
          `${toJson({
            type: e.type,
            reason: e.reason,
            message: e.message,
            pod: e.pod,
            container: e.container,
            time: new Date(e.time).toISOString(),
          })}\n`,
        );
      }
    },
  });
  const statuses = await runPods({ manager, pods: input.pods, timeoutMs });
  const now = Date.now();
  if (json) {
    for (const s of statuses) {
      io.stdout.write(
        `${toJson({
          pod: `${s.pod.namespace}/${s.pod.name}`,
          ready: s.ready,
          containers: s.containers,
        })}\n`,
      );
    }
  } else {
    io.stdout.write(`${statuses.map((s) => describePod(s, events, now)).join("\n\n")}\n`);
  }
  return statuses.every((s) => s.ready) && input.rejected.length === 0 ? EXIT.OK : EXIT.INVALID;
}
