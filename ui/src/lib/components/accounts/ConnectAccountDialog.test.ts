import { beforeEach, describe, expect, it, vi } from "vitest";
import { fireEvent, render, screen } from "@testing-library/svelte";
import { createMockApi } from "../../../test/mockApi";
import { account, catalog, resetStores } from "../../../test/fixtures";

const api = vi.hoisted(() => ({}) as ReturnType<typeof createMockApi>);
vi.mock("$lib/api", async (importOriginal) => {
  const actual = await importOriginal<typeof import("$lib/api")>();
  const { createMockApi } = await import("../../../test/mockApi");
  Object.assign(api, createMockApi());
  return { ...actual, api };
});

import { AppError, type Account, type PendingSignIn } from "$lib/api";
import { setLocale } from "$lib/i18n";
import ConnectAccountDialog from "./ConnectAccountDialog.svelte";

const byTestId = (id: string) => screen.getByTestId(id);
const input = (id: string) => screen.getByTestId(id) as HTMLInputElement;

/** A promise the test settles by hand. */
function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (reason: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

function open(props: { reconnect?: Account | null } = {}) {
  const onconnected = vi.fn();
  const onclose = vi.fn();
  render(ConnectAccountDialog, { workspaceId: "ws-1", workspaceName: "Acme", onconnected, onclose, ...props });
  return { onconnected, onclose };
}

async function pick(kind: string) {
  const option = await vi.waitFor(() => {
    const found = screen.getAllByTestId("network-option").find((o) => o.dataset.network === kind);
    if (!found) throw new Error(`no ${kind} option`);
    return found;
  });
  await fireEvent.click(option);
}

const pending: PendingSignIn = {
  flowId: "flow-1",
  authorizeUrl: "https://mastodon.social/oauth/authorize?client_id=abc&redirect_uri=http%3A%2F%2F127.0.0.1%3A4321%2Fcallback",
  instance: "mastodon.social",
};

beforeEach(() => {
  vi.clearAllMocks();
  resetStores();
  api.networkCatalog.mockResolvedValue(catalog());
});

describe("network picker", () => {
  it("shows every network of the catalog, the unavailable ones disabled", async () => {
    open();
    const options = await screen.findAllByTestId("network-option");
    expect(options.map((o) => o.dataset.network)).toEqual(["mastodon", "bluesky", "linkedin", "xing"]);

    const [mastodon, bluesky, linkedin, xing] = options as HTMLButtonElement[];
    expect(mastodon!.disabled).toBe(false);
    expect(bluesky!.disabled).toBe(false);
    expect(linkedin!.disabled).toBe(true);
    expect(xing!.disabled).toBe(true);

    expect(mastodon!.textContent).toContain("Posts even when your computer is off");
    expect(bluesky!.textContent).not.toContain("Posts even when your computer is off");
    expect(bluesky!.textContent).toContain("Direct messages");
    expect(linkedin!.textContent).toContain("Coming later");
    expect(xing!.textContent).toContain("Reminders instead of posting");
    expect(screen.getByRole("dialog").textContent).toContain("Choose the network of the account you want to connect to Acme.");
    expect(document.activeElement).toBe(mastodon);
  });

  it("shows a catalog that failed to load with a retry", async () => {
    api.networkCatalog.mockRejectedValueOnce(new AppError("internal", "boom"));
    open();
    expect((await screen.findByTestId("catalog-error")).textContent).toContain("Couldn’t load the networks");
    await fireEvent.click(screen.getByText("Try again"));
    expect(await screen.findAllByTestId("network-option")).toHaveLength(4);
  });

  it("is translated", async () => {
    setLocale("de");
    open();
    const options = await screen.findAllByTestId("network-option");
    expect(options[2]!.textContent).toContain("Kommt später");
    expect(screen.getByRole("dialog").textContent).toContain("Konto hinzufügen");
  });
});

describe("Bluesky form", () => {
  it("sends what was typed, with no hosting provider when the field is empty", async () => {
    const connected = account();
    api.connectBluesky.mockResolvedValue(connected);
    const { onconnected } = open();
    await pick("bluesky");

    expect(document.activeElement).toBe(byTestId("bluesky-identifier"));
    expect(input("bluesky-identifier").placeholder).toBe("ada.bsky.social");
    expect(input("bluesky-password").type).toBe("password");
    expect(screen.getByRole("dialog").textContent).toContain("Settings > Privacy and security > App passwords");
    expect(screen.queryByTestId("bluesky-service")).toBeNull();

    await fireEvent.input(byTestId("bluesky-identifier"), { target: { value: " ada.bsky.social " } });
    await fireEvent.input(byTestId("bluesky-password"), { target: { value: "abcd-efgh-ijkl-mnop" } });
    await fireEvent.click(byTestId("bluesky-submit"));

    await vi.waitFor(() => expect(onconnected).toHaveBeenCalledWith(connected));
    expect(api.connectBluesky).toHaveBeenCalledWith({
      workspaceId: "ws-1",
      identifier: "ada.bsky.social",
      password: "abcd-efgh-ijkl-mnop",
      service: null,
      reconnectId: null,
    });
  });

  it("sends the hosting provider from the advanced section", async () => {
    api.connectBluesky.mockResolvedValue(account());
    open();
    await pick("bluesky");
    const toggle = byTestId("bluesky-advanced");
    expect(toggle.getAttribute("aria-expanded")).toBe("false");
    await fireEvent.click(toggle);
    expect(toggle.getAttribute("aria-expanded")).toBe("true");

    await fireEvent.input(byTestId("bluesky-identifier"), { target: { value: "ada@example.com" } });
    await fireEvent.input(byTestId("bluesky-password"), { target: { value: "app-pass" } });
    await fireEvent.input(byTestId("bluesky-service"), { target: { value: "https://pds.example.com" } });
    await fireEvent.click(byTestId("bluesky-submit"));

    await vi.waitFor(() =>
      expect(api.connectBluesky).toHaveBeenCalledWith(expect.objectContaining({ service: "https://pds.example.com" })),
    );
  });

  it("shows a refused sign-in inline and keeps what was typed", async () => {
    api.connectBluesky.mockRejectedValue(new AppError("auth_failed", "Invalid identifier or password"));
    const { onconnected } = open();
    await pick("bluesky");
    await fireEvent.input(byTestId("bluesky-identifier"), { target: { value: "ada.bsky.social" } });
    await fireEvent.input(byTestId("bluesky-password"), { target: { value: "wrong" } });
    await fireEvent.click(byTestId("bluesky-submit"));

    const error = await screen.findByTestId("connect-error");
    expect(error.getAttribute("role")).toBe("alert");
    expect(error.textContent).toContain("Sign-in failed: Invalid identifier or password");
    expect(input("bluesky-identifier").value).toBe("ada.bsky.social");
    expect(onconnected).not.toHaveBeenCalled();
    expect(screen.getByRole("dialog")).toBeTruthy();
    expect((byTestId("bluesky-submit") as HTMLButtonElement).disabled).toBe(false);
  });

  it("focuses the field an invalid input is about", async () => {
    api.connectBluesky.mockRejectedValue(
      new AppError("invalid_input", '"ada" is not a handle: it looks like name.bsky.social or your own domain'),
    );
    open();
    await pick("bluesky");
    await fireEvent.input(byTestId("bluesky-identifier"), { target: { value: "ada" } });
    await fireEvent.input(byTestId("bluesky-password"), { target: { value: "app-pass" } });
    byTestId("bluesky-password").focus();
    await fireEvent.click(byTestId("bluesky-submit"));

    expect((await screen.findByTestId("connect-error")).textContent).toContain('"ada" is not a handle');
    await vi.waitFor(() => expect(document.activeElement).toBe(byTestId("bluesky-identifier")));
    expect(byTestId("bluesky-identifier").getAttribute("aria-invalid")).toBe("true");
    expect(input("bluesky-identifier").value).toBe("ada");
  });

  it("asks for the missing fields without calling the core", async () => {
    open();
    await pick("bluesky");
    await fireEvent.click(byTestId("bluesky-submit"));
    expect(byTestId("connect-error").textContent).toContain("Enter your handle, email or DID.");
    await fireEvent.input(byTestId("bluesky-identifier"), { target: { value: "ada.bsky.social" } });
    await fireEvent.click(byTestId("bluesky-submit"));
    expect(byTestId("connect-error").textContent).toContain("Enter an app password.");
    expect(api.connectBluesky).not.toHaveBeenCalled();
  });

  it("goes back to the picker", async () => {
    open();
    await pick("bluesky");
    await fireEvent.click(screen.getByText("Back"));
    expect(await screen.findAllByTestId("network-option")).toHaveLength(4);
  });

  it("reconnects with the handle prefilled", async () => {
    const ada = account({ id: "acc-7", health: "needs_reconnect" });
    api.connectBluesky.mockResolvedValue({ ...ada, health: "ok" });
    const { onconnected } = open({ reconnect: ada });

    expect(screen.queryByTestId("network-option")).toBeNull();
    expect(screen.getByRole("dialog").textContent).toContain("Reconnect @ada.bsky.social");
    expect(input("bluesky-identifier").value).toBe("ada.bsky.social");
    expect(document.activeElement).toBe(byTestId("bluesky-password"));
    expect(screen.queryByText("Back")).toBeNull();

    await fireEvent.input(byTestId("bluesky-password"), { target: { value: "new-app-pass" } });
    await fireEvent.click(byTestId("bluesky-submit"));
    await vi.waitFor(() => expect(onconnected).toHaveBeenCalled());
    expect(api.connectBluesky).toHaveBeenCalledWith({
      workspaceId: "ws-1",
      identifier: "ada.bsky.social",
      password: "new-app-pass",
      service: null,
      reconnectId: "acc-7",
    });
  });
});

describe("Mastodon sign-in", () => {
  it("shows the authorize address while waiting and returns to the form on cancel", async () => {
    const finish = deferred<Account>();
    api.startMastodonSignIn.mockResolvedValue(pending);
    api.finishMastodonSignIn.mockReturnValue(finish.promise);
    api.cancelSignIn.mockImplementation(async () => {
      finish.reject(new AppError("cancelled", "the sign-in was cancelled"));
    });
    const { onconnected } = open();
    await pick("mastodon");

    expect(input("mastodon-instance").placeholder).toBe("mastodon.social");
    await fireEvent.input(byTestId("mastodon-instance"), { target: { value: "@ada@mastodon.social" } });
    await fireEvent.click(byTestId("mastodon-submit"));

    const waiting = await screen.findByTestId("mastodon-waiting");
    expect(waiting.textContent).toContain("Finish signing in in your browser");
    expect(waiting.textContent).toContain("mastodon.social");
    const url = input("mastodon-authorize-url");
    expect(url.value).toBe(pending.authorizeUrl);
    expect(url.readOnly).toBe(true);
    expect(api.startMastodonSignIn).toHaveBeenCalledWith({
      workspaceId: "ws-1",
      instance: "@ada@mastodon.social",
      reconnectId: null,
    });
    expect(api.finishMastodonSignIn).toHaveBeenCalledWith("flow-1");

    await fireEvent.click(byTestId("mastodon-cancel"));
    expect(api.cancelSignIn).toHaveBeenCalledWith("flow-1");
    await screen.findByTestId("mastodon-instance");
    expect(screen.queryByTestId("mastodon-waiting")).toBeNull();
    expect(input("mastodon-instance").value).toBe("@ada@mastodon.social");
    await Promise.resolve();
    expect(screen.queryByTestId("connect-error")).toBeNull();
    expect(onconnected).not.toHaveBeenCalled();
  });

  it("copies the authorize address", async () => {
    const writeText = vi.fn().mockResolvedValue(undefined);
    Object.defineProperty(navigator, "clipboard", { value: { writeText }, configurable: true });
    api.startMastodonSignIn.mockResolvedValue(pending);
    api.finishMastodonSignIn.mockReturnValue(new Promise(() => {}));
    open();
    await pick("mastodon");
    await fireEvent.input(byTestId("mastodon-instance"), { target: { value: "mastodon.social" } });
    await fireEvent.click(byTestId("mastodon-submit"));
    await fireEvent.click(await screen.findByTestId("mastodon-copy"));
    expect(writeText).toHaveBeenCalledWith(pending.authorizeUrl);
    await vi.waitFor(() => expect(byTestId("mastodon-copy").textContent).toContain("Copied"));
    Reflect.deleteProperty(navigator, "clipboard");
  });

  it("goes back to the form quietly when the sign-in is cancelled elsewhere", async () => {
    api.startMastodonSignIn.mockResolvedValue(pending);
    api.finishMastodonSignIn.mockRejectedValue(new AppError("cancelled", "the browser sign-in timed out"));
    open();
    await pick("mastodon");
    await fireEvent.input(byTestId("mastodon-instance"), { target: { value: "mastodon.social" } });
    await fireEvent.click(byTestId("mastodon-submit"));
    await screen.findByTestId("mastodon-instance");
    expect(screen.queryByTestId("connect-error")).toBeNull();
  });

  it("shows a failed sign-in inline", async () => {
    api.startMastodonSignIn.mockResolvedValue(pending);
    api.finishMastodonSignIn.mockRejectedValue(new AppError("auth_failed", "access was denied"));
    open();
    await pick("mastodon");
    await fireEvent.input(byTestId("mastodon-instance"), { target: { value: "mastodon.social" } });
    await fireEvent.click(byTestId("mastodon-submit"));
    expect((await screen.findByTestId("connect-error")).textContent).toContain("Sign-in failed: access was denied");
    expect(input("mastodon-instance").value).toBe("mastodon.social");
  });

  it("shows a server that can't be reached inline", async () => {
    api.startMastodonSignIn.mockRejectedValue(new AppError("network_unavailable", "nope.example did not answer"));
    open();
    await pick("mastodon");
    await fireEvent.input(byTestId("mastodon-instance"), { target: { value: "nope.example" } });
    await fireEvent.click(byTestId("mastodon-submit"));
    expect((await screen.findByTestId("connect-error")).textContent).toContain(
      "The network could not be reached: nope.example did not answer",
    );
    expect(screen.queryByTestId("mastodon-waiting")).toBeNull();
    expect(document.activeElement).toBe(byTestId("mastodon-instance"));
  });

  it("hands over the account when the browser comes back", async () => {
    const ada = account({ network: "mastodon", handle: "@ada@mastodon.social", server: "https://mastodon.social" });
    api.startMastodonSignIn.mockResolvedValue(pending);
    api.finishMastodonSignIn.mockResolvedValue(ada);
    const { onconnected } = open();
    await pick("mastodon");
    await fireEvent.input(byTestId("mastodon-instance"), { target: { value: "mastodon.social" } });
    await fireEvent.click(byTestId("mastodon-submit"));
    await vi.waitFor(() => expect(onconnected).toHaveBeenCalledWith(ada));
  });

  it("reconnects on the account's server and cancels the sign-in when the dialog closes", async () => {
    const ada = account({ id: "acc-9", network: "mastodon", handle: "@ada@mastodon.social", server: "mastodon.social" });
    api.startMastodonSignIn.mockResolvedValue(pending);
    api.finishMastodonSignIn.mockReturnValue(new Promise(() => {}));
    api.cancelSignIn.mockResolvedValue(undefined);
    const { onclose } = open({ reconnect: ada });

    expect(input("mastodon-instance").value).toBe("mastodon.social");
    await fireEvent.click(byTestId("mastodon-submit"));
    expect(api.startMastodonSignIn).toHaveBeenCalledWith({
      workspaceId: "ws-1",
      instance: "mastodon.social",
      reconnectId: "acc-9",
    });
    await screen.findByTestId("mastodon-waiting");

    await fireEvent.keyDown(byTestId("mastodon-cancel"), { key: "Escape" });
    expect(onclose).toHaveBeenCalled();
    await vi.waitFor(() => expect(api.cancelSignIn).toHaveBeenCalledWith("flow-1"));
  });
});
