import type { Character } from '../../db/schema.js';
import { GREETING_KEY } from './message-keys.js';
import type { TranscriptEntry } from './transcript-writer.js';

/**
 * The greeting a character opens with: only in a conversation that has not started (no
 * messages yet), whichever way the user arrives — spoken on entering a call, stored when a
 * text client connects.
 */
export function openingGreeting(
  character: Pick<Character, 'greeting'>,
  history: readonly unknown[],
): string | undefined {
  if (history.length > 0 || !character.greeting) return undefined;
  return character.greeting;
}

/**
 * The greeting as stored: one per room whichever path said it first (its fixed key makes a
 * second store a no-op).
 */
export function greetingEntry(
  chatRoomId: number,
  text: string,
  modality: TranscriptEntry['modality'],
): TranscriptEntry {
  return { chatRoomId, sender: 'character', text, modality, clientId: GREETING_KEY };
}
