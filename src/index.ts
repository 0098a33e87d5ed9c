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
import type * as nbformat from '@jupyterlab/nbformat';
import { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';
import { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import type { Contents } from '@jupyterlab/services';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import {
  ITranslator,
  nullTranslator,
  TranslationBundle
} from '@jupyterlab/translation';
import { addIcon, downloadIcon, folderIcon } from '@jupyterlab/ui-components';
import type { ReadonlyPartialJSONObject } from '@lumino/coreutils';

import { errorMessage, NbChatApi } from './api/client';
import {
  DEFAULT_CONTEXT_LEVEL,
  folderOf,
  isContextLevel,
  isDataFile
} from './attachments/datafiles';
import { chatMessages } from './chat/messages';
import { NotebookChats } from './chat/registry';
import { asReviewMode, IChatDefaults, ITurnSettings } from './chat/settings';
import type { PanelAction } from './components/conversation';
import { askAboutEditedCells } from './components/dialogs';
import { errorFixRendererFactory } from './components/errorfix';
import { attachIcon, chatIcon } from './components/icons';
import { ChatPanel } from './components/panel';
import { INbChats } from './tokens';

/** Plugin ids. */
namespace PluginIDs {
  /** Owns schema/plugin.json, so its id is fixed by the schema file name. */
  export const chats = 'jupyter-nbchat:plugin';
  export const commands = 'jupyter-nbchat:commands';
  export const files = 'jupyter-nbchat:files';
}

/** Command ids. */
namespace CommandIDs {
  /** Open (activate) the chat sidebar and focus its input. */
  export const open = 'nbchat:open';
  /** Focus the question box of the chat sidebar. */
  export const focusInput = 'nbchat:focus-input';
  /** Undo the latest turn of the active notebook's chat. */
  export const undoLastTurn = 'nbchat:undo-last-turn';
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
  /** A turn that fixes a cell (args: path, cellId; default the active cell). */
  export const fixCell = 'nbchat:fix-cell';
  /** A turn that explains a cell. */
  export const explainCell = 'nbchat:explain-cell';
  /** The next question typed in the panel is about a cell. */
  export const askAboutCell = 'nbchat:ask-about-cell';
  /** Run the active notebook in a fresh runtime and compare its outputs. */
  export const verifyNotebook = 'nbchat:verify-notebook';
}

/** The commands the panel's buttons run. */
const PANEL_COMMANDS: Record<PanelAction, string> = {
  newAnalysis: CommandIDs.newAnalysis,
  download: CommandIDs.downloadNotebook,
  pickFiles: CommandIDs.attachFromWorkspace
};

/** The translation domain of every user-facing string. */
const TRANSLATION_DOMAIN = 'jupyter_nbchat';

/** Rank of the sidebar among the right-area widgets. */
const SIDEBAR_RANK = 900;

/** File-browser items that are files (not folders). */
const FILE_ITEM_SELECTOR = '.jp-DirListing-item[data-isdir="false"]';

/** The kernel a new analysis starts with. */
const ANALYSIS_KERNEL = 'python3';

/** Notebook cells a right click offers the cell commands on. */
const CODE_CELL_SELECTOR = '.jp-Notebook .jp-CodeCell';

/** A cell widget of a notebook. */
type Cell = NotebookPanel['content']['widgets'][number];

/** A notebook cell, found by the commands' arguments. */
interface ICellTarget {
  notebook: NotebookPanel;
  cell: Cell;
  index: number;
}

/**
 * The cell a cell command acts on: `args.path` + `args.cellId` when given
 * (the "Fix with chat" button), else the active notebook's active cell.
 */
function cellTarget(
  tracker: INotebookTracker,
  args: ReadonlyPartialJSONObject
): ICellTarget | null {
  const path = typeof args['path'] === 'string' ? args['path'] : null;
  const cellId = typeof args['cellId'] === 'string' ? args['cellId'] : null;
  const notebook = path
    ? tracker.find(panel => panel.context.path === path)
    : tracker.currentWidget;
  if (!notebook) {
    return null;
  }
  const cells = notebook.content.widgets;
  const index = cellId
    ? cells.findIndex(cell => cell.model.id === cellId)
    : notebook.content.activeCellIndex;
  return index >= 0 && index < cells.length
    ? { notebook, cell: cells[index], index }
    : null;
}

/** The notebook cell whose output holds `node` (a "Fix with chat" button). */
function cellHolding(
  tracker: INotebookTracker,
  node: HTMLElement
): { path: string; cellId: string } | null {
  const notebook = tracker.find(panel => panel.node.contains(node));
  const cell = notebook?.content.widgets.find(c => c.node.contains(node));
  return notebook && cell
    ? { path: notebook.context.path, cellId: cell.model.id }
    : null;
}

/** The error a code cell shows, if any. */
function cellError(cell: Cell): nbformat.IError | null {
  const json = cell.model.toJSON();
  if (json.cell_type !== 'code') {
    return null;
  }
  const outputs = (json as nbformat.ICodeCell).outputs;
  return (
    (outputs.find(o => o.output_type === 'error') as nbformat.IError) ?? null
  );
}

/** "Cell [3]" as the notebook shows it, or "cell 3" (its place) before it ran. */
function cellLabel(target: ICellTarget, trans: TranslationBundle): string {
  const { cell, index } = target;
  const json = cell.model.toJSON();
  const count =
    json.cell_type === 'code'
      ? (json as nbformat.ICodeCell).execution_count
      : null;
  return count ? trans.__('Cell [%1]', count) : trans.__('cell %1', index + 1);
}

/** Resolves at the next animation frame. */
function nextFrame(): Promise<void> {
  return new Promise(resolve => requestAnimationFrame(() => resolve()));
}

/**
 * One chat per open notebook, and the sidebar showing the active one's.
 *
 * Its id is the one of schema/plugin.json, so it owns the user settings.
 */
const chatsPlugin: JupyterFrontEndPlugin<INbChats> = {
  id: PluginIDs.chats,
  description:
    'The Notebook Chat sidebar and one chat per open notebook: ask questions, watch code cells being written and run in the active notebook.',
  autoStart: true,
  requires: [INotebookTracker],
  optional: [
    ITranslator,
    ISettingRegistry,
    IRenderMimeRegistry,
    ILayoutRestorer,
    IEditorLanguageRegistry
  ],
  provides: INbChats,
  activate: (
    app: JupyterFrontEnd,
    tracker: INotebookTracker,
    translator: ITranslator | null,
    settingRegistry: ISettingRegistry | null,
    rendermime: IRenderMimeRegistry | null,
    restorer: ILayoutRestorer | null,
    languages: IEditorLanguageRegistry | null
  ): INbChats => {
    const trans = (translator ?? nullTranslator).load(TRANSLATION_DOMAIN);
    const { commands, serviceManager } = app;

    const settings: ITurnSettings = {
      model: '',
      maxFixAttempts: 0,
      reviewMode: 'auto',
      questionAnswerCells: true
    };
    const defaults: IChatDefaults = { contextLevel: DEFAULT_CONTEXT_LEVEL };
    const registry = new NotebookChats({
      tracker,
      api: new NbChatApi(serviceManager.serverSettings),
      contents: serviceManager.contents,
      settings: () => settings,
      defaults: () => defaults,
      messages: chatMessages(trans),
      confirmEdited: count => askAboutEditedCells(count, trans)
    });

    settingRegistry
      ?.load(PluginIDs.chats)
      .then(loaded => {
        const read = () => {
          const get = (key: string) => loaded.get(key).composite;
          const model = get('model');
          const attempts = get('maxFixAttempts');
          settings.model = typeof model === 'string' ? model : '';
          settings.maxFixAttempts = typeof attempts === 'number' ? attempts : 0;
          settings.reviewMode = asReviewMode(get('reviewMode'));
          settings.questionAnswerCells = get('questionAnswerCells') !== false;
          // Only a value the person set wins over the server's default.
          const images = loaded.get('imagesToClaude').user;
          settings.imagesToClaude =
            typeof images === 'boolean' ? images : undefined;
          const level = get('contextLevel');
          defaults.contextLevel = isContextLevel(level)
            ? level
            : DEFAULT_CONTEXT_LEVEL;
          const executor = get('executor');
          defaults.executor =
            executor === 'kernel' || executor === 'e2b' ? executor : undefined;
          registry.settingsChanged();
        };
        read();
        loaded.changed.connect(read);
      })
      .catch(reason => {
        console.warn('jupyter-nbchat: could not load settings', reason);
      });

    // Every error output of every notebook gets "Fix with chat" (before notebooks open:
    // each notebook copies the registry's renderers when it is created).
    rendermime?.addFactory(
      errorFixRendererFactory(node => {
        const holder = cellHolding(tracker, node);
        if (holder) {
          void commands.execute(CommandIDs.fixCell, { ...holder });
        }
      }, trans)
    );

    const panel = new ChatPanel({
      chats: registry,
      services: {
        trans,
        rendermime,
        // The notebook's own highlighting, so panel code looks like its cells.
        highlight: languages
          ? (code, el) =>
              languages.highlight(code, languages.findBest('python'), el)
          : null,
        baseUrl: serviceManager.serverSettings.baseUrl,
        setModel: settingRegistry
          ? model => {
              settingRegistry
                .set(PluginIDs.chats, 'model', model)
                .catch(reason => {
                  console.warn(
                    'jupyter-nbchat: could not save the model',
                    reason
                  );
                });
            }
          : null,
        action: name => {
          const id = PANEL_COMMANDS[name];
          return commands.hasCommand(id)
            ? () => void commands.execute(id)
            : null;
        }
      }
    });
    app.shell.add(panel, 'right', { rank: SIDEBAR_RANK });
    restorer?.add(panel, 'jupyter-nbchat');
    panel.disposed.connect(() => registry.dispose());

    return {
      panel,
      chatFor: notebook => registry.chatFor(notebook),
      nameAfterFirstQuestion: notebook =>
        registry.nameAfterFirstQuestion(notebook)
    };
  }
};

/** Commands (and palette items) that open the sidebar, focus it, undo a turn. */
const commandsPlugin: JupyterFrontEndPlugin<void> = {
  id: PluginIDs.commands,
  description:
    'Commands (and palette items) that open the Notebook Chat sidebar, focus its input and undo the latest turn.',
  autoStart: true,
  requires: [INbChats, INotebookTracker],
  optional: [ITranslator, ICommandPalette],
  activate: (
    app: JupyterFrontEnd,
    chats: INbChats,
    tracker: INotebookTracker,
    translator: ITranslator | null,
    palette: ICommandPalette | null
  ): void => {
    const trans = (translator ?? nullTranslator).load(TRANSLATION_DOMAIN);
    const category = trans.__('Notebook Chat');
    const { panel } = chats;

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

    /** The chat of the active notebook and its latest turn, if one can be undone. */
    const latest = () => {
      const notebook = tracker.currentWidget;
      const chat = notebook ? chats.chatFor(notebook) : null;
      const turnId = chat?.latestTurn() ?? null;
      return chat && turnId ? { chat, turnId } : null;
    };

    app.commands.addCommand(CommandIDs.undoLastTurn, {
      label: trans.__('Undo Last Chat Turn'),
      caption: trans.__(
        'Remove the cells, question and answer the latest chat turn added to the active notebook'
      ),
      isEnabled: () => latest() !== null,
      execute: async () => {
        const found = latest();
        if (found) {
          app.shell.activateById(panel.id);
          await found.chat.undo(found.turnId);
        }
      }
    });

    /** Start a turn about a cell in its notebook's chat, shown in the sidebar. */
    const askAbout = async (
      target: ICellTarget,
      question: string,
      action: 'fix' | 'explain'
    ) => {
      const chat = chats.chatFor(target.notebook);
      app.shell.activateById(target.notebook.id);
      app.shell.activateById(panel.id);
      if (chat.busy) {
        Notification.warning(
          trans.__(
            'The chat is still answering a question: wait for it or stop it first.'
          ),
          { autoClose: 5000 }
        );
        return;
      }
      await chat.ask(question, { cell_id: target.cell.model.id, action });
    };

    app.commands.addCommand(CommandIDs.fixCell, {
      label: trans.__('Fix with Chat'),
      caption: trans.__(
        'Ask the chat to fix this cell’s error: the fixed cell replaces it, and Undo turn puts it back'
      ),
      isVisible: args => {
        const target = cellTarget(tracker, args);
        return target !== null && cellError(target.cell) !== null;
      },
      execute: async args => {
        const target = cellTarget(tracker, args);
        const error = target ? cellError(target.cell) : null;
        if (target && error) {
          const what = `${error.ename}: ${error.evalue}`;
          const clipped = what.length > 120 ? `${what.slice(0, 119)}…` : what;
          await askAbout(
            target,
            trans.__('Fix %1 (%2)', cellLabel(target, trans), clipped),
            'fix'
          );
        }
      }
    });

    app.commands.addCommand(CommandIDs.explainCell, {
      label: trans.__('Explain with Chat'),
      caption: trans.__(
        'Ask the chat what this cell does and what its outputs show'
      ),
      isEnabled: args => cellTarget(tracker, args) !== null,
      execute: async args => {
        const target = cellTarget(tracker, args);
        if (target) {
          await askAbout(
            target,
            trans.__('Explain %1', cellLabel(target, trans)),
            'explain'
          );
        }
      }
    });

    app.commands.addCommand(CommandIDs.askAboutCell, {
      label: trans.__('Ask Chat About This Cell…'),
      caption: trans.__(
        'Type a question in the chat about this cell: its code and outputs go with it'
      ),
      isEnabled: args => cellTarget(tracker, args) !== null,
      execute: args => {
        const target = cellTarget(tracker, args);
        if (target) {
          chats.chatFor(target.notebook).about = {
            cellId: target.cell.model.id,
            label: cellLabel(target, trans)
          };
          app.shell.activateById(panel.id);
          panel.focusInput();
        }
      }
    });

    app.commands.addCommand(CommandIDs.verifyNotebook, {
      label: trans.__('Verify Notebook in a Fresh Run'),
      caption: trans.__(
        'Run every code cell top to bottom in a fresh kernel (or sandbox) beside the live one, and report which outputs and quoted numbers differ'
      ),
      isEnabled: () => tracker.currentWidget !== null,
      execute: async () => {
        const notebook = tracker.currentWidget;
        if (notebook) {
          app.shell.activateById(panel.id);
          await chats.chatFor(notebook).verify();
        }
      }
    });

    for (const [rank, command] of [
      CommandIDs.fixCell,
      CommandIDs.explainCell,
      CommandIDs.askAboutCell
    ].entries()) {
      app.contextMenu.addItem({
        command,
        selector: CODE_CELL_SELECTOR,
        rank: 20 + rank
      });
    }

    if (palette) {
      for (const command of [
        CommandIDs.open,
        CommandIDs.focusInput,
        CommandIDs.undoLastTurn,
        CommandIDs.explainCell,
        CommandIDs.askAboutCell,
        CommandIDs.verifyNotebook
      ]) {
        palette.addItem({ command, category });
      }
    }
  }
};

/**
 * Workspace files and notebooks: "Attach to chat" and "Analyse in chat" in
 * the file browser, picking files in a dialog, new analyses, download.
 */
const filesPlugin: JupyterFrontEndPlugin<void> = {
  id: PluginIDs.files,
  description:
    'Attaching workspace files to a chat (file browser menu, drag and drop, file dialog), new analyses and notebook download.',
  autoStart: true,
  requires: [INbChats, INotebookTracker, IDocumentManager],
  optional: [
    ITranslator,
    IDefaultFileBrowser,
    IFileBrowserFactory,
    ICommandPalette
  ],
  activate: (
    app: JupyterFrontEnd,
    chats: INbChats,
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
    const { panel } = chats;

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
        await chats.chatFor(notebook).attachments.attach(paths);
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
        await chats.chatFor(notebook).attachments.attach(paths);
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
          await chats.chatFor(notebook).attachments.attach([file.path]);
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
  chatsPlugin,
  commandsPlugin,
  filesPlugin
];

export default plugins;
