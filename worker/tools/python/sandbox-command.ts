// The command line of one sandboxed Python run:
//   prlimit (memory, CPU, file size, no core dumps)
//   -> setpriv, when the worker is root (one unprivileged uid per slot: root ignores RLIMIT_NPROC)
//   -> bwrap (own user/pid/net/ipc/uts namespaces, only /usr visible read-only, small tmpfs /tmp)
//   -> prlimit --nproc inside the new user namespace -> python3 -I /tmp/main.py as the namespace's pid 1
// The process limit is set inside the namespace on purpose: since Linux 5.14 RLIMIT_NPROC is counted per
// (user namespace, uid), so it caps this sandbox's processes only, whatever else that uid runs on the host
// (a non-root worker cannot switch uids). On older kernels the per-slot uids keep root workers correct.
import { cpuSecondsFor, type PythonLimits } from "./limits.js";
import type { SandboxPrograms } from "./requirements.js";

/** The code reaches the sandbox through this descriptor and is copied by bwrap into the sandbox's tmpfs. */
export const CODE_FD = 3;
export const CODE_PATH_INSIDE = "/tmp/main.py";

export interface SandboxCommandOptions {
  programs: SandboxPrograms;
  limits: PythonLimits;
  /** uid and gid to run as; null keeps the caller's (only root may switch). */
  uid: number | null;
  /** Interpreter path; it must live under /usr, the only host directory the sandbox sees. */
  pythonPath: string;
}

const MIB = 1024 * 1024;

export function buildSandboxCommand(options: SandboxCommandOptions): { file: string; args: string[] } {
  const { programs, limits, uid, pythonPath } = options;
  const tmpfsBytes = String(limits.tmpfsMb * MIB);

  const rlimits = [`--as=${limits.memoryMb * MIB}`, `--cpu=${cpuSecondsFor(limits)}`, `--fsize=${limits.fileSizeMb * MIB}`, "--core=0"];
  const dropPrivileges = uid === null ? [] : [programs.setpriv, `--reuid=${uid}`, `--regid=${uid}`, "--clear-groups", "--"];
  const bwrap = [
    programs.bwrap,
    "--unshare-all",
    // Python itself is the namespace's pid 1, so the outer bwrap reaps it directly. With bwrap's own init
    // in between, bwrap exits on the init's report and leaves the init to the host's pid 1, a zombie
    // forever wherever pid 1 does not reap (Node as pid 1 in a container).
    "--as-pid-1",
    "--die-with-parent",
    "--new-session",
    "--clearenv",
    "--setenv",
    "PATH",
    "/usr/bin:/bin",
    "--setenv",
    "HOME",
    "/tmp",
    "--setenv",
    "LANG",
    "C.UTF-8",
    // glibc reserves 64 MB of address space per thread arena; under RLIMIT_AS a few threads would
    // exhaust the memory limit without using the memory.
    "--setenv",
    "MALLOC_ARENA_MAX",
    "2",
    "--hostname",
    "sandbox",
    "--ro-bind",
    "/usr",
    "/usr",
    "--symlink",
    "usr/lib",
    "/lib",
    "--symlink",
    "usr/lib64",
    "/lib64",
    "--symlink",
    "usr/bin",
    "/bin",
    // Shared libraries found through Debian's alternatives (BLAS for numpy) and the loader cache; nothing
    // else of /etc is visible.
    "--ro-bind-try",
    "/etc/alternatives",
    "/etc/alternatives",
    "--ro-bind-try",
    "/etc/ld.so.cache",
    "/etc/ld.so.cache",
    "--proc",
    "/proc",
    "--dev",
    "/dev",
    "--size",
    tmpfsBytes,
    "--tmpfs",
    "/tmp",
    "--size",
    tmpfsBytes,
    "--tmpfs",
    "/dev/shm",
    "--file",
    String(CODE_FD),
    CODE_PATH_INSIDE,
    // Only the two size-capped tmpfs stay writable: bwrap's root and /dev are unbounded RAM otherwise.
    "--remount-ro",
    "/dev",
    "--remount-ro",
    "/",
    "--chdir",
    "/tmp",
    "--",
    programs.prlimit,
    `--nproc=${limits.maxProcesses}`,
    "--",
    pythonPath,
    "-I",
    CODE_PATH_INSIDE,
  ];
  return { file: programs.prlimit, args: [...rlimits, "--", ...dropPrivileges, ...bwrap] };
}
