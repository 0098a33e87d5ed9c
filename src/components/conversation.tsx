/**
 * One notebook's chat in the sidebar: the conversation, the status line, the
 * question box with its attachments, and the footer.
 */

import type { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import type { TranslationBundle } from '@jupyterlab/translation';
import { closeIcon, folderIcon } from '@jupyterlab/ui-components';
import React, { useEffect, useRef, useState } from 'react';

import type { NotebookChat } from '../chat/chat';
import { isRunning } from '../chat/conversation';
import type { ICurrentChat, ServerState } from '../chat/registry';
import { runningOrdinal, statusText } from '../chat/status';
import { turnTotals } from '../notebook/record';
import { AttachArea } from './attachments';
import { IconButton } from './buttons';
import { useElapsedSeconds, useSignalRefresh } from './hooks';
import { chooseDatabases, DatabaseChips } from './databases';
import { attachIcon, databaseIcon } from './icons';
import { CodeHighlighter, MessageList } from './messages';
import { ChatFooter, FilesCreated, usageText, Variables } from './sections';
import { VerifySection } from './verify';

/** The panel's buttons that run a command of the plugins. */
export type PanelAction = 'newAnalysis' | 'download' | 'pickFiles';

/** What the panel's views render with, fixed for the panel's life. */
export interface IViewServices {
  trans: TranslationBundle;
  rendermime: IRenderMimeRegistry | null;
  /** Highlights finished code (JupyterLab's editor languages); null: plain text. */
  highlight: CodeHighlighter | null;
  /** The server's base URL (download links). */
  baseUrl: string;
  /** What a button runs; null while its command does not exist. */
  action(name: PanelAction): (() => void) | null;
  /** Saves the person's model setting (the choice among the allowed models). */
  setModel?: ((model: string) => void) | null;
}

/** What to do first; says whether cells wait for Run / Skip. */
function Hint(props: {
  chat: NotebookChat;
  name: string;
  trans: TranslationBundle;
}): JSX.Element {
  const { chat, name, trans } = props;
  return (
    <div className="jp-NbChat-hint">
      {chat.reviews
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

export function Conversation(props: {
  current: ICurrentChat;
  server: ServerState;
  services: IViewServices;
}): JSX.Element {
  const { current, server, services } = props;
  const { trans, rendermime, highlight, baseUrl } = services;
  const chat = current.chat;
  useSignalRefresh(chat.stateChanged);
  const state = chat.state;
  const [draft, setDraft] = useState(chat.draft);
  const fileInput = useRef<HTMLInputElement>(null);

  useEffect(() => {
    chat.draft = draft;
  }, [chat, draft]);

  const serverReady = server.kind === 'ready' && server.status.has_api_key;
  const running = isRunning(state);
  const canSend = serverReady && !chat.busy && draft.trim() !== '';
  const pickFiles = services.action('pickFiles');

  const send = async () => {
    if (!canSend) {
      return;
    }
    const about = chat.about;
    const accepted = await chat.send(
      draft,
      about ? { focus: { cell_id: about.cellId, action: 'ask' } } : {}
    );
    if (accepted) {
      setDraft('');
      chat.about = null;
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
      void chat.attachments.upload(files);
    }
  };

  const ordinal =
    running && state.turn!.phase === 'running' ? runningOrdinal(state) : 0;
  const seconds = useElapsedSeconds(
    ordinal > 0 ? `${state.turn!.turnId}:${ordinal}` : ''
  );
  const status = chat.sending
    ? trans.__('Sending…')
    : running
      ? statusText(state.turn!, trans, { ordinal, seconds })
      : '';

  return (
    <div className="jp-NbChat-conversation">
      {state.items.length === 0 ? (
        <Hint chat={chat} name={current.name} trans={trans} />
      ) : (
        <MessageList
          chat={chat}
          trans={trans}
          rendermime={rendermime}
          highlight={highlight}
          canRetry={serverReady && !chat.busy}
        />
      )}
      <VerifySection
        verification={chat.verification}
        reveal={cellId => void chat.reveal(cellId)}
        trans={trans}
      />
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
        runtime={chat.runtime}
        baseUrl={baseUrl}
        notebookPath={current.path}
        trans={trans}
      />
      <Variables runtime={chat.runtime} trans={trans} />
      <form
        className="jp-NbChat-input"
        onSubmit={event => {
          event.preventDefault();
          void send();
        }}
      >
        <AttachArea attachments={chat.attachments} trans={trans} />
        <DatabaseChips databases={chat.databases} trans={trans} />
        {chat.about && (
          <div className="jp-NbChat-about">
            <span className="jp-NbChat-aboutLabel">
              {trans.__('About %1', chat.about.label)}
            </span>
            <IconButton
              icon={closeIcon}
              label={trans.__('Not about %1', chat.about.label)}
              title={trans.__('Ask about the whole notebook instead')}
              onClick={() => (chat.about = null)}
            />
          </div>
        )}
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
            <IconButton
              icon={attachIcon}
              label={trans.__('Attach file')}
              title={trans.__('Attach files from your computer')}
              onClick={() => fileInput.current?.click()}
            />
            {pickFiles && (
              <IconButton
                icon={folderIcon}
                label={trans.__('Pick from workspace')}
                title={trans.__(
                  'Attach files that are already in the workspace'
                )}
                onClick={pickFiles}
              />
            )}
            {chat.databases.available.length > 0 && (
              <IconButton
                icon={databaseIcon}
                label={trans.__('Use a database')}
                title={trans.__(
                  "Query the server's database connections in this chat"
                )}
                onClick={() => void chooseDatabases(chat.databases, trans)}
              />
            )}
          </div>
          {running ? (
            <button
              type="button"
              className="jp-NbChat-button jp-mod-stop"
              onClick={() => void chat.cancel()}
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
        chat={chat}
        status={server.kind === 'ready' ? server.status : null}
        trans={trans}
        setModel={services.setModel ?? null}
      />
    </div>
  );
}
