import { describe, expect, it } from 'vitest';
import { encodeWav } from '../../../agent/providers/local/wav.js';
import { sniffAudio } from './audio-sniff.js';

describe('sniffAudio', () => {
  it('reads the duration of a WAV from its chunks', () => {
    const wav = encodeWav({ samples: new Int16Array(8000), sampleRate: 16_000 });
    expect(sniffAudio(wav)).toEqual({ container: 'wav', durationSec: 0.5 });
  });

  it('recognises other containers by their magic bytes', () => {
    const padded = (head: string | number[]) =>
      Buffer.concat([Buffer.from(head as string), Buffer.alloc(16)]);
    expect(sniffAudio(padded('ID3'))?.container).toBe('mp3');
    expect(sniffAudio(padded([0xff, 0xfb, 0x90]))?.container).toBe('mp3');
    expect(sniffAudio(padded('OggS'))?.container).toBe('ogg');
    expect(sniffAudio(padded('fLaC'))?.container).toBe('flac');
    expect(sniffAudio(padded([0x1a, 0x45, 0xdf, 0xa3]))?.container).toBe('webm');
    expect(sniffAudio(padded('\0\0\0\x20ftypM4A '))?.container).toBe('mp4');
  });

  it('rejects text, and a WAV whose data comes before its format', () => {
    expect(sniffAudio(Buffer.from('definitely not an audio file'))).toBeUndefined();
    const broken = Buffer.concat([
      Buffer.from('RIFF\0\0\0\0WAVEdata'),
      Buffer.from([4, 0, 0, 0]),
      Buffer.alloc(4),
    ]);
    expect(sniffAudio(broken)).toBeUndefined();
  });
});
