/**
 * The plugins of jupyter-nbchat.
 */

import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { INotebookTracker } from '@jupyterlab/notebook';
import { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';

import { chatIcon } from './icons';
import { errorMessage, ITurnSettings } from './model';
import { NotebookWriter } from './notebook';
import { ChatPanel } from './panel';
import { requestAPI } from './request';
import { NotebookChats } from './sessions';
import {
  CommandIDs,
  INbChatPanel,
  PluginIDs,
  TRANSLATION_DOMAIN
} from './tokens';
import type { IStatus } from './types';

/** Rank of the sidebar among the right-area widgets. */
const SIDEBAR_RANK = 900;

/**
 * The chat sidebar, following the active notebook.
 *
 * Its id is the one of schema/plugin.json, so it reads the user settings.
 */
const panelPlugin: JupyterFrontEndPlugin<ChatPanel> = {
  id: PluginIDs.panel,
  description: PluginIDs.panelDescription,
  autoStart: true,
  requires: [INotebookTracker],
  optional: [
    ITranslator,
    IRenderMimeRegistry,
    ILayoutRestorer,
    ISettingRegistry
  ],
  provides: INbChatPanel,
  activate: (
    app: JupyterFrontEnd,
    tracker: INotebookTracker,
    translator: ITranslator | null,
    rendermime: IRenderMimeRegistry | null,
    restorer: ILayoutRestorer | null,
    settingRegistry: ISettingRegistry | null
  ): ChatPanel => {
    const trans = (translator ?? nullTranslator).load(TRANSLATION_DOMAIN);
    const serverSettings = app.serviceManager.serverSettings;

    const panel = new ChatPanel({ trans, rendermime });
    app.shell.add(panel, 'right', { rank: SIDEBAR_RANK });
    restorer?.add(panel, 'jupyter-nbchat');

    const turnSettings: ITurnSettings = { model: '', maxFixAttempts: 0 };
    if (settingRegistry) {
      settingRegistry
        .load(PluginIDs.panel)
        .then(settings => {
          const read = () => {
            const model = settings.get('model').composite;
            const attempts = settings.get('maxFixAttempts').composite;
            turnSettings.model = typeof model === 'string' ? model : '';
            turnSettings.maxFixAttempts =
              typeof attempts === 'number' ? attempts : 0;
          };
          read();
          settings.changed.connect(read);
        })
        .catch(reason => {
          console.warn('jupyter-nbchat: could not load settings', reason);
        });
    }

    // Not awaited: activation never waits on the network.
    requestAPI<IStatus>('status', {}, serverSettings)
      .then(status => {
        panel.server = { kind: 'ready', status };
      })
      .catch(reason => {
        panel.server = { kind: 'unreachable', message: errorMessage(reason) };
      });

    const chats = new NotebookChats({
      tracker,
      panel,
      writer: new NotebookWriter(tracker),
      serverSettings,
      turnSettings: () => turnSettings,
      messages: {
        connectionLost: trans.__(
          'Lost the connection to the server while following the turn.'
        ),
        notebookClosed: trans.__(
          'The notebook is no longer open, so this turn’s cells were not inserted.'
        ),
        saveFailed: trans.__('Could not save the notebook: %1', '{error}')
      }
    });
    panel.disposed.connect(() => chats.dispose());
    return panel;
  }
};

/** Commands (and palette items) that open the sidebar and focus its input. */
const commandsPlugin: JupyterFrontEndPlugin<void> = {
  id: PluginIDs.commands,
  description: PluginIDs.commandsDescription,
  autoStart: true,
  requires: [INbChatPanel],
  optional: [ITranslator, ICommandPalette],
  activate: (
    app: JupyterFrontEnd,
    panel: ChatPanel,
    translator: ITranslator | null,
    palette: ICommandPalette | null
  ): void => {
    const trans = (translator ?? nullTranslator).load(TRANSLATION_DOMAIN);
    const category = trans.__('Notebook Chat');

    app.commands.addCommand(CommandIDs.open, {
      label: trans.__('Open Notebook Chat'),
      caption: trans.__('Show the Notebook Chat sidebar'),
      icon: args => (args['isPalette'] ? undefined : chatIcon),
      execute: () => {
        app.shell.activateById(panel.id);
        panel.focusInput();
      }
    });

    app.commands.addCommand(CommandIDs.focusInput, {
      label: trans.__('Focus the Notebook Chat Question Box'),
      caption: trans.__('Put the cursor in the Notebook Chat question box'),
      execute: () => {
        if (!panel.isVisible) {
          app.shell.activateById(panel.id);
        }
        panel.focusInput();
      }
    });

    if (palette) {
      palette.addItem({ command: CommandIDs.open, category });
      palette.addItem({ command: CommandIDs.focusInput, category });
    }
  }
};

const plugins: JupyterFrontEndPlugin<any>[] = [panelPlugin, commandsPlugin];

export default plugins;
