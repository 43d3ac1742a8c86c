/**
 * The voices a character can speak with: Cartesia's library through its official client, or,
 * without a Cartesia key, the one built-in flite voice. The library is fetched once per
 * `LIBRARY_TTL_MS` and filtered here; each preview is synthesised once and kept in memory.
 */
import type Cartesia from '@cartesia/cartesia-js';
import { APIError } from '@cartesia/cartesia-js';
import { LRUCache } from 'lru-cache';
import { synthesizeSpeech } from '../../agent/providers/local/flite.js';
import { encodeWav } from '../../agent/providers/local/wav.js';
import { AppError } from '../../core/errors.js';

/** The id the built-in voice goes by when no Cartesia key is configured. */
export const FLITE_VOICE_ID = 'flite';
/** How long Cartesia's library listing is reused before it is fetched again. */
const LIBRARY_TTL_MS = 10 * 60_000;
/** At most this many listing pages (100 voices each) are read, so a huge library stays bounded. */
const MAX_LIBRARY_PAGES = 20;
/** Memory the preview cache may use (a 3 s WAV at 24 kHz is ~150 kB). */
const PREVIEW_CACHE_BYTES = 64 * 1024 * 1024;
const PREVIEW_SAMPLE_RATE = 24_000;

/** What a preview says, per language; English when the language is not listed. */
const PREVIEW_TEXT: Record<string, string> = {
  en: 'Hello! This is how I sound. Shall we talk?',
  es: '¡Hola! Así suena mi voz. ¿Hablamos?',
  de: 'Hallo! So klingt meine Stimme. Wollen wir reden?',
  fr: 'Bonjour ! Voici ma voix. On discute ?',
  it: 'Ciao! Questa è la mia voce. Parliamo?',
  pt: 'Olá! Esta é a minha voz. Vamos conversar?',
};

/** One voice as the API shows it. */
export interface VoiceEntry {
  id: string;
  name: string;
  description: string;
  /** Primary language subtag, e.g. `es`. */
  language: string;
  gender: string | null;
  /** `library` voices anyone may use; `cloned` ones only their owner. */
  source: 'library' | 'cloned' | 'builtin';
}

/** Primary language subtag: `es-MX` → `es`. */
export function primaryLanguage(tag: string): string {
  return tag.toLowerCase().split(/[-_]/)[0] ?? tag;
}

/** Whether a voice matches a language filter and a search text (name, description or id). */
export function voiceMatches(
  voice: VoiceEntry,
  filter: { language?: string | undefined; q?: string | undefined },
): boolean {
  if (filter.language !== undefined && voice.language !== primaryLanguage(filter.language)) {
    return false;
  }
  const q = filter.q?.trim().toLowerCase();
  if (q === undefined || q === '') return true;
  return [voice.name, voice.description, voice.id].some((field) => field.toLowerCase().includes(q));
}

export interface VoiceCatalogOptions {
  /** Undefined when no Cartesia key is configured: the built-in voice only. */
  client: Cartesia | undefined;
  /** The TTS model previews are made with (the one conversations use). */
  model: string;
}

/** Cartesia's library (cached) and voice previews (synthesised once). */
export class VoiceCatalog {
  readonly provider: 'cartesia' | 'flite';
  private readonly client: Cartesia | undefined;
  private readonly model: string;
  private readonly library: LRUCache<'all', VoiceEntry[]>;
  private readonly previews: LRUCache<string, Buffer, { voiceId: string; language: string }>;

  constructor(options: VoiceCatalogOptions) {
    this.client = options.client;
    this.model = options.model;
    this.provider = options.client === undefined ? 'flite' : 'cartesia';
    this.library = new LRUCache({
      max: 1,
      ttl: LIBRARY_TTL_MS,
      fetchMethod: () => this.fetchLibrary(),
    });
    // fetchMethod also joins concurrent requests for one preview into one synthesis.
    this.previews = new LRUCache({
      maxSize: PREVIEW_CACHE_BYTES,
      sizeCalculation: (audio) => audio.length,
      fetchMethod: (_key, _stale, { context }) => this.synthesize(context),
    });
  }

  /** The library voices, filtered; one built-in voice without Cartesia. */
  async list(filter: { language?: string | undefined; q?: string | undefined }) {
    if (this.client === undefined) return [builtinVoice()].filter((v) => voiceMatches(v, filter));
    const all = await this.library.fetch('all');
    return (all ?? []).filter((voice) => voiceMatches(voice, filter));
  }

  /** A voice of Cartesia's public library (or the built-in voice), if `voiceId` is one. */
  async libraryVoice(voiceId: string): Promise<VoiceEntry | undefined> {
    const all = this.client === undefined ? [builtinVoice()] : await this.library.fetch('all');
    return (all ?? []).find((voice) => voice.id === voiceId);
  }

  /** A WAV preview of a voice speaking `language`, made once and then served from memory. */
  async preview(voiceId: string, language: string): Promise<Buffer> {
    const lang = primaryLanguage(language);
    const audio = await this.previews.fetch(`${voiceId}\n${lang}`, {
      context: { voiceId, language: lang },
    });
    if (audio === undefined) throw new AppError('PROVIDER.FAILED', 'No preview was made');
    return audio;
  }

  private async synthesize({ voiceId, language }: { voiceId: string; language: string }) {
    const transcript = PREVIEW_TEXT[language] ?? PREVIEW_TEXT.en ?? '';
    if (this.client === undefined) return encodeWav(await synthesizeSpeech(transcript));
    const response = await cartesiaCall(() =>
      // biome-ignore lint/style/noNonNullAssertion: checked just above
      this.client!.tts.generate({
        model_id: this.model,
        transcript,
        voice: { mode: 'id', id: voiceId },
        language,
        output_format: {
          container: 'wav',
          encoding: 'pcm_s16le',
          sample_rate: PREVIEW_SAMPLE_RATE,
        },
      }),
    );
    return Buffer.from(await response.arrayBuffer());
  }

  private async fetchLibrary(): Promise<VoiceEntry[]> {
    const client = this.client;
    if (client === undefined) return [];
    return cartesiaCall(async () => {
      const voices: VoiceEntry[] = [];
      let page = await client.voices.list({ limit: 100 });
      for (let pages = 1; ; pages += 1) {
        for (const voice of page.data) {
          if (voice.is_owner) continue; // clones are listed per user, from our own table
          voices.push({
            id: voice.id,
            name: voice.name,
            description: voice.description,
            language: primaryLanguage(voice.language),
            gender: voice.gender ?? null,
            source: 'library',
          });
        }
        if (!page.hasNextPage() || pages >= MAX_LIBRARY_PAGES) return voices;
        page = await page.getNextPage();
      }
    });
  }
}

function builtinVoice(): VoiceEntry {
  return {
    id: FLITE_VOICE_ID,
    name: 'Built-in voice (flite)',
    description:
      'The only voice without a Cartesia key: English, robotic. Set CARTESIA_API_KEY for more.',
    language: 'en',
    gender: null,
    source: 'builtin',
  };
}

/** Runs a Cartesia call; its failures become `PROVIDER.FAILED` / `VOICE.NOT_FOUND`. */
export async function cartesiaCall<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof APIError && error.status === 404) {
      throw new AppError('VOICE.NOT_FOUND', 'No such voice at Cartesia', { cause: error });
    }
    throw new AppError('PROVIDER.FAILED', 'Cartesia did not answer as expected', {
      cause: error,
    });
  }
}
