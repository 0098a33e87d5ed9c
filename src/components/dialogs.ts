/**
 * Questions the chat asks the person in JupyterLab dialogs.
 */

import { Dialog, showDialog } from '@jupyterlab/apputils';
import type { TranslationBundle } from '@jupyterlab/translation';

import type { EditedChoice } from '../chat/chat';

/**
 * Undoing a turn whose cells the person edited since it ran: remove those
 * cells too, keep them (as the person's own cells), or cancel the undo.
 */
export async function askAboutEditedCells(
  count: number,
  trans: TranslationBundle
): Promise<EditedChoice> {
  const remove = trans.__('Remove edited cells too');
  const keep = trans.__('Keep my edited cells');
  const result = await showDialog({
    title: trans.__('Undo this turn?'),
    body: trans._n(
      'You edited %1 cell of this turn after it ran. Remove it with the rest of the turn, or keep it as your own cell?',
      'You edited %1 cells of this turn after they ran. Remove them with the rest of the turn, or keep them as your own cells?',
      count
    ),
    buttons: [
      Dialog.cancelButton({ label: trans.__('Cancel') }),
      Dialog.okButton({ label: keep, displayType: 'default' }),
      Dialog.warnButton({ label: remove })
    ],
    defaultButton: 1
  });
  if (!result.button.accept) {
    return 'cancel';
  }
  return result.button.label === remove ? 'remove' : 'keep';
}
