/** The containers OpenAI's transcription endpoint accepts. */
export type AudioContainer = 'wav' | 'mp3' | 'ogg' | 'flac' | 'webm' | 'mp4';

/** What an uploaded file turned out to be. Duration is known for WAV only. */
export interface SniffedAudio {
  container: AudioContainer;
  durationSec: number | undefined;
}

/**
 * Recognises audio by its magic bytes, and for WAV walks the RIFF chunks for the format and
 * the data size. Returns `undefined` for anything that is not audio (or a broken WAV).
 */
export function sniffAudio(bytes: Buffer): SniffedAudio | undefined {
  if (bytes.length < 12) return undefined;
  const ascii = (start: number, end: number) => bytes.toString('latin1', start, end);
  if (ascii(0, 4) === 'RIFF' && ascii(8, 12) === 'WAVE') {
    const durationSec = wavDurationSec(bytes);
    return durationSec === undefined ? undefined : { container: 'wav', durationSec };
  }
  const container = otherContainer(bytes, ascii);
  return container === undefined ? undefined : { container, durationSec: undefined };
}

function otherContainer(
  bytes: Buffer,
  ascii: (start: number, end: number) => string,
): AudioContainer | undefined {
  if (ascii(0, 3) === 'ID3' || (bytes[0] === 0xff && ((bytes[1] ?? 0) & 0xe0) === 0xe0)) {
    return 'mp3';
  }
  if (ascii(0, 4) === 'OggS') return 'ogg';
  if (ascii(0, 4) === 'fLaC') return 'flac';
  if (bytes.readUInt32BE(0) === 0x1a45dfa3) return 'webm';
  if (ascii(4, 8) === 'ftyp') return 'mp4';
  return undefined;
}

/** Seconds of audio in a RIFF/WAVE file, or `undefined` when it has no usable fmt/data. */
function wavDurationSec(bytes: Buffer): number | undefined {
  let byteRate: number | undefined;
  let offset = 12;
  while (offset + 8 <= bytes.length) {
    const id = bytes.toString('latin1', offset, offset + 4);
    const size = bytes.readUInt32LE(offset + 4);
    const body = offset + 8;
    if (id === 'fmt ' && size >= 16 && body + 16 <= bytes.length) {
      byteRate = bytes.readUInt32LE(body + 8);
    }
    if (id === 'data') {
      if (byteRate === undefined || byteRate === 0) return undefined;
      return Math.min(size, bytes.length - body) / byteRate;
    }
    offset = body + size + (size % 2);
  }
  return undefined;
}
