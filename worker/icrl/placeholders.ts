// Template filling for prompt wording (contracts/prompt.ts describes the placeholders of each field).

/** Replace {name} placeholders in one pass; unknown placeholders are kept verbatim. */
export function fillPlaceholders(template: string, values: Record<string, string>): string {
  return template.replace(/\{([a-zA-Z_]+)\}/g, (whole, name: string) => (Object.hasOwn(values, name) ? values[name] : whole));
}
