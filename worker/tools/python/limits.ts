// Limits of one Python call: the schema lives in contracts/ (run configs carry it); the helpers that
// turn it into process limits live here.
import { pythonLimitsSchema, type PythonLimits, type PythonLimitsInput } from "../../../contracts/index.js";

export { pythonLimitsSchema, type PythonLimits, type PythonLimitsInput };

export function resolvePythonLimits(input: PythonLimitsInput = {}): PythonLimits {
  return pythonLimitsSchema.parse(input);
}

/** RLIMIT_CPU of a call: the wall clock normally fires first; this stops busy threads that outrun it. */
export function cpuSecondsFor(limits: Pick<PythonLimits, "timeoutS">): number {
  return Math.ceil(limits.timeoutS) + 1;
}
