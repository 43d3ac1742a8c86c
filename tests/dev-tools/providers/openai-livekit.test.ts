import { APIError, initializeLogger, llm } from '@livekit/agents';
import * as openai from '@livekit/agents-plugin-openai';
import { AudioFrame } from '@livekit/rtc-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { synthesizeSpeech } from '../../../agent/providers/local/flite.js';
import { decodeWav } from '../../../agent/providers/local/wav.js';
import { type OpenAIEmulator, startOpenAIEmulator } from './openai-emulator.js';

let emulator: OpenAIEmulator;
let speech: AudioFrame;
const uploads: Buffer[] = [];

beforeAll(async () => {
  initializeLogger({ pretty: false, level: 'fatal' });
  emulator = await startOpenAIEmulator({
    transcribe: (audio) => {
      uploads.push(audio);
      return 'what the plugin uploaded';
    },
  });
  const audio = await synthesizeSpeech('Please tell me about the lighthouse.');
  speech = new AudioFrame(audio.samples, audio.sampleRate, 1, audio.samples.length);
});

afterAll(async () => {
  await emulator.close();
});

/** What the LLM reports on its 'error' event (the type is not exported by name). */
type LLMError = Parameters<llm.LLMCallbacks['error']>[0];

/** The plugin's LLM, and the failures it reports (as 'error' events, not by throwing). */
function pluginLLM(): { model: openai.LLM; errors: LLMError[] } {
  const model = new openai.LLM({
    model: 'gpt-4o-mini',
    baseURL: emulator.baseURL,
    apiKey: 'emulator',
  });
  const errors: LLMError[] = [];
  model.on('error', (error) => errors.push(error));
  return { model, errors };
}

function userSays(text: string): llm.ChatContext {
  const chatCtx = llm.ChatContext.empty();
  chatCtx.addMessage({ role: 'system', content: 'You are a lighthouse keeper.' });
  chatCtx.addMessage({ role: 'user', content: text });
  return chatCtx;
}

async function collect(stream: llm.LLMStream): Promise<{ text: string; usage: number[] }> {
  let text = '';
  const usage: number[] = [];
  for await (const chunk of stream) {
    text += chunk.delta?.content ?? '';
    if (chunk.usage) usage.push(chunk.usage.completionTokens);
  }
  return { text, usage };
}

describe('OpenAI emulator behind @livekit/agents-plugin-openai', () => {
  it('LLM: streams a reply with usage through chat completions', async () => {
    emulator.enqueueReply('The light turns every ten seconds.');
    const { model, errors } = pluginLLM();
    const result = await collect(model.chat({ chatCtx: userSays('How often does it turn?') }));
    expect(errors).toEqual([]);
    expect(result.text).toBe('The light turns every ten seconds.');
    expect(result.usage).toEqual([7]);
    const sent = emulator.requests.chatCompletions.at(-1);
    expect(sent?.stream).toBe(true);
    expect(sent?.stream_options?.include_usage).toBe(true);
    expect(sent?.messages.at(-1)).toMatchObject({ role: 'user' });
  });

  it('LLM: a 429 before any token is retried by the framework and then succeeds', async () => {
    const before = emulator.requests.chatCompletions.length;
    emulator.failNext(1, 429);
    emulator.enqueueReply('Retried fine.');
    const { model, errors } = pluginLLM();
    const result = await collect(model.chat({ chatCtx: userSays('Still there?') }));
    expect(result.text).toBe('Retried fine.');
    expect(errors.map((e) => [e.recoverable, (e.error as APIError).retryable])).toEqual([
      [true, true],
    ]);
    expect(emulator.requests.chatCompletions.length).toBe(before + 2);
  });

  it('LLM: a stream cut after tokens were sent ends it with an unrecoverable error', async () => {
    const before = emulator.requests.chatCompletions.length;
    emulator.enqueueReply('This answer will not arrive whole.');
    emulator.cutNextStream(2);
    const { model, errors } = pluginLLM();
    const result = await collect(model.chat({ chatCtx: userSays('Go on.') }));
    expect(result.text).toBe('This answer');
    expect(errors).toHaveLength(1);
    const [cut] = errors;
    expect(cut?.recoverable).toBe(false);
    expect(cut?.error).toBeInstanceOf(APIError);
    expect(cut?.error).toMatchObject({ retryable: false });
    expect(emulator.requests.chatCompletions.length).toBe(before + 1);
  });

  it('STT: recognizes through the transcriptions endpoint with a WAV of the frames', async () => {
    const stt = new openai.STT({
      baseURL: emulator.baseURL,
      apiKey: 'emulator',
      model: 'whisper-1',
      useRealtime: false,
      language: 'en',
    });
    emulator.enqueueTranscript('Please tell me about the lighthouse.');
    const event = await stt.recognize([speech]);
    expect(event.alternatives?.[0]?.text).toBe('Please tell me about the lighthouse.');
    expect(emulator.requests.transcriptions.at(-1)).toMatchObject({
      model: 'whisper-1',
      language: 'en',
      responseFormat: 'json',
    });

    const second = await stt.recognize([speech]);
    expect(second.alternatives?.[0]?.text).toBe('what the plugin uploaded');
    const uploaded = decodeWav(uploads.at(-1) ?? Buffer.alloc(0));
    expect(uploaded.sampleRate).toBe(speech.sampleRate);
    expect(uploaded.samples).toEqual(speech.data);
  });
});
