/**
 * "Fix with chat" on every error output of every notebook: the error
 * renderer JupyterLab uses, plus a button under the traceback.
 *
 * It takes the place of JupyterLab's own factory for
 * `application/vnd.jupyter.stderr` (same rank, same rendering), so stderr
 * streams look as before; only outputs whose model is an `error` output get
 * the button. The button shows only inside a notebook (CSS), not where the
 * same renderer draws outputs elsewhere (the chat panel, a console).
 */

import {
  errorRendererFactory,
  IRenderMime,
  RenderedError
} from '@jupyterlab/rendermime';
import type { TranslationBundle } from '@jupyterlab/translation';

/** The button's class (tests and CSS find it by it). */
export const FIX_ERROR_CLASS = 'jp-NbChat-fixError';

class RenderedErrorWithFix extends RenderedError {
  constructor(
    options: IRenderMime.IRendererOptions,
    private _fix: (from: HTMLElement) => void,
    private _trans: TranslationBundle
  ) {
    super(options);
  }

  async render(model: IRenderMime.IMimeModel): Promise<void> {
    await super.render(model);
    // An output area's model says what kind of output it is; a stderr stream is not an error.
    if ((model as { type?: unknown }).type !== 'error') {
      return;
    }
    const button = document.createElement('button');
    button.type = 'button';
    button.className = FIX_ERROR_CLASS;
    button.textContent = this._trans.__('Fix with chat');
    button.title = this._trans.__(
      'Ask the chat to fix this cell: the fixed cell replaces it, and Undo turn puts it back'
    );
    button.addEventListener('click', event => {
      event.stopPropagation();
      this._fix(button);
    });
    this.node.appendChild(button);
  }
}

/** A factory to add to the app's rendermime registry before notebooks open. */
export function errorFixRendererFactory(
  fix: (from: HTMLElement) => void,
  trans: TranslationBundle
): IRenderMime.IRendererFactory {
  return {
    safe: true,
    mimeTypes: errorRendererFactory.mimeTypes,
    defaultRank: errorRendererFactory.defaultRank,
    createRenderer: options => new RenderedErrorWithFix(options, fix, trans)
  };
}
