/**
 * The attached data files of one chat: uploads with their progress, what
 * Claude will be told about the files, and problems to show. No React here;
 * views listen to `changed`.
 *
 * The files themselves are in the notebook's record (`metadata.nbchat`),
 * which the server folds: attaching, detaching and choosing a level are
 * changes sent to `POST nbchat/record`, whose answer the chat sets as is.
 */

import type { IDisposable } from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';

import { errorMessage, NbChatApi } from '../api/client';
import type {
  ContextLevel,
  IAttachment,
  IRecordChanged,
  IManifestEvent,
  RecordChange
} from '../api/types';
import { folderOf } from './datafiles';

/** Messages shown here (translated by the caller). */
export interface IAttachmentMessages {
  uploadFailed: string;
  uploadCancelled: string;
}

/** A file being uploaded from the computer. */
export interface IUploadState {
  id: number;
  name: string;
  /** 0..1 */
  progress: number;
}

/** A problem shown next to the attach area until dismissed. */
export interface IAttachError {
  id: number;
  message: string;
  /** The file it is about, when there is one ('' otherwise). */
  name: string;
}

/** What the attach area renders besides the recorded files. */
export interface IAttachmentsState {
  /** What Claude will be told about the attachments ('' with none). */
  prompt: string;
  /** A request that may change the prompt is in flight. */
  inspecting: boolean;
  uploads: readonly IUploadState[];
  errors: readonly IAttachError[];
}

/** Construction options of ChatAttachments. */
export interface IChatAttachmentsOptions {
  api: Pick<NbChatApi, 'inspect' | 'upload'>;
  /** The notebook's current path (renames are followed). */
  notebookPath: () => string;
  /** The recorded files, in the order they were attached. */
  attachments: () => readonly IAttachment[];
  /** The chat's level (recorded, else the settings'). */
  contextLevel: () => ContextLevel;
  /** Send one change of the record; the chat applies the answer's record. */
  change: (change: RecordChange) => Promise<IRecordChanged>;
  /** Files were attached: get the executor ready. */
  attached?: () => void;
  messages: IAttachmentMessages;
}

/** The data files of one notebook's chat. */
export class ChatAttachments implements IDisposable {
  constructor(options: IChatAttachmentsOptions) {
    this._options = options;
    this._messages = options.messages;
  }

  /** Emitted whenever `state` (or the recorded files, see `recordChanged`) change. */
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  get state(): IAttachmentsState {
    return this._state;
  }

  /** The attached files, in the order they were attached. */
  get files(): readonly IAttachment[] {
    return this._options.attachments();
  }

