import { llm } from '@livekit/agents';
import { type MemoryRecall, recallFor, withMemories } from '../memory/recall.js';
import { type Retriever, withKnowledge } from './retrieval.js';

/** Where a turn's context comes from besides the conversation itself. */
export interface TurnSources {
  retriever: Retriever;
  /** What the user told the character in earlier conversations; none without. */
  memories?: MemoryRecall | undefined;
}

/** Whose turn it is, and what the camera shows when one is on. */
export interface TurnScope {
  characterId: string;
  chatRoomId: number;
  /** The camera's latest picture, being taken while the knowledge is fetched. */
  picture?: Promise<llm.ImageContent | undefined> | undefined;
}

/**
 * What the LLM is asked with for one turn, spoken or typed: the conversation so far (persona
 * and history in `chatCtx`, ending with the user's message), the character's knowledge for
 * that message, what it remembers of the user, and the camera's picture when there is one.
 * The voice agent's `llmNode` and the text turn both build their request here, so the two
 * ways of talking cannot drift apart. Knowledge, memories and the picture are fetched side by
 * side: none waits for another.
 */
export async function turnContext(
  sources: TurnSources,
  scope: TurnScope,
  chatCtx: llm.ChatContext,
): Promise<llm.ChatContext> {
  const [knowing, recalled, picture] = await Promise.all([
    withKnowledge(sources.retriever, scope.characterId, chatCtx),
    recallFor(sources.memories, scope.chatRoomId, chatCtx),
    scope.picture,
  ]);
  const augmented = withMemories(knowing, recalled);
  return picture === undefined ? augmented : withLatestImage(augmented, picture);
}

/**
 * A copy of `chatCtx` whose last user message also carries `image`: the camera as it is when
 * the reply is generated. It is added per turn, in the request only, because every generation
 * passes through here (the voice session's preemptive ones too, which start before the turn
 * is committed); it never enters the session's history, so a long call neither keeps nor
 * re-sends old frames.
 */
export function withLatestImage(
  chatCtx: llm.ChatContext,
  image: llm.ImageContent,
): llm.ChatContext {
  const items = [...chatCtx.items];
  for (let index = items.length - 1; index >= 0; index--) {
    const item = items[index];
    if (!(item instanceof llm.ChatMessage) || item.role !== 'user') continue;
    items[index] = llm.ChatMessage.create({
      role: 'user',
      content: [...item.content, image],
      id: item.id,
      createdAt: item.createdAt,
    });
    const copy = chatCtx.copy();
    copy.items = items;
    return copy;
  }
  return chatCtx;
}
