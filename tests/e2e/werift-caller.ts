import { resample } from '../../agent/providers/local/audio-frames.js';
import { synthesizeSpeech } from '../../agent/providers/local/flite.js';
import type { Pcm16Audio } from '../../agent/providers/local/wav.js';
import type { CaptionMessage } from '../../agent/transports/webrtc/messages.js';
import { LOOPBACK_ICE, TestBrowser } from '../helpers/test-browser.js';

const RATE = 48_000;

/** A werift peer calling the app over HTTP the way the page does, and what it heard. */
export interface Caller {
  browser: TestBrowser;
  /** `/api/rtc/sessions/<id>` */
  location: string;
  chatRoomId: number;
  /** Final captions received on the data channel, in order. */
  finalCaptions(): CaptionMessage[];
  /** Everything the server sent on the audio track, 48 kHz mono. */
  heard(): Pcm16Audio;
  /**
   * Says `text` (flite) between a second of silence and a second and a half of silence, the
   * end of the turn; then sends nothing more. (A browser keeps sending silence; ten such streams would only load the VAD.)
   */
  say(text: string): Promise<void>;
  /** Ends the call as the page does: DELETE on its Location, then closes the peer. */
  hangUp(): Promise<void>;
}

/** POSTs a werift offer to `/api/rtc/offer?<query>`; resolves once connected with the answer. */
export async function call(baseUrl: string, token: string, query: string): Promise<Caller> {
  const browser = new TestBrowser();
  const response = await fetch(`${baseUrl}/api/rtc/offer?${query}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/sdp' },
    body: await browser.offer(),
  });
  if (response.status !== 201) {
    await browser.close();
    throw new Error(`offer: ${response.status} ${await response.text()}`);
  }
  await browser.accept(await response.text());
  while (browser.pc.connectionState !== 'connected') {
    if (browser.pc.connectionState === 'failed') throw new Error('ICE/DTLS failed');
    await browser.pc.connectionStateChange.asPromise();
  }
  const location = response.headers.get('location') ?? '';
  const chatRoomId = Number(response.headers.get('parley-chat-room-id'));
  let talking: Promise<void> = Promise.resolve();
  return {
    browser,
    location,
    chatRoomId,
    finalCaptions: () =>
      browser.messages.filter(
        (m): m is CaptionMessage =>
          (m as CaptionMessage).type === 'caption' && (m as CaptionMessage).final,
      ),
    heard: () => ({ samples: browser.heardSamples(), sampleRate: RATE }),
    async say(text) {
      const speech = resample(await synthesizeSpeech(text), RATE);
      // A second of silence first: speech from the very first packet loses its first word
      // (the VAD needs a little audio before it to find where speech starts).
      const turn = new Int16Array(RATE + speech.length + (RATE * 3) / 2);
      turn.set(speech, RATE);
      talking = browser.speak(turn);
    },
    async hangUp() {
      await talking;
      const ended = await fetch(`${baseUrl}${location}`, {
        method: 'DELETE',
        headers: { authorization: `Bearer ${token}` },
      });
      if (ended.status !== 204) throw new Error(`hang up: ${ended.status}`);
      await browser.close();
    },
  };
}

/** Keeps LOOPBACK_ICE in one place for the server side of werift-to-werift calls. */
export const SERVER_LOOPBACK = LOOPBACK_ICE;
