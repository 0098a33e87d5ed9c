import { linkCellReferences } from '../components/cellrefs';
import { cellForReference } from '../components/messages';
import { outputImage } from '../chat/conversation';
import type { ChatItem } from '../chat/conversation';

function render(html: string): HTMLElement {
  const root = document.createElement('div');
  root.innerHTML = html;
  return root;
}

describe('linkCellReferences', () => {
  it('turns known cell references into buttons, leaving code and unknown ones alone', () => {
    const root = render(
      '<p>Cell [3] shows 12 rows; see cell [4] and In [9].</p><pre>Cell [3]</pre><code>cell [4]</code>'
    );
    const clicked: number[] = [];
    const linked = linkCellReferences(
      root,
      count => count !== 9,
      count => clicked.push(count),
      count => `Show cell [${count}]`
    );
    expect(linked).toBe(2);
    const buttons = Array.from(root.querySelectorAll('button'));
    expect(buttons.map(b => b.textContent)).toEqual(['Cell [3]', 'cell [4]']);
    expect(buttons[0].title).toBe('Show cell [3]');
    expect(root.querySelector('p')!.textContent).toBe(
      'Cell [3] shows 12 rows; see cell [4] and In [9].'
    );
    expect(root.querySelector('pre')!.querySelector('button')).toBeNull();
    buttons[1].click();
    expect(clicked).toEqual([4]);
  });
});

describe('cellForReference', () => {
  const cell = (
    key: string,
    turnId: string,
    count: number,
    replaced = false
  ): ChatItem => ({
    kind: 'cell',
    key,
    turnId,
    cellId: key,
    executionCount: count,
    preview: '',
    failed: replaced,
    replaces: null,
    replaced
  });

  it("prefers the answer's own turn, skips replaced cells, else the latest", () => {
    const items = [
      cell('a', 't1', 1),
      cell('b', 't2', 1),
      cell('c', 't2', 2, true)
    ];
    expect(cellForReference(items, 't1', 1)).toBe('a');
    expect(cellForReference(items, 't3', 1)).toBe('b');
    expect(cellForReference(items, 't2', 2)).toBeNull();
  });
});

describe('outputImage', () => {
  it('finds the first PNG or JPEG output, joining nbformat line lists', () => {
    const cell = {
      outputs: [
        { output_type: 'stream', name: 'stdout', text: 'hi' },
        {
          output_type: 'display_data',
          data: { 'image/svg+xml': '<svg/>', 'text/plain': 'fig' }
        },
        {
          output_type: 'display_data',
          data: { 'image/png': ['iVBORw0\n', 'KGgo=\n'], 'text/plain': 'fig' }
        }
      ]
    };
    expect(outputImage(cell)).toEqual({
      mime: 'image/png',
      data: 'iVBORw0KGgo='
    });
    expect(outputImage({ outputs: [cell.outputs[1]] })).toBeNull();
    expect(outputImage({})).toBeNull();
  });
});
