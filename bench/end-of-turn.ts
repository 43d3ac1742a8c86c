/**
 * `npm run bench -- end-of-turn`: what LiveKit's on-device end-of-turn model answers on the
 * conversation-quality suite's own audio (tests/conversation/quality/), asked exactly where a
 * session asks it: after 200 ms of silence (agents' MIN_SILENCE_DURATION_MS), on the last
 * 1.2 s of 16 kHz audio. Each clean pause scenario gives one question inside the turn (after
 * the words before the pause) and one at its true end; each short turn one at its end. From
 * those probabilities it picks the `unlikely` threshold that keeps false cut-offs at most 5%
 * and lets the most true ends through, the rule core/config.ts `TURN_DEFAULTS` states; the
 * conversation section then measures that threshold through real sessions. The same questions
 * go to Parley's transcript cues (agent/voice/turn-cues.ts) on the words said so far, and both
 * are asked again on the suite's held-out turns, which neither was tuned on.
 */
import { execFile } from 'node:child_process';
import localInference from '@livekit/local-inference';
import { type Verdict, verdictOf } from '../agent/voice/turn-cues.js';
import { SAMPLE_RATE, speak } from '../tests/conversation/quality/audio.js';
import {
  cleanScenarios,
  heldOut2Scenarios,
  heldOutScenarios,
  type Scenario,
} from '../tests/conversation/quality/scenarios.js';
import { describeLoad } from './machine.js';
import type { ResultRow, SectionResult } from './report.js';
import { fmt, percentile } from './stats.js';

const MODEL_RATE = 16_000;
/** agents asks the model once a pause has lasted this long (inference/eot/base.ts). */
const ASKED_AFTER_MS = 200;
/** The model's window: agents keeps the last 1.2 s (inference/eot/transports.ts). */
const WINDOW_MS = 1_200;
/** agents' shipped threshold for English (inference/eot/languages.ts `LOCAL_LANGUAGES.en`). */
const SHIPPED_THRESHOLD = 0.36;

/** One question to the model: its answer, and whether the turn was really over. */
export interface EndOfTurnProbe {
  scenario: string;
  /** The pause inside the turn it was asked in; undefined at the turn's true end. */
  pauseMs?: number;
  probability: number;
  /** The words said so far, as the emulated speech-to-text gives them. */
  text: string;
}

/** The suite's 24 kHz PCM at the model's 16 kHz (sox, as the suite makes its audio). */
function toModelRate(pcm: Int16Array): Promise<Int16Array> {
  const raw = ['-t', 'raw', '-e', 'signed', '-b', '16', '-c', '1'];
  const args = [...raw, '-r', `${SAMPLE_RATE}`, '-', ...raw, '-r', `${MODEL_RATE}`, '-'];
  return new Promise((resolve, reject) => {
    const child = execFile('sox', args, { encoding: 'buffer', maxBuffer: 64 << 20 }, (e, out) => {
      if (e) reject(e);
      else resolve(new Int16Array(out.buffer, out.byteOffset, out.byteLength / 2).slice());
    });
    child.stdin?.end(Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength));
  });
}

/** The words said so far, then 200 ms of silence: the last 1.2 s, as the session asks. */
async function ask(parts: Int16Array[]): Promise<number> {
  const silence = new Int16Array((SAMPLE_RATE * ASKED_AFTER_MS) / 1_000);
  const joined = new Int16Array(parts.reduce((n, p) => n + p.length, 0) + silence.length);
  let at = 0;
  for (const part of [...parts, silence]) {
    joined.set(part, at);
    at += part.length;
  }
  const pcm = await toModelRate(joined);
  return localInference.predict(pcm.slice(-((MODEL_RATE * WINDOW_MS) / 1_000)));
}

/** The questions one clean pause or short-turn scenario puts to the model. */
async function probeScenario(scenario: Scenario): Promise<EndOfTurnProbe[]> {
  const said: Int16Array[] = [];
  const words: string[] = [];
  const probes: EndOfTurnProbe[] = [];
  for (const step of scenario.turn) {
    if ('say' in step) {
      said.push(await speak(step.say, scenario.speaker));
      words.push(step.say);
    } else if ('pauseMs' in step) {
      const probability = await ask(said);
      probes.push({
        scenario: scenario.id,
        pauseMs: step.pauseMs,
        probability,
        text: words.join(' '),
      });
      said.push(new Int16Array((SAMPLE_RATE * step.pauseMs) / 1_000));
    }
  }
  probes.push({ scenario: scenario.id, probability: await ask(said), text: words.join(' ') });
  return probes;
}

const originalTurns = () =>
  cleanScenarios().filter((s) => s.category === 'pause' || s.category === 'short');

