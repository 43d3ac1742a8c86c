import { initializeLogger, voice } from '@livekit/agents';
import type { AudioFrame } from '@livekit/rtc-node';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { envelopeCorrelation, until } from '../../../tests/helpers/audio-test-helpers.js';
import { connectTestCall, type TestBrowser } from '../../../tests/helpers/test-browser.js';
import { resample, toFrames } from '../../providers/local/audio-frames.js';
import { synthesizeSpeech } from '../../providers/local/flite.js';
import type { Pcm16Audio } from '../../providers/local/wav.js';
import { WebRtcAudioOutput } from './audio-output.js';
import { seqDistance } from './reorder-buffer.js';

let speech: Pcm16Audio;
beforeAll(async () => {
  initializeLogger({ pretty: false, level: 'warn' });
  speech = await synthesizeSpeech('The sea was calm, and the boat drifted slowly home.');
});

async function play(output: WebRtcAudioOutput, frames: AudioFrame[]): Promise<void> {
  for (const frame of frames) await output.captureFrame(frame);
  output.flush();
}

describe('WebRtcAudioOutput over a call', () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const close of cleanup.splice(0)) await close();
  });

  async function call(): Promise<{ browser: TestBrowser; output: WebRtcAudioOutput }> {
    const { browser, session } = await connectTestCall();
    const output = new WebRtcAudioOutput({ sink: session.audioSender });
    cleanup.push(
      () => output.close(),
      () => browser.close(),
      () => session.close(),
    );
    return { browser, output };
  }

  it('sends TTS frames to the browser as real-time Opus and reports the whole reply played', async () => {
    const { browser, output } = await call();
    const started: number[] = [];
    output.on(voice.AudioOutput.EVENT_PLAYBACK_STARTED, (ev: { createdAt: number }) =>
      started.push(ev.createdAt),
    );
    const durationS = speech.samples.length / speech.sampleRate;

    // 24 kHz frames, as a TTS plugin yields them: the output resamples to Opus' 48 kHz.
    await play(output, toFrames(speech, 24_000, 20));
    const finished = await output.waitForPlayout();
    await until(() => browser.received.length === output.packetsSent);

    expect(finished.interrupted).toBe(false);
    expect(finished.playbackPosition).toBeCloseTo(output.packetsSent * 0.02, 6);
    expect(Math.abs(finished.playbackPosition - durationS)).toBeLessThan(0.06);
    expect(started).toHaveLength(1);
    expectContinuousRtp(browser);
    // Paced, not dumped: the packets took (nearly) as long to arrive as the speech lasts.
    const arrivals = browser.arrivals;
    const spreadS = ((arrivals.at(-1) ?? 0) - (arrivals[0] ?? 0)) / 1000;
    expect(spreadS).toBeGreaterThan(durationS * 0.9);
    // The browser decodes the same speech.
    const original48k = resample(speech, 48_000);
    expect(envelopeCorrelation(original48k, browser.heardSamples(), 48_000)).toBeGreaterThan(0.9);
  });

  it('stops at once on clearBuffer and reports how much was played', async () => {
    const { browser, output } = await call();
    const long = toFrames(speech, 48_000, 20);
    let interrupted = false;
    const feeding = (async () => {
      for (const frame of [...long, ...long]) {
        if (interrupted) return;
        await output.captureFrame(frame);
      }
    })();
    await until(() => browser.received.length >= 25);

    interrupted = true;
    output.clearBuffer();
    const sentAtClear = output.packetsSent;
    expect(output.queuedMs).toBe(0);
    const finished = await output.waitForPlayout();
    await feeding;

    expect(finished.interrupted).toBe(true);
    expect(finished.playbackPosition).toBeCloseTo(sentAtClear * 0.02, 6);
    expect(finished.playbackPosition).toBeLessThan((long.length * 2 * 20) / 1000);

    // The next reply plays alone: not one packet of the cleared one follows it.
    const next = toFrames(
      { samples: speech.samples.slice(0, 8000), sampleRate: 16_000 },
      48_000,
      20,
    );
    await play(output, next);
    const nextFinished = await output.waitForPlayout();
    await until(() => browser.received.length === output.packetsSent);
    expect(nextFinished).toMatchObject({ interrupted: false, playbackPosition: 0.5 });
    expect(output.packetsSent - sentAtClear).toBe(25);
    expectContinuousRtp(browser);
  });

  it('plays replies queued back to back in order, each reported on its own', async () => {
    const { browser, output } = await call();
    const half = Math.floor(speech.samples.length / 2);
    const first = toFrames({ ...speech, samples: speech.samples.slice(0, 4000) }, 48_000, 20);
    const second = toFrames(
      { ...speech, samples: speech.samples.slice(half, half + 6400) },
      48_000,
      20,
    );
    const finished: voice.PlaybackFinishedEvent[] = [];
    output.on(voice.AudioOutput.EVENT_PLAYBACK_FINISHED, (ev: voice.PlaybackFinishedEvent) =>
      finished.push(ev),
    );

    await play(output, first);
    await play(output, second);
    await output.waitForPlayout();
    await until(() => browser.received.length === output.packetsSent);

    expect(finished).toEqual([
      { playbackPosition: 0.26, interrupted: false },
      { playbackPosition: 0.4, interrupted: false },
    ]);
    expect(browser.received).toHaveLength(13 + 20);
  });
});

/** Sequence numbers step by one and timestamps by 960 (20 ms) within the talk spurt. */
function expectContinuousRtp(browser: TestBrowser): void {
  const headers = browser.received.map((p) => p.header);
  for (let i = 1; i < headers.length; i++) {
    const previous = headers[i - 1];
    const current = headers[i];
    if (previous === undefined || current === undefined) continue;
    expect(seqDistance(previous.sequenceNumber, current.sequenceNumber)).toBe(1);
    if (!current.marker) {
      expect((current.timestamp - previous.timestamp) >>> 0).toBe(960);
    }
  }
  expect(headers[0]?.marker).toBe(true);
}
