/**
 * "Cell [3]" in an answer's rendered markdown becomes a button that shows
 * that cell in the notebook (the system prompt asks Claude to cite cells so).
 */

import { textNodes } from './textnodes';

/** `Cell [3]`, `cell [12]`, `In [4]`: the execution count is group 2. */
const REFERENCE = /\b(Cells?|cells?|In)\s?\[(\d+)\]/g;

/** Elements whose text is left alone (code is quoted, links already link). */
const SKIP = 'code, pre, a, button, kbd, samp';

/**
 * Turn each cell reference in `root`'s text into a button.
 *
 * @param exists Whether a cell with this execution count can be shown.
 * @param onClick Called with the execution count when a button is pressed.
 * @param title The button's tooltip for an execution count.
 * @returns How many references became buttons.
 */
export function linkCellReferences(
  root: HTMLElement,
  exists: (count: number) => boolean,
  onClick: (count: number) => void,
  title: (count: number) => string
): number {
  const doc = root.ownerDocument;
  const texts = textNodes(root, SKIP);
  let linked = 0;
  for (const text of texts) {
    const value = text.data;
    const parts: (string | HTMLButtonElement)[] = [];
    let last = 0;
    for (const match of value.matchAll(REFERENCE)) {
      const count = Number(match[2]);
      if (!exists(count)) {
        continue;
      }
      parts.push(value.slice(last, match.index));
      const button = doc.createElement('button');
      button.type = 'button';
      button.className = 'jp-NbChat-cellRef';
      button.dataset.executionCount = String(count);
      button.title = title(count);
      button.textContent = match[0];
      button.addEventListener('click', () => onClick(count));
      parts.push(button);
      last = match.index! + match[0].length;
    }
    if (parts.length === 0) {
      continue;
    }
    parts.push(value.slice(last));
    text.replaceWith(...parts.filter(p => p !== ''));
    linked += parts.filter(p => typeof p !== 'string').length;
  }
  return linked;
}
