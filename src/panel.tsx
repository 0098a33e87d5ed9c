/**
 * The chat sidebar: a ReactWidget showing the chat of the active notebook.
 */

import type { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import type { TranslationBundle } from '@jupyterlab/translation';
import { ReactWidget } from '@jupyterlab/ui-components';
import { ISignal, Signal } from '@lumino/signaling';
import React, { useEffect, useState } from 'react';

import { useSignalRefresh } from './hooks';
import { chatIcon } from './icons';
import { MessageList } from './messages';
import type { ChatModel } from './model';
import { isRunning, statusText } from './reducer';
import type { IStatus, IUsageEvent } from './types';

/** The DOM id of the sidebar (also used to activate it). */
export const PANEL_ID = 'jp-NbChat-panel';

/** The notebook the panel currently shows. */
export interface IPanelNotebook {
  /** Stable key (the notebook widget's id). */
  key: string;
  /** File name shown in the header. */
  name: string;
  model: ChatModel;
}

/** What the panel knows about the server extension. */
export type ServerState =
  | { kind: 'loading' }
  | { kind: 'ready'; status: IStatus }
  | { kind: 'unreachable'; message: string };

/** Construction options of ChatPanel. */
export interface IChatPanelOptions {
  trans: TranslationBundle;
  rendermime: IRenderMimeRegistry | null;
}

/** The Notebook Chat sidebar widget. */
export class ChatPanel extends ReactWidget {
  constructor(options: IChatPanelOptions) {
    super();
    this._trans = options.trans;
    this._rendermime = options.rendermime;
    this.id = PANEL_ID;
    this.addClass('jp-NbChat-panel');
    this.title.icon = chatIcon;
    this.title.caption = this._trans.__('Notebook Chat');
  }

  /** Emitted when the notebook or the server state changes. */
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  /** The notebook shown, or null when none is active. */
  get notebook(): IPanelNotebook | null {
    return this._notebook;
  }

  set notebook(notebook: IPanelNotebook | null) {
    this._notebook = notebook;
    this._changed.emit();
  }

  get server(): ServerState {
    return this._server;
  }

  set server(server: ServerState) {
    this._server = server;
    this._changed.emit();
  }

  /** Put the keyboard focus in the question box (once it is rendered). */
  focusInput(): void {
    const focus = (triesLeft: number) => {
      const box = this.node.querySelector<HTMLTextAreaElement>(
        'textarea.jp-NbChat-inputBox'
      );
      if (box) {
        box.focus();
      } else if (triesLeft > 0) {
        requestAnimationFrame(() => focus(triesLeft - 1));
      }
    };
    focus(20);
  }

  dispose(): void {
    Signal.clearData(this);
    super.dispose();
  }

  protected render(): JSX.Element {
    return (
      <PanelView
        panel={this}
        trans={this._trans}
        rendermime={this._rendermime}
      />
    );
  }

  private readonly _trans: TranslationBundle;
  private readonly _rendermime: IRenderMimeRegistry | null;
  private readonly _changed = new Signal<this, void>(this);
  private _notebook: IPanelNotebook | null = null;
  private _server: ServerState = { kind: 'loading' };
}

function PanelView(props: {
  panel: ChatPanel;
  trans: TranslationBundle;
  rendermime: IRenderMimeRegistry | null;
}): JSX.Element {
  const { panel, trans, rendermime } = props;
  useSignalRefresh(panel.changed);
  const notebook = panel.notebook;
  const server = panel.server;

  return (
    <div className="jp-NbChat-root">
      <header className="jp-NbChat-header">
        <h2 className="jp-NbChat-title">{trans.__('Notebook Chat')}</h2>
        {notebook && (
          <div className="jp-NbChat-notebookName" title={notebook.name}>
            {notebook.name}
          </div>
        )}
      </header>
      <ServerNotice server={server} trans={trans} />
      {notebook ? (
        <Conversation
          key={notebook.key}
          notebook={notebook}
          server={server}
          trans={trans}
          rendermime={rendermime}
        />
      ) : (
        <div className="jp-NbChat-empty">
          {trans.__('Open a notebook to start')}
        </div>
      )}
    </div>
  );
}

/** Explains why asking is impossible: no API key, or no server extension. */
function ServerNotice(props: {
  server: ServerState;
  trans: TranslationBundle;
}): JSX.Element | null {
  const { server, trans } = props;
  if (server.kind === 'unreachable') {
    return (
      <div className="jp-NbChat-notice" role="alert">
        <p className="jp-NbChat-noticeTitle">
          {trans.__('The Notebook Chat server extension did not answer.')}
        </p>
        <p className="jp-NbChat-plainText">{server.message}</p>
      </div>
    );
  }
  if (server.kind === 'ready' && !server.status.has_api_key) {
    return (
      <div className="jp-NbChat-notice" role="alert">
        <p className="jp-NbChat-noticeTitle">{trans.__('API key needed')}</p>
        <p className="jp-NbChat-plainText">{server.status.api_key_help}</p>
      </div>
    );
  }
  return null;
}

function Conversation(props: {
  notebook: IPanelNotebook;
  server: ServerState;
  trans: TranslationBundle;
  rendermime: IRenderMimeRegistry | null;
}): JSX.Element {
  const { notebook, server, trans, rendermime } = props;
  const model = notebook.model;
  useSignalRefresh(model.stateChanged);
  const state = model.state;
  const [draft, setDraft] = useState(model.draft);

  useEffect(() => {
    model.draft = draft;
  }, [model, draft]);

  const serverReady = server.kind === 'ready' && server.status.has_api_key;
  const running = isRunning(state);
  const canSend = serverReady && !model.busy && draft.trim() !== '';

  const send = async () => {
    if (!canSend) {
      return;
    }
    const accepted = await model.send(draft);
    if (accepted) {
      setDraft('');
    }
  };

  const onKeyDown = (event: React.KeyboardEvent<HTMLTextAreaElement>) => {
    if (
      event.key === 'Enter' &&
      !event.shiftKey &&
      !event.nativeEvent.isComposing
    ) {
      event.preventDefault();
      void send();
    }
  };

  const status = model.sending
    ? trans.__('Sending…')
    : running
      ? statusText(state.turn!, trans)
      : '';

  return (
    <div className="jp-NbChat-conversation">
      {state.items.length === 0 ? (
        <div className="jp-NbChat-hint">
          {trans.__(
            'Ask a question about your data. Claude writes code cells into %1 and runs them in its kernel.',
            notebook.name
          )}
        </div>
      ) : (
        <MessageList
          items={state.items}
          trans={trans}
          rendermime={rendermime}
        />
      )}
      <div className="jp-NbChat-status" role="status" aria-live="polite">
        {status}
      </div>
      {state.turn?.usage && (
        <div className="jp-NbChat-usage">
          {usageText(state.turn.usage, trans)}
        </div>
      )}
      <form
        className="jp-NbChat-input"
        onSubmit={event => {
          event.preventDefault();
          void send();
        }}
      >
        <textarea
          className="jp-NbChat-inputBox"
          aria-label={trans.__('Ask about your data')}
          placeholder={trans.__(
            'Ask about your data (Enter to send, Shift+Enter for a new line)'
          )}
          rows={3}
          value={draft}
          onChange={event => setDraft(event.target.value)}
          onKeyDown={onKeyDown}
        />
        <div className="jp-NbChat-actions">
          {running ? (
            <button
              type="button"
              className="jp-NbChat-button jp-mod-stop"
              onClick={() => void model.cancel()}
            >
              {trans.__('Stop')}
            </button>
          ) : (
            <button
              type="submit"
              className="jp-NbChat-button jp-mod-accept"
              disabled={!canSend}
            >
              {trans.__('Send')}
            </button>
          )}
        </div>
      </form>
    </div>
  );
}

/** "1,234 tokens in, 56 out · about $0.0123" for a turn's usage. */
function usageText(usage: IUsageEvent, trans: TranslationBundle): string {
  const tokensIn =
    usage.input_tokens +
    usage.cache_read_input_tokens +
    usage.cache_creation_input_tokens;
  const tokens = trans.__(
    '%1 tokens in, %2 out',
    tokensIn.toLocaleString(),
    usage.output_tokens.toLocaleString()
  );
  if (typeof usage.cost_usd !== 'number') {
    return tokens;
  }
  const cost = trans.__('about $%1', usage.cost_usd.toFixed(4));
  return `${tokens} · ${cost}`;
}
