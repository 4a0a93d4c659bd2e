// The inbox commands and the inbox event from the generated bindings. Components use `api`
// from `$lib/api`, never this file. Looked up on each call, so a test that mocks
// `$lib/bindings` with only some commands still loads this module.
import { commands, events, type InboxEvent } from "$lib/bindings";

export const inboxCommands = {
  listInbox: (...args: Parameters<typeof commands.listInbox>) => commands.listInbox(...args),
  changeInbox: (...args: Parameters<typeof commands.changeInbox>) => commands.changeInbox(...args),
  syncInbox: (...args: Parameters<typeof commands.syncInbox>) => commands.syncInbox(...args),
  replyInbox: (...args: Parameters<typeof commands.replyInbox>) => commands.replyInbox(...args),
  checkReply: (...args: Parameters<typeof commands.checkReply>) => commands.checkReply(...args),
  inboxSummary: (...args: Parameters<typeof commands.inboxSummary>) => commands.inboxSummary(...args),
  inboxThread: (...args: Parameters<typeof commands.inboxThread>) => commands.inboxThread(...args),
  reactInbox: (...args: Parameters<typeof commands.reactInbox>) => commands.reactInbox(...args),
  listInboxRules: (...args: Parameters<typeof commands.listInboxRules>) => commands.listInboxRules(...args),
  saveInboxRule: (...args: Parameters<typeof commands.saveInboxRule>) => commands.saveInboxRule(...args),
  deleteInboxRule: (...args: Parameters<typeof commands.deleteInboxRule>) => commands.deleteInboxRule(...args),
};

/**
 * Calls `callback` for every inbox event (new items arrived, a rule asked to notify, the
 * database changed).
 * Resolves with a function that stops listening. Never rejects: without the Tauri runtime
 * (a plain browser) nothing is heard and the stop function does nothing.
 */
export async function onInboxEvent(callback: (event: InboxEvent) => void): Promise<() => void> {
  try {
    const unlisten = await events.inboxChanged.listen((event) => callback(event.payload));
    return () => unlisten();
  } catch (error) {
    console.warn("could not listen to inbox events", error);
    return () => {};
  }
}
