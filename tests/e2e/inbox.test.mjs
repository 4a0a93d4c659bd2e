import assert from "node:assert/strict";
import { chmodSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
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

/** textContent (getText() is empty for text under overflow:hidden in WebKitWebDriver). */
const textOf = (driver, el) => driver.executeScript("return arguments[0].textContent.replace(/\\s+/g, ' ').trim();", el);

/** Clicks once nothing covers the element (a toast sliding away, a panel opening). */
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

/**
 * A stand-in for the user's browser: xdg-open hands web pages to $BROWSER, which writes the
 * address to a file instead of opening anything.
 */
function fakeBrowser(dir) {
  const log = join(dir, "browser.log");
  const script = join(dir, "browser.sh");
  writeFileSync(script, `#!/bin/sh\nprintf '%s\\n' "$1" >> '${log}'\n`);
  chmodSync(script, 0o755);
  return { env: { BROWSER: script }, opened: () => (existsSync(log) ? readFileSync(log, "utf8").split("\n").filter(Boolean) : []) };
}

async function connectMastodon(driver) {
  await clickWhenFree(driver, await find(driver, "nav-accounts"));
  await clickWhenFree(driver, await find(driver, "account-add"));
  await (await driver.wait(until.elementLocated(By.css('[data-testid="network-option"][data-network="mastodon"]')), 10_000)).click();
  await (await find(driver, "mastodon-instance")).sendKeys(fakes.mastodon);
  await (await find(driver, "mastodon-submit")).click();
  const field = await find(driver, "mastodon-authorize-url", 20_000);
  await driver.wait(async () => (await field.getAttribute("value")).startsWith("http"), 10_000);
  await playBrowser(await field.getAttribute("value"));
  await driver.wait(until.elementLocated(By.css('[data-testid="account-row"][data-network="mastodon"]')), 20_000);
  await driver.wait(async () => (await driver.findElements(By.css('[role="dialog"]'))).length === 0, 10_000, "the connect dialog stayed open");
}

async function connectBluesky(driver, handle, password) {
  await clickWhenFree(driver, await find(driver, "nav-accounts"));
  await clickWhenFree(driver, await find(driver, "account-add"));
  await (await driver.wait(until.elementLocated(By.css('[data-testid="network-option"][data-network="bluesky"]')), 10_000)).click();
  await (await find(driver, "bluesky-identifier")).sendKeys(handle);
  await (await find(driver, "bluesky-password")).sendKeys(password, Key.ENTER);
  await driver.wait(until.elementLocated(By.css('[data-testid="account-row"][data-network="bluesky"]')), 20_000);
  await driver.wait(async () => (await driver.findElements(By.css('[role="dialog"]'))).length === 0, 10_000, "the connect dialog stayed open");
}

/** The id of the inbox row whose preview contains `text`, once it is shown. */
async function rowWith(driver, text, timeout = 20_000) {
  let id = null;
  await driver.wait(
    async () => {
      id = await driver.executeScript(
        "const row = [...document.querySelectorAll('[data-testid=\"inbox-row\"]')].find((r) => r.querySelector('[data-testid=\"inbox-preview\"]').textContent.includes(arguments[0])); return row ? row.dataset.id : null;",
        text,
      );
      return id !== null;
    },
    timeout,
    `no inbox row shows "${text}"`,
  );
  return id;
}

const rowSelector = (id) => By.css(`[data-testid="inbox-row"][data-id="${id}"]`);

/**
 * An attribute of the row of item `id`, read in one go (null while the row is not rendered):
 * the list re-renders rows whenever it is refreshed (a sync, a change from elsewhere).
 */
const rowAttribute = (driver, id, name) =>
  driver.executeScript("const r = document.querySelector(`[data-testid=\"inbox-row\"][data-id=\"${arguments[0]}\"]`); return r ? r.getAttribute(arguments[1]) : null;", id, name);

/** Opens the conversation of a row and waits until its thread is loaded. */
async function openConversation(driver, id) {
  const row = await driver.wait(until.elementLocated(rowSelector(id)), 10_000, "the row is not shown");
  await clickWhenFree(driver, await row.findElement(By.css('[data-testid="inbox-open"]')));
  const panel = await driver.wait(until.elementLocated(By.css(`[data-testid="conversation"][data-id="${id}"]`)), 10_000, "the conversation did not open");
  const thread = await panel.findElement(By.css('[data-testid="thread"]'));
  await driver.wait(async () => (await thread.getAttribute("data-phase")) !== "loading", 20_000, "the conversation never loaded");
  return panel;
}

/** Types a reply, sends it with Ctrl+Enter and waits for what happened. */
async function reply(driver, panel, text) {
  const area = await panel.findElement(By.css('[data-testid="reply-text"]'));
  await area.sendKeys(text);
  const counter = await panel.findElement(By.css('[data-testid="reply-counter"]'));
  await driver.wait(async () => /\d+ \/ \d+/.test(await textOf(driver, counter)), 10_000, "the reply counter never showed");
  assert.equal(await counter.getAttribute("data-ok"), "true");
  const counted = await textOf(driver, counter);
  await area.sendKeys(Key.chord(Key.CONTROL, Key.ENTER));
  const result = await driver.wait(until.elementLocated(By.css('[data-testid="reply-result"]')), 30_000, "no reply result");
  return { state: await result.getAttribute("data-state"), text: await textOf(driver, result), counter: counted };
}

test("mentions on Mastodon and Bluesky show up in the inbox and are answered in their threads", async () => {
  const data = newDataDir();
  cli(data, "workspace", "add", "Laden", "--tz", "Europe/Berlin");
  await fakes.blueskyControl("POST", "/_fake/accounts", { handle: "laden.test", email: "laden@example.com", password: "laden-pass-1234", displayName: "Laden" });
  const app = await launch(data, { LANG: "en_US.UTF-8", ...fakes.env, POSTWERK_OAUTH_PORTS: "47891,47892" });
  running.add(app);
  const { driver } = app;
  await connectMastodon(driver);
  await connectBluesky(driver, "laden.test", "laden-pass-1234");

  await clickWhenFree(driver, await find(driver, "nav-inbox"));
  await find(driver, "screen-inbox");

  // Someone mentions the accounts on each network.
  const masto = await fakes.mastodonControl("POST", "/_fake/notifications", { kind: "mention", from: "bob@other.example", html: "<p>@ada Habt ihr offen?</p>" });
  assert.ok(masto.statusId, "the fake gave the mention's status id");
  const bsky = await fakes.blueskyControl("POST", "/_fake/notifications", { to: "laden.test", reason: "mention", from: "bob.test", text: "@laden.test Gibt es heute Brezeln?" });

  await clickWhenFree(driver, await find(driver, "inbox-sync"));
  const mastoRow = await rowWith(driver, "Habt ihr offen?");
  const bskyRow = await rowWith(driver, "Gibt es heute Brezeln?");
  const mastoEl = await driver.findElement(rowSelector(mastoRow));
  assert.equal(await rowAttribute(driver, mastoRow, "data-kind"), "mention");
  assert.equal(await rowAttribute(driver, mastoRow, "data-read"), "false");
  assert.match(await textOf(driver, mastoEl), /@bob@other\.example/);
  assert.match(await textOf(driver, mastoEl), /Mention/);
  assert.match(await textOf(driver, await driver.findElement(rowSelector(bskyRow))), /@bob\.test/);
  await screenshot(driver, "inbox-list");

  // Answer on Mastodon: the reply goes to the mentioning status.
  let panel = await openConversation(driver, mastoRow);
  await driver.wait(async () => (await rowAttribute(driver, mastoRow, "data-read")) === "true", 10_000, "opening did not mark it read");
  const subject = await panel.findElement(By.css('[data-testid="thread-post"][data-subject="true"]'));
  assert.match(await textOf(driver, subject), /Habt ihr offen\?/);
  const answer = "Ja, von 8 bis 12 Uhr!";
  let outcome = await reply(driver, panel, answer);
  assert.equal(outcome.state, "sent", `Mastodon reply: ${outcome.text}`);
  // Counted as Mastodon will: with "@bob " in front (the domain does not count).
  assert.equal(outcome.counter, `${"@bob ".length + answer.length} / 500`);
  await screenshot(driver, "inbox-conversation");
  const statuses = await fakes.mastodonControl("GET", "/_fake/statuses");
  const sent = statuses.filter((s) => s.text.includes(answer));
  assert.equal(sent.length, 1, "exactly one reply on Mastodon");
  assert.equal(sent[0].inReplyToId, masto.statusId);

  // Answer on Bluesky: the reply record points at the mention.
  panel = await openConversation(driver, bskyRow);
  const answerBsky = "Ja, frisch aus dem Ofen.";
  outcome = await reply(driver, panel, answerBsky);
  assert.equal(outcome.state, "sent", `Bluesky reply: ${outcome.text}`);
  assert.equal(outcome.counter, `${answerBsky.length} / 300`);
  const records = (await fakes.blueskyControl("GET", "/_fake/records")).filter((r) => r.value?.text === answerBsky);
  assert.equal(records.length, 1, "exactly one reply on Bluesky");
  assert.equal(records[0].value.reply.parent.uri, bsky.uri);
  assert.equal(records[0].value.reply.root.uri, bsky.uri);

  // Keys in the real window: close the conversation, then e marks the item done.
  await clickWhenFree(driver, await panel.findElement(By.css('[data-testid="conversation-close"]')));
  await driver.wait(async () => (await driver.findElements(By.css('[data-testid="conversation"]'))).length === 0, 5_000);
  await driver.actions().sendKeys("e").perform();
  await driver.wait(async () => (await driver.findElements(rowSelector(bskyRow))).length === 0, 10_000, "e did not mark the item done");
  await clickWhenFree(driver, await find(driver, "inbox-status-done"));
  await driver.wait(until.elementLocated(rowSelector(bskyRow)), 10_000, "the item is not among the done ones");

  // A rule: the core refuses a pattern that does not compile, and says why next to it.
  await clickWhenFree(driver, await find(driver, "inbox-rules"));
  const dialog = await find(driver, "rules-dialog");
  await clickWhenFree(driver, await find(driver, "rule-new"));
  await (await find(driver, "rule-name")).sendKeys("Preisfragen");
  const pattern = await find(driver, "rule-pattern");
  await pattern.sendKeys("(preis");
  await (await find(driver, "rule-label")).sendKeys("Preis");
  await clickWhenFree(driver, await find(driver, "rule-save"));
  const refusal = await find(driver, "rule-error");
  assert.equal(await refusal.getAttribute("data-field"), "textMatches");
  assert.match(await textOf(driver, refusal), /"\(preis" is not a pattern/);
  assert.equal(await pattern.getAttribute("aria-invalid"), "true");
  await screenshot(driver, "inbox-rule-error");
  await pattern.sendKeys("|kosten)");
  await clickWhenFree(driver, await find(driver, "rule-save"));
  const ruleRow = await driver.wait(until.elementLocated(By.css('[data-testid="rule-row"]')), 10_000, "the rule was not saved");
  assert.match(await textOf(driver, ruleRow), /Preisfragen/);
  assert.match(await textOf(driver, ruleRow), /label “Preis”/);
  await screenshot(driver, "inbox-rules");
  assert.ok(dialog);
});

/** The unread count the sidebar's Inbox badge shows (0 when it is hidden). */
async function badgeCount(driver) {
  // Read in one go: the badge is re-rendered whenever the count is read again.
  return driver.executeScript("const b = document.querySelector('[data-testid=\"nav-inbox-badge\"]'); return b ? Number(b.dataset.count) : 0;");
}

/** Requests the fake Mastodon answered for `method path` (any status id in the path). */
async function mastodonCalls(method, pattern) {
  const requests = await fakes.mastodonControl("GET", "/_fake/requests");
  return requests.filter((r) => r.method === method && pattern.test(r.path) && r.status === 200);
}

test("a Mastodon direct message arrives by itself, counts in the badge, is read there too, liked, unliked and answered privately; a sync from the CLI reaches the window", async () => {
  const data = newDataDir();
  cli(data, "workspace", "add", "Café", "--tz", "Europe/Berlin");
  await fakes.blueskyControl("POST", "/_fake/accounts", { handle: "cafe.test", email: "cafe@example.com", password: "cafe-pass-1234", displayName: "Café" });
  const app = await launch(data, { LANG: "en_US.UTF-8", ...fakes.env, POSTWERK_OAUTH_PORTS: "47895,47896" });
  running.add(app);
  const { driver } = app;
  await connectMastodon(driver);
  await connectBluesky(driver, "cafe.test", "cafe-pass-1234");
  await clickWhenFree(driver, await find(driver, "nav-inbox"));
  await find(driver, "screen-inbox");
  // Whatever the fake already held (earlier tests) is read first.
  await clickWhenFree(driver, await find(driver, "inbox-sync"));
  await driver.sleep(1500);
  const before = await badgeCount(driver);

  // A direct message: the Mastodon stream brings it without Sync, as a message.
  const dm = await fakes.mastodonControl("POST", "/_fake/notifications", {
    kind: "mention",
    from: "fan@other.example",
    html: "<p>@ada Habt ihr am Samstag noch eine Torte?</p>",
    visibility: "direct",
  });
  const dmRow = await rowWith(driver, "noch eine Torte?");
  assert.equal(await rowAttribute(driver, dmRow, "data-kind"), "dm");
  await driver.wait(async () => (await badgeCount(driver)) === before + 1, 10_000, "the badge did not count the message");
  await screenshot(driver, "inbox-dm-badge");

  // Opening reads it: the badge follows.
  const panel = await openConversation(driver, dmRow);
  await driver.wait(async () => (await badgeCount(driver)) === before, 10_000, "the badge did not follow the read message");
  // ... and Mastodon is told, so its own app shows the conversation read too.
  await driver.wait(
    async () => (await mastodonCalls("POST", new RegExp(`/conversations/${dm.statusId}/read$`))).length === 1,
    10_000,
    "Mastodon was not told the conversation was read",
  );

  // Like, then take the like back: favourite, then unfavourite, on the message's status.
  const subject = await panel.findElement(By.css('[data-testid="thread-post"][data-subject="true"]'));
  const like = await subject.findElement(By.css('[data-testid="post-like"]'));
  await clickWhenFree(driver, like);
  await driver.wait(async () => (await like.getAttribute("aria-pressed")) === "true", 10_000, "the like did not stick");
  await driver.wait(async () => (await mastodonCalls("POST", new RegExp(`/statuses/${dm.statusId}/favourite$`))).length === 1, 10_000, "no favourite reached Mastodon");
  await clickWhenFree(driver, like);
  await driver.wait(async () => (await like.getAttribute("aria-pressed")) === "false", 10_000, "the like was not taken back");
  await driver.wait(async () => (await mastodonCalls("POST", new RegExp(`/statuses/${dm.statusId}/unfavourite$`))).length === 1, 10_000, "no unfavourite reached Mastodon");

  // The answer stays private and in the conversation.
  const answer = "Ja, eine Schwarzwälder ist noch da.";
  const outcome = await reply(driver, panel, answer);
  assert.equal(outcome.state, "sent", `reply: ${outcome.text}`);
  const sent = (await fakes.mastodonControl("GET", "/_fake/statuses")).filter((s) => s.text.includes(answer));
  assert.equal(sent.length, 1, "exactly one answer");
  assert.equal(sent[0].visibility, "direct");
  assert.equal(sent[0].inReplyToId, dm.statusId);
  assert.equal(sent[0].text, `@fan@other.example ${answer}`);

  // Another process syncs (the CLI): the window shows what it stored without Sync now.
  await fakes.blueskyControl("POST", "/_fake/notifications", { to: "cafe.test", reason: "mention", from: "gast.test", text: "@cafe.test Ist der Kuchen glutenfrei?" });
  const synced = cli(data, "inbox", "sync");
  assert.match(synced, /cafe\.test: 1 new/);
  await rowWith(driver, "Kuchen glutenfrei?", 10_000);
  await driver.wait(async () => (await badgeCount(driver)) === before + 1, 10_000, "the badge did not count what the CLI stored");
  await screenshot(driver, "inbox-cli-change");
});

test("script and event-handler vectors in mentions stay text and never run in the webview", async () => {
  const data = newDataDir();
  cli(data, "workspace", "add", "Sicher", "--tz", "Europe/Berlin");
  const browser = fakeBrowser(data);
  const app = await launch(data, { LANG: "en_US.UTF-8", ...fakes.env, ...browser.env, POSTWERK_OAUTH_PORTS: "47893,47894" });
  running.add(app);
  const { driver } = app;
  await connectMastodon(driver);
  await clickWhenFree(driver, await find(driver, "nav-inbox"));
  await find(driver, "screen-inbox");
  const home = await driver.executeScript("return location.href;");
  // The sign-in page went to the browser too; from here on only the links clicked may.
  const before = browser.opened().length;

  const vectors = [
    "<script>window.__pwned=1</script>",
    '<img src=x onerror="window.__pwned=1">',
    '<a href="javascript:window.__pwned=1">klick</a>',
    '<svg onload="window.__pwned=1"><circle r="4"></circle></svg>',
    '<iframe srcdoc="<script>parent.__pwned=1</script>"></iframe>',
  ];
  const mentions = [];
  for (const [index, vector] of vectors.entries()) {
    const marker = `Vektor ${index + 1}`;
    await fakes.mastodonControl("POST", "/_fake/notifications", {
      kind: "mention",
      from: "mallory@evil.example",
      html: `<p>@ada ${marker} <a href="https://example.com/menu-${index + 1}">Menü</a></p>${vector}<p onclick="window.__pwned=1" style="background:url(javascript:window.__pwned=1)">Ende ${index + 1}</p>`,
    });
    mentions.push(marker);
  }

  await clickWhenFree(driver, await find(driver, "inbox-sync"));
  const opened = [];
  for (const [index, marker] of mentions.entries()) {
    const id = await rowWith(driver, marker);
    const panel = await openConversation(driver, id);
    const content = await panel.findElement(By.css('[data-testid="thread-post"][data-subject="true"] [data-testid="thread-content"]'));
    assert.match(await textOf(driver, content), new RegExp(`${marker} Menü`));
    // Nothing active reached the DOM.
    const active = await driver.executeScript(
      "const el = arguments[0]; return [...el.querySelectorAll('*')].filter((n) => /^(script|img|svg|iframe|object|embed|style)$/i.test(n.localName) || [...n.attributes].some((a) => /^on/i.test(a.name) || a.name === 'style' || a.name === 'srcdoc' || /javascript:/i.test(a.value))).map((n) => n.outerHTML);",
      content,
    );
    assert.deepEqual(active, [], `active content in mention ${index + 1}`);
    // Click every link in the conversation: only http(s) ones go to the system browser.
    const links = await panel.findElements(By.css('[data-testid="thread-content"] a'));
    assert.ok(links.length >= 1);
    for (const link of links) await clickWhenFree(driver, link);
    opened.push(`https://example.com/menu-${index + 1}`);
    await screenshot(driver, `inbox-security-${index + 1}`);
  }

  // Give anything that might have been scheduled (an image error, a frame) time to run.
  await driver.sleep(1500);
  assert.equal(await driver.executeScript("return window.__pwned ?? null;"), null);
  assert.equal(await driver.executeScript("return location.href;"), home, "the webview navigated away");
  assert.equal((await driver.findElements(By.css("iframe, script:not([src]), img[src='x']"))).length, 0);
  const clicked = () => browser.opened().slice(before);
  await driver.wait(async () => clicked().length >= opened.length, 10_000, `links did not reach the browser: ${clicked().join(", ")}`);
  await driver.sleep(500);
  assert.deepEqual(clicked(), opened, "exactly the https links went to the browser");
});
