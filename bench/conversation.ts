/**
 * Issue 14 §2 and §3: the conversation-quality suite (tests/conversation/quality/) through
 * Parley as shipped, Parley VAD-only and a bare `AgentSession`, side by side in one run, with
 * the held-out turns scored apart, and the endpointing settings tuned on it.
 */

import { TURN_HANDLING } from '../agent/voice/session.js';
import { loadConfig, TURN_DEFAULTS, TURN_UNSURE_DELAY_DEFAULT_MS } from '../core/config.js';
import type { Observation } from '../tests/conversation/quality/run.js';
import {
  cleanScenarios,
  describeNoise,
  heldOut2Scenarios,
  heldOutScenarios,
  noisyScenarios,
  type Scenario,
  testScenarios,
} from '../tests/conversation/quality/scenarios.js';
import type { Score } from '../tests/conversation/quality/score.js';
import {
  LATENCY,
  parleyConfig,
  type QualityConfig,
  type QualityTuning,
} from '../tests/conversation/quality/session.js';
import { forkModule, stopChild } from './child.js';
import type { ConversationJob } from './conversation-child.js';
import {
  conversationNotes,
  overlapRows,
  sideBySideRows,
  tuningRows,
} from './conversation-report.js';
import { describeLoad } from './machine.js';
import type { ResultRow, SectionResult } from './report.js';

export interface ConversationOptions {
  /** The small test set instead of the full suite, and no tuning variants. */
  quick: boolean;
  /** Children running at once. */
  concurrency: number;
}

export const DEFAULT_CONVERSATION: ConversationOptions = { quick: false, concurrency: 4 };

/** One configuration run over a scenario set. */
export interface Variant {
  name: string;
  config: QualityConfig;
  tuning: QualityTuning;
  scenarios: Scenario[];
  observations: Observation[];
  crashes: number;
}

const NAMES: Record<QualityConfig, string> = {
  'parley-model': 'Parley, model',
  'parley-text': 'Parley, text cues',
  'parley-vad': 'Parley, VAD-only',
  bare: 'bare AgentSession',
};

/** Parley as shipped (the default TURN_DETECTION), Parley VAD-only, and a bare AgentSession. */
export function mainVariants(): { name: string; config: QualityConfig }[] {
  const shipped = parleyConfig(loadConfig({}).voice.turnDetection);
  const configs: QualityConfig[] = [shipped, 'parley-vad', 'bare'];
  return [...new Set(configs)].map((config) => ({ name: NAMES[config], config }));
}

/**
 * Endpointing settings tried on the turn scenarios (pauses and short turns, clean, original and
 * held-out) for TURN_DETECTION=text, around its default: the rule of core/config.ts
 * TURN_DEFAULTS picks among them. Earlier rounds (BENCHMARKS.md analysis, "Conversation
 * quality") tried the model at 300-800 / 1,500-3,000 ms and thresholds chosen on its answers
 * (`npm run bench -- end-of-turn`), and VAD-only at 600-1,600 ms.
 */
const TEXT_TUNING_MIN_DELAYS_MS = [500, 800, 1_000];

function tuningVariants(turns: Scenario[]): Variant[] {
  const { maxDelayMs: maxMs, minDelayMs: defaultMinMs } = TURN_DEFAULTS.text;
  const unsureMs = TURN_UNSURE_DELAY_DEFAULT_MS;
  const around = TEXT_TUNING_MIN_DELAYS_MS.map((minMs) =>
    variant(
      `text cues, min ${minMs} / unsure ${unsureMs} / max ${maxMs}`,
      'parley-text',
      delays(minMs, unsureMs, maxMs),
      turns,
    ),
  );
  // The default minimum without the middle delay: every ending that is not over waits the
  // maximum, as before session 13.
  const twoDelays = variant(
    `text cues, min ${defaultMinMs} / max ${maxMs} (no middle delay)`,
    'parley-text',
    delays(defaultMinMs, maxMs, maxMs),
    turns,
  );
  return [...around, twoDelays];
}

