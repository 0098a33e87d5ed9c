/**
 * Everything a chat says by itself (outside the views), translated once.
 */

import type { TranslationBundle } from '@jupyterlab/translation';

/** What a chat says (`%1`, `%2` are filled in where they appear). */
export interface IChatMessages {
  /** The events socket could not be reopened. */
  connectionLost: string;
  /** A cell arrived for a notebook that is no longer open. */
  notebookClosed: string;
  /** Saving the notebook failed; `%1` is the reason. */
  saveFailed: string;
  /** The server saved a turn into the file and the notebook was reloaded. */
  savedByServer: string;
  /** The same, but unsaved edits here kept the file from being loaded. */
  savedByServerUnsaved: string;
  /** A turn was undone (the kernel keeps its variables until restarted). */
  undoneKernel: string;
  /** A turn was undone (the sandbox keeps its variables until restarted). */
  undoneSandbox: string;
  /** The kernel was restarted and every cell ran. */
  rerunDone: string;
  /** The sandbox was restarted and `%1` cells ran. */
  rerunSandboxDone: string;
  /** Re-running stopped: `%1` cell number, `%2` the error. */
  rerunFailed: string;
  /** The kernel could not be restarted (none, or the person declined). */
  rerunRefused: string;
  uploadFailed: string;
  uploadCancelled: string;
  /** Warming the executor failed; `%1` is the server's message. */
  warmFailed: string;
}

/** What a chat says, translated. */
export function chatMessages(trans: TranslationBundle): IChatMessages {
  return {
    connectionLost: trans.__(
      'Lost the connection to the server while following the turn.'
    ),
    notebookClosed: trans.__(
      'The notebook is no longer open, so this turn’s cells were not inserted.'
    ),
    saveFailed: trans.__('Could not save the notebook: %1', '%1'),
    savedByServer: trans.__(
      'No page was following the last turn, so the server saved its cells in the notebook file; the notebook was reloaded from it.'
    ),
    savedByServerUnsaved: trans.__(
      'No page was following the last turn, so the server saved its cells in the notebook file. This notebook has unsaved changes, so the file was not loaded: File › Reload Notebook from Disk shows the cells (and drops the unsaved changes).'
    ),
    undoneKernel: trans.__(
      'The turn was undone and the notebook saved. Variables made by the removed cells may still exist in the kernel until it is restarted.'
    ),
    undoneSandbox: trans.__(
      'The turn was undone and the notebook saved. Variables made by the removed cells may still exist in the E2B sandbox until it is restarted.'
    ),
    rerunDone: trans.__(
      'The kernel was restarted and the remaining cells ran again.'
    ),
    rerunSandboxDone: trans.__(
      'The E2B sandbox was restarted and the %1 remaining code cells ran again.',
      '%1'
    ),
    rerunFailed: trans.__('Re-running stopped at code cell %1: %2', '%1', '%2'),
    rerunRefused: trans.__(
      'The kernel was not restarted: the notebook has no running kernel.'
    ),
    uploadFailed: trans.__('The upload did not complete.'),
    uploadCancelled: trans.__('Upload cancelled.'),
    warmFailed: trans.__('Could not prepare where code runs: %1', '%1')
  };
}
