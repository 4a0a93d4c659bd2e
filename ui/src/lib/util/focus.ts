import type { Attachment } from "svelte/attachments";

/**
 * Focuses the element once it is on screen, e.g. the first field of a step that replaces
 * another inside an open dialog (the dialog only moves focus when it opens).
 * Pass `false` to leave focus where it is.
 */
export function focusOnMount(enabled = true): Attachment<HTMLElement> {
  return (element) => {
    if (enabled) element.focus();
  };
}
