// Renders chat messages the way Hugging Face's apply_chat_template(add_generation_prompt=True) does:
// the model's own tokenizer.chat_template through a Jinja engine, with bos_token/eos_token as text.
// This is what the paper's training code (verl) fed the model, including template details such as
// Qwen2.5's default system message, so prompts here match prompts there token for token.
// Models without a template fall back to node-llama-cpp's chat wrapper resolution.
import { Template } from "@huggingface/jinja";
import { LlamaText, resolveChatWrapper, type ChatHistoryItem, type LlamaModel } from "node-llama-cpp";
import { RESERVED_CHAT_TEMPLATE_VARIABLES } from "../../contracts/index.js";
import type { ChatMessage, ChatTemplateArgs } from "./types.js";

export type ChatFormatter = (messages: ChatMessage[], args?: ChatTemplateArgs) => string;

function checkArgs(args: ChatTemplateArgs | undefined): void {
  // Configs are validated against the same list; arguments passed in code are checked here.
  const taken = RESERVED_CHAT_TEMPLATE_VARIABLES.filter((key) => args !== undefined && key in args);
  if (taken.length > 0) throw new Error(`chat template arguments may not set ${taken.join(", ")}: the prompt builder sets them`);
}

export function createChatFormatter(options: { chatTemplate: string | null; bosText: string; eosText: string; model: LlamaModel }): ChatFormatter {
  if (options.chatTemplate) {
    const template = new Template(options.chatTemplate);
    return (messages, args) => {
      checkArgs(args);
      return template.render({
        ...args,
        messages: messages.map((m) => ({ role: m.role, content: m.content })),
        add_generation_prompt: true,
        bos_token: options.bosText,
        eos_token: options.eosText,
      });
    };
  }
  const wrapper = resolveChatWrapper(options.model);
  return (messages, args) => {
    // node-llama-cpp's built-in wrappers take no template variables: refuse rather than ignore them.
    if (args && Object.keys(args).length > 0) {
      throw new Error("this model has no tokenizer.chat_template, so chat template arguments cannot apply");
    }
    const chatHistory: ChatHistoryItem[] = messages.map((m) =>
      m.role === "assistant" ? { type: "model", response: [m.content] } : { type: m.role, text: m.content },
    );
    chatHistory.push({ type: "model", response: [] });
    const { contextText } = wrapper.generateContextState({ chatHistory });
    // Through tokens and back, so builtin special tokens (BOS...) become their real text.
    return options.model.detokenize(LlamaText(contextText).tokenize(options.model.tokenizer), true);
  };
}
