// When Postgres runs as another OS user (we are root), that user must be able to walk down to its
// data directory. Directories we create get o+x; existing ones we never loosen silently, we say
// which one blocks and how to fix it.
import fs from "node:fs";
import path from "node:path";
import type { RunAs } from "./postgres-runtime.js";

/** Creates the parent directories of `dataDir` and checks that `runAs` can traverse all of them. */
export async function prepareDataDirParents(dataDir: string, runAs: RunAs | null): Promise<void> {
  const parent = path.dirname(dataDir);
  const firstCreated = await fs.promises.mkdir(parent, { recursive: true });
  if (!runAs) return;
  if (firstCreated) {
    // chmod every directory from the first one mkdir created down to the parent.
    const created: string[] = [];
    for (let dir = parent; ; dir = path.dirname(dir)) {
      created.push(dir);
      if (dir === firstCreated || dir === path.dirname(dir)) break;
    }
    for (const dir of created) {
      const { mode } = await fs.promises.stat(dir);
      await fs.promises.chmod(dir, (mode & 0o7777) | 0o001);
    }
  }
  for (let dir = parent; ; dir = path.dirname(dir)) {
    const stat = await fs.promises.stat(dir);
    if (!canSearch(stat, runAs)) {
      throw new Error(
        `Postgres runs as OS user "${runAs.user}" (uid ${runAs.uid}), which cannot enter ${dir} ` +
          `(mode ${(stat.mode & 0o777).toString(8).padStart(3, "0")}). Make it traversable ` +
          `(chmod o+x ${dir}) or choose a data directory elsewhere.`,
      );
    }
    if (dir === path.dirname(dir)) break;
  }
}

function canSearch(stat: fs.Stats, who: RunAs): boolean {
  if (stat.uid === who.uid) return (stat.mode & 0o100) !== 0;
  if (stat.gid === who.gid) return (stat.mode & 0o010) !== 0;
  return (stat.mode & 0o001) !== 0;
}
