/**
 * The chat sidebar: a ReactWidget showing the chat of the active notebook.
 */

import type { TranslationBundle } from '@jupyterlab/translation';
import { addIcon, downloadIcon, ReactWidget } from '@jupyterlab/ui-components';
import type { Drag } from '@lumino/dragdrop';
import type { Message } from '@lumino/messaging';
import React from 'react';

import type { NotebookChats, ServerState } from '../chat/registry';
import type { INbChatPanel } from '../tokens';
import { IconButton } from './buttons';
import { Conversation, IViewServices } from './conversation';
import { useSignalRefresh } from './hooks';
import { attachIcon, chatIcon } from './icons';

/** The drag mime of JupyterLab's file browser: a list of paths. */
const CONTENTS_MIME = 'application/x-jupyter-icontents';

/** The DOM id of the sidebar (also used to activate it). */
const PANEL_ID = 'jp-NbChat-panel';

/** Construction options of ChatPanel. */
export interface IChatPanelOptions {
  /** The chats; the panel shows the current one. */
  chats: NotebookChats;
  services: IViewServices;
}

/** The Notebook Chat sidebar widget. */
export class ChatPanel extends ReactWidget implements INbChatPanel {
  constructor(options: IChatPanelOptions) {
    super();
    this._chats = options.chats;
    this._services = options.services;
    this.id = PANEL_ID;
    this.addClass('jp-NbChat-panel');
    this.title.icon = chatIcon;
    this.title.caption = options.services.trans.__('Notebook Chat');
  }

  /** Files are being dragged over the panel (drop-zone highlight). */
  get dropActive(): boolean {
    return this._dropActive;
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

  /** Drag and drop: files from the computer, or from the file browser. */
  handleEvent(event: Event): void {
    switch (event.type) {
      case 'dragenter':
      case 'dragover':
        this._onNativeDragOver(event as DragEvent);
        break;
      case 'dragleave':
      case 'lm-dragleave':
        this._onDragLeave(event as DragEvent);
        break;
      case 'drop':
        this._onNativeDrop(event as DragEvent);
        break;
      case 'lm-dragenter':
      case 'lm-dragover':
        this._onLuminoDragOver(event as Drag.Event);
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
    return (
      <PanelView panel={this} chats={this._chats} services={this._services} />
    );
  }

  private _onNativeDragOver(event: DragEvent): void {
    const types = event.dataTransfer?.types;
    if (
      !this._chats.current ||
      !types ||
      !Array.from(types).includes('Files')
    ) {
      return;
    }
    event.preventDefault();
    event.stopPropagation();
    event.dataTransfer!.dropEffect = 'copy';
    this._setDropActive(true);
  }

  private _onDragLeave(event: DragEvent | Drag.Event): void {
    const related = event.relatedTarget as Node | null;
    if (!related || !this.node.contains(related)) {
      this._setDropActive(false);
    }
  }

  private _onNativeDrop(event: DragEvent): void {
    const files = Array.from(event.dataTransfer?.files ?? []);
    this._setDropActive(false);
    const current = this._chats.current;
    if (!current || files.length === 0) {
      return;
    }
    event.preventDefault();
    event.stopPropagation();
    void current.chat.attachments.upload(files);
  }

  private _onLuminoDragOver(event: Drag.Event): void {
    if (!this._chats.current || !event.mimeData.hasData(CONTENTS_MIME)) {
      return;
    }
    event.preventDefault();
    event.stopPropagation();
    event.dropAction = event.proposedAction;
    this._setDropActive(true);
  }

  private _onLuminoDrop(event: Drag.Event): void {
    this._setDropActive(false);
    const current = this._chats.current;
    if (!current || !event.mimeData.hasData(CONTENTS_MIME)) {
      return;
    }
    event.preventDefault();
    event.stopPropagation();
    const paths = event.mimeData.getData(CONTENTS_MIME);
    // Nothing moves: the file stays where it is and is only attached.
    event.dropAction = 'none';
    if (Array.isArray(paths)) {
      void current.chat.attachments.attach(
        paths.filter((p): p is string => typeof p === 'string')
      );
    }
  }

  private _setDropActive(active: boolean): void {
    if (active !== this._dropActive) {
      this._dropActive = active;
      this.toggleClass('jp-mod-dropTarget', active);
      this.update();
    }
  }

  private readonly _chats: NotebookChats;
  private readonly _services: IViewServices;
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

function PanelView(props: {
  panel: ChatPanel;
  chats: NotebookChats;
  services: IViewServices;
}): JSX.Element {
  const { panel, chats, services } = props;
  const { trans } = services;
  useSignalRefresh(chats.changed);
  const newAnalysis = services.action('newAnalysis');
  const download = services.action('download');
  const current = chats.current;
  const server = chats.server;

  return (
    <div className="jp-NbChat-root">
      <header className="jp-NbChat-header">
        <div className="jp-NbChat-headerText">
          <h2 className="jp-NbChat-title">{trans.__('Notebook Chat')}</h2>
          {current && (
            <div className="jp-NbChat-notebookName" title={current.path}>
              {current.name}
            </div>
          )}
        </div>
        <div
          className="jp-NbChat-toolbar"
          role="group"
          aria-label={trans.__('Notebook Chat actions')}
        >
          {newAnalysis && (
            <IconButton
              icon={addIcon}
              label={trans.__('New analysis')}
              title={trans.__(
                'New analysis: a new notebook in the file browser’s folder, with this chat'
              )}
              onClick={newAnalysis}
            />
          )}
          {current && download && (
            <IconButton
              icon={downloadIcon}
              label={trans.__('Download notebook')}
              title={trans.__('Save and download %1', current.name)}
              onClick={download}
            />
          )}
        </div>
      </header>
      <ServerNotice server={server} trans={trans} />
      {current ? (
        <Conversation
          key={current.key}
          current={current}
          server={server}
          services={services}
        />
      ) : (
        <div className="jp-NbChat-empty">
          <p>{trans.__('Open a notebook to start')}</p>
          {newAnalysis && (
            <button
              type="button"
              className="jp-NbChat-button jp-mod-accept"
              onClick={newAnalysis}
            >
              {trans.__('Start a new analysis')}
            </button>
          )}
        </div>
      )}
      {current && panel.dropActive && (
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
