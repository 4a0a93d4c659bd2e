import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { after, test } from "node:test";
import { By, Key } from "selenium-webdriver";
import { APP, byTestId, cli, find, launch, newDataDir, screenshot, waitForText } from "./harness.mjs";

const running = new Set();
after(async () => {
  for (const app of running) await app.quit();
});

async function start(dataDir, env) {
  const app = await launch(dataDir, env);
  running.add(app);
  return app;
}

async function stop(app) {
  await app.quit();
  running.delete(app);
}

async function navLabels(driver) {
  const ids = ["compose", "calendar", "inbox", "listening", "contacts", "analytics", "accounts", "settings"];
  const labels = {};
  for (const id of ids) labels[id] = (await (await find(driver, `nav-${id}`)).getText()).trim();
  return labels;
}

test("a workspace created in the window is still there after quitting and starting again", async () => {
  const data = newDataDir();
  let app = await start(data, { LANG: "en_US.UTF-8" });
  let { driver } = app;

  await find(driver, "screen-welcome");
  await screenshot(driver, "welcome");
  await (await find(driver, "workspace-name")).sendKeys("Bäckerei Sonnenschein");
  const tz = await find(driver, "workspace-timezone");
  if ((await tz.getTagName()) === "select") {
    await tz.findElement(By.css('option[value="America/New_York"]')).click();
  } else {
    await tz.clear();
    await tz.sendKeys("America/New_York", Key.ENTER);
  }
  await (await find(driver, "workspace-save")).click();
  await waitForText(driver, "current-workspace-name", "Bäckerei Sonnenschein");
  await find(driver, "screen-compose");
  await screenshot(driver, "compose-empty");

  // The row is in the real SQLite file, with the zone the user picked.
  const stored = JSON.parse(cli(data, "workspace", "list", "--json"));
  assert.equal(stored.length, 1);
  assert.equal(stored[0].name, "Bäckerei Sonnenschein");
  assert.equal(stored[0].timeZone, "America/New_York");

  await stop(app);
  app = await start(data, { LANG: "en_US.UTF-8" });
  driver = app.driver;
  await waitForText(driver, "current-workspace-name", "Bäckerei Sonnenschein");
  await (await find(driver, "workspace-switcher")).click();
  const options = await driver.findElements(byTestId("workspace-option"));
  const names = await Promise.all(options.map(async (o) => (await o.getText()).trim()));
  assert.ok(names.some((n) => n.includes("Bäckerei Sonnenschein")), `options: ${names}`);
  await stop(app);
});

test("switching the language to German shows German labels, and it sticks", async () => {
  const data = newDataDir();
  cli(data, "workspace", "add", "Acme", "--tz", "Europe/Berlin");
  let app = await start(data, { LANG: "en_US.UTF-8" });
  let { driver } = app;
  assert.equal((await navLabels(driver)).settings, "Settings");

  await (await find(driver, "nav-settings")).click();
  await find(driver, "screen-settings");
  const select = await find(driver, "settings-language");
  await select.findElement(By.css('option[value="de"]')).click();
  await waitForText(driver, "nav-settings", "Einstellungen");
  const labels = await navLabels(driver);
  assert.deepEqual(labels, {
    compose: "Verfassen",
    calendar: "Kalender",
    inbox: "Posteingang",
    listening: labels.listening,
    contacts: "Kontakte",
    analytics: "Analysen",
    accounts: "Konten",
    settings: "Einstellungen",
  });
  assert.notEqual(labels.listening, "Listening");
  assert.equal(await driver.executeScript("return document.documentElement.lang"), "de");
  await screenshot(driver, "settings-de");

  await stop(app);
  app = await start(data, { LANG: "en_US.UTF-8" });
  driver = app.driver;
  await waitForText(driver, "nav-settings", "Einstellungen");
  await stop(app);
});

test("with the language on System default, the OS language is followed", async () => {
  const data = newDataDir();
  cli(data, "workspace", "add", "Acme", "--tz", "Europe/Berlin");
  const app = await start(data, { LANG: "de_DE.UTF-8", LC_ALL: "", LC_MESSAGES: "" });
  await waitForText(app.driver, "nav-compose", "Verfassen");
  await stop(app);
});

test("a second launch focuses the first window and exits", async () => {
  const data = newDataDir();
  cli(data, "workspace", "add", "Acme", "--tz", "Europe/Berlin");
  const app = await start(data, { LANG: "en_US.UTF-8" });
  const second = spawn(APP, [], { env: { ...process.env, POSTWERK_DATA_DIR: data }, stdio: "ignore" });
  const code = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      second.kill("SIGKILL");
      reject(new Error("the second instance kept running"));
    }, 15_000);
    second.once("exit", (c) => {
      clearTimeout(timer);
      resolve(c);
    });
  });
  assert.equal(code, 0);
  // The first window still answers.
  await waitForText(app.driver, "current-workspace-name", "Acme");
  await stop(app);
});
