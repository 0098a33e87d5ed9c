/**
 * The chat's side information: files its cells created, the executor's live
 * variables, and the footer (where code runs, Restart, the chat's usage).
 */

import { Dialog, showDialog } from '@jupyterlab/apputils';
import type { TranslationBundle } from '@jupyterlab/translation';
import { downloadIcon, refreshIcon } from '@jupyterlab/ui-components';
import React, { useId } from 'react';

import { errorMessage } from '../api/client';
import type { Executor, IStatus, IUsageTotals, IVariable } from '../api/types';
import { downloadUrl, folderOf, formatBytes } from '../attachments/datafiles';
import type { NotebookChat } from '../chat/chat';
import { executorChoices, policyOf } from '../chat/policy';
import type { ChatRuntime } from '../chat/runtime';
import { tokensIn } from '../notebook/record';
import { IconButton } from './buttons';
import { useSignalRefresh } from './hooks';

/** "Local kernel" / "E2B sandbox". */
export function executorLabel(
  executor: Executor,
  trans: TranslationBundle
): string {
  return executor === 'e2b'
    ? trans.__('E2B sandbox')
    : trans.__('Local kernel');
}

/** "1,234 tokens in, 56 out · about $0.0123". */
export function usageText(
  usage: IUsageTotals,
  trans: TranslationBundle
): string {
  const tokens = trans.__(
    '%1 tokens in, %2 out',
    tokensIn(usage).toLocaleString('en-US'),
    usage.output_tokens.toLocaleString('en-US')
  );
  if (typeof usage.cost_usd !== 'number') {
    return tokens;
  }
  const digits = usage.cost_usd >= 1 ? 2 : 4;
  const cost = trans.__('about $%1', usage.cost_usd.toFixed(digits));
  return `${tokens} · ${cost}`;
}

/** "DataFrame · 3 × 12" and the like for one variable. */
function variableDetail(variable: IVariable, trans: TranslationBundle): string {
  if (Array.isArray(variable.shape) && variable.shape.length > 0) {
    return variable.shape.map(n => n.toLocaleString('en-US')).join(' × ');
  }
  if (typeof variable.length === 'number') {
    return trans.__('length %1', variable.length.toLocaleString('en-US'));
  }
  return '';
}

/** Files created or changed by the chat's cells, with download links. */
export function FilesCreated(props: {
  runtime: ChatRuntime;
  baseUrl: string;
  notebookPath: string;
  trans: TranslationBundle;
}): JSX.Element | null {
  const { runtime, baseUrl, notebookPath, trans } = props;
  useSignalRefresh(runtime.changed);
  const files = runtime.state.filesCreated;
  if (files.length === 0) {
    return null;
  }
  const folder = folderOf(notebookPath);
  const shown = (path: string) =>
    folder && path.startsWith(`${folder}/`)
      ? path.slice(folder.length + 1)
      : path;
  return (
    <details className="jp-NbChat-section jp-NbChat-files" open>
      <summary className="jp-NbChat-sectionTitle">
        {trans.__('Files created (%1)', files.length)}
      </summary>
      <ul className="jp-NbChat-fileList">
        {files.map(file => (
          <li key={file.path} className="jp-NbChat-fileItem">
            {file.copied ? (
              <a
                className="jp-NbChat-fileLink"
                href={downloadUrl(baseUrl, file.path)}
                download={file.path.split('/').pop()}
                title={trans.__('Download %1', file.path)}
              >
                <downloadIcon.react tag="span" elementSize="small" />
                <span>{shown(file.path)}</span>
              </a>
            ) : (
              <span className="jp-NbChat-fileName">{shown(file.path)}</span>
            )}
            <span className="jp-NbChat-muted">
              {' '}
              {formatBytes(file.size)}
              {!file.copied && file.reason ? ` · ${file.reason}` : ''}
            </span>
          </li>
        ))}
      </ul>
    </details>
  );
}

