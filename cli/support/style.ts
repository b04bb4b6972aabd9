// ANSI colours, only when the stream is a terminal (and NO_COLOR is unset), so piped output and
// files stay plain text. FORCE_COLOR=1 turns them on anyway (useful to preview `run watch` in logs).

type Paint = (text: string) => string;

export interface Style {
  enabled: boolean;
  bold: Paint;
  dim: Paint;
  red: Paint;
  green: Paint;
  yellow: Paint;
  blue: Paint;
  magenta: Paint;
  cyan: Paint;
}

export function colorEnabled(stream: NodeJS.WriteStream, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.NO_COLOR) return false;
  if (env.FORCE_COLOR && env.FORCE_COLOR !== "0") return true;
  return Boolean(stream.isTTY);
}

export function styleFor(stream: NodeJS.WriteStream = process.stdout): Style {
  const enabled = colorEnabled(stream);
  const sgr = (open: number, close: number): Paint => (enabled ? (t) => `\u001b[${open}m${t}\u001b[${close}m` : (t) => t);
  return {
    enabled,
    bold: sgr(1, 22),
    dim: sgr(2, 22),
    red: sgr(31, 39),
    green: sgr(32, 39),
    yellow: sgr(33, 39),
    blue: sgr(34, 39),
    magenta: sgr(35, 39),
    cyan: sgr(36, 39),
  };
}

const ANSI = /\u001b\[[0-9;]*[A-Za-z]/g;

/** Printed width of a string: escape codes take no columns. */
export function visibleLength(text: string): number {
  return [...text.replace(ANSI, "")].length;
}

export function statusColor(style: Style, status: string): string {
  switch (status) {
    case "SUCCEEDED":
      return style.green(status);
    case "FAILED":
      return style.red(status);
    case "CANCELLED":
      return style.yellow(status);
    case "RUNNING":
      return style.cyan(status);
    default:
      return style.dim(status);
  }
}
