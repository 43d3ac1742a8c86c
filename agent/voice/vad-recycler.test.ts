import type { VAD } from '@livekit/agents';
import { describe, expect, it } from 'vitest';
import { loadVoiceVad } from './vad.js';
import { VadRecycler } from './vad-recycler.js';

describe('VadRecycler', () => {
  it('hands one Silero model to a few calls, then a freshly loaded one', async () => {
    const loaded: VAD[] = [];
    const recycler = await VadRecycler.create({
      callsPerModel: 3,
      load: async () => {
        const vad = await loadVoiceVad();
        loaded.push(vad);
        return vad;
      },
    });
    const first = [recycler.forCall(), recycler.forCall(), recycler.forCall()];
    await recycler.settled();
    const next = recycler.forCall();
    expect(new Set(first)).toEqual(new Set([loaded[0]]));
    expect(loaded).toHaveLength(2);
    expect(next).toBe(loaded[1]);
    expect(next).not.toBe(loaded[0]);
  });

  it('keeps the current model when loading the next one fails', async () => {
    let loads = 0;
    const model = await loadVoiceVad();
    const recycler = await VadRecycler.create({
      callsPerModel: 1,
      load: async () => {
        loads += 1;
        if (loads > 1) throw new Error('no memory');
        return model;
      },
    });
    expect(recycler.forCall()).toBe(model);
    await recycler.settled();
    expect(recycler.forCall()).toBe(model);
    await recycler.settled();
    expect(loads).toBe(3);
  });
});
