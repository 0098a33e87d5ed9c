import { nullTranslator } from '@jupyterlab/translation';

import {
  chipDetail,
  contextLevelLabel,
  downloadUrl,
  fill,
  folderOf,
  formatBytes,
  isContextLevel,
  isDataFile,
  outOfCoreFiles,
  tableShapeLabel
} from '../attachments/datafiles';

const trans = nullTranslator.load('jupyter_nbchat');

describe('chip labels', () => {
  it('gives rows × cols of a table', () => {
    expect(tableShapeLabel({ row_count: 3, column_count: 12 }, trans)).toBe(
      '3 rows × 12 cols'
    );
  });

  it('uses the singular for one row or one column', () => {
    expect(tableShapeLabel({ row_count: 1, column_count: 1 }, trans)).toBe(
      '1 row × 1 col'
    );
  });

  it('groups digits of large counts', () => {
    expect(
      tableShapeLabel({ row_count: 1234567, column_count: 2 }, trans)
    ).toBe('1,234,567 rows × 2 cols');
  });

  it('describes the first table of a CSV', () => {
    expect(
      chipDetail(
        {
          sheets: [],
          tables: [
            { columns: ['a'], column_count: 12, row_count: 3 },
            { columns: ['b'], column_count: 1, row_count: 1 }
          ]
        },
        trans
      )
    ).toBe('3 rows × 12 cols');
  });

  it('counts the sheets of a workbook', () => {
    expect(
      chipDetail(
        {
          sheets: ['Orders', 'Returns'],
          tables: [
            { name: 'Orders', columns: [], column_count: 4, row_count: 3 },
            { name: 'Returns', columns: [], column_count: 2, row_count: 1 }
          ]
        },
        trans
      )
    ).toBe('2 sheets · 3 rows × 4 cols');
    expect(chipDetail({ sheets: ['Only'], tables: [] }, trans)).toBe('1 sheet');
  });

  it('says what a database file holds', () => {
    expect(
      chipDetail(
        {
          type: 'sqlite',
          table_count: 3,
          view_count: 0,
          tables: [
            {
              name: 'a',
              kind: 'table',
              columns: [],
              column_count: 4,
              row_count: 3
            }
          ]
        },
        trans
      )
    ).toBe('SQLite database, 3 tables');
    expect(
      chipDetail({ type: 'duckdb', table_count: 1, view_count: 2 }, trans)
    ).toBe('DuckDB database, 1 table, 2 views');
  });

  it('shows a view whose rows were not counted as "? rows"', () => {
    expect(
      tableShapeLabel({ row_count: 0, column_count: 2, counted: false }, trans)
    ).toBe('? rows × 2 cols');
  });

  it('says nothing when no table was found', () => {
    expect(chipDetail({ tables: [] }, trans)).toBe('');
    expect(chipDetail({}, trans)).toBe('');
  });
});

describe('context levels', () => {
  it('recognises the protocol values only', () => {
    expect(isContextLevel('headers')).toBe(true);
    expect(isContextLevel('schema')).toBe(true);
    expect(isContextLevel('sample')).toBe(true);
    expect(isContextLevel('rows')).toBe(false);
    expect(isContextLevel(undefined)).toBe(false);
  });

  it('labels them for the select', () => {
    expect(contextLevelLabel('headers', trans)).toBe('Headers only');
    expect(contextLevelLabel('schema', trans)).toBe('Headers + types');
    expect(contextLevelLabel('sample', trans)).toBe('Headers + sample rows');
  });
});

describe('data files', () => {
  it('knows the extensions "Analyse in chat" offers', () => {
    for (const name of [
      'a.csv',
      'b.TSV',
      'c.txt',
      'd.xlsx',
      'e.xlsm',
      'f.xls',
      'g.json',
      'h.jsonl',
      'dir/i.parquet',
      'shop.sqlite',
      'shop.SQLITE3',
      'app.db',
      'old.db3',
      'warehouse.duckdb',
      'w.ddb'
    ]) {
      expect(isDataFile(name)).toBe(true);
    }
    expect(isDataFile('notebook.ipynb')).toBe(false);
    expect(isDataFile('README')).toBe(false);
  });

  it('writes sizes for people', () => {
    expect(formatBytes(265)).toBe('265 B');
    expect(formatBytes(1500)).toBe('1.5 KB');
    expect(formatBytes(2_500_000)).toBe('2.5 MB');
  });

  it('fills numbered placeholders', () => {
    expect(fill('%1 of %2', 'a', 3)).toBe('a of 3');
    expect(fill('%1 and %3', 'x')).toBe('x and %3');
  });

  it('finds the folder of a path', () => {
    expect(folderOf('analysis.ipynb')).toBe('');
    expect(folderOf('work/q1/analysis.ipynb')).toBe('work/q1');
  });
});

describe('URLs', () => {
  it('builds download links through the contents API', () => {
    expect(downloadUrl('http://h/base/', 'out/chart #1.png')).toBe(
      'http://h/base/files/out/chart%20%231.png?download=1'
    );
  });
});

describe('outOfCoreFiles', () => {
  it('names the files whose read hint was rewritten out of core', () => {
    const prompt = [
      '<attached_files>',
      'The person attached 2 files.',
      '',
      '1. "big \\"sales\\".csv": delimited text, 5.2 GB',
      '   path: "big \\"sales\\".csv"',
      '   read with (out of core): duckdb.sql("SELECT … FROM read_csv(\'big.csv\')").df()',
      '',
      '2. "small.csv": delimited text, 1.0 KB',
      '   read with: pd.read_csv("small.csv")',
      '</attached_files>',
      '',
      '<memory>',
      'The code can use about 0.9 GB of memory where it runs.',
      '</memory>'
    ].join('\n');
    expect([...outOfCoreFiles(prompt)]).toEqual(['big "sales".csv']);
    expect(outOfCoreFiles(prompt.replace('(out of core)', '')).size).toBe(0);
    expect(outOfCoreFiles('').size).toBe(0);
  });
});
