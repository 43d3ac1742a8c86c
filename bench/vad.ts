/**
 * `npm run bench -- vad`: LiveKit's native Silero (`inference.VAD`, @livekit/local-inference,
 * inference on libuv's thread pool) against the Silero plugin (onnxruntime-node, inference
 * awaited on the main thread), with Parley's settings, on the same synthetic calls. Each VAD
 * runs in its own process; a third process paces the same audio into nothing, so the
 * harness's own cost can be subtracted.
 */
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PARLEY_VAD_OPTIONS } from '../agent/voice/vad.js';
import { nextMessage } from './child.js';
import { describeLoad } from './machine.js';
import type { ResultRow, SectionResult } from './report.js';
import { fmt, summarize } from './stats.js';
import { buildCalls, type CallAudio } from './vad-audio.js';
import type { DetectedSpeech, VadRunPlan, VadRunResult, VadVariant } from './vad-child.js';

export interface VadBenchOptions {
  calls: number;
  concurrency: number;
}

export const DEFAULT_VAD_BENCH: VadBenchOptions = { calls: 50, concurrency: 10 };

async function runVariant(plan: VadRunPlan): Promise<VadRunResult | undefined> {
  const child = fork(fileURLToPath(new URL('./vad-child.ts', import.meta.url)), ['--bench-child'], {
    execArgv: ['--import', 'tsx', '--expose-gc'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  child.send(plan);
  try {
    return await nextMessage<VadRunResult>(child, () => true);
  } catch (error) {
    process.stderr.write(`bench vad: ${plan.variant} did not run (${String(error)})\n`);
    return undefined;
  }
}

/** Utterances as a VAD with `minSilenceMs` should report them: phrases closer than that join. */
function expectedUtterances(call: CallAudio, minSilenceMs: number): DetectedSpeech[] {
  const merged: DetectedSpeech[] = [];
  for (const phrase of call.speech) {
    const last = merged.at(-1);
    if (last !== undefined && phrase.startMs - last.endMs < minSilenceMs) last.endMs = phrase.endMs;
    else merged.push({ ...phrase });
  }
  return merged;
}

/** |start| and |end| differences of each utterance in `a` to the nearest-starting one in `b`. */
function boundaryErrors(
  a: DetectedSpeech[],
  b: DetectedSpeech[],
): { start: number[]; end: number[] } {
  const start: number[] = [];
  const end: number[] = [];
  for (const u of a) {
    let best: DetectedSpeech | undefined;
    for (const v of b) {
      if (
        best === undefined ||
        Math.abs(v.startMs - u.startMs) < Math.abs(best.startMs - u.startMs)
      )
        best = v;
    }
    if (best === undefined) continue;
    start.push(Math.abs(best.startMs - u.startMs));
    end.push(Math.abs(best.endMs - u.endMs));
  }
  return { start, end };
}

function agreementRows(
  label: string,
  detections: DetectedSpeech[][],
  reference: DetectedSpeech[][],
): ResultRow[] {
  const starts: number[] = [];
  const ends: number[] = [];
  let sameCount = 0;
  let found = 0;
  let expected = 0;
  for (const [i, ref] of reference.entries()) {
    const got = detections[i] ?? [];
    found += got.length;
    expected += ref.length;
    if (got.length === ref.length) sameCount += 1;
    const errors = boundaryErrors(ref, got);
    starts.push(...errors.start);
    ends.push(...errors.end);
  }
  const s = summarize(starts);
  const e = summarize(ends);
  return [
    {
      metric: `${label}: utterances found / expected (scripts with equal counts)`,
      value: `${found} / ${expected} (${sameCount}/${reference.length})`,
    },
    {
      metric: `${label}: speech start difference p50 / max`,
      value: `${fmt(s.p50)} / ${fmt(s.max)} ms`,
    },
    {
      metric: `${label}: speech end difference p50 / max`,
      value: `${fmt(e.p50)} / ${fmt(e.max)} ms`,
    },
  ];
}

const MiB = 2 ** 20;

function costRows(result: VadRunResult, harness: VadRunResult | undefined): ResultRow[] {
  const perSec = (ms: number, base: number) =>
    `${fmt(ms / result.audioSec, 3)} ms (${fmt((ms - base) / result.audioSec, 3)} net of the harness)`;
  const name = result.variant;
  return [
    {
      metric: `${name}: process CPU per call-second`,
      value: perSec(result.cpuMs, harness?.cpuMs ?? 0),
    },
    {
      metric: `${name}: main-thread CPU per call-second`,
      value: perSec(result.mainThreadCpuMs, harness?.mainThreadCpuMs ?? 0),
    },
    {
      metric: `${name}: event-loop utilisation`,
      value: `${fmt(result.eventLoopUtilization * 100, 1)}%`,
    },
    {
      metric: `${name}: memory held after the calls (RSS / heap / external)`,
      value: `${fmt(result.rssGrowth / MiB, 1)} / ${fmt(result.heapGrowth / MiB, 1)} / ${fmt(result.externalGrowth / MiB, 1)} MiB`,
    },
  ];
}

export async function runVadBench(options: VadBenchOptions): Promise<SectionResult> {
  const before = describeLoad();
  const started = performance.now();
  const calls = await buildCalls();
  const dir = mkdtempSync(join(tmpdir(), 'parley-bench-vad-'));
  try {
    const files = calls.map((call, i) => {
      const file = join(dir, `call-${i}.pcm`);
      writeFileSync(
        file,
        Buffer.from(call.samples.buffer, call.samples.byteOffset, call.samples.byteLength),
      );
      return file;
    });
    const results = new Map<VadVariant, VadRunResult>();
    for (const variant of ['none', 'silero-plugin', 'inference'] as const) {
      const result = await runVariant({ variant, files, ...options, options: PARLEY_VAD_OPTIONS });
      if (result !== undefined) results.set(variant, result);
    }
    const truth = calls.map((call) =>
      expectedUtterances(call, PARLEY_VAD_OPTIONS.minSilenceDuration),
    );
    const rows: ResultRow[] = [];
    const harness = results.get('none');
    for (const variant of ['silero-plugin', 'inference'] as const) {
      const result = results.get(variant);
      if (result === undefined) continue;
      rows.push(...costRows(result, harness));
      rows.push(...agreementRows(`${variant} vs the audio`, result.detections, truth));
    }
    const plugin = results.get('silero-plugin');
    const native = results.get('inference');
    if (plugin !== undefined && native !== undefined) {
      rows.push(
        ...agreementRows('inference vs silero-plugin', native.detections, plugin.detections),
      );
    }
    const audioSec = native?.audioSec ?? plugin?.audioSec ?? 0;
    return {
      name: 'vad',
      title: 'VAD: inference.VAD (native, thread pool) vs the Silero plugin (onnxruntime-node)',
      rows,
      notes: [
        `${options.calls} calls, ${options.concurrency} at a time, ${fmt(audioSec / options.calls, 1)} s of audio each ` +
          '(flite rms/slt/awb and espeak-ng at 150 and 190 words a minute, five phrases with pauses of ' +
          '300, 600, 900, 1,200 and 2,000 ms), 20 ms frames at 16 kHz fed at real-time pace; each VAD in ' +
          'its own process, settings ' +
          `${JSON.stringify(PARLEY_VAD_OPTIONS)} for both (inference.VAD adds its default deactivation threshold, 0.35).`,
        'CPU is process CPU time (user + system, all threads), so it survives a loaded machine; ' +
          '"net of the harness" subtracts a process that paces the same frames into nothing. Memory is ' +
          'after a full GC, after all calls closed, minus before the first: what 50 calls leave behind.',
        'Utterance boundaries are `timestamp - speechDuration` at start of speech and `timestamp - ' +
          'silenceDuration` at end of speech; "vs the audio" compares them to where the synthetic ' +
          'speech is louder than 300 (phrases closer than the minimum silence counted as one).',
        'When the Silero plugin is not installed (Parley no longer depends on it), its rows are missing; ' +
          '`npm install --no-save --onnxruntime-node-install=skip @livekit/agents-plugin-silero@1.9.0` brings it back for a run.',
      ],
      load: { before, after: describeLoad() },
      durationMs: performance.now() - started,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
