/**
 * The chat's database connections: a chip per connection it uses (its details
 * show exactly what Claude is told), and the dialog that chooses them among
 * the server's named connections. Only names travel: URLs stay on the server.
 */

import { Dialog, showDialog } from '@jupyterlab/apputils';
import type { TranslationBundle } from '@jupyterlab/translation';
import {
  closeIcon,
  ReactWidget,
  tableRowsIcon
} from '@jupyterlab/ui-components';
import React from 'react';

import type { IDatabaseInfo } from '../api/types';
import type { ChatDatabases } from '../databases/model';
import { useSignalRefresh } from './hooks';

/** The dialect as people name it. */
function dialectLabel(dialect: string): string {
  const names: Record<string, string> = {
    postgresql: 'PostgreSQL',
    sqlite: 'SQLite',
    mysql: 'MySQL',
    mariadb: 'MariaDB',
    mssql: 'SQL Server',
    oracle: 'Oracle',
    duckdb: 'DuckDB'
  };
  return names[dialect] ?? dialect;
}

/** Chips of the connections this chat uses; nothing when it uses none. */
export function DatabaseChips(props: {
  databases: ChatDatabases;
  trans: TranslationBundle;
}): JSX.Element | null {
  const { databases, trans } = props;
  useSignalRefresh(databases.changed);
  const chosen = databases.chosen;
  if (chosen.length === 0 && databases.error === '') {
    return null;
  }
  const known = new Map(databases.available.map(d => [d.name, d]));
  return (
    <div className="jp-NbChat-attachArea">
      {chosen.length > 0 && (
        <ul
          className="jp-NbChat-chips"
          aria-label={trans.__('Database connections')}
        >
          {chosen.map(name => {
            const info = known.get(name);
            const detail = info
              ? dialectLabel(info.dialect)
              : trans.__('not on this server');
            return (
              <li key={name} className="jp-NbChat-chipItem">
                <span className="jp-NbChat-chip" data-database={name}>
                  <button
                    type="button"
                    className="jp-NbChat-chipMain"
                    title={trans.__(
                      'Database %1 (%2): show what Claude will see',
                      name,
                      detail
                    )}
                    aria-label={trans.__(
                      'Database %1, %2: show details',
                      name,
                      detail
                    )}
                    onClick={() => showDatabaseDetails(databases, name, trans)}
                  >
                    <tableRowsIcon.react
                      tag="span"
                      elementSize="small"
                      className="jp-NbChat-chipIcon"
                    />
                    <span className="jp-NbChat-chipName">{name}</span>
                    <span className="jp-NbChat-chipDetail">{detail}</span>
                  </button>
                  <button
                    type="button"
                    className="jp-NbChat-chipRemove"
                    aria-label={trans.__('Remove database %1', name)}
                    title={trans.__(
                      'Stop using %1 in this chat (the connection stays on the server)',
                      name
                    )}
                    onClick={() => void databases.remove(name)}
                  >
                    <closeIcon.react tag="span" elementSize="small" />
                  </button>
                </span>
              </li>
            );
          })}
        </ul>
      )}
      {databases.error !== '' && (
        <div className="jp-NbChat-attachError" role="alert">
          <span className="jp-NbChat-plainText">{databases.error}</span>
        </div>
      )}
    </div>
  );
}

/** Let the person choose the chat's connections; applies the choice on OK. */
export async function chooseDatabases(
  databases: ChatDatabases,
  trans: TranslationBundle
): Promise<void> {
  const body = new DatabaseChooser(
    databases.available,
    databases.chosen,
    databases.notice,
    trans
  );
  const result = await showDialog({
    title: trans.__('Database connections'),
    body,
    buttons: [
      Dialog.cancelButton({ label: trans.__('Cancel') }),
      Dialog.okButton({ label: trans.__('Use') })
    ]
  });
  if (result.button.accept && result.value) {
    await databases.set(result.value);
  }
  body.dispose();
}

/** The dialog's body: a checkbox per connection, and what using one means. */
class DatabaseChooser
  extends ReactWidget
  implements Dialog.IBodyWidget<string[]>
{
  constructor(
    private readonly _available: IDatabaseInfo[],
    chosen: string[],
    private readonly _notice: string,
    private readonly _trans: TranslationBundle
  ) {
    super();
    this.addClass('jp-NbChat-databaseChooser');
    this._checked = new Set(
      chosen.filter(n => _available.some(d => d.name === n))
    );
  }

  getValue(): string[] {
    return this._available
      .map(d => d.name)
      .filter(name => this._checked.has(name));
  }

  protected render(): JSX.Element {
    const trans = this._trans;
    return (
      <div>
        <p className="jp-NbChat-muted">
          {trans.__(
            'Claude is told the tables, columns and exact row counts of the connections you choose; the code it writes queries them where they live.'
          )}
        </p>
        <ul
          className="jp-NbChat-databaseList"
          aria-label={trans.__('Connections on this server')}
        >
          {this._available.map(d => (
            <li key={d.name}>
              <label className="jp-NbChat-databaseOption">
                <input
                  type="checkbox"
                  checked={this._checked.has(d.name)}
                  onChange={event => {
                    if (event.target.checked) {
                      this._checked.add(d.name);
                    } else {
                      this._checked.delete(d.name);
                    }
                    this.update();
                  }}
                />
                <span className="jp-NbChat-databaseName">{d.name}</span>
                <span className="jp-NbChat-muted">
                  {dialectLabel(d.dialect)}
                </span>
                {d.description && (
                  <span className="jp-NbChat-databaseDescription">
                    {d.description}
                  </span>
                )}
              </label>
            </li>
          ))}
        </ul>
        {this._notice && (
          <p className="jp-NbChat-databaseNotice" role="note">
            {this._notice}
          </p>
        )}
      </div>
    );
  }

  private readonly _checked: Set<string>;
}

/** Open the details dialog of a chosen connection. */
function showDatabaseDetails(
  databases: ChatDatabases,
  name: string,
  trans: TranslationBundle
): void {
  const body = ReactWidget.create(
    <DatabaseDetailsView databases={databases} name={name} trans={trans} />
  );
  body.addClass('jp-NbChat-detailsBody');
  void showDialog({
    title: name,
    body,
    buttons: [Dialog.cancelButton({ label: trans.__('Close') })]
  }).then(() => body.dispose());
}

/** The schema Claude is told about, as the server read it just now. */
function DatabaseDetailsView(props: {
  databases: ChatDatabases;
  name: string;
  trans: TranslationBundle;
}): JSX.Element {
  const { databases, name, trans } = props;
  useSignalRefresh(databases.changed);
  const details = databases.details(name);
  return (
    <div className="jp-NbChat-details">
      {databases.notice && (
        <p className="jp-NbChat-databaseNotice" role="note">
          {databases.notice}
        </p>
      )}
      {details.kind === 'failed' ? (
        <div className="jp-NbChat-attachError" role="alert">
          <span className="jp-NbChat-plainText">{details.message}</span>
          <button
            type="button"
            className="jp-NbChat-button"
            onClick={() => databases.refresh(name)}
          >
            {trans.__('Try again')}
          </button>
        </div>
      ) : (
        <>
          <h3 className="jp-NbChat-detailsHeading">
            {trans.__('What Claude will see')}
          </h3>
          <pre
            className="jp-NbChat-prompt"
            tabIndex={0}
            aria-label={trans.__('What Claude will see')}
            aria-busy={details.kind === 'loading'}
          >
            {details.kind === 'loading'
              ? trans.__('Reading the schema…')
              : details.result.prompt}
          </pre>
        </>
      )}
    </div>
  );
}
