// `--set path=value` on the command line: a dotted path under a run's config and a YAML value
// (numbers, booleans, strings, {...}, [...]). The demo's --set and `icrl run fork --set` read it alike.
import { parse } from "yaml";
import { badInput } from "./exit-codes.js";

export interface ConfigSetting {
  path: string[];
  value: unknown;
}

export function parseSetting(entry: string): ConfigSetting {
  const eq = entry.indexOf("=");
  const key = eq > 0 ? entry.slice(0, eq).trim() : "";
  if (!key || key.split(".").some((part) => !part))
    throw badInput(`--set needs path=value (a dotted path under config, e.g. grpo.lr=0.01), got ${JSON.stringify(entry)}.`);
  let value: unknown;
  try {
    value = parse(entry.slice(eq + 1)) as unknown;
  } catch (e) {
    throw badInput(`--set ${key}: the value is not valid YAML (${(e as Error).message.split("\n")[0]}).`);
  }
  return { path: key.split("."), value };
}

/** The settings as one nested patch object, e.g. grpo.lr=0.01 → { grpo: { lr: 0.01 } }. */
export function patchFromSettings(entries: readonly string[]): Record<string, unknown> {
  const patch: Record<string, unknown> = {};
  for (const { path, value } of entries.map(parseSetting)) {
    let node = patch;
    for (const part of path.slice(0, -1)) {
      const next = node[part];
      node = next && typeof next === "object" && !Array.isArray(next) ? (next as Record<string, unknown>) : (node[part] = {});
    }
    node[path.at(-1)!] = value;
  }
  return patch;
}

/** A copy of `base` with `patch` merged in: objects key by key, anything else replaced. */
export function mergeConfig(base: Record<string, unknown>, patch: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(patch)) {
    const current = out[key];
    const bothObjects = [current, value].every((v) => v && typeof v === "object" && !Array.isArray(v));
    out[key] = bothObjects ? mergeConfig(current as Record<string, unknown>, value as Record<string, unknown>) : value;
  }
  return out;
}
