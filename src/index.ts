/**
 * The plugins of jupyter-nbchat.
 */

import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette, Notification } from '@jupyterlab/apputils';
import { IEditorLanguageRegistry } from '@jupyterlab/codemirror';
import { IDocumentManager } from '@jupyterlab/docmanager';
import {
  FileDialog,
  IDefaultFileBrowser,
  IFileBrowserFactory
} from '@jupyterlab/filebrowser';
import { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';
import { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import type { Contents } from '@jupyterlab/services';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';
import { addIcon, downloadIcon, folderIcon } from '@jupyterlab/ui-components';

import type { IChatDefaults } from './attachments/context';
import {
  DEFAULT_CONTEXT_LEVEL,
  folderOf,
  isContextLevel,
  isDataFile
} from './attachments/datafiles';
import { attachIcon, chatIcon } from './components/icons';
import { asReviewMode, errorMessage, ITurnSettings } from './chat/model';
import { NotebookWriter } from './notebook/writer';
import { ChatPanel } from './components/panel';
import { requestAPI } from './api/client';
import { NotebookChats } from './chat/registry';
import {
  CommandIDs,
  INbChatPanel,
  INbChats,
  PluginIDs,
  TRANSLATION_DOMAIN
} from './tokens';
import type { IStatus } from './api/types';

/** Resolves at the next animation frame. */
function nextFrame(): Promise<void> {
  return new Promise(resolve => requestAnimationFrame(() => resolve()));
}

/** Rank of the sidebar among the right-area widgets. */
const SIDEBAR_RANK = 900;

/** File-browser items that are files (not folders). */
const FILE_ITEM_SELECTOR = '.jp-DirListing-item[data-isdir="false"]';

/** The kernel a new analysis starts with. */
const ANALYSIS_KERNEL = 'python3';

/**
 * The chat sidebar, following the active notebook.
 *
 * Its id is the one of schema/plugin.json, so it owns the user settings.
 */
const panelPlugin: JupyterFrontEndPlugin<ChatPanel> = {
  id: PluginIDs.panel,
  description: PluginIDs.panelDescription,
  autoStart: true,
  optional: [
    ITranslator,
    IRenderMimeRegistry,
    ILayoutRestorer,
    IEditorLanguageRegistry
  ],
  provides: INbChatPanel,
  activate: (
    app: JupyterFrontEnd,
    translator: ITranslator | null,
    rendermime: IRenderMimeRegistry | null,
    restorer: ILayoutRestorer | null,
    languages: IEditorLanguageRegistry | null
  ): ChatPanel => {
    const trans = (translator ?? nullTranslator).load(TRANSLATION_DOMAIN);
    const serverSettings = app.serviceManager.serverSettings;

    const panel = new ChatPanel({
      trans,
      rendermime,
      // The notebook's own highlighting, so panel code looks like its cells.
      highlight: languages
        ? (code, el) =>
            languages.highlight(code, languages.findBest('python'), el)
        : null,
      commands: app.commands,
      serverSettings
    });
    app.shell.add(panel, 'right', { rank: SIDEBAR_RANK });
    restorer?.add(panel, 'jupyter-nbchat');

    // Not awaited: activation never waits on the network.
    requestAPI<IStatus>('status', {}, serverSettings)
      .then(status => {
        panel.server = { kind: 'ready', status };
      })
      .catch(reason => {
        panel.server = { kind: 'unreachable', message: errorMessage(reason) };
      });
    return panel;
  }
};

/** One chat per open notebook; the panel shows the active notebook's. */
const chatsPlugin: JupyterFrontEndPlugin<NotebookChats> = {
  id: PluginIDs.chats,
  description: PluginIDs.chatsDescription,
  autoStart: true,
  requires: [INbChatPanel, INotebookTracker],
  optional: [ITranslator, ISettingRegistry],
  provides: INbChats,
  activate: (
    app: JupyterFrontEnd,
    panel: ChatPanel,
    tracker: INotebookTracker,
    translator: ITranslator | null,
    settingRegistry: ISettingRegistry | null
  ): NotebookChats => {
    const trans = (translator ?? nullTranslator).load(TRANSLATION_DOMAIN);

    const turnSettings: ITurnSettings = {
      model: '',
      maxFixAttempts: 0,
      reviewMode: 'auto',
      questionAnswerCells: true
    };
    const chatDefaults: IChatDefaults = { contextLevel: DEFAULT_CONTEXT_LEVEL };
    let chats: NotebookChats | null = null;
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
            turnSettings.reviewMode = asReviewMode(
              settings.get('reviewMode').composite
            );
            turnSettings.questionAnswerCells =
              settings.get('questionAnswerCells').composite !== false;
            const level = settings.get('contextLevel').composite;
            chatDefaults.contextLevel = isContextLevel(level)
              ? level
              : DEFAULT_CONTEXT_LEVEL;
            const executor = settings.get('executor').composite;
            chatDefaults.executor =
              executor === 'kernel' || executor === 'e2b'
                ? executor
                : undefined;
            chats?.settingsChanged();
          };
          read();
          settings.changed.connect(read);
        })
        .catch(reason => {
          console.warn('jupyter-nbchat: could not load settings', reason);
        });
    }

    chats = new NotebookChats({
      tracker,
      panel,
      writer: new NotebookWriter(tracker, app.serviceManager.contents),
      serverSettings: app.serviceManager.serverSettings,
      contents: app.serviceManager.contents,
      turnSettings: () => turnSettings,
      chatDefaults: () => chatDefaults,
      messages: {
        connectionLost: trans.__(
          'Lost the connection to the server while following the turn.'
        ),
        notebookClosed: trans.__(
          'The notebook is no longer open, so this turn’s cells were not inserted.'
        ),
        saveFailed: trans.__('Could not save the notebook: %1', '{error}'),
        savedByServer: trans.__(
          'No page was following the last turn, so the server saved its cells in the notebook file; the notebook was reloaded from it.'
        ),
        savedByServerUnsaved: trans.__(
          'No page was following the last turn, so the server saved its cells in the notebook file. This notebook has unsaved changes, so the file was not loaded: File › Reload Notebook from Disk shows the cells (and drops the unsaved changes).'
        )
      },
      contextMessages: {
        uploadFailed: trans.__('The upload did not complete.'),
        uploadCancelled: trans.__('Upload cancelled.'),
        warmFailed: trans.__('Could not prepare where code runs: %1', '%1')
      }
    });
    const created = chats;
    panel.disposed.connect(() => created.dispose());
    return created;
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

