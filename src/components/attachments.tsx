/**
 * The attach area of the chat: the attached files as chips (with their
 * shape), uploads in progress, problems, the "What Claude sees" level, and
 * the details dialog showing headers and the exact text Claude is given.
 */

import { Dialog, showDialog } from '@jupyterlab/apputils';
import type { TranslationBundle } from '@jupyterlab/translation';
import {
  closeIcon,
  fileIcon,
  LabIcon,
  ReactWidget,
  spreadsheetIcon,
  tableRowsIcon
} from '@jupyterlab/ui-components';
import React, { useId } from 'react';

import type { IAttachment, IFileSummary, ITableSummary } from '../api/types';
import {
  chipDetail,
  CONTEXT_LEVELS,
  contextLevelLabel,
  databaseCounts,
  databaseLabel,
  formatBytes,
  isContextLevel,
  outOfCoreFiles,
  tableShapeLabel
} from '../attachments/datafiles';
import type { ChatAttachments } from '../attachments/model';
import { IconButton } from './buttons';
import { useSignalRefresh } from './hooks';

/** Most column names listed per table in the details dialog. */
const MAX_COLUMNS_SHOWN = 200;

/** The icon of a file type on its chip. */
function fileTypeIcon(summary: IFileSummary): LabIcon {
  if (summary.type === 'sqlite' || summary.type === 'duckdb') {
    return tableRowsIcon;
  }
  return summary.type === 'csv' ||
    summary.type === 'xlsx' ||
    summary.type === 'xls'
    ? spreadsheetIcon
    : fileIcon;
}

/**
 * Chips, uploads and problems of the chat's attachments, with the level
 * select once something is attached. Renders nothing for a chat without
 * any of them.
 */
export function AttachArea(props: {
  attachments: ChatAttachments;
  trans: TranslationBundle;
}): JSX.Element | null {
  const { trans } = props;
  const model = props.attachments;
  useSignalRefresh(model.changed);
  const state = model.state;
  const attachments = model.files;
  const levelId = useId();
  const outOfCore = outOfCoreFiles(state.prompt);
  if (
    attachments.length === 0 &&
    state.uploads.length === 0 &&
    state.errors.length === 0
  ) {
    return null;
  }
  return (
    <div className="jp-NbChat-attachArea">
      {attachments.length > 0 && (
        <ul className="jp-NbChat-chips" aria-label={trans.__('Attached files')}>
          {attachments.map(attachment => (
            <li key={attachment.path} className="jp-NbChat-chipItem">
              <AttachmentChip
                attachment={attachment}
                outOfCore={outOfCore.has(attachment.summary.name)}
                trans={trans}
                onOpen={() => showAttachmentDetails(model, attachment, trans)}
                onRemove={() => void model.detach(attachment.path)}
              />
            </li>
          ))}
        </ul>
      )}
      {state.uploads.length > 0 && (
        <ul className="jp-NbChat-uploads" aria-label={trans.__('Uploads')}>
          {state.uploads.map(upload => (
            <li key={upload.id} className="jp-NbChat-upload">
              <span className="jp-NbChat-uploadName" title={upload.name}>
                {upload.name}
              </span>
              <progress
                className="jp-NbChat-progress"
                max={1}
                value={upload.progress}
                aria-label={trans.__('Uploading %1', upload.name)}
              />
              <span className="jp-NbChat-uploadPercent">
                {`${Math.round(upload.progress * 100)}%`}
              </span>
              <IconButton
                icon={closeIcon}
                size="small"
                label={trans.__('Cancel the upload of %1', upload.name)}
                onClick={() => model.cancelUpload(upload.id)}
              />
            </li>
          ))}
        </ul>
      )}
      {state.errors.map(error => (
        <div key={error.id} className="jp-NbChat-attachError" role="alert">
          <span className="jp-NbChat-plainText">{error.message}</span>
          <IconButton
            icon={closeIcon}
            size="small"
            label={trans.__('Dismiss')}
            onClick={() => model.dismissError(error.id)}
          />
        </div>
      ))}
      {attachments.length > 0 && (
        <div className="jp-NbChat-levelRow">
          <label htmlFor={levelId} className="jp-NbChat-levelLabel">
            {trans.__('What Claude sees')}
          </label>
          <select
            id={levelId}
            className="jp-NbChat-select"
            value={model.contextLevel}
            onChange={event => {
              const level = event.target.value;
              if (isContextLevel(level)) {
                void model.setContextLevel(level);
              }
            }}
          >
            {CONTEXT_LEVELS.map(level => (
              <option key={level} value={level}>
                {contextLevelLabel(level, trans)}
              </option>
            ))}
          </select>
          {state.inspecting && (
            <span className="jp-NbChat-muted" aria-live="polite">
              {trans.__('Updating…')}
            </span>
          )}
        </div>
      )}
    </div>
  );
}

