// The zero-shot search prior of the lookup task's base models (issue 13 item 1): for each named
// pre-training recipe (cli/demo/lookup-model.ts LOOKUP_PRIORS) and builder seed, build the base, then
// sample 32 groups of G = 8 rollouts at temperature 1 (256 rollouts, one question per group) zero-shot
// and again 3-shot, and report the share of rollouts with at least one valid search call, with its
// 95% Wilson interval, and the share answered right. The "never-searching" base is meant to search in
// at most 2% of zero-shot rollouts and at least 30% of 3-shot ones; `meets_never_searching_bounds`
// says whether every seed did (upper bound of the estimate, not the interval). The two-hop base is
// sampled on the two-hop task, also 1-shot, with the share of rollouts that searched twice.
//
// ICRL_BENCH_PRIORS (default "never-searching,demo") and ICRL_BENCH_SEEDS (default "1,2,3") choose
// what is built. Each build takes 1-4 minutes on one thread; sampling a few seconds.
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { buildLookupModel, LOOKUP_PRIOR_NAMES, LOOKUP_PRIORS, type LookupPrior } from "../cli/demo/lookup-model.js";
import { LearnerDriver } from "../worker/learner/driver.js";
import { sampleSearchRate, type SearchRate } from "./support/search-rate.js";
import { progress, round, wilsonInterval } from "./support/stats.js";

const GROUPS = 32;
const GROUP_SIZE = 8;
const SAMPLING_SEED = 1;

function list(name: string, fallback: string): string[] {
  return (process.env[name] ?? fallback)
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
}

function describeRate(r: SearchRate): string {
  const ci = wilsonInterval(r.searched, r.rollouts);
  return `${(100 * (r.searched / r.rollouts)).toFixed(1)}% [${(100 * ci.low).toFixed(1)}, ${(100 * ci.high).toFixed(1)}]`;
}

export default async function lookupPriorBench(): Promise<Record<string, number | string>> {
  const priors = list("ICRL_BENCH_PRIORS", "never-searching,demo");
  for (const p of priors)
    if (!LOOKUP_PRIOR_NAMES.includes(p as LookupPrior)) throw new RangeError(`unknown prior ${p} (${LOOKUP_PRIOR_NAMES.join(", ")})`);
  const seeds = list("ICRL_BENCH_SEEDS", "1,2,3").map(Number);
  const figures: Record<string, number | string> = {
    groups: GROUPS,
    group_size: GROUP_SIZE,
    load_average_1m: round(os.loadavg()[0]),
    cpus: os.availableParallelism(),
  };
  const dir = await mkdtemp(path.join(os.tmpdir(), "icrl-bench-lookup-prior-"));
  const rows: string[] = [];
  let meets = true;
  try {
    for (const prior of priors as LookupPrior[]) {
      for (const seed of seeds) {
        const out = path.join(dir, `${prior}-${seed}.gguf`);
        progress(`building ${prior} seed ${seed}`);
        const started = performance.now();
        const learner = LearnerDriver.start();
        try {
          await buildLookupModel({ ...LOOKUP_PRIORS[prior], out, learner, seed });
        } finally {
          await learner.shutdown();
        }
        const buildSeconds = (performance.now() - started) / 1000;
        const key = `${prior.replace(/-/g, "_")}_seed${seed}`;
        const rates: Record<number, SearchRate> = {};
        // On the two-hop task the 1-shot prompt matters too: its one example searches once.
        const task = prior === "two-hop" ? "two-hop" : "lookup";
        const shotCounts = task === "two-hop" ? [0, 1, 3] : [0, 3];
        for (const shots of shotCounts) {
          progress(`sampling ${prior} seed ${seed}, ${shots}-shot`);
          const r = await sampleSearchRate(out, { task, shots, groups: GROUPS, groupSize: GROUP_SIZE, seed: SAMPLING_SEED });
          rates[shots] = r;
          const ci = wilsonInterval(r.searched, r.rollouts);
          figures[`${key}_${shots}shot_rollouts`] = r.rollouts;
          figures[`${key}_${shots}shot_search_rate`] = round(r.searched / r.rollouts, 4);
          figures[`${key}_${shots}shot_search_ci_low`] = round(ci.low, 4);
          figures[`${key}_${shots}shot_search_ci_high`] = round(ci.high, 4);
          figures[`${key}_${shots}shot_correct_rate`] = round(r.correct / r.rollouts, 4);
          if (task === "two-hop") figures[`${key}_${shots}shot_searched_twice_rate`] = round(r.searchedTwice / r.rollouts, 4);
        }
        figures[`${key}_build_seconds`] = round(buildSeconds, 1);
        await rm(out, { force: true });
        if (prior === "never-searching") {
          meets &&= rates[0].searched / rates[0].rollouts <= 0.02 && rates[3].searched / rates[3].rollouts >= 0.3;
        }
        const described = shotCounts.map((k) => `${k}-shot ${describeRate(rates[k])}`).join(", ");
        rows.push(`${prior} seed ${seed}: ${described}, build ${buildSeconds.toFixed(0)} s`);
        progress(rows.at(-1)!);
      }
    }
    if (priors.includes("never-searching")) figures.meets_never_searching_bounds = meets ? "yes" : "no";
    figures.load_average_1m_after = round(os.loadavg()[0]);
    process.stderr.write(`\n${rows.join("\n")}\n`);
    return figures;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
