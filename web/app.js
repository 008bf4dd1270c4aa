// kimg ui: the page's script. A plain ES module, no build step, no dependencies; served by
// `kimg ui` (src/server/) under the Content-Security-Policy `default-src 'self'`, so nothing
// here is inline, evaluated or fetched from elsewhere. Every text from the API is put into the
// page with textContent (never innerHTML).
//
// Views: "Image & policy" (/api/parse and /api/decide as the user types), "Manifests"
// (/api/manifests), "Images on this node" (/api/images, inspect, remove) and "Pull" (POST
// /api/pull, then the server-sent events of /api/pull/ID/events).

import { formatBytes, formatDuration, progressText, shortDigest as short } from "./lib/format.js";

/** `sha256:` + 12 hex digits (src/format, as the CLI shortens digests); `-` when absent. */
const shortDigest = (d) => (typeof d === "string" && d !== "" ? short(d) : "-");

const TOKEN = document.querySelector('meta[name="kimg-token"]')?.getAttribute("content") ?? "";

// ---------------------------------------------------------------------------------------------
// small helpers

// Control characters in text from the network (registry errors, annotations, config fields) are
// shown escaped as Go's %q writes them, as the CLI does (docs/security.md "Terminal output"):
// C0 but tab and newline (which <pre> blocks need), DEL, C1 and the bidi controls that could
// make text read differently from what it is.
const CONTROLS =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: finding them is the point
  /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
const NAMED = { "\u0007": "\\a", "\b": "\\b", "\f": "\\f", "\r": "\\r", "\v": "\\v" };

/** `s` with its control characters escaped (\x1b, \r, \u009b, \u202e…). */
function visible(s) {
  return String(s).replace(CONTROLS, (c) => {
    if (NAMED[c] !== undefined) return NAMED[c];
    const n = c.charCodeAt(0);
    return n < 0x80
      ? `\\x${n.toString(16).padStart(2, "0")}`
      : `\\u${n.toString(16).padStart(4, "0")}`;
  });
}

/** Builds an element: h("td", { class: "num" }, "3 kB", child, …). null/false children skipped. */
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") el.className = v;
    else if (k === "text") el.textContent = visible(v);
    else if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
    else if (k === "dataset") Object.assign(el.dataset, v);
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(visible(c)));
  }
  return el;
}

const $ = (sel) => document.querySelector(sel);

/** Replaces an element's children; null, undefined and false are skipped, arrays flattened. */
function fill(el, ...children) {
  el.replaceChildren(
    ...children
      .flat(Number.POSITIVE_INFINITY)
      .filter((c) => c !== undefined && c !== null && c !== false)
      .map((c) => (c instanceof Node ? c : document.createTextNode(visible(c)))),
  );
}

/** An error the API answered with ({ error: { code, message } }) or a network failure. */
class ApiError extends Error {
  constructor(status, code, message, body) {
    super(message);
    this.status = status;
    this.code = code;
    this.body = body;
  }
}

/** Requests in flight and input not yet sent: `data-pending` on <html> (0 when settled). */
let pending = 0;
function busy(delta) {
  pending += delta;
  document.documentElement.dataset.pending = String(pending);
}

async function api(path, opts = {}) {
  busy(1);
  try {
    return await request(path, opts);
  } finally {
    busy(-1);
  }
}

async function request(path, { method = "GET", body, token = false }) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (token) headers["X-Kimg-Token"] = TOKEN;
  let res;
  try {
    res = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    throw new ApiError(
      0,
      "NETWORK",
      `kimg ui is not answering (${e.message}); is it still running?`,
    );
  }
  let data = null;
  const text = await res.text();
  if (text !== "") {
    try {
      data = JSON.parse(text);
    } catch {
      throw new ApiError(res.status, "BAD_RESPONSE", `unexpected answer (HTTP ${res.status})`);
    }
  }
  if (!res.ok) {
    const err = data?.error ?? {};
    throw new ApiError(
      res.status,
      err.code ?? `HTTP_${res.status}`,
      err.message ?? `HTTP ${res.status}`,
      data,
    );
  }
  return data;
}

/** `2026-11-28 00:53` in the browser's time zone, with the ISO time as a tooltip. */
function timeCell(iso) {
  if (typeof iso !== "string" || iso === "") return h("td", { class: "nowrap" }, "-");
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return h("td", { class: "nowrap" }, iso);
  const pad = (x) => String(x).padStart(2, "0");
  const text = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  return h("td", { class: "nowrap", title: iso }, h("time", { datetime: iso }, text));
}

function debounce(fn, ms) {
  let t;
  return (...args) => {
    if (t === undefined) busy(1);
    clearTimeout(t);
    t = setTimeout(() => {
      t = undefined;
      try {
        fn(...args);
      } finally {
        busy(-1);
      }
    }, ms);
  };
}

/** A message box: kind is error | warning | info | ok. */
function msg(kind, ...children) {
  return h(
    "div",
    { class: `msg ${kind}`, role: kind === "error" ? "alert" : undefined },
    ...children,
  );
}

