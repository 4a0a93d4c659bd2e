import { beforeEach, describe, expect, it, vi } from "vitest";

const commands = vi.hoisted(() => ({
  createWorkspace: vi.fn(),
  listWorkspaces: vi.fn(),
  getDraft: vi.fn(),
  discardDraft: vi.fn(),
  saveDraft: vi.fn(),
  importMedia: vi.fn(),
  checkPost: vi.fn(),
  splitThread: vi.fn(),
  publishNow: vi.fn(),
  retryFailed: vi.fn(),
  openUrl: vi.fn(),
  checkTime: vi.fn(),
  listSchedule: vi.fn(),
  rescheduleTarget: vi.fn(),
  unschedulePost: vi.fn(),
  setQueueSlots: vi.fn(),
}));
const listen = vi.hoisted(() => vi.fn());
vi.mock("$lib/bindings", () => ({ commands, events: { scheduleEvent: { listen } } }));
const invoke = vi.hoisted(() => vi.fn());
vi.mock("@tauri-apps/api/core", () => ({ invoke }));

import { AppError, api, errorMessage, fromIpcError } from "$lib/api";
import { setLocale } from "$lib/i18n";

beforeEach(() => setLocale("en"));

describe("AppError", () => {
  it("keeps the code and the backend message of an IpcError", () => {
    const error = fromIpcError({ code: "invalid_input", message: 'time zone "Mars/Base" is not an IANA time zone' });
    expect(error).toBeInstanceOf(AppError);
    expect(error).toBeInstanceOf(Error);
    expect(error.code).toBe("invalid_input");
    expect(error.message).toBe('time zone "Mars/Base" is not an IANA time zone');
  });

  it("maps unknown codes to internal", () => {
    expect(fromIpcError({ code: "exploded", message: "boom" }).code).toBe("internal");
    expect(AppError.from(new TypeError("window.__TAURI_INTERNALS__ is undefined")).code).toBe("internal");
    expect(AppError.from("plain string").message).toBe("plain string");
  });

  it("turns into a localized message with the backend detail", () => {
    const error = fromIpcError({ code: "invalid_input", message: 'time zone "Mars/Base" is not an IANA time zone' });
    expect(errorMessage(error)).toBe('Invalid input: time zone "Mars/Base" is not an IANA time zone');
    setLocale("de");
    expect(errorMessage(error)).toBe('Ungültige Eingabe: time zone "Mars/Base" is not an IANA time zone');
    expect(errorMessage(new AppError("io", ""))).toBe("Eine Datei konnte nicht gelesen oder geschrieben werden");
  });
});

describe("api", () => {
  it("unwraps ok results", async () => {
    commands.listWorkspaces.mockResolvedValue({ status: "ok", data: [] });
    await expect(api.listWorkspaces()).resolves.toEqual([]);
  });

  it("throws error results as AppError", async () => {
    commands.createWorkspace.mockResolvedValue({
      status: "error",
      error: { code: "conflict", message: 'a workspace named "Acme" already exists' },
    });
    const failure = api.createWorkspace({ name: "Acme", timeZone: null, color: null });
    await expect(failure).rejects.toBeInstanceOf(AppError);
    await expect(failure).rejects.toMatchObject({ code: "conflict", message: 'a workspace named "Acme" already exists' });
  });

  it("wraps a failing bridge as an internal AppError", async () => {
    commands.listWorkspaces.mockRejectedValue(new Error("ipc unavailable"));
    await expect(api.listWorkspaces()).rejects.toMatchObject({ code: "internal", message: "ipc unavailable" });
  });
});

