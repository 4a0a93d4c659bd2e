import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, test } from "node:test";
import { By, until } from "selenium-webdriver";
import { byTestId, cli, filesBelow, find, launch, newDataDir, playBrowser, screenshot, startFakes } from "./harness.mjs";

let fakes;
const running = new Set();
before(async () => {
  fakes = await startFakes();
});
after(async () => {
  for (const app of running) await app.quit();
  fakes?.stop();
});

async function start(dataDir, env = {}) {
  const app = await launch(dataDir, { LANG: "en_US.UTF-8", ...fakes.env, ...env });
  running.add(app);
  return app;
}

async function stop(app) {
  await app.quit();
  running.delete(app);
}

async function openAccounts(driver) {
  await (await find(driver, "nav-accounts")).click();
  await find(driver, "screen-accounts");
}

async function rowFor(driver, network, timeout = 20_000) {
  return driver.wait(
    until.elementLocated(By.css(`[data-testid="account-row"][data-network="${network}"]`)),
    timeout,
    `no ${network} account row`,
  );
}

async function health(row) {
  return (await row.findElement(byTestId("account-health"))).getAttribute("data-health");
}

async function connectBluesky(driver, identifier, password, shot) {
  await (await find(driver, "account-add")).click();
  await (await find(driver, "network-option")).isDisplayed();
  if (shot) await screenshot(driver, shot);
  await (await driver.findElement(By.css('[data-testid="network-option"][data-network="bluesky"]'))).click();
  await (await find(driver, "bluesky-identifier")).sendKeys(identifier);
  await (await find(driver, "bluesky-password")).sendKeys(password);
  await (await find(driver, "bluesky-submit")).click();
}

async function connectMastodon(driver, instance) {
  await (await find(driver, "account-add")).click();
  await (await driver.wait(until.elementLocated(By.css('[data-testid="network-option"][data-network="mastodon"]')), 10_000)).click();
  await (await find(driver, "mastodon-instance")).sendKeys(instance);
  await (await find(driver, "mastodon-submit")).click();
  await find(driver, "mastodon-waiting", 20_000);
  const field = await find(driver, "mastodon-authorize-url");
  await driver.wait(async () => (await field.getAttribute("value")).startsWith("http"), 10_000);
  return field.getAttribute("value");
}

test("a Bluesky account connected in the window shows its avatar and stays connected after a restart", async () => {
  const data = newDataDir();
  cli(data, "workspace", "add", "Bäckerei", "--tz", "Europe/Berlin");
  await fakes.blueskyControl("POST", "/_fake/accounts", {
    handle: "baeckerei.test",
    email: "shop@example.com",
    password: "abcd-efgh-ijkl-mnop",
    displayName: "Bäckerei Sonnenschein",
  });
  let app = await start(data);
  let { driver } = app;
  await openAccounts(driver);
  await find(driver, "accounts-empty");

  // A wrong app password: a clear message, and what was typed stays.
  await connectBluesky(driver, "baeckerei.test", "wrong-password", "accounts-picker");
  const error = await find(driver, "connect-error", 20_000);
  await driver.wait(async () => (await error.getText()).includes("Invalid identifier or password"), 10_000);
  assert.equal(await (await find(driver, "bluesky-identifier")).getAttribute("value"), "baeckerei.test");
  const password = await find(driver, "bluesky-password");
  await password.clear();
  await password.sendKeys("abcd-efgh-ijkl-mnop");
  await (await find(driver, "bluesky-submit")).click();

  let row = await rowFor(driver, "bluesky");
  assert.equal((await (await row.findElement(byTestId("account-handle"))).getText()).trim(), "@baeckerei.test");
  assert.equal((await (await row.findElement(byTestId("account-name"))).getText()).trim(), "Bäckerei Sonnenschein");
  const avatar = await row.findElement(byTestId("account-avatar"));
  assert.match(await avatar.getAttribute("src"), /^data:image\/png;base64,/);
  assert.ok(await driver.executeScript("return arguments[0].complete && arguments[0].naturalWidth > 0", avatar), "the avatar image loaded");
  assert.equal(await health(row), "ok");
  await screenshot(driver, "accounts-bluesky");

  await stop(app);
  app = await start(data);
  driver = app.driver;
  await openAccounts(driver);
  row = await rowFor(driver, "bluesky");
  assert.equal(await health(row), "ok");
  await stop(app);
});

