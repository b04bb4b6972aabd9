// Reading a passage corpus. Two line formats are accepted: {id, title, text} (the HotpotQA passages) and
// Search-R1's {id, contents: "Title\ntext"}; a JSON array of either (HippoRAG's corpus) works as well.
import { readFile } from "node:fs/promises";

export interface Passage {
  id: string;
  title: string;
  text: string;
}

/** Search-R1's convention: the first line of `contents` is the title, the rest is the text. */
export function splitContents(contents: string): { title: string; text: string } {
  const newline = contents.indexOf("\n");
  return newline < 0 ? { title: contents, text: "" } : { title: contents.slice(0, newline), text: contents.slice(newline + 1) };
}

export class CorpusFormatError extends Error {
  override name = "CorpusFormatError";
}

function toPassage(value: unknown, position: string, fallbackId: string): Passage {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new CorpusFormatError(`${position}: expected a JSON object`);
  }
  const record = value as Record<string, unknown>;
  const id = typeof record.id === "string" || typeof record.id === "number" ? String(record.id) : fallbackId;
  if (typeof record.contents === "string") return { id, ...splitContents(record.contents) };
  if (typeof record.text === "string") {
    return { id, title: typeof record.title === "string" ? record.title : "", text: record.text };
  }
  throw new CorpusFormatError(`${position}: expected "title" and "text", or "contents"`);
}

export async function readPassages(file: string): Promise<Passage[]> {
  const content = await readFile(file, "utf8");
  if (content.trimStart().startsWith("[")) {
    let records: unknown;
    try {
      records = JSON.parse(content);
    } catch (error) {
      throw new CorpusFormatError(`${file}: not valid JSON (${(error as Error).message})`);
    }
    if (!Array.isArray(records)) throw new CorpusFormatError(`${file}: expected a JSON array`);
    return records.map((record, index) => toPassage(record, `${file} item ${index}`, String(index)));
  }
  const passages: Passage[] = [];
  // Lines split on "\n" only: texts may hold U+2028/U+0085, which are not record separators.
  const lines = content.split("\n");
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index].replace(/\r$/, "");
    if (line.trim() === "") continue;
    let record: unknown;
    try {
      record = JSON.parse(line);
    } catch (error) {
      throw new CorpusFormatError(`${file} line ${index + 1}: not valid JSON (${(error as Error).message})`);
    }
    passages.push(toPassage(record, `${file} line ${index + 1}`, String(passages.length)));
  }
  return passages;
}
