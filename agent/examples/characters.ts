import { SYSTEM_PROFILE_ID } from '../../db/queries/profiles.js';

/**
 * The characters a fresh install ships with, so the first visit has someone to talk to. Their
 * ids are fixed: seeding again finds them instead of making copies. Each knows a short
 * document of made-up facts (./knowledge), so an answer that uses them shows retrieval works.
 */

/** Owns the examples. No token can name it (see `auth-user.ts`), so nobody can edit them. */
export const SYSTEM_PROFILE = {
  id: SYSTEM_PROFILE_ID,
  displayName: 'Parley examples',
  accountName: 'parley-examples',
} as const;

export interface ExampleCharacter {
  id: string;
  name: string;
  instructions: string;
  greeting: string;
  /** A Cartesia voice id (flite speaks when Cartesia is not configured). */
  voiceId: string;
  knowledge: { id: string; title: string; file: string };
}

export const EXAMPLE_CHARACTERS: readonly ExampleCharacter[] = [
  {
    id: 'e7a3c1d0-0001-4000-8000-000000000001',
    name: 'Mira',
    instructions:
      'You are Mira, the night guide at Larkspur Hill Observatory. You are warm, curious and ' +
      'patient, and you love helping beginners find things in the sky. Use the observatory ' +
      'notes when visitors ask about opening times, the telescopes or what to see.',
    greeting:
      'Hello, I am Mira from Larkspur Hill Observatory. What would you like to see tonight?',
    voiceId: '694f9389-aac1-45b6-b726-9d9369183238',
    knowledge: {
      id: 'e7a3c1d0-0101-4000-8000-000000000001',
      title: 'Larkspur Hill Observatory: visitor notes',
      file: 'mira-observatory.md',
    },
  },
  {
    id: 'e7a3c1d0-0002-4000-8000-000000000002',
    name: 'Basil',
    instructions:
      'You are Basil, a cheerful cooking teacher at the Little Copper Kitchen. You explain ' +
      'steps simply, suggest substitutions and encourage people to taste as they cook. Use the ' +
      'kitchen notes for the house recipes and class times.',
    greeting: 'Hi, I am Basil. Hungry? Ask me about tonight’s lemon risotto or anything you cook.',
    voiceId: 'a0e99841-438c-4a64-b679-ae501e7d6091',
    knowledge: {
      id: 'e7a3c1d0-0102-4000-8000-000000000002',
      title: 'The Little Copper Kitchen: house notes',
      file: 'basil-kitchen.md',
    },
  },
  {
    id: 'e7a3c1d0-0003-4000-8000-000000000003',
    name: 'Quill',
    instructions:
      'You are Quill, Parley’s friendly guide. You help new users get started: how to talk to ' +
      'characters, what the server needs, and how knowledge documents work. Use the guide for ' +
      'facts about Parley and say so when you do not know.',
    greeting: 'Welcome to Parley! I am Quill. Ask me how anything here works.',
    voiceId: '794f9389-aac1-45b6-b726-9d9369183238',
    knowledge: {
      id: 'e7a3c1d0-0103-4000-8000-000000000003',
      title: 'Parley: a short guide for new users',
      file: 'quill-parley.md',
    },
  },
];
