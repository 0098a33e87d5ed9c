/**
 * Pure helpers about attached data files: what a chip says, which files can
 * be attached, where they download from. No DOM, no network.
 */

import { PathExt, URLExt } from '@jupyterlab/coreutils';
import type { TranslationBundle } from '@jupyterlab/translation';

import type { ContextLevel, IFileSummary, ITableSummary } from '../api/types';

/** Extensions (lower case, with the dot) "Analyse in chat" offers to open. */
const DATA_EXTENSIONS: readonly string[] = [
  '.csv',
  '.tsv',
  '.txt',
  '.xlsx',
  '.xlsm',
  '.xls',
  '.json',
  '.jsonl',
  '.parquet',
  '.sqlite',
  '.sqlite3',
  '.db',
  '.db3',
  '.duckdb',
  '.ddb'
];

/** Context levels, least to most. */
export const CONTEXT_LEVELS: readonly ContextLevel[] = [
  'headers',
  'schema',
  'sample'
];

/** The level a chat uses when its notebook names none. */
export const DEFAULT_CONTEXT_LEVEL: ContextLevel = 'headers';

/** Whether `value` is one of the protocol's context levels. */
export function isContextLevel(value: unknown): value is ContextLevel {
  return (
    typeof value === 'string' &&
    (CONTEXT_LEVELS as readonly string[]).includes(value)
  );
}

/** Whether `path` names a data file "Analyse in chat" applies to. */
export function isDataFile(path: string): boolean {
  return DATA_EXTENSIONS.includes(PathExt.extname(path).toLowerCase());
}

/** The label of a context level in the "What Claude sees" select. */
export function contextLevelLabel(
  level: ContextLevel,
  trans: TranslationBundle
): string {
  switch (level) {
    case 'schema':
      return trans.__('Headers + types');
    case 'sample':
      return trans.__('Headers + sample rows');
    default:
      return trans.__('Headers only');
  }
}

/** "3 rows × 12 cols" for one table ("? rows" for a view not counted). */
export function tableShapeLabel(
  table: Pick<ITableSummary, 'row_count' | 'column_count' | 'counted'>,
  trans: TranslationBundle
): string {
  // %1 is the count itself, %2 the count written with digit grouping.
  const rows =
    table.counted === false
      ? trans.__('? rows')
      : trans._n(
          '%2 row',
          '%2 rows',
          table.row_count,
          table.row_count.toLocaleString('en-US')
        );
  const cols = trans._n(
    '%2 col',
    '%2 cols',
    table.column_count,
    table.column_count.toLocaleString('en-US')
  );
  return `${rows} × ${cols}`;
}

/** "SQLite database", "DuckDB database"; '' for other file types. */
export function databaseLabel(
  summary: Pick<IFileSummary, 'type'>,
  trans: TranslationBundle
): string {
  switch (summary.type) {
    case 'sqlite':
      return trans.__('SQLite database');
    case 'duckdb':
      return trans.__('DuckDB database');
    default:
      return '';
  }
}

/** "3 tables, 1 view" of a database file (views only when it has some). */
export function databaseCounts(
  summary: Pick<IFileSummary, 'table_count' | 'view_count'>,
  trans: TranslationBundle
): string {
  const tables = summary.table_count ?? 0;
  const views = summary.view_count ?? 0;
  const text = trans._n('%1 table', '%1 tables', tables);
  return views > 0
    ? `${text}, ${trans._n('%1 view', '%1 views', views)}`
    : text;
}

/**
 * What a chip says under the file name: the sheet count of a workbook and
 * the shape of its first table ("2 sheets · 3 rows × 4 cols"), or what a
 * database holds ("SQLite database, 3 tables"); '' when the server found no
 * table.
 */
export function chipDetail(
  summary: Partial<
    Pick<
      IFileSummary,
      'type' | 'sheets' | 'tables' | 'table_count' | 'view_count'
    >
  >,
  trans: TranslationBundle
): string {
  const database = databaseLabel({ type: summary.type ?? 'other' }, trans);
  if (database) {
    return `${database}, ${databaseCounts(summary, trans)}`;
  }
  const parts: string[] = [];
  const sheets = summary.sheets ?? [];
  if (sheets.length > 0) {
    parts.push(trans._n('%1 sheet', '%1 sheets', sheets.length));
  }
  const first = (summary.tables ?? [])[0];
  if (first) {
    parts.push(tableShapeLabel(first, trans));
  }
  return parts.join(' · ');
}

/**
 * Substitute `%1`, `%2` … in `message` the way a TranslationBundle does, for
 * strings translated ahead of knowing their arguments.
 */
export function fill(message: string, ...args: unknown[]): string {
  return message.replace(/%(\d+)/g, (match, n) => {
    const value = args[Number(n) - 1];
    return value === undefined ? match : String(value);
  });
}

/** A byte count for people: "512 bytes", "1.2 KB", "3.4 MB". */
export function formatBytes(size: number): string {
  if (size < 1000) {
    return `${size} B`;
  }
  const units = ['KB', 'MB', 'GB', 'TB'];
  let value = size;
  let unit = 'B';
  for (const next of units) {
    value /= 1000;
    unit = next;
    if (value < 1000) {
      break;
    }
  }
  return `${value.toFixed(1)} ${unit}`;
}

/** The URL that downloads the server-root-relative `path` (contents API). */
export function downloadUrl(baseUrl: string, path: string): string {
  return (
    URLExt.join(baseUrl, 'files', URLExt.encodeParts(path)) + '?download=1'
  );
}

/** The folder of a server-root-relative path ('' for the root). */
export function folderOf(path: string): string {
  const dir = PathExt.dirname(path);
  return dir === '.' || dir === '/' ? '' : dir;
}

/**
 * Names of the files Claude was told to read out of core (too big for the
 * memory where the code runs), from the prompt text of a turn's manifest
 * (llm/out_of_core.py rewrites those files' "read with" lines).
 */
export function outOfCoreFiles(prompt: string): Set<string> {
  const names = new Set<string>();
  let current: string | null = null;
  for (const line of prompt.split('\n')) {
    const head = /^\d+\. ("(?:[^"\\]|\\.)*"):/.exec(line);
    if (head) {
      try {
        current = JSON.parse(head[1]) as string;
      } catch {
        current = null;
      }
    } else if (current && line.startsWith('   read with (out of core):')) {
      names.add(current);
    }
  }
  return names;
}