describe("compose commands", () => {
  it("go through the generated commands and unwrap the answer", async () => {
    commands.getDraft.mockResolvedValue({ status: "ok", data: null });
    await expect(api.getDraft("ws-1")).resolves.toBeNull();
    expect(commands.getDraft).toHaveBeenLastCalledWith("ws-1");
    commands.splitThread.mockResolvedValue({ status: "ok", data: ["one", "two"] });
    await expect(api.splitThread("acc-1", "one two")).resolves.toEqual(["one", "two"]);
    expect(commands.splitThread).toHaveBeenLastCalledWith("acc-1", "one two");
  });

  it("throws an IpcError as AppError and a bridge failure as internal", async () => {
    commands.discardDraft.mockResolvedValue({ status: "error", error: { code: "not_found", message: "no draft draft-9" } });
    await expect(api.discardDraft("draft-9")).rejects.toMatchObject({ code: "not_found", message: "no draft draft-9" });
    commands.saveDraft.mockRejectedValue(new Error("ipc unavailable"));
    await expect(api.saveDraft({ id: null, workspaceId: "ws-1", text: "", spoiler: "", media: [], targets: [] })).rejects.toMatchObject({
      code: "internal",
    });
  });

  it("opens links in the system browser and never rejects", async () => {
    vi.spyOn(console, "warn").mockImplementation(() => {});
    commands.openUrl.mockResolvedValue({ status: "error", error: { code: "invalid_input", message: "url: javascript: links are not opened" } });
    await expect(api.openExternal("javascript:alert(1)")).resolves.toBeUndefined();
    commands.openUrl.mockRejectedValue(new Error("bridge down"));
    await expect(api.openExternal("https://example.org/post/1")).resolves.toBeUndefined();
    expect(commands.openUrl).toHaveBeenLastCalledWith("https://example.org/post/1");
  });
});

describe("schedule commands", () => {
  it("go through the generated commands and unwrap the answer", async () => {
    const check = { utc: null, problem: "2027-03-28 02:30 does not exist in Europe/Berlin", choices: [] };
    commands.checkTime.mockResolvedValue({ status: "ok", data: check });
    await expect(api.checkTime("ws-1", "2027-03-28 02:30")).resolves.toEqual(check);
    expect(commands.checkTime).toHaveBeenLastCalledWith("ws-1", "2027-03-28 02:30");

    const filter = { workspaceId: "ws-1", accountId: null, from: "2026-11-29T00:00:00.000Z", to: null };
    commands.listSchedule.mockResolvedValue({ status: "ok", data: [] });
    await expect(api.listSchedule(filter)).resolves.toEqual([]);
    expect(commands.listSchedule).toHaveBeenLastCalledWith(filter);

    commands.unschedulePost.mockResolvedValue({ status: "ok", data: null });
    await expect(api.unschedulePost("post-1")).resolves.toBeUndefined();
    commands.setQueueSlots.mockResolvedValue({ status: "ok", data: [{ weekday: 0, minute: 540 }] });
    await expect(api.setQueueSlots("acc-1", [{ weekday: 0, minute: 540 }])).resolves.toEqual([{ weekday: 0, minute: 540 }]);
  });

  it("throws a refused move as AppError", async () => {
    commands.rescheduleTarget.mockResolvedValue({ status: "error", error: { code: "conflict", message: "this post is published and cannot be moved" } });
    await expect(api.rescheduleTarget("t-1", "2026-12-10 09:00")).rejects.toMatchObject({ code: "conflict" });
  });

  it("hands schedule events to the listener and stops listening", async () => {
    const unlisten = vi.fn();
    listen.mockImplementation(async (callback: (event: { payload: unknown }) => void) => {
      callback({ payload: { kind: "changed" } });
      return unlisten;
    });
    const heard: unknown[] = [];
    const stop = await api.onScheduleEvent((event) => heard.push(event));
    expect(heard).toEqual([{ kind: "changed" }]);
    stop();
    expect(unlisten).toHaveBeenCalled();
  });

  it("listens to nothing (quietly) without the Tauri runtime", async () => {
    vi.spyOn(console, "warn").mockImplementation(() => {});
    listen.mockRejectedValue(new TypeError("window.__TAURI_INTERNALS__ is undefined"));
    const stop = await api.onScheduleEvent(() => {});
    expect(() => stop()).not.toThrow();
  });
});
