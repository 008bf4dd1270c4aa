// The kubelet's image manager on one node: EnsureImageExists for a pod's container over kimg's
// store and pull engine (kubelet.md §5.2–5.7, §6; pkg/kubelet/images/image_manager.go,
// pkg/kubelet/kuberuntime/kuberuntime_image.go, pkg/kubelet/kubelet_pods.go
// getPullSecretsForPod, pkg/kubelet/images/pullmanager/image_pull_manager.go).
//
// The "runtime" here is kimg itself: the CRI image string goes to pullTryingCredentials (each
// keyring credential in turn, no anonymous retry), an image's ImageStatus is its record in the
// store, and its image ref (image id) is the manifest digest. A network failure is a plain pull
// error, as containerd 2 reports it (it never returns the CRI's `RegistryUnavailable`), so the
// container's waiting reason is `ErrImagePull`, as on a real containerd node
// (test/peers/kubelet.test.ts "registry-down").

import {
  type AuthCredential,
  type CredentialProvider,
  credentialChain,
  credentialHash,
  pullSecretsSource,
  repositoryOf,
  type SecretObject,
} from "../credentials/index.ts";
import {
  alreadyPresentEvent,
  backOffEvent,
  backOffWaiting,
  backoffKey,
  containerErrorEvent,
  decodePulledRecord,
  decodePullIntent,
  encodePulledRecord,
  encodePullIntent,
  evalCRIPullErr,
  failedToRetrieveImagePullSecretEvent,
  ImageBackoff,
  type ImageError,
  type ImagePulledRecord,
  imageNeverPullError,
  imageNeverPullEvent,
  invalidImageNameError,
  invalidImageNameEvent,
  type KubeletConfiguration,
  type KubeletEvent,
  mustAttemptImagePull,
  type PodPullCredentials,
  type PullCredentialUsed,
  previousPullError,
  pulledEvent,
  pullFailedEvent,
  pullingEvent,
  recordPullIntentFailed,
  recordSuccessfulPull,
} from "../kubelet/index.ts";
import { kubeletAction } from "../policy/index.ts";
import {
  type ProgressEvent,
  type PullSettings,
  pullName,
  pullTryingCredentials,
} from "../pull/index.ts";
import { applyDefaultImageTag, parseNormalizedNamed } from "../ref/index.ts";
import { pullSources } from "../registry/index.ts";
import { type LocalStore, PullRecordFiles } from "../store/index.ts";
import type { NamespacedSecret, NodePod, PodContainer } from "./pods.ts";
import { ImagePuller } from "./puller.ts";

/** One event as `kubectl describe` lists it: on the pod, or on one of its containers. */
export interface RecordedEvent extends KubeletEvent {
  /** `namespace/name` of the pod. */
  readonly pod: string;
  readonly podUID: string;
  /** The container (absent for pod-level events such as FailedToRetrieveImagePullSecret). */
  readonly container?: string;
  /** `spec.containers{name}` as the kubelet's object reference gives it. */
  readonly fieldPath?: string;
  /** ms since the epoch (the manager's clock). */
  readonly time: number;
}

export interface ImageManagerOptions {
  /** The node's store; `root` is where the KEP-2535 pull records are kept beside it. */
  readonly store: LocalStore & { readonly root: string };
  readonly config: KubeletConfiguration;
  /** Secrets the pods may name (the pod's namespace is searched). */
  readonly secrets?: readonly NamespacedSecret[] | undefined;
  /** Node-level credential providers after the pod's secrets: node config.json, plugins. */
  readonly nodeCredentials?: readonly CredentialProvider[] | undefined;
  /** The clock, ms. Default Date.now. */
  readonly now?: (() => number) | undefined;
  readonly onEvent?: ((e: RecordedEvent) => void) | undefined;
  readonly onProgress?:
    | ((pod: NodePod, container: PodContainer, e: ProgressEvent) => void)
    | undefined;
  /**
   * The pull engine's own settings (platform, jobs, insecure hosts, registries.conf, retry,
   * signal), typed as PullOptions' and passed to every pull as they are: a field the engine
   * does not have is a type error (`retry: { attempts }` was silently dropped: issue 11).
   * `signal` aborts pulls in flight, e.g. when `kimg run --timeout` runs out.
   */
  readonly pull?: PullSettings | undefined;
  /**
   * Called at each step of recording a pull, after it is durable: a failpoint for crash tests
   * (`kimg run` kills itself there when KIMG_KILL_AT names the step; docs/security.md).
   */
  readonly onRecordStep?: ((step: RecordStep) => void) | undefined;
}

