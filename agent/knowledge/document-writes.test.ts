import pLimit from 'p-limit';
import { describe, expect, it } from 'vitest';
import { DocumentWrites } from './document-writes.js';

/** A statement the test finishes by hand. */
function pending() {
  let finish: (error?: Error) => void = () => {};
  const done = new Promise<void>((resolve, reject) => {
    finish = (error) => (error === undefined ? resolve() : reject(error));
  });
  return { run: () => done, finish };
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

describe('DocumentWrites under a shared p-limit bound', () => {
  it('runs no more statements at once than the slots, across documents, first come first served', async () => {
    const slots = pLimit(2);
    const a = new DocumentWrites(slots);
    const b = new DocumentWrites(slots);
    const [s1, s2, s3] = [pending(), pending(), pending()];
    await a.start(s1.run);
    await b.start(s2.run);
    let thirdStarted = false;
    const third = a.start(s3.run).then(() => {
      thirdStarted = true;
    });
    await turn();
    expect(thirdStarted).toBe(false);
    s2.finish();
    await third;
    expect(thirdStarted).toBe(true);
    s1.finish();
    s3.finish();
    await Promise.all([a.finish(), b.finish()]);
  });

  it('keeps the first failure, starts nothing after it, and settles only when every statement started has ended', async () => {
    const slots = pLimit(2);
    const writes = new DocumentWrites(slots);
    const [slow, failing] = [pending(), pending()];
    await writes.start(slow.run);
    await writes.start(failing.run);
    failing.finish(new Error('refused'));
    await turn();
    await expect(writes.start(async () => {})).rejects.toThrow('refused');
    let settled = false;
    const settling = writes.settle().then(() => {
      settled = true;
    });
    await turn();
    expect(settled).toBe(false);
    slow.finish();
    await settling;
    await expect(writes.finish()).rejects.toThrow('refused');
    // Both slots are free again for other documents.
    const other = new DocumentWrites(slots);
    await other.start(async () => {});
    await other.start(async () => {});
    await other.finish();
  });

  it('never runs a statement that was still waiting for the bound when its document failed', async () => {
    const writes = new DocumentWrites(pLimit(1));
    const failing = pending();
    await writes.start(failing.run);
    let ran = false;
    const queued = writes.start(async () => {
      ran = true;
    });
    failing.finish(new Error('refused'));
    await expect(queued).rejects.toThrow('refused');
    await writes.settle();
    expect(ran).toBe(false);
  });
});
