// The local sandbox needs three host programs. Missing ones are reported together, each with the Debian
// package that provides it, so an operator fixes the machine in one step instead of reading a spawn error.
import { accessSync, constants } from "node:fs";
import path from "node:path";

export interface SandboxPrograms {
  bwrap: string;
  prlimit: string;
  setpriv: string;
}

const PACKAGES: Record<keyof SandboxPrograms, string> = {
  bwrap: "bubblewrap",
  prlimit: "util-linux",
  setpriv: "util-linux",
};

// Debian installs all three here; PATH is searched first so a custom install still works.
const FALLBACK_DIRS = ["/usr/bin", "/bin", "/usr/sbin", "/sbin"];

function findExecutable(name: string, searchPath: string | undefined, fallbackDirs: string[]): string | null {
  const dirs = [...(searchPath ?? "").split(path.delimiter).filter(Boolean), ...fallbackDirs];
  for (const dir of dirs) {
    const candidate = path.join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here; keep looking
    }
  }
  return null;
}

export class SandboxUnavailableError extends Error {
  override name = "SandboxUnavailableError";
}

/** Resolves the sandbox programs or throws one error naming every missing program and its package. */
export function findSandboxPrograms(searchPath = process.env.PATH, fallbackDirs = FALLBACK_DIRS): SandboxPrograms {
  const found: Partial<SandboxPrograms> = {};
  const missing: string[] = [];
  const packages = new Set<string>();
  for (const name of Object.keys(PACKAGES) as Array<keyof SandboxPrograms>) {
    const location = findExecutable(name, searchPath, fallbackDirs);
    if (location) {
      found[name] = location;
    } else {
      missing.push(`${name} (Debian package "${PACKAGES[name]}")`);
      packages.add(PACKAGES[name]);
    }
  }
  if (missing.length > 0) {
    throw new SandboxUnavailableError(
      `the local Python sandbox needs ${missing.join(", ")}; install with: apt-get install ${[...packages].join(" ")}`,
    );
  }
  return found as SandboxPrograms;
}
