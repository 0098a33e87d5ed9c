/**
 * useSignalRefresh: a component shows what its signal last said, even when the
 * signal fired between the component's first render and React's effects.
 */
import { Signal } from '@lumino/signaling';
import React, { act } from 'react';
import { createRoot, Root } from 'react-dom/client';

import { useSignalRefresh } from '../components/hooks';

/** A value that changes and says so, like NotebookChats' server state. */
class Source {
  value = 'loading';
  readonly changed = new Signal<this, void>(this);
  set(value: string): void {
    this.value = value;
    this.changed.emit();
  }
}

function Show(props: { source: Source; onRender: () => void }): JSX.Element {
  useSignalRefresh(props.source.changed);
  const text = props.source.value;
  props.onRender();
  return <span>{text}</span>;
}

// Tells React this is a test: act() flushes renders and effects before it returns.
(
  globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }
).IS_REACT_ACT_ENVIRONMENT = true;

describe('useSignalRefresh', () => {
  let host: HTMLDivElement;
  let root: Root;

  beforeEach(() => {
    host = document.createElement('div');
    document.body.appendChild(host);
    root = createRoot(host);
  });

  afterEach(() => {
    act(() => root.unmount());
    host.remove();
  });

  it('shows a change made after the first render, before the effect connected', () => {
    const source = new Source();
    let renders = 0;
    act(() => {
      root.render(
        <Show
          source={source}
          onRender={() => {
            renders += 1;
            if (renders === 1) {
              // The server's status arrives once React has rendered "loading" but
              // before it ran the component's effects (a busy page).
              source.set('ready');
            }
          }}
        />
      );
    });
    expect(host.textContent).toBe('ready');
  });

  it('follows later changes, and stops listening once unmounted', () => {
    const source = new Source();
    act(() => root.render(<Show source={source} onRender={() => undefined} />));
    act(() => source.set('ready'));
    expect(host.textContent).toBe('ready');
    act(() => root.unmount());
    root = createRoot(host);
    source.set('gone');
    expect(host.textContent).toBe('');
  });
});
