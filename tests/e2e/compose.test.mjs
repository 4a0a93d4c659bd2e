import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { By, Key, until } from "selenium-webdriver";
import { ROOT, byTestId, cli, find, launch, newDataDir, playBrowser, screenshot, startFakes } from "./harness.mjs";

let fakes;
const running = new Set();
before(async () => {
  fakes = await startFakes();
});
after(async () => {
  for (const app of running) await app.quit();
  fakes?.stop();
});

/** A JPEG with an EXIF block that carries a marker; the Bluesky blob must not contain it. */
function jpegWithExif(dir) {
  const jpeg = readFileSync(join(ROOT, "tests/fakes/assets/og.jpg"));
  const payload = Buffer.from("Exif\0\0GPS-SECRET-48.1371N-11.5754E", "latin1");
  const len = Buffer.alloc(2);
  len.writeUInt16BE(payload.length + 2);
  const out = Buffer.concat([jpeg.subarray(0, 2), Buffer.from([0xff, 0xe1]), len, payload, jpeg.subarray(2)]);
  const path = join(dir, "brot.jpg");
  writeFileSync(path, out);
  return { path, bytes: out };
}

async function connectBoth(driver, data) {
  await (await find(driver, "nav-accounts")).click();
  await (await find(driver, "account-add")).click();
  await (await driver.wait(until.elementLocated(By.css('[data-testid="network-option"][data-network="bluesky"]')), 10_000)).click();
  await (await find(driver, "bluesky-identifier")).sendKeys("brot.test");
  await (await find(driver, "bluesky-password")).sendKeys("brot-pass-1234");
  await (await find(driver, "bluesky-submit")).click();
  await driver.wait(until.elementLocated(By.css('[data-testid="account-row"][data-network="bluesky"]')), 20_000);
  await (await find(driver, "account-add")).click();
  await (await driver.wait(until.elementLocated(By.css('[data-testid="network-option"][data-network="mastodon"]')), 10_000)).click();
  await (await find(driver, "mastodon-instance")).sendKeys(fakes.mastodon);
  await (await find(driver, "mastodon-submit")).click();
  const field = await find(driver, "mastodon-authorize-url", 20_000);
  await driver.wait(async () => (await field.getAttribute("value")).startsWith("http"), 10_000);
  await playBrowser(await field.getAttribute("value"));
  await driver.wait(until.elementLocated(By.css('[data-testid="account-row"][data-network="mastodon"]')), 20_000);
  return JSON.parse(cli(data, "account", "list", "--json"));
}

