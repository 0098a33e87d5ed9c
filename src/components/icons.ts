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

const databaseSvg = `<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16" viewBox="0 0 24 24">
  <path class="jp-icon3 jp-icon-selectable" fill="#616161" d="M12 2C7.6 2 4 3.3 4 5v14c0 1.7 3.6 3 8 3s8-1.3 8-3V5c0-1.7-3.6-3-8-3zm0 2c3.7 0 6 1 6 1.5S15.7 7 12 7 6 6 6 5.5 8.3 4 12 4zM6 7.9C7.5 8.6 9.7 9 12 9s4.5-.4 6-1.1V12c0 .5-2.3 1.5-6 1.5S6 12.5 6 12zm0 6.5c1.5.7 3.7 1.1 6 1.1s4.5-.4 6-1.1V19c0 .5-2.3 1.5-6 1.5S6 19.5 6 19z"/>
</svg>`;

/** Use a database connection: a cylinder. */
export const databaseIcon = new LabIcon({
  name: 'jupyter-nbchat:database',
  svgstr: databaseSvg
});
