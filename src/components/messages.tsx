/**
 * The messages list: the turns of the conversation, one component per kind
 * of chat item, and under each finished turn what it changed and its Undo.
 */

import type { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import type { TranslationBundle } from '@jupyterlab/translation';
import { infoIcon } from '@jupyterlab/ui-components';
import React, { useEffect, useRef } from 'react';

import type { NotebookChat } from '../chat/chat';
import {
  ChatItem,
  ICellItem,
  ICodeItem,
  INoticeItem,
  isRunning
} from '../chat/conversation';
import { linkCellReferences } from './cellrefs';
import { ImageView, MarkdownView } from './markdown';
import { markUnverified } from './numbers';
import { TurnFooter } from './turn';

/** Writes `code` into `el` with syntax highlighting (Python). */
export type CodeHighlighter = (code: string, el: HTMLElement) => Promise<void>;

/** Props of MessageList. */
export interface IMessageListProps {
  chat: NotebookChat;
  trans: TranslationBundle;
  rendermime: IRenderMimeRegistry | null;
  /** Whether a Retry may be sent now (no turn runs, the server is ready). */
  canRetry: boolean;
  /** Highlights code once Claude has finished writing it. */
  highlight: CodeHighlighter | null;
}

/**
 * The notebook cell an answer of turn `turnId` means by "Cell [count]": that
 * turn's cell with the execution count, else the latest such cell of the chat.
 */
export function cellForReference(
  items: readonly ChatItem[],
  turnId: string | null,
  count: number
): string | null {
  let fallback: string | null = null;
  for (let i = items.length - 1; i >= 0; i--) {
    const item = items[i];
    if (
      item.kind !== 'cell' ||
      item.replaced ||
      item.executionCount !== count
    ) {
      continue;
    }
    if (item.turnId === turnId) {
      return item.cellId;
    }
    fallback = fallback ?? item.cellId;
  }
  return fallback;
}

/** Every item of the conversation, newest last, kept scrolled to the bottom. */
export function MessageList(props: IMessageListProps): JSX.Element {
  const { chat, trans, rendermime, canRetry, highlight } = props;
  const items = chat.state.items;
  const list = useRef<HTMLDivElement>(null);
  // Read at click time: the cells may change after an answer rendered.
  const itemsRef = useRef(items);
  itemsRef.current = items;
  const findCell = (turnId: string | null, count: number) =>
    cellForReference(itemsRef.current, turnId, count);
  const pinned = useRef(true);

  const inner = useRef<HTMLDivElement>(null);
  /** Where the list last scrolled itself (its scroll events are not the person's). */
  const autoTop = useRef(-1);

  const toBottom = (node: HTMLDivElement) => {
    node.scrollTop = node.scrollHeight;
    autoTop.current = node.scrollTop;
  };

  useEffect(() => {
    const node = list.current;
    if (node && pinned.current) {
      toBottom(node);
    }
  }, [items]);

  // Markdown renders after the item appears, and the panel's lower part
  // grows (chips, sections): stay at the bottom through both.
  useEffect(() => {
    const node = list.current;
    if (!node || !inner.current || typeof ResizeObserver === 'undefined') {
      return;
    }
    const observer = new ResizeObserver(() => {
      if (pinned.current) {
        toBottom(node);
      }
    });
    observer.observe(node);
    observer.observe(inner.current);
    return () => observer.disconnect();
  }, []);

  const onScroll = () => {
    const node = list.current;
    if (node && node.scrollTop !== autoTop.current) {
      pinned.current =
        node.scrollHeight - node.scrollTop - node.clientHeight < 24;
    }
  };

  return (
    <div
      className="jp-NbChat-messages"
      ref={list}
      onScroll={onScroll}
      role="log"
      aria-label={trans.__('Conversation')}
    >
      <div ref={inner}>
        {turnGroups(chat).map(group => {
          const messages = group.items.map(item => (
            <Message
              key={item.key}
              item={item}
              chat={chat}
              trans={trans}
              rendermime={rendermime}
              canRetry={canRetry}
              findCell={findCell}
              highlight={highlight}
            />
          ));
          return group.turnId === null ? (
            messages
          ) : (
            <section
              key={group.key}
              className="jp-NbChat-turn"
              data-turn-id={group.turnId}
              aria-label={trans.__('Turn')}
            >
              {messages}
              {group.finished && (
                <TurnFooter chat={chat} turnId={group.turnId} trans={trans} />
              )}
            </section>
          );
        })}
      </div>
    </div>
  );
}

/** Items in a row of the same turn, and whether that turn is over. */
interface ITurnGroup {
  key: string;
  turnId: string | null;
  items: ChatItem[];
  /** The turn's last group once it finished: it gets the turn's footer. */
  finished: boolean;
}

/** The conversation's items grouped by turn, in order. */
function turnGroups(chat: NotebookChat): ITurnGroup[] {
  const state = chat.state;
  const groups: ITurnGroup[] = [];
  for (const item of state.items) {
    const last = groups[groups.length - 1];
    if (last && last.turnId === item.turnId) {
      last.items.push(item);
    } else {
      groups.push({
        key: `group:${item.key}`,
        turnId: item.turnId,
        items: [item],
        finished: false
      });
    }
  }
  const running = isRunning(state) ? state.turn!.turnId : null;
  const footed = new Set<string>();
  for (let i = groups.length - 1; i >= 0; i--) {
    const turnId = groups[i].turnId;
    if (turnId !== null && turnId !== running && !footed.has(turnId)) {
      footed.add(turnId);
      groups[i].finished = true;
    }
  }
  return groups;
}

function Message(props: {
  item: ChatItem;
  chat: NotebookChat;
  trans: TranslationBundle;
  rendermime: IRenderMimeRegistry | null;
  canRetry: boolean;
  /** The cell an answer of `turnId` means by "Cell [count]", if any. */
  findCell: (turnId: string | null, count: number) => string | null;
  highlight: CodeHighlighter | null;
}): JSX.Element {
  const { item, chat, trans, rendermime, canRetry, findCell } = props;
  const onReveal = (cellId: string) => void chat.reveal(cellId);
  switch (item.kind) {
    case 'question':
      return (
        <div className="jp-NbChat-message jp-NbChat-question">
          <div className="jp-NbChat-plainText">{item.text}</div>
        </div>
      );
    case 'text':
      return item.thinking ? (
        <div
          className="jp-NbChat-message jp-NbChat-thinking"
          aria-label={trans.__('Claude’s notes while it works')}
        >
          <div className="jp-NbChat-plainText">{item.text}</div>
        </div>
      ) : (
        <div className="jp-NbChat-message jp-NbChat-text">
          <div className="jp-NbChat-plainText">{item.text}</div>
        </div>
      );
    case 'code':
      return (
        <CodeMessage
          item={item}
          chat={chat}
          trans={trans}
          highlight={props.highlight}
        />
      );
    case 'cell':
      return (
        <CellMessage
          item={item}
          trans={trans}
          onReveal={onReveal}
          rendermime={rendermime}
        />
      );
    case 'answer':
      return (
        <div className="jp-NbChat-message jp-NbChat-answer">
          <MarkdownView
            className="jp-NbChat-markdown"
            text={item.text}
            rendermime={rendermime}
            decorate={node => {
              linkCellReferences(
                node,
                count => findCell(item.turnId, count) !== null,
                count => {
                  const cellId = findCell(item.turnId, count);
                  if (cellId) {
                    onReveal(cellId);
                  }
                },
                count => trans.__('Show cell [%1] in the notebook', count)
              );
              markUnverified(node, item.unverified ?? [], number =>
                number.reason === 'not_in_cell' &&
                typeof number.cell === 'number'
                  ? trans.__('Not found in Cell [%1]’s outputs', number.cell)
                  : trans.__('Not found in the cells’ outputs')
              );
            }}
          />
          {!!item.unverifiedCount && (
            <div className="jp-NbChat-unverifiedNote">
              {trans._n(
                '%1 number could not be checked against the outputs',
                '%1 numbers could not be checked against the outputs',
                item.unverifiedCount
              )}
            </div>
          )}
        </div>
      );
    case 'error':
      return (
        <div className="jp-NbChat-message jp-NbChat-error" role="alert">
          <div className="jp-NbChat-plainText">{item.message}</div>
          {item.retry && (
            <div className="jp-NbChat-errorActions">
              <button
                type="button"
                className="jp-NbChat-button jp-mod-retry"
                disabled={!canRetry}
                title={trans.__('Ask “%1” again', item.retry.question)}
                onClick={() => void chat.retry(item.retry!)}
              >
                {trans.__('Retry')}
              </button>
            </div>
          )}
        </div>
      );
    case 'notice':
      return <NoticeMessage item={item} chat={chat} trans={trans} />;
    case 'stopped':
      return (
        <div className="jp-NbChat-message jp-NbChat-stopped">
          {trans.__('Stopped.')}
        </div>
      );
  }
}

/**
 * Code as plain text while it streams in (re-highlighting each delta would
 * cost more than it shows), highlighted once it is complete.
 */
function CodeBlock(props: {
  code: string;
  highlight: CodeHighlighter | null;
}): JSX.Element {
  const { code, highlight } = props;
  const host = useRef<HTMLElement>(null);
  useEffect(() => {
    const node = host.current;
    if (!node || !highlight) {
      return;
    }
    node.textContent = code;
    let live = true;
    const target = document.createElement('code');
    highlight(code, target)
      .then(() => {
        if (live) {
          node.replaceChildren(...Array.from(target.childNodes));
        }
      })
      .catch(() => {
        // Plain text stays.
      });
    return () => {
      live = false;
    };
  }, [code, highlight]);
  return (
    <pre className="jp-NbChat-codeBlock">
      {highlight ? (
        <code key="highlighted" ref={host} className="jp-NbChat-highlighted" />
      ) : (
        <code key="plain">{code}</code>
      )}
    </pre>
  );
}

/** Something to tell; after an undo, it offers to restart and re-run. */
function NoticeMessage(props: {
  item: INoticeItem;
  chat: NotebookChat;
  trans: TranslationBundle;
}): JSX.Element {
  const { item, chat, trans } = props;
  return (
    <div
      className={`jp-NbChat-message ${item.warn ? 'jp-NbChat-notice' : 'jp-NbChat-info'}`}
      role="note"
    >
      <infoIcon.react tag="span" elementSize="small" />
      <div className="jp-NbChat-infoBody">
        <span className="jp-NbChat-plainText">{item.text}</span>
        {item.action === 'rerun' && (
          <div className="jp-NbChat-noticeActions">
            <button
              type="button"
              className="jp-NbChat-button jp-mod-retry"
              disabled={chat.busy || chat.runtime.state.restarting}
              title={trans.__(
                'Restart where the cells ran and run the cells left in the notebook'
              )}
              onClick={() => void chat.rerun(item.key)}
            >
              {trans.__('Restart and run remaining cells')}
            </button>
          </div>
        )}
      </div>
    </div>
  );
}

function CodeMessage(props: {
  item: ICodeItem;
  chat: NotebookChat;
  trans: TranslationBundle;
  highlight: CodeHighlighter | null;
}): JSX.Element {
  const { item, chat, trans } = props;
  const highlight = item.state === 'writing' ? null : props.highlight;
  const proposal = item.proposal;
  const waiting = item.state === 'proposed' && !!proposal;
  const label = codeLabel(item, trans);
  return (
    <div
      className={`jp-NbChat-message jp-NbChat-code jp-mod-${item.state}`}
      aria-busy={item.state === 'writing' || item.state === 'running'}
      data-tool-use-id={item.toolUseId}
    >
      <div className="jp-NbChat-itemLabel">{label}</div>
      <CodeBlock code={item.code} highlight={highlight} />
      {waiting && (
        <div
          className="jp-NbChat-review"
          role="group"
          aria-label={trans.__('Review the proposed cell')}
        >
          <p className="jp-NbChat-reviewHint">
            {trans.__(
              'This cell is in the notebook but has not run. Edit it there if you like: Run uses the cell as it is in the notebook.'
            )}
          </p>
          <div className="jp-NbChat-reviewActions">
            <button
              type="button"
              className="jp-NbChat-button jp-mod-accept"
              disabled={proposal.decision !== null}
              title={trans.__('Run the cell as it is in the notebook')}
              onClick={() => void chat.review(item.toolUseId, 'run')}
            >
              {trans.__('Run')}
            </button>
            <button
              type="button"
              className="jp-NbChat-button"
              disabled={proposal.decision !== null}
              title={trans.__(
                'Do not run this cell; it is removed from the notebook'
              )}
              onClick={() => void chat.review(item.toolUseId, 'skip')}
            >
              {trans.__('Skip')}
            </button>
            <button
              type="button"
              className="jp-NbChat-linkButton"
              onClick={() => void chat.reveal(proposal.cellId)}
            >
              {trans.__('Show in notebook')}
            </button>
          </div>
        </div>
      )}
    </div>
  );
}

/** The label above a code item. */
function codeLabel(item: ICodeItem, trans: TranslationBundle): string {
  switch (item.state) {
    case 'writing':
      return trans.__('Writing code');
    case 'proposed':
      if (item.proposal?.decision === 'run') {
        return trans.__('Starting…');
      }
      if (item.proposal?.decision === 'skip') {
        return trans.__('Skipping…');
      }
      return trans.__('Proposed cell: not run yet');
    case 'running':
      return trans.__('Running');
    case 'skipped':
      return trans.__('Skipped: not run');
    default:
      return trans.__('Code');
  }
}

function CellMessage(props: {
  item: ICellItem;
  trans: TranslationBundle;
  onReveal?: (cellId: string) => void;
  rendermime: IRenderMimeRegistry | null;
}): JSX.Element {
  const { item, trans, onReveal, rendermime } = props;
  const count =
    item.executionCount === null ? ' ' : String(item.executionCount);
  const label = item.replaced
    ? trans.__('Cell [%1] failed and was replaced by a fix', count)
    : item.failed
      ? trans.__('Cell [%1] failed', count)
      : item.replaces
        ? trans.__('Fixed cell [%1] executed', count)
        : trans.__('Cell [%1] executed', count);
  const classes = ['jp-NbChat-message', 'jp-NbChat-cell'];
  if (item.failed) {
    classes.push('jp-mod-failed');
  }
  if (item.replaced) {
    classes.push('jp-mod-replaced');
  }
  return (
    <div className={classes.join(' ')} data-cell-id={item.cellId}>
      {onReveal && !item.replaced ? (
        <button
          type="button"
          className="jp-NbChat-itemLabel jp-NbChat-linkButton"
          title={trans.__('Show this cell in the notebook')}
          onClick={() => onReveal(item.cellId)}
        >
          {label}
        </button>
      ) : (
        <div className="jp-NbChat-itemLabel">{label}</div>
      )}
      {item.preview !== '' && (
        <pre className="jp-NbChat-outputPreview">{item.preview}</pre>
      )}
      {item.image && !item.replaced && (
        <ImageView
          mime={item.image.mime}
          data={item.image.data}
          rendermime={rendermime}
          label={trans.__('Plot from cell [%1]', count)}
        />
      )}
    </div>
  );
}
