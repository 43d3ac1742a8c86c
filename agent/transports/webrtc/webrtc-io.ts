import { voice } from '@livekit/agents';
import { WebRtcAudioInput } from './audio-input.js';
import { CaptionOutput, sendSessionEvents } from './captions.js';
import type { ServerMessage } from './messages.js';
import type { PeerSession } from './peer.js';
import { createSpeechOutput, type SpeechOutput } from './speech-output.js';
import { WebRtcVideoInput } from './video-input.js';
import type { CameraVision } from './vision.js';

/**
 * A direct call's inputs and outputs, as one object (the shape of agents' `RoomIO`): the
 * browser's microphone as the session's audio input, the character's voice on the same
 * audio m-line, captions and state on the data channel, and the camera (when the browser
 * sends one) as what `vision` sees. `start()` plugs them into a session, `close()` lets
 * them go; the session never learns that the audio comes from a werift peer.
 */
export class WebRtcIO {
  readonly #peer: PeerSession;
  readonly #vision: CameraVision;
  #attached: { input: WebRtcAudioInput; output: SpeechOutput; camera?: WebRtcVideoInput };
  #stopEvents: () => void = () => {};

  constructor(peer: PeerSession, vision: CameraVision) {
    this.#peer = peer;
    this.#vision = vision;
    this.#attached = {
      input: new WebRtcAudioInput({ track: peer.remoteAudio }),
      // Captions and the stored text of a cut reply follow what was played (speech-output.ts).
      output: createSpeechOutput(peer.audioSender, new CaptionOutput(this.send)),
    };
  }

  /** Sends one message to the page (queued while its data channel opens). */
  readonly send = (message: ServerMessage): void => void this.#peer.data.send(message);

  /** Plugs the call into `session`; a session that ends itself hangs up the call. */
  start(session: voice.AgentSession): void {
    const { input, output } = this.#attached;
    const video = this.#peer.video;
    if (video !== undefined) {
      const camera = new WebRtcVideoInput({ transceiver: video });
      this.#attached.camera = camera;
      this.#vision.follow(camera);
    }
    session.input.audio = input;
    session.output.audio = output.audio;
    session.output.transcription = output.transcription;
    this.#stopEvents = sendSessionEvents(session, this.send);
    this.send({ type: 'state', state: 'initializing' });
    session.once(voice.AgentSessionEventTypes.Close, () => void this.#peer.close());
  }

  /** Releases the microphone, the loudspeaker and the camera (the peer is closed by its owner). */
  async close(): Promise<void> {
    this.#stopEvents();
    const { input, output, camera } = this.#attached;
    await Promise.allSettled([input.close(), output.close(), camera?.close()]);
  }
}
