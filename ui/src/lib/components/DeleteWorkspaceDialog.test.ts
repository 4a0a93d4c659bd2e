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

import { workspaces } from "$lib/stores/workspaces.svelte";
import DeleteWorkspaceDialog from "./DeleteWorkspaceDialog.svelte";

beforeEach(() => {
  vi.clearAllMocks();
});

describe("delete workspace dialog", () => {
  it("enables the delete button only once the exact name is typed", async () => {
    const acme = workspace();
    const other = workspace({ id: "ws-2", name: "Globex" });
    resetStores([acme, other]);
    api.deleteWorkspace.mockResolvedValue(undefined);
    api.setCurrentWorkspace.mockResolvedValue({ language: "system", currentWorkspaceId: "ws-2" });
    render(DeleteWorkspaceDialog, { open: true, workspace: acme });

    const button = screen.getByTestId("delete-confirm") as HTMLButtonElement;
    const input = screen.getByTestId("delete-confirm-input");
    expect(screen.getByRole("dialog").textContent).toContain("all of its data will be deleted permanently");
    expect(button.disabled).toBe(true);

    await fireEvent.input(input, { target: { value: "Acm" } });
    expect(button.disabled).toBe(true);
    await fireEvent.input(input, { target: { value: "acme" } });
    expect(button.disabled).toBe(true);
    await fireEvent.click(button);
    expect(api.deleteWorkspace).not.toHaveBeenCalled();

    await fireEvent.input(input, { target: { value: "Acme" } });
    expect(button.disabled).toBe(false);
    await fireEvent.click(button);

    await vi.waitFor(() => expect(screen.queryByRole("dialog")).toBeNull());
    expect(api.deleteWorkspace).toHaveBeenCalledWith("ws-1");
    expect(workspaces.list.map((w) => w.name)).toEqual(["Globex"]);
    expect(api.setCurrentWorkspace).toHaveBeenCalledWith("ws-2");
  });
});
