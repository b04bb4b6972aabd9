// model.chatTemplateArgs (run config) and chatTemplateArgs (benchmark config): JSON values passed to the
// model's chat template; the variables the prompt builder sets itself are refused where the config is
// validated, so a run never fails on them later on a worker.
import { describe, expect, it } from "vitest";
import { benchmarkConfigSchema, validateRunConfig } from "../../contracts/index.js";

const base = { model: { path: "/models/m.gguf" }, dataset: { id: "6f1c2b8e-1d2a-4c3b-9e8f-0a1b2c3d4e5f" } };

describe("chat template arguments", () => {
  it("accepts JSON values and keeps them", () => {
    const r = validateRunConfig({ ...base, model: { ...base.model, chatTemplateArgs: { enable_thinking: false, tools: [{ name: "search" }] } } });
    expect(r.ok && r.config.model.chatTemplateArgs).toEqual({ enable_thinking: false, tools: [{ name: "search" }] });
    expect(benchmarkConfigSchema.parse({ chatTemplateArgs: { enable_thinking: true } }).chatTemplateArgs).toEqual({ enable_thinking: true });
  });

  it("refuses the variables the prompt builder sets, naming them", () => {
    const r = validateRunConfig({ ...base, model: { ...base.model, chatTemplateArgs: { add_generation_prompt: false } } });
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.errors).toHaveLength(1);
      expect(r.errors[0].path).toBe("model.chatTemplateArgs");
      expect(r.errors[0].message).toContain("add_generation_prompt");
    }
    expect(benchmarkConfigSchema.safeParse({ chatTemplateArgs: { messages: [] } }).success).toBe(false);
  });

  it("refuses values that are not JSON", () => {
    const r = validateRunConfig({ ...base, model: { ...base.model, chatTemplateArgs: { when: new Date(0) } } });
    expect(r.ok).toBe(false);
  });
});
