/**
 * Plugin ids, command ids and the tokens the plugins share.
 */

import { Token } from '@lumino/coreutils';

import type { ChatPanel } from './panel';

/** Plugin ids with the description each plugin registers. */
export namespace PluginIDs {
  /** Owns schema/plugin.json, so its id is fixed by the schema file name. */
  export const panel = 'jupyter-nbchat:plugin';
  export const panelDescription =
    'The Notebook Chat sidebar: ask questions, watch code cells being written and run in the active notebook.';

  export const commands = 'jupyter-nbchat:commands';
  export const commandsDescription =
    'Commands (and palette items) that open the Notebook Chat sidebar and focus its input.';
}

/** Command ids. */
export namespace CommandIDs {
  /** Open (activate) the chat sidebar and focus its input. */
  export const open = 'nbchat:open';
  /** Focus the question box of the chat sidebar. */
  export const focusInput = 'nbchat:focus-input';
}

/** The translation domain of every user-facing string. */
export const TRANSLATION_DOMAIN = 'jupyter_nbchat';

/** The chat sidebar, provided by the panel plugin. */
export const INbChatPanel = new Token<ChatPanel>(
  'jupyter-nbchat:INbChatPanel',
  'The Notebook Chat sidebar widget.'
);