function delays(minMs: number, unsureMs: number, maxMs: number): QualityTuning {
  return {
    env: {
      TURN_MIN_DELAY_MS: `${minMs}`,
      TURN_UNSURE_DELAY_MS: `${unsureMs}`,
      TURN_MAX_DELAY_MS: `${maxMs}`,
    },
  };
}

function variant(
  name: string,
  config: QualityConfig,
  tuning: QualityTuning,
  scenarios: Scenario[],
): Variant {
  return { name, config, tuning, scenarios, observations: [], crashes: 0 };
}

/** Voice sessions die now and then inside V8 on this machine (tests/voice/harness.ts). */
const MAX_RESTARTS = 2;

/** Runs a variant's scenarios in a child; a crashed child is replaced for the rest. */
async function runVariant(v: Variant): Promise<void> {
  while (v.observations.length < v.scenarios.length && v.crashes <= MAX_RESTARTS) {
    const child = forkModule(new URL('./conversation-child.ts', import.meta.url).href);
    const finished = new Promise<boolean>((resolve) => {
      child.on('message', (message: { observation?: Observation; done?: boolean }) => {
        if (message.observation !== undefined) {
          v.observations.push(message.observation);
          process.stderr.write(
            `bench: conversation: ${v.name}: ${describeObservation(message.observation)}\n`,
          );
        }
        if (message.done) resolve(true);
      });
      child.once('exit', () => resolve(false));
    });
    const job: ConversationJob = {
      config: v.config,
      tuning: v.tuning,
      scenarios: v.scenarios.slice(v.observations.length),
    };
    child.send(job);
    if (!(await finished)) v.crashes += 1;
    await stopChild(child);
  }
}

function describeObservation(o: Observation): string {
  const ms = (value: number | undefined) => (value === undefined ? '-' : `${Math.round(value)}`);
  const flags = [
    o.cutOff ? 'CUT OFF' : '',
    o.falseBargeIn ? 'FALSE BARGE-IN' : '',
    o.missedBargeIn ? 'MISSED BARGE-IN' : '',
    o.error === undefined ? '' : `ERROR ${o.error}`,
  ].filter((f) => f !== '');
  return (
    `${o.scenario.id} [${describeNoise(o.scenario.noise)}] turn ${ms(o.endOfTurnMs)} ms, audio ${ms(o.firstAudioMs)} ms, ` +
    `stop ${ms(o.stopMs)} ms ${flags.join(' ')} ${o.notes.join('; ')}`
  );
}

/** Runs `tasks` with at most `limit` at once. */
async function pool(tasks: (() => Promise<void>)[], limit: number): Promise<void> {
  const queue = [...tasks];
  const workers = Array.from({ length: Math.max(1, limit) }, async () => {
    for (let task = queue.shift(); task !== undefined; task = queue.shift()) await task();
  });
  await Promise.all(workers);
}

export async function runConversation(options = DEFAULT_CONVERSATION): Promise<SectionResult> {
  const started = performance.now();
  const before = describeLoad();
  const heldOut = heldOutScenarios();
  const heldOut2 = heldOut2Scenarios();
  const all = options.quick
    ? testScenarios()
    : [...cleanScenarios(), ...noisyScenarios(), ...heldOut, ...heldOut2];
  const turns = [
    ...cleanScenarios().filter((s) => s.category === 'pause' || s.category === 'short'),
    ...heldOut,
    ...heldOut2,
  ];
  const main = mainVariants().map((m) => variant(m.name, m.config, {}, all));
  const tuning = options.quick ? [] : tuningVariants(turns);
  await pool(
    [...main, ...tuning].map((v) => () => runVariant(v)),
    options.concurrency,
  );
  const chosen = loadConfig({}).voice.turnDetection;
  const rows: ResultRow[] = [
    ...sideBySideRows(main, chosen),
    ...tuningRows([
      ...main.filter((v) => v.config !== 'bare').map((v) => onTurns(v, turns)),
      ...tuning,
    ]),
  ];
  return {
    name: 'conversation',
    title: 'Conversation quality: Parley as shipped, VAD-only, and a bare AgentSession',
    rows,
    notes: conversationNotes({
      scenarios: all.length,
      heldOut: options.quick ? 0 : heldOut.length,
      heldOut2: options.quick ? 0 : heldOut2.length,
      turns: turns.length,
      concurrency: options.concurrency,
      latency: LATENCY,
      chosen,
      defaults: TURN_DEFAULTS,
      crashes: [...main, ...tuning].reduce((n, v) => n + v.crashes, 0),
    }),
    load: { before, after: describeLoad() },
    durationMs: performance.now() - started,
  };
}