function errorBox(e, prefix) {
  return msg(
    "error",
    prefix ? h("strong", {}, `${prefix}: `) : null,
    e.message,
    e.code ? [" ", h("span", { class: "code" }, `[${e.code}]`)] : null,
  );
}

// ---------------------------------------------------------------------------------------------
// tabs (WAI-ARIA tabs: arrow keys, Home and End move between them; the URL hash names the view)

const TABS = ["image", "manifests", "images", "pull", "pin"];
const onShow = {};

function selectTab(name, { focus = false, push = true } = {}) {
  if (!TABS.includes(name)) name = "image";
  for (const t of TABS) {
    const tab = $(`#tab-${t}`);
    const on = t === name;
    tab.setAttribute("aria-selected", String(on));
    tab.tabIndex = on ? 0 : -1;
    $(`#view-${t}`).hidden = !on;
    if (on && focus) tab.focus();
  }
  if (push && location.hash !== `#${name}`) history.replaceState(null, "", `#${name}`);
  onShow[name]?.();
}

function initTabs() {
  const list = $("#tabs");
  list.addEventListener("click", (e) => {
    const tab = e.target.closest('[role="tab"]');
    if (tab) selectTab(tab.id.slice(4));
  });
  list.addEventListener("keydown", (e) => {
    const current = TABS.indexOf(document.activeElement?.id?.slice(4));
    if (current < 0) return;
    let next;
    if (e.key === "ArrowRight") next = (current + 1) % TABS.length;
    else if (e.key === "ArrowLeft") next = (current - 1 + TABS.length) % TABS.length;
    else if (e.key === "Home") next = 0;
    else if (e.key === "End") next = TABS.length - 1;
    else return;
    e.preventDefault();
    selectTab(TABS[next], { focus: true });
  });
  window.addEventListener("hashchange", () => selectTab(location.hash.slice(1), { push: false }));
}

// ---------------------------------------------------------------------------------------------
// Image & policy: the reference's anatomy and what the kubelet does

const PART_LABEL = {
  registry: "registry",
  port: "port",
  repository: "repository",
  imageName: "image name",
  tag: "tag",
  digest: "digest",
};

/** The segments to draw: the API's, plus the implied `:latest` when neither tag nor digest. */
function segmentsOf(p) {
  const segs = [...(p.anatomy?.segments ?? [])];
  const a = p.anatomy ?? {};
  const noTag = (a.tag?.value ?? p.tag ?? "") === "";
  const noDigest = (a.digest?.value ?? p.digest ?? "") === "";
  if (noTag && noDigest && !segs.some((s) => s.part === "tag")) {
    segs.push({ part: "separator", text: ":", implied: true });
    segs.push({ part: "tag", text: "latest", implied: true, note: a.tag?.note });
  }
  return segs;
}

function drawAnatomy(p) {
  const segs = segmentsOf(p);
  const line = h("div", {
    class: "ref-line",
    id: "ref-line",
    role: "group",
    "aria-label": "Reference parts",
  });
  for (const s of segs) {
    if (s.part === "separator") {
      line.append(
        h(
          "span",
          { class: `seg sep${s.implied ? " implied" : ""}`, "aria-hidden": "true" },
          h("span", { class: "text" }, s.text),
        ),
      );
      continue;
    }
    const note = s.note ?? p.anatomy?.[s.part]?.note;
    const label = `${PART_LABEL[s.part] ?? s.part}${s.implied ? " (implied)" : ""}`;
    line.append(
      h(
        "span",
        {
          class: `seg part-${s.part}${s.implied ? " implied" : ""}`,
          dataset: { part: s.part, implied: String(Boolean(s.implied)) },
          title: note,
          "aria-label": `${label}: ${s.text}`,
        },
        h("span", { class: "text" }, s.text),
        h("span", { class: "label" }, label),
      ),
    );
  }
  const notes = [];
  for (const part of Object.keys(PART_LABEL)) {
    const n = p.anatomy?.[part]?.note;
    if (n) notes.push(h("li", {}, h("span", { class: `part-${part}` }, PART_LABEL[part]), ": ", n));
  }
  return [line, notes.length > 0 ? h("ul", { class: "notes" }, notes) : null];
}

function drawForms(p) {
  const dl = $("#forms");
  fill(dl);
  const row = (k, v, mono = true) => {
    dl.append(h("dt", {}, k), h("dd", { class: mono ? "mono" : undefined }, v ?? "-"));
  };
  if (p.valid) {
    row("normalized", p.normalized);
    row("familiar", p.familiar);
    row("CRI image", p.criImage);
  }
  row(
    "if not set",
    h(
      "span",
      {},
      h("span", { class: `pill ${p.defaultPullPolicy}` }, p.defaultPullPolicy),
      " ",
      p.defaultPullPolicyReason ?? "",
    ),
    false,
  );
}

/**
 * The invalid input with what upstream objects to marked: the capitals of the name (a tag may
 * have capitals), white space, or else the whole text.
 */
