import { beforeEach, describe, expect, it, vi } from "vitest";
import { fireEvent, render, screen, within } from "@testing-library/svelte";
import { createMockApi } from "../../test/mockApi";
import { account, capabilities, dataTransfer, queueItem, resetStores, workspace } from "../../test/fixtures";

const api = vi.hoisted(() => ({}) as ReturnType<typeof createMockApi>);
vi.mock("$lib/api", async (importOriginal) => {
  const actual = await importOriginal<typeof import("$lib/api")>();
  const { createMockApi } = await import("../../test/mockApi");
  Object.assign(api, createMockApi());
  return { ...actual, api };
});

import { AppError, type PublishEvent, type QueueItem, type ScheduleFilter } from "$lib/api";
import { setLocale } from "$lib/i18n";
import { calendarView, returnedPost } from "$lib/stores/calendar.svelte";
import { navigation } from "$lib/stores/navigation.svelte";
import { toasts } from "$lib/stores/toasts.svelte";
import CalendarScreen from "./CalendarScreen.svelte";

const ada = account({ id: "acc-1", network: "bluesky", handle: "ada.bsky.social" });
const grace = account({
  id: "acc-2",
  network: "mastodon",
  handle: "grace@mastodon.social",
  capabilities: capabilities({ publishText: true, nativeScheduling: true }),
});

/** What the core would answer: the items of the range asked for (by UTC instant). */
function serve(items: QueueItem[]) {
  api.listSchedule.mockImplementation(async (filter: ScheduleFilter) =>
    items.filter(
      (item) =>
        item.scheduledAt !== null &&
        (filter.from === null || item.scheduledAt >= filter.from) &&
        (filter.to === null || item.scheduledAt < filter.to) &&
        (filter.states == null || filter.states.includes(item.state)),
    ),
  );
}

function day(key: string) {
  return screen.getAllByTestId("calendar-day").find((cell) => cell.dataset.day === key)!;
}

function chip(targetId: string) {
  return screen.getAllByTestId("calendar-item").find((c) => c.dataset.targetId === targetId)!;
}

function emit(event: PublishEvent) {
  for (const [callback] of api.onScheduleEvent.mock.calls) callback(event);
}

beforeEach(() => {
  vi.clearAllMocks();
  resetStores([workspace()]);
  navigation.screen = "calendar";
  calendarView.anchor = "2026-12-01";
  api.listAccounts.mockResolvedValue([ada, grace]);
  api.onScheduleEvent.mockResolvedValue(() => {});
  api.getScheduling.mockResolvedValue({ graceMinutes: 15, paused: false, startAtLogin: false });
  api.checkTime.mockImplementation(async (_ws: string, wallClock: string) => ({
    utc: `${wallClock.replace(" ", "T")}:00Z`,
    problem: null,
    choices: [],
  }));
  serve([]);
});

