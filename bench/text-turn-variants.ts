/**
 * What the text turn's early LLM request is measured against (ws-chat section): the same
 * conversation with one hook changed, so the product code carries no benchmark options.
 */
import { setTimeout as delay } from 'node:timers/promises';
import {
  type Answered,
  type ConversationDeps,
  TextConversation,
  type Turn,
} from '../agent/conversation/text-turn.js';
import type { AppendResult } from '../db/queries/messages.js';

/** The product; a turn that always stores first; one whose store waits 5 ms (the old workaround). */
export type TextTurnVariant = 'product' | 'no-early-request' | 'store-after-5ms';

/** Asks the LLM only once the user's message is stored. */
class StoreFirst extends TextConversation {
  protected override answer(turn: Turn): Promise<Answered> {
    return this.answerAfterStoring(turn);
  }
}

/**
 * Stores 5 ms later than the product (5 ms after the LLM request was sent), as PGlite on the
 * main thread once needed for the early request.
 */
class StoreAfter5Ms extends TextConversation {
  protected override async storeUserMessage(turn: Turn): Promise<AppendResult> {
    await delay(5);
    return super.storeUserMessage(turn);
  }
}

export function benchConversation(
  variant: TextTurnVariant,
  deps: ConversationDeps,
): TextConversation {
  if (variant === 'no-early-request') return new StoreFirst(deps);
  if (variant === 'store-after-5ms') return new StoreAfter5Ms(deps);
  return new TextConversation(deps);
}
