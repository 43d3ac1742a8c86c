/**
 * Text out of an uploaded PDF, with Mozilla's pdf.js (`pdfjs-dist` 4.x, the last line that
 * supports Node 20). Only text is read: no fonts are fetched, no scripts run, nothing rendered.
 */
import { getDocument } from 'pdfjs-dist/legacy/build/pdf.mjs';
import { AppError } from '../../core/errors.js';

/** Pages read at most; a longer PDF is refused rather than read for minutes. */
const MAX_PAGES = 500;

/**
 * The PDF's text, one paragraph per page. Throws `DOCUMENT.UNREADABLE` for a file pdf.js
 * cannot parse (or an encrypted one) and for a PDF that holds no text (e.g. scanned images).
 */
export async function pdfText(bytes: Uint8Array): Promise<string> {
  const task = getDocument({
    data: new Uint8Array(bytes),
    isEvalSupported: false,
    disableFontFace: true,
    useSystemFonts: false,
    stopAtErrors: true,
    verbosity: 0,
  });
  try {
    const pdf = await task.promise.catch((cause: unknown) => {
      throw new AppError('DOCUMENT.UNREADABLE', 'This file is not a readable PDF', { cause });
    });
    if (pdf.numPages > MAX_PAGES) {
      throw new AppError('REQUEST.TOO_LARGE', `A PDF may have at most ${MAX_PAGES} pages`, {
        details: { limit_pages: MAX_PAGES, pages: pdf.numPages },
      });
    }
    const pages: string[] = [];
    for (let number = 1; number <= pdf.numPages; number++) {
      const page = await pdf.getPage(number);
      const content = await page.getTextContent();
      const line = content.items.map((item) => ('str' in item ? item.str : '')).join(' ');
      pages.push(line.replace(/[ \t]+/g, ' ').trim());
    }
    const text = pages.filter((p) => p !== '').join('\n\n');
    if (text === '') {
      throw new AppError('DOCUMENT.UNREADABLE', 'This PDF holds no text (scanned pages?)');
    }
    return text;
  } finally {
    await task.destroy();
  }
}
