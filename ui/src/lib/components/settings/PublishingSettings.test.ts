import { beforeEach, describe, expect, it, vi } from "vitest";
import { fireEvent, render, screen } from "@testing-library/svelte";
import { createMockApi } from "../../../test/mockApi";
import { resetStores } from "../../../test/fixtures";

const api = vi.hoisted(() => ({}) as ReturnType<typeof createMockApi>);
vi.mock("$lib/api", async (importOriginal) => {
  const actual = await importOriginal<typeof import("$lib/api")>();
  const { createMockApi } = await import("../../../test/mockApi");
  Object.assign(api, createMockApi());
  return { ...actual, api };
});

import { AppError, type Scheduling } from "$lib/api";
import PublishingSettings from "./PublishingSettings.svelte";

beforeEach(() => {
  vi.clearAllMocks();
  resetStores();
  api.getScheduling.mockResolvedValue({ graceMinutes: 15, paused: false, startAtLogin: true });
  api.setScheduling.mockImplementation(async (s: Scheduling) => s);
});

describe("publishing settings", () => {
  it("shows the grace window and saves a valid change", async () => {
    render(PublishingSettings);
    const grace = (await screen.findByTestId("settings-grace")) as HTMLInputElement;
    expect(grace.value).toBe("15");
    expect((screen.getByTestId("settings-start-at-login") as HTMLInputElement).checked).toBe(true);
    await fireEvent.input(grace, { target: { value: "45" } });
    await fireEvent.change(grace);
    await vi.waitFor(() => expect(api.setScheduling).toHaveBeenCalledWith({ graceMinutes: 45, paused: false, startAtLogin: true }));
  });

  it("refuses a grace window that is not whole minutes from 0 to 1440", async () => {
    render(PublishingSettings);
    const grace = (await screen.findByTestId("settings-grace")) as HTMLInputElement;
    for (const bad of ["-5", "2000", "1.5", ""]) {
      await fireEvent.input(grace, { target: { value: bad } });
      await fireEvent.change(grace);
      expect(screen.getByTestId("settings-grace-error").textContent).toContain("Enter a whole number of minutes from 0 to 1,440.");
    }
    expect(api.setScheduling).not.toHaveBeenCalled();
  });

  it("pauses publishing and says what that means", async () => {
    render(PublishingSettings);
    const paused = (await screen.findByTestId("settings-paused")) as HTMLInputElement;
    expect(paused.getAttribute("role")).toBe("switch");
    await fireEvent.click(paused);
    await vi.waitFor(() => expect(api.setScheduling).toHaveBeenCalledWith({ graceMinutes: 15, paused: true, startAtLogin: true }));
    expect((await screen.findByTestId("settings-paused-note")).textContent).toContain("Publishing is paused");
  });

  it("shows what is in effect when saving fails", async () => {
    api.setScheduling.mockRejectedValue(new AppError("io", "disk full"));
    render(PublishingSettings);
    const login = (await screen.findByTestId("settings-start-at-login")) as HTMLInputElement;
    await fireEvent.click(login);
    const error = await screen.findByTestId("settings-publishing-error");
    expect(error.textContent).toContain("disk full");
    await vi.waitFor(() => expect((screen.getByTestId("settings-start-at-login") as HTMLInputElement).checked).toBe(true));
  });
});
