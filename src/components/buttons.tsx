/**
 * The panel's icon buttons: an icon, an accessible name, a tooltip.
 */

import type { LabIcon } from '@jupyterlab/ui-components';
import React from 'react';

/** A button showing only `icon`; `label` is its accessible name. */
export function IconButton(props: {
  icon: LabIcon;
  label: string;
  /** Tooltip; the label when absent. */
  title?: string;
  onClick: () => void;
  size?: 'small' | 'normal';
  disabled?: boolean;
  className?: string;
}): JSX.Element {
  const { icon, label, title, onClick, size, disabled, className } = props;
  return (
    <button
      type="button"
      className={`jp-NbChat-iconButton${className ? ` ${className}` : ''}`}
      aria-label={label}
      title={title ?? label}
      disabled={disabled}
      onClick={onClick}
    >
      <icon.react tag="span" elementSize={size ?? 'normal'} />
    </button>
  );
}
