import { beforeEach, describe, expect, it, vi } from "vitest";
import { fireEvent, render, screen, within } from "@testing-library/svelte";
import { createMockApi } from "../../test/mockApi";
import { account, capabilities, queueItem, resetStores, workspace } from "../../test/fixtures";

const api = vi.hoisted(() => ({}) as ReturnType<typeof createMockApi>);
vi.mock("$lib/api", async (importOriginal) => {
  const actual = await importOriginal<typeof import("$lib/api")>();
  const { createMockApi } = await import("../../test/mockApi");
  Object.assign(api, createMockApi());
  return { ...actual, api };
});

import { AppError, type CheckInput, type DraftInput, type PublishEvent, type TargetOutcome } from "$lib/api";
import { calendarView, returnedPost } from "$lib/stores/calendar.svelte";
import { navigation } from "$lib/stores/navigation.svelte";
import ComposeScreen from "./ComposeScreen.svelte";

const ada = account({ id: "acc-1", network: "bluesky", handle: "ada.bsky.social", capabilities: capabilities({ publishText: true }) });
const grace = account({
  id: "acc-2",
  network: "mastodon",
  server: "https://mastodon.social",
  handle: "grace@mastodon.social",
  capabilities: capabilities({ publishText: true, nativeScheduling: true }),
});

function outcome(overrides: Partial<TargetOutcome>): TargetOutcome {
  return { targetId: "t-1", accountId: "acc-1", network: "bluesky", handle: "ada.bsky.social", state: "scheduled", url: null, errorCode: null, error: null, ...overrides };
}

const OUTCOMES = [
  outcome({ targetId: "t-1" }),
  outcome({ targetId: "t-2", accountId: "acc-2", network: "mastodon", handle: "grace@mastodon.social" }),
];

function emit(event: PublishEvent) {
  for (const [callback] of api.onScheduleEvent.mock.calls) callback(event);
}

beforeEach(() => {
  vi.clearAllMocks();
  resetStores([workspace({ timeZone: "Europe/Berlin" })]);
  api.listAccounts.mockResolvedValue([ada, grace]);
  api.getDraft.mockResolvedValue(null);
  api.checkPost.mockImplementation(async (input: CheckInput) =>
    input.targets.map((target) => ({ accountId: target.accountId, network: "bluesky", parts: [], media: [], ok: true })),
  );
  api.saveDraft.mockImplementation(async (input: DraftInput) => ({ ...input, id: input.id ?? "draft-1", media: [], updatedAt: "2026-11-27T10:00:00Z" }));
  api.setRepeat.mockImplementation(async (_id: string, repeat: unknown) => repeat);
  api.onScheduleEvent.mockResolvedValue(() => {});
  api.checkTime.mockImplementation(async (_ws: string, wallClock: string) => ({ utc: `${wallClock.replace(" ", "T")}:00Z`, problem: null, choices: [] }));
  api.listSchedule.mockResolvedValue([]);
});

async function writePost() {
  render(ComposeScreen);
  const text = (await screen.findByTestId("compose-text")) as HTMLTextAreaElement;
  for (const chip of screen.getAllByTestId("compose-target")) await fireEvent.click(chip);
  await fireEvent.input(text, { target: { value: "Adventsmarkt am Samstag" } });
  await vi.waitFor(() => expect((screen.getByTestId("compose-publish") as HTMLButtonElement).disabled).toBe(false));
}

async function openSchedule() {
  await fireEvent.click(screen.getByTestId("compose-schedule"));
  return screen.getByTestId("schedule-panel");
}

async function pick(panel: HTMLElement, date: string, time: string) {
  await fireEvent.input(within(panel).getByTestId("schedule-date"), { target: { value: date } });
  await fireEvent.input(within(panel).getByTestId("schedule-time"), { target: { value: time } });
}

