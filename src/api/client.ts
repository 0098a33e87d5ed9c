/**
 * The one way the frontend talks to the server extension: a typed method per
 * route (docs/protocol.md), all over one `requestAPI`, except the upload,
 * which needs XMLHttpRequest to report progress.
 */

import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

import type {
  ContextLevel,
  IDatabaseInspectResult,
  IDatabaseList,
  IFileSummary,
  IInspectRequest,
  IInspectResult,
  IRecordChanged,
  IRecordChangeRequest,
  IRerunRequest,
  IRerunResult,
  IReviewDecision,
  IStatus,
  ITurnCreated,
  ITurnInfo,
  ITurnList,
  ITurnRequest,
  IUndoPlan,
  IUndoRequest,
  IUploadResult,
  IVariables,
  IVerifyRequest,
  IVerifyStatus,
  IWarmRequest
} from './types';

/** The URL segment every route of the server extension lives under. */
const API_NAMESPACE = 'nbchat';

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
 * @param settings Server connection settings.
 * @returns The parsed JSON answer (`{}` for an empty body).
 * @throws NbChatRequestError carrying the server's `message` on a non-2xx answer,
 *   or `status` 0 when the server could not be reached.
 */
async function requestAPI<T>(
  endpoint: string,
  init: RequestInit,
  settings: ServerConnection.ISettings
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

/** Options of one upload. */
export interface IUploadOptions {
  file: Blob;
  /** The file's name on the server (it may get " (1)"). */
  name: string;
  /** Server-root-relative folder ('' for the root). */
  dir: string;
  level?: ContextLevel;
  /** Called with the fraction sent (0..1). */
  onProgress?: (fraction: number) => void;
  /** Aborts the upload. */
  signal?: AbortSignal;
  /** Translated messages for failures the server did not describe. */
  messages: { failed: string; cancelled: string };
}

/** Every route of the server extension, for one server. */
export class NbChatApi {
  constructor(
    readonly serverSettings: ServerConnection.ISettings = ServerConnection.makeSettings()
  ) {}

  /** `GET nbchat/status`. */
  status(): Promise<IStatus> {
    return this._get('status');
  }

  /** `GET nbchat/turns?notebook_path=P`: that notebook's turns, oldest first. */
  async turns(path: string): Promise<ITurnInfo[]> {
    const list = await this._get<ITurnList>(
      `turns?notebook_path=${encodeURIComponent(path)}`
    );
    return Array.isArray(list?.turns) ? list.turns : [];
  }

  /** `POST nbchat/turns`. */
  startTurn(body: ITurnRequest): Promise<ITurnCreated> {
    return this._post('turns', body);
  }

  /** `GET nbchat/turns/{turn_id}`. */
  turn(turnId: string): Promise<ITurnInfo> {
    return this._get(`turns/${encodeURIComponent(turnId)}`);
  }

  /** `POST nbchat/turns/{turn_id}/cancel`. */
  async cancel(turnId: string): Promise<void> {
    await this._post(`turns/${encodeURIComponent(turnId)}/cancel`);
  }

  /** `POST nbchat/turns/{turn_id}/review`. */
  async review(turnId: string, body: IReviewDecision): Promise<void> {
    await this._post(`turns/${encodeURIComponent(turnId)}/review`, body);
  }

  /** The URL of `WS nbchat/turns/{turn_id}/events?after=N`. */
  eventsUrl(turnId: string, after: number): string {
    const settings = this.serverSettings;
    let url =
      URLExt.join(
        settings.wsUrl,
        API_NAMESPACE,
        'turns',
        encodeURIComponent(turnId),
        'events'
      ) + `?after=${after}`;
    if (settings.appendToken && settings.token !== '') {
      url += `&token=${encodeURIComponent(settings.token)}`;
    }
    return url;
  }

  /** `POST nbchat/record`: one change to the record, folded by the server. */
  changeRecord(body: IRecordChangeRequest): Promise<IRecordChanged> {
    return this._post('record', body);
  }

  /** `GET nbchat/databases`: the named connections (never their URLs). */
  databases(): Promise<IDatabaseList> {
    return requestAPI('databases', { method: 'GET' }, this.serverSettings);
  }

  /** `POST nbchat/databases/inspect`: a connection's schema and what Claude is told. */
  inspectDatabase(
    name: string,
    level?: ContextLevel
  ): Promise<IDatabaseInspectResult> {
    return this._post('databases/inspect', level ? { name, level } : { name });
  }

  /** `POST nbchat/undo`: what undoing a turn changes in the notebook. */
  undo(body: IUndoRequest): Promise<IUndoPlan> {
    return this._post('undo', body);
  }

  /** `POST nbchat/executor/warm`. */
  async warm(body: IWarmRequest): Promise<void> {
    await this._post('executor/warm', body);
  }

  /** `POST nbchat/executor/restart`. */
  async restart(path: string): Promise<void> {
    await this._post('executor/restart', { notebook_path: path });
  }

  /** `POST nbchat/executor/rerun`: restart, then run `codes` in order. */
  rerun(body: IRerunRequest): Promise<IRerunResult> {
    return this._post('executor/rerun', body);
  }

  /** `POST nbchat/verify`: run the notebook in a fresh runtime and compare its outputs. */
  startVerify(body: IVerifyRequest): Promise<{ verify_id: string }> {
    return this._post('verify', body);
  }

  /** `GET nbchat/verify/{verify_id}`: progress, then the report. */
  verification(verifyId: string): Promise<IVerifyStatus> {
    return this._get(`verify/${encodeURIComponent(verifyId)}`);
  }

  /** `DELETE nbchat/verify/{verify_id}`: stop it (its fresh runtime is shut down). */
  async cancelVerify(verifyId: string): Promise<void> {
    await requestAPI(
      `verify/${encodeURIComponent(verifyId)}`,
      { method: 'DELETE' },
      this.serverSettings
    );
  }

  /** `GET nbchat/variables?notebook_path=P`. */
  variables(path: string): Promise<IVariables> {
    return this._get(`variables?notebook_path=${encodeURIComponent(path)}`);
  }

  /** `POST nbchat/files/inspect`. */
  inspect(body: IInspectRequest): Promise<IInspectResult> {
    return this._post('files/inspect', body);
  }

  /**
   * `PUT nbchat/files/upload?dir=D&name=N[&level=L]` with the raw bytes;
   * resolves with the server's summary of the file.
   *
   * @throws NbChatRequestError with the server's message (status 0 when the
   *   server could not be reached, or the upload was aborted).
   */
  upload(options: IUploadOptions): Promise<IFileSummary> {
    const { file, name, dir, level, onProgress, signal, messages } = options;
    const settings = this.serverSettings;
    const endpoint = 'files/upload';
    return new Promise<IFileSummary>((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open('PUT', uploadUrl(settings.baseUrl, dir, name, level));
      const cookie = typeof document === 'undefined' ? '' : document.cookie;
      for (const [key, value] of Object.entries(
        authHeaders(settings, cookie)
      )) {
        xhr.setRequestHeader(key, value);
      }
      xhr.setRequestHeader('Content-Type', 'application/octet-stream');
      xhr.upload.onprogress = event => {
        if (event.lengthComputable && event.total > 0) {
          onProgress?.(event.loaded / event.total);
        }
      };
      xhr.onload = () => {
        if (xhr.status >= 200 && xhr.status < 300) {
          try {
            const data = JSON.parse(xhr.responseText) as IUploadResult;
            onProgress?.(1);
            resolve(data.file);
          } catch (reason) {
            reject(
              new NbChatRequestError(String(reason), xhr.status, endpoint)
            );
          }
        } else {
          reject(
            new NbChatRequestError(failureMessage(xhr), xhr.status, endpoint)
          );
        }
      };
      xhr.onerror = () => {
        // A 413 answered mid-body often reaches the browser as a network error.
        const message = xhr.status > 0 ? failureMessage(xhr) : messages.failed;
        reject(new NbChatRequestError(message, xhr.status, endpoint));
      };
      xhr.onabort = () => {
        reject(new NbChatRequestError(messages.cancelled, 0, endpoint));
      };
      if (signal) {
        if (signal.aborted) {
          xhr.abort();
          return;
        }
        signal.addEventListener('abort', () => xhr.abort(), { once: true });
      }
      xhr.send(file);
    });
  }

  private _get<T>(endpoint: string): Promise<T> {
    return requestAPI<T>(endpoint, {}, this.serverSettings);
  }

  private _post<T>(endpoint: string, body?: unknown): Promise<T> {
    const init: RequestInit = { method: 'POST' };
    if (body !== undefined) {
      init.body = JSON.stringify(body);
    }
    return requestAPI<T>(endpoint, init, this.serverSettings);
  }
}

/** The text to show for a failed request (or anything thrown). */
export function errorMessage(reason: unknown): string {
  return reason instanceof Error ? reason.message : String(reason);
}

/**
 * The URL of `PUT nbchat/files/upload` for a file named `name` uploaded into
 * the server-root-relative folder `dir` ('' for the root).
 */
export function uploadUrl(
  baseUrl: string,
  dir: string,
  name: string,
  level?: ContextLevel
): string {
  const query: [string, string][] = [
    ['dir', dir],
    ['name', name]
  ];
  if (level) {
    query.push(['level', level]);
  }
  // Every key keeps its "=", even with an empty value (the root folder).
  const search = query
    .map(([key, value]) => `${key}=${encodeURIComponent(value)}`)
    .join('&');
  return `${URLExt.join(baseUrl, API_NAMESPACE, 'files', 'upload')}?${search}`;
}

/** The last `_xsrf` cookie, as ServerConnection reads it. */
export function xsrfCookie(cookie: string): string | undefined {
  let value: string | undefined;
  for (const part of cookie.split(';')) {
    const trimmed = part.trim();
    if (trimmed.startsWith('_xsrf=')) {
      value = trimmed.substring('_xsrf='.length);
    }
  }
  return value;
}

/**
 * The headers that authenticate a request outside ServerConnection, the way
 * makeRequest does it: the token as `Authorization: token …` when one is set,
 * the `_xsrf` cookie as `X-XSRFToken`.
 */
export function authHeaders(
  settings: Pick<ServerConnection.ISettings, 'token'>,
  cookie: string
): Record<string, string> {
  const headers: Record<string, string> = {};
  if (settings.token) {
    headers['Authorization'] = `token ${settings.token}`;
  }
  const xsrf = xsrfCookie(cookie);
  if (xsrf !== undefined) {
    headers['X-XSRFToken'] = xsrf;
  }
  return headers;
}

/** The message of a failed upload's answer (`{"message": …}` or the status). */
function failureMessage(xhr: XMLHttpRequest): string {
  try {
    const data = JSON.parse(xhr.responseText);
    if (data && typeof data.message === 'string') {
      return data.message;
    }
  } catch {
    // Not JSON: fall back on the status line.
  }
  return `${xhr.status} ${xhr.statusText}`.trim();
}
