import { AudioFrame } from '@livekit/rtc-node';
import { normalizePhrase } from '../../agent/providers/local/jsgf.js';
import { PocketsphinxSTT } from '../../agent/providers/local/pocketsphinx-stt.js';
import { decodeWav, type Pcm16Audio } from '../../agent/providers/local/wav.js';
import { type ChatCompletionRequest, contentText } from '../dev-tools/providers/openai-chat.js';

/** One exchange: what the user asks aloud and what the scripted LLM answers. */
export interface Exchange {
  question: string;
  answer: string;
}

/** Ten questions and answers, all in pocketsphinx's dictionary and unlike one another. */
export const EXCHANGES: readonly Exchange[] = [
  { question: 'What is the capital of France?', answer: 'The capital of France is Paris.' },
  { question: 'How many legs does a spider have?', answer: 'A spider has eight legs.' },
  { question: 'What color is the sky?', answer: 'The sky is blue on a clear day.' },
  { question: 'Who wrote Romeo and Juliet?', answer: 'William Shakespeare wrote that play.' },
  { question: 'What is two plus two?', answer: 'Two plus two makes four.' },
  { question: 'Where do penguins live?', answer: 'Penguins live near the south pole.' },
  { question: 'When does the sun rise?', answer: 'The sun rises early in the morning.' },
  { question: 'Why is the grass green?', answer: 'Grass is green because of its leaves.' },
  { question: 'How old is the earth?', answer: 'The earth is very very old.' },
  { question: 'Can you play the piano?', answer: 'I cannot play any music at all.' },
];

const FALLBACK_ANSWER = 'Sorry, I did not understand the question.';

/**
 * The scripted LLM: answers the question the user's last message is (as transcribed), so a
 * session that heard another session's audio gets another session's answer.
 */
export function scriptedReply(exchanges: readonly Exchange[]) {
  const answers = new Map(exchanges.map((e) => [normalizePhrase(e.question), e.answer]));
  return (request: ChatCompletionRequest): string => {
    const lastUser = request.messages.findLast((message) => message.role === 'user');
    return answers.get(normalizePhrase(contentText(lastUser?.content))) ?? FALLBACK_ANSWER;
  };
}

/**
 * Speech recognition for the emulated Whisper: pocketsphinx restricted to `phrases`, run on
 * the WAV the STT plugin uploaded. What it returns was really in the audio that arrived.
 */
export function phraseRecognizer(phrases: readonly string[]) {
  const stt = new PocketsphinxSTT({ phrases });
  return {
    async wav(upload: Buffer): Promise<string> {
      return this.pcm(decodeWav(upload));
    },
    async pcm(audio: Pcm16Audio): Promise<string> {
      const frame = new AudioFrame(audio.samples, audio.sampleRate, 1, audio.samples.length);
      const event = await stt.recognize([frame]);
      return event.alternatives?.[0]?.text ?? '';
    },
  };
}
