/**
 * Numbers of an answer that the turn's outputs do not show, marked in its
 * rendered markdown. The server finds them (jupyter_nbchat/llm/numbers.py);
 * this reads the rendered text with the same tokenizer, so the n-th checked
 * number with a given text here is the n-th one there (`occurrence`).
 */

import type { IUnverifiedNumber } from '../api/types';
import { textNodes } from './textnodes';

const SEP = ',_\\u2009\\u202f\\u00a0';

/** The server's number tokenizer (llm/numbers.py `_NUMBER`), in JavaScript. */
const NUMBER = new RegExp(
  '(?<![\\p{L}\\p{M}_])' +
    `(?:\\d{1,3}(?:[${SEP}]\\d{3})+(?!\\d)|\\d+)` +
    '(?:\\.\\d+)?' +
    '(?:(?:\\.\\d+)+)?' +
    '(?:[eE][-+]?\\d+)?' +
    '(?:(?:k|K|M|mn|bn)(?![\\p{L}\\p{M}])|[ \\u00a0](?:thousand|million|billion)\\b)?' +
    '(?:[ \\u00a0\\u202f]?%|[ \\u00a0](?:percent|per cent)\\b)?',
  'gu'
);

/** Cell references, whose numbers are not checked (llm/numbers.py `_REFERENCE`). */
const REFERENCE =
  /\b(?:[Cc]ells?\s?\[\d+\](?:\s*(?:,|and|&|or|to|-|–)\s*\[\d+\])*|In\s?\[\d+\]|[Cc]ells?\s+\d+\b)/g;

/** Elements whose text is not the answer's prose: cell reference buttons, marks. */
const SKIP = 'button, mark.jp-NbChat-unverified';

/**
 * Wrap each unverified number of `root`'s text in
 * `<mark class="jp-NbChat-unverified" title="…">`.
 *
 * @param title The tooltip of one number.
 * @returns How many numbers were marked.
 */
export function markUnverified(
  root: HTMLElement,
  unverified: readonly IUnverifiedNumber[],
  title: (number: IUnverifiedNumber) => string
): number {
  if (unverified.length === 0) {
    return 0;
  }
  const wanted = new Map<string, IUnverifiedNumber>();
  for (const number of unverified) {
    wanted.set(`${number.text}\u0000${number.occurrence ?? 0}`, number);
  }
  const doc = root.ownerDocument;
  const texts = textNodes(root, SKIP);
  const seen = new Map<string, number>();
  let marked = 0;
  for (const text of texts) {
    const value = text.data;
    const references = Array.from(value.matchAll(REFERENCE), m => [
      m.index!,
      m.index! + m[0].length
    ]);
    const parts: (string | HTMLElement)[] = [];
    let last = 0;
    for (const match of value.matchAll(NUMBER)) {
      const at = match.index!;
      if (references.some(([s, e]) => s <= at && at < e)) {
        continue;
      }
      const occurrence = seen.get(match[0]) ?? 0;
      seen.set(match[0], occurrence + 1);
      const number = wanted.get(`${match[0]}\u0000${occurrence}`);
      if (!number) {
        continue;
      }
      const mark = doc.createElement('mark');
      mark.className = 'jp-NbChat-unverified';
      mark.title = title(number);
      mark.textContent = match[0];
      parts.push(value.slice(last, at), mark);
      last = at + match[0].length;
      marked += 1;
    }
    if (parts.length > 0) {
      parts.push(value.slice(last));
      text.replaceWith(...parts.filter(p => p !== ''));
    }
  }
  return marked;
}
