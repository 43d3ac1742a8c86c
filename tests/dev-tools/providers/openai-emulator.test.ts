import OpenAI, {
  APIUserAbortError,
  AuthenticationError,
  BadRequestError,
  RateLimitError,
  toFile,
} from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { synthesizeSpeech } from '../../../agent/providers/local/flite.js';
import { decodeWav, encodeWav } from '../../../agent/providers/local/wav.js';
import { cosine } from './embedding-hash.js';
import { type OpenAIEmulator, startOpenAIEmulator } from './openai-emulator.js';

let emulator: OpenAIEmulator;
let client: OpenAI;
let speechWav: Buffer;
const heard: { audio: Buffer; model: string }[] = [];

beforeAll(async () => {
  emulator = await startOpenAIEmulator({
    transcribe: (audio, model) => {
      heard.push({ audio, model });
      return 'from the transcribe option';
    },
  });
  client = new OpenAI({ baseURL: emulator.baseURL, apiKey: 'emulator', maxRetries: 0 });
  speechWav = encodeWav(await synthesizeSpeech('Hello there, this is a test.'));
});

afterAll(async () => {
  await emulator.close();
});

const ask = (content: string) => ({
  model: 'gpt-4o-mini',
  messages: [
    { role: 'system' as const, content: 'You are terse.' },
    { role: 'user' as const, content },
  ],
});

describe('OpenAI emulator, chat completions through the openai SDK', () => {
  it('lists models', async () => {
    const page = await client.models.list();
    expect(page.data.map((model) => model.id)).toContain('gpt-4o-mini');
  });

  it('answers a non-streaming request with the queued reply and usage', async () => {
    emulator.enqueueReply('The moon is made of rock.');
    const completion = await client.chat.completions.create(ask('What is the moon made of?'));
    expect(completion.choices[0]?.message.content).toBe('The moon is made of rock.');
    expect(completion.choices[0]?.finish_reason).toBe('stop');
    expect(completion.usage?.completion_tokens).toBe(7);
    expect(completion.usage?.prompt_tokens).toBeGreaterThan(0);
    expect(emulator.requests.chatCompletions.at(-1)?.messages[1]?.content).toBe(
      'What is the moon made of?',
    );
  });

  it('streams the reply as word-ish chunks, then usage, then [DONE]', async () => {
    emulator.enqueueReply('Sure, I can help with that!');
    const stream = await client.chat.completions.create({
      ...ask('Can you help?'),
      stream: true,
      stream_options: { include_usage: true },
    });
    const deltas: string[] = [];
    let usage: OpenAI.CompletionUsage | null | undefined;
    let finish: string | null | undefined;
    for await (const chunk of stream) {
      expect(chunk.object).toBe('chat.completion.chunk');
      const choice = chunk.choices[0];
      if (choice?.delta.content) deltas.push(choice.delta.content);
      if (choice?.finish_reason) finish = choice.finish_reason;
      if (chunk.usage) usage = chunk.usage;
    }
    expect(deltas).toEqual(['Sure', ',', ' I', ' can', ' help', ' with', ' that', '!']);
    expect(finish).toBe('stop');
    expect(usage?.completion_tokens).toBe(8);
  });

  it('echoes the last user message by default, and cuts at max_completion_tokens', async () => {
    const echoed = await client.chat.completions.create(ask('I like green tea.'));
    expect(echoed.choices[0]?.message.content).toBe('You said: I like green tea. Tell me more.');
    const cut = await client.chat.completions.create({
      ...ask('I like green tea.'),
      max_completion_tokens: 3,
    });
    expect(cut.choices[0]?.message.content).toBe('You said:');
    expect(cut.choices[0]?.finish_reason).toBe('length');
  });

  it('rejects a request without messages the way OpenAI does', async () => {
    const error = await client.chat.completions
      .create({ model: 'gpt-4o-mini' } as unknown as OpenAI.ChatCompletionCreateParamsNonStreaming)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BadRequestError);
    expect((error as BadRequestError).param).toBe('messages');
  });

  it('rejects a missing or wrong API key with 401', async () => {
    const locked = await startOpenAIEmulator({ apiKey: 'right' });
    try {
      const wrong = new OpenAI({ baseURL: locked.baseURL, apiKey: 'wrong', maxRetries: 0 });
      const error = await wrong.models.list().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(AuthenticationError);
      expect((error as AuthenticationError).code).toBe('invalid_api_key');
      const right = new OpenAI({ baseURL: locked.baseURL, apiKey: 'right', maxRetries: 0 });
      expect((await right.models.list()).data.length).toBeGreaterThan(0);
    } finally {
      await locked.close();
    }
  });

  it('holds the response until the first token is due (ttftMs), and stops when abandoned', async () => {
    emulator.ttftMs = 60_000;
    const before = emulator.requests.chatCompletions.length;
    const abort = new AbortController();
    let answered = false;
    const pending = client.chat.completions
      .create({ ...ask('Anyone there?'), stream: true }, { signal: abort.signal })
      .then(() => {
        answered = true;
      });
    try {
      await expect.poll(() => emulator.requests.chatCompletions.length).toBe(before + 1);
      expect(answered).toBe(false);
      abort.abort();
      await expect(pending).rejects.toBeInstanceOf(APIUserAbortError);
    } finally {
      emulator.ttftMs = 0;
    }
  });
});

