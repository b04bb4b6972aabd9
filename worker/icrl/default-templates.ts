// Default prompt wording, written for this project. Two families: question answering with a search
// tool and math with a Python tool. Both tools return their output inside <information> tags (the
// tag the scorer strips before checking format), so one observation tag serves every tool.
import { PromptTemplateSchema, type PromptTemplate, type TaskKind } from "../../contracts/index.js";

const QA_INSTRUCTIONS = `Answer the question at the end of this message. You can look things up with a search engine as often as you need before you answer.
Use these tags:
- Put your reasoning inside <think> and </think> before every action.
- To search, write a short query inside <search> and </search>. The top results come back to you inside <information> and </information>.
- When you know the answer, write it inside <answer> and </answer>: only the answer itself (a name, a date, a number, a few words), no explanation. Example: <answer> Mount Everest </answer>.`;

const MATH_INSTRUCTIONS = `Solve the problem at the end of this message. You can run Python code to calculate or to check your work, as often as you need.
Use these tags:
- Put your reasoning inside <think> and </think> before every action.
- To run code, write a complete Python program inside <python> and </python>. Only what the program prints (and any error message) comes back to you inside <information> and </information>, so print every value you need. Each program runs on its own: nothing is kept between runs.
- When you are done, write the final answer inside <answer> and </answer>: just the number or simplified expression, without units or explanation. Example: <answer> 42 </answer>.`;

const SHARED = {
  demonstrationsHeader: "Here are worked examples showing how to use the tags:",
  demonstration: "### Example {index}\nQuestion: {question}\nResponse:\n{trajectory}",
  demonstrationSeparator: "\n\n",
  question: "### Your turn\nQuestion: {question}",
  correction:
    "\n\nMy last output was not a usable action ({reason}). To use a tool I must write {tools}; to finish I must write <answer> final answer </answer>. Let me try again.\n\n",
  toolsDisabled:
    "\n\nI have used all my tool calls: {tools} will not be run any more. I must now give my final answer inside <answer> and </answer>.\n\n",
};

export const QA_SEARCH_TEMPLATE: PromptTemplate = PromptTemplateSchema.parse({
  name: "qa-search-v1",
  task: "qa",
  instructions: QA_INSTRUCTIONS,
  ...SHARED,
});

export const MATH_PYTHON_TEMPLATE: PromptTemplate = PromptTemplateSchema.parse({
  name: "math-python-v1",
  task: "math",
  instructions: MATH_INSTRUCTIONS,
  ...SHARED,
});

export function defaultTemplateFor(task: TaskKind): PromptTemplate {
  return task === "qa" ? QA_SEARCH_TEMPLATE : MATH_PYTHON_TEMPLATE;
}
