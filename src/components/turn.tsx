/**
 * Under each finished turn: what it changed in the notebook (cells added,
 * failed cells its fixes replaced, proposals skipped) and its Undo.
 */

import type { TranslationBundle } from '@jupyterlab/translation';
import React from 'react';

import type { ITurnRecord } from '../api/types';
import type { NotebookChat } from '../chat/chat';
import { turnRecord } from '../notebook/record';

/** "3 cells added · 1 replaced · 1 skipped". */
function changesText(
  record: Pick<ITurnRecord, 'cells' | 'replaced' | 'skipped'>,
  trans: TranslationBundle
): string {
  const parts = [
    trans._n('%1 cell added', '%1 cells added', record.cells.length)
  ];
  if (record.replaced.length > 0) {
    parts.push(
      trans._n(
        '%1 failed cell replaced',
        '%1 failed cells replaced',
        record.replaced.length
      )
    );
  }
  if (record.skipped.length > 0) {
    parts.push(
      trans._n(
        '%1 proposal skipped',
        '%1 proposals skipped',
        record.skipped.length
      )
    );
  }
  return parts.join(' · ');
}

/** What turn `turnId` changed in the notebook, and its Undo button. */
export function TurnFooter(props: {
  chat: NotebookChat;
  turnId: string;
  trans: TranslationBundle;
}): JSX.Element {
  const { chat, turnId, trans } = props;
  const record = turnRecord(chat.record, turnId);
  return (
    <div className="jp-NbChat-turnFooter">
      {record && <TurnChanges record={record} trans={trans} />}
      <button
        type="button"
        className="jp-NbChat-linkButton jp-NbChat-undo"
        aria-label={trans.__('Undo turn')}
        title={trans.__(
          'Remove the cells and the question and answer this turn added, and put back any cell it replaced; your own cells stay'
        )}
        disabled={chat.busy}
        onClick={() => void chat.undo(turnId)}
      >
        {trans.__('Undo turn')}
      </button>
    </div>
  );
}

/** The summary of a turn's changes; the replaced and skipped code on demand. */
function TurnChanges(props: {
  record: ITurnRecord;
  trans: TranslationBundle;
}): JSX.Element {
  const { record, trans } = props;
  const summary = changesText(record, trans);
  if (record.replaced.length === 0 && record.skipped.length === 0) {
    return <div className="jp-NbChat-turnChanges">{summary}</div>;
  }
  return (
    <details className="jp-NbChat-turnChanges">
      <summary>{summary}</summary>
      {record.replaced.map((replaced, i) => (
        <div key={`replaced:${i}`} className="jp-NbChat-turnChange">
          <div className="jp-NbChat-muted">
            {trans.__('Failed code a fix replaced:')}
          </div>
          <pre className="jp-NbChat-codeBlock">{replaced.source}</pre>
        </div>
      ))}
      {record.skipped.map((skipped, i) => (
        <div key={`skipped:${i}`} className="jp-NbChat-turnChange">
          <div className="jp-NbChat-muted">{trans.__('Skipped proposal:')}</div>
          <pre className="jp-NbChat-codeBlock">{skipped.source}</pre>
        </div>
      ))}
    </details>
  );
}