/** The executor's live variables, refreshed after each turn and on opening. */
export function Variables(props: {
  runtime: ChatRuntime;
  trans: TranslationBundle;
}): JSX.Element {
  const { runtime, trans } = props;
  useSignalRefresh(runtime.changed);
  const { variables, variablesLoading, variablesError } = runtime.state;
  const title =
    variables === null
      ? trans.__('Variables')
      : trans.__('Variables (%1)', variables.length);
  return (
    <details
      className="jp-NbChat-section jp-NbChat-variables"
      onToggle={event => {
        if ((event.currentTarget as HTMLDetailsElement).open) {
          void runtime.refreshVariables();
        }
      }}
    >
      <summary className="jp-NbChat-sectionTitle">{title}</summary>
      <div className="jp-NbChat-sectionBody" aria-busy={variablesLoading}>
        <IconButton
          icon={refreshIcon}
          size="small"
          className="jp-NbChat-refresh"
          label={trans.__('Refresh the variables')}
          disabled={variablesLoading}
          onClick={() => void runtime.refreshVariables()}
        />
        {variablesError !== '' && (
          <p className="jp-NbChat-muted" role="status">
            {variablesError}
          </p>
        )}
        {variables !== null && variables.length === 0 && (
          <p className="jp-NbChat-muted">
            {trans.__('No variables yet: they appear once code has run.')}
          </p>
        )}
        {variables !== null && variables.length > 0 && (
          <table className="jp-NbChat-varTable">
            <thead>
              <tr>
                <th scope="col">{trans.__('Name')}</th>
                <th scope="col">{trans.__('Type')}</th>
                <th scope="col">{trans.__('Shape / length')}</th>
              </tr>
            </thead>
            <tbody>
              {variables.map(variable => (
                <tr key={variable.name}>
                  <td>
                    <code>{variable.name}</code>
                  </td>
                  <td>{variable.type}</td>
                  <td>
                    {variableDetail(variable, trans)}
                    {variable.columns && variable.columns.length > 0 && (
                      <div
                        className="jp-NbChat-varColumns"
                        title={variable.columns.join(', ')}
                      >
                        {variable.columns.slice(0, 8).join(', ')}
                        {(variable.column_count ?? variable.columns.length) > 8
                          ? ', …'
                          : ''}
                      </div>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>
    </details>
  );
}

/** Where code runs (with the chat's choice when E2B is available), Restart, usage. */
export function ChatFooter(props: {
  chat: NotebookChat;
  status: IStatus | null;
  trans: TranslationBundle;
  /** Saves the person's model setting; null: the choice cannot be saved here. */
  setModel?: ((model: string) => void) | null;
}): JSX.Element {
  const { chat, status, trans } = props;
  const runtime = chat.runtime;
  useSignalRefresh(runtime.changed);
  useSignalRefresh(chat.stateChanged);
  useSignalRefresh(chat.verification.changed);
  const selectId = useId();
  const usage = chat.record.usage;
  const executor: Executor = chat.effectiveExecutor;
  const label = executorLabel(executor, trans);
  const choices = executorChoices(status);
  const canChoose = choices.length > 1;
  const limited = (policyOf(status)?.allowed_executors.length ?? 0) > 0;

  const restart = async () => {
    const result = await showDialog({
      title: trans.__('Restart the %1?', label),
      body: trans.__(
        'Every variable of this chat is lost; its attached files stay available.'
      ),
      buttons: [
        Dialog.cancelButton({ label: trans.__('Cancel') }),
        Dialog.warnButton({ label: trans.__('Restart') })
      ]
    });
    if (!result.button.accept) {
      return;
    }
    try {
      await runtime.restart();
      runtime.warn('');
      chat.notify(trans.__('The %1 was restarted.', label));
    } catch (reason) {
      runtime.warn(trans.__('Could not restart: %1', errorMessage(reason)));
    }
  };

  return (
    <footer className="jp-NbChat-footer">
      <div className="jp-NbChat-executor">
        {canChoose ? (
          <>
            <label htmlFor={selectId} className="jp-NbChat-muted">
              {trans.__('Runs in')}
            </label>
            <select
              id={selectId}
              className="jp-NbChat-select"
              value={executor}
              disabled={chat.busy}
              onChange={event =>
                void chat.setExecutor(event.target.value as Executor)
              }
            >
              {choices.map(e => (
                <option key={e} value={e}>
                  {executorLabel(e, trans)}
                </option>
              ))}
            </select>
          </>
        ) : (
          <span
            className="jp-NbChat-executorName"
            title={
              limited
                ? executorsReason(choices, status, trans)
                : trans.__('Code runs in: %1', label)
            }
          >
            {label}
          </span>
        )}
        <button
          type="button"
          className="jp-NbChat-linkButton"
          disabled={chat.busy || runtime.state.restarting}
          title={trans.__('Restart the %1 of this chat', label)}
          onClick={() => void restart()}
        >
          {runtime.state.restarting
            ? trans.__('Restarting…')
            : trans.__('Restart')}
        </button>
        <button
          type="button"
          className="jp-NbChat-linkButton"
          disabled={chat.busy || chat.verification.running}
          title={trans.__(
            'Run every code cell top to bottom in a fresh %1, beside this one, and compare the outputs with the saved ones',
            label
          )}
          onClick={() => void chat.verification.start()}
        >
          {trans.__('Verify')}
        </button>
      </div>
      <PolicyNote
        chat={chat}
        status={status}
        trans={trans}
        setModel={props.setModel ?? null}
      />
      {runtime.state.executorWarning !== '' && (
        <div className="jp-NbChat-executorWarning" role="status">
          {runtime.state.executorWarning}
        </div>
      )}
      {usage && usage.turns > 0 && (
        <div
          className="jp-NbChat-chatUsage"
          title={trans._n(
            'Summed over %1 question in this notebook',
            'Summed over %1 questions in this notebook',
            usage.turns
          )}
        >
          {trans.__('This chat: %1', usageText(usage, trans))}
        </div>
      )}
    </footer>
  );
}

/** "Your administrator lets code run only in: E2B sandbox." */
function executorsReason(
  choices: Executor[],
  status: IStatus | null,
  trans: TranslationBundle
): string {
  const allowed = policyOf(status)?.allowed_executors ?? choices;
  return trans.__(
    'Your administrator lets code run only in: %1.',
    allowed.map(e => executorLabel(e, trans)).join(', ')
  );
}

/**
 * The administrator's limits (NbChat traits, from the server's status): the
 * models a question may use (a choice among them), where code may run,
 * review forced on, the token cap per question. Nothing when none is set.
 */
export function PolicyNote(props: {
  chat: NotebookChat;
  status: IStatus | null;
  trans: TranslationBundle;
  setModel: ((model: string) => void) | null;
}): JSX.Element | null {
  const { chat, status, trans, setModel } = props;
  const modelId = useId();
  const policy = policyOf(status);
  if (!policy || !status) {
    return null;
  }
  const models = policy.allowed_models;
  const model = chat.model || status.model;
  const modelsReason = trans.__(
    'Your administrator allows only these models: %1.',
    models.join(', ')
  );
  const reviewReason = trans.__(
    'Your administrator requires every generated cell to wait for your Run or Skip before it runs.'
  );
  const cap = policy.max_tokens_per_turn.toLocaleString('en-US');
  return (
    <div
      className="jp-NbChat-policy"
      role="group"
      aria-label={trans.__('Limits set by your administrator')}
    >
      {models.length > 0 && (
        <div className="jp-NbChat-policyItem" title={modelsReason}>
          <label htmlFor={modelId} className="jp-NbChat-muted">
            {trans.__('Model')}
          </label>
          {models.length > 1 && setModel ? (
            <select
              id={modelId}
              className="jp-NbChat-select"
              value={models.includes(model) ? model : models[0]}
              disabled={chat.busy}
              onChange={event => setModel(event.target.value)}
            >
              {models.map(m => (
                <option key={m} value={m}>
                  {m}
                </option>
              ))}
            </select>
          ) : (
            <output id={modelId} className="jp-NbChat-policyValue">
              {model}
            </output>
          )}
        </div>
      )}
      {policy.allowed_executors.length > 0 && (
        <div className="jp-NbChat-policyItem jp-NbChat-muted">
          {executorsReason(policy.allowed_executors, status, trans)}
        </div>
      )}
      {policy.force_review && (
        <label className="jp-NbChat-policyItem" title={reviewReason}>
          <input type="checkbox" checked disabled readOnly />
          {trans.__('Review each cell before it runs')}
        </label>
      )}
      {policy.max_tokens_per_turn > 0 && (
        <div
          className="jp-NbChat-policyItem jp-NbChat-muted"
          title={trans.__(
            'Your administrator caps each question at %1 tokens (input and output); a question that would pass it stops, and the cells that ran are kept.',
            cap
          )}
        >
          {trans.__('Up to %1 tokens per question', cap)}
        </div>
      )}
      <div className="jp-NbChat-policyItem jp-NbChat-muted">
        {trans.__('Your administrator limits these choices.')}
      </div>
    </div>
  );
}
