// Test harness: owns running a real CNCF Distribution registry (Debian's `docker-registry`,
// 2.8.2) on 127.0.0.1 for integration tests: its config file, its storage in a fresh temp dir,
// its htpasswd file, its access log (parsed, for counting requests) and its lifecycle (start,
// readiness, stop, never leaked). Anonymous, htpasswd (Basic) or token (Bearer) auth.
// See ../../../shared/notes/local-registries.md for the facts this relies on.

import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import http from "node:http";
import { createServer } from "node:net";
import { join } from "node:path";
import { killProcessGroup, makeTempDir, removeTempDir, trackProcessGroup } from "./cleanup.ts";
import { envWithout, requireBinary, run } from "./exec.ts";

export type RegistryAuth = "none" | "htpasswd" | "token";

export interface User {
  user: string;
  pass: string;
}

/** What the registry's `auth.token` section needs; a `TokenServer` (token-server.ts) is one. */
export interface TokenAuthConfig {
  /** URL of the token endpoint, given to clients in the challenge. */
  realm: string;
  /** `aud` the registry accepts, and `service` in its challenge. */
  service: string;
  /** `iss` the registry accepts. */
  issuer: string;
  /** PEM file with the certificate(s) whose keys may sign tokens. */
  rootCertBundle: string;
}

export interface StartRegistryOptions {
  /** Default "none" (anonymous pull and push). */
  auth?: RegistryAuth;
  /** htpasswd users (auth "htpasswd"; at least one). */
  users?: readonly User[];
  /** bcrypt cost of the htpasswd entries; paid on every request. Default 4 (the minimum). */
  bcryptCost?: number;
  /** Realm of the Basic challenge (auth "htpasswd"). Default "kimg-test". */
  htpasswdRealm?: string;
  /** Token auth settings (auth "token"): pass the object `startTokenServer()` returned. */
  tokenServer?: TokenAuthConfig;
  /** Last chance to change the generated config (a plain object, written as JSON ⊂ YAML). */
  editConfig?: (config: Record<string, unknown>) => void;
  /** A node:test TestContext (inside `it`): the registry stops when that test ends. */
  t?: { after(fn: () => unknown): void };
  /** Readiness timeout. Default 15 s. */
  readyTimeoutMs?: number;
}

/** One line of the registry's access log (combined log format). */
export interface AccessLogLine {
  method: string;
  /** Request target as sent: path and query. */
  path: string;
  status: number;
  /** Body bytes the handler wrote, as the registry counts them (HEAD counts too, unsent). */
  bytes: number;
  userAgent: string;
  raw: string;
}

export interface Registry {
  /** `http://127.0.0.1:PORT` */
  url: string;
  /** `127.0.0.1:PORT`, for image references */
  host: string;
  port: number;
  /** Temp dir holding config, htpasswd and storage; removed by stop(). */
  dir: string;
  /** `storage.filesystem.rootdirectory` */
  storageDir: string;
  configPath: string;
  pid: number;
  /**
   * Access log lines parsed so far (since start or the last resetAccessLog()), without the
   * harness's own readiness and sync requests. A request's line may arrive slightly after its
   * response: use settledAccessLog() to count.
   */
  accessLog(): AccessLogLine[];
  /** Like accessLog(), after every request answered so far has been logged. */
  settledAccessLog(): Promise<AccessLogLine[]>;
  /** Forgets the lines so far (call settledAccessLog() first if requests may be in flight). */
  resetAccessLog(): void;
  /** The registry's own log (stderr), last 256 KiB. */
  stderr(): string;
  /** Kills the registry's process group and removes `dir`. Idempotent. */
  stop(): Promise<void>;
}

const HARNESS_UA = "kimg-harness";
const ACCESS_RE =
  /^(\S+) \S+ \S+ \[([^\]]+)\] "(\S+) (\S+) [^"]*" (\d{3}) (\d+|-) "((?:[^"\\]|\\.)*)" "((?:[^"\\]|\\.)*)"$/;

export function parseAccessLogLine(raw: string): AccessLogLine | undefined {
  const m = ACCESS_RE.exec(raw);
  if (m === null) return undefined;
  return {
    method: m[3] ?? "",
    path: m[4] ?? "",
    status: Number(m[5]),
    bytes: m[6] === "-" ? 0 : Number(m[6]),
    userAgent: m[8] ?? "",
    raw,
  };
}

