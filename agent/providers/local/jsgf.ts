/**
 * Lower-case words separated by single spaces: the form pocketsphinx's dictionary uses and
 * the form it reports back, so a recognised phrase compares equal to its normalised source.
 */
export function normalizePhrase(phrase: string): string {
  return phrase
    .toLowerCase()
    .replace(/[^a-z0-9']+/g, ' ')
    .trim();
}

/**
 * A JSGF grammar whose only sentences are `phrases` (normalised, duplicates and blanks
 * dropped). Pocketsphinx then picks the closest phrase instead of free text, which makes
 * recognition of known test phrases exact. Throws when no phrase has a word.
 */
export function phraseGrammar(phrases: readonly string[]): string {
  const alternatives = [...new Set(phrases.map(normalizePhrase))].filter((p) => p !== '');
  if (alternatives.length === 0) throw new Error('a phrase grammar needs at least one phrase');
  return [
    '#JSGF V1.0;',
    'grammar parley;',
    `public <phrase> = ${alternatives.join(' | ')};`,
    '',
  ].join('\n');
}
