// The compose commands from the generated bindings. Components use `api` from `$lib/api`,
// never this file.
import { commands } from "$lib/bindings";

export const composeCommands = {
  getDraft: commands.getDraft,
  saveDraft: commands.saveDraft,
  discardDraft: commands.discardDraft,
  importMedia: commands.importMedia,
  checkPost: commands.checkPost,
  splitThread: commands.splitThread,
  publishNow: commands.publishNow,
  retryFailed: commands.retryFailed,
};

/**
 * Opens a web page (a published post) in the system browser; the webview itself never
 * navigates away. Quiet on failure: there is nothing the user could do about it here.
 */
export async function openExternal(url: string): Promise<void> {
  try {
    const result = await commands.openUrl(url);
    if (result.status === "error") console.warn("could not open the link in the browser", result.error);
  } catch (error) {
    console.warn("could not open the link in the browser", error);
  }
}