/**
 * Starts a Distribution registry on 127.0.0.1 with its own config and empty storage, and waits
 * until `GET /v2/` answers (200, or 401 with auth). Throws, with the registry's stderr, if it
 * does not come up.
 */
export async function startRegistry(opts: StartRegistryOptions = {}): Promise<Registry> {
  const bin = requireBinary("docker-registry");
  const auth = opts.auth ?? "none";
  const dir = makeTempDir("registry");
  try {
    const storageDir = join(dir, "storage");
    const configPath = join(dir, "config.yml");
    const authSection = await authConfig(auth, opts, dir);
    let lastError: unknown;
    // A free port is picked, then released, then bound by the registry: another process may take
    // it in between, so a bind failure is retried on a new port.
    for (let attempt = 0; attempt < 4; attempt++) {
      const port = await freePort();
      const config: Record<string, unknown> = {
        version: "0.1",
        log: { level: "error", formatter: "text", accesslog: { disabled: false } },
        storage: {
          filesystem: { rootdirectory: storageDir },
          delete: { enabled: true },
          maintenance: { uploadpurging: { enabled: false } },
        },
        http: { addr: `127.0.0.1:${port}`, secret: randomBytes(24).toString("hex") },
        ...(authSection === undefined ? {} : { auth: authSection }),
      };
      opts.editConfig?.(config);
      writeFileSync(configPath, `${JSON.stringify(config, null, 2)}\n`);
      try {
        const reg = await launch(bin, dir, storageDir, configPath, port, opts.readyTimeoutMs);
        opts.t?.after(() => reg.stop());
        return reg;
      } catch (e) {
        lastError = e;
        if (!(e instanceof Error && /address already in use/.test(e.message))) throw e;
      }
    }
    throw lastError;
  } catch (e) {
    removeTempDir(dir);
    throw e;
  }
}

async function authConfig(
  auth: RegistryAuth,
  opts: StartRegistryOptions,
  dir: string,
): Promise<Record<string, unknown> | undefined> {
  switch (auth) {
    case "none":
      return undefined;
    case "htpasswd": {
      const users = opts.users ?? [];
      if (users.length === 0) throw new Error('startRegistry: auth "htpasswd" needs users');
      // Write the file before the registry starts: pointed at a missing file, it creates one
      // with a random user of its own.
      const cost = String(opts.bcryptCost ?? 4);
      const lines: string[] = [];
      for (const { user, pass } of users) {
        const { stdout } = await run("htpasswd", ["-Bbn", "-C", cost, user, pass]);
        lines.push(stdout.trim());
      }
      const path = join(dir, "htpasswd");
      writeFileSync(path, `${lines.join("\n")}\n`, { mode: 0o600 });
      return { htpasswd: { realm: opts.htpasswdRealm ?? "kimg-test", path } };
    }
    case "token": {
      const t = opts.tokenServer;
      if (t === undefined) {
        throw new Error('startRegistry: auth "token" needs tokenServer (see token-server.ts)');
      }
      return {
        token: {
          realm: t.realm,
          service: t.service,
          issuer: t.issuer,
          rootcertbundle: t.rootCertBundle,
        },
      };
    }
  }
}