describe("calendar", () => {
  it("places items by their wall clock in the workspace's zone, even when UTC is another day", async () => {
    resetStores([workspace({ id: "ws-nz", name: "Kiwi", timeZone: "Pacific/Auckland" })]);
    calendarView.anchor = "2026-12-01";
    serve([
      // 08:30 on Dec 10 in Auckland is still Dec 9 in UTC.
      queueItem({ targetId: "t-nz", workspaceId: "ws-nz", scheduledAt: "2026-12-09T19:30:00.000Z", localTime: "2026-12-10 08:30", scheduledZone: "Pacific/Auckland" }),
      queueItem({ targetId: "t-2", accountId: "acc-2", network: "mastodon", handle: "grace@mastodon.social", heldBy: "network", state: "handed_off", scheduledAt: "2026-12-15T03:00:00.000Z", localTime: "2026-12-15 16:00" }),
      // Not handed over yet: Postwerk will do so shortly.
      queueItem({ targetId: "t-3", accountId: "acc-2", network: "mastodon", handle: "grace@mastodon.social", heldBy: "postwerk", handOff: true, scheduledAt: "2026-12-16T03:00:00.000Z", localTime: "2026-12-16 16:00" }),
    ]);
    render(CalendarScreen);
    await screen.findAllByTestId("calendar-item");

    expect(screen.getByTestId("calendar-title").textContent).toBe("December 2026");
    expect(screen.getByTestId("calendar-zone").textContent).toContain("Pacific/Auckland");
    // Monday Nov 30 … Sunday Jan 10, asked for with a day to spare on each side.
    expect(api.listSchedule).toHaveBeenCalledWith({
      workspaceId: "ws-nz",
      accountId: null,
      from: "2026-11-29T00:00:00.000Z",
      to: "2027-01-12T00:00:00.000Z",
    });
    const days = screen.getAllByTestId("calendar-day");
    expect(days).toHaveLength(42);
    expect(days[0]!.dataset.day).toBe("2026-11-30");

    expect(within(day("2026-12-10")).getByTestId("calendar-item").dataset.targetId).toBe("t-nz");
    expect(within(day("2026-12-09")).queryByTestId("calendar-item")).toBeNull();
    expect(within(chip("t-nz")).getByTestId("calendar-item-time").textContent).toBe("8:30 AM");
    expect(chip("t-nz").textContent).toContain("@ada.bsky.social");
    expect(chip("t-nz").textContent).toContain("Frische Brötchen");
    expect(within(chip("t-nz")).getByTestId("held-by").dataset.heldBy).toBe("postwerk");

    const held = chip("t-2");
    expect(day("2026-12-15").contains(held)).toBe(true);
    expect(within(held).getByTestId("held-by").textContent).toContain("Held by Mastodon");
    expect(held.getAttribute("style")).toContain("--net: #6364ff");
    expect(within(chip("t-3")).getByTestId("held-by").dataset.heldBy).toBe("handingOver");
  });

  it("shows the week with items in their hour and moves between weeks", async () => {
    calendarView.view = "week";
    calendarView.anchor = "2026-12-09";
    serve([queueItem({ targetId: "t-1", localTime: "2026-12-09 09:15", scheduledAt: "2026-12-09T08:15:00.000Z" })]);
    render(CalendarScreen);
    const item = await screen.findByTestId("calendar-item");
    const slot = item.closest<HTMLElement>("[data-testid='calendar-slot']")!;
    expect([slot.dataset.day, slot.dataset.hour]).toEqual(["2026-12-09", "9"]);
    const title = () => screen.getByTestId("calendar-title").textContent?.replace(/\s+/g, " ");
    expect(title()).toBe("Dec 7 – 13, 2026");

    await fireEvent.click(screen.getByTestId("calendar-next"));
    await vi.waitFor(() => expect(title()).toBe("Dec 14 – 20, 2026"));
    expect(api.listSchedule).toHaveBeenCalledWith(expect.objectContaining({ states: expect.arrayContaining(["missed", "scheduled"]) }));
    expect(api.listSchedule).toHaveBeenCalledWith({ workspaceId: "ws-1", accountId: null, from: "2026-12-13T00:00:00.000Z", to: "2026-12-22T00:00:00.000Z" });
    await vi.waitFor(() => expect(screen.queryByTestId("calendar-item")).toBeNull());
    expect(screen.getByTestId("calendar-empty").textContent).toContain("No posts scheduled this week — write one");
  });

  it("leads to Compose when nothing is scheduled", async () => {
    render(CalendarScreen);
    const empty = await screen.findByTestId("calendar-empty");
    expect(empty.textContent).toContain("No posts scheduled this month — write one");
    await fireEvent.click(screen.getByTestId("calendar-write"));
    expect(navigation.screen).toBe("compose");
  });

  it("asks to connect an account first", async () => {
    api.listAccounts.mockResolvedValue([]);
    render(CalendarScreen);
    const action = await screen.findByTestId("empty-action");
    await fireEvent.click(action);
    expect(navigation.screen).toBe("accounts");
  });

  it("moves a dragged item to another day at the same time of day", async () => {
    serve([queueItem({ targetId: "t-1", localTime: "2026-12-09 09:00" })]);
    api.rescheduleTarget.mockImplementation(async (targetId: string, wallClock: string) =>
      queueItem({ targetId, localTime: wallClock, scheduledLocal: wallClock, scheduledAt: "2026-12-11T08:00:00.000Z" }),
    );
    render(CalendarScreen);
    const item = await screen.findByTestId("calendar-item");
    const transfer = dataTransfer();
    await fireEvent.dragStart(item, { dataTransfer: transfer });
    expect(transfer.getData("application/x-postwerk-target")).toBe("t-1");
    await fireEvent.dragOver(day("2026-12-11"), { dataTransfer: transfer });
    expect(day("2026-12-11").classList.contains("over")).toBe(true);
    await fireEvent.drop(day("2026-12-11"), { dataTransfer: transfer });
    await fireEvent.dragEnd(item, { dataTransfer: transfer });

    await vi.waitFor(() => expect(api.rescheduleTarget).toHaveBeenCalledWith("t-1", "2026-12-11 09:00"));
    expect(api.checkTime).toHaveBeenCalledWith("ws-1", "2026-12-11 09:00");
    await vi.waitFor(() => expect(day("2026-12-11").contains(chip("t-1"))).toBe(true));
    expect(within(day("2026-12-09")).queryByTestId("calendar-item")).toBeNull();
  });

  it("moves a dragged item to another day and hour in the week, keeping its minutes", async () => {
    calendarView.view = "week";
    calendarView.anchor = "2026-12-09";
    serve([queueItem({ targetId: "t-1", localTime: "2026-12-09 09:45" })]);
    api.rescheduleTarget.mockImplementation(async (targetId: string, wallClock: string) => queueItem({ targetId, localTime: wallClock }));
    render(CalendarScreen);
    const item = await screen.findByTestId("calendar-item");
    const target = screen.getAllByTestId("calendar-slot").find((s) => s.dataset.day === "2026-12-10" && s.dataset.hour === "14")!;
    const transfer = dataTransfer();
    await fireEvent.dragStart(item, { dataTransfer: transfer });
    await fireEvent.dragOver(target, { dataTransfer: transfer });
    await fireEvent.drop(target, { dataTransfer: transfer });
    await vi.waitFor(() => expect(api.rescheduleTarget).toHaveBeenCalledWith("t-1", "2026-12-10 14:45"));
    await vi.waitFor(() => expect(target.contains(chip("t-1"))).toBe(true));
  });

  it("puts a dragged item back and says why when the move fails", async () => {
    serve([queueItem({ targetId: "t-1", localTime: "2026-12-09 09:00" })]);
    let refuse: (error: unknown) => void = () => {};
    api.rescheduleTarget.mockImplementation(() => new Promise((_, reject) => (refuse = reject)));
    render(CalendarScreen);
    const item = await screen.findByTestId("calendar-item");
    await fireEvent.dragStart(item, { dataTransfer: dataTransfer() });
    await fireEvent.drop(day("2026-12-12"), { dataTransfer: dataTransfer() });
    // Shown at the new day while the core works on it.
    await vi.waitFor(() => expect(day("2026-12-12").contains(chip("t-1"))).toBe(true));
    expect(chip("t-1").getAttribute("aria-busy")).toBe("true");

    refuse(new AppError("network_unavailable", "mastodon.social did not answer"));
    await vi.waitFor(() => expect(day("2026-12-09").contains(chip("t-1"))).toBe(true));
    expect(toasts.items.at(-1)).toMatchObject({
      tone: "error",
      title: "Couldn’t move the post of @ada.bsky.social",
      detail: "The network could not be reached: mastodon.social did not answer",
    });
  });

  it("does not drag a published post", async () => {
    serve([queueItem({ targetId: "t-1", state: "published", heldBy: "nobody", url: "https://bsky.app/profile/ada/post/1" })]);
    render(CalendarScreen);
    const item = await screen.findByTestId("calendar-item");
    expect(item.getAttribute("draggable")).toBe("false");
    await fireEvent.drop(day("2026-12-12"), { dataTransfer: dataTransfer() });
    expect(api.rescheduleTarget).not.toHaveBeenCalled();
  });

  it("opens the details to choose when a drop lands in an hour the clocks repeat", async () => {
    serve([queueItem({ targetId: "t-1", localTime: "2026-12-09 02:30" })]);
    api.checkTime.mockImplementation(async (_ws: string, wallClock: string) =>
      wallClock === "2026-12-12 02:30"
        ? {
            utc: null,
            problem: "2026-12-12 02:30 happens twice in Europe/Berlin: the clocks repeat that hour",
            choices: [
              { utc: "2026-12-12T00:30:00Z", local: "2026-12-12 02:30 +02:00" },
              { utc: "2026-12-12T01:30:00Z", local: "2026-12-12 02:30 +01:00" },
            ],
          }
        : { utc: `${wallClock.replace(" ", "T")}:00Z`, problem: null, choices: [] },
    );
    api.rescheduleTarget.mockImplementation(async (targetId: string, wallClock: string) =>
      queueItem({ targetId, localTime: wallClock.slice(0, 16) }),
    );
    render(CalendarScreen);
    const item = await screen.findByTestId("calendar-item");
    await fireEvent.dragStart(item, { dataTransfer: dataTransfer() });
    await fireEvent.drop(day("2026-12-12"), { dataTransfer: dataTransfer() });

    const dialog = await screen.findByTestId("item-dialog");
    expect(api.rescheduleTarget).not.toHaveBeenCalled();
    expect(day("2026-12-09").contains(chip("t-1"))).toBe(true);
    const problem = await within(dialog).findByTestId("move-problem");
    expect(problem.textContent).toContain("happens twice");
    const choices = within(problem).getAllByTestId("move-choice");
    expect(choices.map((c) => c.textContent?.trim())).toEqual(["Sat, Dec 12, 2:30 AM (UTC+02:00)", "Sat, Dec 12, 2:30 AM (UTC+01:00)"]);
    const move = within(dialog).getByTestId("item-move") as HTMLButtonElement;
    expect(move.disabled).toBe(true);
    await fireEvent.click(choices[1]!);
    expect(choices[1]!.getAttribute("aria-pressed")).toBe("true");
    await fireEvent.click(move);
    await vi.waitFor(() => expect(api.rescheduleTarget).toHaveBeenCalledWith("t-1", "2026-12-12 02:30 +01:00"));
  });

  it("moves an item from its details without dragging", async () => {
    serve([queueItem({ targetId: "t-1", localTime: "2026-12-09 09:00" })]);
    api.rescheduleTarget.mockImplementation(async (targetId: string, wallClock: string) => queueItem({ targetId, localTime: wallClock }));
    render(CalendarScreen);
    await fireEvent.click(await screen.findByTestId("calendar-item"));
    const dialog = await screen.findByTestId("item-dialog");
    expect(within(dialog).getByTestId("item-when").textContent).toContain("Wednesday, December 9, 2026 at 9:00 AM");
    expect(within(dialog).getByTestId("held-by").textContent).toContain("Needs Postwerk running");
    const date = within(dialog).getByTestId("move-date") as HTMLInputElement;
    const time = within(dialog).getByTestId("move-time") as HTMLInputElement;
    expect([date.value, time.value]).toEqual(["2026-12-09", "09:00"]);
    expect((within(dialog).getByTestId("item-move") as HTMLButtonElement).disabled).toBe(true);
    await fireEvent.input(date, { target: { value: "2026-12-20" } });
    await fireEvent.input(time, { target: { value: "17:30" } });
    await vi.waitFor(() => expect(within(dialog).getByTestId("move-resolved").textContent).toContain("Sunday, December 20, 2026 at 5:30 PM"));
    await fireEvent.click(within(dialog).getByTestId("item-move"));
    await vi.waitFor(() => expect(api.rescheduleTarget).toHaveBeenCalledWith("t-1", "2026-12-20 17:30"));
    await vi.waitFor(() => expect(day("2026-12-20").contains(chip("t-1"))).toBe(true));
    expect(within(dialog).getByTestId("item-when").dataset.localTime).toBe("2026-12-20 17:30");

    // WebKit drops focus from a button that becomes disabled: Escape still closes.
    (document.activeElement as HTMLElement | null)?.blur();
    await fireEvent.keyDown(window, { key: "Escape" });
    await vi.waitFor(() => expect(screen.queryByTestId("item-dialog")).toBeNull());
  });

  it("makes missed posts stand out and sends one now", async () => {
    serve([
      queueItem({ targetId: "t-m", state: "missed", heldBy: "nobody", localTime: "2026-12-02 09:00", scheduledAt: "2026-12-02T08:00:00.000Z" }),
    ]);
    api.publishTargetNow.mockResolvedValue({
      targetId: "t-m",
      accountId: "acc-1",
      network: "bluesky",
      handle: "ada.bsky.social",
      state: "published",
      url: "https://bsky.app/profile/ada/post/1",
      errorCode: null,
      error: null,
    });
    render(CalendarScreen);
    const banner = await screen.findByTestId("calendar-missed");
    expect(banner.textContent).toContain("1 post was missed");
    expect(chip("t-m").classList.contains("missed")).toBe(true);
    expect(chip("t-m").textContent).toContain("Missed");

    await fireEvent.click(within(banner).getByTestId("calendar-missed-item"));
    const dialog = await screen.findByTestId("item-dialog");
    expect(within(dialog).getByTestId("item-missed").textContent).toContain("Missed — Postwerk was not running at 9:00 AM");
    // Missed: send now, move, edit or cancel; there is nothing to resume.
    expect(within(dialog).getByTestId("item-publish-now").classList.contains("btn-primary")).toBe(true);
    expect(within(dialog).queryByTestId("item-resume")).toBeNull();
    expect(within(dialog).getByTestId("item-cancel")).toBeTruthy();
    expect(within(dialog).getByTestId("item-move")).toBeTruthy();

    const calls = api.listSchedule.mock.calls.length;
    await fireEvent.click(within(dialog).getByTestId("item-publish-now"));
    await vi.waitFor(() => expect(api.publishTargetNow).toHaveBeenCalledWith("t-m"));
    await vi.waitFor(() => expect(screen.queryByTestId("item-dialog")).toBeNull());
    expect(api.listSchedule.mock.calls.length).toBeGreaterThan(calls);
    expect(toasts.items.at(-1)?.title).toBe("Sent the post for @ada.bsky.social");
  });

  it("pauses, resumes and cancels (after asking)", async () => {
    serve([queueItem({ targetId: "t-1" })]);
    api.pauseTarget.mockResolvedValue(queueItem({ targetId: "t-1", state: "paused", heldBy: "nobody" }));
    api.resumeTarget.mockResolvedValue(queueItem({ targetId: "t-1", state: "scheduled" }));
    api.cancelTarget.mockResolvedValue(queueItem({ targetId: "t-1", state: "cancelled", heldBy: "nobody" }));
    render(CalendarScreen);
    await fireEvent.click(await screen.findByTestId("calendar-item"));
    const dialog = await screen.findByTestId("item-dialog");
    expect(within(dialog).queryByTestId("item-publish-now")).toBeNull();

    within(dialog).getByTestId("item-pause").focus();
    await fireEvent.click(within(dialog).getByTestId("item-pause"));
    await vi.waitFor(() => expect(within(dialog).getByTestId("item-resume")).toBeTruthy());
    // The Pause button is gone: the keyboard stays in the dialog.
    await vi.waitFor(() => expect(dialog.contains(document.activeElement)).toBe(true));
    expect(api.pauseTarget).toHaveBeenCalledWith("t-1");
    expect(chip("t-1").dataset.state).toBe("paused");
    expect(within(dialog).getByTestId("item-publish-now")).toBeTruthy();

    await fireEvent.click(within(dialog).getByTestId("item-resume"));
    await vi.waitFor(() => expect(within(dialog).getByTestId("item-pause")).toBeTruthy());
    expect(api.resumeTarget).toHaveBeenCalledWith("t-1");

    await fireEvent.click(within(dialog).getByTestId("item-cancel"));
    expect(api.cancelTarget).not.toHaveBeenCalled();
    expect(dialog.textContent).toContain("Cancel the post for @ada.bsky.social? It will not be sent.");
    await fireEvent.click(within(dialog).getByTestId("item-cancel-confirm"));
    await vi.waitFor(() => expect(api.cancelTarget).toHaveBeenCalledWith("t-1"));
    await vi.waitFor(() => expect(chip("t-1").dataset.state).toBe("cancelled"));
    expect(chip("t-1").getAttribute("draggable")).toBe("false");
  });

  it("shows a failure with its next try and a link to a published post", async () => {
    serve([
      queueItem({ targetId: "t-f", state: "failed", heldBy: "nobody", error: "the PDS refused the record", nextAttemptAt: "2026-12-09T08:05:00.000Z" }),
      queueItem({ targetId: "t-p", state: "published", heldBy: "nobody", localTime: "2026-12-03 10:00", url: "https://bsky.app/profile/ada/post/3" }),
    ]);
    api.openExternal.mockResolvedValue(undefined);
    render(CalendarScreen);
    await screen.findAllByTestId("calendar-item");
    await fireEvent.click(chip("t-f"));
    let dialog = await screen.findByTestId("item-dialog");
    expect(within(dialog).getByTestId("item-error").textContent).toBe("the PDS refused the record");
    expect(within(dialog).getByTestId("item-next-try").textContent).toBe("Next try: Wed, Dec 9, 9:05 AM");
    await fireEvent.keyDown(dialog, { key: "Escape" });
    await vi.waitFor(() => expect(screen.queryByTestId("item-dialog")).toBeNull());

    await fireEvent.click(chip("t-p"));
    dialog = await screen.findByTestId("item-dialog");
    expect(within(dialog).queryByTestId("item-move")).toBeNull();
    expect(within(dialog).queryByTestId("item-edit")).toBeNull();
    await fireEvent.click(within(dialog).getByTestId("item-link"));
    expect(api.openExternal).toHaveBeenCalledWith("https://bsky.app/profile/ada/post/3");
  });

  it("takes a post back to a draft for editing and opens Compose", async () => {
    serve([queueItem({ targetId: "t-1", postId: "post-9", localTime: "2026-12-09 09:00", repeatDays: 14 })]);
    api.unschedulePost.mockResolvedValue(undefined);
    render(CalendarScreen);
    await fireEvent.click(await screen.findByTestId("calendar-item"));
    const dialog = await screen.findByTestId("item-dialog");
    expect(within(dialog).getByTestId("item-repeat").textContent).toBe("Every 2 weeks");
    await fireEvent.click(within(dialog).getByTestId("item-edit"));
    expect(api.unschedulePost).not.toHaveBeenCalled();
    await fireEvent.click(within(dialog).getByTestId("item-edit-confirm"));
    await vi.waitFor(() => expect(api.unschedulePost).toHaveBeenCalledWith("post-9"));
    expect(navigation.screen).toBe("compose");
    expect(returnedPost.value).toEqual({ postId: "post-9", wallClock: "2026-12-09 09:00", repeat: { everyDays: 14, evergreenGapDays: null } });
  });

  it("says when publishing is paused in Settings", async () => {
    api.getScheduling.mockResolvedValue({ graceMinutes: 15, paused: true, startAtLogin: false });
    render(CalendarScreen);
    const banner = await screen.findByTestId("calendar-paused");
    expect(banner.textContent).toContain("Publishing is paused");
    await fireEvent.click(within(banner).getByRole("button"));
    expect(navigation.screen).toBe("settings");
  });

  it("reloads when the scheduler reports a change", async () => {
    serve([]);
    render(CalendarScreen);
    await screen.findByTestId("calendar-empty");
    serve([queueItem({ targetId: "t-1", state: "handed_off", heldBy: "network", network: "mastodon", handle: "grace@mastodon.social" })]);
    emit({ kind: "handedOff", postId: "post-1", targetId: "t-1", handle: "grace@mastodon.social" });
    const item = await screen.findByTestId("calendar-item");
    expect(item.dataset.state).toBe("handed_off");
  });

  it("speaks German", async () => {
    setLocale("de");
    serve([queueItem({ targetId: "t-m", state: "missed", heldBy: "nobody" })]);
    render(CalendarScreen);
    const banner = await screen.findByTestId("calendar-missed");
    expect(banner.textContent).toContain("1 Beitrag wurde verpasst");
    expect(screen.getByTestId("calendar-title").textContent).toBe("Dezember 2026");
    expect(screen.getByTestId("calendar-view-queue").textContent?.trim()).toBe("Warteschlange");
    expect(chip("t-m").textContent).toContain("Verpasst");
    await fireEvent.click(chip("t-m"));
    const dialog = await screen.findByTestId("item-dialog");
    expect(within(dialog).getByTestId("item-missed").textContent).toContain("Verpasst – Postwerk lief um 09:00 nicht");
  });
});