function markBad(ref, code) {
  const bad = (t) => h("mark", { class: "bad" }, t);
  if (/^\s|\s$/.test(ref)) {
    const m = /^(\s*)(.*?)(\s*)$/s.exec(ref);
    return [
      m[1] ? bad(m[1].replace(/ /g, "\u2423")) : null,
      m[2],
      m[3] ? bad(m[3].replace(/ /g, "\u2423")) : null,
    ];
  }
  if (/UPPERCASE|LOWERCASE/.test(code ?? "")) {
    const at = ref.indexOf("@");
    const slash = ref.lastIndexOf("/", at < 0 ? ref.length : at);
    const colon = ref.indexOf(":", slash + 1);
    const end = at >= 0 ? at : colon >= 0 ? colon : ref.length;
    const out = [];
    let plain = "";
    for (let i = 0; i < ref.length; i++) {
      const ch = ref[i];
      if (i < end && /[A-Z]/.test(ch)) {
        if (plain) out.push(plain);
        plain = "";
        out.push(bad(ch));
      } else plain += ch;
    }
    if (plain) out.push(plain);
    return out;
  }
  return [bad(ref)];
}

let parseSeq = 0;
async function updateAnatomy(ref) {
  const seq = ++parseSeq;
  const box = $("#anatomy");
  const input = $("#image");
  if (ref === "") {
    fill(box, h("p", { class: "status" }, "Type an image reference."));
    fill($("#forms"));
    input.removeAttribute("aria-invalid");
    return;
  }
  let p;
  try {
    p = await api(`/api/parse?ref=${encodeURIComponent(ref)}`);
  } catch (e) {
    if (seq !== parseSeq) return;
    // A parse error may come as an HTTP error whose body is still the parse object.
    if (e.body && typeof e.body === "object" && "valid" in e.body) p = e.body;
    else {
      fill(box, errorBox(e));
      return;
    }
  }
  if (seq !== parseSeq) return;
  if (p.valid === false || p.error) {
    const err = p.error ?? {};
    input.setAttribute("aria-invalid", "true");
    fill(
      box,
      h(
        "div",
        { class: "ref-line bad", id: "ref-line" },
        h("span", { class: "seg" }, h("span", { class: "text" }, markBad(ref, err.code))),
      ),
      msg(
        "error",
        h("strong", {}, "Not a valid reference: "),
        err.message ?? "invalid reference format",
        err.code ? h("span", { class: "code" }, `[${err.code}]`) : null,
      ),
      h(
        "p",
        { class: "help" },
        "On a node the kubelet fails such a container with ",
        h("code", {}, "InvalidImageName"),
        ".",
      ),
    );
  } else {
    input.removeAttribute("aria-invalid");
    fill(box, ...drawAnatomy(p));
  }
  drawForms(p);
}

const ACTION_TEXT = {
  pull: "pulls the image",
  "use-local": "uses the image on the node",
  ErrImageNeverPull: "fails: ErrImageNeverPull",
  InvalidImageName: "fails: InvalidImageName",
};

/** Which line of the seed's rules decided: for highlighting (the reason text is the API's). */
function decidedRule(req, d) {
  if (
    req.alwaysPullImages &&
    d.effectivePolicy === "Always" &&
    (d.admission || req.imagePullPolicy !== "Always")
  )
    return "admission";
  if (req.imagePullPolicy) return req.imagePullPolicy;
  const latest = ["no-tag", "latest-tag", "latest-tag-with-digest"];
  if (latest.includes(d.rule)) return "unset-latest";
  return d.effectivePolicy === "Always" && d.rule === undefined ? "unset-latest" : "unset-other";
}

function eventLine(ev) {
  if (!ev) return null;
  return h(
    "p",
    { class: "event" },
    h("span", { class: `etype-${ev.type}` }, ev.type),
    " ",
    h("strong", {}, ev.reason),
    ": ",
    ev.message,
  );
}

function admissionText(a) {
  if (!a || typeof a !== "object") return null;
  if (typeof a.message === "string") return a.message;
  if (typeof a.reason === "string") return a.reason;
  return "the AlwaysPullImages admission plugin set imagePullPolicy to Always";
}

let decideSeq = 0;
async function updateDecision() {
  const seq = ++decideSeq;
  const req = {
    image: $("#image").value,
    imagePullPolicy: $("#policy").value,
    alwaysPullImages: $("#always-pull").checked,
    present: $("#present").checked,
  };
  const box = $("#decision");
  let d;
  try {
    d = await api("/api/decide", { method: "POST", body: req });
  } catch (e) {
    if (seq !== decideSeq) return;
    fill(box, errorBox(e));
    for (const li of document.querySelectorAll("#rules li")) li.classList.remove("decided");
    return;
  }
  if (seq !== decideSeq) return;
  const action = d.kubelet?.action ?? "";
  const findings = Array.isArray(d.findings) ? d.findings : [];
  const errors = Array.isArray(d.errors) ? d.errors : [];
  fill(
    box,
    h(
      "div",
      { class: "verdict" },
      h("span", {}, "Effective policy"),
      h("span", { class: "policy-badge", id: "effective-policy" }, d.effectivePolicy ?? "-"),
      h("span", {}, "→ the kubelet"),
      h(
        "span",
        { class: `action-badge action-${action}`, id: "kubelet-action", dataset: { action } },
        ACTION_TEXT[action] ?? action,
      ),
    ),
    h(
      "p",
      { id: "decision-reason" },
      h("strong", {}, d.rule === "explicit" ? "As written: " : "Rule: "),
      d.reason ?? "",
    ),
    req.alwaysPullImages && d.admission
      ? msg("info", h("strong", {}, "Admission: "), admissionText(d.admission))
      : null,
    eventLine(d.kubelet?.event),
    d.kubelet?.waiting
      ? msg(
          "error",
          h("strong", {}, "Container waiting: "),
          h("code", {}, d.kubelet.waiting.reason),
          ` ${d.kubelet.waiting.message}`,
        )
      : null,
    errors.map((e) => msg("error", typeof e === "string" ? e : (e.message ?? JSON.stringify(e)))),
    findings.map((f) =>
      msg(
        f.severity === "error" ? "error" : f.severity === "warning" ? "warning" : "info",
        h("strong", {}, `${f.severity}`),
        ` ${f.message}`,
        h("span", { class: "code" }, f.code),
      ),
    ),
  );
  const key = decidedRule(req, d);
  for (const li of document.querySelectorAll("#rules li"))
    li.classList.toggle("decided", li.dataset.rule === key);
}

