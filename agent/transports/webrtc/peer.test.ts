import { afterEach, describe, expect, it } from 'vitest';
import { AppError } from '../../../core/errors.js';
import { connectTestCall, LOOPBACK_ICE, TestBrowser } from '../../../tests/helpers/test-browser.js';
import { answerOffer, type PeerSession } from './peer.js';

/** The lines of one m-section of an SDP, found by its kind. */
function mediaSection(sdp: string, kind: string): string {
  const sections = sdp.split(/^(?=m=)/m);
  return sections.find((s) => s.startsWith(`m=${kind} `)) ?? '';
}

describe('answerOffer', () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const close of cleanup.splice(0)) await close();
  });
  const track = (browser: TestBrowser, session: PeerSession) => {
    cleanup.push(
      () => browser.close(),
      () => session.close(),
    );
  };

  it('answers a browser offer completely and connects without trickle ICE', async () => {
    const { browser, session, answerSdp } = await connectTestCall();
    track(browser, session);
    const audio = mediaSection(answerSdp, 'audio');
    expect(audio).toMatch(/^a=sendrecv/m);
    expect(audio).toMatch(/^a=rtpmap:\d+ OPUS\/48000\/2/im);
    expect(audio).toMatch(/^a=candidate:.* 127\.0\.0\.1 \d+ typ host/m);
    expect(audio).toMatch(/^a=end-of-candidates/m);
    expect(mediaSection(answerSdp, 'application')).toMatch(/^a=sctp-port:/m);
    expect(session.isConnected).toBe(true);
  });

  it('receives the camera when offered, or declines it', async () => {
    const accepted = await connectTestCall({ video: true });
    track(accepted.browser, accepted.session);
    expect(mediaSection(accepted.answerSdp, 'video')).toMatch(/^a=recvonly/m);
    expect(accepted.session.video).toBeDefined();

    const declined = await connectTestCall({ video: true, peer: { acceptVideo: false } });
    track(declined.browser, declined.session);
    expect(mediaSection(declined.answerSdp, 'video')).toMatch(/^a=inactive/m);
    expect(declined.session.video).toBeUndefined();
  });

  it('carries JSON both ways on the data channel, queueing until it opens', async () => {
    const browser = new TestBrowser();
    const { answerSdp, session } = await answerOffer(await browser.offer(), LOOPBACK_ICE);
    track(browser, session);
    // Sent before the browser even has the answer: queued, then delivered on open.
    expect(session.data.send({ type: 'agent_state', state: 'listening' })).toBe(true);
    const fromBrowser = new Promise<unknown>((resolve) => session.data.onMessage(resolve));
    await browser.accept(answerSdp);
    await session.waitConnected();
    while (browser.messages.length === 0) await browser.channel.onMessage.asPromise();
    expect(browser.messages).toEqual([{ type: 'agent_state', state: 'listening' }]);

    session.data.send({ type: 'caption', text: 'Bonjour' });
    while (browser.messages.length < 2) await browser.channel.onMessage.asPromise();
    expect(browser.messages[1]).toEqual({ type: 'caption', text: 'Bonjour' });

    browser.channel.send(JSON.stringify({ type: 'chat', text: 'hi' }));
    expect(await fromBrowser).toEqual({ type: 'chat', text: 'hi' });
  });

  it("takes a message too big for werift's default limit, such as a camera snapshot", async () => {
    const { browser, session, answerSdp } = await connectTestCall();
    track(browser, session);
    expect(answerSdp).toMatch(/^a=max-message-size:262144/m);
    const received = new Promise<unknown>((resolve) => session.data.onMessage(resolve));
    const snapshot = { type: 'camera', image: `data:image/jpeg;base64,${'A'.repeat(200_000)}` };
    browser.channel.send(JSON.stringify(snapshot));
    expect(await received).toEqual(snapshot);
  });

  it('notices the browser going away without a goodbye', async () => {
    const { browser, session } = await connectTestCall({ peer: { idleTimeoutMs: 1000 } });
    track(browser, session);
    const closedEvents: string[] = [];
    session.onClosed((reason) => closedEvents.push(reason));
    // werift sends no DTLS alert on close, like a browser tab that was killed.
    await browser.close();
    expect(await session.closed).toBe('idle');
    expect(closedEvents).toEqual(['idle']);
    expect(session.isConnected).toBe(false);
  });

  it('reports a local hang-up as such', async () => {
    const { browser, session } = await connectTestCall();
    track(browser, session);
    await session.close();
    expect(await session.closed).toBe('local');
  });

  it('refuses an offer without audio', async () => {
    const browser = new TestBrowser();
    cleanup.push(() => browser.close());
    const offer = await browser.offer();
    const withoutAudio = offer
      .split(/^(?=m=)/m)
      .filter((section) => !section.startsWith('m=audio '))
      .join('');
    const error = await answerOffer(withoutAudio, LOOPBACK_ICE).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe('REQUEST.INVALID');
  });
});
