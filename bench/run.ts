// `npm run bench -- <name>`: runs bench/<name>.ts, whose default export returns the figures, and prints
// them as one JSON object on the last line.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

type Bench = () => Promise<Record<string, number | string>>;

const here = path.dirname(fileURLToPath(import.meta.url));
const available = fs
  .readdirSync(here)
  .filter((f) => f.endsWith(".ts") && f !== "run.ts")
  .map((f) => f.slice(0, -3))
  .sort();
const name = process.argv[2];

if (!name || !/^[a-z0-9][a-z0-9-]*$/.test(name) || !available.includes(name)) {
  console.error(`usage: npm run bench -- <name>   (available: ${available.join(", ") || "none"})`);
  process.exit(2);
}

const module = (await import(pathToFileURL(path.join(here, `${name}.ts`)).href)) as { default: Bench };
try {
  const figures = await module.default();
  console.log(JSON.stringify({ bench: name, ...figures }));
} catch (error) {
  console.error(`bench ${name} failed:`, error);
  process.exit(1);
}