function initImageView() {
  const image = $("#image");
  const refresh = debounce(() => {
    updateAnatomy(image.value);
    updateDecision();
  }, 120);
  image.addEventListener("input", refresh);
  $("#container-form").addEventListener("change", (e) => {
    if (e.target !== image) updateDecision();
  });
  $("#container-form").addEventListener("submit", (e) => e.preventDefault());
  updateAnatomy(image.value);
  updateDecision();
}

// ---------------------------------------------------------------------------------------------
// Manifests

const EXAMPLE_MANIFEST = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      initContainers:
      - name: migrate
        image: busybox
      containers:
      - name: web
        image: my-registry.example.com:5000/example/web-example:v1.0.1
      - name: cache
        image: redis@sha256:45b23dee08af5e43a7fea6c4cf9c25ccf269ee113168c19722f87876677c5cb2
        imagePullPolicy: Always
`;

let defaultedYaml = null;

function kubeletCell(k) {
  if (!k) return h("td", {}, "-");
  const one = (label, x) =>
    x
      ? h(
          "li",
          {},
          h("span", { class: "small-muted" }, `${label}: `),
          ACTION_TEXT[x.action] ?? x.action,
          x.event
            ? h(
                "div",
                { class: "small-muted", title: x.event.message },
                `${x.event.type} ${x.event.reason}`,
              )
            : null,
        )
      : null;
  return h(
    "td",
    {},
    h("ul", { class: "cell-list" }, one("present", k.imagePresent), one("absent", k.imageAbsent)),
  );
}

function problemsCell(c) {
  const items = [];
  for (const e of c.errors ?? [])
    items.push(h("li", {}, h("span", { class: "sev error" }, "error"), e.message ?? String(e)));
  for (const f of c.findings ?? [])
    items.push(
      h(
        "li",
        {},
        h("span", { class: `sev ${f.severity}` }, f.severity),
        f.message,
        " ",
        h("span", { class: "small-muted" }, `(${f.code})`),
      ),
    );
  return h(
    "td",
    {},
    items.length > 0
      ? h("ul", { class: "cell-list" }, items)
      : h("span", { class: "small-muted" }, "none"),
  );
}

function policyCell(c) {
  const eff = c.effectivePolicy;
  return h(
    "td",
    {},
    eff ? h("span", { class: `pill ${eff}` }, eff) : h("span", { class: "sev error" }, "invalid"),
    h(
      "div",
      { class: "small-muted" },
      c.declaredPolicy == null
        ? "not set: "
        : c.rule === "explicit"
          ? "as written"
          : `written ${c.declaredPolicy}: `,
      c.rule === "explicit" ? "" : (c.reason ?? ""),
    ),
    c.admission
      ? h("div", { class: "small-muted" }, "AlwaysPullImages: ", admissionText(c.admission))
      : null,
  );
}

function renderManifestReport(r) {
  const out = [];
  const s = r.summary ?? {};
  const containers = r.containers ?? [];
  out.push(
    h(
      "p",
      { class: "summary", id: "manifest-summary" },
      `${containers.length} container${containers.length === 1 ? "" : "s"}, ${s.errors ?? 0} error${s.errors === 1 ? "" : "s"}, ${s.warnings ?? 0} warning${s.warnings === 1 ? "" : "s"} (${s.objects ?? 0} object${s.objects === 1 ? "" : "s"} checked)`,
    ),
  );
  for (const p of r.problems ?? []) out.push(msg("error", p.message ?? JSON.stringify(p)));
  if (containers.length > 0) {
    const rows = containers.map((c) =>
      h(
        "tr",
        { dataset: { container: c.containerName ?? "" } },
        h(
          "td",
          { class: "obj" },
          h(
            "div",
            {},
            `${c.kind} `,
            h("strong", {}, `${c.namespace ?? "default"}/${c.name ?? c.generateName ?? "?"}`),
          ),
          h(
            "div",
            { class: "small-muted mono" },
            `${c.fieldPath}${c.line ? ` · line ${c.line}` : ""}`,
          ),
        ),
        h(
          "td",
          {},
          h("strong", {}, c.containerName ?? "-"),
          h("div", { class: "small-muted" }, c.containerType ?? ""),
        ),
        h("td", { class: "mono img" }, JSON.stringify(c.image ?? null)),
        policyCell(c),
        kubeletCell(c.kubelet),
        problemsCell(c),
      ),
    );
    out.push(
      h(
        "div",
        { class: "table-wrap" },
        h(
          "table",
          { class: "data", id: "manifest-table" },
          h("caption", { class: "sr-only" }, "Containers in the manifests"),
          h(
            "thead",
            {},
            h(
              "tr",
              {},
              [
                "Object",
                "Container",
                "Image",
                "Effective policy",
                "On the node",
                "Findings and errors",
              ].map((t) => h("th", { scope: "col" }, t)),
            ),
          ),
          h("tbody", {}, rows),
        ),
      ),
    );
  }
  for (const sk of r.skipped ?? [])
    out.push(
      h(
        "p",
        { class: "small-muted" },
        `line ${sk.line ?? "?"}: ${sk.kind ?? "?"} ${sk.name ?? ""}: ${sk.reason ?? "skipped"}`,
      ),
    );
  for (const n of r.notes ?? []) out.push(h("p", { class: "small-muted" }, `note: ${n}`));
  return out;
}

/** The uploaded file's name, for messages (`deploy.yaml:3:1: …`); cleared by editing. */
let manifestSource = "";

async function checkManifests() {
  const text = $("#manifest-text").value;
  const box = $("#manifest-result");
  const always = $("#manifest-always").checked;
  defaultedYaml = null;
  $("#manifest-download").disabled = true;
  fill(box, h("div", { class: "card" }, h("p", { class: "status" }, "Checking…")));
  try {
    const r = await api(`/api/manifests${always ? "?alwaysPullImages=1" : ""}`, {
      method: "POST",
      body: manifestSource ? { text, source: manifestSource } : { text },
    });
    fill(box, h("div", { class: "card" }, renderManifestReport(r)));
    if (typeof r.defaultedYaml === "string") {
      defaultedYaml = r.defaultedYaml;
      $("#manifest-download").disabled = false;
    }
  } catch (e) {
    fill(box, h("div", { class: "card" }, errorBox(e, "Cannot read the manifests")));
  }
}

/** Offers `text` as a download: `NAME.json` when it is JSON, else `NAME.yaml`. */
function downloadManifest(text, name) {
  const isJson = /^\s*[[{]/.test(text);
  const blob = new Blob([text], { type: isJson ? "application/json" : "text/yaml" });
  const a = h("a", {
    href: URL.createObjectURL(blob),
    download: isJson ? `${name}.json` : `${name}.yaml`,
  });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
}

function initManifests() {
  const ta = $("#manifest-text");
  ta.value = EXAMPLE_MANIFEST;
  $("#manifest-form").addEventListener("submit", (e) => {
    e.preventDefault();
    checkManifests();
  });
  ta.addEventListener("input", () => {
    manifestSource = "";
  });
  ta.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      checkManifests();
    }
  });
  $("#manifest-file").addEventListener("change", async (e) => {
    const f = e.target.files?.[0];
    if (!f) return;
    ta.value = await f.text();
    manifestSource = f.name;
    checkManifests();
  });
  $("#manifest-download").addEventListener("click", () => {
    if (defaultedYaml !== null) downloadManifest(defaultedYaml, "defaulted");
  });
}

// ---------------------------------------------------------------------------------------------
// Pin (POST /api/pin): each container's image resolved to its digest, the policy change shown

let pinnedYaml = null;

const PIN_STATUS = {
  pinned: "pinned",
  "up-to-date": "already pinned",
  updated: "re-pinned (tag moved)",
  moved: "tag moved: not re-pinned",
  "digest-only": "digest only",
  failed: "failed",
};

function renderPin(r) {
  const s = r.summary;
  const rows = r.sites.map((x) => {
    const policy =
      x.policy.before === x.policy.after
        ? `${x.policy.after ?? "?"}`
        : `${x.policy.before ?? "?"} → ${x.policy.after ?? "?"}`;
    return h(
      "tr",
      { class: x.status === "failed" ? "bad" : x.policy.changed ? "warn" : "" },
      h("td", {}, `${x.source}:${x.line}`),
      h("td", {}, `${x.kind} ${x.name ?? ""} / ${x.container ?? "?"}`),
      h("td", { class: "mono" }, x.image),
      h("td", { class: "mono" }, x.digest ?? (x.error ? x.error.message : "")),
      h("td", {}, PIN_STATUS[x.status] ?? x.status),
      h("td", { title: x.policy.reason ?? "" }, policy),
    );
  });
  return [
    h(
      "p",
      { class: "status", id: "pin-summary" },
      `${s.containers} containers, ${r.resolutions} images resolved: ${s.pinned} pinned, ${s.upToDate} already pinned, ${s.updated} re-pinned, ${s.moved} moved, ${s.failed} failed`,
    ),
    h(
      "div",
      { class: "table-wrap" },
      h(
        "table",
        { class: "data", id: "pin-table" },
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            ["where", "container", "image", "digest", "status", "pull policy"].map((t) =>
              h("th", { scope: "col" }, t),
            ),
          ),
        ),
        h("tbody", {}, rows),
      ),
    ),
  ];
}

async function runPin() {
  const box = $("#pin-result");
  pinnedYaml = null;
  $("#pin-download").disabled = true;
  fill(box, h("div", { class: "card" }, h("p", { class: "status" }, "Resolving…")));
  try {
    const update = $("#pin-update").checked;
    const r = await api(`/api/pin${update ? "?update=1" : ""}`, {
      method: "POST",
      body: { text: $("#pin-text").value },
      token: true,
    });
    fill(box, h("div", { class: "card" }, renderPin(r)));
    pinnedYaml = r.pinnedYaml;
    $("#pin-download").disabled = false;
  } catch (e) {
    fill(box, h("div", { class: "card" }, errorBox(e, "Cannot pin")));
  }
}

function initPin() {
  $("#pin-text").value = EXAMPLE_MANIFEST;
  $("#pin-form").addEventListener("submit", (e) => {
    e.preventDefault();
    runPin();
  });
  $("#pin-download").addEventListener("click", () => {
    if (pinnedYaml !== null) downloadManifest(pinnedYaml, "pinned");
  });
}

// ---------------------------------------------------------------------------------------------
// Images on this node

function splitName(name) {
  // `host/path:tag` or `host/path@sha256:…`: the tag is after the last ":" following the last "/".
  const at = name.indexOf("@");
  if (at >= 0) return [name.slice(0, at), "<none>"];
  const slash = name.lastIndexOf("/");
  const colon = name.lastIndexOf(":");
  if (colon > slash) return [name.slice(0, colon), name.slice(colon + 1)];
  return [name, "<none>"];
}

async function loadImages() {
  const status = $("#images-status");
  const tbody = $("#images-table tbody");
  status.textContent = "Loading…";
  let list;
  try {
    const r = await api("/api/images");
    list = Array.isArray(r) ? r : (r.images ?? []);
  } catch (e) {
    fill(status, errorBox(e));
    return;
  }
  status.textContent =
    list.length === 0 ? "" : `${list.length} image${list.length === 1 ? "" : "s"}`;
  $("#images-empty").hidden = list.length > 0;
  $("#images-wrap").hidden = list.length === 0;
  fill(
    tbody,
    ...list.map((img) => {
      const [repo, tag] = splitName(img.name);
      return h(
        "tr",
        { dataset: { name: img.name } },
        h("td", { class: "mono repo" }, repo),
        h("td", { class: "mono nowrap" }, tag),
        h(
          "td",
          { class: "mono nowrap", title: img.manifestDigest },
          shortDigest(img.manifestDigest),
        ),
        h("td", { class: "num nowrap" }, formatBytes(img.size)),
        h(
          "td",
          {
            class: "num",
            title:
              (img.sharedWith ?? []).length > 0
                ? `shared with ${img.sharedWith.join(", ")}`
                : undefined,
          },
          String(img.sharedLayers ?? 0),
        ),
        timeCell(img.pulledAt),
        timeCell(img.lastUsed),
        h(
          "td",
          { class: "actions" },
          h(
            "button",
            {
              type: "button",
              class: "small",
              "aria-label": `Inspect ${img.name}`,
              onclick: () => inspectImage(img.name),
            },
            "Inspect",
          ),
          h(
            "button",
            {
              type: "button",
              class: "small danger",
              "aria-label": `Remove ${img.name}`,
              onclick: () => removeImage(img.name),
            },
            "Remove",
          ),
        ),
      );
    }),
  );
}

function kvList(rows) {
  return h(
    "dl",
    { class: "kv" },
    rows
      .filter(
        ([, v]) =>
          v !== undefined && v !== null && v !== "" && !(Array.isArray(v) && v.length === 0),
      )
      .flatMap(([k, v, mono = true]) => [
        h("dt", {}, k),
        h("dd", { class: mono ? "mono" : undefined }, Array.isArray(v) ? v.join("\n") : String(v)),
      ]),
  );
}

async function inspectImage(name) {
  const panel = $("#inspect");
  const body = $("#inspect-body");
  panel.hidden = false;
  $("#inspect-h").textContent = visible(`Inspect ${name}`);
  fill(body, h("p", { class: "status" }, "Loading…"));
  let i;
  try {
    i = await api(`/api/images/inspect?ref=${encodeURIComponent(name)}`);
  } catch (e) {
    fill(body, errorBox(e));
    return;
  }
  const c = i.config ?? {};
  const layers = i.layers ?? [];
  fill(
    body,
    h(
      "div",
      { class: "inspect-grid" },
      h(
        "div",
        {},
        h("h3", {}, "Image"),
        kvList([
          ["names", i.names],
          [
            "manifest",
            i.manifestDigest
              ? `${i.manifestDigest} (${i.mediaTypes?.manifest ?? "?"}, ${formatBytes(i.manifestSize)})`
              : undefined,
          ],
          ["index", i.indexDigest],
          [
            "config",
            i.configDigest ? `${i.configDigest} (${formatBytes(i.configSize)})` : undefined,
          ],
          ["platform", i.platform],
          ["size", formatBytes(i.size), false],
          ["pulled", i.pulledAt],
          ["last used", i.lastUsed],
          ["credential", i.credential?.kind],
        ]),
      ),
      h(
        "div",
        {},
        h("h3", {}, "Config"),
        kvList([
          ["created", i.created],
          ["author", i.author, false],
          ["entrypoint", c.entrypoint ? JSON.stringify(c.entrypoint) : undefined],
          ["cmd", c.cmd ? JSON.stringify(c.cmd) : undefined],
          ["working dir", c.workingDir],
          ["user", c.user],
          ["env", c.env],
          ["labels", c.labels ? Object.entries(c.labels).map(([k, v]) => `${k}=${v}`) : undefined],
          ["exposed ports", c.exposedPorts],
        ]),
      ),
    ),
    h("h3", {}, `Layers (${layers.length})`),
    h(
      "div",
      { class: "table-wrap" },
      h(
        "table",
        { class: "data", id: "inspect-layers" },
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            ["#", "Digest", "Media type", "Size", "Shared with"].map((t) =>
              h("th", { scope: "col", class: t === "Size" ? "num" : undefined }, t),
            ),
          ),
        ),
        h(
          "tbody",
          {},
          layers.map((l, n) =>
            h(
              "tr",
              {},
              h("td", {}, String(n + 1)),
              h(
                "td",
                { class: "mono", title: l.diffId ? `diff_id ${l.diffId}` : undefined },
                l.digest,
              ),
              h("td", { class: "mono" }, l.mediaType),
              h("td", { class: "num" }, formatBytes(l.size)),
              h(
                "td",
                { class: "mono" },
                (l.sharedWith ?? []).length > 0 ? l.sharedWith.join(", ") : "-",
              ),
            ),
          ),
        ),
      ),
    ),
    i.raw
      ? h(
          "details",
          {},
          h("summary", {}, "Raw manifest and config"),
          h(
            "pre",
            { class: "log raw" },
            JSON.stringify(
              {
                manifest: i.raw.manifest,
                config: i.raw.config,
                ...(i.raw.index ? { index: i.raw.index } : {}),
              },
              null,
              2,
            ),
          ),
        )
      : null,
  );
  panel.scrollIntoView({ block: "nearest" });
  $("#inspect-close").focus();
}

async function removeImage(name) {
  if (
    !window.confirm(
      `Remove ${name} from this node's store? Layers no other image uses are deleted.`,
    )
  )
    return;
  const status = $("#images-status");
  try {
    const r = await api(`/api/images?ref=${encodeURIComponent(name)}`, {
      method: "DELETE",
      token: true,
    });
    const deleted = r?.deleted ?? [];
    await loadImages();
    fill(
      status,
      msg(
        "ok",
        `Untagged: ${r?.untagged ?? name}`,
        h("br"),
        `Deleted ${deleted.length} blob${deleted.length === 1 ? "" : "s"} no other image uses.`,
      ),
    );
    if ($("#inspect-h").textContent === visible(`Inspect ${name}`)) $("#inspect").hidden = true;
  } catch (e) {
    fill(status, errorBox(e, `Cannot remove ${name}`));
  }
}