/** One attached file: opens its details; × detaches it. */
function AttachmentChip(props: {
  attachment: IAttachment;
  /** Too big for the memory where the code runs: Claude reads it out of core. */
  outOfCore: boolean;
  trans: TranslationBundle;
  onOpen: () => void;
  onRemove: () => void;
}): JSX.Element {
  const { attachment, outOfCore, trans, onOpen, onRemove } = props;
  const summary = attachment.summary;
  const shape = chipDetail(summary, trans);
  const detail = outOfCore
    ? [shape, trans.__('out of core')].filter(Boolean).join(' · ')
    : shape;
  const Icon = fileTypeIcon(summary);
  return (
    <span className="jp-NbChat-chip" data-path={attachment.path}>
      <button
        type="button"
        className="jp-NbChat-chipMain"
        title={
          detail
            ? trans.__(
                '%1 (%2): show what Claude will see',
                attachment.path,
                detail
              )
            : trans.__('%1: show what Claude will see', attachment.path)
        }
        aria-label={
          detail
            ? trans.__('%1, %2: show details', summary.name, detail)
            : trans.__('%1: show details', summary.name)
        }
        onClick={onOpen}
      >
        <Icon.react
          tag="span"
          elementSize="small"
          className="jp-NbChat-chipIcon"
        />
        <span className="jp-NbChat-chipName">{summary.name}</span>
        {detail && <span className="jp-NbChat-chipDetail">{detail}</span>}
      </button>
      <button
        type="button"
        className="jp-NbChat-chipRemove"
        aria-label={trans.__('Remove %1', summary.name)}
        title={trans.__(
          'Remove %1 from this chat (the file stays)',
          summary.name
        )}
        onClick={onRemove}
      >
        <closeIcon.react tag="span" elementSize="small" />
      </button>
    </span>
  );
}

/** Open the details dialog of an attached file. */
function showAttachmentDetails(
  model: ChatAttachments,
  attachment: IAttachment,
  trans: TranslationBundle
): void {
  const body = ReactWidget.create(
    <AttachmentDetails
      model={model}
      path={attachment.path}
      fallback={attachment}
      trans={trans}
    />
  );
  body.addClass('jp-NbChat-detailsBody');
  void showDialog({
    title: attachment.summary.name,
    body,
    buttons: [Dialog.cancelButton({ label: trans.__('Close') })]
  }).then(() => body.dispose());
}