/**
 * Workspace files and notebooks: "Attach to chat" and "Analyse in chat" in
 * the file browser, picking files in a dialog, new analyses, download.
 */
const filesPlugin: JupyterFrontEndPlugin<void> = {
  id: PluginIDs.files,
  description: PluginIDs.filesDescription,
  autoStart: true,
  requires: [INbChatPanel, INbChats, INotebookTracker, IDocumentManager],
  optional: [
    ITranslator,
    IDefaultFileBrowser,
    IFileBrowserFactory,
    ICommandPalette
  ],
  activate: (
    app: JupyterFrontEnd,
    panel: ChatPanel,
    chats: NotebookChats,
    tracker: INotebookTracker,
    docManager: IDocumentManager,
    translator: ITranslator | null,
    defaultBrowser: IDefaultFileBrowser | null,
    browserFactory: IFileBrowserFactory | null,
    palette: ICommandPalette | null
  ): void => {
    const trans = (translator ?? nullTranslator).load(TRANSLATION_DOMAIN);
    const category = trans.__('Notebook Chat');
    const { commands } = app;

    /** The file browser the person is using (the context menu's one). */
    const browser = () =>
      browserFactory?.tracker.currentWidget ?? defaultBrowser ?? null;

    /** Files (not folders) selected in the file browser. */
    const selectedFiles = (): Contents.IModel[] => {
      const current = browser();
      if (!current) {
        return [];
      }
      return Array.from(current.selectedItems()).filter(
        item => item.type !== 'directory'
      );
    };

    const showChat = async (focus: boolean) => {
      app.shell.activateById(panel.id);
      if (focus) {
        // A notebook just opened takes the focus when its activation is
        // processed (a frame later): take it back after that.
        await nextFrame();
        await nextFrame();
        panel.focusInput();
      }
    };

    const noNotebook = () => {
      Notification.warning(
        trans.__('Open a notebook first: files are attached to its chat.'),
        { autoClose: 5000 }
      );
    };

    /** A new notebook in `folder`, open with the python3 kernel. */
    const createNotebook = async (folder: string): Promise<NotebookPanel> => {
      const model = await docManager.newUntitled({
        path: folder,
        type: 'notebook'
      });
      const widget = docManager.open(model.path, 'Notebook', {
        name: ANALYSIS_KERNEL
      });
      if (!(widget instanceof NotebookPanel)) {
        throw new Error(trans.__('Could not open %1.', model.path));
      }
      await widget.context.ready;
      app.shell.activateById(widget.id);
      chats.nameAfterFirstQuestion(widget);
      return widget;
    };

    const reportFailure = (reason: unknown) => {
      Notification.error(errorMessage(reason), { autoClose: 8000 });
    };

    commands.addCommand(CommandIDs.attachFile, {
      label: trans.__('Attach to Chat'),
      caption: trans.__(
        'Attach the selected files to the chat of the active notebook'
      ),
      icon: attachIcon,
      isVisible: () => selectedFiles().length > 0,
      execute: async () => {
        const paths = selectedFiles().map(item => item.path);
        const notebook = tracker.currentWidget;
        if (!notebook) {
          noNotebook();
          return;
        }
        void showChat(false);
        await chats.chatFor(notebook).context.attachPaths(paths);
      }
    });

    commands.addCommand(CommandIDs.attachFromWorkspace, {
      label: trans.__('Attach Files from the Workspace…'),
      caption: trans.__(
        'Choose files already in the workspace to attach to the chat'
      ),
      icon: args => (args['isPalette'] ? undefined : folderIcon),
      isEnabled: () => !!tracker.currentWidget,
      execute: async () => {
        const notebook = tracker.currentWidget;
        if (!notebook) {
          noNotebook();
          return;
        }
        const result = await FileDialog.getOpenFiles({
          manager: docManager,
          translator: translator ?? nullTranslator,
          title: trans.__(
            'Attach files to the chat of %1',
            notebook.title.label
          ),
          defaultPath: folderOf(notebook.context.path),
          // Folders (to browse) and files; notebooks are not data.
          filter: model => (model.type === 'notebook' ? null : {})
        });
        const paths = (result.value ?? [])
          .filter(model => model.type !== 'directory')
          .map(model => model.path);
        if (!result.button.accept || paths.length === 0) {
          return;
        }
        if (notebook.isDisposed) {
          return;
        }
        await chats.chatFor(notebook).context.attachPaths(paths);
      }
    });

    commands.addCommand(CommandIDs.analyseFile, {
      label: trans.__('Analyse in Chat'),
      caption: trans.__(
        'Create a notebook next to this data file, attach it and ask about it'
      ),
      icon: chatIcon,
      isVisible: () => selectedFiles().some(item => isDataFile(item.path)),
      execute: async () => {
        const file = selectedFiles().find(item => isDataFile(item.path));
        if (!file) {
          return;
        }
        try {
          const notebook = await createNotebook(folderOf(file.path));
          await showChat(true);
          await chats.chatFor(notebook).context.attachPaths([file.path]);
        } catch (reason) {
          reportFailure(reason);
        }
      }
    });

    commands.addCommand(CommandIDs.newAnalysis, {
      label: trans.__('New Analysis'),
      caption: trans.__(
        'Create a notebook in the file browser’s folder and chat about data in it'
      ),
      icon: args => (args['isPalette'] ? undefined : addIcon),
      execute: async () => {
        const folder = defaultBrowser?.model.path ?? '';
        try {
          await createNotebook(folder);
          await showChat(true);
        } catch (reason) {
          reportFailure(reason);
        }
      }
    });

    commands.addCommand(CommandIDs.downloadNotebook, {
      label: trans.__('Download Notebook'),
      caption: trans.__('Save the active notebook and download the .ipynb'),
      icon: args => (args['isPalette'] ? undefined : downloadIcon),
      isEnabled: () => !!tracker.currentWidget,
      execute: async () => {
        const notebook = tracker.currentWidget;
        if (!notebook) {
          return;
        }
        try {
          await notebook.context.save();
          await notebook.context.download();
        } catch (reason) {
          reportFailure(reason);
        }
      }
    });

    app.contextMenu.addItem({
      command: CommandIDs.attachFile,
      selector: FILE_ITEM_SELECTOR,
      rank: 3
    });
    app.contextMenu.addItem({
      command: CommandIDs.analyseFile,
      selector: FILE_ITEM_SELECTOR,
      rank: 3
    });

    if (palette) {
      for (const command of [
        CommandIDs.newAnalysis,
        CommandIDs.attachFromWorkspace,
        CommandIDs.downloadNotebook
      ]) {
        palette.addItem({ command, category });
      }
    }

    // The panel's buttons run these commands: show them now they exist.
    panel.update();
  }
};

const plugins: JupyterFrontEndPlugin<any>[] = [
  panelPlugin,
  chatsPlugin,
  commandsPlugin,
  filesPlugin
];

export default plugins;
