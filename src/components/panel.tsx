/**
 * The chat sidebar: a ReactWidget showing the chat of the active notebook.
 */

import type { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import type { ServerConnection } from '@jupyterlab/services';
import type { TranslationBundle } from '@jupyterlab/translation';
import {
  addIcon,
  downloadIcon,
  folderIcon,
  ReactWidget
} from '@jupyterlab/ui-components';
import type { CommandRegistry } from '@lumino/commands';
import type { Drag } from '@lumino/dragdrop';
import type { Message } from '@lumino/messaging';
import { ISignal, Signal } from '@lumino/signaling';
import React, { useEffect, useRef, useState } from 'react';

import { AttachArea } from './attachments';
import type { ChatContext } from '../attachments/context';
import { useElapsedSeconds, useSignalRefresh } from './hooks';
import { attachIcon, chatIcon } from './icons';
import { turnTotals } from '../notebook/metadata';
import { CodeHighlighter, MessageList } from './messages';
import type { ChatModel } from '../chat/model';
import { isRunning, runningOrdinal, statusText } from '../chat/reducer';
import { ChatFooter, FilesCreated, usageText, Variables } from './sections';
import { CommandIDs } from '../tokens';
import type { IStatus } from '../api/types';

/** The drag mime of JupyterLab's file browser: a list of paths. */
export const CONTENTS_MIME = 'application/x-jupyter-icontents';

/** The DOM id of the sidebar (also used to activate it). */
export const PANEL_ID = 'jp-NbChat-panel';

/** The notebook the panel currently shows. */
export interface IPanelNotebook {
  /** Stable key (the notebook widget's id). */
  key: string;
  /** File name shown in the header. */
  name: string;
  /** Path relative to the server root. */
  path: string;
  model: ChatModel;
  context: ChatContext;
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
  /** Highlights finished code (JupyterLab's editor languages); none: plain text. */
  highlight?: CodeHighlighter | null;
  /** Runs the panel's buttons that are commands (New analysis …). */
  commands?: CommandRegistry | null;
  /** For download links of created files. */
  serverSettings?: ServerConnection.ISettings;
}

/** The Notebook Chat sidebar widget. */
export class ChatPanel extends ReactWidget {
  constructor(options: IChatPanelOptions) {
    super();
    this._services = {
      trans: options.trans,
      rendermime: options.rendermime,
      highlight: options.highlight ?? null,
      commands: options.commands ?? null,
      baseUrl: options.serverSettings?.baseUrl ?? '/'
    };
    this.id = PANEL_ID;
    this.addClass('jp-NbChat-panel');
    this.title.icon = chatIcon;
    this.title.caption = options.trans.__('Notebook Chat');
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

  /** Files are being dragged over the panel (drop-zone highlight). */
  get dropActive(): boolean {
    return this._dropActive;
  }

  /** Open the computer's file chooser to attach files to the shown chat. */
  chooseFiles(): void {
    this.node
      .querySelector<HTMLInputElement>('input.jp-NbChat-fileInput')
      ?.click();
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

  /** Drag and drop: files from the computer, or from the file browser. */
  handleEvent(event: Event): void {
    switch (event.type) {
      case 'dragenter':
      case 'dragover':
        this._onNativeDragOver(event as DragEvent);
        break;
      case 'dragleave':
        this._onNativeDragLeave(event as DragEvent);
        break;
      case 'drop':
        this._onNativeDrop(event as DragEvent);
        break;
      case 'lm-dragenter':
      case 'lm-dragover':
        this._onLuminoDragOver(event as Drag.Event);
        break;
      case 'lm-dragleave':
        this._onLuminoDragLeave(event as Drag.Event);
        break;
      case 'lm-drop':
        this._onLuminoDrop(event as Drag.Event);
        break;
      default:
        break;
    }
  }

  protected onAfterAttach(msg: Message): void {
    super.onAfterAttach(msg);
    for (const type of DROP_EVENTS) {
      this.node.addEventListener(type, this);
    }
  }

  protected onBeforeDetach(msg: Message): void {
    for (const type of DROP_EVENTS) {
      this.node.removeEventListener(type, this);
    }
    this._setDropActive(false);
    super.onBeforeDetach(msg);
  }

  protected render(): JSX.Element {
    return <PanelView panel={this} services={this._services} />;
  }

  private _onNativeDragOver(event: DragEvent): void {
    const types = event.dataTransfer?.types;
    if (!this._notebook || !types || !Array.from(types).includes('Files')) {
      return;
    }
    event.preventDefault();
    event.stopPropagation();
    event.dataTransfer!.dropEffect = 'copy';
    this._setDropActive(true);
  }

  private _onNativeDragLeave(event: DragEvent): void {
    const related = event.relatedTarget as Node | null;
    if (!related || !this.node.contains(related)) {
      this._setDropActive(false);
    }
  }

  private _onNativeDrop(event: DragEvent): void {
    const files = Array.from(event.dataTransfer?.files ?? []);
    this._setDropActive(false);
    if (!this._notebook || files.length === 0) {
      return;
    }
    event.preventDefault();
    event.stopPropagation();
    void this._notebook.context.uploadFiles(files);
  }

  private _onLuminoDragOver(event: Drag.Event): void {
    if (!this._notebook || !event.mimeData.hasData(CONTENTS_MIME)) {
      return;
    }
    event.preventDefault();
    event.stopPropagation();
    event.dropAction = event.proposedAction;
    this._setDropActive(true);
  }

  private _onLuminoDragLeave(event: Drag.Event): void {
    const related = event.relatedTarget as Node | null;
    if (!related || !this.node.contains(related)) {
      this._setDropActive(false);
    }
  }

  private _onLuminoDrop(event: Drag.Event): void {
    this._setDropActive(false);
    if (!this._notebook || !event.mimeData.hasData(CONTENTS_MIME)) {
      return;
    }
    event.preventDefault();
    event.stopPropagation();
    const paths = event.mimeData.getData(CONTENTS_MIME);
    // Nothing moves: the file stays where it is and is only attached.
    event.dropAction = 'none';
    if (Array.isArray(paths)) {
      void this._notebook.context.attachPaths(
        paths.filter((p): p is string => typeof p === 'string')
      );
    }
  }

  private _setDropActive(active: boolean): void {
    if (active !== this._dropActive) {
      this._dropActive = active;
      this.toggleClass('jp-mod-dropTarget', active);
      this._changed.emit();
    }
  }

  private readonly _services: IViewServices;
  private readonly _changed = new Signal<this, void>(this);
  private _notebook: IPanelNotebook | null = null;
  private _server: ServerState = { kind: 'loading' };
  private _dropActive = false;
}

/** DOM events the panel listens to for drag and drop. */
const DROP_EVENTS = [
  'dragenter',
  'dragover',
  'dragleave',
  'drop',
  'lm-dragenter',
  'lm-dragover',
  'lm-dragleave',
  'lm-drop'
];

/** What the panel's views render with, fixed for the panel's life. */
interface IViewServices {
  trans: TranslationBundle;
  rendermime: IRenderMimeRegistry | null;
  highlight: CodeHighlighter | null;
  commands: CommandRegistry | null;
  /** The server's base URL (download links). */
  baseUrl: string;
}

function PanelView(props: {
  panel: ChatPanel;
  services: IViewServices;
}): JSX.Element {
  const { panel, services } = props;
  const { trans, commands } = services;
  useSignalRefresh(panel.changed);
  const notebook = panel.notebook;
  const server = panel.server;
  const canRun = (id: string) => !!commands && commands.hasCommand(id);

  return (
    <div className="jp-NbChat-root">
      <header className="jp-NbChat-header">
        <div className="jp-NbChat-headerText">
          <h2 className="jp-NbChat-title">{trans.__('Notebook Chat')}</h2>
          {notebook && (
            <div className="jp-NbChat-notebookName" title={notebook.path}>
              {notebook.name}
            </div>
          )}
        </div>
        <div
          className="jp-NbChat-toolbar"
          role="group"
          aria-label={trans.__('Notebook Chat actions')}
        >
          {canRun(CommandIDs.newAnalysis) && (
            <button
              type="button"
              className="jp-NbChat-iconButton"
              aria-label={trans.__('New analysis')}
              title={trans.__(
                'New analysis: a new notebook in the file browser’s folder, with this chat'
              )}
              onClick={() => void commands!.execute(CommandIDs.newAnalysis)}
            >
              <addIcon.react tag="span" elementSize="normal" />
            </button>
          )}
          {notebook && canRun(CommandIDs.downloadNotebook) && (
            <button
              type="button"
              className="jp-NbChat-iconButton"
              aria-label={trans.__('Download notebook')}
              title={trans.__('Save and download %1', notebook.name)}
              onClick={() =>
                void commands!.execute(CommandIDs.downloadNotebook)
              }
            >
              <downloadIcon.react tag="span" elementSize="normal" />
            </button>
          )}
        </div>
      </header>
      <ServerNotice server={server} trans={trans} />
      {notebook ? (
        <Conversation
          key={notebook.key}
          notebook={notebook}
          server={server}
          services={services}
        />
      ) : (
        <div className="jp-NbChat-empty">
          <p>{trans.__('Open a notebook to start')}</p>
          {canRun(CommandIDs.newAnalysis) && (
            <button
              type="button"
              className="jp-NbChat-button jp-mod-accept"
              onClick={() => void commands!.execute(CommandIDs.newAnalysis)}
            >
              {trans.__('Start a new analysis')}
            </button>
          )}
        </div>
      )}
      {notebook && panel.dropActive && (
        <div className="jp-NbChat-dropOverlay" aria-hidden="true">
          <attachIcon.react tag="span" elementSize="large" />
          <span>{trans.__('Drop files to attach them to this chat')}</span>
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
        <p className="jp-NbChat-plainText">
          {trans.__(
            'Check that `jupyter server extension list` shows jupyter_nbchat enabled and OK, restart JupyterLab if it does not, then reload this page.'
          )}
        </p>
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

/** What to do first; says whether cells wait for Run / Skip. */
function Hint(props: {
  model: ChatModel;
  context: ChatContext;
  name: string;
  trans: TranslationBundle;
}): JSX.Element {
  const { model, context, name, trans } = props;
  // The chat's executor decides whether cells are reviewed.
  useSignalRefresh(context.changed);
  return (
    <div className="jp-NbChat-hint">
      {model.reviews
        ? trans.__(
            'Attach data files and ask a question about them. Claude writes code cells into %1; each one waits for you to run or skip it.',
            name
          )
        : trans.__(
            'Attach data files and ask a question about them. Claude writes code cells into %1 and runs them.',
            name
          )}
    </div>
  );
}

function Conversation(props: {
  notebook: IPanelNotebook;
  server: ServerState;
  services: IViewServices;
}): JSX.Element {
  const { notebook, server } = props;
  const { trans, rendermime, highlight, commands, baseUrl } = props.services;
  const model = notebook.model;
  const context = notebook.context;
  useSignalRefresh(model.stateChanged);
  const state = model.state;
  const [draft, setDraft] = useState(model.draft);
  const fileInput = useRef<HTMLInputElement>(null);

  useEffect(() => {
    model.draft = draft;
  }, [model, draft]);

  const serverReady = server.kind === 'ready' && server.status.has_api_key;
  const running = isRunning(state);
  const canSend = serverReady && !model.busy && draft.trim() !== '';
  const canPick =
    !!commands && commands.hasCommand(CommandIDs.attachFromWorkspace);

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

  const onFilesChosen = (event: React.ChangeEvent<HTMLInputElement>) => {
    const files = Array.from(event.target.files ?? []);
    // Choosing the same file again must fire `change` again.
    event.target.value = '';
    if (files.length > 0) {
      void context.uploadFiles(files);
    }
  };

  const ordinal =
    running && state.turn!.phase === 'running' ? runningOrdinal(state) : 0;
  const seconds = useElapsedSeconds(
    ordinal > 0 ? `${state.turn!.turnId}:${ordinal}` : ''
  );
  const status = model.sending
    ? trans.__('Sending…')
    : running
      ? statusText(state.turn!, trans, { ordinal, seconds })
      : '';

  return (
    <div className="jp-NbChat-conversation">
      {state.items.length === 0 ? (
        <Hint
          model={model}
          context={context}
          name={notebook.name}
          trans={trans}
        />
      ) : (
        <MessageList
          items={state.items}
          trans={trans}
          rendermime={rendermime}
          highlight={highlight}
          canRetry={serverReady && !model.busy}
          onRetry={retry => void model.retry(retry)}
          review={{
            decide: (toolUseId, decision) =>
              void model.review(toolUseId, decision),
            reveal: cellId => void model.reveal(cellId)
          }}
          onReveal={cellId => void model.reveal(cellId)}
        />
      )}
      <div className="jp-NbChat-status" role="status" aria-live="polite">
        {status}
      </div>
      {state.turn?.usage && (
        <div className="jp-NbChat-usage">
          {trans.__(
            'This question: %1',
            usageText(turnTotals(state.turn.usage), trans)
          )}
        </div>
      )}
      <FilesCreated
        context={context}
        baseUrl={baseUrl}
        notebookPath={notebook.path}
        trans={trans}
      />
      <Variables context={context} trans={trans} />
      <form
        className="jp-NbChat-input"
        onSubmit={event => {
          event.preventDefault();
          void send();
        }}
      >
        <AttachArea context={context} trans={trans} />
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
          <div className="jp-NbChat-attachButtons">
            <input
              ref={fileInput}
              className="jp-NbChat-fileInput"
              type="file"
              multiple
              hidden
              tabIndex={-1}
              onChange={onFilesChosen}
            />
            <button
              type="button"
              className="jp-NbChat-iconButton"
              aria-label={trans.__('Attach file')}
              title={trans.__('Attach files from your computer')}
              onClick={() => fileInput.current?.click()}
            >
              <attachIcon.react tag="span" elementSize="normal" />
            </button>
            {canPick && (
              <button
                type="button"
                className="jp-NbChat-iconButton"
                aria-label={trans.__('Pick from workspace')}
                title={trans.__(
                  'Attach files that are already in the workspace'
                )}
                onClick={() =>
                  void commands!.execute(CommandIDs.attachFromWorkspace)
                }
              >
                <folderIcon.react tag="span" elementSize="normal" />
              </button>
            )}
          </div>
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
      <ChatFooter
        context={context}
        model={model}
        status={server.kind === 'ready' ? server.status : null}
        trans={trans}
      />
    </div>
  );
}
