// Human rendering of an ImageExplanation: the seed's coloured anatomy, then the forms, the
// CRI image string and the defaulted pull policy.

import type { ImageExplanation } from "../../core.ts";
import type { Painter } from "./style.ts";

const LABEL_WIDTH = 12;

function row(label: string, value: string): string {
  return `  ${label.padEnd(LABEL_WIDTH)}${value}`;
}

export function renderExplanation(e: ImageExplanation, paint: Painter): string {
  const lines: string[] = [];
  if (!e.valid || e.anatomy === null) {
    lines.push(paint("bold", e.input === "" ? '""' : e.input));
    lines.push(
      row("error", `${paint("error", e.error?.message ?? "invalid")}  [${e.error?.code}]`),
    );
    lines.push(
      // Kubernetes' defaulting parses with ParseImageName whatever --mode is: a name this mode
      // refuses (`nginx` in named mode) may still default by its tag (issue 10 item 8).
      row("pull policy", `${e.defaultPullPolicy} if unset: ${e.defaultPullPolicyReason}`),
    );
    lines.push(
      row(
        "on a node",
        e.defaultPullPolicyRule === "unparsable" || e.defaultPullPolicyRule === "empty-image"
          ? "the kubelet fails the container with InvalidImageName"
          : "valid as a pod image: the kubelet parses it with ParseImageName, which accepts it",
      ),
    );
    return lines.join("\n");
  }
  const a = e.anatomy;
  const drawn = a.segments
    .map((s) => {
      const text = s.part === "separator" ? s.text : paint(s.part, s.text);
      return s.implied ? paint("implied", text) : text;
    })
    .join("");
  lines.push(drawn);
  const parts = [
    ["registry", a.registry],
    ["port", a.port],
    ["repository", a.repository],
    ["image name", a.imageName],
    ["tag", a.tag],
    ["digest", a.digest],
  ] as const;
  const styles = ["registry", "port", "repository", "imageName", "tag", "digest"] as const;
  parts.forEach(([label, p], i) => {
    if (p.value === "" && p.note === undefined) {
      lines.push(row(label, paint("dim", "-")));
      return;
    }
    const value = p.value === "" ? paint("dim", "-") : paint(styles[i] ?? "bold", p.value);
    const implied = p.implied ? paint("dim", " (implied)") : "";
    const note = p.note !== undefined ? paint("dim", `  ${p.note}`) : "";
    lines.push(row(label, `${value}${implied}${note}`));
  });
  if (e.mode !== "normalized" && e.string !== null) lines.push(row(e.mode, e.string));
  if (e.normalized !== null) lines.push(row("normalized", e.normalized));
  if (e.familiar !== null) lines.push(row("familiar", e.familiar));
  if (e.repoToPull !== undefined && e.repoToPull !== null)
    lines.push(row("repoToPull", e.repoToPull));
  if (e.criImage !== null) lines.push(row("CRI image", e.criImage));
  lines.push(
    row(
      "pull policy",
      `${paint("bold", e.defaultPullPolicy)} if unset: ${e.defaultPullPolicyReason}`,
    ),
  );
  return lines.join("\n");
}
