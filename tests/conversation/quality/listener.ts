import type { Utterance } from '../../voice/harness.js';

interface Heard {
  text: string;
  endedAt: number;
}

/**
 * The emulated speech-to-text of the suite: it hears exactly what the script said. Each upload
 * the session sends is transcribed as the script's phrases that had finished when it arrived
 * and were not transcribed before, so however the VAD cuts a turn (one upload, or one per
 * pause), the transcripts join to what was said; an upload of noise or a cough, with no
 * finished phrase, is heard as nothing. What the suite measures is turn-taking, not
 * recognition.
 */
export class ScriptListener {
  private readonly pending: Heard[] = [];

  /** A phrase the microphone is about to say; `said` resolves when its last frame is sent. */
  expect(text: string, said: Promise<Utterance>): void {
    const heard: Heard = { text, endedAt: Number.NaN };
    this.pending.push(heard);
    void said.then((utterance) => {
      heard.endedAt = utterance.endedAt;
    });
  }

  /** The Whisper emulator's `transcribe` hook. */
  transcribe = (): string => {
    const now = performance.now();
    const ready = this.pending.filter((h) => h.endedAt <= now);
    for (const heard of ready) this.pending.splice(this.pending.indexOf(heard), 1);
    return ready.map((h) => h.text).join(' ');
  };

  /** Forgets phrases never uploaded (a scenario whose audio the VAD never sent). */
  reset(): void {
    this.pending.length = 0;
  }
}
