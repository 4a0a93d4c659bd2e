// The scheduling commands and the schedule event from the generated bindings. Components use
// `api` from `$lib/api`, never this file. Looked up on each call, so a test that mocks
// `$lib/bindings` with only some commands still loads this module.
import { commands, events, type PublishEvent } from "$lib/bindings";

export const scheduleCommands = {
  getScheduling: () => commands.getScheduling(),
  setScheduling: (...args: Parameters<typeof commands.setScheduling>) => commands.setScheduling(...args),
  checkTime: (...args: Parameters<typeof commands.checkTime>) => commands.checkTime(...args),
  schedulePost: (...args: Parameters<typeof commands.schedulePost>) => commands.schedulePost(...args),
  addToQueue: (...args: Parameters<typeof commands.addToQueue>) => commands.addToQueue(...args),
  setRepeat: (...args: Parameters<typeof commands.setRepeat>) => commands.setRepeat(...args),
  listSchedule: (...args: Parameters<typeof commands.listSchedule>) => commands.listSchedule(...args),
  rescheduleTarget: (...args: Parameters<typeof commands.rescheduleTarget>) => commands.rescheduleTarget(...args),
  pauseTarget: (...args: Parameters<typeof commands.pauseTarget>) => commands.pauseTarget(...args),
  resumeTarget: (...args: Parameters<typeof commands.resumeTarget>) => commands.resumeTarget(...args),
  cancelTarget: (...args: Parameters<typeof commands.cancelTarget>) => commands.cancelTarget(...args),
  publishTargetNow: (...args: Parameters<typeof commands.publishTargetNow>) => commands.publishTargetNow(...args),
  unschedulePost: (...args: Parameters<typeof commands.unschedulePost>) => commands.unschedulePost(...args),
  getQueueSlots: (...args: Parameters<typeof commands.getQueueSlots>) => commands.getQueueSlots(...args),
  setQueueSlots: (...args: Parameters<typeof commands.setQueueSlots>) => commands.setQueueSlots(...args),
};

/**
 * Calls `callback` for every schedule event (published, handed off, failed, missed, changed).
 * Resolves with a function that stops listening. Never rejects: without the Tauri runtime
 * (a plain browser) nothing is heard and the stop function does nothing.
 */
export async function onScheduleEvent(callback: (event: PublishEvent) => void): Promise<() => void> {
  try {
    const unlisten = await events.scheduleEvent.listen((event) => callback(event.payload));
    return () => unlisten();
  } catch (error) {
    console.warn("could not listen to schedule events", error);
    return () => {};
  }
}
