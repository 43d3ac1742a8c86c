import { initializeLogger, llm } from '@livekit/agents';
import { describe, expect, it } from 'vitest';
import type { Character, ChatRoom } from '../db/schema.js';
import { CharacterAgent, type VisionSource } from './character-agent.js';
import type { Retriever } from './conversation/retrieval.js';

initializeLogger({ pretty: false, level: 'warn' });

const now = new Date();
const character: Character = {
  id: '5b0f3c1e-7a4d-4a8e-9c59-0d7c1f2b3a41',
  ownerId: '9e1c2d3b-4a5f-4e6d-8c7b-1a2b3c4d5e6f',
  name: 'Mira',
  instructions: 'You are Mira.',
  greeting: 'Hello!',
  voiceId: null,
  language: 'en',
  isPublic: false,
  createdAt: now,
  updatedAt: now,
};
const chatRoom: ChatRoom = {
  id: 1,
  userId: character.ownerId,
  characterId: character.id,
  lastSeq: 0,
  createdAt: now,
  updatedAt: now,
};
/** The agent's retrieval is not exercised here: turns with the camera are. */
const noKnowledge: Retriever = { retrieve: async () => [] };

function frame(id: string): llm.ImageContent {
  return llm.createImageContent({ image: `data:image/jpeg;base64,${id}`, inferenceDetail: 'low' });
}

const images = (message: llm.ChatMessage) =>
  message.content.filter((c) => typeof c === 'object' && 'type' in c && c.type === 'image_content');

describe('CharacterAgent vision', () => {
  it('attaches the latest camera frame to the new turn and drops older frames', async () => {
    let current = frame('first');
    const vision: VisionSource = { latestImage: async () => current };
    const agent = new CharacterAgent({
      character,
      chatRoom,
      history: [],
      retriever: noKnowledge,
      vision,
    });
    const chatCtx = llm.ChatContext.empty();
    const first = chatCtx.addMessage({ role: 'user', content: 'What am I holding?' });
    await agent.onUserTurnCompleted(chatCtx, first);
    expect(images(first)).toEqual([current]);

    current = frame('second');
    const second = chatCtx.addMessage({ role: 'user', content: 'And now?' });
    await agent.onUserTurnCompleted(chatCtx, second);
    expect(images(second)).toEqual([current]);
    expect(images(first)).toEqual([]);
    expect(first.textContent).toBe('What am I holding?');
  });

  it('changes nothing without a camera', async () => {
    const vision: VisionSource = { latestImage: async () => undefined };
    const agent = new CharacterAgent({
      character,
      chatRoom,
      history: [],
      retriever: noKnowledge,
      vision,
    });
    const chatCtx = llm.ChatContext.empty();
    const message = chatCtx.addMessage({ role: 'user', content: 'Hello' });
    await agent.onUserTurnCompleted(chatCtx, message);
    expect(message.content).toEqual(['Hello']);
  });
});
