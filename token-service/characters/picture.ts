import { createHash } from 'node:crypto';
import sharp from 'sharp';
import { AppError } from '../../core/errors.js';

/** What an upload may be; anything else is a 415 before the body is read. */
export const PICTURE_TYPES = ['image/png', 'image/jpeg', 'image/webp'] as const;
/** Larger uploads are refused with 413: a phone photo fits, a RAW file does not. */
export const MAX_PICTURE_BYTES = 5 * 1024 * 1024;
/** Stored pictures are squares this many pixels wide: enough for a gallery card at 2x. */
export const PICTURE_SIZE = 256;
export const STORED_TYPE = 'image/webp';

export interface ResizedPicture {
  bytes: Buffer;
  contentType: string;
  etag: string;
}

/** A strong ETag: the same bytes always get the same tag, other bytes (practically) never. */
export function etagOf(bytes: Buffer | string): string {
  return `"${createHash('sha256').update(bytes).digest('base64url').slice(0, 22)}"`;
}

/**
 * Decodes the upload, crops it to a centred square and stores it as WebP. Decoding is
 * where a file that claims to be an image but is not gets caught (422).
 */
export async function resizePicture(upload: Buffer): Promise<ResizedPicture> {
  try {
    const bytes = await sharp(upload, { limitInputPixels: 40_000_000 })
      .rotate() // honour the camera's EXIF orientation before cropping
      .resize(PICTURE_SIZE, PICTURE_SIZE, { fit: 'cover' })
      .webp({ quality: 82 })
      .toBuffer();
    return { bytes, contentType: STORED_TYPE, etag: etagOf(bytes) };
  } catch (error) {
    throw new AppError('PICTURE.UNREADABLE', 'The picture could not be read as PNG, JPEG or WebP', {
      cause: error,
    });
  }
}

const PALETTE = ['#5b6ee1', '#d9574a', '#3a9d6b', '#c2882b', '#8a55c9', '#2f8fa8'];

/** A picture for a character without one: its initial on a colour chosen from its id. */
export function initialSvg(character: { id: string; name: string }): string {
  const initial = [...character.name.trim()][0]?.toUpperCase() ?? '?';
  const hue =
    PALETTE[createHash('sha256').update(character.id).digest().readUInt8(0) % PALETTE.length];
  const letter = initial.replace(/[&<>"']/g, (c) => `&#${c.codePointAt(0)};`);
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${PICTURE_SIZE}" height="${PICTURE_SIZE}" ` +
    `viewBox="0 0 100 100"><rect width="100" height="100" fill="${hue}"/>` +
    '<text x="50" y="50" dy=".35em" text-anchor="middle" font-family="sans-serif" ' +
    `font-size="52" fill="#fff">${letter}</text></svg>`
  );
}
