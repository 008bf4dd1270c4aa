// ANSI styling for terminal output; a no-op when colour is off. The anatomy colours are the
// seed page's: registry blue, port green, repository purple, image name red, tag brown
// (ANSI yellow renders brown on the classic palette).

export type Style =
  | "registry"
  | "port"
  | "repository"
  | "imageName"
  | "tag"
  | "digest"
  | "separator"
  | "implied"
  | "bold"
  | "dim"
  | "error"
  | "warning"
  | "info"
  | "ok";

const CODES: Readonly<Record<Style, readonly [number, number]>> = {
  registry: [34, 39],
  port: [32, 39],
  repository: [35, 39],
  imageName: [31, 39],
  tag: [33, 39],
  digest: [36, 39],
  separator: [0, 0],
  implied: [2, 22],
  bold: [1, 22],
  dim: [2, 22],
  error: [31, 39],
  warning: [33, 39],
  info: [36, 39],
  ok: [32, 39],
};

export type Painter = (style: Style, text: string) => string;

export function painter(color: boolean): Painter {
  if (!color) return (_style, text) => text;
  return (style, text) => {
    const [open, close] = CODES[style];
    return open === 0 ? text : `\x1b[${open}m${text}\x1b[${close}m`;
  };
}
