import { describe, expect, it } from 'vitest';
import { normalizePhrase, phraseGrammar } from './jsgf.js';

describe('phraseGrammar', () => {
  it('offers each distinct normalised phrase as one alternative', () => {
    const grammar = phraseGrammar(['Hello, World!', 'hello world', "What's up?", '  ']);
    expect(grammar).toBe(
      "#JSGF V1.0;\ngrammar parley;\npublic <phrase> = hello world | what's up;\n",
    );
  });

  it('normalises case, punctuation and spacing', () => {
    expect(normalizePhrase('  Tell me -- about   the MOON. ')).toBe('tell me about the moon');
  });
});
