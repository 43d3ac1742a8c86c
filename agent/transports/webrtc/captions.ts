import { llm, voice } from '@livekit/agents';
import type { CharacterState, ServerMessage } from './messages.js';

type Send = (message: ServerMessage) => void;

/**
 * The reply as the LLM writes it, sent as interim character captions (each one the whole
 * text so far). Set it as the session's `output.transcription`.
 *
 * `ParalellTextOutput` with no sinks is the only `TextOutput` the agents package exports, so
 * this extends it rather than the abstract class.
 */
export class CaptionOutput extends voice.ParalellTextOutput {
  #text = '';

  constructor(private readonly send: Send) {
    super([]);
  }

  override async captureText(text: string | voice.TimedString): Promise<void> {
    this.#text += typeof text === 'string' ? text : text.text;
    if (this.#text.trim() === '') return;
    this.send({ type: 'caption', role: 'character', text: this.#text.trim(), final: false });
  }

  override flush(): void {
    this.#text = '';
  }
}

/** The page shows four states; `idle` (nothing going on) looks like listening to a user. */
function shownState(state: voice.AgentState): CharacterState {
  return state === 'idle' ? 'listening' : state;
}

/**
 * Sends a session's state changes and captions to the page: interim user captions from
 * speech-to-text, and one final caption per stored message (the text that was committed,
 * which for an interrupted reply is what was actually spoken). Returns an unsubscribe.
 */
export function sendSessionEvents(session: voice.AgentSession, send: Send): () => void {
  const onState = (event: voice.AgentStateChangedEvent) =>
    send({ type: 'state', state: shownState(event.newState) });
  const onTranscript = (event: voice.UserInputTranscribedEvent) => {
    const text = event.transcript.trim();
    if (text !== '') send({ type: 'caption', role: 'user', text, final: false });
  };
  const onItem = ({ item }: voice.ConversationItemAddedEvent) => {
    if (!(item instanceof llm.ChatMessage)) return;
    if (item.role !== 'user' && item.role !== 'assistant') return;
    const text = (item.textContent ?? '').trim();
    if (text === '') return;
    send({ type: 'caption', role: item.role === 'user' ? 'user' : 'character', text, final: true });
  };
  session.on(voice.AgentSessionEventTypes.AgentStateChanged, onState);
  session.on(voice.AgentSessionEventTypes.UserInputTranscribed, onTranscript);
  session.on(voice.AgentSessionEventTypes.ConversationItemAdded, onItem);
  return () => {
    session.off(voice.AgentSessionEventTypes.AgentStateChanged, onState);
    session.off(voice.AgentSessionEventTypes.UserInputTranscribed, onTranscript);
    session.off(voice.AgentSessionEventTypes.ConversationItemAdded, onItem);
  };
}
