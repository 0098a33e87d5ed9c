/**
 * Markdown and images rendered by JupyterLab's own renderers (sanitised, themed).
 */

import type { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import { MimeModel } from '@jupyterlab/rendermime';
import React, { useEffect, useRef } from 'react';

const MARKDOWN = 'text/markdown';

/** Props of MarkdownView. */
export interface IMarkdownViewProps {
  text: string;
  /** Without a registry (or a markdown renderer) the text is shown as is. */
  rendermime: IRenderMimeRegistry | null;
  className?: string;
  /** Called with the rendered node (e.g. to link cell references); read at render time. */
  decorate?: (node: HTMLElement) => void;
}

/** Render `text` as markdown with the registry's `text/markdown` renderer. */
export function MarkdownView(props: IMarkdownViewProps): JSX.Element {
  const { text, rendermime, className, decorate } = props;
  const host = useRef<HTMLDivElement>(null);
  // The latest callback, without re-rendering the markdown when it changes.
  const decorateRef = useRef(decorate);
  decorateRef.current = decorate;
  const canRender = !!rendermime?.preferredMimeType({ [MARKDOWN]: text });

  useEffect(() => {
    const node = host.current;
    if (!node || !rendermime || !canRender) {
      return;
    }
    const renderer = rendermime.createRenderer(MARKDOWN);
    let live = true;
    renderer
      .renderModel(new MimeModel({ data: { [MARKDOWN]: text } }))
      .then(() => {
        if (live) {
          decorateRef.current?.(renderer.node);
          node.replaceChildren(renderer.node);
        }
      })
      .catch(() => {
        if (live) {
          node.textContent = text;
        }
      });
    return () => {
      live = false;
      renderer.dispose();
    };
  }, [text, rendermime, canRender]);

  if (!canRender) {
    return (
      <div className={`${className ?? ''} jp-NbChat-plainText`}>{text}</div>
    );
  }
  return <div className={className} ref={host} />;
}

/** Props of ImageView. */
export interface IImageViewProps {
  mime: 'image/png' | 'image/jpeg';
  /** Base64. */
  data: string;
  rendermime: IRenderMimeRegistry | null;
  /** The image's accessible name. */
  label: string;
}

/** A cell's plot, through the registry's image renderer (an <img> without one). */
export function ImageView(props: IImageViewProps): JSX.Element {
  const { mime, data, rendermime, label } = props;
  const host = useRef<HTMLDivElement>(null);
  const canRender = !!rendermime?.preferredMimeType({ [mime]: data });

  useEffect(() => {
    const node = host.current;
    if (!node || !rendermime || !canRender) {
      return;
    }
    const renderer = rendermime.createRenderer(mime);
    let live = true;
    void renderer
      .renderModel(new MimeModel({ data: { [mime]: data } }))
      .then(() => {
        if (live) {
          renderer.node.querySelector('img')?.setAttribute('alt', label);
          node.replaceChildren(renderer.node);
        }
      });
    return () => {
      live = false;
      renderer.dispose();
    };
  }, [mime, data, rendermime, canRender, label]);

  if (!canRender) {
    return (
      <div className="jp-NbChat-image">
        <img src={`data:${mime};base64,${data}`} alt={label} />
      </div>
    );
  }
  return <div className="jp-NbChat-image" ref={host} />;
}
