// Postwerk in the background: what closing the window does with and without a tray, the tray
// menu, start at login and the first-close notification, as a user sees them under Xvfb.
// Xvfb alone has no tray host, so the first test sees "closing quits"; the others start an
// XEmbed tray (trayer) and a notification daemon (dunst) the way a desktop panel would run them.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import { APP, ARTIFACTS, appPids, cli, launch, newDataDir } from "./harness.mjs";

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const started = [];
const running = new Set();
after(async () => {
  for (const app of running) await app.quit().catch(() => {});
  for (const child of started) child.kill();
});

async function until(check, ms, what) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(150);
  }
}

function run(cmd, ...args) {
  const out = spawnSync(cmd, args, { encoding: "utf8" });
  if (out.error) throw out.error;
  return out;
}

/** The X ids of Postwerk's visible (mapped) windows. */
function visibleWindows() {
  return run("xdotool", "search", "--onlyvisible", "--name", "^Postwerk$").stdout.split("\n").filter(Boolean);
}

/** Clicks the window manager's close button, as far as the app can tell (WM_DELETE_WINDOW). */
function closeWindow(id) {
  const out = run("python3", join(import.meta.dirname, "close-window.py"), id);
  assert.equal(out.status, 0, out.stderr);
}

function appLog(dataDir) {
  const dir = join(dataDir, "logs");
  if (!existsSync(dir)) return "";
  return readdirSync(dir)
    .map((f) => readFileSync(join(dir, f), "utf8"))
    .join("");
}

/** Waits until the app's log has `text` at least `times` times (the log spans every run on the folder). */
const waitForLog = (dataDir, text, times = 1, ms = 10_000) =>
  until(() => appLog(dataDir).split(text).length - 1 >= times, ms, `the log line "${text}" (${times}×)`);

function screenshotRoot(name) {
  run("import", "-window", "root", join(ARTIFACTS, `${name}.png`));
}

async function start(dataDir, env = {}, args = []) {
  const app = await launch(dataDir, { LANG: "en_US.UTF-8", ...env }, args);
  running.add(app);
  return app;
}

/** Starts a desktop's background helpers: an XEmbed tray (trayer) and dunst for notifications. */
async function startDesktop() {
  for (const tool of ["trayer", "dunst", "python3"]) {
    assert.equal(run("sh", "-c", `command -v ${tool}`).status, 0, `${tool} is missing (scripts/lib.sh TEST_PACKAGES installs it)`);
  }
  if (started.length) return;
  const tray = spawn("trayer", ["--edge", "top", "--align", "right", "--widthtype", "request", "--height", "24", "--SetDockType", "true"], {
    stdio: "ignore",
  });
  const notifications = spawn("dunst", [], { stdio: "ignore" });
  started.push(tray, notifications);
  await until(() => run("xdotool", "search", "--onlyvisible", "--class", "trayer").status === 0, 10_000, "the tray to appear");
  await until(() => run("dunstctl", "is-paused").status === 0, 10_000, "the notification daemon");
}

/** Opens the tray icon's menu with a click, then picks an item with the keyboard. */
async function trayMenu(keys, shot) {
  const id = run("xdotool", "search", "--onlyvisible", "--class", "trayer").stdout.split("\n")[0];
  const geometry = run("xdotool", "getwindowgeometry", "--shell", id).stdout;
  const g = Object.fromEntries(geometry.split("\n").filter(Boolean).map((l) => l.split("=")));
  const x = Number(g.X) + Number(g.WIDTH) - 12;
  const y = Number(g.Y) + Math.floor(Number(g.HEIGHT) / 2);
  run("xdotool", "mousemove", String(x), String(y), "click", "1");
  await sleep(700);
  if (shot) screenshotRoot(shot);
  if (keys.length) run("xdotool", "key", "--delay", "150", ...keys);
}

const seenNotifications = new Set();
/** The notifications shown since the last call (closed first, so dunst lists them in its history). */
function notifications() {
  run("dunstctl", "close-all");
  const history = JSON.parse(run("dunstctl", "history").stdout).data[0];
  const fresh = history.filter((n) => !seenNotifications.has(n.id.data));
  for (const n of fresh) seenNotifications.add(n.id.data);
  return fresh.map((n) => ({ title: n.summary.data, body: n.body.data }));
}

async function scheduling(driver) {
  return driver.executeAsyncScript(
    "const done = arguments[arguments.length - 1]; window.__TAURI_INTERNALS__.invoke('get_scheduling').then(done, (e) => done({ error: String(e) }));",
  );
}

async function setScheduling(driver, scheduling) {
  return driver.executeAsyncScript(
    "const done = arguments[arguments.length - 1]; window.__TAURI_INTERNALS__.invoke('set_scheduling', { scheduling: arguments[0] }).then(done, (e) => done({ error: String(e) }));",
    scheduling,
  );
}

