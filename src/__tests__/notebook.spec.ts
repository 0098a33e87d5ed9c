import { isBlankNotebook } from '../notebook';

describe('isBlankNotebook', () => {
  it('is true for a new notebook’s lone empty cell', () => {
    expect(isBlankNotebook([{ source: '', outputs: [], metadata: {} }])).toBe(
      true
    );
    expect(isBlankNotebook([{ source: ['  ', '\n'] }])).toBe(true);
  });

  it('is false as soon as there is something', () => {
    expect(isBlankNotebook([])).toBe(false);
    expect(isBlankNotebook([{ source: 'x = 1' }])).toBe(false);
    expect(isBlankNotebook([{ source: '' }, { source: '' }])).toBe(false);
    expect(
      isBlankNotebook([
        { source: '', outputs: [{ output_type: 'stream', text: 'hi' }] }
      ])
    ).toBe(false);
    expect(
      isBlankNotebook([
        { source: '', metadata: { nbchat: { role: 'answer', turn_id: 't' } } }
      ])
    ).toBe(false);
  });
});
