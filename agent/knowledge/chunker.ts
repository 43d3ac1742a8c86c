import { MarkdownTextSplitter, RecursiveCharacterTextSplitter } from '@langchain/textsplitters';

export type DocumentContentType = 'text/plain' | 'text/markdown';

/** About a paragraph or two: long enough to carry a fact with its context. */
const CHUNK_SIZE = 1_000;
const CHUNK_OVERLAP = 150;

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
  const chunks = await splitter.splitText(content);
  return chunks.map((chunk) => chunk.trim()).filter((chunk) => chunk !== '');
}
