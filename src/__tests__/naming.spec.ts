import {
  FALLBACK_SLUG,
  isUntitledNotebook,
  MAX_SLUG_LENGTH,
  slugFromQuestion,
  uniqueNotebookName
} from '../notebook/naming';

describe('slugFromQuestion', () => {
  it('makes a short lower-case slug', () => {
    expect(slugFromQuestion('How many shoes per gender?')).toBe(
      'how-many-shoes-per-gender'
    );
  });

  it('drops accents and joins apostrophes', () => {
    expect(slugFromQuestion("Quelle est l'évolution des ventes ?")).toBe(
      'quelle-est-levolution-des-ventes'
    );
    expect(slugFromQuestion("What's the mean price?")).toBe(
      'whats-the-mean-price'
    );
  });

  it('keeps at most eight words', () => {
    expect(
      slugFromQuestion('one two three four five six seven eight nine ten')
    ).toBe('one-two-three-four-five-six-seven-eight');
  });

  it('cuts long questions at a word boundary', () => {
    const slug = slugFromQuestion(
      'Compare quarterly revenues across international subsidiaries and currencies'
    );
    expect(slug.length).toBeLessThanOrEqual(MAX_SLUG_LENGTH);
    expect(slug).toBe('compare-quarterly-revenues-across-international');
  });

  it('cuts a single enormous word', () => {
    expect(slugFromQuestion('x'.repeat(100))).toBe('x'.repeat(MAX_SLUG_LENGTH));
  });

  it('falls back when nothing is left', () => {
    expect(slugFromQuestion('?!…')).toBe(FALLBACK_SLUG);
  });
});

describe('uniqueNotebookName', () => {
  it('uses the slug when free', () => {
    expect(uniqueNotebookName('sales', ['Untitled.ipynb'])).toBe('sales.ipynb');
  });

  it('numbers clashes, ignoring case', () => {
    expect(uniqueNotebookName('sales', ['Sales.ipynb', 'sales-2.ipynb'])).toBe(
      'sales-3.ipynb'
    );
  });
});

describe('isUntitledNotebook', () => {
  it('matches JupyterLab default names only', () => {
    expect(isUntitledNotebook('Untitled.ipynb')).toBe(true);
    expect(isUntitledNotebook('Untitled12.ipynb')).toBe(true);
    expect(isUntitledNotebook('Untitled.txt')).toBe(false);
    expect(isUntitledNotebook('my Untitled.ipynb')).toBe(false);
  });
});
