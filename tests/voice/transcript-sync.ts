import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { voice } from '@livekit/agents';

/** The session's text sink type; the class itself is not exported by `@livekit/agents`. */
export type TextOutput = NonNullable<voice.AgentSession['output']['transcription']>;
type TimedText = Parameters<TextOutput['captureText']>[0];

/** LiveKit's transcription synchronizer: the audio and text outputs a session writes to. */
export interface Synchronizer {
  readonly audioOutput: voice.AudioOutput;
  readonly textOutput: TextOutput;
  close(): Promise<void>;
}

/** One caption segment as a client would see it: the text released in step with the audio. */
export interface Caption {
  text: string;
  /** `performance.now()` of the first and last piece. */
  firstAt: number;
  lastAt: number;
  flushed: boolean;
}

/**
 * Where the agents package keeps a module its entry point does not export. RoomIO, which a
 * LiveKit room session uses, wraps its audio output in `TranscriptionSynchronizer`; a session
 * with custom outputs only gets the same behaviour by building one itself.
 */
function internalModule(path: string): string {
  const entry = createRequire(import.meta.url).resolve('@livekit/agents');
  return pathToFileURL(join(dirname(entry), path)).href;
}

interface SynchronizerModule {
  TranscriptionSynchronizer: new (audio: voice.AudioOutput, text: TextOutput) => Synchronizer;
}
interface IoModule {
  TextOutput: abstract new () => TextOutput;
}

/**
 * Wraps `audio` in LiveKit's own `TranscriptionSynchronizer` (as RoomIO does by default) with a
 * {@link RecordingTextOutput} behind it. The synchronizer is what turns "played 1.2 s of this
 * reply" into the words actually spoken, which the session stores for an interrupted reply.
 */
export async function synchronizeTranscript(
  audio: voice.AudioOutput,
): Promise<{ synchronizer: Synchronizer; captions: RecordingTextOutput }> {
  // Casts: these modules are internal to @livekit/agents, so no declarations reach them.
  const sync = (await import(
    internalModule('voice/transcription/synchronizer.js')
  )) as SynchronizerModule;
  const io = (await import(internalModule('voice/io.js'))) as IoModule;
  const captions = createRecordingTextOutput(io.TextOutput);
  return { synchronizer: new sync.TranscriptionSynchronizer(audio, captions), captions };
}

/** A text sink that keeps every caption segment the session (through the synchronizer) sent. */
export interface RecordingTextOutput extends TextOutput {
  readonly captions: Caption[];
}

function createRecordingTextOutput(Base: abstract new () => TextOutput): RecordingTextOutput {
  class Recording extends Base implements RecordingTextOutput {
    readonly captions: Caption[] = [];
    private current: Caption | undefined;

    async captureText(text: TimedText): Promise<void> {
      const piece = typeof text === 'string' ? text : text.text;
      const now = performance.now();
      if (this.current === undefined) {
        this.current = { text: '', firstAt: now, lastAt: now, flushed: false };
        this.captions.push(this.current);
      }
      this.current.text += piece;
      this.current.lastAt = now;
    }

    flush(): void {
      if (this.current !== undefined) this.current.flushed = true;
      this.current = undefined;
    }
  }
  return new Recording();
}