function initImages() {
  onShow.images = loadImages;
  $("#images-refresh").addEventListener("click", loadImages);
  $("#inspect-close").addEventListener("click", () => {
    $("#inspect").hidden = true;
  });
}

// ---------------------------------------------------------------------------------------------
// Pull: per-layer progress from the server-sent events

const isConfigType = (t) =>
  typeof t === "string" &&
  (t === "application/vnd.oci.image.config.v1+json" ||
    t === "application/vnd.docker.container.image.v1+json" ||
    /config/.test(t));

/** `c960271a4fc5`: 12 hex digits, as docker names layers. */
const layerId = (d) => d.slice(d.indexOf(":") + 1, d.indexOf(":") + 13);

class PullView {
  constructor() {
    this.rows = new Map();
    this.es = null;
  }

  reset(ref) {
    this.es?.close();
    this.es = null;
    this.rows.clear();
    fill($("#pull-layers"));
    $("#pull-log").textContent = "";
    this.setStatus("info", `Pulling ${ref}…`);
  }

  setStatus(kind, ...children) {
    fill($("#pull-status"), msg(kind, ...children));
  }

  log(line) {
    const pre = $("#pull-log");
    pre.append(`${line}\n`);
    pre.scrollTop = pre.scrollHeight;
  }

  row(digest, size) {
    let r = this.rows.get(digest);
    if (r) return r;
    const id = layerId(digest);
    const bar = h("progress", {
      max: String(Math.max(size, 1)),
      value: "0",
      "aria-label": `Layer ${id}`,
    });
    const state = h("span", { class: "state" }, "Waiting");
    const li = h(
      "li",
      { class: "layer", dataset: { digest, status: "waiting" } },
      h("span", { class: "id", title: digest }, id),
      bar,
      state,
    );
    $("#pull-layers").append(li);
    r = { li, bar, state, size, downloaded: false };
    this.rows.set(digest, r);
    return r;
  }

