import { initializeLogger, llm } from '@livekit/agents';
import { describe, expect, it } from 'vitest';
import { withLatestImage } from './character-agent.js';

initializeLogger({ pretty: false, level: 'warn' });

function frame(id: string): llm.ImageContent {
  return llm.createImageContent({ image: `data:image/jpeg;base64,${id}`, inferenceDetail: 'low' });
}

const images = (message: llm.ChatMessage) =>
  message.content.filter((c) => typeof c === 'object' && 'type' in c && c.type === 'image_content');

describe('CharacterAgent vision', () => {
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
