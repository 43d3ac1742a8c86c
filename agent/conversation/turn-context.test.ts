import { initializeLogger, llm } from '@livekit/agents';
import { describe, expect, it } from 'vitest';
import type { SimilarChunk } from '../../db/queries/knowledge.js';
import type { MemoryItem } from '../../db/queries/memories.js';
import { turnContext, withLatestImage } from './turn-context.js';

initializeLogger({ pretty: false, level: 'warn' });

function frame(id: string): llm.ImageContent {
  return llm.createImageContent({ image: `data:image/jpeg;base64,${id}`, inferenceDetail: 'low' });
}

const images = (message: llm.ChatMessage) =>
  message.content.filter((c) => typeof c === 'object' && 'type' in c && c.type === 'image_content');

describe('the camera in a turn', () => {
  it('shows the LLM the latest camera frame with the newest user turn only', () => {
    const chatCtx = llm.ChatContext.empty();
    const first = chatCtx.addMessage({ role: 'user', content: 'What am I holding?' });
    chatCtx.addMessage({ role: 'assistant', content: 'A red cup.' });
    const second = chatCtx.addMessage({ role: 'user', content: 'And now?' });
    const image = frame('now');
    const seeing = withLatestImage(chatCtx, image);
    const last = seeing.items.at(-1) as llm.ChatMessage;
    expect(last.content).toEqual(['And now?', image]);
    expect(images(seeing.items[0] as llm.ChatMessage)).toEqual([]);
    // The session's own history is left as it was: no frame is kept or sent again later.
    expect(second.content).toEqual(['And now?']);
    expect(first.content).toEqual(['What am I holding?']);
    expect(chatCtx.items).toHaveLength(3);
  });

  it('leaves a context without a user turn alone', () => {
    const chatCtx = llm.ChatContext.empty();
    chatCtx.addMessage({ role: 'assistant', content: 'Hello!' });
    expect(withLatestImage(chatCtx, frame('x'))).toBe(chatCtx);
  });
});

/** A knowledge source answering one passage for every query, recording what it was asked. */
function oneFactRetriever(asked: string[]) {
  return {
    async retrieve(characterId: string, query: string): Promise<SimilarChunk[]> {
      asked.push(`${characterId}:${query}`);
      return [{ id: 1, documentId: 'd', content: 'The lighthouse is blue.', similarity: 0.9 }];
    },
  };
}

describe('turnContext: one request shape for spoken and typed turns', () => {
  it('puts knowledge and memories before the newest user message and the picture in it', async () => {
    const chatCtx = llm.ChatContext.empty();
    chatCtx.addMessage({ role: 'system', content: 'You are Ada.' });
    chatCtx.addMessage({ role: 'user', content: 'What colour is the lighthouse?' });
    const asked: string[] = [];
    const memories = {
      recall: async (chatRoomId: number, query: string) => {
        asked.push(`room ${chatRoomId}:${query}`);
        const now = new Date();
        const note: MemoryItem = {
          id: 7,
          chatRoomId,
          userId: 'u1',
          text: 'The user likes boats.',
          sourceMessageIds: [1],
          createdAt: now,
          updatedAt: now,
        };
        return [note];
      },
    };
    const picture = frame('cam');
    const request = await turnContext(
      { retriever: oneFactRetriever(asked), memories },
      { characterId: 'c1', chatRoomId: 4, picture: Promise.resolve(picture) },
      chatCtx,
    );
    const texts = request.items.map((item) => (item as llm.ChatMessage).textContent ?? '');
    expect(texts[0]).toBe('You are Ada.');
    expect(texts.slice(1, 3).join('\n')).toContain('The lighthouse is blue.');
    expect(texts.slice(1, 3).join('\n')).toContain('The user likes boats.');
    const last = request.items.at(-1) as llm.ChatMessage;
    expect(last.role).toBe('user');
    expect(images(last)).toEqual([picture]);
    expect(asked.sort()).toEqual([
      'c1:What colour is the lighthouse?',
      'room 4:What colour is the lighthouse?',
    ]);
    // The conversation itself is left as it was.
    expect(chatCtx.items).toHaveLength(2);
  });
});
