// Limits of one Python call. The same schema serves the local sandbox, the SandboxFusion client, the
// registry config and the CLI flags, so a call behaves the same wherever it is configured.
import { z } from "zod";

export const pythonLimitsSchema = z.object({
  /** Wall-clock limit of one call; the CPU-time limit is derived from it. */
  timeoutS: z.number().positive().default(10),
  /** Address-space limit (RLIMIT_AS) of every process in the sandbox. */
  memoryMb: z.number().int().positive().default(512),
  /** Processes and threads one call may hold at once (fork bombs stop here). */
  maxProcesses: z.number().int().min(4).default(64),
  /** stdout + stderr bytes captured; past this the call is killed and reported as OUTPUT_LIMIT. */
  outputBytes: z.number().int().positive().default(16_384),
  /** Length of the observation handed back to the model (longer text is cut in the middle). */
  observationChars: z.number().int().min(64).default(16_384),
  /** Largest file a call may write (RLIMIT_FSIZE). */
  fileSizeMb: z.number().int().positive().default(16),
  /** Size of each writable tmpfs (/tmp and /dev/shm) inside the sandbox; it is RAM, so keep it small. */
  tmpfsMb: z.number().int().positive().default(64),
});

export type PythonLimits = z.infer<typeof pythonLimitsSchema>;
export type PythonLimitsInput = z.input<typeof pythonLimitsSchema>;

export function resolvePythonLimits(input: PythonLimitsInput = {}): PythonLimits {
  return pythonLimitsSchema.parse(input);
}

/** RLIMIT_CPU of a call: the wall clock normally fires first; this stops busy threads that outrun it. */
export function cpuSecondsFor(limits: Pick<PythonLimits, "timeoutS">): number {
  return Math.ceil(limits.timeoutS) + 1;
}
