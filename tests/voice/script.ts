import { AudioFrame } from '@livekit/rtc-node';
import { normalizePhrase } from '../../agent/providers/local/jsgf.js';
import { PocketsphinxSTT } from '../../agent/providers/local/pocketsphinx-stt.js';
import { decodeWav } from '../../agent/providers/local/wav.js';
import { type ChatCompletionRequest, contentText } from '../dev-tools/providers/openai-chat.js';

/**
 * A Whisper emulator `transcribe` hook that really listens: it runs pocketsphinx, restricted
 * to `phrases`, on the WAV the session uploaded. The transcript is then proof that the upload
 * held the user's speech, and it does not depend on how VAD happened to cut the audio.
 */
export function transcribeWithPocketsphinx(
  phrases: readonly string[],
): (audio: Buffer) => Promise<string> {
  const engine = new PocketsphinxSTT({ phrases, timeoutMs: 60_000 });
  return async (audio) => {
    const wav = decodeWav(audio);
    const frame = new AudioFrame(wav.samples, wav.sampleRate, 1, wav.samples.length);
    const event = await engine.recognize(frame);
    return event.alternatives?.[0]?.text ?? '';
  };
}

/**
 * Every run of consecutive words of `phrases` ("what is the", "capital of france", …): given to
 * {@link transcribeWithPocketsphinx}, the emulated Whisper can hear a piece of a phrase as that
 * piece, as Whisper would, when the session's VAD cuts an utterance at a pause (a stall on its
 * way, a slow job). With the whole phrases only, pocketsphinx answers '' for most pieces and
 * another phrase for some. Measured on flite's first four questions of `EXCHANGES`, each cut
 * into halves and two-thirds (16 pieces): with the whole phrases, 13 came back '' and 2 as
 * another question (the last two thirds of "What is the capital of France?" as "what color is
 * the sky"); with the runs, 15 as words of their own question, 1 as "juliet". The four whole
 * questions were heard exactly either way.
 */
export function wordRuns(phrases: readonly string[]): string[] {
  return phrases.flatMap((phrase) => {
    const words = normalizePhrase(phrase).split(' ');
    return words.flatMap((_, from) =>
      words.slice(from).map((__, length) => words.slice(from, from + length + 1).join(' ')),
    );
  });
}

/**
 * A scripted LLM: the reply to the last user message that contains a key of `replies`
 * (case-insensitive), else `fallback`. Keyed by content rather than queued, so a preemptive
 * generation that gets cancelled and redone cannot shift the answers.
 */
export function scriptedReplies(
  replies: Record<string, string>,
  fallback = 'I see.',
): (request: ChatCompletionRequest) => string {
  return (request) => {
    const lastUser = request.messages.findLast((message) => message.role === 'user');
    const said = contentText(lastUser?.content).toLowerCase();
    const key = Object.keys(replies).find((k) => said.includes(k.toLowerCase()));
    return key === undefined ? fallback : (replies[key] ?? fallback);
  };
}
