import { AudioFrame } from '@livekit/rtc-node';
import type { Executor } from '../../../db/client.js';
import { listMessages } from '../../../db/queries/messages.js';
import type { PlayedSegment, Utterance, VoiceHarness } from '../../voice/harness.js';
import { waitFor } from '../../voice/harness.js';
import { activeLevel, atSnr, background, cough, SAMPLE_RATE, speak } from './audio.js';
import { type Scenario, type Step, spokenText } from './scenarios.js';
import type { QualitySession } from './session.js';
import { judgeReplies, judgeUserText, type StoredMessage } from './texts.js';

/** What happened in one scenario: raw facts, scored in ./score.ts. Times in ms. */
export interface Observation {
  scenario: Scenario;
  /** A user turn was committed, or the character began to speak, before the user had finished. */
  cutOff: boolean;
  /** True end of the user's turn -> the turn committed (`pause`, `short`). */
  endOfTurnMs?: number;
  /** True end of the user's turn -> first reply audio frame. */
  firstAudioMs?: number;
  /** `backchannel`: the answer was cut (not only paused and resumed). */
  falseBargeIn?: boolean;
  /** `backchannel`: the answer paused for it (and resumed). */
  paused?: boolean;
  /** `backchannel`: how long the answer was silent before it resumed, when it paused. */
  resumeGapMs?: number;
  /** `backchannel`: the character answered the backchannel itself. */
  answeredBackchannel?: boolean;
  /** `interruption`: the answer played on to the end. */
  missedBargeIn?: boolean;
  /** `interruption`: onset of the user's speech -> answer audio paused or cleared. */
  stopMs?: number;
  /** `interruption`: the answer paused, played on again, and only then was cut. */
  resumedBeforeCut?: boolean;
  /** The stored user text (the session's, for the bare one) is exactly what was said. */
  userTextOk: boolean;
  /** Every stored reply is what was played: whole, or cut where the audio stopped. */
  replyTextOk: boolean;
  /**
   * Whole replies stored whole and cut ones as the start of their text (all of it only when
   * the cut came in its last words), whatever their length: the part of `replyTextOk` that
   * does not depend on the machine keeping time.
   */
  replyStructureOk: boolean;
  /** Why a check failed, for the report. */
  notes: string[];
  /** The scenario could not finish (a timeout); counted as failed everywhere. */
  error?: string;
}

const FRAME_MS = 10;
const PER_FRAME = (SAMPLE_RATE * FRAME_MS) / 1000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function toFrames(samples: Int16Array): AudioFrame[] {
  const frames: AudioFrame[] = [];
  for (let at = 0; at < samples.length; at += PER_FRAME) {
    const data = new Int16Array(PER_FRAME);
    data.set(samples.subarray(at, at + PER_FRAME));
    frames.push(new AudioFrame(data, SAMPLE_RATE, 1, PER_FRAME));
  }
  return frames;
}

async function stepAudio(step: Step, scenario: Scenario): Promise<Int16Array> {
  if ('say' in step) return speak(step.say, scenario.speaker);
  if ('cough' in step) return cough();
  return new Int16Array(Math.round((step.pauseMs * SAMPLE_RATE) / 1000));
}

/** Puts the steps on the microphone back to back; resolves with each step's utterance. */
async function perform(
  session: QualitySession,
  scenario: Scenario,
  steps: readonly Step[],
): Promise<Utterance[]> {
  const audio = await Promise.all(steps.map((step) => stepAudio(step, scenario)));
  const said = steps.map((step, i) => {
    const text = 'say' in step ? step.say : '';
    const utterance = session.harness.input.say(text, {
      frames: toFrames(audio[i] ?? new Int16Array()),
    });
    if (text !== '') session.listener.expect(text, utterance);
    return utterance;
  });
  return Promise.all(said);
}

/** Sets the scenario's background at its SNR against the level of its own speech. */
async function setNoise(harness: VoiceHarness, scenario: Scenario): Promise<void> {
  if (scenario.noise === undefined) {
    harness.input.setBackground(undefined);
    return;
  }
  const speech = await Promise.all(
    spokenText([...scenario.turn, ...(scenario.overlap ?? [])]).map((t) =>
      speak(t, scenario.speaker),
    ),
  );
  const level = activeLevel(Int16Array.from(speech.flatMap((s) => Array.from(s))));
  harness.input.setBackground(
    atSnr(await background(scenario.noise.kind), level, scenario.noise.snrDb),
  );
  // The VAD hears the background a while before anyone talks, as in a real room.
  await sleep(1_000);
}

/** Waits until the session has been listening, with nothing playing, for a quiet second. */
async function settle(harness: VoiceHarness): Promise<void> {
  for (let round = 0; round < 5; round++) {
    await harness.idle(60_000);
    const before = harness.output.segments.length;
    await sleep(1_500);
    if (harness.output.segments.length === before && harness.session.agentState === 'listening')
      return;
  }
}

