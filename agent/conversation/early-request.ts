import type { AppendResult } from '../../db/queries/messages.js';
import type { Message } from '../../db/schema.js';
import {
  finishReply,
  passOn,
  type Reply,
  type ReplyDeps,
  type ReplyRequest,
  type Streamed,
  streamReply,
} from './reply.js';

/**
 * The text turn's early request, whole: when the room's recent history is in memory, the LLM
 * request goes out while the user's message is being stored, instead of after. The reply is
 * kept only if the message was new and came right after that history; no delta is passed on
 * before that is known, and an abandoned request is closed at once.
 */
export interface EarlyTurn {
  /** The room's latest messages, as held in memory. */
  known: Message[];
  text: string;
  request: Omit<ReplyRequest, 'history'>;
  /** Stores the user's message. */
  store(): Promise<AppendResult>;
}

/** Whether a turn may ask early: its room is in memory and this client id is not in it yet. */
export function mayAskEarly(known: Message[] | undefined, clientId: string): known is Message[] {
  return known !== undefined && !known.some((message) => message.clientId === clientId);
}

/**
 * Stores the user's message while the LLM is asked; `reply` is there only when the stored
 * message follows the history the request was built on. The insert starts once the request
 * has been sent (or failed before): agents starts the request on a timer, so an insert
 * started at once did its work on this thread ahead of the request it is meant to overlap.
 * The `ws-chat` bench compares this with storing 5 ms later (BENCHMARKS.md).
 */
export async function askWhileStoring(
  deps: ReplyDeps,
  turn: EarlyTurn,
): Promise<{ user: AppendResult; reply?: Reply }> {
  let decide: (go: boolean) => void = () => {};
  const go = new Promise<boolean>((resolve) => {
    decide = resolve;
  });
  let asked: () => void = () => {};
  const requested = new Promise<void>((resolve) => {
    asked = resolve;
  });
  const history = [...turn.known, provisionalUserMessage(turn.text, turn.known.at(-1))];
  const replying = replyOnceAllowed(deps, { ...turn.request, history }, go, asked);
  // Awaited below, after the insert: a failure meanwhile must not count as unhandled.
  replying.catch(() => {}).finally(asked);
  let user: AppendResult;
  try {
    await requested;
    user = await turn.store();
  } catch (error) {
    decide(false);
    await replying.catch(() => undefined);
    throw error;
  }
  const follows = user.created && user.message.seq === (turn.known.at(-1)?.seq ?? 0) + 1;
  decide(follows);
  const reply = await replying;
  return follows && reply !== undefined ? { user, reply } : { user };
}

/** The reply, holding back its first delta until `go` says true; undefined when it says false. */
async function replyOnceAllowed(
  deps: ReplyDeps,
  request: ReplyRequest,
  go: Promise<boolean>,
  onAsked: () => void,
): Promise<Reply | undefined> {
  const abandon = new AbortController();
  void go.then((ok) => ok || abandon.abort());
  const pieces = streamReply(deps, request, { signal: abandon.signal, onAsked });
  const first = await pieces.next();
  if (!(await go)) {
    await pieces.return(ABANDONED);
    return undefined;
  }
  return finishReply(deps, request, await passOn(pieces, request.onDelta, first));
}

const ABANDONED: Streamed = { text: '', ttftMs: undefined, failure: undefined };

/** The user's message as the prompt will see it once stored: after everything before it. */
function provisionalUserMessage(
  text: string,
  last: Message | undefined,
): ReplyRequest['history'][0] {
  const after = (last?.createdAt.getTime() ?? 0) + 1;
  return {
    sender: 'user',
    text,
    interrupted: false,
    createdAt: new Date(Math.max(Date.now(), after)),
  };
}