test("a Mastodon account connects through the browser sign-in (the test plays the browser)", async () => {
  const data = newDataDir();
  cli(data, "workspace", "add", "Acme", "--tz", "Europe/Berlin");
  const app = await start(data, { POSTWERK_OAUTH_PORTS: "47871,47872" });
  const { driver } = app;
  await openAccounts(driver);
  const url = await connectMastodon(driver, fakes.mastodon);
  assert.match(url, /\/oauth\/authorize\?.*code_challenge_method=S256/);
  await screenshot(driver, "accounts-mastodon-waiting");
  const page = await playBrowser(url);
  assert.match(page, /You can close this tab/);
  const row = await rowFor(driver, "mastodon");
  assert.equal((await (await row.findElement(byTestId("account-name"))).getText()).trim(), "Ada Lovelace");
  assert.match((await (await row.findElement(byTestId("account-handle"))).getText()).trim(), /^@ada@127\.0\.0\.1:\d+$/);
  assert.equal(await health(row), "ok");
  await stop(app);
});

test("after connecting, refreshing and removing accounts, no token is in the database, its WAL, the logs or any export", async () => {
  const data = newDataDir();
  cli(data, "workspace", "add", "Scan", "--tz", "Europe/Berlin");
  await fakes.blueskyControl("POST", "/_fake/accounts", {
    handle: "scan.test",
    email: "scan@example.com",
    password: "scan-pass-1234",
    displayName: "Scan",
  });
  const liveBefore = (await fakes.mastodonControl("GET", "/_fake/tokens")).live.length;
  let app = await start(data, { POSTWERK_OAUTH_PORTS: "47873,47874" });
  let { driver } = app;
  await openAccounts(driver);
  await connectBluesky(driver, "scan.test", "scan-pass-1234");
  await rowFor(driver, "bluesky");
  const url = await connectMastodon(driver, fakes.mastodon);
  await playBrowser(url);
  await rowFor(driver, "mastodon");
  await screenshot(driver, "accounts-both");

  // Expire the access tokens: the health check on the next start refreshes the session.
  const before = await fakes.blueskyControl("GET", "/_fake/stats");
  await fakes.blueskyControl("POST", "/_fake/expire-access-tokens");
  await stop(app);
  app = await start(data, { POSTWERK_OAUTH_PORTS: "47873,47874" });
  driver = app.driver;
  await openAccounts(driver);
  await driver.wait(async () => (await fakes.blueskyControl("GET", "/_fake/stats")).refreshCalls > before.refreshCalls, 20_000, "no refresh");
  assert.equal(await health(await rowFor(driver, "bluesky")), "ok");

  const exports = [cli(data, "account", "list", "--json"), cli(data, "account", "list"), cli(data, "doctor", "--json")];

  for (const network of ["bluesky", "mastodon"]) {
    const row = await rowFor(driver, network);
    await (await row.findElement(byTestId("account-remove"))).click();
    await (await find(driver, "remove-confirm")).click();
    await driver.wait(
      async () => (await driver.findElements(By.css(`[data-testid="account-row"][data-network="${network}"]`))).length === 0,
      20_000,
      `${network} row still there`,
    );
  }
  const tokens = await fakes.mastodonControl("GET", "/_fake/tokens");
  assert.equal(tokens.live.length, liveBefore, "the Mastodon token was revoked");

  const secrets = await fakes.secrets();
  assert.ok(secrets.length >= 5, `the fakes issued ${secrets.length} secrets`);
  const scan = (expectWal) => {
    const files = filesBelow(data);
    assert.ok(files.some((f) => f.endsWith("postwerk.db")));
    if (expectWal) assert.ok(files.some((f) => f.endsWith("postwerk.db-wal")), `no WAL in ${files}`);
    assert.ok(files.some((f) => f.includes("/logs/")), `no log files in ${files}`);
    for (const file of files) {
      const text = readFileSync(file).toString("latin1");
      for (const s of secrets) assert.ok(!text.includes(s), `${file} contains a token`);
    }
  };
  scan(true); // while the app runs: the database, its WAL and the logs
  await stop(app);
  scan(false);
  for (const out of [...exports, cli(data, "account", "list", "--json")]) {
    for (const s of secrets) assert.ok(!out.includes(s), "an export contains a token");
  }
});