describe("queue", () => {
  beforeEach(() => {
    calendarView.view = "queue";
    api.getQueueSlots.mockImplementation(async (accountId: string) => (accountId === "acc-1" ? [{ weekday: 0, minute: 540 }] : []));
    api.setQueueSlots.mockImplementation(async (_id: string, slots: unknown) => slots);
  });

  it("lists each account's upcoming posts in order", async () => {
    serve([
      queueItem({ targetId: "t-2", localTime: "2026-12-11 09:00", scheduledAt: "2026-12-11T08:00:00.000Z", queued: true }),
      queueItem({ targetId: "t-1", localTime: "2026-12-10 09:00", scheduledAt: "2026-12-10T08:00:00.000Z" }),
      queueItem({ targetId: "t-x", localTime: "2026-12-10 10:00", scheduledAt: "2026-12-10T09:00:00.000Z", state: "published", heldBy: "nobody" }),
    ]);
    render(CalendarScreen);
    const accounts = await screen.findAllByTestId("queue-account");
    expect(accounts.map((a) => a.dataset.accountId)).toEqual(["acc-1", "acc-2"]);
    expect(within(accounts[0]!).getAllByTestId("queue-item").map((i) => i.dataset.targetId)).toEqual(["t-1", "t-2"]);
    expect(within(accounts[1]!).getByTestId("queue-empty").textContent).toContain("Nothing queued");
    // Pending posts of any age, by state.
    expect(api.listSchedule).toHaveBeenCalledWith(
      expect.objectContaining({ workspaceId: "ws-1", from: null, to: null, states: expect.arrayContaining(["missed"]) }),
    );

    await fireEvent.click(within(accounts[0]!).getAllByTestId("queue-item")[0]!);
    expect(await screen.findByTestId("item-dialog")).toBeTruthy();
  });

  it("edits an account's weekly queue times", async () => {
    render(CalendarScreen);
    const [first, second] = await screen.findAllByTestId("queue-slots");
    await vi.waitFor(() => expect(within(first!).getAllByTestId("queue-slot")).toHaveLength(1));
    expect(within(first!).getByTestId("queue-slot").textContent).toContain("9:00 AM");
    expect(within(first!).getByTestId("queue-slot").closest("li.day")?.textContent).toContain("Monday");
    await vi.waitFor(() => expect(within(second!).getByTestId("queue-slots-empty").textContent).toContain("No queue times yet"));

    // Every weekday at 14:30 for Grace.
    await fireEvent.change(within(second!).getByTestId("queue-slot-day"), { target: { value: "weekdays" } });
    await fireEvent.input(within(second!).getByTestId("queue-slot-time"), { target: { value: "14:30" } });
    await fireEvent.click(within(second!).getByTestId("queue-slot-add"));
    await vi.waitFor(() =>
      expect(api.setQueueSlots).toHaveBeenCalledWith("acc-2", [0, 1, 2, 3, 4].map((weekday) => ({ weekday, minute: 870 }))),
    );
    await vi.waitFor(() => expect(within(second!).getAllByTestId("queue-slot")).toHaveLength(5));

    // Remove Monday 9:00 from Ada.
    await fireEvent.click(within(first!).getByTestId("queue-slot-remove"));
    await vi.waitFor(() => expect(api.setQueueSlots).toHaveBeenLastCalledWith("acc-1", []));
    await vi.waitFor(() => expect(within(first!).queryByTestId("queue-slot")).toBeNull());
  });

  it("keeps the queue times and shows why when saving fails", async () => {
    api.setQueueSlots.mockRejectedValue(new AppError("not_found", "account acc-1"));
    render(CalendarScreen);
    const [first] = await screen.findAllByTestId("queue-slots");
    await vi.waitFor(() => expect(within(first!).getAllByTestId("queue-slot")).toHaveLength(1));
    await fireEvent.click(within(first!).getByTestId("queue-slot-remove"));
    const error = await within(first!).findByTestId("queue-slots-error");
    expect(error.textContent).toContain("Couldn’t save the queue times: Not found: account acc-1");
    expect(within(first!).getAllByTestId("queue-slot")).toHaveLength(1);
  });
});
