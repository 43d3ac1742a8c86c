import { z } from 'zod';
import type { ClonedVoice } from '../../db/schema.js';

const language = z
  .string()
  .trim()
  .regex(/^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})*$/, 'a language tag such as en or es-MX');

export const voicesQuery = z.object({
  language: language.optional().describe('Only voices that speak this language (e.g. es)'),
  q: z.string().trim().max(100).optional().describe('Search in name, description and id'),
});

export const voiceView = z
  .object({
    id: z.string().describe('What a character stores in voice_id'),
    name: z.string(),
    description: z.string(),
    language: z.string(),
    gender: z.string().nullable(),
    source: z.enum(['library', 'cloned', 'builtin']),
    preview_url: z.string().describe('WAV audio of this voice; send your bearer token'),
  })
  .meta({ id: 'Voice' });

export const voiceListView = z
  .object({
    provider: z.enum(['cartesia', 'flite']),
    notice: z
      .string()
      .nullable()
      .describe('Said to the user when voices are degraded (no Cartesia key)'),
    voices: z.array(voiceView),
  })
  .meta({ id: 'VoiceList' });

export const voiceParams = z.object({ id: z.string().min(1).max(200) });

export const previewQuery = z.object({
  language: language.optional().describe('Language the preview speaks; default the voice’s'),
});

export const cloneQuery = z.object({
  name: z.string().trim().min(1).max(100),
  language: language.default('en'),
});

export const clonedVoiceView = z
  .object({
    id: z.string().describe('The Cartesia voice id; use it as a character’s voice_id'),
    name: z.string(),
    language: z.string(),
    preview_url: z.string(),
    created_at: z.iso.datetime(),
  })
  .meta({ id: 'ClonedVoice' });

export function previewUrl(voiceId: string): string {
  return `/api/voices/${encodeURIComponent(voiceId)}/preview`;
}

export function toClonedVoiceView(voice: ClonedVoice): z.infer<typeof clonedVoiceView> {
  return {
    id: voice.providerVoiceId,
    name: voice.name,
    language: voice.language,
    preview_url: previewUrl(voice.providerVoiceId),
    created_at: voice.createdAt.toISOString(),
  };
}
