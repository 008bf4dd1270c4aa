// The web UI in a real browser: Debian's chromium driven by playwright-core, against `kimg ui`
// run from the built CLI (dist/cli/kimg.cjs) on a temp store, and a real CNCF Distribution
// registry with an image pushed by skopeo. What a user does, read back from the page: a
// reference typed and its parts in the seed's colours (implied parts marked, errors with
// upstream's message), the policy changed and the decision read, a manifest pasted and its
// table read (and the defaulted YAML downloaded), an image pulled with its layers' progress
// followed live to the end, listed, inspected and removed. Every view is saved as a screenshot
// under test-output/ui/ (light and dark) for a person to look at.

// biome-ignore-all lint/performance/useDomNodeTextContent: a browser test reads what the user sees (innerText: rendered text, as CSS lays it out), not the DOM's raw text.

import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { after, before, describe, it } from "node:test";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { formatBytes } from "../../src/cli/render/bytes.ts";
import { FsBlobStore } from "../../src/store/index.ts";
import {
  killProcessGroup,
  makeTempDir,
  removeTempDir,
  trackProcessGroup,
} from "../helpers/cleanup.ts";
import { requireBinary } from "../helpers/exec.ts";
import { type BuiltImage, buildImage } from "../helpers/images.ts";
import { type Registry, startRegistry } from "../helpers/registry.ts";
import { pushLayout } from "../helpers/skopeo.ts";

// The browser globals the page callbacks below use (they run in chromium, not in Node): declared
// here, for this file only, instead of adding lib.dom to the whole program.
interface El {
  readonly id: string;
  readonly dataset: Record<string, string | undefined>;
  readonly textContent: string | null;
  readonly innerText: string;
  readonly labels?: { readonly length: number } | null;
  readonly scrollWidth: number;
  readonly clientWidth: number;
  querySelector(selector: string): El | null;
  querySelectorAll(selector: string): ArrayLike<El> & Iterable<El>;
  closest(selector: string): El | null;
  getAttribute(name: string): string | null;
}
type HTMLElement = El;
type Element = El;
type HTMLInputElement = El;
type HTMLProgressElement = El & { readonly value: number; readonly max: number };
declare const document: {
  readonly documentElement: El;
  readonly activeElement: El | null;
  querySelector(selector: string): El | null;
  querySelectorAll(selector: string): ArrayLike<El> & Iterable<El>;
};
declare const window: object;
declare function getComputedStyle(
  el: El,
): Record<"color" | "fontStyle" | "backgroundColor" | "outlineStyle" | "outlineWidth", string>;
declare class MutationObserver {
  constructor(callback: () => void);
  observe(target: El, options: Record<string, boolean>): void;
}

const ROOT = resolve(import.meta.dirname, "../..");
const BIN = join(ROOT, "dist/cli/kimg.cjs");
const SHOTS = join(ROOT, "test-output/ui");
const CHROMIUM = "/usr/bin/chromium";

