import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toFrames } from '../../agent/providers/local/audio-frames.js';
import { decodeWav } from '../../agent/providers/local/wav.js';
import { getOrCreateChatRoom } from '../../db/queries/chat-rooms.js';
import type { ChatRoom } from '../../db/schema.js';
import { openTestDatabase, type TestDatabase } from '../helpers/database.js';
import { makeCharacter, makeUser } from '../helpers/fixtures.js';
import { startVoiceHarness, type VoiceHarness } from './harness.js';

const run = promisify(execFile);
const QUESTION = '¿A qué distancia está la luna?';
const ANSWER = 'La luna está a unos trescientos ochenta mil kilómetros.';
const GREETING = '¡Hola! Pregúntame lo que quieras sobre el cielo.';

let database: TestDatabase;
let room: ChatRoom;
let workDir: string;
let harness: VoiceHarness | undefined;

beforeAll(async () => {
  database = await openTestDatabase();
  const user = await makeUser(database.db);
  const character = await makeCharacter(database.db, user, {
    language: 'es',
    greeting: GREETING,
    instructions: 'Eres Mira, una guía de astronomía.',
  });
  room = await getOrCreateChatRoom(database.db, { userId: user.id, characterId: character.id });
  workDir = await mkdtemp(join(tmpdir(), 'parley-es-'));
});
afterAll(async () => {
  await harness?.close();
  await database.close();
  await rm(workDir, { recursive: true, force: true });
});

/** The question spoken in Spanish by espeak-ng (flite speaks English only). */
async function spanishSpeech(text: string, sampleRate: number, frameMs: number) {
  const path = join(workDir, 'question.wav');
  await run('espeak-ng', ['-v', 'es', '-w', path, text]);
  return toFrames(decodeWav(await readFile(path)), sampleRate, frameMs);
}

describe('a voice turn in Spanish', () => {
  it('sends the language to speech-to-text, the LLM prompt and Cartesia, and greets in it', async () => {
    const uploads: number[] = [];
    harness = await startVoiceHarness({
      db: database.db,
      chatRoomId: room.id,
      openai: {
        // The emulated Whisper cannot understand Spanish: it answers the question for any
        // upload that holds speech, and the test checks what the upload asked for.
        transcribe: async (audio) => {
          uploads.push(audio.length);
          return audio.length > 16_000 ? QUESTION : '';
        },
        reply: () => ANSWER,
      },
    });
    const h = harness;
    const greeting = await h.playedOut(await h.nextReply(0));
    expect(greeting.peakRms).toBeGreaterThan(500);
    await h.idle();

    const frames = await spanishSpeech(QUESTION, h.input.sampleRate, h.input.frameMs);
    const said = await h.input.say(QUESTION, { frames });
    const reply = await h.playedOut(await h.nextReply(said.endedAt));
    await h.idle();
    expect(reply.peakRms).toBeGreaterThan(500);

    // Speech-to-text: Whisper was told the language.
    expect(h.openai.requests.transcriptions.at(-1)).toMatchObject({ language: 'es' });
    // The LLM: the system prompt says to answer in Spanish, and the question reached it.
    const prompt = JSON.stringify(h.openai.requests.chatCompletions.at(-1)?.messages);
    expect(prompt).toContain('Answer in the language with code \\"es\\"');
    expect(prompt).toContain('luna');
    // Cartesia: greeting and answer were both asked for in Spanish, with a multilingual model.
    const generations = h.cartesia.requests.websocket.filter(
      (m): m is { transcript: string; language: string; model_id: string } =>
        typeof m === 'object' && m !== null && 'transcript' in m,
    );
    const spoken = generations.filter((g) => g.transcript.trim() !== '');
    expect(spoken.length).toBeGreaterThan(0);
    expect(new Set(spoken.map((g) => g.language))).toEqual(new Set(['es']));
    expect(spoken.map((g) => g.transcript).join('')).toContain('Hola');
    expect(spoken.map((g) => g.model_id)).toContain(h.config.cartesia.model);
    expect(h.captions.captions.map((c) => c.text.trim())).toEqual([GREETING, ANSWER]);
  }, 120_000);
});
