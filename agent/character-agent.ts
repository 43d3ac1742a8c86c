import type { llm } from '@livekit/agents';
import { voice } from '@livekit/agents';
import { AppError } from '../core/errors.js';
import type { Executor } from '../db/client.js';
import { getCharacter } from '../db/queries/characters.js';
import { getChatRoom } from '../db/queries/chat-rooms.js';
import { recentMessages } from '../db/queries/messages.js';
import type { Character, ChatRoom, Message } from '../db/schema.js';
import { openingGreeting } from './conversation/greeting.js';
import { historyContext } from './conversation/history.js';
import { characterInstructions } from './conversation/prompt.js';
import type { Retriever } from './conversation/retrieval.js';
import { type TurnSources, turnContext } from './conversation/turn-context.js';
import type { MemoryRecall } from './memory/recall.js';
import { LLM_MISSING_SPEECH } from './providers/status.js';

/** What the character sees of the user's camera: the latest frame, if any, as an image. */
export interface VisionSource {
  /** A downscaled image of the latest camera frame, or undefined when no camera is on. */
  latestImage(): Promise<llm.ImageContent | undefined>;
}

export interface CharacterAgentParams {
  character: Character;
  chatRoom: ChatRoom;
  /** The room's recent messages, oldest first: the conversation so far. */
  history: Message[];
  retriever: Retriever;
  /** What the user told the character in earlier conversations. */
  memories?: MemoryRecall | undefined;
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
 * One character, whichever way the user talks to it. Its persona is the instructions, the
 * room's history the chat context; every LLM turn, spoken or typed, gets the character's
 * knowledge for the latest user message (`llmNode` sees both kinds of turn).
 */
export class CharacterAgent extends voice.Agent {
  readonly character: Character;
  readonly chatRoom: ChatRoom;
  readonly #sources: TurnSources;
  readonly #vision: VisionSource | undefined;
  readonly #greeting: string | undefined;
  readonly #turns: TurnGate | undefined;

  constructor(params: CharacterAgentParams, options: Partial<voice.AgentOptions<unknown>> = {}) {
    super({
      ...options,
      instructions: characterInstructions(params.character, 'voice'),
      chatCtx: historyContext(params.history),
    });
    this.character = params.character;
    this.chatRoom = params.chatRoom;
    this.#sources = { retriever: params.retriever, memories: params.memories };
    this.#vision = params.vision;
    this.#greeting = openingGreeting(params.character, params.history);
    this.#turns = params.turns;
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
    const scope = {
      characterId: this.character.id,
      chatRoomId: this.chatRoom.id,
      picture: this.#vision?.latestImage(),
    };
    const request = await turnContext(this.#sources, scope, chatCtx);
    return voice.Agent.default.llmNode(this, request, toolCtx, modelSettings);
  }
}

export interface LoadAgentDeps {
  db: Executor;
  retriever: Retriever;
  memories?: MemoryRecall | undefined;
  historyMessages: number;
}

/**
 * The agent for one chat room: its character and recent history loaded from the database.
 * The room and character must exist (a dispatch names them).
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
  const chatRoom = await getChatRoom(deps.db, chatRoomId);
  if (chatRoom === undefined)
    throw new AppError('ROOM.NOT_FOUND', `Chat room ${chatRoomId} does not exist`);
  const character = await getCharacter(deps.db, chatRoom.characterId);
  if (character === undefined)
    throw new AppError('CHARACTER.NOT_FOUND', 'The room’s character no longer exists');
  const history = await recentMessages(deps.db, chatRoom.id, deps.historyMessages);
  const params: CharacterAgentParams = {
    character,
    chatRoom,
    history,
    retriever: deps.retriever,
    memories: deps.memories,
  };
  if (extra.vision !== undefined) params.vision = extra.vision;
  if (extra.turns !== undefined) params.turns = extra.turns;
  return new CharacterAgent(params, extra.options);
}