describe("scheduling from Compose", () => {
  it("saves the draft, sets the repeat and schedules at the picked wall clock; shows who holds each post", async () => {
    api.schedulePost.mockResolvedValue(OUTCOMES);
    await writePost();
    const panel = await openSchedule();
    expect(within(panel).getByTestId("schedule-zone").textContent).toContain("Europe/Berlin");
    await pick(panel, "2026-12-12", "10:30");
    await vi.waitFor(() => expect(within(panel).getByTestId("schedule-resolved").textContent).toBe("Goes out on Saturday, December 12, 2026 at 10:30 AM"));
    expect(api.checkTime).toHaveBeenLastCalledWith("ws-1", "2026-12-12 10:30");
    const submit = within(panel).getByTestId("schedule-submit") as HTMLButtonElement;
    expect(submit.textContent?.trim()).toBe("Schedule for Sat, Dec 12, 10:30 AM");

    await fireEvent.change(within(panel).getByTestId("schedule-repeat"), { target: { value: "weeks" } });
    await fireEvent.input(within(panel).getByTestId("schedule-repeat-count"), { target: { value: "2" } });
    await fireEvent.click(submit);

    const results = await screen.findByTestId("schedule-results");
    expect(api.saveDraft).toHaveBeenCalled();
    expect(api.setRepeat).toHaveBeenCalledWith("draft-1", { everyDays: 14, evergreenGapDays: null });
    expect(api.schedulePost).toHaveBeenCalledWith("draft-1", "2026-12-12 10:30");
    expect(api.setRepeat.mock.invocationCallOrder[0]).toBeLessThan(api.schedulePost.mock.invocationCallOrder[0]!);
    expect(within(results).getByRole("heading").textContent).toBe("Scheduled for Saturday, December 12, 2026 at 10:30 AM");

    const rows = within(results).getAllByTestId("schedule-result");
    expect(rows.map((r) => [r.dataset.accountId, r.dataset.state])).toEqual([["acc-1", "scheduled"], ["acc-2", "scheduled"]]);
    expect(within(rows[0]!).getByTestId("held-by").textContent).toContain("Needs Postwerk running (the app in the tray or postwerk daemon)");
    expect(within(rows[1]!).getByTestId("held-by").textContent).toContain("Handing over to Mastodon");

    // The scheduler hands the Mastodon post over: the row says so.
    api.listSchedule.mockResolvedValue([
      queueItem({ targetId: "t-1", postId: "draft-1", localTime: "2026-12-12 10:30" }),
      queueItem({ targetId: "t-2", postId: "draft-1", accountId: "acc-2", network: "mastodon", state: "handed_off", heldBy: "network", localTime: "2026-12-12 10:30" }),
    ]);
    emit({ kind: "handedOff", postId: "draft-1", targetId: "t-2", handle: "grace@mastodon.social" });
    await vi.waitFor(() =>
      expect(within(rows[1]!).getByTestId("held-by").textContent).toContain("Held by Mastodon — goes out even when your computer is off"),
    );
    expect(rows[1]!.dataset.state).toBe("handed_off");
    expect(within(rows[0]!).getByTestId("schedule-result-time").textContent).toBe("Sat, Dec 12, 10:30 AM");

    await fireEvent.click(within(results).getByTestId("schedule-open-calendar"));
    expect(navigation.screen).toBe("calendar");
    expect(calendarView.anchor).toBe("2026-12-12");
  });

  it("shows a daylight-saving problem with two choices and schedules the picked one", async () => {
    api.checkTime.mockImplementation(async (_ws: string, wallClock: string) =>
      wallClock === "2027-03-28 02:30"
        ? {
            utc: null,
            problem: "2027-03-28 02:30 does not exist in Europe/Berlin: the clocks skip that hour (daylight saving time starts)",
            choices: [
              { utc: "2027-03-28T00:59:00Z", local: "2027-03-28 01:59 +01:00" },
              { utc: "2027-03-28T01:00:00Z", local: "2027-03-28 03:00 +02:00" },
            ],
          }
        : { utc: `${wallClock.replace(" ", "T")}:00Z`, problem: null, choices: [] },
    );
    api.schedulePost.mockResolvedValue([OUTCOMES[0]!]);
    await writePost();
    const panel = await openSchedule();
    await pick(panel, "2027-03-28", "02:30");
    const problem = await within(panel).findByTestId("schedule-problem");
    expect(problem.textContent).toContain("does not exist in Europe/Berlin");
    const submit = within(panel).getByTestId("schedule-submit") as HTMLButtonElement;
    expect(submit.disabled).toBe(true);
    const choices = within(problem).getAllByTestId("schedule-choice");
    expect(choices.map((c) => c.textContent?.trim())).toEqual(["Sun, Mar 28, 1:59 AM (UTC+01:00)", "Sun, Mar 28, 3:00 AM (UTC+02:00)"]);

    await fireEvent.click(choices[1]!);
    expect(submit.disabled).toBe(false);
    await fireEvent.click(submit);
    await screen.findByTestId("schedule-results");
    expect(api.schedulePost).toHaveBeenCalledWith("draft-1", "2027-03-28 03:00 +02:00");
    expect(api.setRepeat).toHaveBeenCalledWith("draft-1", { everyDays: null, evergreenGapDays: null });
  });

  it("does not publish now with Ctrl+Enter while the schedule panel is open", async () => {
    await writePost();
    await openSchedule();
    await fireEvent.keyDown(window, { key: "Enter", ctrlKey: true });
    expect(api.publishNow).not.toHaveBeenCalled();
  });

  it("refuses a time in the past before asking the core to schedule", async () => {
    await writePost();
    const panel = await openSchedule();
    await pick(panel, "2020-01-01", "09:00");
    await within(panel).findByTestId("schedule-past");
    expect((within(panel).getByTestId("schedule-submit") as HTMLButtonElement).disabled).toBe(true);
  });

  it("adds to the queue as evergreen, and leads to the queue times when an account has none", async () => {
    api.addToQueue.mockRejectedValueOnce(new AppError("invalid_input", "@ada.bsky.social has no queue times yet; add some under Calendar → Queue"));
    await writePost();
    const panel = await openSchedule();
    await fireEvent.change(within(panel).getByTestId("schedule-repeat"), { target: { value: "evergreen" } });
    await fireEvent.input(within(panel).getByTestId("schedule-repeat-count"), { target: { value: "30" } });
    await fireEvent.click(within(panel).getByTestId("schedule-queue"));
    const error = await within(panel).findByTestId("schedule-error");
    expect(error.textContent).toContain("@ada.bsky.social has no queue times yet");
    expect(api.setRepeat).toHaveBeenCalledWith("draft-1", { everyDays: null, evergreenGapDays: 30 });
    // Nothing typed is lost.
    expect((screen.getByTestId("compose-text") as HTMLTextAreaElement).value).toBe("Adventsmarkt am Samstag");

    api.addToQueue.mockResolvedValueOnce(OUTCOMES);
    api.listSchedule.mockResolvedValue([
      queueItem({ targetId: "t-1", postId: "draft-1", localTime: "2026-12-01 09:00", queued: true }),
      queueItem({ targetId: "t-2", postId: "draft-1", accountId: "acc-2", network: "mastodon", localTime: "2026-12-02 12:00", queued: true }),
    ]);
    await fireEvent.click(within(panel).getByTestId("schedule-queue"));
    const results = await screen.findByTestId("schedule-results");
    expect(within(results).getByRole("heading").textContent).toBe("Added to the queue");
    await vi.waitFor(() =>
      expect(within(results).getAllByTestId("schedule-result-time").map((e) => e.textContent)).toEqual(["Tue, Dec 1, 9:00 AM", "Wed, Dec 2, 12:00 PM"]),
    );
  });

  it("opens the queue times from the error", async () => {
    api.addToQueue.mockRejectedValue(new AppError("invalid_input", "@ada.bsky.social has no queue times yet"));
    await writePost();
    const panel = await openSchedule();
    await fireEvent.click(within(panel).getByTestId("schedule-queue"));
    await fireEvent.click(await within(panel).findByTestId("schedule-queue-times"));
    expect(navigation.screen).toBe("calendar");
    expect(calendarView.view).toBe("queue");
  });

  it("offers the old time and repeat again for a post taken back from the calendar", async () => {
    returnedPost.value = { postId: "draft-7", wallClock: "2026-12-24 08:00", repeat: { everyDays: null, evergreenGapDays: 60 } };
    api.getDraft.mockResolvedValue({
      id: "draft-7",
      workspaceId: "ws-1",
      text: "Frohe Weihnachten",
      spoiler: "",
      media: [],
      targets: [{ accountId: "acc-1", textOverride: null, threadParts: null }],
      updatedAt: "2026-11-27T10:00:00Z",
    });
    render(ComposeScreen);
    const panel = await screen.findByTestId("schedule-panel");
    expect(within(panel).getByTestId("schedule-note").textContent).toContain("taken off the schedule");
    expect((within(panel).getByTestId("schedule-date") as HTMLInputElement).value).toBe("2026-12-24");
    expect((within(panel).getByTestId("schedule-time") as HTMLInputElement).value).toBe("08:00");
    expect((within(panel).getByTestId("schedule-repeat") as HTMLSelectElement).value).toBe("evergreen");
    expect((within(panel).getByTestId("schedule-repeat-count") as HTMLInputElement).value).toBe("60");
    expect(returnedPost.value).toBeNull();
  });
});
