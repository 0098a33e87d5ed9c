/**
 * What the plugins share: interfaces and their tokens only.
 */

import type { NotebookPanel } from '@jupyterlab/notebook';
import { Token } from '@lumino/coreutils';
import type { Widget } from '@lumino/widgets';

/** The chat sidebar. */
export interface INbChatPanel extends Widget {
  /** Put the keyboard focus in the question box (once it is rendered). */
  focusInput(): void;
}

/** The chat of one notebook, as other plugins use it. */
export interface INbChat {
  readonly attachments: {
    /** Attach files under the server root; false when the server refused. */
    attach(paths: readonly string[]): Promise<boolean>;
  };
  /** Whether a question is being sent or answered now. */
  readonly busy: boolean;
  /**
   * Ask `question`; `focus`: the notebook cell it is about (a `fix` replaces
   * that cell). False when the chat is busy or the server refused (the panel
   * shows why).
   */
  ask(
    question: string,
    focus?: { cell_id: string; action: 'fix' | 'explain' | 'ask' }
  ): Promise<boolean>;
  /** The cell the next question typed in the panel is about; null: none. */
  about: { cellId: string; label: string } | null;
  /** The latest turn that can be undone now, if any. */
  latestTurn(): string | null;
  /**
   * Run the notebook top to bottom in a fresh runtime and compare its
   * outputs with the saved ones; the panel shows the report.
   */
  verify(): Promise<void>;
  /** Undo a turn (asking about cells the person edited); true when done. */
  undo(turnId: string): Promise<boolean>;
}

/** One chat per open notebook, and the sidebar showing the active one. */
export interface INbChats {
  /** The sidebar. */
  readonly panel: INbChatPanel;
  /** The chat of `notebook`, created on first use. */
  chatFor(notebook: NotebookPanel): INbChat;
  /**
   * Name `notebook` after its first question once that turn is over, while
   * it still has JupyterLab's "Untitled" name (new analyses only).
   */
  nameAfterFirstQuestion(notebook: NotebookPanel): void;
}

/** The chats of the open notebooks, provided by the sidebar's plugin. */
export const INbChats = new Token<INbChats>(
  'jupyter-nbchat:INbChats',
  'The chats of the open notebooks (attach files, undo turns, name new analyses) and their sidebar.'
);