/** `kimg ui --port 0 --store DIR` as a process; resolves with the URL it prints. */
async function startUi(
  store: string,
  home: string,
): Promise<{ child: ChildProcess; url: string; loginUrl: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: home, NO_COLOR: "1" };
  for (const k of ["KIMG_STORE", "DOCKER_CONFIG", "REGISTRY_AUTH_FILE", "XDG_DATA_HOME"])
    delete env[k];
  const child = spawn(process.execPath, [BIN, "ui", "--port", "0", "--store", store], {
    env,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  trackProcessGroup(child);
  let out = "";
  let err = "";
  child.stderr?.on("data", (d: Buffer) => {
    err += d.toString();
  });
  const loginUrl = await new Promise<string>((ok, fail) => {
    const timer = setTimeout(
      () => fail(new Error(`kimg ui printed no URL in 15 s: ${out}${err}`)),
      15_000,
    );
    child.stdout?.on("data", (d: Buffer) => {
      out += d.toString();
      const m = /^kimg ui: (http:\/\/127\.0\.0\.1:\d+\/\?code=[0-9a-f]{64})$/m.exec(out);
      if (m?.[1] !== undefined) {
        clearTimeout(timer);
        ok(m[1]);
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      fail(new Error(`kimg ui exited (${code}) before printing its URL: ${out}${err}`));
    });
  });
  return { child, url: loginUrl.slice(0, loginUrl.indexOf("?")), loginUrl };
}

/** A string as a regular expression that matches it literally. */
const esc = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** sRGB `rgb(r, g, b)` → [r, g, b]. */
function rgbOf(css: string): [number, number, number] {
  const m = /^rgba?\((\d+), (\d+), (\d+)/.exec(css);
  assert.ok(m, `not an rgb() colour: ${css}`);
  return [Number(m[1]), Number(m[2]), Number(m[3])];
}

/** Hue (0–360), saturation and lightness (0–1) of an sRGB colour. */
function hsl([r, g, b]: [number, number, number]): { h: number; s: number; l: number } {
  const [R, G, B] = [r / 255, g / 255, b / 255];
  const max = Math.max(R, G, B);
  const min = Math.min(R, G, B);
  const l = (max + min) / 2;
  const d = max - min;
  if (d === 0) return { h: 0, s: 0, l };
  const s = d / (1 - Math.abs(2 * l - 1));
  let h: number;
  if (max === R) h = ((G - B) / d) % 6;
  else if (max === G) h = (B - R) / d + 2;
  else h = (R - G) / d + 4;
  return { h: (h * 60 + 360) % 360, s, l };
}

/** WCAG 2 contrast ratio of two sRGB colours. */
function contrast(a: [number, number, number], b: [number, number, number]): number {
  const lum = (c: [number, number, number]): number => {
    const [r, g, b2] = c.map((v) => {
      const x = v / 255;
      return x <= 0.03928 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4;
    }) as [number, number, number];
    return 0.2126 * r + 0.7152 * g + 0.0722 * b2;
  };
  const [hi, lo] = [lum(a), lum(b)].sort((x, y) => y - x) as [number, number];
  return (hi + 0.05) / (lo + 0.05);
}

/** The seed's colour names, as hue (and lightness) ranges. */
const COLOUR_NAMES: Record<string, (c: { h: number; s: number; l: number }) => boolean> = {
  blue: (c) => c.h >= 200 && c.h <= 240 && c.s > 0.4,
  green: (c) => c.h >= 90 && c.h <= 160 && c.s > 0.4,
  purple: (c) => c.h >= 260 && c.h <= 300 && c.s > 0.4,
  red: (c) => (c.h >= 345 || c.h <= 10) && c.s > 0.4,
  // brown: an orange hue, darker (light theme) or muted (dark theme) than an orange
  brown: (c) => c.h >= 15 && c.h <= 40 && (c.l < 0.38 || c.s < 0.65),
};
const SEED_COLOURS: Record<string, string> = {
  registry: "blue",
  port: "green",
  repository: "purple",
  imageName: "red",
  tag: "brown",
};

interface Part {
  part: string;
  text: string;
  implied: boolean;
  color: string;
  fontStyle: string;
  label: string;
}

async function readParts(page: Page): Promise<Part[]> {
  return page.$$eval("#ref-line .seg[data-part]", (els) =>
    els.map((el) => {
      const text = el.querySelector(".text") as HTMLElement;
      const cs = getComputedStyle(text);
      return {
        part: (el as HTMLElement).dataset.part ?? "",
        text: text.textContent ?? "",
        implied: (el as HTMLElement).dataset.implied === "true",
        color: cs.color,
        fontStyle: cs.fontStyle,
        label: el.querySelector(".label")?.textContent ?? "",
      };
    }),
  );
}

async function typeReference(page: Page, ref: string): Promise<void> {
  const input = page.locator("#image");
  await input.fill("");
  await input.pressSequentially(ref, { delay: 2 });
}

/** Waits until the anatomy drawn is the one for `ref` (the last part typed is on the page). */
async function waitForParts(page: Page, lastText: string): Promise<Part[]> {
  await settled(page);
  await page.waitForFunction((t) => {
    const segs = document.querySelectorAll("#ref-line .seg[data-part] .text");
    return segs.length > 0 && segs[segs.length - 1]?.textContent === t;
  }, lastText);
  return readParts(page);
}

async function cardBackground(page: Page): Promise<[number, number, number]> {
  return rgbOf(
    await page.$eval(
      "#anatomy",
      (el) => getComputedStyle(el.closest(".card") as Element).backgroundColor,
    ),
  );
}

/** Until the page has no request in flight and no typed input waiting to be sent. */
async function settled(page: Page): Promise<void> {
  await page.waitForFunction(() => document.documentElement.dataset.pending === "0");
}

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

describe("kimg ui in chromium", { timeout: 240_000 }, () => {
  let reg: Registry;
  let img: BuiltImage;
  let store: string;
  let home: string;
  let ui: { child: ChildProcess; url: string; loginUrl: string };
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let imageRef: string;
  const problems: string[] = [];

  before(async () => {
    requireBinary("chromium");
    mkdirSync(SHOTS, { recursive: true });
    reg = await startRegistry();
    // Incompressible layers (seeded random bytes): the 6 MB one takes many progress events.
    img = await buildImage({
      layers: [{ randomBytes: 6_000_000 }, { randomBytes: 40_000 }, { randomBytes: 700 }],
      seed: "kimg-ui",
      config: {
        Entrypoint: ["/usr/local/bin/web"],
        Env: ["PATH=/usr/bin:/bin"],
        // Network text with terminal controls and a bidi override: shown escaped (issue 19.5).
        Labels: { note: "\u001b]0;pwned\u0007\u001b[2J\r\u202eevil" },
      },
    });
    await pushLayout(img, "example/web-example:v1.0.1", reg);
    imageRef = `${reg.host}/example/web-example:v1.0.1`;
    store = makeTempDir("ui-store");
    await FsBlobStore.open(store); // the UI opens a store, it never creates one
    home = makeTempDir("ui-home");
    ui = await startUi(store, home);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    });
    context = await browser.newContext({
      viewport: { width: 1280, height: 900 },
      colorScheme: "light",
    });
    page = await context.newPage();
    // Script errors and CSP violations (reported on the console) fail the run.
    page.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
    // (Chromium logs every HTTP error answer on the console; the API's 4xx answers to the bad
    // input this test types are expected, any other failed response is not.)
    page.on("console", (m) => {
      if (m.type() === "error" && !/^Failed to load resource: .* status of 4\d\d/.test(m.text()))
        problems.push(`console: ${m.text()}`);
    });
    page.on("response", (r) => {
      const api = new URL(r.url()).pathname.startsWith("/api/");
      if (r.status() >= 500 || (!api && r.status() >= 400))
        problems.push(`HTTP ${r.status()} for ${r.url()}`);
    });
    // Requests anywhere but kimg ui: the page must work offline.
    page.on("request", (r) => {
      const u = r.url();
      if (!u.startsWith(ui.url) && !u.startsWith("blob:") && !u.startsWith("data:"))
        problems.push(`request to ${u}`);
    });
    // The printed one-time login URL: a session cookie, then the page without the code.
    const res = await page.goto(ui.loginUrl);
    assert.equal(res?.status(), 200);
    assert.equal(page.url(), ui.url);
    const cookies = await context.cookies();
    assert.equal(cookies.length, 1);
    assert.equal(cookies[0]?.httpOnly, true);
    assert.equal(cookies[0]?.sameSite, "Strict");
    assert.match(res?.headers()["content-security-policy"] ?? "", /default-src 'self'/);
  });

  after(async () => {
    await browser?.close();
    if (ui !== undefined) await killProcessGroup(ui.child);
    await reg?.stop();
    for (const d of [img?.layoutDir, store, home]) if (d !== undefined) removeTempDir(d);
  });

  it("draws a typed reference's parts in the seed's colours, readable on the card", async () => {
    await typeReference(page, "my-registry.example.com:5000/example/web-example:v1.0.1");
    const parts = await waitForParts(page, "v1.0.1");
    assert.deepEqual(
      parts.map((p) => [p.part, p.text, p.implied]),
      [
        ["registry", "my-registry.example.com", false],
        ["port", "5000", false],
        ["repository", "example", false],
        ["imageName", "web-example", false],
        ["tag", "v1.0.1", false],
      ],
    );
    const bg = await cardBackground(page);
    for (const p of parts) {
      const rgb = rgbOf(p.color);
      const name = SEED_COLOURS[p.part] ?? "";
      assert.ok(
        COLOUR_NAMES[name]?.(hsl(rgb)),
        `${p.part} should be ${name}, is ${p.color} (hsl ${JSON.stringify(hsl(rgb))})`,
      );
      assert.ok(
        contrast(rgb, bg) >= 4.5,
        `${p.part} ${p.color} on the card: contrast ${contrast(rgb, bg).toFixed(2)} < 4.5`,
      );
      assert.equal(p.fontStyle, "normal");
    }
    // Five different colours, each part's label under it.
    assert.equal(new Set(parts.map((p) => p.color)).size, 5);
    assert.deepEqual(
      parts.map((p) => p.label),
      ["registry", "port", "repository", "image name", "tag"],
    );
    const forms = await page.locator("#forms").innerText();
    assert.match(
      forms,
      /normalized\s+my-registry\.example\.com:5000\/example\/web-example:v1\.0\.1/,
    );
    assert.match(forms, /IfNotPresent\s+tag "v1\.0\.1" is not "latest" ⇒ IfNotPresent/);
    await shot(page, "01-reference");
  });

  it("marks what Docker Hub and Kubernetes imply (docker.io, library/, latest) as implied", async () => {
    await typeReference(page, "nginx");
    const parts = await waitForParts(page, "latest");
    assert.deepEqual(
      parts.map((p) => [p.part, p.text, p.implied]),
      [
        ["registry", "docker.io", true],
        ["repository", "library", true],
        ["imageName", "nginx", false],
        ["tag", "latest", true],
      ],
    );
    for (const p of parts) {
      assert.equal(p.fontStyle, p.implied ? "italic" : "normal", p.part);
      assert.equal(p.label.endsWith("(implied)"), p.implied, p.label);
    }
    const forms = await page.locator("#forms").innerText();
    assert.match(forms, /normalized\s+docker\.io\/library\/nginx/);
    assert.match(forms, /familiar\s+nginx/);
    assert.match(forms, /CRI image\s+nginx:latest/);
    const anatomy = await page.locator("#anatomy").innerText();
    assert.match(anatomy, /no registry written: Docker Hub \(docker\.io\)/);

    // A digest: drawn in its own colour, no implied tag.
    const digest = "sha256:45b23dee08af5e43a7fea6c4cf9c25ccf269ee113168c19722f87876677c5cb2";
    await typeReference(page, `eipwork/kuboard@${digest}`);
    const withDigest = await waitForParts(page, digest);
    assert.deepEqual(
      withDigest.map((p) => [p.part, p.text, p.implied]),
      [
        ["registry", "docker.io", true],
        ["repository", "eipwork", false],
        ["imageName", "kuboard", false],
        ["digest", digest, false],
      ],
    );
  });

  it("explains an invalid reference in place with upstream's message", async () => {
    await typeReference(page, "Nginx:1.27");
    await settled(page);
    const err = page.locator("#anatomy .msg.error");
    await err.waitFor();
    assert.match(
      await err.innerText(),
      /invalid reference format: repository name \(library\/Nginx\) must be lowercase/,
    );
    assert.equal(await page.locator("#image").getAttribute("aria-invalid"), "true");
    // The offending capital is marked, nothing else.
    assert.deepEqual(
      await page.$$eval("#ref-line mark.bad", (ms) => ms.map((m) => m.textContent)),
      ["N"],
    );
    await page.waitForFunction(
      () =>
        document.querySelector("#kubelet-action")?.getAttribute("data-action") ===
        "InvalidImageName",
    );
    await shot(page, "02-invalid-reference");
  });

  it("decides the effective policy and what the kubelet does as the editor changes", async () => {
    const decision = async (): Promise<{
      policy: string;
      action: string;
      rule: string;
      text: string;
    }> => {
      await settled(page);
      return {
        policy: await page.locator("#effective-policy").innerText(),
        action: (await page.locator("#kubelet-action").getAttribute("data-action")) ?? "",
        rule: (await page.locator("#rules li.decided").getAttribute("data-rule")) ?? "",
        text: await page.locator("#decision").innerText(),
      };
    };
    await typeReference(page, "nginx:1.27");
    await waitForParts(page, "1.27");
    let d = await decision();
    assert.deepEqual([d.policy, d.action, d.rule], ["IfNotPresent", "pull", "unset-other"]);
    assert.match(d.text, /Normal Pulling: Pulling image "nginx:1\.27"/);
    assert.match(d.text, /pinned by tag "1\.27" only/); // lint: pin a digest

    await page.locator("#present").check();
    d = await decision();
    assert.deepEqual([d.policy, d.action, d.rule], ["IfNotPresent", "use-local", "unset-other"]);
    assert.match(d.text, /Container image "nginx:1\.27" already present on machine/);

    await page.locator("#policy").selectOption("Never");
    await page.locator("#present").uncheck();
    d = await decision();
    assert.deepEqual([d.policy, d.action, d.rule], ["Never", "ErrImageNeverPull", "Never"]);
    assert.match(d.text, /Container image "nginx:1\.27" is not present with pull policy of Never/);

    // AlwaysPullImages turns Never into Always.
    await page.locator("#always-pull").check();
    d = await decision();
    assert.deepEqual([d.policy, d.action, d.rule], ["Always", "pull", "admission"]);
    assert.match(d.text, /AlwaysPullImages/);

    // Unset with :latest: Always by the seed's third rule, with the :latest advice.
    await page.locator("#always-pull").uncheck();
    await page.locator("#policy").selectOption("");
    await typeReference(page, "nginx:latest");
    await waitForParts(page, "latest");
    d = await decision();
    assert.deepEqual([d.policy, d.action, d.rule], ["Always", "pull", "unset-latest"]);
    assert.match(d.text, /you cannot tell which version runs/);
    await shot(page, "03-decision");

    // The same view in the dark theme: the parts keep their colours' names and stay readable.
    await page.emulateMedia({ colorScheme: "dark" });
    await typeReference(page, "my-registry.example.com:5000/example/web-example:v1.0.1");
    const parts = await waitForParts(page, "v1.0.1");
    const bg = await cardBackground(page);
    assert.ok(hsl(bg).l < 0.2, `dark card background: ${bg}`);
    for (const p of parts) {
      const rgb = rgbOf(p.color);
      const name = SEED_COLOURS[p.part] ?? "";
      assert.ok(COLOUR_NAMES[name]?.(hsl(rgb)), `dark: ${p.part} should be ${name}, is ${p.color}`);
      assert.ok(
        contrast(rgb, bg) >= 4.5,
        `dark: ${p.part} contrast ${contrast(rgb, bg).toFixed(2)}`,
      );
    }
    await settled(page);
    await shot(page, "04-reference-dark");
    await page.emulateMedia({ colorScheme: "light" });
  });

  it("moves between views with the keyboard, focus visible", async () => {
    await page.locator("#tab-image").focus();
    await page.keyboard.press("ArrowRight");
    assert.equal(await page.locator("#tab-manifests").getAttribute("aria-selected"), "true");
    assert.equal(await page.locator("#view-manifests").isVisible(), true);
    assert.equal(await page.locator("#view-image").isVisible(), false);
    const outline = await page.$eval("#tab-manifests", (el) => {
      const cs = getComputedStyle(el);
      return [document.activeElement === el, cs.outlineStyle, cs.outlineWidth];
    });
    assert.deepEqual(outline, [true, "solid", "3px"]);
    await page.keyboard.press("End");
    assert.equal(await page.locator("#tab-pin").getAttribute("aria-selected"), "true");
    await page.keyboard.press("Home");
    assert.equal(await page.locator("#tab-image").getAttribute("aria-selected"), "true");
    // Every form control has a label.
    const unlabelled = await page.$$eval("input, select, textarea", (els) =>
      els
        .filter(
          (e) => (e as HTMLInputElement).labels?.length === 0 && !e.getAttribute("aria-label"),
        )
        .map((e) => e.id),
    );
    assert.deepEqual(unlabelled, []);
  });

  it("reads a pasted manifest into a table and downloads the defaulted YAML", async () => {
    await page.locator("#tab-manifests").click();
    const yaml = [
      "apiVersion: v1",
      "kind: Pod",
      "metadata:",
      "  name: shop",
      "spec:",
      "  initContainers:",
      "  - name: init",
      "    image: busybox",
      "  containers:",
      "  - name: web",
      "    image: registry.example.com/shop/web:2.1",
      "  - name: sidecar",
      "    image: envoy:v1.30",
      "    imagePullPolicy: Sometimes",
      "",
    ].join("\n");
    await page.locator("#manifest-text").fill(yaml);
    await page.getByRole("button", { name: "Check" }).click();
    await page.locator("#manifest-table tbody tr").first().waitFor();
    const rows = await page.$$eval("#manifest-table tbody tr", (trs) =>
      trs.map((tr) =>
        Array.from(tr.querySelectorAll("td")).map((td) => (td as HTMLElement).innerText),
      ),
    );
    assert.equal(rows.length, 3);
    const [init, web, sidecar] = rows as [string[], string[], string[]];
    assert.match(init[1] ?? "", /^init/);
    assert.match(init[3] ?? "", /^Always/);
    assert.match(init[5] ?? "", /latest-tag/);
    assert.match(web[1] ?? "", /^web/);
    assert.match(web[3] ?? "", /^IfNotPresent/);
    assert.match(web[4] ?? "", /present: uses the image on the node/);
    assert.match(web[4] ?? "", /absent: pulls the image/);
    assert.match(
      sidecar[3] ?? "",
      /^invalid\nwritten Sometimes: imagePullPolicy "Sometimes" is not one of/i,
    );
    assert.match(
      sidecar[5] ?? "",
      /spec\.containers\[1\]\.imagePullPolicy: Unsupported value: "Sometimes": supported values: "Always", "IfNotPresent", "Never"/,
    );
    assert.match(
      await page.locator("#manifest-summary").innerText(),
      /^3 containers, 1 error, 1 warning \(1 object checked\)$/,
    );
    await shot(page, "05-manifests");

    const [download] = await Promise.all([
      page.waitForEvent("download"),
      page.locator("#manifest-download").click(),
    ]);
    assert.equal(download.suggestedFilename(), "defaulted.yaml");
    const text = readFileSync((await download.path()) ?? "", "utf8");
    // Defaulted: imagePullPolicy written where it was missing, comments and layout kept.
    assert.match(text, /- name: init\n {4}image: busybox\n {4}imagePullPolicy: Always\n/);
    assert.match(
      text,
      /- name: web\n {4}image: registry\.example\.com\/shop\/web:2\.1\n {4}imagePullPolicy: IfNotPresent\n/,
    );

    // YAML that does not parse: the parser's message, in place.
    await page.locator("#manifest-text").fill("kind: Pod\nspec: {containers: [\n");
    await page.getByRole("button", { name: "Check" }).click();
    const err = page.locator("#manifest-result .msg.error");
    await err.waitFor();
    assert.match(
      await err.innerText(),
      /^Cannot read the manifests: manifest:3:1: Flow sequence in block collection must be sufficiently indented and end with a \] \(and 1 more\) \[INPUT_UNREADABLE\]$/,
    );
    assert.equal(await page.locator("#manifest-download").isDisabled(), true);

    // Uploaded, the file's name is in the message (as `kimg policy FILE` says it).
    await page.locator("#manifest-file").setInputFiles({
      name: "bad.yaml",
      mimeType: "text/yaml",
      buffer: Buffer.from("kind: Pod\nspec: {containers: [\n"),
    });
    await page.waitForFunction(() =>
      document.querySelector("#manifest-result .msg.error")?.textContent?.includes("bad.yaml:3:1:"),
    );
    assert.equal(
      await page.locator("#manifest-text").inputValue(),
      "kind: Pod\nspec: {containers: [\n",
    );
  });

  it("pulls an image from the registry with live per-layer progress to the end", async () => {
    await page.locator("#tab-pull").click();
    await page.locator("#pull-ref").fill(imageRef);
    // Record every state each layer's row goes through while the events arrive.
    await page.evaluate(() => {
      const seen: Record<string, string[]> = {};
      (window as unknown as { seen: typeof seen }).seen = seen;
      new MutationObserver(() => {
        for (const li of document.querySelectorAll("#pull-layers li")) {
          const d = li.dataset.digest ?? "";
          const list = seen[d] ?? [];
          seen[d] = list;
          const st = `${li.dataset.status}`;
          if (list[list.length - 1] !== st) list.push(st);
        }
      }).observe(document.querySelector("#pull-layers") as Element, {
        subtree: true,
        childList: true,
        attributes: true,
        characterData: true,
      });
    });
    await page.locator("#pull-start").click();
    const outcome = page.locator("#pull-outcome");
    await outcome.waitFor({ timeout: 60_000 });
    assert.equal(
      await outcome.getAttribute("data-action"),
      "pull",
      await page.locator("#pull-status").innerText(),
    );
    const layers = await page.$$eval("#pull-layers li", (lis) =>
      lis.map((li) => {
        const bar = li.querySelector("progress") as HTMLProgressElement;
        return {
          digest: (li as HTMLElement).dataset.digest,
          status: (li as HTMLElement).dataset.status,
          value: bar.value,
          max: bar.max,
          text: (li as HTMLElement).innerText,
        };
      }),
    );
    assert.deepEqual(
      layers.map((l) => l.digest),
      img.layers.map((l) => l.digest),
    );
    for (const [i, l] of layers.entries()) {
      assert.equal(l.status, "pulled", l.text);
      assert.equal(l.max, img.layers[i]?.size);
      assert.equal(l.value, l.max, `layer ${i + 1} bar at the end`);
      assert.match(l.text, /Pull complete/);
    }
    const seen = await page.evaluate(
      () => (window as unknown as { seen: Record<string, string[]> }).seen,
    );
    const big = seen[img.layers[0]?.digest ?? ""] ?? [];
    // Waiting → downloading (drawn while bytes arrived) → complete → pulled.
    assert.deepEqual(big, ["waiting", "downloading", "complete", "pulled"], JSON.stringify(seen));
    const status = await page.locator("#pull-status").innerText();
    assert.match(status, new RegExp(`^Pulled: Successfully pulled image "${esc(imageRef)}"`));
    // The same lines `kimg pull --progress plain` prints.
    const log = await page.locator("#pull-log").textContent();
    assert.match(
      log ?? "",
      new RegExp(
        `: resolved to ${img.manifestDigest} \\(application/vnd\\.oci\\.image\\.manifest\\.v1\\+json, ${img.manifestSize} B\\)`,
      ),
    );
    assert.match(
      log ?? "",
      new RegExp(
        `${img.layers[0]?.digest.slice(0, 19)}: downloading ${formatBytes(img.layers[0]?.size ?? 0)}`,
      ),
    );
    assert.match(log ?? "", new RegExp(`${img.layers[0]?.digest.slice(0, 19)}: download complete`));
    const size = img.manifestSize + img.configSize + img.layers.reduce((n, l) => n + l.size, 0);
    assert.match(
      log ?? "",
      new RegExp(
        `Pulled ${esc(imageRef)}: digest ${img.manifestDigest}, ${esc(formatBytes(size))}, 3 layers \\(${esc(formatBytes(size))} downloaded\\) in \\d`,
      ),
    );
    await page.locator("#pull-log-box summary").click();
    await shot(page, "06-pull");

    // Again with IfNotPresent: the kubelet's "already present" and no download.
    await page.locator("#pull-policy").selectOption("IfNotPresent");
    await page.locator("#pull-start").click();
    await page.waitForFunction(
      () => document.querySelector("#pull-outcome")?.getAttribute("data-action") === "use-local",
    );
    assert.match(await page.locator("#pull-status").innerText(), /already present on machine/);

    // A tag the registry does not have: the kubelet's reason with the error.
    await page.locator("#pull-policy").selectOption("");
    await page.locator("#pull-ref").fill(`${reg.host}/example/web-example:v9`);
    await page.locator("#pull-start").click();
    await page.waitForFunction(
      () => document.querySelector("#pull-outcome")?.getAttribute("data-action") === "error",
    );
    assert.equal(await page.locator("#pull-outcome").getAttribute("data-reason"), "ErrImagePull");
    assert.match(await page.locator("#pull-status").innerText(), /^ErrImagePull: .*v9/);

    // Never, and not on the node.
    await page.locator("#pull-policy").selectOption("Never");
    await page.locator("#pull-start").click();
    await page.waitForFunction(
      () =>
        document.querySelector("#pull-outcome")?.getAttribute("data-reason") ===
        "ErrImageNeverPull",
    );
    assert.match(
      await page.locator("#pull-status").innerText(),
      new RegExp(
        `Container image "${reg.host}/example/web-example:v9" is not present with pull policy of Never`,
      ),
    );
    await shot(page, "07-pull-error");
  });

  it("lists the pulled image, inspects it and removes it", async () => {
    await page.locator("#tab-images").click();
    const row = page.locator(`#images-table tbody tr[data-name="${imageRef}"]`);
    await row.waitFor();
    const cells = await row.locator("td").allInnerTexts();
    const size = img.manifestSize + img.configSize + img.layers.reduce((n, l) => n + l.size, 0);
    assert.equal(cells[0], `${reg.host}/example/web-example`);
    assert.equal(cells[1], "v1.0.1");
    assert.equal(cells[2], img.manifestDigest.slice(0, 19));
    assert.equal(cells[3], formatBytes(size));
    assert.equal(cells[4], "0");
    assert.match(cells[5] ?? "", /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);

    await row.getByRole("button", { name: `Inspect ${imageRef}` }).click();
    const layerRows = page.locator("#inspect-layers tbody tr");
    await layerRows.first().waitFor();
    const digests = await page.$$eval("#inspect-layers tbody tr td:nth-child(2)", (tds) =>
      tds.map((td) => td.textContent),
    );
    assert.deepEqual(
      digests,
      img.layers.map((l) => l.digest),
    );
    const body = await page.locator("#inspect-body").innerText();
    assert.match(body, new RegExp(`config\\s+${img.configDigest}`));
    assert.match(body, /entrypoint\s+\["\/usr\/local\/bin\/web"\]/);
    assert.ok(body.includes("note=\\x1b]0;pwned\\a\\x1b[2J\\r\\u202eevil"), body);
    for (const c of ["\u001b", "\u0007", "\u202e"])
      assert.ok(!body.includes(c), "raw control shown");
    await shot(page, "08-images-inspect");

    page.once("dialog", (d) => {
      assert.match(d.message(), /Remove .*web-example:v1\.0\.1/);
      d.accept();
    });
    await row.getByRole("button", { name: `Remove ${imageRef}` }).click();
    await row.waitFor({ state: "detached" });
    const status = await page.locator("#images-status").innerText();
    assert.match(status, new RegExp(`Untagged: ${imageRef.replace(/\./g, "\\.")}`));
    assert.match(status, /Deleted 5 blobs/); // manifest, config, three layers
    assert.equal(await page.locator("#inspect").isVisible(), false);
    assert.equal(await page.locator("#images-empty").isVisible(), true);
    assert.equal(await page.locator("#images-table").isVisible(), false);
    // The store agrees.
    const list = (await page.evaluate(async () =>
      (await fetch("/api/images")).json(),
    )) as unknown[];
    assert.deepEqual(list, []);
    await shot(page, "09-images-removed");
  });

  it("pins pasted manifests in the Pin panel: digests, policy change, and the pinned YAML downloaded", async () => {
    await page.locator("#tab-pin").click();
    const repo = imageRef.replace(/:v1\.0\.1$/, "");
    const yaml = [
      "# the web tier",
      "apiVersion: v1",
      "kind: Pod",
      "metadata: {name: web}",
      "spec:",
      "  containers:",
      "  - name: web",
      `    image: "${imageRef}"   # quoted, with a comment`,
      "  - name: missing",
      `    image: ${repo}:no-such-tag`,
      "",
    ].join("\n");
    await page.locator("#pin-text").fill(yaml);
    await page.getByRole("button", { name: "Resolve & pin" }).click();
    await page.locator("#pin-table tbody tr").first().waitFor();
    const rows = await page.$$eval("#pin-table tbody tr", (trs) =>
      trs.map((tr) =>
        Array.from(tr.querySelectorAll("td")).map((td) => (td as HTMLElement).innerText),
      ),
    );
    assert.equal(rows.length, 2);
    const [web, missing] = rows as [string[], string[]];
    assert.equal(web[0], "manifest:8");
    assert.equal(web[3], img.manifestDigest);
    assert.equal(web[4], "pinned");
    assert.equal(web[5], "IfNotPresent");
    assert.equal(missing[4], "failed");
    assert.match(missing[3] ?? "", /manifest unknown/);
    assert.match(
      await page.locator("#pin-summary").innerText(),
      /^2 containers, 2 images resolved: 1 pinned, 0 already pinned, 0 re-pinned, 0 moved, 1 failed$/,
    );
    await shot(page, "11-pin");
    const [download] = await Promise.all([
      page.waitForEvent("download"),
      page.locator("#pin-download").click(),
    ]);
    assert.equal(download.suggestedFilename(), "pinned.yaml");
    const text = readFileSync((await download.path()) ?? "", "utf8");
    assert.equal(
      text,
      yaml.replace(`"${imageRef}"`, `"${imageRef}@${img.manifestDigest}"`),
      "only the resolved image value changed",
    );
  });

  it("fits a phone's width: no view scrolls sideways", async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    try {
      for (const view of ["image", "manifests", "images", "pull", "pin"]) {
        await page.locator(`#tab-${view}`).click();
        await settled(page);
        const [scroll, client] = await page.evaluate(() => [
          document.documentElement.scrollWidth,
          document.documentElement.clientWidth,
        ]);
        assert.ok(scroll <= client, `${view}: page is ${scroll}px wide in a ${client}px viewport`);
      }
      await page.locator("#tab-image").click();
      await typeReference(page, "eipwork/kuboard:v3");
      await waitForParts(page, "v3");
      await shot(page, "10-narrow");
    } finally {
      await page.setViewportSize({ width: 1280, height: 900 });
    }
  });

  it("ran with no script error, CSP violation or outside request", () => {
    assert.deepEqual(problems, []);
  });
});