test("without a tray host (plain Xvfb), closing the window quits Postwerk cleanly", async () => {
  assert.equal(run("xdotool", "search", "--class", "trayer").status, 1, "this test must run before any tray is started");
  const data = newDataDir();
  cli(data, "workspace", "add", "Acme", "--tz", "Europe/Berlin");
  const app = await start(data);
  await waitForLog(data, "closing the window quits Postwerk");
  const [window] = await until(() => visibleWindows().length && visibleWindows(), 10_000, "the window");
  closeWindow(window);
  await until(() => appPids(data).length === 0, 10_000, "Postwerk to quit");
  assert.match(appLog(data), /Postwerk stopped/, "the database was closed on the way out");
  await app.quit().catch(() => {});
  running.delete(app);
});

test("with a tray, closing the window keeps Postwerk running; the tray menu opens it, pauses publishing and quits", async () => {
  await startDesktop();
  notifications();
  const data = newDataDir();
  cli(data, "workspace", "add", "Acme", "--tz", "Europe/Berlin");
  const app = await start(data);
  const { driver } = app;
  await waitForLog(data, "tray icon shown");
  const [window] = await until(() => visibleWindows().length && visibleWindows(), 10_000, "the window");

  // Close: the window goes, the app stays, and says so once.
  closeWindow(window);
  await until(() => visibleWindows().length === 0, 10_000, "the window to close");
  await sleep(1500);
  assert.ok(appPids(data).length > 0, "Postwerk quit although a tray is shown");
  await until(() => run("dunstctl", "count", "displayed").stdout.trim() !== "0", 5_000, "the notification");
  screenshotRoot("tray-window-closed");
  assert.deepEqual(notifications(), [
    { title: "Postwerk is still running", body: "Postwerk keeps running in the tray to publish your scheduled posts." },
  ]);
  // The scheduler's side is still alive: the webview still answers through the core.
  assert.equal((await scheduling(driver)).paused, false);

  // "Open Postwerk" brings the window back.
  await trayMenu(["Down", "Return"], "tray-menu");
  await until(() => visibleWindows().length === 1, 10_000, "the window to come back");

  // "Pause publishing" is the scheduling setting.
  await trayMenu(["Down", "Down", "Return"]);
  await until(async () => (await scheduling(driver)).paused === true, 10_000, "publishing to be paused");
  await setScheduling(driver, { graceMinutes: 15, paused: false, startAtLogin: false });
  await trayMenu([], "tray-menu-resumed");
  run("xdotool", "key", "Escape");

  // Closing again does not repeat the notification.
  closeWindow(visibleWindows()[0]);
  await until(() => visibleWindows().length === 0, 10_000, "the window to close again");
  await sleep(1500);
  assert.deepEqual(notifications(), []);

  // Starting Postwerk again (from the app menu) shows the running one.
  const second = spawn(APP, [], { env: { ...process.env, POSTWERK_DATA_DIR: data }, stdio: "ignore" });
  const code = await new Promise((resolve) => second.once("exit", resolve));
  assert.equal(code, 0);
  await until(() => visibleWindows().length === 1, 10_000, "the window to be shown by the second launch");

  // "Quit Postwerk" really quits, through the clean exit.
  await trayMenu(["Up", "Return"]);
  await until(() => appPids(data).length === 0, 10_000, "Postwerk to quit from the tray");
  const log = appLog(data);
  assert.match(log, /quit from the tray menu/);
  assert.match(log, /Postwerk stopped/);
  await app.quit().catch(() => {});
  running.delete(app);
});

test("start at login follows the setting, and a start with --hidden stays in the tray", async () => {
  await startDesktop();
  notifications();
  const data = newDataDir();
  cli(data, "workspace", "add", "Acme", "--tz", "Europe/Berlin");
  const entry = join(process.env.HOME, ".config/autostart/Postwerk.desktop");
  let app = await start(data);
  assert.equal(existsSync(entry), false);
  await setScheduling(app.driver, { graceMinutes: 15, paused: false, startAtLogin: true });
  await until(() => existsSync(entry), 10_000, "the autostart entry");
  assert.match(readFileSync(entry, "utf8"), /^Exec=.*postwerk-app --hidden$/m);
  await setScheduling(app.driver, { graceMinutes: 15, paused: false, startAtLogin: false });
  await until(() => !existsSync(entry), 10_000, "the autostart entry to go");
  await setScheduling(app.driver, { graceMinutes: 15, paused: false, startAtLogin: true });
  await until(() => existsSync(entry), 10_000, "the autostart entry");
  await app.quit();
  running.delete(app);

  // As the session would start it at login: in the tray, no window.
  app = await start(data, {}, ["--hidden"]);
  await waitForLog(data, "tray icon shown", 2);
  await sleep(1500);
  assert.deepEqual(visibleWindows(), []);
  assert.ok(appPids(data).length > 0);
  await trayMenu(["Down", "Return"]);
  await until(() => visibleWindows().length === 1, 10_000, "the window to open from the tray");
  await app.quit();
  running.delete(app);
});