/** The steps of recording a pull (KEP-2535), in order. */
export type RecordStep =
  | "intent-written"
  | "image-stored"
  | "record-temp-written"
  | "record-written"
  | "intent-removed";

export type EnsureResult =
  | { readonly ok: true; readonly imageRef: string; readonly pulled: boolean }
  | { readonly ok: false; readonly error: ImageError };

const KEY_OF = (s: { namespace: string; name: string }) => `${s.namespace}/${s.name}`;

export class ImageManager {
  readonly backoff = new ImageBackoff();
  readonly puller: ImagePuller;
  readonly records: PullRecordFiles;
  readonly #opts: ImageManagerOptions;
  readonly #now: () => number;
  readonly #secrets: Map<string, NamespacedSecret>;
  /**
   * In-flight pull intents of this process per normalized image name (the kubelet's
   * intentCounters; upstream keys them by the image with its default tag, kimg by the fully
   * normalized name, so `x`, `x:latest` and `docker.io/library/x` are one intent).
   */
  readonly #intents = new Map<string, number>();
  /** Leftover intents of earlier runs turned into records, once (the kubelet's initialize). */
  #initialized: Promise<void> | undefined;
  /**
   * Pulled-record updates per image ref, one at a time: two pods whose pulls of one image end
   * together must not both read the old record and write over each other's credentials
   * (upstream serializes them with per-imageRef locks, image_pull_manager.go pulledAccessors).
   */
  readonly #recordUpdates = new Map<string, Promise<void>>();

  constructor(opts: ImageManagerOptions) {
    this.#opts = opts;
    this.#now = opts.now ?? Date.now;
    const c = opts.config;
    this.puller = new ImagePuller({
      serialize: c.serializeImagePulls,
      maxParallel: c.maxParallelImagePulls,
      qps: c.registryPullQPS,
      burst: c.registryBurst,
      now: this.#now,
    });
    this.records = new PullRecordFiles(opts.store.root, {
      beforeRename: (kind) => {
        if (kind === "pulled") opts.onRecordStep?.("record-temp-written");
      },
    });
    this.#secrets = new Map((opts.secrets ?? []).map((s) => [KEY_OF(s), s]));
  }

