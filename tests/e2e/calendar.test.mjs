import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { By, Key, until } from "selenium-webdriver";
import { cli, find, launch, newDataDir, playBrowser, screenshot, startFakes } from "./harness.mjs";

let fakes;
const running = new Set();
before(async () => {
  fakes = await startFakes();
});
after(async () => {
  for (const app of running) await app.quit();
  fakes?.stop();
});

/** The machine runs in UTC; the workspace is half a day ahead of it. */
const ZONE = "Pacific/Auckland";

/** "YYYY-MM-DD" in `zone`, `days` after today there. */
function dayIn(zone, days) {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat("en-CA", { timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit" })
      .formatToParts(new Date())
      .map((p) => [p.type, p.value]),
  );
  const date = new Date(Date.UTC(Number(parts.year), Number(parts.month) - 1, Number(parts.day) + days));
  return date.toISOString().slice(0, 10);
}

/** textContent (getText() is empty for text under overflow:hidden in WebKitWebDriver). */
const textOf = (driver, el) => driver.executeScript("return arguments[0].textContent.replace(/\\s+/g, ' ').trim();", el);

/**
 * Sets a date or time input the way the user's picker does: WebKitGTK's native date and time
 * fields take typed keys per segment (and per locale), so the value is set and an input event
 * sent, which is what the Svelte binding listens to.
 */
async function setInput(driver, el, value) {
  await driver.executeScript(
    "const el = arguments[0]; el.focus(); el.value = arguments[1]; el.dispatchEvent(new Event('input', { bubbles: true })); el.dispatchEvent(new Event('change', { bubbles: true }));",
    el,
    value,
  );
}

/** Clicks once nothing covers the element (a closing dialog, a toast sliding away). */
async function clickWhenFree(driver, el, timeout = 10_000) {
  await driver.wait(
    async () => {
      try {
        await el.click();
        return true;
      } catch (error) {
        if (error.name === "ElementClickInterceptedError") return false;
        throw error;
      }
    },
    timeout,
    "something kept covering the element",
  );
}

/** The chip of a target shows no change on its way (the chip may be redrawn meanwhile). */
async function notBusy(driver, targetId) {
  try {
    return (await driver.findElement(chipSelector(targetId)).getAttribute("aria-busy")) === null;
  } catch {
    return false;
  }
}

const chipSelector = (targetId) => By.css(`[data-testid="calendar-item"][data-target-id="${targetId}"]`);

test("schedule from Compose in the workspace's zone, see it in the calendar, drag it to another day", async () => {
  const data = newDataDir();
  cli(data, "workspace", "add", "Kiwi Café", "--tz", ZONE);
  await fakes.blueskyControl("POST", "/_fake/accounts", {
    handle: "kiwi.test",
    email: "kiwi@example.com",
    password: "kiwi-pass-1234",
    displayName: "Kiwi Café",
  });
  const app = await launch(data, { LANG: "en_US.UTF-8", TZ: "UTC", ...fakes.env });
  running.add(app);
  const { driver } = app;

  // Connect the Bluesky account on the fake.
  await (await find(driver, "nav-accounts")).click();
  await (await find(driver, "account-add")).click();
  await (await driver.wait(until.elementLocated(By.css('[data-testid="network-option"][data-network="bluesky"]')), 10_000)).click();
  await (await find(driver, "bluesky-identifier")).sendKeys("kiwi.test");
  await (await find(driver, "bluesky-password")).sendKeys("kiwi-pass-1234", Key.ENTER);
  await driver.wait(until.elementLocated(By.css('[data-testid="account-row"][data-network="bluesky"]')), 20_000);
  const [account] = JSON.parse(cli(data, "account", "list", "--json"));
  // The connect dialog closes itself once the account is in.
  await driver.wait(async () => (await driver.findElements(By.css('[role="dialog"]'))).length === 0, 10_000, "the connect dialog stayed open");

  // Write the post.
  await clickWhenFree(driver, await find(driver, "nav-compose"));
  const chip = await driver.wait(until.elementLocated(By.css(`[data-testid="compose-target"][data-account-id="${account.id}"]`)), 10_000);
  if ((await chip.getAttribute("aria-pressed")) !== "true") await chip.click();
  const text = "Flat whites half price on Saturday morning";
  await (await find(driver, "compose-text")).sendKeys(text);
  const saved = await find(driver, "compose-saved");
  await driver.wait(async () => (await saved.getAttribute("data-state")) === "saved", 10_000, "the draft was never saved");

  // Schedule it for 10:30 in Auckland, three days ahead (there).
  const day = dayIn(ZONE, 3);
  const wallClock = `${day} 10:30`;
  // (The "Connected" toast may still sit over the bottom right of the window.)
  await clickWhenFree(driver, await find(driver, "compose-schedule"));
  const panel = await find(driver, "schedule-panel");
  assert.match(await textOf(driver, await find(driver, "schedule-zone")), /Pacific\/Auckland \(UTC\+1[23]:00\)/);
  await setInput(driver, await find(driver, "schedule-date"), day);
  await setInput(driver, await find(driver, "schedule-time"), "10:30");
  const resolved = await find(driver, "schedule-resolved");
  assert.match(await textOf(driver, resolved), /^Goes out on .+ at 10:30 AM$/);
  // The machine is on UTC: the panel says when that is here.
  assert.match(await textOf(driver, await find(driver, "schedule-here")), /^That is .+ on this computer\.$/);
  await screenshot(driver, "calendar-schedule-panel");
  await clickWhenFree(driver, await panel.findElement(By.css('[data-testid="schedule-submit"]')));

  const result = await driver.wait(
    until.elementLocated(By.css(`[data-testid="schedule-result"][data-account-id="${account.id}"][data-state="scheduled"]`)),
    20_000,
    "the post was not scheduled",
  );
  await driver.wait(async () => (await result.getAttribute("data-local-time")) === wallClock, 10_000, "the result never showed the time");
  assert.match(await textOf(driver, await result.findElement(By.css('[data-testid="held-by"]'))), /Needs Postwerk running/);
  let [item] = JSON.parse(cli(data, "queue", "list", "--json"));
  assert.equal(item.scheduledLocal, wallClock);
  assert.equal(item.scheduledZone, ZONE);
  assert.equal(item.state, "scheduled");
  const targetId = item.targetId;

  // The calendar shows it on that day at 10:30 (Auckland), not on the UTC day.
  await clickWhenFree(driver, await find(driver, "schedule-open-calendar"));
  await find(driver, "screen-calendar");
  assert.match(await textOf(driver, await find(driver, "calendar-zone")), /Pacific\/Auckland/);
  const placed = await driver.wait(until.elementLocated(chipSelector(targetId)), 15_000, "the post is not in the calendar");
  const cellOf = (el) => driver.executeScript("return arguments[0].closest('[data-testid=\"calendar-day\"]').dataset.day;", el);
  assert.equal(await cellOf(placed), day);
  assert.equal(await placed.getAttribute("data-local-time"), wallClock);
  assert.equal(await textOf(driver, await placed.findElement(By.css('[data-testid="calendar-item-time"]'))), "10:30 AM");
  assert.match(await textOf(driver, placed), /@kiwi\.test/);
  assert.match(await textOf(driver, placed), /Flat whites half price/);
  await screenshot(driver, "calendar-month");

  // Drag it two days later (or one earlier, should that be outside the month shown).
  const shown = await driver.executeScript("return [...document.querySelectorAll('[data-testid=\"calendar-day\"]')].map((d) => d.dataset.day);");
  const later = dayIn(ZONE, 5);
  const newDay = shown.includes(later) ? later : dayIn(ZONE, 2);
  const target = await driver.findElement(By.css(`[data-testid="calendar-day"][data-day="${newDay}"]`));
  // WebKitWebDriver's pointer actions move the mouse but WebKitGTK starts no HTML5 drag from
  // synthetic input (no dragstart/dragover/drop is fired), so the drag is played as the browser
  // would: the same DragEvents, carrying one DataTransfer, dispatched on the chip and the day.
  await driver.executeScript(
    `const [source, target] = arguments;
     const data = new DataTransfer();
     const fire = (el, type) => el.dispatchEvent(new DragEvent(type, { bubbles: true, cancelable: true, dataTransfer: data }));
     fire(source, "dragstart");
     fire(target, "dragenter");
     fire(target, "dragover");
     fire(target, "drop");
     fire(source, "dragend");`,
    placed,
    target,
  );
  const moved = `${newDay} 10:30`;
  await driver.wait(
    until.elementLocated(By.css(`[data-testid="calendar-day"][data-day="${newDay}"] [data-testid="calendar-item"][data-target-id="${targetId}"][data-local-time="${moved}"]`)),
    15_000,
    "the post did not move to the new day",
  );
  // Not busy any more: the core answered.
  await driver.wait(() => notBusy(driver, targetId), 10_000, "the move never finished");
  assert.equal(await driver.findElements(By.css(`[data-testid="calendar-day"][data-day="${day}"] [data-testid="calendar-item"]`)).then((l) => l.length), 0);
  await screenshot(driver, "calendar-moved");

  [item] = JSON.parse(cli(data, "queue", "list", "--json"));
  assert.equal(item.targetId, targetId);
  assert.equal(item.scheduledLocal, moved);
  assert.equal(item.localTime, moved);
  assert.equal(item.state, "scheduled");

  // The details say the same, and offer the keyboard way to move it.
  await clickWhenFree(driver, await driver.findElement(chipSelector(targetId)));
  const dialog = await find(driver, "item-dialog");
  assert.equal(await (await find(driver, "item-when")).getAttribute("data-local-time"), moved);
  assert.match(await textOf(driver, await dialog.findElement(By.css('[data-testid="held-by"]'))), /Needs Postwerk running/);
  assert.equal(await (await find(driver, "move-date")).getAttribute("value"), newDay);
  await screenshot(driver, "calendar-details");

  // Without dragging: a new time in the details, then Move.
  await setInput(driver, await find(driver, "move-time"), "11:45");
  await driver.wait(async () => (await (await find(driver, "move-picker")).getAttribute("data-status")) === "ok", 10_000);
  await clickWhenFree(driver, await find(driver, "item-move"));
  const movedAgain = `${newDay} 11:45`;
  await driver.wait(async () => (await (await find(driver, "item-when")).getAttribute("data-local-time")) === movedAgain, 10_000, "Move did not move");
  [item] = JSON.parse(cli(data, "queue", "list", "--json"));
  assert.equal(item.scheduledLocal, movedAgain);
  await driver.actions().sendKeys(Key.ESCAPE).perform();
  await driver.wait(async () => (await driver.findElements(By.css('[data-testid="item-dialog"]'))).length === 0, 5_000);

  // The week of the post shows it in the 11 o'clock row of its day.
  await clickWhenFree(driver, await find(driver, "calendar-view-week"));
  const inWeek = await driver.wait(
    until.elementLocated(By.css(`[data-testid="calendar-slot"][data-day="${newDay}"][data-hour="11"] [data-testid="calendar-item"]`)),
    10_000,
    "the week view does not show the post at 11",
  ).catch(async (error) => {
    // The week shown is today's: the post may be in the next one.
    await clickWhenFree(driver, await find(driver, "calendar-next"));
    return driver.wait(until.elementLocated(By.css(`[data-testid="calendar-slot"][data-day="${newDay}"][data-hour="11"] [data-testid="calendar-item"]`)), 10_000, error.message);
  });
  assert.equal(await inWeek.getAttribute("data-target-id"), targetId);
  await screenshot(driver, "calendar-week");

  // Queue: give the account a weekly time, then add a post to the queue from Compose.
  await clickWhenFree(driver, await find(driver, "calendar-view-queue"));
  const slots = await find(driver, "queue-slots");
  await find(driver, "queue-slots-empty");
  await driver.executeScript(
    "const el = arguments[0]; el.value = '0'; el.dispatchEvent(new Event('change', { bubbles: true }));",
    await slots.findElement(By.css('[data-testid="queue-slot-day"]')),
  );
  await setInput(driver, await slots.findElement(By.css('[data-testid="queue-slot-time"]')), "09:00");
  await clickWhenFree(driver, await slots.findElement(By.css('[data-testid="queue-slot-add"]')));
  await driver.wait(until.elementLocated(By.css('[data-testid="queue-slot"][data-weekday="0"][data-minute="540"]')), 10_000, "the queue time was not added");
  await screenshot(driver, "calendar-queue");

  await clickWhenFree(driver, await find(driver, "nav-compose"));
  const chip2 = await driver.wait(until.elementLocated(By.css(`[data-testid="compose-target"][data-account-id="${account.id}"]`)), 10_000);
  if ((await chip2.getAttribute("aria-pressed")) !== "true") await chip2.click();
  await (await find(driver, "compose-text")).sendKeys("Monday muffins");
  await clickWhenFree(driver, await find(driver, "compose-schedule"));
  await clickWhenFree(driver, await find(driver, "schedule-queue"));
  const queued = await driver.wait(
    until.elementLocated(By.css(`[data-testid="schedule-results"][data-mode="queue"] [data-testid="schedule-result"][data-state="scheduled"]`)),
    20_000,
    "the post was not added to the queue",
  );
  const monday = nextMonday0900(ZONE);
  await driver.wait(async () => (await queued.getAttribute("data-local-time")) === monday, 10_000, `the queued post is not at ${monday}`);
  const inQueue = JSON.parse(cli(data, "queue", "list", "--json")).find((i) => i.queued);
  assert.equal(inQueue.scheduledLocal, monday);
  assert.equal(inQueue.text, "Monday muffins");
  await app.quit();
  running.delete(app);
});

test("a Mastodon post is handed over to the server, shown as held by Mastodon, and moved there too", async () => {
  const zone = "America/New_York";
  const data = newDataDir();
  cli(data, "workspace", "add", "Deli", "--tz", zone);
  const app = await launch(data, { LANG: "en_US.UTF-8", TZ: "UTC", ...fakes.env, POSTWERK_OAUTH_PORTS: "47891,47892" });
  running.add(app);
  const { driver } = app;

  await (await find(driver, "nav-accounts")).click();
  await (await find(driver, "account-add")).click();
  await (await driver.wait(until.elementLocated(By.css('[data-testid="network-option"][data-network="mastodon"]')), 10_000)).click();
  await (await find(driver, "mastodon-instance")).sendKeys(fakes.mastodon);
  await (await find(driver, "mastodon-submit")).click();
  const field = await find(driver, "mastodon-authorize-url", 20_000);
  await driver.wait(async () => (await field.getAttribute("value")).startsWith("http"), 10_000);
  await playBrowser(await field.getAttribute("value"));
  await driver.wait(until.elementLocated(By.css('[data-testid="account-row"][data-network="mastodon"]')), 20_000);
  await driver.wait(async () => (await driver.findElements(By.css('[role="dialog"]'))).length === 0, 10_000, "the connect dialog stayed open");
  const [account] = JSON.parse(cli(data, "account", "list", "--json"));

  await clickWhenFree(driver, await find(driver, "nav-compose"));
  const chip = await driver.wait(until.elementLocated(By.css(`[data-testid="compose-target"][data-account-id="${account.id}"]`)), 10_000);
  if ((await chip.getAttribute("aria-pressed")) !== "true") await chip.click();
  const text = "Pastrami special, Thursday only";
  await (await find(driver, "compose-text")).sendKeys(text);
  const day = dayIn(zone, 2);
  await clickWhenFree(driver, await find(driver, "compose-schedule"));
  await setInput(driver, await find(driver, "schedule-date"), day);
  await setInput(driver, await find(driver, "schedule-time"), "09:00");
  await find(driver, "schedule-resolved");
  await clickWhenFree(driver, await find(driver, "schedule-submit"));

  // The app's scheduler hands it to Mastodon's own scheduler; the result says who holds it now.
  const row = await driver.wait(
    until.elementLocated(By.css(`[data-testid="schedule-result"][data-account-id="${account.id}"][data-state="handed_off"]`)),
    30_000,
    "the post was not handed over to Mastodon",
  );
  const held = await row.findElement(By.css('[data-testid="held-by"]'));
  await driver.wait(async () => (await held.getAttribute("data-held-by")) === "network", 10_000);
  assert.equal(await textOf(driver, held), "Held by Mastodon — goes out even when your computer is off");
  await screenshot(driver, "calendar-mastodon-held");
  let [item] = JSON.parse(cli(data, "queue", "list", "--json"));
  assert.equal(item.state, "handed_off");
  assert.equal(item.heldBy, "network");
  assert.equal(item.scheduledLocal, `${day} 09:00`);
  const onServer = async () => (await fakes.mastodonControl("GET", "/_fake/scheduled")).filter((s) => !s.deleted && JSON.stringify(s.params).includes(text));
  let scheduled = await onServer();
  assert.equal(scheduled.length, 1);
  assert.equal(Date.parse(scheduled[0].scheduledAt), Date.parse(item.scheduledAt));

  // In the calendar: held by Mastodon; moved by a drop, and moved on the server as well.
  await clickWhenFree(driver, await find(driver, "schedule-open-calendar"));
  const placed = await driver.wait(until.elementLocated(chipSelector(item.targetId)), 15_000);
  assert.equal(await (await placed.findElement(By.css('[data-testid="held-by"]'))).getAttribute("data-held-by"), "network");
  const shown = await driver.executeScript("return [...document.querySelectorAll('[data-testid=\"calendar-day\"]')].map((d) => d.dataset.day);");
  const newDay = shown.includes(dayIn(zone, 3)) ? dayIn(zone, 3) : dayIn(zone, 1);
  // HTML5 drag played with DragEvents (see the first test for why).
  await driver.executeScript(
    `const [source, target] = arguments;
     const data = new DataTransfer();
     const fire = (el, type) => el.dispatchEvent(new DragEvent(type, { bubbles: true, cancelable: true, dataTransfer: data }));
     fire(source, "dragstart"); fire(target, "dragover"); fire(target, "drop"); fire(source, "dragend");`,
    placed,
    await driver.findElement(By.css(`[data-testid="calendar-day"][data-day="${newDay}"]`)),
  );
  await driver.wait(
    until.elementLocated(By.css(`[data-testid="calendar-day"][data-day="${newDay}"] [data-testid="calendar-item"][data-local-time="${newDay} 09:00"][data-state="handed_off"]`)),
    20_000,
    "the Mastodon post did not move",
  );
  // Shown there at once; done once the core (and Mastodon) answered.
  await driver.wait(() => notBusy(driver, item.targetId), 20_000, "the move never finished");
  await driver.wait(until.elementLocated(By.css(`[data-testid="calendar-day"][data-day="${newDay}"] [data-testid="calendar-item"][data-target-id="${item.targetId}"]`)), 5_000);
  [item] = JSON.parse(cli(data, "queue", "list", "--json"));
  assert.equal(item.scheduledLocal, `${newDay} 09:00`);
  assert.equal(item.state, "handed_off");
  scheduled = await onServer();
  assert.equal(scheduled.length, 1);
  assert.equal(Date.parse(scheduled[0].scheduledAt), Date.parse(item.scheduledAt));
  await app.quit();
  running.delete(app);
});

/** The next Monday 09:00 on the wall clock of `zone` ("YYYY-MM-DD 09:00"), as the queue picks it. */
function nextMonday0900(zone) {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat("en-CA", { timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", weekday: "short", hourCycle: "h23" })
      .formatToParts(new Date(Date.now() + 60_000))
      .map((p) => [p.type, p.value]),
  );
  const weekday = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"].indexOf(parts.weekday);
  const beforeNine = Number(parts.hour) < 9;
  const ahead = weekday === 0 && beforeNine ? 0 : (7 - weekday) % 7 || 7;
  const date = new Date(Date.UTC(Number(parts.year), Number(parts.month) - 1, Number(parts.day) + ahead));
  return `${date.toISOString().slice(0, 10)} 09:00`;
}
