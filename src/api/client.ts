/**
 * The one way the frontend talks HTTP to the server extension.
 */

import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

/** The URL segment every route of the server extension lives under. */
export const API_NAMESPACE = 'nbchat';

/**
 * An HTTP request to the server extension failed.
 *
 * `message` is the server's JSON `message` when it sent one (docs/protocol.md:
 * the panel shows it as is), otherwise a generic description.
 */
export class NbChatRequestError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly endpoint: string
  ) {
    super(message);
    this.name = 'NbChatRequestError';
  }
}

/**
 * Call a route under `{baseUrl}nbchat/`.
 *
 * @param endpoint Route below `nbchat/`, e.g. `status` or `turns/abc/cancel`.
 * @param init Fetch options; bodies are JSON strings.
 * @param settings Server connection settings (default: a fresh set).
 * @returns The parsed JSON answer (`{}` for an empty body).
 * @throws NbChatRequestError carrying the server's `message` on a non-2xx answer,
 *   or `status` 0 when the server could not be reached.
 */
export async function requestAPI<T>(
  endpoint: string,
  init: RequestInit = {},
  settings: ServerConnection.ISettings = ServerConnection.makeSettings()
): Promise<T> {
  const url = URLExt.join(settings.baseUrl, API_NAMESPACE, endpoint);
  const headers = new Headers(init.headers);
  if (init.body !== undefined && !headers.has('Content-Type')) {
    headers.set('Content-Type', 'application/json');
  }

  let response: Response;
  try {
    response = await ServerConnection.makeRequest(
      url,
      { ...init, headers },
      settings
    );
  } catch (reason) {
    throw new NbChatRequestError(String(reason), 0, endpoint);
  }

  const text = await response.text();
  let data: any = {};
  if (text.length > 0) {
    try {
      data = JSON.parse(text);
    } catch {
      data = text;
    }
  }

  if (!response.ok) {
    const message =
      data && typeof data === 'object' && typeof data.message === 'string'
        ? data.message
        : `${response.status} ${response.statusText}`.trim();
    throw new NbChatRequestError(message, response.status, endpoint);
  }
  return data as T;
}
