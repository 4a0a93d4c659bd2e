import { beforeEach, describe, expect, it, vi } from "vitest";

const commands = vi.hoisted(() => ({
  createWorkspace: vi.fn(),
  listWorkspaces: vi.fn(),
}));
vi.mock("$lib/bindings", () => ({ commands }));

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