  #emit(pod: NodePod, container: PodContainer | undefined, e: KubeletEvent): void {
    this.#opts.onEvent?.({
      ...e,
      pod: `${pod.namespace}/${pod.name}`,
      podUID: pod.uid,
      ...(container !== undefined
        ? { container: container.name, fieldPath: fieldPathOf(container) }
        : {}),
      time: this.#now(),
    });
  }

  /**
   * getPullSecretsForPod: the pod's imagePullSecrets found in its namespace (empty names
   * skipped); the missing ones named in one FailedToRetrieveImagePullSecret event.
   */
  pullSecretsForPod(pod: NodePod): SecretObject[] {
    const found: SecretObject[] = [];
    const missing: string[] = [];
    for (const name of pod.imagePullSecrets) {
      if (name === "") continue;
      const s = this.#secrets.get(`${pod.namespace}/${name}`);
      if (s === undefined) missing.push(name);
      else found.push(s.object as SecretObject);
    }
    if (missing.length > 0)
      this.#emit(pod, undefined, failedToRetrieveImagePullSecretEvent(missing));
    return found;
  }

  /** EnsureImageExists (kubelet.md §5.3), with kuberuntime's `Error: <ErrName>` on failure. */
  async ensureImageExists(
    pod: NodePod,
    container: PodContainer,
    pullSecrets: readonly SecretObject[],
  ): Promise<EnsureResult> {
    const r = await this.#ensure(pod, container, pullSecrets);
    if (!r.ok) this.#emit(pod, container, containerErrorEvent(r.error.error));
    return r;
  }

  async #ensure(
    pod: NodePod,
    container: PodContainer,
    pullSecrets: readonly SecretObject[],
  ): Promise<EnsureResult> {
    const requested = container.image;
    const policy = container.imagePullPolicy;
    // 1. applyDefaultImageTag.
    let image: string;
    try {
      image = applyDefaultImageTag(requested);
    } catch (e) {
      const text = e instanceof Error ? e.message : String(e);
      this.#emit(pod, container, invalidImageNameEvent(requested, text));
      return { ok: false, error: invalidImageNameError(requested, text) };
    }
    const store = this.#opts.store;
    const name = pullName(image);
    const gate = this.#opts.config.ensureSecretPulledImages;
    if (gate) {
      this.#initialized ??= this.#recoverIntents();
      await this.#initialized;
    }

    // 2. Precheck: Always skips the lookup.
    const record =
      policy === "IfNotPresent" || policy === "Never"
        ? await store.getPresentImage(name)
        : undefined;
    const imageRef = record?.manifestDigest ?? "";

    // Keyring (lazy, memoized): pod secrets, then node credentials.
    let keyring: ReturnType<typeof credentialChain> | undefined;
    const chain = () => {
      keyring ??= credentialChain([
        ...(pullSecrets.length > 0 ? [pullSecretsSource(pullSecrets)] : []),
        ...(this.#opts.nodeCredentials ?? []),
      ]);
      return keyring;
    };
    const repo = repositoryOf(image);

    // 3. Present.
    if (imageRef !== "") {
      if (!gate) {
        if (kubeletAction(policy, true) === "use-local") {
          await store.markImageUsed(name);
          this.#emit(pod, container, alreadyPresentEvent(requested, false));
          return { ok: true, imageRef, pulled: false };
        }
      } else {
        let pulledRecord: ImagePulledRecord | undefined;
        let recordError: string | undefined;
        try {
          const raw = await this.records.read("pulled", imageRef);
          pulledRecord = raw === undefined ? undefined : decodePulledRecord(raw);
        } catch (e) {
          recordError = e instanceof Error ? e.message : String(e);
        }
        const podCreds = async (): Promise<PodPullCredentials> => {
          // The pod's credentials for the image's repository, and for the other hosts its pull
          // goes to (mirrors, rewritten locations): a pull through one of those records the
          // secret that answered there, so the same secret must match here.
          const creds = [...(await chain().lookupAll(repo))];
          for (const host of this.#otherPullHosts(name)) {
            creds.push(...(await chain().lookupAll(`${host}/`)));
          }
          return {
            secrets: creds.flatMap((c) =>
              c.origin.kind === "secret"
                ? [
                    {
                      uid: c.origin.uid ?? "",
                      namespace: c.origin.namespace,
                      name: c.origin.name,
                      credentialHash: credentialHash(c),
                    },
                  ]
                : [],
            ),
          };
        };
        const computed = await podCreds();
        let intentExists = (this.#intents.get(name) ?? 0) > 0;
        if (!intentExists && pulledRecord === undefined && recordError === undefined) {
          try {
            intentExists = await this.#intentFor(name, imageRef);
          } catch (e) {
            recordError = `failed to check existence of an image pull intent: ${e instanceof Error ? e.message : String(e)}`;
          }
        }
        const decision = mustAttemptImagePull({
          image: requested,
          imageRef,
          pulledRecord: pulledRecord ?? null,
          recordError,
          intentExists,
          podCredentials: computed,
          policy:
            this.#opts.config.imagePullCredentialsVerificationPolicy ??
            "NeverVerifyPreloadedImages",
          allowlist: this.#opts.config.preloadedImagesVerificationAllowlist,
          now: this.#now(),
        });
        if (decision.updatedRecord !== undefined) {
          await this.records.write("pulled", imageRef, encodePulledRecord(decision.updatedRecord));
        }
        if (!decision.pull) {
          await store.markImageUsed(name);
          this.#emit(pod, container, alreadyPresentEvent(requested, true));
          return { ok: true, imageRef, pulled: false };
        }
      }
    }

    // 4. A pull is required; Never never pulls (present-but-not-accessible says the same as absent).
    if (policy === "Never") {
      this.#emit(pod, container, imageNeverPullEvent(requested));
      return { ok: false, error: imageNeverPullError(requested) };
    }

    // 6. pullImage.
    const key = backoffKey(pod.uid, requested);
    if (gate) {
      try {
        this.#intents.set(name, (this.#intents.get(name) ?? 0) + 1);
        await this.records.write("pulling", name, encodePullIntent({ image: name }));
        this.#opts.onRecordStep?.("intent-written");
      } catch (e) {
        this.#releaseIntent(name);
        return {
          ok: false,
          error: recordPullIntentFailed(requested, e instanceof Error ? e.message : String(e)),
        };
      }
    }
    try {
      const now = this.#now();
      if (this.backoff.isInBackOffSinceUpdate(key, now)) {
        this.#emit(pod, container, backOffEvent(requested));
        return { ok: false, error: backOffWaiting(requested, this.backoff.previousError(key)) };
      }
      this.backoff.forgetPreviousError(key);
      this.#emit(pod, container, pullingEvent(requested));
      const started = this.#now();
      try {
        // Identical pulls (same image, same pull secrets) share one download. The credential
        // that won travels with the shared result: a request that joined the pull must record
        // the same secret, not "no credential" (which would mean nodePodsAccessible).
        const pullKey = `${image}\u0000${pod.namespace}\u0000${pod.imagePullSecrets.join(",")}`;
        const r = await this.puller.pull(pullKey, async () => {
          let used: AuthCredential | undefined;
          // A mirror or rewritten location answered with one of the pod's credentials (a
          // secret for that host): the pull needed it, so the record must name it — recording
          // "no credential" would make the image node-accessible (docs/security.md).
          let mirrorUsed: AuthCredential | undefined;
          const pulled = await pullTryingCredentials(image, "Always", {
            store,
            candidates: {
              lookupAll: (rp, signal) => chain().lookupAll(rp, signal),
            },
            describe: (c: AuthCredential) => {
              used = c;
              return { kind: c.origin.kind === "secret" ? "pull-secret" : "node" };
            },
            otherHosts: {
              lookup: async (h: string) => {
                for (const c of await chain().lookupAll(`${h}/`)) {
                  const rc = c.toRegistryCredential();
                  if (rc !== undefined) {
                    mirrorUsed ??= c;
                    return rc;
                  }
                }
                return undefined;
              },
            },
            ...this.#opts.pull,
            ...(this.#opts.onProgress !== undefined
              ? { onProgress: (e: ProgressEvent) => this.#opts.onProgress?.(pod, container, e) }
              : {}),
          });
          return { pulled, used: used ?? mirrorUsed };
        });
        const { pulled, used } = r.value;
        const ref = pulled.action === "pull" ? pulled.image.digest : pulled.record.manifestDigest;
        const size = pulled.action === "pull" ? pulled.image.size : pulled.record.size;
        this.#emit(pod, container, pulledEvent(requested, r.pullMs, this.#now() - started, size));
        this.backoff.gc(this.#now());
        if (gate) {
          this.#opts.onRecordStep?.("image-stored");
          await this.#recordPulled(ref, requested, credentialUsed(used));
          this.#opts.onRecordStep?.("record-written");
        }
        return { ok: true, imageRef: ref, pulled: true };
      } catch (e) {
        const text = runtimeErrorText(e);
        this.#emit(pod, container, pullFailedEvent(requested, text));
        this.backoff.next(key, this.#now());
        const err = evalCRIPullErr(requested, text);
        this.backoff.setPreviousError(key, previousPullError(err));
        return { ok: false, error: err };
      }
    } finally {
      if (gate) await this.#releaseIntentFile(name);
    }
  }

  /** The hosts other than the image's own that a pull of `name` may go to (registries.conf). */
  #otherPullHosts(name: string): string[] {
    const conf = this.#opts.pull?.registriesConf;
    if (conf === undefined) return [];
    try {
      const ref = parseNormalizedNamed(name);
      return [...new Set(pullSources(ref, conf).map((s) => s.host))].filter(
        (h) => h !== ref.domain,
      );
    } catch {
      return [];
    }
  }

  /**
   * Whether a pull intent on disk names the image `imageRef` is: by its normalized name, or
   * by another spelling the store resolves to the same image (`x:1` and `x@sha256:…`). An
   * image with an intent was pulled by the kubelet, so its use must be verified.
   * @throws when an intent cannot be read (then the kubelet pulls, as upstream does).
   */
  async #intentFor(name: string, imageRef: string): Promise<boolean> {
    for (const f of await this.records.list("pulling")) {
      if (f.error !== undefined) throw new Error(`${f.file}: ${f.error}`);
      const intent = decodePullIntent(f.value);
      if (intent.image === name) return true;
      let other: string;
      try {
        other = pullName(intent.image);
      } catch {
        continue; // not an image name: it names no image of the store
      }
      if (other === name) return true;
      if ((await this.#opts.store.getImage(other))?.manifestDigest === imageRef) return true;
    }
    return false;
  }

  /**
   * The kubelet's PullManager.initialize (image_pull_manager.go): an intent left by an earlier
   * run (killed mid-pull) whose image is in the store becomes a pulled record WITHOUT
   * credentials — the image was pulled by the kubelet under unknown circumstances, so every
   * later use must be verified, never taken as node-accessible — and the intent is removed.
   * Intents of images not in the store stay (a pull may be in flight in another run).
   * Unreadable intents are left for #intentFor to fail closed on.
   */
  async #recoverIntents(): Promise<void> {
    for (const f of await this.records.list("pulling")) {
      if (f.error !== undefined) continue;
      let image: string;
      try {
        image = decodePullIntent(f.value).image;
      } catch {
        continue;
      }
      let name: string;
      try {
        name = pullName(image);
      } catch {
        continue;
      }
      const present = await this.#opts.store.getImage(name);
      if (present === undefined) continue;
      await this.#recordPulled(present.manifestDigest, image, undefined);
      await this.records.deleteFile(f.file);
    }
  }

  /** Writes the pulled record; `credential` undefined: pulled under unknown circumstances. */
  #recordPulled(
    imageRef: string,
    image: string,
    credential: PullCredentialUsed | undefined,
  ): Promise<void> {
    const prev = this.#recordUpdates.get(imageRef) ?? Promise.resolve();
    const next = prev.then(() => this.#writePulledRecord(imageRef, image, credential));
    const tail = next.catch(() => undefined);
    this.#recordUpdates.set(imageRef, tail);
    void tail.then(() => {
      if (this.#recordUpdates.get(imageRef) === tail) this.#recordUpdates.delete(imageRef);
    });
    return next;
  }

  async #writePulledRecord(
    imageRef: string,
    image: string,
    credential: PullCredentialUsed | undefined,
  ) {
    let current: ImagePulledRecord | undefined;
    try {
      const raw = await this.records.read("pulled", imageRef);
      current = raw === undefined ? undefined : decodePulledRecord(raw);
    } catch {
      current = undefined;
    }
    const u = recordSuccessfulPull(current, {
      imageRef,
      image,
      credential,
      now: this.#now(),
    });
    if (u.changed) await this.records.write("pulled", imageRef, encodePulledRecord(u.record));
  }

  #releaseIntent(image: string): boolean {
    const n = (this.#intents.get(image) ?? 1) - 1;
    if (n <= 0) {
      this.#intents.delete(image);
      return true;
    }
    this.#intents.set(image, n);
    return false;
  }

  async #releaseIntentFile(image: string): Promise<void> {
    if (this.#releaseIntent(image)) {
      const removed = await this.records.delete("pulling", image).catch(() => false);
      if (removed) this.#opts.onRecordStep?.("intent-removed");
    }
  }
}

/** What a pull's winning credential is in the record (an anonymous or node pull: node). */
function credentialUsed(used: AuthCredential | undefined): PullCredentialUsed {
  return used !== undefined && used.origin.kind === "secret"
    ? {
        kind: "secret",
        uid: used.origin.uid ?? "",
        namespace: used.origin.namespace,
        name: used.origin.name,
        credentialHash: credentialHash(used),
      }
    : used !== undefined && used.origin.kind === "serviceAccountToken"
      ? {
          kind: "serviceAccount",
          uid: used.origin.uid,
          namespace: used.origin.namespace,
          name: used.origin.name,
        }
      : { kind: "node" };
}

/** `spec.containers{name}`: the field path of the kubelet's container object reference. */
function fieldPathOf(c: PodContainer): string {
  const list = c.fieldPath.startsWith("spec.initContainers") ? "initContainers" : "containers";
  return `spec.${list}{${c.name}}`;
}

/**
 * The runtime's error text for a failed pull. Network failures too are plain text, as
 * containerd sends them: it does not use the CRI's `RegistryUnavailable` prefix.
 */
function runtimeErrorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
