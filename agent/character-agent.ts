import type { llm } from '@livekit/agents';
import { voice } from '@livekit/agents';
import type { CharacterConversation } from './conversation/character-conversation.js';
import { type LoadConversationDeps, loadConversation } from './conversation/conversations.js';
import { historyContext } from './conversation/history.js';
import { characterInstructions } from './conversation/prompt.js';
import { LLM_MISSING_SPEECH } from './providers/status.js';

/** What the character sees of the user's camera: the latest frame, if any, as an image. */
export interface VisionSource {
  /** A downscaled image of the latest camera frame, or undefined when no camera is on. */
  latestImage(): Promise<llm.ImageContent | undefined>;
}

export interface CharacterAgentParams {
  /** The room's conversation: greeting, history, each turn's request, storing. */
  conversation: CharacterConversation;
  vision?: VisionSource;
  turns?: TurnGate;
}

/**
 * Asked once per completed user turn, before the reply: a refusal (e.g. the user's turn budget
 * is spent) skips the reply, and `onRefused` lets the transport tell the user why.
 */
export interface TurnGate {
  allow(): { code: string; message: string } | undefined;
  onRefused(refusal: { code: string; message: string }): void;
}

/**
 * The voice side of a {@link CharacterConversation}: agents' `AgentSession` runs the turn
 * (VAD, end of turn, speech), and this agent hands the conversation what it needs. Its
 * persona is the instructions, the room's history the chat context; every generation asks
 * the LLM with the conversation's `request` (knowledge, memories, the camera), as a typed
 * turn does.
 */
export class CharacterAgent extends voice.Agent {
  readonly conversation: CharacterConversation;
  readonly #vision: VisionSource | undefined;
  readonly #greeting: string | undefined;
  readonly #turns: TurnGate | undefined;

  constructor(params: CharacterAgentParams, options: Partial<voice.AgentOptions<unknown>> = {}) {
    const { conversation } = params;
    super({
      ...options,
      instructions: characterInstructions(conversation.character, 'voice'),
      chatCtx: historyContext(conversation.history),
    });
    this.conversation = conversation;
    this.#vision = params.vision;
    this.#greeting = conversation.greeting();
    this.#turns = params.turns;
  }

  get character(): CharacterConversation['character'] {
    return this.conversation.character;
  }

  get chatRoom(): CharacterConversation['chatRoom'] {
    return this.conversation.chatRoom;
  }

  /** The greeting to say on entering, only in a conversation that has not started. */
  get pendingGreeting(): string | undefined {
    return this.#greeting;
  }

  override async onEnter(): Promise<void> {
    const greeting = this.pendingGreeting;
    if (greeting) this.session.say(greeting);
  }

  /**
   * Before the reply. A session without an LLM (none configured) says what is missing instead
   * of answering, and keeps neither the turn nor that sentence in the conversation: nothing
   * failed, and nothing pretends to be the character's answer. A refusal from the turn gate
   * (e.g. the user's turn budget is spent) skips the reply and lets the transport say why.
   */
  override async onUserTurnCompleted(): Promise<void> {
    if (this.session.llm === undefined) {
      this.session.say(LLM_MISSING_SPEECH, { addToChatCtx: false });
      throw new voice.StopResponse();
    }
    const refusal = this.#turns?.allow();
    if (refusal === undefined) return;
    this.#turns?.onRefused(refusal);
    throw new voice.StopResponse();
  }

  override async llmNode(
    chatCtx: llm.ChatContext,
    toolCtx: llm.ToolContext,
    modelSettings: voice.ModelSettings,
  ): ReturnType<voice.Agent['llmNode']> {
    const request = await this.conversation.request(chatCtx, this.#vision?.latestImage());
    return voice.Agent.default.llmNode(this, request, toolCtx, modelSettings);
  }
}

export type LoadAgentDeps = LoadConversationDeps;

/**
 * The agent for one chat room: its conversation loaded from the database. The room and
 * character must exist (a dispatch names them).
 */
export async function loadCharacterAgent(
  deps: LoadAgentDeps,
  chatRoomId: number,
  extra: {
    vision?: VisionSource;
    turns?: TurnGate;
    options?: Partial<voice.AgentOptions<unknown>>;
  } = {},
): Promise<CharacterAgent> {
  const params: CharacterAgentParams = { conversation: await loadConversation(deps, chatRoomId) };
  if (extra.vision !== undefined) params.vision = extra.vision;
  if (extra.turns !== undefined) params.turns = extra.turns;
  return new CharacterAgent(params, extra.options);
}