  set(r, status, current, text) {
    r.li.dataset.status = status;
    r.li.classList.toggle("done", status === "complete" || status === "pulled");
    r.li.classList.toggle("skipped", status === "exists");
    r.bar.max = Math.max(r.size, 1);
    r.bar.value = Math.min(current, r.bar.max);
    r.state.textContent = visible(text);
  }

  onProgress(e) {
    const line = progressText(e);
    if (line !== undefined) this.log(line);
    switch (e.type) {
      case "layers":
        for (const l of e.layers ?? []) this.row(l.digest, l.size);
        break;
      case "blob-start":
        if (!this.rows.has(e.digest) && isConfigType(e.mediaType)) break;
        this.set(
          this.row(e.digest, e.size),
          "downloading",
          e.offset ?? 0,
          `Downloading ${formatBytes(e.offset ?? 0)} / ${formatBytes(e.size)}`,
        );
        break;
      case "blob-progress": {
        const r = this.rows.get(e.digest);
        if (r)
          this.set(
            r,
            "downloading",
            e.current,
            `Downloading ${formatBytes(e.current)} / ${formatBytes(e.size)}`,
          );
        break;
      }
      case "blob-done": {
        if (!this.rows.has(e.digest) && isConfigType(e.mediaType)) break;
        const r = this.row(e.digest, e.size);
        r.downloaded = true;
        this.set(r, "complete", e.size, `Download complete · ${formatBytes(e.size)}`);
        break;
      }
      case "blob-skipped": {
        if (!this.rows.has(e.digest) && isConfigType(e.mediaType)) break;
        this.set(this.row(e.digest, e.size), "exists", e.size, "Already exists");
        break;
      }
      case "done":
        this.result = e.result;
        break;
    }
  }