/** Every question of the clean pause and short-turn scenarios (or of `turns`). */
export async function probeEndOfTurn(turns = originalTurns()): Promise<EndOfTurnProbe[]> {
  localInference.initEot();
  const probes: EndOfTurnProbe[] = [];
  for (const scenario of turns) probes.push(...(await probeScenario(scenario)));
  return probes;
}

/** An endpointing setting for the model, scored on the probes. */
export interface ModelSetting {
  threshold: number;
  minDelayMs: number;
  maxDelayMs: number;
}

/**
 * The final transcript arrives ~600 ms after the last speech (BENCHMARKS.md, voice timeline:
 * Silero's 350 ms silence, then Whisper); a turn commits no sooner, whatever the delay.
 */
const TRANSCRIPT_MS = 600;

/** What a setting would do on the probes: turns cut inside a pause, and the waits at true ends. */
export function scoreSetting(probes: readonly EndOfTurnProbe[], s: ModelSetting) {
  const ends = probes.filter((p) => p.pauseMs === undefined);
  const commitAfter = (p: EndOfTurnProbe) =>
    p.probability >= s.threshold ? Math.max(s.minDelayMs, TRANSCRIPT_MS) : s.maxDelayMs;
  const cut = probes.filter((p) => p.pauseMs !== undefined && p.pauseMs >= commitAfter(p));
  const waits = ends.map(commitAfter);
  return { turns: ends.length, cut: cut.length, waitP50: percentile(waits, 50) };
}

/** Longest first: at an equal wait the safer setting wins. */
const MIN_DELAYS_MS = [800, 600, 500, 300];
const MAX_DELAYS_MS = [1_500, 2_000, 3_000];

/**
 * The rule of core/config.ts `TURN_DEFAULTS` on the probes: at most 5% of turns cut, then the
 * shortest p50 wait (ties: the lower threshold). Every observed probability is a threshold tried.
 */
export function bestSetting(probes: readonly EndOfTurnProbe[]): ModelSetting {
  const thresholds = [...new Set(probes.map((p) => p.probability)), 1].sort((a, b) => a - b);
  let best: { setting: ModelSetting; waitP50: number } | undefined;
  for (const threshold of thresholds) {
    for (const minDelayMs of MIN_DELAYS_MS) {
      for (const maxDelayMs of MAX_DELAYS_MS) {
        const setting = { threshold, minDelayMs, maxDelayMs };
        const score = scoreSetting(probes, setting);
        if (score.cut > score.turns * 0.05) continue;
        if (best === undefined || score.waitP50 < best.waitP50) {
          best = { setting, waitP50: score.waitP50 };
        }
      }
    }
  }
  // Threshold 1 with the longest maximum cuts nothing: there is always a best.
  return best?.setting ?? { threshold: 1, minDelayMs: 800, maxDelayMs: 3_000 };
}

/** Ranks pause probabilities against end probabilities: the chance an end scores higher. */
function separation(probes: readonly EndOfTurnProbe[]): number {
  const ends = probes.filter((p) => p.pauseMs === undefined).map((p) => p.probability);
  const pauses = probes.filter((p) => p.pauseMs !== undefined).map((p) => p.probability);
  let wins = 0;
  for (const e of ends) for (const p of pauses) wins += e > p ? 1 : e === p ? 0.5 : 0;
  return wins / (ends.length * pauses.length);
}

function describeSetting(probes: readonly EndOfTurnProbe[], s: ModelSetting): string {
  const score = scoreSetting(probes, s);
  const ends = probes.filter((p) => p.pauseMs === undefined && p.probability >= s.threshold);
  return (
    `${score.cut} of ${score.turns} turns cut; ${ends.length} of ${score.turns} ends judged over; ` +
    `estimated wait p50 ${fmt(score.waitP50, 0)} ms`
  );
}

/**
 * What the transcript cues say at each question: pauses held, and the true ends that wait
 * longer than the minimum, open ones the maximum and unsure ones the middle delay.
 */
function describeCues(probes: readonly EndOfTurnProbe[]): string {
  const pauses = probes.filter((p) => p.pauseMs !== undefined);
  const ends = probes.filter((p) => p.pauseMs === undefined);
  const held = (p: EndOfTurnProbe) => verdictOf(p.text) !== 'over';
  const judged = (verdict: Verdict) => ends.filter((p) => verdictOf(p.text) === verdict).length;
  return (
    `${pauses.filter(held).length} of ${pauses.length} pauses held (a cue); of ${ends.length} ` +
    `true ends, ${judged('open')} judged open (they wait the maximum), ${judged('unsure')} ` +
    'unsure (they wait the middle delay)'
  );
}

/**
 * The model as a tie-breaker for the cues: asked only where the transcript shows no open ending
 * (a complete clause that goes on, a number after no dictation word), would it hold those
 * pauses without sending the complete turns to the maximum wait?
 */
