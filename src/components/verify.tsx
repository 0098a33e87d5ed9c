/**
 * "Verify notebook" in the panel: progress while the notebook runs in a
 * fresh runtime, then which cells differ from their saved outputs and
 * whether the numbers the answers quote still appear.
 */

import type { TranslationBundle } from '@jupyterlab/translation';
import { closeIcon } from '@jupyterlab/ui-components';
import React from 'react';

import type { IVerifyAnswer, IVerifyCell } from '../api/types';
import type { ChatVerification } from '../chat/verification';
import { IconButton } from './buttons';
import { useSignalRefresh } from './hooks';
import { executorLabel } from './sections';

/** "Cell [3]" as the person knows it from the saved notebook, or its place. */
function cellName(cell: IVerifyCell, trans: TranslationBundle): string {
  return cell.execution_count
    ? trans.__('Cell [%1]', cell.execution_count)
    : trans.__('cell %1', cell.index + 1);
}

function AnswerCheck(props: {
  answer: IVerifyAnswer;
  trans: TranslationBundle;
}): JSX.Element {
  const { answer, trans } = props;
  const question = `“${answer.question}”`;
  if (answer.missing.length === 0) {
    return (
      <li className="jp-NbChat-verifyAnswer jp-mod-same">
        {trans._n(
          'The answer to %2: its number still appears.',
          'The answer to %2: all %1 numbers still appear.',
          answer.checked,
          question
        )}
      </li>
    );
  }
  return (
    <li className="jp-NbChat-verifyAnswer jp-mod-different">
      {trans._n(
        'The answer to %2 quotes a number the fresh run no longer shows:',
        'The answer to %2 quotes %1 numbers the fresh run no longer shows:',
        answer.missing.length,
        question
      )}{' '}
      {answer.missing.map((number, i) => (
        <mark key={i} className="jp-NbChat-unverified">
          {number}
        </mark>
      ))}
    </li>
  );
}

export function VerifySection(props: {
  verification: ChatVerification;
  reveal: (cellId: string) => void;
  trans: TranslationBundle;
}): JSX.Element | null {
  const { verification, reveal, trans } = props;
  useSignalRefresh(verification.changed);
  const state = verification.state;
  if (!state) {
    return null;
  }
  const dismiss = (
    <IconButton
      icon={closeIcon}
      size="small"
      label={trans.__('Dismiss the verification')}
      onClick={() => verification.dismiss()}
    />
  );
  if (state.status === 'running') {
    return (
      <section className="jp-NbChat-verify" aria-live="polite">
        <span className="jp-NbChat-verifyHead">
          {state.total === 0
            ? trans.__('Verifying: starting a fresh runtime…')
            : trans.__(
                'Verifying in a fresh runtime: %1 of %2 cells ran…',
                state.ran,
                state.total
              )}
        </span>
        <button
          type="button"
          className="jp-NbChat-linkButton"
          disabled={!state.verify_id}
          onClick={() => void verification.stop()}
        >
          {trans.__('Stop')}
        </button>
      </section>
    );
  }
  const report = state.report;
  if (state.status !== 'done' || !report) {
    return (
      <section className="jp-NbChat-verify jp-mod-different" role="status">
        <span className="jp-NbChat-verifyHead">
          {state.status === 'cancelled'
            ? trans.__('Verification stopped.')
            : trans.__(
                'Could not verify the notebook: %1',
                state.message ?? ''
              )}
        </span>
        {dismiss}
      </section>
    );
  }
  const where = executorLabel(report.executor, trans);
  const seconds = report.elapsed_seconds.toFixed(1);
  const answers = report.answers.filter(a => a.checked > 0);
  return (
    <section
      className={`jp-NbChat-verify ${report.different ? 'jp-mod-different' : 'jp-mod-same'}`}
      role="status"
    >
      <span className="jp-NbChat-verifyHead">
        {report.different === 0
          ? trans._n(
              'Reproduced: the code cell gives its saved outputs in a fresh %2 (%3 s).',
              'Reproduced: all %1 code cells give their saved outputs in a fresh %2 (%3 s).',
              report.total,
              where,
              seconds
            )
          : trans.__(
              '%1 of %2 code cells give other outputs in a fresh %3 (%4 s):',
              report.different,
              report.total,
              where,
              seconds
            )}
      </span>
      {dismiss}
      {report.cells.length > 0 && (
        <ul className="jp-NbChat-verifyCells">
          {report.cells.map(cell => (
            <li key={cell.cell_id ?? cell.index}>
              {cell.cell_id ? (
                <button
                  type="button"
                  className="jp-NbChat-cellLink"
                  onClick={() => reveal(cell.cell_id!)}
                >
                  {cellName(cell, trans)}
                </button>
              ) : (
                cellName(cell, trans)
              )}
              : {cell.differences.join('; ')}
            </li>
          ))}
        </ul>
      )}
      {answers.length > 0 && (
        <ul className="jp-NbChat-verifyAnswers">
          {answers.map(answer => (
            <AnswerCheck key={answer.turn_id} answer={answer} trans={trans} />
          ))}
        </ul>
      )}
    </section>
  );
}
