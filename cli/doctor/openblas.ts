// Debian's torch runs its CPU matrix products through the system BLAS; without OpenBLAS it falls back to
// the reference BLAS and the learner becomes many times slower, so this is a warning, not a failure.
import { execFile } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { type CheckResult, ok, warn } from "./check.js";

const FIX = "sudo apt-get install libopenblas0-pthread";

function ldconfigLists(): Promise<string> {
  return new Promise((resolve) => {
    execFile("/sbin/ldconfig", ["-p"], { timeout: 5000 }, (_error, stdout) => resolve(stdout ?? ""));
  });
}

/** Debian keeps each OpenBLAS flavour in its own directory under the multiarch lib dir. */
function openblasDirs(): string[] {
  const found: string[] = [];
  for (const lib of ["/usr/lib", "/lib"]) {
    if (!existsSync(lib)) continue;
    for (const entry of readdirSync(lib)) {
      const dir = `${lib}/${entry}/openblas-pthread`;
      if (existsSync(dir)) found.push(dir);
    }
  }
  return found;
}

export async function checkOpenblas(platform = process.platform): Promise<CheckResult> {
  if (platform !== "linux") return ok("openblas", `not needed on ${platform}`);
  const line = (await ldconfigLists()).split("\n").find((l) => l.includes("libopenblas"));
  if (line) return ok("openblas", line.split("=>").at(-1)?.trim() ?? "found");
  const dirs = openblasDirs();
  if (dirs.length > 0) return ok("openblas", dirs[0]!);
  return warn("openblas", "OpenBLAS not found: torch on the CPU will be slow", FIX);
}
