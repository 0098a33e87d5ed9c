/**
 * Uploading a file from the computer: `PUT nbchat/files/upload` with the raw
 * bytes, through XMLHttpRequest so the panel can show real progress.
 *
 * Authenticated the way ServerConnection.makeRequest does it: the token as
 * `Authorization: token …` when one is set, the `_xsrf` cookie as
 * `X-XSRFToken`.
 */

import type { ServerConnection } from '@jupyterlab/services';

import { uploadUrl } from './datafiles';
import { NbChatRequestError } from '../api/client';
import type { ContextLevel, IFileSummary, IUploadResult } from '../api/types';

/** Options of one upload. */
export interface IUploadOptions {
  file: Blob;
  /** The file's name on the server (it may get " (1)"). */
  name: string;
  /** Server-root-relative folder ('' for the root). */
  dir: string;
  level?: ContextLevel;
  settings: ServerConnection.ISettings;
  /** Called with the fraction sent (0..1). */
  onProgress?: (fraction: number) => void;
  /** Aborts the upload. */
  signal?: AbortSignal;
  /** Translated messages for failures the server did not describe. */
  messages?: { failed: string; cancelled: string };
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

/** The headers that authenticate a request outside ServerConnection. */
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

/**
 * Upload `file`; resolves with the server's summary of it.
 *
 * @throws NbChatRequestError with the server's message (status 0 when the
 *   server could not be reached, or the upload was aborted).
 */
export function uploadFile(options: IUploadOptions): Promise<IFileSummary> {
  const { file, name, dir, level, settings, onProgress, signal } = options;
  const messages = options.messages ?? {
    failed: 'The upload did not complete.',
    cancelled: 'Upload cancelled.'
  };
  const endpoint = 'files/upload';
  return new Promise<IFileSummary>((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('PUT', uploadUrl(settings.baseUrl, dir, name, level));
    const cookie = typeof document === 'undefined' ? '' : document.cookie;
    for (const [key, value] of Object.entries(authHeaders(settings, cookie))) {
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
          reject(new NbChatRequestError(String(reason), xhr.status, endpoint));
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
