import type { CaptionMessage } from '../../agent/direct/messages.js';
import { resample } from '../../agent/providers/local/audio-frames.js';
import { synthesizeSpeech } from '../../agent/providers/local/flite.js';
import type { Pcm16Audio } from '../../agent/providers/local/wav.js';
import { LOOPBACK_ICE, TestBrowser } from '../../agent/transports/webrtc/test-browser.js';

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
  /** Says `text` (flite), then keeps the microphone open with silence, as a browser does. */
  say(text: string): Promise<void>;
  hangUp(): Promise<void>;
}

/** POSTs a werift offer to `/api/rtc/offer?<query>` and connects with the answer. */
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
  const location = response.headers.get('location') ?? '';
  const chatRoomId = Number(response.headers.get('parley-chat-room-id'));
  let open = true;
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
      talking = (async () => {
        await browser.speak(speech);
        // A browser's microphone never stops sending; the server takes silence for hanging up.
        while (open) await browser.speak(new Int16Array(RATE / 5));
      })();
    },
    async hangUp() {
      open = false;
      await talking;
      await browser.close();
    },
  };
}

/** Keeps LOOPBACK_ICE in one place for the server side of werift-to-werift calls. */
export const SERVER_LOOPBACK = LOOPBACK_ICE;
