/**
 * Markdown and images rendered by JupyterLab's own renderers (sanitised, themed).
 */

import type { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import { MimeModel } from '@jupyterlab/rendermime';
import React, { RefObject, useEffect, useRef } from 'react';

const MARKDOWN = 'text/markdown';

/**
 * Render `data` as `mime` into the element of `host` with the registry's
 * renderer; `finish` may adjust the rendered node before it is shown (read at
 * render time, so a new callback does not render again).
 *
 * @returns Whether the registry can render it (otherwise show a fallback).
 */
function useRendered(
  host: RefObject<HTMLDivElement>,
  rendermime: IRenderMimeRegistry | null,
  mime: string,
  data: string,
  finish?: (node: HTMLElement) => void
): boolean {
  const finishRef = useRef(finish);
  finishRef.current = finish;
  const canRender = !!rendermime?.preferredMimeType({ [mime]: data });

  useEffect(() => {
    const node = host.current;
    if (!node || !rendermime || !canRender) {
      return;
    }
    const renderer = rendermime.createRenderer(mime);
    let live = true;
    renderer
      .renderModel(new MimeModel({ data: { [mime]: data } }))
      .then(() => {
        if (live) {
          finishRef.current?.(renderer.node);
          node.replaceChildren(renderer.node);
        }
      })
      .catch(() => {
        if (live && mime === MARKDOWN) {
          node.textContent = data;
        }
      });
    return () => {
      live = false;
      renderer.dispose();
    };
  }, [host, rendermime, canRender, mime, data]);
  return canRender;
}

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
  const canRender = useRendered(host, rendermime, MARKDOWN, text, decorate);
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
  const canRender = useRendered(host, rendermime, mime, data, node =>
    node.querySelector('img')?.setAttribute('alt', label)
  );
  if (!canRender) {
    return (
      <div className="jp-NbChat-image">
        <img src={`data:${mime};base64,${data}`} alt={label} />
      </div>
    );
  }
  return <div className="jp-NbChat-image" ref={host} />;
}
