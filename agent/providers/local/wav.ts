/** Mono 16-bit PCM audio and the rate it was sampled at. */
export interface Pcm16Audio {
  samples: Int16Array;
  sampleRate: number;
}

const HEADER_BYTES = 44;

/**
 * Encodes mono 16-bit PCM as a canonical 44-byte-header RIFF/WAVE file, the format both
 * pocketsphinx and browsers' fake microphones read.
 */
export function encodeWav(audio: Pcm16Audio): Buffer {
  const dataBytes = audio.samples.length * 2;
  const out = Buffer.alloc(HEADER_BYTES + dataBytes);
  out.write('RIFF', 0, 'ascii');
  out.writeUInt32LE(36 + dataBytes, 4);
  out.write('WAVE', 8, 'ascii');
  out.write('fmt ', 12, 'ascii');
  out.writeUInt32LE(16, 16);
  out.writeUInt16LE(1, 20); // PCM
  out.writeUInt16LE(1, 22); // mono
  out.writeUInt32LE(audio.sampleRate, 24);
  out.writeUInt32LE(audio.sampleRate * 2, 28);
  out.writeUInt16LE(2, 32);
  out.writeUInt16LE(16, 34);
  out.write('data', 36, 'ascii');
  out.writeUInt32LE(dataBytes, 40);
  for (let i = 0; i < audio.samples.length; i++) {
    out.writeInt16LE(audio.samples[i] ?? 0, HEADER_BYTES + i * 2);
  }
  return out;
}

/**
 * Decodes a RIFF/WAVE file holding mono 16-bit PCM. Walks the chunk list rather than assuming
 * a 44-byte header, because writers may add `LIST` or `fact` chunks. Throws on anything else.
 */
export function decodeWav(file: Uint8Array): Pcm16Audio {
  const buf = Buffer.from(file.buffer, file.byteOffset, file.byteLength);
  if (buf.length < 12 || buf.toString('ascii', 0, 4) !== 'RIFF') {
    throw new Error('not a RIFF/WAVE file');
  }
  if (buf.toString('ascii', 8, 12) !== 'WAVE') throw new Error('not a RIFF/WAVE file');
  let sampleRate: number | undefined;
  let offset = 12;
  while (offset + 8 <= buf.length) {
    const id = buf.toString('ascii', offset, offset + 4);
    const size = buf.readUInt32LE(offset + 4);
    const body = offset + 8;
    if (id === 'fmt ') sampleRate = readFormat(buf, body);
    if (id === 'data') {
      if (sampleRate === undefined) throw new Error('WAVE data chunk before its fmt chunk');
      const end = Math.min(body + size, buf.length);
      return { samples: readSamples(buf, body, end), sampleRate };
    }
    offset = body + size + (size % 2); // chunks are padded to even sizes
  }
  throw new Error('WAVE file has no data chunk');
}

function readFormat(buf: Buffer, at: number): number {
  const format = buf.readUInt16LE(at);
  const channels = buf.readUInt16LE(at + 2);
  const bits = buf.readUInt16LE(at + 14);
  if (format !== 1 || channels !== 1 || bits !== 16) {
    throw new Error(`unsupported WAVE format ${format}, ${channels} channels, ${bits} bits`);
  }
  return buf.readUInt32LE(at + 4);
}

function readSamples(buf: Buffer, start: number, end: number): Int16Array {
  const count = Math.floor((end - start) / 2);
  const samples = new Int16Array(count);
  for (let i = 0; i < count; i++) samples[i] = buf.readInt16LE(start + i * 2);
  return samples;
}
