import type { voice } from '@livekit/agents';
import { synchronizeOutputs, type TextOutput } from '../../voice/transcript-sync.js';
import { WebRtcAudioOutput } from './audio-output.js';
import type { RtpSink } from './opus-rtp-sender.js';

/** The character's voice and captions on a direct call, as the session is given them. */
export interface SpeechOutput {
  /** Set as `session.output.audio`: the playout below, behind LiveKit's transcript synchronizer. */
  readonly audio: voice.AudioOutput;
  /** Set as `session.output.transcription`: `captions`, fed as the words are played. */
  readonly transcription: TextOutput;
  /** The real-time Opus playout at the bottom of the chain. */
  readonly playout: WebRtcAudioOutput;
  close(): Promise<void>;
}

/**
 * Builds a direct call's outputs: Opus RTP to `sink` in real time, and the reply's text to
 * `captions` in step with it. Through the synchronizer, an interrupted reply is stored as the
 * words that were played (the playback position of `sink`'s audio), as on a LiveKit room.
 */
export function createSpeechOutput(sink: RtpSink, captions: TextOutput): SpeechOutput {
  const playout = new WebRtcAudioOutput({ sink });
  const synced = synchronizeOutputs(playout, captions);
  return {
    audio: synced.audio,
    transcription: synced.transcription,
    playout,
    async close() {
      await playout.close();
      await synced.close();
    },
  };
}
