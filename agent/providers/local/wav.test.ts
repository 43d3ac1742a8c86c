import { describe, expect, it } from 'vitest';
import { decodeWav, encodeWav } from './wav.js';

describe('WAV encoding', () => {
  it('round-trips samples and rate through a 44-byte header', () => {
    const samples = Int16Array.from([0, 1, -1, 32_767, -32_768, 1234]);
    const file = encodeWav({ samples, sampleRate: 22_050 });
    expect(file.length).toBe(44 + samples.length * 2);
    const decoded = decodeWav(file);
    expect(decoded.sampleRate).toBe(22_050);
    expect([...decoded.samples]).toEqual([...samples]);
  });

  it('skips chunks it does not need, such as LIST, including odd-sized padding', () => {
    const plain = encodeWav({ samples: Int16Array.from([5, -5]), sampleRate: 16_000 });
    const list = Buffer.concat([
      Buffer.from('LIST'),
      Buffer.from([3, 0, 0, 0]),
      Buffer.from('abc\0'),
    ]);
    const withList = Buffer.concat([plain.subarray(0, 36), list, plain.subarray(36)]);
    expect([...decodeWav(withList).samples]).toEqual([5, -5]);
  });

  it('rejects what is not mono 16-bit PCM WAV', () => {
    expect(() => decodeWav(Buffer.from('not a wave file at all'))).toThrow(/not a RIFF/);
    const stereo = encodeWav({ samples: new Int16Array(4), sampleRate: 16_000 });
    stereo.writeUInt16LE(2, 22);
    expect(() => decodeWav(stereo)).toThrow(/2 channels/);
    const headerOnly = encodeWav({ samples: new Int16Array(0), sampleRate: 16_000 }).subarray(
      0,
      36,
    );
    expect(() => decodeWav(headerOnly)).toThrow(/no data chunk/);
  });
});
