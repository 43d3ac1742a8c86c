import { voice } from '@livekit/agents';

/**
 * The speeches the session has created (scheduled, queued, or preemptive and not yet
 * scheduled) that are neither finished nor interrupted. A provider failure belongs to the
 * newest: the session generates one reply at a time, except while a new user turn replaces
 * the current reply, and then the new turn's reply answers the user either way.
 */
export function trackUnfinishedSpeeches(session: voice.AgentSession): {
  newest(): voice.SpeechHandle | undefined;
} {
  const speeches = new Set<voice.SpeechHandle>();
  const live = (handle: voice.SpeechHandle) => !handle.done() && !handle.interrupted;
  session.on(voice.AgentSessionEventTypes.SpeechCreated, ({ speechHandle }) => {
    // An interrupted speech that was never scheduled is only marked done by a watchdog.
    for (const handle of speeches) if (!live(handle)) speeches.delete(handle);
    speeches.add(speechHandle);
    speechHandle.addDoneCallback(() => speeches.delete(speechHandle));
  });
  return { newest: () => [...speeches].filter(live).at(-1) };
}
