import { initializeLogger, llm, voice } from '@livekit/agents';
import * as openai from '@livekit/agents-plugin-openai';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  type OpenAIEmulator,
  startOpenAIEmulator,
} from '../../../tests/dev-tools/providers/openai-emulator.js';
import { until } from '../../../tests/helpers/audio-test-helpers.js';
import { connectTestCall } from '../../../tests/helpers/test-browser.js';
import { RecordingTextOutput } from '../../../tests/voice/recording-text-output.js';
import { FliteTTS } from '../../providers/local/flite-tts.js';
import { rmsLevel } from './pcm.js';
import { createSpeechOutput } from './speech-output.js';

const REPLY =
  'The quick brown fox jumps over the lazy dog. It was a long and sunny afternoon by the river, ' +
  'and nobody in the village was in any hurry at all.';

let emulator: OpenAIEmulator;
beforeAll(async () => {
  initializeLogger({ pretty: false, level: 'warn' });
  emulator = await startOpenAIEmulator();
  return () => emulator.close();
});

/** The assistant messages the session stored. */
function assistantMessages(session: voice.AgentSession): llm.ChatMessage[] {
  return session.history.items.filter(
    (item): item is llm.ChatMessage => item instanceof llm.ChatMessage && item.role === 'assistant',
  );
}

describe('WebRtcAudioOutput as an AgentSession output', () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const close of cleanup.splice(0)) await close();
  });

  /** A session with a direct call's outputs (the product's), sending to a test browser. */
  async function start() {
    const { browser, session: peer } = await connectTestCall();
    const speech = createSpeechOutput(peer.audioSender, new RecordingTextOutput());
    const output = speech.playout;
    const session = new voice.AgentSession({
      tts: new FliteTTS(),
      llm: new openai.LLM({ model: 'gpt-4o-mini', baseURL: emulator.baseURL, apiKey: 'emulator' }),
    });
    session.output.audio = speech.audio;
    session.output.transcription = speech.transcription;
    await session.start({ agent: new voice.Agent({ instructions: 'Read aloud.' }) });
    cleanup.push(
      () => session.close(),
      () => speech.close(),
      () => browser.close(),
      () => peer.close(),
    );
    return { browser, output, session };
  }

  it('plays a whole reply to the browser and stores it as spoken', async () => {
    const { browser, output, session } = await start();
    const handle = session.say('Hello from the river.');
    await handle.waitForPlayout();
    await until(() => browser.received.length === output.packetsSent);

    expect(output.packetsSent).toBeGreaterThan(25);
    expect(rmsLevel(browser.heardSamples())).toBeGreaterThan(300);
    expect(assistantMessages(session).map((m) => [m.textContent, m.interrupted])).toEqual([
      ['Hello from the river.', false],
    ]);
  });

  it('stops the voice on interruption and stores only the words that were played', async () => {
    const { browser, output, session } = await start();
    emulator.enqueueReply(REPLY);
    const handle = session.generateReply({ userInput: 'Tell me about the river.' });
    await until(() => browser.received.length >= 75); // 1.5 s heard
    handle.interrupt();
    await handle.waitForPlayout();
    const sentAtInterrupt = output.packetsSent;

    expect(output.queuedMs).toBe(0);
    const [message] = assistantMessages(session);
    expect(message?.interrupted).toBe(true);
    const stored = message?.textContent ?? '';
    expect(stored.length).toBeGreaterThan(0);
    // 1.5 s of a ~9 s reply: a few words, not the whole text (the exact cut is LiveKit's
    // synchronizer's estimate from the playback position).
    expect(stored.length).toBeLessThan(REPLY.length * 0.75);
    expect(REPLY.startsWith(stored.trim())).toBe(true);

    // Nothing of the interrupted reply follows: the next one plays alone.
    const next = session.say('Yes?');
    await next.waitForPlayout();
    await until(() => browser.received.length === output.packetsSent);
    const nextPackets = output.packetsSent - sentAtInterrupt;
    expect(nextPackets).toBeGreaterThan(0);
    expect(nextPackets).toBeLessThan(50);
  });
});