test("compose with emoji, a link, a hashtag and an image with alt text, publish to Mastodon and Bluesky at once", async () => {
  const data = newDataDir();
  cli(data, "workspace", "add", "Bäckerei", "--tz", "Europe/Berlin");
  await fakes.blueskyControl("POST", "/_fake/accounts", {
    handle: "brot.test",
    email: "brot@example.com",
    password: "brot-pass-1234",
    displayName: "Brot",
  });
  const app = await launch(data, { LANG: "en_US.UTF-8", ...fakes.env, POSTWERK_OAUTH_PORTS: "47881,47882" });
  running.add(app);
  const { driver } = app;
  const accounts = await connectBoth(driver, data);
  assert.equal(accounts.length, 2);

  await (await find(driver, "nav-compose")).click();
  for (const a of accounts) {
    const chip = await driver.wait(until.elementLocated(By.css(`[data-testid="compose-target"][data-account-id="${a.id}"]`)), 10_000);
    if ((await chip.getAttribute("aria-pressed")) !== "true") await chip.click();
  }
  const link = `${fakes.bluesky}_page/article`;
  const emoji = "🥐👩‍👩‍👧";
  const text = `Frische Brötchen ${emoji} ab 6 Uhr! ${link} #Bäckerei`;
  const area = await find(driver, "compose-text");
  await area.sendKeys("Frische Brötchen ");
  // WebKitWebDriver cannot type characters outside the BMP; insert the emoji the way an input
  // method does (an input event at the caret), then type on.
  await driver.executeScript(
    "const el = arguments[0]; el.focus(); el.setRangeText(arguments[1], el.selectionStart, el.selectionEnd, 'end'); el.dispatchEvent(new InputEvent('input', { bubbles: true, inputType: 'insertText', data: arguments[1] }));",
    area,
    emoji,
  );
  await area.sendKeys(` ab 6 Uhr! ${link} #Bäckerei`);
  await driver.wait(async () => (await area.getAttribute("value")) === text, 5_000, "the text was not typed as expected");
  const image = jpegWithExif(data);
  await (await find(driver, "compose-file")).sendKeys(image.path);
  const alt = await find(driver, "media-alt", 20_000);
  await alt.sendKeys("Ein Korb mit Brötchen");
  for (const a of accounts) {
    const counter = await driver.findElement(By.css(`[data-testid="compose-counter"][data-account-id="${a.id}"]`));
    await driver.wait(async () => (await counter.getAttribute("data-ok")) === "true", 10_000);
  }
  await screenshot(driver, "compose-ready");

  await (await find(driver, "compose-publish")).click();
  await find(driver, "publish-results", 30_000);
  for (const a of accounts) {
    const row = await driver.wait(
      until.elementLocated(By.css(`[data-testid="publish-result"][data-account-id="${a.id}"][data-state="published"]`)),
      30_000,
      `${a.network} not published`,
    );
    const href = await (await row.findElement(byTestId("publish-link"))).getAttribute("href");
    assert.match(href, a.network === "bluesky" ? /^https:\/\/bsky\.app\/profile\/brot\.test\/post\/[a-z2-7]{13}$/ : /\/@ada\/\d+$/);
  }
  await screenshot(driver, "compose-published");

  // What the PDS received: the text, facets at UTF-8 byte offsets, the image blob.
  const records = (await fakes.blueskyControl("GET", "/_fake/records")).filter((r) => r.value.text === text);
  assert.equal(records.length, 1);
  const record = records[0].value;
  const bytes = Buffer.from(text, "utf8");
  const linkStart = bytes.indexOf(Buffer.from(link, "utf8"));
  const linkFacet = record.facets.find((f) => f.features[0].$type === "app.bsky.richtext.facet#link");
  assert.deepEqual(linkFacet.index, { byteStart: linkStart, byteEnd: linkStart + Buffer.byteLength(link) });
  assert.equal(linkFacet.features[0].uri, link);
  const tagFacet = record.facets.find((f) => f.features[0].$type === "app.bsky.richtext.facet#tag");
  assert.deepEqual(tagFacet.index, { byteStart: bytes.indexOf(Buffer.from("#Bäckerei")), byteEnd: bytes.length });
  assert.equal(tagFacet.features[0].tag, "Bäckerei");
  const embedded = record.embed.images[0];
  assert.equal(embedded.alt, "Ein Korb mit Brötchen");
  const blob = (await fakes.blueskyControl("GET", "/_fake/blobs")).find((b) => b.cid === embedded.image.ref.$link);
  assert.ok(blob, "the embedded blob was uploaded");
  const blobBytes = Buffer.from(blob.bytes, "base64");
  assert.equal(blob.mime, "image/jpeg");
  assert.equal(embedded.image.size, blobBytes.length);
  assert.ok(blobBytes.length <= 1_000_000);
  assert.equal(blobBytes.subarray(0, 3).toString("hex"), "ffd8ff");
  assert.ok(!blobBytes.includes(Buffer.from("GPS-SECRET")), "EXIF was stripped");

  // What Mastodon received: the text as typed and the original file with its description.
  const statuses = (await fakes.mastodonControl("GET", "/_fake/statuses")).filter((s) => s.text === text);
  assert.equal(statuses.length, 1);
  assert.ok(statuses[0].idempotencyKey, "the status carried an Idempotency-Key");
  const media = (await fakes.mastodonControl("GET", "/_fake/media")).find((m) => statuses[0].mediaIds.includes(m.id));
  assert.equal(media.description, "Ein Korb mit Brötchen");
  assert.equal(createHash("sha256").update(Buffer.from(media.bytes, "base64")).digest("hex"), createHash("sha256").update(image.bytes).digest("hex"));
});

test("a draft survives a killed app", async () => {
  const data = newDataDir();
  cli(data, "workspace", "add", "Draft", "--tz", "Europe/Berlin");
  await fakes.blueskyControl("POST", "/_fake/accounts", {
    handle: "draft.test",
    email: "draft@example.com",
    password: "draft-pass-1234",
    displayName: "Draft",
  });
  const env = { LANG: "en_US.UTF-8", ...fakes.env };
  // Connect through the CLI (same keychain session), then write in the window.
  let app = await launch(data, env);
  running.add(app);
  await (await find(app.driver, "nav-accounts")).click();
  await (await find(app.driver, "account-add")).click();
  await (await app.driver.wait(until.elementLocated(By.css('[data-testid="network-option"][data-network="bluesky"]')), 10_000)).click();
  await (await find(app.driver, "bluesky-identifier")).sendKeys("draft.test");
  await (await find(app.driver, "bluesky-password")).sendKeys("draft-pass-1234", Key.ENTER);
  await app.driver.wait(until.elementLocated(By.css('[data-testid="account-row"]')), 20_000);
  await (await find(app.driver, "nav-compose")).click();
  await (await find(app.driver, "compose-text")).sendKeys("Halbfertiger Gedanke über Sauerteig");
  const saved = await find(app.driver, "compose-saved", 10_000);
  await app.driver.wait(async () => (await saved.getAttribute("data-state")) === "saved", 10_000, "never saved");
  await app.kill(); // SIGKILL: no clean shutdown
  running.delete(app);

  app = await launch(data, env);
  running.add(app);
  await (await find(app.driver, "nav-compose")).click();
  const area = await find(app.driver, "compose-text");
  await app.driver.wait(async () => (await area.getAttribute("value")) === "Halbfertiger Gedanke über Sauerteig", 10_000, "the draft was not restored");
  await app.quit();
  running.delete(app);
});
