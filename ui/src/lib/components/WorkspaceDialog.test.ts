import { beforeEach, describe, expect, it, vi } from "vitest";
import { fireEvent, render, screen } from "@testing-library/svelte";
import { createMockApi } from "../../test/mockApi";
import { resetStores, workspace } from "../../test/fixtures";

const api = vi.hoisted(() => ({}) as ReturnType<typeof createMockApi>);
vi.mock("$lib/api", async (importOriginal) => {
  const actual = await importOriginal<typeof import("$lib/api")>();
  const { createMockApi } = await import("../../test/mockApi");
  Object.assign(api, createMockApi());
  return { ...actual, api };
});

import { AppError } from "$lib/api";
import { setLocale } from "$lib/i18n";
import { workspaces } from "$lib/stores/workspaces.svelte";
import WorkspaceDialog from "./WorkspaceDialog.svelte";

const byTestId = (id: string) => screen.getByTestId(id);

beforeEach(() => {
  vi.clearAllMocks();
  resetStores();
});

describe("new workspace dialog", () => {
  it("refuses an empty name without calling the core", async () => {
    render(WorkspaceDialog, { open: true });
    await fireEvent.input(byTestId("workspace-name"), { target: { value: "   " } });
    await fireEvent.click(byTestId("workspace-save"));

    expect(byTestId("workspace-error").textContent).toContain("Enter a name for the workspace.");
    expect(byTestId("workspace-name").getAttribute("aria-invalid")).toBe("true");
    expect(api.createWorkspace).not.toHaveBeenCalled();
  });

  it("shows a name conflict inline and keeps what was typed", async () => {
    api.createWorkspace.mockRejectedValue(new AppError("conflict", 'a workspace named "Acme" already exists'));
    render(WorkspaceDialog, { open: true });

    await fireEvent.input(byTestId("workspace-name"), { target: { value: "Acme" } });
    await fireEvent.click(byTestId("workspace-save"));

    const error = await screen.findByTestId("workspace-error");
    expect(error.textContent).toContain("A workspace named “Acme” already exists.");
    expect((byTestId("workspace-name") as HTMLInputElement).value).toBe("Acme");
    expect(screen.getByRole("dialog")).toBeTruthy();
    expect(api.createWorkspace).toHaveBeenCalledWith({ name: "Acme", timeZone: "Europe/Berlin", color: "#4f46e5" });
  });

  it("shows a time zone refused by the core under the time zone field", async () => {
    api.createWorkspace.mockRejectedValue(
      new AppError("invalid_input", 'time zone "Mars/Base" is not an IANA time zone'),
    );
    render(WorkspaceDialog, { open: true });
    await fireEvent.input(byTestId("workspace-name"), { target: { value: "Mars Corp" } });
    await fireEvent.click(byTestId("workspace-save"));

    const error = await screen.findByTestId("workspace-error");
    expect(error.textContent).toContain('Invalid input: time zone "Mars/Base" is not an IANA time zone');
    expect(byTestId("workspace-timezone").getAttribute("aria-invalid")).toBe("true");
    expect((byTestId("workspace-name") as HTMLInputElement).value).toBe("Mars Corp");
  });

  it("creates the workspace with the zone typed into the picker, selects it and closes", async () => {
    const created = workspace({ id: "ws-new", name: "Bäckerei Sonnenschein", timeZone: "America/New_York" });
    api.createWorkspace.mockResolvedValue(created);
    api.setCurrentWorkspace.mockResolvedValue({ language: "system", currentWorkspaceId: "ws-new" });
    render(WorkspaceDialog, { open: true });

    await fireEvent.input(byTestId("workspace-name"), { target: { value: "  Bäckerei Sonnenschein " } });
    const tz = byTestId("workspace-timezone") as HTMLInputElement;
    await fireEvent.focus(tz);
    await fireEvent.input(tz, { target: { value: "America/New_York" } });
    await fireEvent.keyDown(tz, { key: "Enter" });
    expect(tz.value).toBe("America/New_York");
    expect(tz.getAttribute("aria-expanded")).toBe("false");

    await fireEvent.click(byTestId("workspace-save"));
    await vi.waitFor(() => expect(screen.queryByRole("dialog")).toBeNull());
    expect(api.createWorkspace).toHaveBeenCalledWith({
      name: "Bäckerei Sonnenschein",
      timeZone: "America/New_York",
      color: "#4f46e5",
    });
    expect(api.setCurrentWorkspace).toHaveBeenCalledWith("ws-new");
    expect(workspaces.current?.name).toBe("Bäckerei Sonnenschein");
  });

  it("is translated", async () => {
    setLocale("de");
    render(WorkspaceDialog, { open: true });
    expect(screen.getByRole("dialog").textContent).toContain("Neuer Arbeitsbereich");
    expect(byTestId("workspace-save").textContent).toContain("Arbeitsbereich anlegen");
  });
});

describe("time zone picker", () => {
  it("filters by city, moves with the arrow keys and keeps the dialog open on Escape", async () => {
    render(WorkspaceDialog, { open: true });
    const tz = byTestId("workspace-timezone") as HTMLInputElement;
    await fireEvent.focus(tz);
    expect(tz.value).toBe("");
    expect(tz.placeholder).toBe("Europe/Berlin");

    await fireEvent.input(tz, { target: { value: "vien" } });
    const options = screen.getAllByRole("option");
    expect(options.map((o) => o.textContent?.trim().split(/\s+UTC/)[0])).toEqual(["Europe/Vienna"]);

    await fireEvent.input(tz, { target: { value: "europe" } });
    await fireEvent.keyDown(tz, { key: "ArrowDown" });
    expect(tz.getAttribute("aria-activedescendant")).toMatch(/-option-1$/);

    await fireEvent.keyDown(tz, { key: "Escape" });
    expect(tz.getAttribute("aria-expanded")).toBe("false");
    expect(screen.getByRole("dialog")).toBeTruthy();

    await fireEvent.blur(tz);
    expect(tz.value).toBe("Europe/Berlin");
  });

  it("accepts a zone id typed in full when focus leaves", async () => {
    render(WorkspaceDialog, { open: true });
    const tz = byTestId("workspace-timezone") as HTMLInputElement;
    await fireEvent.focus(tz);
    await fireEvent.input(tz, { target: { value: "asia/kolkata" } });
    await fireEvent.blur(tz);
    expect(tz.value).toBe("Asia/Kolkata");
  });
});

describe("edit workspace dialog", () => {
  it("sends only the changed fields", async () => {
    const ws = workspace();
    resetStores([ws]);
    api.updateWorkspace.mockResolvedValue({ ...ws, name: "Acme GmbH" });
    render(WorkspaceDialog, { open: true, workspace: ws });

    const name = byTestId("workspace-name") as HTMLInputElement;
    expect(name.value).toBe("Acme");
    await fireEvent.input(name, { target: { value: "Acme GmbH" } });
    await fireEvent.click(byTestId("workspace-save"));

    await vi.waitFor(() => expect(screen.queryByRole("dialog")).toBeNull());
    expect(api.updateWorkspace).toHaveBeenCalledWith("ws-1", { name: "Acme GmbH", timeZone: null, color: null });
    expect(workspaces.list[0]?.name).toBe("Acme GmbH");
  });

  it("closes on Escape", async () => {
    render(WorkspaceDialog, { open: true, workspace: workspace() });
    await fireEvent.keyDown(byTestId("workspace-name"), { key: "Escape" });
    expect(screen.queryByRole("dialog")).toBeNull();
  });
});
