import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { MarkdownTextSplitter, RecursiveCharacterTextSplitter } from '@langchain/textsplitters';

export type DocumentContentType = 'text/plain' | 'text/markdown';

/** About a paragraph or two: long enough to carry a fact with its context. */
const CHUNK_SIZE = 1_000;
const CHUNK_OVERLAP = 150;
/**
 * A document is split a section at a time, the event loop served between sections: the
 * splitter is synchronous work, and a whole large document at once stalls the server.
 */
const SECTION_CHARS = 32_000;

/**
 * Splits a document into retrievable chunks, on Markdown structure (headings, lists, code)
 * for Markdown and on paragraphs, lines, then words for plain text.
 */
export async function splitDocument(
  content: string,
  contentType: DocumentContentType,
): Promise<string[]> {
  const options = { chunkSize: CHUNK_SIZE, chunkOverlap: CHUNK_OVERLAP };
  const splitter =
    contentType === 'text/markdown'
      ? new MarkdownTextSplitter(options)
      : new RecursiveCharacterTextSplitter(options);
  const chunks: string[] = [];
  for (const section of sections(content)) {
    for (const chunk of await splitter.splitText(section)) {
      const trimmed = chunk.trim();
      if (trimmed !== '') chunks.push(trimmed);
    }
    await yieldToLoop();
  }
  return chunks;
}

/** The content in pieces of at most {@link SECTION_CHARS}, cut at a paragraph or line break. */
function* sections(content: string): Generator<string> {
  let start = 0;
  while (content.length - start > SECTION_CHARS) {
    const window = content.slice(start, start + SECTION_CHARS);
    const paragraph = window.lastIndexOf('\n\n');
    const cut = paragraph > SECTION_CHARS / 2 ? paragraph : window.lastIndexOf('\n');
    const end = cut > SECTION_CHARS / 2 ? start + cut + 1 : start + SECTION_CHARS;
    yield content.slice(start, end);
    start = end;
  }
  yield content.slice(start);
}
