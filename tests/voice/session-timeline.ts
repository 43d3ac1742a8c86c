import { llm, type metrics, voice } from '@livekit/agents';

/** Something the session reported, stamped with `performance.now()` when it arrived. */
export interface Stamped<T> {
  at: number;
  value: T;
}

/** A committed chat message as the session announced it. */
export interface CommittedItem {
  role: string;
  text: string;
  interrupted: boolean;
}

/** What the session said it did, in order, each event timed on the harness's clock. */
export class SessionTimeline {
  readonly userStates: Stamped<voice.UserState>[] = [];
  readonly agentStates: Stamped<voice.AgentState>[] = [];
  /** Final user transcripts. */
  readonly transcripts: Stamped<string>[] = [];
  readonly items: Stamped<CommittedItem>[] = [];
  readonly errors: Stamped<{ type: string; recoverable: boolean; message: string }>[] = [];
  readonly falseInterruptions: number[] = [];
  /** Replies the session began generating (preemptive ones included), by where they came from. */
  readonly speeches: Stamped<string>[] = [];
  /** Every metrics report (LLM, TTS, STT, end of utterance), stamped when it was reported. */
  readonly metrics: Stamped<metrics.AgentMetrics>[] = [];
  closedAt: number | undefined;

  constructor(session: voice.AgentSession) {
    const stamp = <T>(list: Stamped<T>[], value: T) => list.push({ at: performance.now(), value });
    const on = voice.AgentSessionEventTypes;
    session.on(on.UserStateChanged, (ev) => stamp(this.userStates, ev.newState));
    session.on(on.AgentStateChanged, (ev) => stamp(this.agentStates, ev.newState));
    session.on(on.UserInputTranscribed, (ev) => {
      if (ev.isFinal) stamp(this.transcripts, ev.transcript);
    });
    session.on(on.ConversationItemAdded, ({ item }) => {
      if (!(item instanceof llm.ChatMessage)) return;
      stamp(this.items, {
        role: item.role,
        text: item.textContent ?? '',
        interrupted: item.interrupted,
      });
    });
    session.on(on.Error, ({ error }) => {
      // An interruption detector's error is itself the Error; the others wrap one.
      const cause: unknown = error instanceof Error ? error : error.error;
      const message = cause instanceof Error ? cause.message : String(cause);
      stamp(this.errors, { type: error.type, recoverable: error.recoverable, message });
    });
    session.on(on.SpeechCreated, (ev) => stamp(this.speeches, ev.source));
    session.on(on.MetricsCollected, (ev) => stamp(this.metrics, ev.metrics));
    session.on(on.AgentFalseInterruption, () => this.falseInterruptions.push(performance.now()));
    session.on(on.Close, () => {
      this.closedAt = performance.now();
    });
  }

  /** Every event in order, one per line, times relative to `origin`: for failure messages. */
  describe(origin = 0): string {
    const lines: [number, string][] = [
      ...this.userStates.map((s): [number, string] => [s.at, `user ${s.value}`]),
      ...this.agentStates.map((s): [number, string] => [s.at, `agent ${s.value}`]),
      ...this.transcripts.map((s): [number, string] => [s.at, `transcript "${s.value}"`]),
      ...this.items.map((s): [number, string] => [s.at, `item ${s.value.role} "${s.value.text}"`]),
      ...this.errors.map((s): [number, string] => [
        s.at,
        `error ${s.value.type} ${s.value.message}`,
      ]),
      ...this.falseInterruptions.map((at): [number, string] => [at, 'false interruption']),
    ];
    return lines
      .sort((a, b) => a[0] - b[0])
      .map(([at, what]) => `${Math.round(at - origin)} ms: ${what}`)
      .join('\n');
  }

  /** Committed messages of `role` after `since`. */
  itemsAfter(since: number, role?: string): CommittedItem[] {
    return this.items
      .filter((item) => item.at >= since && (role === undefined || item.value.role === role))
      .map((item) => item.value);
  }
}
