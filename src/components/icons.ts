/**
 * Every icon of the extension.
 */

import { LabIcon } from '@jupyterlab/ui-components';

const chatSvg = `<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16" viewBox="0 0 24 24">
  <path class="jp-icon3 jp-icon-selectable" fill="#616161" d="M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2h-8.6l-4.7 3.8A.75.75 0 0 1 5.5 21.2V18H4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2zm0 2v11h3v2.6L10.7 16H20V5z"/>
  <path class="jp-icon3 jp-icon-selectable" fill="#616161" d="M8.3 8.2 6.5 10l1.8 1.8 1-1-.8-.8.8-.8zm7.4 0-1 1 .8.8-.8.8 1 1 1.8-1.8zm-4.6 4.6 1.5-5 1.1.3-1.5 5z"/>
</svg>`;

/** The Notebook Chat icon: a speech bubble holding a code sign. */
export const chatIcon = new LabIcon({
  name: 'jupyter-nbchat:chat',
  svgstr: chatSvg
});

const attachSvg = `<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16" viewBox="0 0 24 24">
  <path class="jp-icon3 jp-icon-selectable" fill="#616161" d="M16.5 6v11.5a4 4 0 0 1-8 0V5a2.5 2.5 0 0 1 5 0v10.5a1 1 0 0 1-2 0V6H10v9.5a2.5 2.5 0 0 0 5 0V5a4 4 0 0 0-8 0v12.5a5.5 5.5 0 0 0 11 0V6z"/>
</svg>`;

/** Attach a file: a paper clip. */
export const attachIcon = new LabIcon({
  name: 'jupyter-nbchat:attach',
  svgstr: attachSvg
});