  async start(ref, policy, platform) {
    this.reset(ref);
    this.started = Date.now();
    $("#pull-start").disabled = true;
    let id;
    try {
      const body = { ref };
      if (policy) body.policy = policy;
      if (platform) body.platform = platform;
      ({ id } = await api("/api/pull", { method: "POST", body, token: true }));
    } catch (e) {
      this.fail({ code: e.code, message: e.message, reason: e.body?.error?.reason });
      return;
    }
    const es = new EventSource(`/api/pull/${encodeURIComponent(id)}/events`);
    this.es = es;
    let finished = false;
    es.addEventListener("progress", (m) => this.onProgress(JSON.parse(m.data)));
    es.addEventListener("result", (m) => {
      finished = true;
      es.close();
      this.succeed(JSON.parse(m.data));
    });
    es.addEventListener("error", (m) => {
      // A server-sent `event: error` has data; the EventSource's own connection error has none.
      if (typeof m.data === "string" && m.data !== "") {
        finished = true;
        es.close();
        this.fail(JSON.parse(m.data));
      } else if (!finished) {
        es.close();
        this.fail({ code: "NETWORK", message: "the event stream broke off before the pull ended" });
      }
    });
  }

  succeed(r) {
    $("#pull-start").disabled = false;
    for (const row of this.rows.values()) {
      if (row.downloaded)
        this.set(row, "pulled", row.size, `Pull complete · ${formatBytes(row.size)}`);
    }
    // The summary line `kimg pull` ends with (src/cli/commands/pull.ts), then the kubelet's words.
    const i = r.image;
    let summary = null;
    if (i?.upToDate) summary = `Image is up to date for ${i.ref}`;
    else if (i)
      summary = `Pulled ${i.ref}: digest ${i.digest}, ${formatBytes(i.size)}, ${i.layers} layers (${formatBytes(i.bytesDownloaded)} downloaded) in ${formatDuration(Date.now() - this.started)}`;
    if (summary) this.log(summary);
    else if (r.message) this.log(r.message);
    const kind = r.action === "use-local" ? "info" : "ok";
    this.setStatus(
      kind,
      h(
        "strong",
        { id: "pull-outcome", dataset: { action: r.action ?? "" } },
        r.action === "use-local" ? "Already present" : "Pulled",
      ),
      ": ",
      r.message ?? "",
      summary ? h("div", { class: "small-muted mono", id: "pull-summary" }, summary) : null,
    );
    loadImagesQuietly();
  }

  fail(err) {
    $("#pull-start").disabled = false;
    const reason = err.reason ?? "ErrImagePull";
    this.log(`error: ${err.message}`);
    this.setStatus(
      "error",
      h("strong", { id: "pull-outcome", dataset: { action: "error", reason } }, reason),
      `: ${err.message ?? "pull failed"}`,
      err.code ? h("span", { class: "code" }, `[${err.code}]`) : null,
    );
  }
}

function loadImagesQuietly() {
  loadImages().catch(() => {});
}

function initPull() {
  const view = new PullView();
  $("#pull-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const ref = $("#pull-ref").value.trim();
    if (ref === "") return;
    view.start(ref, $("#pull-policy").value, $("#pull-platform").value.trim());
  });
}

// ---------------------------------------------------------------------------------------------

initTabs();
initImageView();
initManifests();
initPin();
initImages();
initPull();
selectTab(location.hash.slice(1) || "image", { push: false });
