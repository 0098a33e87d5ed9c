/**
 * Plugin ids, command ids and the tokens the plugins share.
 */

import { Token } from '@lumino/coreutils';

import type { ChatPanel } from './components/panel';
import type { NotebookChats } from './chat/registry';

/** Plugin ids with the description each plugin registers. */
export namespace PluginIDs {
  /** Owns schema/plugin.json, so its id is fixed by the schema file name. */
  export const panel = 'jupyter-nbchat:plugin';
  export const panelDescription =
    'The Notebook Chat sidebar: ask questions, watch code cells being written and run in the active notebook.';

  export const chats = 'jupyter-nbchat:chats';
  export const chatsDescription =
    'One chat per open notebook (conversation, attached files, executor), shown by the sidebar.';

  export const commands = 'jupyter-nbchat:commands';
  export const commandsDescription =
    'Commands (and palette items) that open the Notebook Chat sidebar and focus its input.';

  export const files = 'jupyter-nbchat:files';
  export const filesDescription =
    'Attaching workspace files to a chat (file browser menu, drag and drop, file dialog), new analyses and notebook download.';
}

/** Command ids. */
export namespace CommandIDs {
  /** Open (activate) the chat sidebar and focus its input. */
  export const open = 'nbchat:open';
  /** Focus the question box of the chat sidebar. */
  export const focusInput = 'nbchat:focus-input';
  /** Attach the file browser's selected files to the active notebook's chat. */
  export const attachFile = 'nbchat:attach-file';
  /** Pick workspace files in a dialog and attach them. */
  export const attachFromWorkspace = 'nbchat:attach-from-workspace';
  /** A new notebook next to a data file, with the file attached. */
  export const analyseFile = 'nbchat:analyse-file';
  /** A new notebook in the file browser's folder, beside the chat. */
  export const newAnalysis = 'nbchat:new-analysis';
  /** Save the active notebook and download it. */
  export const downloadNotebook = 'nbchat:download-notebook';
}

/** The translation domain of every user-facing string. */
export const TRANSLATION_DOMAIN = 'jupyter_nbchat';

/** The chat sidebar, provided by the panel plugin. */
export const INbChatPanel = new Token<ChatPanel>(
  'jupyter-nbchat:INbChatPanel',
  'The Notebook Chat sidebar widget.'
);

/** One chat per open notebook, provided by the panel plugin. */
export const INbChats = new Token<NotebookChats>(
  'jupyter-nbchat:INbChats',
  'The chats of the open notebooks (attach files, name new analyses).'
);
