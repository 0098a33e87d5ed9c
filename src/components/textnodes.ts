/**
 * The text nodes of rendered markdown that a pass may rewrite (cell links,
 * number marks), collected before any is changed.
 */

/** Every text node under `root` not inside an element matching `skip`. */
export function textNodes(root: HTMLElement, skip: string): Text[] {
  const walker = root.ownerDocument.createTreeWalker(
    root,
    NodeFilter.SHOW_TEXT
  );
  const texts: Text[] = [];
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (!node.parentElement?.closest(skip)) {
      texts.push(node as Text);
    }
  }
  return texts;
}
