/**
 * What the text turn's early LLM request is measured against (ws-chat section): the same
 * conversation with one hook changed, so the product code carries no benchmark options.
 */
import { setTimeout as delay } from 'node:timers/promises';
import {
  type Answered,
  CharacterConversation,
  type CharacterConversationParams,
  type TypedTurn,
} from '../agent/conversation/character-conversation.js';
import {
  CharacterConversations,
  type ConversationDeps,
} from '../agent/conversation/conversations.js';
import type { AppendResult } from '../db/queries/messages.js';

/** The product; a turn that always stores first; one whose store waits 5 ms (the old workaround). */
export type TextTurnVariant = 'product' | 'no-early-request' | 'store-after-5ms';

/** Asks the LLM only once the user's message is stored. */
class StoreFirst extends CharacterConversation {
  protected override answer(turn: TypedTurn): Promise<Answered> {
    return this.answerAfterStoring(turn);
  }
}

/**
 * Stores 5 ms later than the product (5 ms after the LLM request was sent), as PGlite on the
 * main thread once needed for the early request.
 */
class StoreAfter5Ms extends CharacterConversation {
  protected override async storeUserMessage(turn: TypedTurn): Promise<AppendResult> {
    await delay(5);
    return super.storeUserMessage(turn);
  }
}

/** The conversations of a process whose rooms' conversations are `Variant`s. */
class VariantConversations extends CharacterConversations {
  constructor(
    deps: ConversationDeps,
    private readonly Variant: typeof CharacterConversation,
  ) {
    super(deps);
  }

  protected override conversation(params: CharacterConversationParams): CharacterConversation {
    return new this.Variant(params);
  }
}

export function benchConversation(
  variant: TextTurnVariant,
  deps: ConversationDeps,
): CharacterConversations {
  if (variant === 'no-early-request') return new VariantConversations(deps, StoreFirst);
  if (variant === 'store-after-5ms') return new VariantConversations(deps, StoreAfter5Ms);
  return new CharacterConversations(deps);
}
