/**
 * One VAD measured alone in its own process (so its CPU, threads and memory are its own):
 * `calls` calls of the benchmark's audio, `concurrency` at a time, each fed as 20 ms frames
 * at real-time pace like a direct call's microphone. Variant `none` paces the same frames
 * into nothing: the cost of the harness itself.
 */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import {
  inference,
  initializeLogger,
  type VAD,
  VADEventType,
  type VADStream,
} from '@livekit/agents';
import { AudioFrame } from '@livekit/rtc-node';
import { playInRealTime } from '../tests/audio/speech.js';
import { isBenchChild } from './child.js';
import { threadCpuMs } from './proc-cpu.js';

export type VadVariant = 'silero-plugin' | 'inference' | 'none';

export interface VadRunPlan {
  variant: VadVariant;
  /** Raw 16 kHz mono s16le files, one per script; call i plays script i % files. */
  files: string[];
  calls: number;
  concurrency: number;
  /** Parley's VAD settings, given to both VADs. */
  options: {
    minSilenceDuration: number;
    minSpeechDuration: number;
    prefixPaddingDuration: number;
    activationThreshold: number;
  };
}

/** Speech as one VAD saw it: start and end in ms of the call's audio. */
export interface DetectedSpeech {
  startMs: number;
  endMs: number;
}

export interface VadRunResult {
  variant: VadVariant;
  audioSec: number;
  wallMs: number;
  cpuMs: number;
  mainThreadCpuMs: number;
  eventLoopUtilization: number;
  /** Memory after the calls minus before them, after a full GC, in bytes. */
  rssGrowth: number;
  heapGrowth: number;
  externalGrowth: number;
  /** What the first call of each script detected. */
  detections: DetectedSpeech[][];
}

const FRAME_MS = 20;
const SAMPLE_RATE = 16_000;

function gc(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

/** The silero plugin, when installed (Parley no longer depends on it). */
async function loadSileroPlugin(options: VadRunPlan['options']): Promise<VAD> {
  const name = '@livekit/agents-plugin-silero';
  const plugin = (await import(name)) as { VAD: { load(opts: object): Promise<VAD> } };
  return plugin.VAD.load(options);
}

async function loadVad(plan: VadRunPlan): Promise<VAD | undefined> {
  if (plan.variant === 'none') return undefined;
  if (plan.variant === 'inference') return new inference.VAD(plan.options);
  return loadSileroPlugin(plan.options);
}

function framesOf(samples: Int16Array): AudioFrame[] {
  const perFrame = (SAMPLE_RATE * FRAME_MS) / 1000;
  const frames: AudioFrame[] = [];
  for (let start = 0; start + perFrame <= samples.length; start += perFrame) {
    frames.push(new AudioFrame(samples.slice(start, start + perFrame), SAMPLE_RATE, 1, perFrame));
  }
  return frames;
}

async function collect(stream: VADStream, into: DetectedSpeech[]): Promise<void> {
  let startMs = 0;
  try {
    for await (const event of stream) {
      // Both VADs count `timestamp` in audio processed, and the durations above/below threshold.
      if (event.type === VADEventType.START_OF_SPEECH)
        startMs = event.timestamp - event.speechDuration;
      if (event.type === VADEventType.END_OF_SPEECH) {
        into.push({ startMs, endMs: event.timestamp - event.silenceDuration });
      }
    }
  } catch {
    // Closed while reading.
  }
}

async function runCall(vad: VAD | undefined, frames: AudioFrame[]): Promise<DetectedSpeech[]> {
  const detected: DetectedSpeech[] = [];
  if (vad === undefined) {
    await playInRealTime(frames, () => {});
    return detected;
  }
  const stream = vad.stream();
  const reading = collect(stream, detected);
  await playInRealTime(frames, (frame) => stream.pushFrame(frame));
  // Let the last windows through before the call hangs up.
  await new Promise((resolve) => setTimeout(resolve, 300));
  stream.close();
  await reading;
  return detected;
}

async function warmUp(vad: VAD | undefined, frames: AudioFrame[]): Promise<void> {
  if (vad === undefined) return;
  const stream = vad.stream();
  for (const frame of frames.slice(0, 100)) stream.pushFrame(frame);
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  stream.close();
}

export async function runVadPlan(plan: VadRunPlan): Promise<VadRunResult> {
  const scripts = plan.files.map((file) => {
    const bytes = readFileSync(file);
    return framesOf(new Int16Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 2));
  });
  const vad = await loadVad(plan);
  await warmUp(vad, scripts[0] ?? []);
  gc();
  const memBefore = process.memoryUsage();
  const cpuBefore = process.cpuUsage();
  const mainBefore = threadCpuMs(process.pid).get('main') ?? 0;
  const eluBefore = performance.eventLoopUtilization();
  const started = performance.now();
  const detections: DetectedSpeech[][] = [];
  let next = 0;
  let audioSec = 0;
  const worker = async () => {
    for (let call = next++; call < plan.calls; call = next++) {
      const frames = scripts[call % scripts.length] ?? [];
      audioSec += (frames.length * FRAME_MS) / 1000;
      const detected = await runCall(vad, frames);
      if (call < scripts.length) detections[call] = detected;
    }
  };
  await Promise.all(Array.from({ length: plan.concurrency }, worker));
  const wallMs = performance.now() - started;
  const elu = performance.eventLoopUtilization(eluBefore);
  const cpu = process.cpuUsage(cpuBefore);
  const mainThreadCpuMs = (threadCpuMs(process.pid).get('main') ?? 0) - mainBefore;
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  const memAfter = process.memoryUsage();
  return {
    variant: plan.variant,
    audioSec,
    wallMs,
    cpuMs: (cpu.user + cpu.system) / 1000,
    mainThreadCpuMs,
    eventLoopUtilization: elu.utilization,
    rssGrowth: memAfter.rss - memBefore.rss,
    heapGrowth: memAfter.heapUsed - memBefore.heapUsed,
    externalGrowth: memAfter.external - memBefore.external,
    detections,
  };
}

if (isBenchChild()) {
  initializeLogger({ pretty: false, level: 'warn' });
  process.once('message', (plan: VadRunPlan) => {
    runVadPlan(plan).then(
      (result) => process.send?.(result, () => process.exit(0)),
      (error: unknown) => {
        process.stderr.write(`vad child: ${String(error)}\n`);
        process.exit(1);
      },
    );
  });
}
