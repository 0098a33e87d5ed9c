import { nullTranslator } from '@jupyterlab/translation';

import type { IUnverifiedNumber, TurnEvent } from '../api/types';
import { applyEvent, startTurn, EMPTY_STATE } from '../chat/conversation';
import { stateFromCells } from '../chat/history';
import { statusText } from '../chat/status';
import { linkCellReferences } from '../components/cellrefs';
import { markUnverified } from '../components/numbers';
import { readRecord } from '../notebook/record';
import { cell, TURN } from './fixtures';

const trans = nullTranslator.load('jupyter_nbchat');

function render(html: string): HTMLElement {
  const root = document.createElement('div');
  root.innerHTML = html;
  return root;
}

function number(
  text: string,
  occurrence = 0,
  cellCount: number | null = null
): IUnverifiedNumber {
  return {
    text,
    start: 0,
    end: text.length,
    reason: cellCount === null ? 'not_found' : 'not_in_cell',
    cell: cellCount,
    occurrence
  };
}

const title = (n: IUnverifiedNumber) =>
  n.cell ? `Not found in Cell [${n.cell}]` : 'Not found';

describe('markUnverified', () => {
  it('marks the unverified numbers of the rendered answer, with a tooltip', () => {
    const root = render(
      '<p>Cell [3] shows <strong>1,306</strong> rows and 17 duplicates (50 % of v2).</p>'
    );
    linkCellReferences(
      root,
      () => true,
      () => undefined,
      () => ''
    );
    const marked = markUnverified(
      root,
      [number('17'), number('50 %', 0, 3)],
      title
    );
    expect(marked).toBe(2);
    const marks = Array.from(
      root.querySelectorAll('mark.jp-NbChat-unverified')
    );
    expect(marks.map(m => [m.textContent, m.getAttribute('title')])).toEqual([
      ['17', 'Not found'],
      ['50 %', 'Not found in Cell [3]']
    ]);
    // The text reads as before; the verified number and the cell reference are unmarked.
    expect(root.textContent).toBe(
      'Cell [3] shows 1,306 rows and 17 duplicates (50 % of v2).'
    );
    expect(root.querySelector('strong mark')).toBeNull();
  });

  it('marks the occurrence the server names, not every equal text', () => {
    const root = render(
      '<p>Cell [1] shows 42; Cell [2] shows 42, and 142 and 4.2 are other numbers.</p>'
    );
    expect(markUnverified(root, [number('42', 1, 2)], title)).toBe(1);
    const mark = root.querySelector('mark')!;
    expect(mark.previousSibling!.textContent).toBe(
      'Cell [1] shows 42; Cell [2] shows '
    );
  });

  it('leaves an answer without unverified numbers alone', () => {
    const root = render('<p>Cell [1] shows 42.</p>');
    expect(markUnverified(root, [], title)).toBe(0);
    expect(root.innerHTML).toBe('<p>Cell [1] shows 42.</p>');
  });
});

describe('the answer keeps its unverified numbers', () => {
  const started = startTurn(EMPTY_STATE, TURN, 'How many rows?');

  it('in the reducer, with their count', () => {
    const unverified = [number('17')];
    const event = {
      seq: 1,
      turn_id: TURN,
      type: 'answer',
      text: '17 rows.',
      unverified,
      checked: 1
    } as TurnEvent;
    const state = applyEvent(started, event);
    expect(state.items[state.items.length - 1]).toMatchObject({
      kind: 'answer',
      text: '17 rows.',
      unverified,
      unverifiedCount: 1
    });
  });

  it('after a reload, as a count from the turn record', () => {
    const answer = {
      ...cell('a', 'answer'),
      source: '**Answer**\n\n17 rows.\n\n*1 number …: 17.*',
      metadata: { nbchat: { turn_id: TURN, role: 'answer', text: '17 rows.' } }
    };
    const record = readRecord({
      turns: [
        {
          turn_id: TURN,
          question: 'q',
          answer: '17 rows.',
          numbers: { checked: 1, unverified: 1 }
        }
      ]
    });
    expect(record.turns[0].numbers).toEqual({ checked: 1, unverified: 1 });
    const items = stateFromCells([answer as any], record.turns).items;
    expect(items[items.length - 1]).toMatchObject({
      kind: 'answer',
      text: '17 rows.',
      unverifiedCount: 1
    });
  });

  it('says so in the status line while the numbers are checked', () => {
    expect(statusText({ phase: 'verifying', attempt: null }, trans)).toBe(
      'Checking the answer’s numbers…'
    );
  });
});