describe('OpenAI emulator, failure injection through the openai SDK', () => {
  it('a 429 with Retry-After is retried by the SDK, which then succeeds', async () => {
    const retrying = new OpenAI({ baseURL: emulator.baseURL, apiKey: 'emulator', maxRetries: 2 });
    const before = emulator.requests.chatCompletions.length;
    emulator.failNext(1, 429);
    emulator.enqueueReply('Second time lucky.');
    const completion = await retrying.chat.completions.create(ask('Try again?'));
    expect(completion.choices[0]?.message.content).toBe('Second time lucky.');
    expect(emulator.requests.chatCompletions.length).toBe(before + 2);
  });

  it('a 429 without retries surfaces as RateLimitError in OpenAI error shape', async () => {
    emulator.failNext(1, 429, { retryAfterSeconds: 3 });
    const error = await client.chat.completions.create(ask('Again?')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RateLimitError);
    const rateLimit = error as RateLimitError;
    expect(rateLimit.code).toBe('rate_limit_exceeded');
    expect(rateLimit.headers.get('retry-after')).toBe('3');
    expect(rateLimit.requestID).toMatch(/^req_/);
  });

  it('a 500 on embeddings is retried; failures aimed at one endpoint spare the others', async () => {
    const retrying = new OpenAI({ baseURL: emulator.baseURL, apiKey: 'emulator', maxRetries: 1 });
    emulator.failNext(1, 500, { endpoint: 'embeddings' });
    const completion = await client.chat.completions.create(ask('Unaffected?'));
    expect(completion.choices[0]?.message.content).toContain('Unaffected');
    const before = emulator.requests.embeddings.length;
    const result = await retrying.embeddings.create({
      model: 'text-embedding-3-small',
      input: 'retry me',
    });
    expect(result.data).toHaveLength(1);
    expect(emulator.requests.embeddings.length).toBe(before + 2);
  });

  it('a stream cut after N tokens delivers N tokens and then an error', async () => {
    emulator.enqueueReply('One two three four five six.');
    emulator.cutNextStream(3);
    const stream = await client.chat.completions.create({ ...ask('Count.'), stream: true });
    const deltas: string[] = [];
    const consume = async () => {
      for await (const chunk of stream) {
        const content = chunk.choices[0]?.delta.content;
        if (content) deltas.push(content);
      }
    };
    await expect(consume()).rejects.toThrow();
    expect(deltas).toEqual(['One', ' two', ' three']);
  });
});

