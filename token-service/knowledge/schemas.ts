import { z } from 'zod';
import type { KnowledgeDocument } from '../../db/schema.js';

/** `POST /api/characters/:characterId/documents`. The body limit bounds `content`. */
export const uploadDocumentBody = z
  .object({
    title: z.string().trim().min(1).max(200),
    content_type: z.enum(['text/plain', 'text/markdown']),
    content: z.string().refine((text) => text.trim() !== '', 'must not be empty'),
  })
  .strict();

export const documentView = z
  .object({
    id: z.uuid(),
    character_id: z.uuid(),
    title: z.string(),
    content_type: z.string(),
    status: z.enum(['pending', 'ready', 'failed']),
    chunk_count: z.number().int(),
    /** Why ingestion failed, when it did. */
    error: z.string().nullable(),
    created_at: z.iso.datetime(),
    updated_at: z.iso.datetime(),
  })
  .meta({ id: 'KnowledgeDocument' });

export const documentDetailView = documentView
  .extend({ content: z.string() })
  .meta({ id: 'KnowledgeDocumentWithContent' });

export function toDocumentView(document: KnowledgeDocument): z.infer<typeof documentView> {
  return {
    id: document.id,
    character_id: document.characterId,
    title: document.title,
    content_type: document.contentType,
    status: document.status,
    chunk_count: document.chunkCount,
    error: document.error,
    created_at: document.createdAt.toISOString(),
    updated_at: document.updatedAt.toISOString(),
  };
}

export function toDocumentDetailView(
  document: KnowledgeDocument,
): z.infer<typeof documentDetailView> {
  return { ...toDocumentView(document), content: document.content };
}