const interrupt: QualityTuning = { env: { TURN_BACKCHANNELS: 'interrupt' } };
const resumeAfter1s: QualityTuning = { env: { TURN_RESUME_DELAY_MS: '1000' } };
/** A slow Whisper request: longer than a 1 s resume delay. */
const SLOW_STT_MS = 1_200;
const slowStt: QualityTuning = { ...resumeAfter1s, sttMs: SLOW_STT_MS };

/** Barge-in settings tried on the overlap scenarios, VAD-only endpointing (the default). */
const INTERRUPTION_VARIANTS: [string, QualityTuning][] = [
  [
    `Parley default (pause on ${TURN_HANDLING.interruption.minDuration} ms of speech; a backchannel resumes the answer, 2 s after it)`,
    {},
  ],
  ['TURN_BACKCHANNELS=interrupt (any words cut the answer: the default before)', interrupt],
  ['TURN_RESUME_DELAY_MS=1000', resumeAfter1s],
  [`TURN_RESUME_DELAY_MS=1000 with a ${SLOW_STT_MS} ms speech-to-text`, slowStt],
];

/**
 * `npm run bench -- barge-in-tuning`: the backchannel and interruption scenarios, clean and
 * noisy, under each of {@link INTERRUPTION_VARIANTS}, side by side in one run.
 */
export async function runInterruptionTuning(
  options = DEFAULT_CONVERSATION,
): Promise<SectionResult> {
  const started = performance.now();
  const before = describeLoad();
  const scenarios = (
    options.quick ? testScenarios() : [...cleanScenarios(), ...noisyScenarios()]
  ).filter((s) => s.category === 'backchannel' || s.category === 'interruption');
  const variants = INTERRUPTION_VARIANTS.map(([name, tuning]) =>
    variant(name, 'parley-vad', tuning, scenarios),
  );
  await pool(
    variants.map((v) => () => runVariant(v)),
    options.concurrency,
  );
  return {
    name: 'barge-in-tuning',
    title: 'Barge-in settings on the backchannel and interruption scenarios (VAD-only endpointing)',
    rows: overlapRows(variants),
    notes: [
      `${scenarios.length} scenarios per setting (tests/conversation/quality/scenarios.ts): "uh-huh", "yeah", ` +
        '"right" and a cough 1.5 s into a long answer, three real interruptions, clean and under ambience ' +
        'and music at 20 and 10 dB SNR; all settings at once, one child process each, as the conversation section.',
      'False barge-in: the answer was cut by a backchannel (a pause that resumes is not one). Stop: onset ' +
        "of the interruption -> the answer's packets stop leaving the direct call's audio output.",
    ],
    load: { before, after: describeLoad() },
    durationMs: performance.now() - started,
  };
}

/** A main variant's observations restricted to the tuning scenarios, for the tuning table. */
function onTurns(v: Variant, turns: Scenario[]): Variant {
  const ids = new Set(turns.map((s) => s.id));
  const observations = v.observations.filter(
    (o) => o.scenario.noise === undefined && ids.has(o.scenario.id),
  );
  const mode = v.config === 'bare' ? 'vad' : (v.config.slice('parley-'.length) as 'vad');
  const defaults = TURN_DEFAULTS[mode];
  return {
    ...v,
    name: `${v.name} (min ${defaults.minDelayMs} / max ${defaults.maxDelayMs}, the defaults)`,
    observations,
  };
}

export type { Score };