describe('OpenAI emulator, embeddings through the openai SDK', () => {
  it('decodes the default base64 encoding to the same vector as float', async () => {
    const text = 'The lighthouse keeper feeds the cat at dawn.';
    const base64 = await client.embeddings.create({ model: 'text-embedding-3-small', input: text });
    const float = await client.embeddings.create({
      model: 'text-embedding-3-small',
      input: text,
      encoding_format: 'float',
    });
    expect(emulator.requests.embeddings.at(-2)?.encoding_format).toBe('base64');
    const vector = base64.data[0]?.embedding ?? [];
    expect(vector).toHaveLength(1536);
    expect(vector).toEqual(float.data[0]?.embedding);
    expect(cosine(vector, vector)).toBeCloseTo(1, 5);
    expect(base64.usage.prompt_tokens).toBe(8);
  });

  it('gives texts that share words a higher similarity than unrelated texts', async () => {
    const result = await client.embeddings.create({
      model: 'text-embedding-3-small',
      input: [
        'Where does the lighthouse keeper live?',
        'The lighthouse keeper lives on the rocky island.',
        'Quarterly revenue grew by twelve percent.',
      ],
    });
    const [question, answer, unrelated] = result.data.map((item) => item.embedding);
    expect(result.data.map((item) => item.index)).toEqual([0, 1, 2]);
    const related = cosine(question ?? [], answer ?? []);
    expect(related).toBeGreaterThan(0.3);
    expect(related).toBeGreaterThan(cosine(question ?? [], unrelated ?? []) + 0.2);
  });

  it('respects dimensions, and rejects them for a model without the option', async () => {
    const small = await client.embeddings.create({
      model: 'text-embedding-3-small',
      input: 'short vector',
      dimensions: 256,
    });
    expect(small.data[0]?.embedding).toHaveLength(256);
    const error = await client.embeddings
      .create({ model: 'text-embedding-ada-002', input: 'x', dimensions: 256 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BadRequestError);
  });
});

describe('OpenAI emulator, transcriptions through the openai SDK', () => {
  it('answers a WAV of speech with the queued transcript, and logs the form', async () => {
    emulator.enqueueTranscript('Hello there, this is a test.');
    const result = await client.audio.transcriptions.create({
      file: await toFile(speechWav, 'speech.wav', { type: 'audio/wav' }),
      model: 'whisper-1',
      language: 'en',
    });
    expect(result.text).toBe('Hello there, this is a test.');
    const logged = emulator.requests.transcriptions.at(-1);
    expect(logged).toMatchObject({ model: 'whisper-1', language: 'en', responseFormat: 'json' });
    expect(logged?.file).toMatchObject({ name: 'speech.wav', container: 'wav' });
    expect(logged?.file.bytes).toBe(speechWav.length);
  });

  it('hands the uploaded audio to the transcribe option when the queue is empty', async () => {
    const text = await client.audio.transcriptions.create({
      file: await toFile(speechWav, 'speech.wav'),
      model: 'gpt-4o-transcribe',
      response_format: 'text',
    });
    expect(text).toBe('from the transcribe option\n');
    const last = heard.at(-1);
    expect(last?.model).toBe('gpt-4o-transcribe');
    expect(decodeWav(last?.audio ?? Buffer.alloc(0)).samples.length).toBeGreaterThan(8000);
  });

  it('answers verbose_json with the duration of the audio', async () => {
    const result = await client.audio.transcriptions.create({
      file: await toFile(speechWav, 'speech.wav'),
      model: 'whisper-1',
      response_format: 'verbose_json',
    });
    const samples = decodeWav(speechWav).samples.length;
    expect(result.duration).toBeCloseTo(samples / 16_000, 3);
    expect(result.segments?.[0]?.end).toBeCloseTo(samples / 16_000, 3);
  });

  it('rejects a file that is not audio with a 400 in OpenAI error shape', async () => {
    const error = await client.audio.transcriptions
      .create({
        file: await toFile(Buffer.from('this is not audio at all'), 'notes.wav'),
        model: 'whisper-1',
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BadRequestError);
    const bad = error as BadRequestError;
    expect(bad.status).toBe(400);
    expect(bad.type).toBe('invalid_request_error');
    expect(bad.message).toContain('Invalid file format');
  });
});
