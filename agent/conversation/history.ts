import { llm } from '@livekit/agents';
import type { Message } from '../../db/schema.js';

/**
 * Stored messages as an LLM chat context, oldest first. With `instructions`, they lead as
 * the system message (the text path); a voice agent carries its instructions itself.
 */
export function historyContext(
  messages: Pick<Message, 'sender' | 'text' | 'interrupted' | 'createdAt'>[],
  instructions?: string,
): llm.ChatContext {
  const chatCtx = llm.ChatContext.empty();
  // The context orders items by creation time: the instructions come before any message.
  if (instructions !== undefined)
    chatCtx.addMessage({ role: 'system', content: instructions, createdAt: 0 });
  for (const message of messages) {
    chatCtx.addMessage({
      role: message.sender === 'user' ? 'user' : 'assistant',
      content: message.text,
      interrupted: message.interrupted,
      createdAt: message.createdAt.getTime(),
    });
  }
  return chatCtx;
}