  get contextLevel(): ContextLevel {
    return this._options.contextLevel();
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  /** The record changed (from anywhere): views of the files refresh. */
  recordChanged(): void {
    this._changed.emit();
  }

  /**
   * Attach files already under the server root. A refusal (too many files,
   * unreadable, missing) is shown and nothing attached before is lost.
   */
  async attach(paths: readonly string[]): Promise<boolean> {
    const current = new Set(this.files.map(a => a.path));
    const added = paths.filter(p => p !== '' && !current.has(p));
    if (added.length === 0) {
      return true;
    }
    const done = await this._change({ attach: [...new Set(added)] });
    if (done) {
      this._options.attached?.();
    }
    return done;
  }

  /** Detach a file (it stays on disk). */
  async detach(path: string): Promise<void> {
    const removed = this.files.find(a => a.path === path);
    if (!removed) {
      return;
    }
    // Problems about the removed file no longer apply.
    this._setState({
      errors: this._state.errors.filter(e => e.name !== removed.summary.name)
    });
    await this._change({ detach: path });
  }

  /** Choose how much Claude is told; the preview follows. */
  async setContextLevel(level: ContextLevel): Promise<void> {
    if (level !== this.contextLevel) {
      await this._change({ context_level: level });
    }
  }

  /**
   * Upload files from the computer into the notebook's folder, showing each
   * one's progress, and attach those the server accepted.
   */
  async upload(files: readonly File[]): Promise<void> {
    const dir = folderOf(this._options.notebookPath());
    await Promise.all(
      files.map(async file => {
        const id = ++this._ids;
        const controller = new AbortController();
        this._aborts.set(id, controller);
        this._setState({
          uploads: [
            ...this._state.uploads,
            { id, name: file.name, progress: 0 }
          ]
        });
        let path: string | null = null;
        try {
          const summary = await this._options.api.upload({
            file,
            name: file.name,
            dir,
            level: this.contextLevel,
            signal: controller.signal,
            messages: {
              failed: this._messages.uploadFailed,
              cancelled: this._messages.uploadCancelled
            },
            onProgress: progress => {
              this._setState({
                uploads: this._state.uploads.map(u =>
                  u.id === id ? { ...u, progress } : u
                )
              });
            }
          });
          path = summary.path;
        } catch (reason) {
          if (!controller.signal.aborted) {
            this.addError(errorMessage(reason), file.name);
          }
        } finally {
          this._aborts.delete(id);
          this._setState({
            uploads: this._state.uploads.filter(u => u.id !== id)
          });
        }
        if (path !== null) {
          await this.attach([path]);
        }
      })
    );
  }

  /** Stop an upload in progress. */
  cancelUpload(id: number): void {
    this._aborts.get(id)?.abort();
  }

  /** Ask the server what Claude will see of the recorded files (the preview only). */
  async refreshPreview(): Promise<void> {
    const paths = this.files.map(a => a.path);
    if (paths.length === 0) {
      this._setState({ prompt: '' });
      return;
    }
    this._setState({ inspecting: true });
    try {
      const result = await this._options.api.inspect({
        paths,
        level: this.contextLevel,
        notebook_path: this._options.notebookPath()
      });
      this._accepted(result.prompt);
    } catch (reason) {
      this._setState({ inspecting: false });
      this.addError(errorMessage(reason));
    }
  }

  /** A turn's manifest: exactly what Claude was told at the chat's level. */
  manifest(event: IManifestEvent): void {
    if (event.level === this.contextLevel) {
      this._setState({ prompt: event.prompt });
    }
  }

  /** Forget a shown problem. */
  dismissError(id: number): void {
    this._setState({ errors: this._state.errors.filter(e => e.id !== id) });
  }

  /** Show a problem next to the attach area (the same message twice is shown once). */
  addError(message: string, name = ''): void {
    const errors = this._state.errors.filter(e => e.message !== message);
    this._setState({
      errors: [...errors, { id: ++this._ids, message, name }]
    });
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    this._aborts.forEach(controller => controller.abort());
    this._aborts.clear();
    Signal.clearData(this);
  }

  /** Send a change of the record; on refusal show why and return false. */
  private async _change(change: RecordChange): Promise<boolean> {
    this._setState({ inspecting: true });
    try {
      const answer = await this._options.change(change);
      this._accepted(answer.prompt);
      return true;
    } catch (reason) {
      this._setState({ inspecting: false });
      this.addError(errorMessage(reason));
      return false;
    }
  }

  /**
   * The server took the chat's files: a general problem (too many files, a
   * missing one) is over.
   */
  private _accepted(prompt: string): void {
    this._setState({
      inspecting: false,
      prompt,
      errors: this._state.errors.filter(e => e.name !== '')
    });
  }

  private _setState(patch: Partial<IAttachmentsState>): void {
    if (this._isDisposed) {
      return;
    }
    this._state = { ...this._state, ...patch };
    this._changed.emit();
  }

  private readonly _options: IChatAttachmentsOptions;
  private readonly _messages: IAttachmentMessages;
  private readonly _changed = new Signal<this, void>(this);
  private readonly _aborts = new Map<number, AbortController>();
  private _state: IAttachmentsState = {
    prompt: '',
    inspecting: false,
    uploads: [],
    errors: []
  };
  private _ids = 0;
  private _isDisposed = false;
}
