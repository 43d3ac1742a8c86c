/**
 * The text of an uploaded `.txt`, `.md` or `.pdf` file. The kind comes from the file name's
 * extension (what the person picked), checked against the bytes where the format allows.
 */
import { pdfText } from '../../agent/knowledge/pdf-text.js';
import { AppError } from '../../core/errors.js';

export type UploadedKind = 'txt' | 'md' | 'pdf';

export interface FileText {
  /** How the chunker should read the text: PDFs become plain text. */
  contentType: 'text/plain' | 'text/markdown';
  content: string;
}

/** The kind a file name says, or a 415 naming the kinds that are accepted. */
export function kindOf(filename: string): UploadedKind {
  const extension = /\.([a-z0-9]+)$/i.exec(filename)?.[1]?.toLowerCase();
  if (extension === 'txt' || extension === 'md' || extension === 'pdf') return extension;
  if (extension === 'markdown') return 'md';
  throw new AppError('REQUEST.UNSUPPORTED_MEDIA_TYPE', 'Upload a .txt, .md or .pdf file', {
    details: { accepted: ['.txt', '.md', '.pdf'] },
  });
}

/** Decodes or extracts the file's text; `DOCUMENT.UNREADABLE` when there is none to read. */
export async function fileText(kind: UploadedKind, bytes: Uint8Array): Promise<FileText> {
  if (kind === 'pdf') {
    if (!startsWith(bytes, '%PDF-')) {
      throw new AppError('DOCUMENT.UNREADABLE', 'This file is not a PDF (no %PDF- header)');
    }
    return { contentType: 'text/plain', content: await pdfText(bytes) };
  }
  let content: string;
  try {
    // `fatal`: a binary file renamed .txt is refused, not stored as replacement characters.
    content = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (cause) {
    throw new AppError('DOCUMENT.UNREADABLE', 'A text file must be UTF-8', { cause });
  }
  if (content.trim() === '') throw new AppError('DOCUMENT.UNREADABLE', 'This file is empty');
  return { contentType: kind === 'md' ? 'text/markdown' : 'text/plain', content };
}

function startsWith(bytes: Uint8Array, ascii: string): boolean {
  return ascii.split('').every((char, i) => bytes[i] === char.charCodeAt(0));
}
