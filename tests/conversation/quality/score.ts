import type { Observation } from './run.js';
import type { Category } from './scenarios.js';

/** The suite's metrics over a set of observations (issue 14 §2). Rates are 0..1, times ms. */
export interface Score {
  scenarios: number;
  /** Scenarios that timed out (the session never answered); they count as failures below. */
  errors: number;
  /** Of the turns (`pause`, `short`): cut off before the user had finished. */
  falseCutOffRate: number;
  turns: number;
  /** True end of turn -> turn committed, over turns that were not cut off. */
  endOfTurn: Percentiles;
  /** True end of turn -> first reply audio frame. */
  firstAudio: Percentiles;
  /** Of the backchannels: the answer was cut. */
  falseBargeInRate: number;
  backchannels: number;
  /** Of the backchannels: the character answered the backchannel itself. */
  answeredBackchannelRate: number;
  /** Backchannels that paused the answer: how long it was silent before it resumed. */
  resumeGap: Percentiles;
  /** Of the interruptions: the answer played on. */
  missedBargeInRate: number;
  interruptions: number;
  /** Onset of an interruption -> answer stopped. */
  stop: Percentiles;
  /** Of the interruptions: the answer paused, resumed before the words were in, then stopped. */
  resumedBeforeCutRate: number;
  /** Scenarios whose stored user text is not what was said. */
  userTextWrongRate: number;
  /** Scenarios with a stored reply that is not what was played. */
  replyTextWrongRate: number;
}

export interface Percentiles {
  p50: number;
  p95: number;
  n: number;
}

/** Nearest-rank percentile; NaN for no samples. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length) - 1;
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank))] ?? Number.NaN;
}

function percentiles(values: (number | undefined)[]): Percentiles {
  const sorted = values.filter((v): v is number => v !== undefined).sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p95: percentile(sorted, 95), n: sorted.length };
}

function rate(list: readonly Observation[], failed: (o: Observation) => boolean): number {
  return list.length === 0 ? Number.NaN : list.filter(failed).length / list.length;
}

const TURN_CATEGORIES: readonly Category[] = ['pause', 'short'];

export function score(observations: readonly Observation[]): Score {
  const turns = observations.filter((o) => TURN_CATEGORIES.includes(o.scenario.category));
  const backchannels = observations.filter((o) => o.scenario.category === 'backchannel');
  const interruptions = observations.filter((o) => o.scenario.category === 'interruption');
  const clean = turns.filter((o) => !o.cutOff && o.error === undefined);
  return {
    scenarios: observations.length,
    errors: observations.filter((o) => o.error !== undefined).length,
    turns: turns.length,
    falseCutOffRate: rate(turns, (o) => o.cutOff || o.error !== undefined),
    endOfTurn: percentiles(clean.map((o) => o.endOfTurnMs)),
    firstAudio: percentiles(clean.map((o) => o.firstAudioMs)),
    backchannels: backchannels.length,
    falseBargeInRate: rate(backchannels, (o) => o.falseBargeIn !== false || o.error !== undefined),
    answeredBackchannelRate: rate(backchannels, (o) => o.answeredBackchannel === true),
    resumeGap: percentiles(backchannels.map((o) => o.resumeGapMs)),
    interruptions: interruptions.length,
    missedBargeInRate: rate(
      interruptions,
      (o) => o.missedBargeIn !== false || o.error !== undefined,
    ),
    stop: percentiles(interruptions.map((o) => o.stopMs)),
    resumedBeforeCutRate: rate(interruptions, (o) => o.resumedBeforeCut === true),
    userTextWrongRate: rate(observations, (o) => !o.userTextOk),
    replyTextWrongRate: rate(observations, (o) => !o.replyTextOk),
  };
}

/** Scores per group (category, noise, ...) and overall, overall first. */
export function scoreBy(
  observations: readonly Observation[],
  group: (o: Observation) => string,
): Map<string, Score> {
  const groups = new Map<string, Observation[]>();
  for (const o of observations) groups.set(group(o), [...(groups.get(group(o)) ?? []), o]);
  const scores = new Map<string, Score>([['overall', score(observations)]]);
  for (const [name, list] of groups) scores.set(name, score(list));
  return scores;
}