/** A port nothing listens on now (bind 0, read it, close): racy, so callers retry a failed bind. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr !== null ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

async function launch(
  bin: string,
  dir: string,
  storageDir: string,
  configPath: string,
  port: number,
  readyTimeoutMs = 15_000,
): Promise<Registry> {
  const child = spawn(bin, ["serve", configPath], {
    cwd: dir,
    // REGISTRY_* variables override the config file (REGISTRY_HTTP_ADDR moves the listener).
    env: envWithout((k) => k.startsWith("REGISTRY_")),
    stdio: ["ignore", "pipe", "pipe"],
    detached: true, // own process group, so stop() can kill the whole group
  });
  trackProcessGroup(child);
  // A forgotten registry must not keep the test process alive: the exit hook kills it.
  child.unref();
  const stdout = child.stdout as unknown as { unref?: () => void } | null;
  const stderrStream = child.stderr as unknown as { unref?: () => void } | null;
  stdout?.unref?.();
  stderrStream?.unref?.();

  let stderrText = "";
  child.stderr?.setEncoding("utf8");
  child.stderr?.on("data", (s: string) => {
    stderrText += s;
    if (stderrText.length > 512 * 1024) stderrText = stderrText.slice(-256 * 1024);
  });

  const lines: AccessLogLine[] = [];
  const syncSeen = new Set<string>();
  const waiters: Array<() => void> = [];
  let partial = "";
  child.stdout?.setEncoding("utf8");
  child.stdout?.on("data", (s: string) => {
    partial += s;
    let nl = partial.indexOf("\n");
    while (nl >= 0) {
      const raw = partial.slice(0, nl);
      partial = partial.slice(nl + 1);
      nl = partial.indexOf("\n");
      const line = parseAccessLogLine(raw);
      if (line === undefined) continue;
      if (line.userAgent.startsWith(HARNESS_UA)) {
        if (line.userAgent === `${HARNESS_UA}-sync`) syncSeen.add(line.path);
        continue;
      }
      lines.push(line);
    }
    for (const w of waiters.splice(0)) w();
  });

  let exited: string | undefined;
  const exitedPromise = new Promise<void>((resolve) => {
    child.once("exit", (code, signal) => {
      exited = signal !== null ? `killed by ${signal}` : `exit status ${code}`;
      for (const w of waiters.splice(0)) w();
      resolve();
    });
  });
  const spawnError = new Promise<Error>((resolve) => child.once("error", resolve));

  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + readyTimeoutMs;
  const stderrTail = () => stderrText.trim().split("\n").slice(-20).join("\n");
  for (;;) {
    const status = await Promise.race([
      probe(`${url}/v2/`, `${HARNESS_UA}-ready`),
      spawnError.then((e) => e),
      exitedPromise.then(() => "exited" as const),
    ]);
    if (status instanceof Error) {
      throw new Error(`docker-registry could not be started: ${status.message}`);
    }
    if (status === 200 || status === 401) break;
    if (exited !== undefined) {
      // let the last of stderr arrive
      await new Promise((r) => setTimeout(r, 20));
      throw new Error(
        `docker-registry exited before it was ready (${exited}), config ${configPath}:\n${stderrTail()}`,
      );
    }
    if (Date.now() > deadline) {
      await killProcessGroup(child);
      throw new Error(
        `docker-registry not ready on ${url} after ${readyTimeoutMs} ms (last: ${status}):\n${stderrTail()}`,
      );
    }
    await new Promise((r) => setTimeout(r, 25));
  }

  let stopped: Promise<void> | undefined;
  let syncCounter = 0;
  const pid = child.pid ?? -1;

  return {
    url,
    host: `127.0.0.1:${port}`,
    port,
    dir,
    storageDir,
    configPath,
    pid,
    accessLog: () => [...lines],
    async settledAccessLog() {
      // Lines are written in order; once a request sent after every answered one is logged, the
      // earlier ones are too.
      const path = `/kimg-harness-sync/${++syncCounter}`;
      const status = await probe(`${url}${path}`, `${HARNESS_UA}-sync`);
      if (typeof status !== "number") throw new Error(`registry sync request failed: ${status}`);
      const until = Date.now() + 5000;
      while (!syncSeen.has(path)) {
        if (exited !== undefined) throw new Error(`registry exited (${exited})`);
        if (Date.now() > until) throw new Error("registry access log: sync line never arrived");
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 50);
        });
      }
      syncSeen.delete(path);
      return [...lines];
    },
    resetAccessLog() {
      lines.length = 0;
    },
    stderr: () => stderrText,
    stop() {
      stopped ??= (async () => {
        await killProcessGroup(child);
        removeTempDir(dir);
      })();
      return stopped;
    },
  };
}

/** Status of a GET, or a string saying why there is none. Never throws. */
function probe(url: string, userAgent: string): Promise<number | string> {
  return new Promise((resolve) => {
    const req = http.get(url, { headers: { "user-agent": userAgent }, agent: false }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
      res.on("error", (e) => resolve(e.message));
    });
    req.setTimeout(2000, () => req.destroy(new Error("timeout")));
    req.on("error", (e) => resolve(e.message));
  });
}
