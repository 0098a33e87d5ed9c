/**
 * Naming a new analysis notebook after its first question. Pure functions.
 */

/** Longest slug, in characters (cut at a word boundary). */
export const MAX_SLUG_LENGTH = 48;

/** Most words a slug keeps. */
const MAX_SLUG_WORDS = 8;

/** The slug used when a question has no letters or digits at all. */
export const FALLBACK_SLUG = 'analysis';

/** Whether `name` is a notebook name JupyterLab gave by default. */
export function isUntitledNotebook(name: string): boolean {
  return /^Untitled\d*\.ipynb$/.test(name);
}

/**
 * A short file-name slug from a question:
 * "How many shoes per gender?" -> "how-many-shoes-per-gender".
 *
 * Lower case, accents dropped, anything but letters and digits becomes one
 * dash, at most MAX_SLUG_WORDS words and MAX_SLUG_LENGTH characters.
 */
export function slugFromQuestion(question: string): string {
  const words = question
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    // Apostrophes join: "what's" -> "whats".
    .replace(/['’]/g, '')
    .split(/[^\p{L}\p{N}]+/u)
    .filter(word => word !== '');
  let slug = '';
  for (const word of words.slice(0, MAX_SLUG_WORDS)) {
    const next = slug === '' ? word : `${slug}-${word}`;
    if (next.length > MAX_SLUG_LENGTH) {
      if (slug === '') {
        slug = word.slice(0, MAX_SLUG_LENGTH);
      }
      break;
    }
    slug = next;
  }
  return slug === '' ? FALLBACK_SLUG : slug;
}

/**
 * `<slug>.ipynb`, or `<slug>-2.ipynb`, `<slug>-3.ipynb` … whichever is not
 * among `taken` (file names in the target folder, compared ignoring case so
 * case-insensitive file systems do not clash either).
 */
export function uniqueNotebookName(
  slug: string,
  taken: Iterable<string>
): string {
  const names = new Set(Array.from(taken, name => name.toLowerCase()));
  let candidate = `${slug}.ipynb`;
  for (let n = 2; names.has(candidate.toLowerCase()); n++) {
    candidate = `${slug}-${n}.ipynb`;
  }
  return candidate;
}
