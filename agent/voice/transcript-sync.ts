import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { voice } from '@livekit/agents';

/** The session's text sink type; the abstract class itself is not exported by `@livekit/agents`. */
export type TextOutput = NonNullable<voice.AgentSession['output']['transcription']>;

/** An audio and a text output that release the reply's words in step with its audio. */
export interface SynchronizedOutputs {
  /** Set as `session.output.audio`. */
  readonly audio: voice.AudioOutput;
  /** Set as `session.output.transcription`. */
  readonly transcription: TextOutput;
  close(): Promise<void>;
}

interface SynchronizerModule {
  TranscriptionSynchronizer: new (
    audio: voice.AudioOutput,
    text: TextOutput,
  ) => { audioOutput: voice.AudioOutput; textOutput: TextOutput; close(): Promise<void> };
}

/**
 * A module of `@livekit/agents` that its entry point does not export. The package is pinned
 * to one exact version (package.json), and tests/voice/barge-in.test.ts fails if this path or
 * the class moves.
 */
function internalModule(path: string): string {
  const entry = createRequire(import.meta.url).resolve('@livekit/agents');
  return pathToFileURL(join(dirname(entry), path)).href;
}

// The ESM build, the same module instances as the session's (the CJS build would bring a
// second, uninitialised logger). Cast: the module is internal, no declarations reach it.
const { TranscriptionSynchronizer } = (await import(
  internalModule('voice/transcription/synchronizer.js')
)) as SynchronizerModule;

/**
 * Wraps a transport's outputs in LiveKit's `TranscriptionSynchronizer`, as `RoomIO` does for a
 * LiveKit room. Without it an interrupted reply is stored with all the text the LLM had
 * generated: the session takes the words that were heard only from the playback-finished
 * event's `synchronizedTranscript`, which the synchronizer fills in from the playback position
 * of `audio` and the words' timing (the TTS's, or an estimated speaking rate). Captions sent
 * through `text` then also appear as the words are spoken, not as the LLM writes them.
 */
export function synchronizeOutputs(
  audio: voice.AudioOutput,
  text: TextOutput,
): SynchronizedOutputs {
  const sync = new TranscriptionSynchronizer(audio, text);
  return {
    audio: sync.audioOutput,
    transcription: sync.textOutput,
    close: () => sync.close(),
  };
}