async function storedSince(
  db: Executor,
  session: QualitySession,
  origin: number,
  afterSeq: number,
): Promise<StoredMessage[]> {
  if (session.config === 'bare') {
    // A bare session stores nothing: its own chat items are what it would keep.
    return session.harness.timeline
      .itemsAfter(origin)
      .filter((item) => item.role === 'user' || item.role === 'assistant')
      .map((item) => ({
        sender: item.role === 'user' ? 'user' : 'character',
        text: item.text,
        interrupted: item.interrupted,
      }));
  }
  await session.harness.brain.writer.flush();
  const page = await listMessages(db, { chatRoomId: session.chatRoomId, afterSeq, limit: 100 });
  return page.messages.map((m) => ({ sender: m.sender, text: m.text, interrupted: m.interrupted }));
}

async function lastSeq(db: Executor, session: QualitySession): Promise<number> {
  if (session.config === 'bare') return 0;
  await session.harness.brain.writer.flush();
  const page = await listMessages(db, { chatRoomId: session.chatRoomId, limit: 1 });
  return page.messages[0]?.seq ?? 0;
}

/** A scenario's observation before anything has been judged: every check failed. */
export function newObservation(scenario: Scenario): Observation {
  return {
    scenario,
    cutOff: false,
    userTextOk: false,
    replyTextOk: false,
    replyStructureOk: false,
    notes: [],
  };
}

/** Plays one scenario through the session and records what happened. */
export async function runScenario(
  db: Executor,
  session: QualitySession,
  scenario: Scenario,
): Promise<Observation> {
  const { harness } = session;
  await setNoise(harness, scenario);
  const afterSeq = await lastSeq(db, session);
  const origin = performance.now();
  const observation = newObservation(scenario);
  try {
    const turn = await perform(session, scenario, scenario.turn);
    const trueEnd = turn.at(-1)?.endedAt ?? origin;
    observeTurn(harness, observation, origin, trueEnd);
    if (scenario.overlap !== undefined)
      await observeOverlap(session, scenario, observation, trueEnd);
    else await harness.playedOut(await harness.nextReply(trueEnd, 30_000), 60_000);
    await settle(harness);
    // The turn's timings are read once everything has happened.
    observeTurn(harness, observation, origin, trueEnd);
  } catch (error) {
    observation.error = error instanceof Error ? error.message : String(error);
    await settle(harness).catch(() => {});
  }
  harness.input.setBackground(undefined);
  session.listener.reset();
  const stored = await storedSince(db, session, origin, afterSeq);
  const segments = harness.output.segments.filter((s) => s.firstFrameAt > origin);
  judgeUserText(observation, stored);
  judgeReplies(observation, stored, segments, session.replyMs);
  return observation;
}

function observeTurn(harness: VoiceHarness, o: Observation, origin: number, trueEnd: number): void {
  const users = harness.timeline.items.filter((i) => i.at >= origin && i.value.role === 'user');
  const early = users.some((i) => i.at < trueEnd);
  const spokeEarly = harness.output.segments.some(
    (s) => s.startedAt > origin && s.startedAt < trueEnd,
  );
  o.cutOff = early || spokeEarly;
  const committed = users.find((i) => i.at >= trueEnd);
  if (committed !== undefined) o.endOfTurnMs = committed.at - trueEnd;
  const reply = harness.output.segments.find((s) => s.firstFrameAt > trueEnd);
  if (reply !== undefined) o.firstAudioMs = reply.firstFrameAt - trueEnd;
}

/** The answer plays; the user says the overlap 1.5 s into it; what did the character do? */
async function observeOverlap(
  session: QualitySession,
  scenario: Scenario,
  o: Observation,
  trueEnd: number,
): Promise<void> {
  const { harness } = session;
  const answer: PlayedSegment = await harness.nextReply(trueEnd, 30_000);
  await waitFor(
    () => (answer.playedMs > 1_500 ? true : undefined),
    'the answer to play a while',
    30_000,
  );
  const overlap = await perform(session, scenario, scenario.overlap ?? []);
  const onset = overlap[0]?.startedAt ?? performance.now();
  const overlapEnd = overlap.at(-1)?.endedAt ?? onset;
  await harness.playedOut(answer, 60_000);
  // Paused or cut, as heard: when the answer's packets stopped leaving the product's output.
  const stoppedAt = harness.output.stopOf(answer, onset) ?? Number.POSITIVE_INFINITY;
  if (scenario.category === 'interruption') {
    o.missedBargeIn = !answer.interrupted;
    if (Number.isFinite(stoppedAt)) {
      o.stopMs = stoppedAt - onset;
      o.resumedBeforeCut =
        (harness.output.nextPacketAfter(stoppedAt) ?? Infinity) <= answer.lastPlayedAt;
    }
    await harness.playedOut(await harness.nextReply(overlapEnd, 30_000), 60_000);
    return;
  }
  o.falseBargeIn = answer.interrupted;
  o.paused = Number.isFinite(stoppedAt);
  const resumedAt = o.paused ? harness.output.nextPacketAfter(stoppedAt) : undefined;
  if (!answer.interrupted && resumedAt !== undefined) o.resumeGapMs = resumedAt - stoppedAt;
  await settle(harness);
  o.answeredBackchannel = harness.output.segments.some(
    (s) => s.firstFrameAt > overlapEnd && s !== answer,
  );
}