/** The details of one attachment, kept up to date while the dialog is open. */
function AttachmentDetails(props: {
  model: ChatAttachments;
  path: string;
  fallback: IAttachment;
  trans: TranslationBundle;
}): JSX.Element {
  const { model, path, fallback, trans } = props;
  useSignalRefresh(model.changed);
  const state = model.state;
  const attachment = model.files.find(a => a.path === path) ?? fallback;
  const summary = attachment.summary;
  const tables = summary.tables ?? [];
  const sheets = summary.sheets ?? [];
  const facts: string[] = [formatBytes(summary.size)];
  if (sheets.length > 0) {
    facts.push(trans._n('%1 sheet', '%1 sheets', sheets.length));
  }
  if (databaseLabel(summary, trans)) {
    facts.push(databaseLabel(summary, trans), databaseCounts(summary, trans));
  }
  if (summary.encoding) {
    facts.push(summary.encoding);
  }
  const many = tables.length > 1 || sheets.length > 0;
  return (
    <div className="jp-NbChat-details">
      <p className="jp-NbChat-detailsPath">
        <code>{attachment.path}</code>
        <span className="jp-NbChat-muted"> · {facts.join(' · ')}</span>
      </p>
      {(summary.notes ?? []).map((note, i) => (
        <p key={i} className="jp-NbChat-detailsNote">
          {note}
        </p>
      ))}
      {outOfCoreFiles(state.prompt).has(summary.name) && (
        <p className="jp-NbChat-detailsNote" role="note">
          {trans.__(
            'Too big to load whole in the memory where the code runs: Claude is told to read it out of core (DuckDB, polars or pandas in chunks) and to aggregate there. See “What Claude will see”.'
          )}
        </p>
      )}
      {tables.length === 0 ? (
        <p className="jp-NbChat-muted">
          {trans.__('No table was found in this file.')}
        </p>
      ) : (
        tables.map((table, i) => (
          <TableDetails
            key={`${table.name ?? ''}:${i}`}
            table={table}
            sheet={many}
            trans={trans}
          />
        ))
      )}
      <h3 className="jp-NbChat-detailsHeading">
        {trans.__('What Claude will see')}
      </h3>
      <p className="jp-NbChat-muted">
        {trans.__(
          'Sent with every question of this chat, for all its attached files (%1):',
          contextLevelLabel(model.contextLevel, trans)
        )}
      </p>
      <pre
        className="jp-NbChat-prompt"
        tabIndex={0}
        aria-label={trans.__('What Claude will see')}
        aria-busy={state.inspecting}
      >
        {state.prompt === ''
          ? state.inspecting
            ? trans.__('Updating…')
            : trans.__('(not available — see the problem shown in the chat)')
          : state.prompt}
      </pre>
    </div>
  );
}

/** Headers (and types, when known) of one table or sheet. */
function TableDetails(props: {
  table: ITableSummary;
  sheet: boolean;
  trans: TranslationBundle;
}): JSX.Element {
  const { table, sheet, trans } = props;
  const shape = tableShapeLabel(table, trans);
  const title =
    table.kind === 'table'
      ? trans.__('Table “%1” · %2', table.name ?? '', shape)
      : table.kind === 'view'
        ? trans.__('View “%1” · %2', table.name ?? '', shape)
        : sheet
          ? trans.__('Sheet “%1” · %2', table.name ?? '', shape)
          : shape;
  const columns = table.columns.slice(0, MAX_COLUMNS_SHOWN);
  const types = new Map<string, string>(
    (table.column_schema ?? []).map(c => [c.name, c.dtype])
  );
  (table.column_types ?? []).forEach((type, i) => {
    if (type && i < columns.length && !types.has(columns[i])) {
      types.set(columns[i], type);
    }
  });
  const more = table.column_count - columns.length;
  return (
    <section className="jp-NbChat-table">
      <h3 className="jp-NbChat-detailsHeading">{title}</h3>
      {columns.length > 0 ? (
        <ul className="jp-NbChat-columns" aria-label={trans.__('Columns')}>
          {columns.map((column, i) => (
            <li key={`${i}:${column}`} className="jp-NbChat-column">
              <span className="jp-NbChat-columnName">{column}</span>
              {types.has(column) && (
                <span className="jp-NbChat-columnType">
                  {types.get(column)}
                </span>
              )}
            </li>
          ))}
        </ul>
      ) : (
        <p className="jp-NbChat-muted">{trans.__('No columns.')}</p>
      )}
      {more > 0 && (
        <p className="jp-NbChat-muted">
          {trans._n('… and %1 more column', '… and %1 more columns', more)}
        </p>
      )}
      {(table.notes ?? []).map((note, i) => (
        <p key={i} className="jp-NbChat-detailsNote">
          {note}
        </p>
      ))}
    </section>
  );
}