function describeTieBreaker(probes: readonly EndOfTurnProbe[], threshold: number): string {
  const closed = probes.filter((p) => verdictOf(p.text) === 'over');
  const pauses = closed.filter((p) => p.pauseMs !== undefined);
  const ends = closed.filter((p) => p.pauseMs === undefined);
  const low = (p: EndOfTurnProbe) => p.probability < threshold;
  return (
    `AUC ${fmt(separation(closed))}; at threshold ${threshold}: ${pauses.filter(low).length} of ` +
    `${pauses.length} pauses held, ${ends.filter(low).length} of ${ends.length} true ends sent to the maximum`
  );
}

/** `npm run bench -- end-of-turn`. */
export async function runEndOfTurn(): Promise<SectionResult> {
  const started = performance.now();
  const before = describeLoad();
  const probes = await probeEndOfTurn();
  const heldOut = await probeEndOfTurn(heldOutScenarios());
  const heldOut2 = await probeEndOfTurn(heldOut2Scenarios());
  const pauses = probes.filter((p) => p.pauseMs !== undefined).map((p) => p.probability);
  const ends = probes.filter((p) => p.pauseMs === undefined).map((p) => p.probability);
  const range = (v: number[]) =>
    `${fmt(percentile(v, 50), 3)} (${fmt(Math.min(...v), 3)}-${fmt(Math.max(...v), 3)})`;
  const best = bestSetting(probes);
  const shipped = { threshold: SHIPPED_THRESHOLD, minDelayMs: 800, maxDelayMs: 3_000 };
  const rows: ResultRow[] = [
    {
      metric: `probability inside a pause, p50 (range), ${pauses.length} pauses`,
      value: range(pauses),
    },
    { metric: `probability at a true end, p50 (range), ${ends.length} ends`, value: range(ends) },
    { metric: 'an end scores above a pause (AUC; 0.5 = chance)', value: fmt(separation(probes)) },
    {
      metric: `agents' threshold ${SHIPPED_THRESHOLD}, min 800 / max 3000 (Parley's model default)`,
      value: describeSetting(probes, shipped),
    },
    {
      metric: `best at <= 5% cut: threshold ${fmt(best.threshold, 3)}, min ${best.minDelayMs} / max ${best.maxDelayMs}`,
      value: describeSetting(probes, best),
      target: 'wait p50 <= 700 ms',
      met: scoreSetting(probes, best).waitP50 <= 700,
    },
    {
      metric: 'held-out turns: an end scores above a pause (AUC; 0.5 = chance)',
      value: fmt(separation(heldOut)),
    },
    {
      metric: `held-out turns: threshold ${fmt(best.threshold, 3)}, min ${best.minDelayMs} / max ${best.maxDelayMs} (chosen above)`,
      value: describeSetting(heldOut, best),
    },
    { metric: 'transcript cues (English rules), original turns', value: describeCues(probes) },
    { metric: 'transcript cues (English rules), held-out turns', value: describeCues(heldOut) },
    {
      metric: 'transcript cues (English rules), held-out 2 turns',
      value: describeCues(heldOut2),
    },
    {
      metric:
        'the model as tie-breaker, only where the cues see no open ending (all three sets): an end scores above a pause',
      value: describeTieBreaker([...probes, ...heldOut, ...heldOut2], SHIPPED_THRESHOLD),
    },
  ];
  return {
    name: 'end-of-turn',
    title:
      "The on-device end-of-turn model's answers, and the transcript cues', on the conversation-quality suite",
    rows,
    notes: [
      'Each of the 24 clean pause scenarios and 6 short turns of tests/conversation/quality/ ' +
        '(same voices and words) asked to `turn-detector-v1-mini` (@livekit/local-inference) as a session asks ' +
        'it: the last 1.2 s at 16 kHz after 200 ms of silence; one question inside each pause, one at each true end.',
      `Settings scored on those answers: threshold (every observed probability), min delay ${MIN_DELAYS_MS.join('/')} ms, ` +
        `max delay ${MAX_DELAYS_MS.join('/')} ms. A pause is cut when it lasts as long as the wait its answer ` +
        `gives (min delay, but no sooner than the final transcript, ~${TRANSCRIPT_MS} ms, if judged over; max ` +
        'delay if not). An estimate: the conversation section measures the chosen setting in real sessions.',
      `Held-out: the ${heldOutScenarios().length} held-out turns of the suite (pauses of 600-1,200 ms after other open ` +
        'endings and after a complete clause, short turns ending on cue-like words), asked the same way; neither ' +
        'the threshold nor the cues were chosen on them. Held-out 2: the second held-out set ' +
        `(${heldOut2Scenarios().length} turns: numbers read out in pieces, lists, complete turns), committed before ` +
        'the number and list cues. Transcript cues: agent/voice/turn-cues.ts on the words ' +
        'said before each question (the emulated speech-to-text hears exactly those).',
    ],
    load: { before, after: describeLoad() },
    durationMs: performance.now() - started,
  };
}
