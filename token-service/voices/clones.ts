/**
 * Voice cloning: a user's clip becomes a Cartesia voice that only that user may give to a
 * character. The row in `cloned_voices` is the proof of ownership Parley checks.
 */
import type Cartesia from '@cartesia/cartesia-js';
import { toFile } from '@cartesia/cartesia-js';
import { decodeWav } from '../../agent/providers/local/wav.js';
import { AppError } from '../../core/errors.js';
import type { Executor } from '../../db/client.js';
import {
  deleteClonedVoice,
  findClonedVoice,
  insertClonedVoice,
  listClonedVoices,
} from '../../db/queries/cloned-voices.js';
import type { ClonedVoice } from '../../db/schema.js';
import { cartesiaCall } from './voice-catalog.js';

/** What a clip must be. The page asks for 10-20 s; a little either side is accepted. */
export const CLIP_LIMITS = {
  minSeconds: 5,
  maxSeconds: 30,
  /** 30 s of mono 16-bit PCM at 48 kHz is 2.9 MB. */
  maxBytes: 4 * 1024 * 1024,
  /** Cloned voices one user may keep. */
  maxVoicesPerUser: 10,
} as const;

/** Checks a clip is a mono 16-bit WAV of an acceptable length; returns its seconds. */
export function checkClip(clip: Buffer): number {
  if (clip.length > CLIP_LIMITS.maxBytes) {
    throw new AppError('REQUEST.TOO_LARGE', `A clip may be at most ${CLIP_LIMITS.maxBytes} bytes`);
  }
  let seconds: number;
  try {
    const audio = decodeWav(clip);
    seconds = audio.samples.length / audio.sampleRate;
  } catch (error) {
    throw new AppError('VOICE.CLIP_FORMAT', 'A clip must be a mono 16-bit PCM WAV file', {
      cause: error,
    });
  }
  const { minSeconds, maxSeconds } = CLIP_LIMITS;
  const details = { seconds: Math.round(seconds * 10) / 10, minSeconds, maxSeconds };
  if (seconds < minSeconds) {
    throw new AppError('VOICE.CLIP_TOO_SHORT', `Record at least ${minSeconds} s`, { details });
  }
  if (seconds > maxSeconds) {
    throw new AppError('VOICE.CLIP_TOO_LONG', `A clip may be at most ${maxSeconds} s`, { details });
  }
  return seconds;
}

export interface CloneDeps {
  db: Executor;
  client: Cartesia | undefined;
}

/** A Cartesia client, or the error that says which key to set. */
function requireClient(client: Cartesia | undefined): Cartesia {
  if (client !== undefined) return client;
  throw new AppError(
    'PROVIDER.NOT_CONFIGURED',
    'Voice cloning needs Cartesia: set CARTESIA_API_KEY and restart Parley',
    { details: { variable: 'CARTESIA_API_KEY' } },
  );
}

/** Clones a voice at Cartesia from a checked clip and records it as the user's. */
export async function cloneVoice(
  deps: CloneDeps,
  input: { ownerId: string; name: string; language: string; clip: Buffer },
): Promise<ClonedVoice> {
  const client = requireClient(deps.client);
  checkClip(input.clip);
  const existing = await listClonedVoices(deps.db, input.ownerId);
  if (existing.length >= CLIP_LIMITS.maxVoicesPerUser) {
    throw new AppError('VOICE.TOO_MANY', 'Delete a cloned voice before making another', {
      details: { max: CLIP_LIMITS.maxVoicesPerUser },
    });
  }
  const clip = await toFile(input.clip, 'clip.wav', { type: 'audio/wav' });
  const made = await cartesiaCall(() =>
    client.voices.clone({ clip, name: input.name, language: input.language }),
  );
  return insertClonedVoice(deps.db, {
    ownerId: input.ownerId,
    providerVoiceId: made.id,
    name: input.name,
    language: input.language,
  });
}

/** One of the user's cloned voices; anyone else's is reported as not existing. */
export async function ownClonedVoice(
  db: Executor,
  ownerId: string,
  providerVoiceId: string,
): Promise<ClonedVoice> {
  const voice = await findClonedVoice(db, providerVoiceId);
  if (voice === undefined || voice.ownerId !== ownerId) {
    throw new AppError('VOICE.NOT_FOUND', 'No such cloned voice');
  }
  return voice;
}

/** Deletes the user's cloned voice at Cartesia first, then here (a 404 there is fine). */
export async function deleteVoice(
  deps: CloneDeps,
  input: { ownerId: string; providerVoiceId: string },
): Promise<void> {
  const voice = await ownClonedVoice(deps.db, input.ownerId, input.providerVoiceId);
  const client = requireClient(deps.client);
  try {
    await cartesiaCall(() => client.voices.delete(voice.providerVoiceId));
  } catch (error) {
    if (!(error instanceof AppError && error.code === 'VOICE.NOT_FOUND')) throw error;
  }
  await deleteClonedVoice(deps.db, voice);
}

/**
 * Whether a user may give `voiceId` to a character: their own clone, or any voice that is
 * not someone else's clone. Others' clones answer exactly like unknown voices.
 */
export async function checkVoiceUsable(db: Executor, userId: string, voiceId: string) {
  const clone = await findClonedVoice(db, voiceId);
  if (clone !== undefined && clone.ownerId !== userId) {
    throw new AppError('VOICE.NOT_FOUND', 'No such voice');
  }
}

export { listClonedVoices };
