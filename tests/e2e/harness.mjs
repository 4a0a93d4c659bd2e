// Drives the real Postwerk window: tauri-driver (which starts WebKitWebDriver) launches the
// app binary with the environment given here. Runs under scripts/with-session (Xvfb, private
// D-Bus with gnome-keyring, temporary HOME).
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { Builder, By, Capabilities, until } from "selenium-webdriver";

export const ROOT = resolve(import.meta.dirname, "../..");
export const APP = process.env.POSTWERK_APP_BINARY ?? join(ROOT, "target/debug/postwerk-app");
export const CLI = process.env.POSTWERK_CLI_BINARY ?? join(ROOT, "target/debug/postwerk");
const TAURI_DRIVER = process.env.TAURI_DRIVER ?? join(process.env.CARGO_HOME ?? join(process.env.HOME, ".cargo"), "bin/tauri-driver");
export const ARTIFACTS = join(ROOT, "tests/e2e/artifacts");

let nextPort = 4444 + (process.pid % 200) * 2;

export function newDataDir() {
  return mkdtempSync(join(tmpdir(), "postwerk-e2e-"));
}

/** Runs the postwerk CLI against a data folder and returns stdout. */
export function cli(dataDir, ...args) {
  const out = spawnSync(CLI, ["--data-dir", dataDir, ...args], { encoding: "utf8" });
  if (out.status !== 0) throw new Error(`postwerk ${args.join(" ")} failed: ${out.stderr}`);
  return out.stdout;
}

async function waitForDriver(port, child) {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`tauri-driver exited with ${child.exitCode}`);
    try {
      const res = await fetch(`http://127.0.0.1:${port}/status`);
      if (res.ok) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("tauri-driver did not start");
}

/**
 * Starts the app on `dataDir` and returns { driver, quit }. `env` adds environment variables
 * for the app (tauri-driver passes its environment on); `args` are its command-line arguments.
 */
export async function launch(dataDir, env = {}, args = []) {
  const port = nextPort++;
  const nativePort = nextPort++;
  const driverProcess = spawn(TAURI_DRIVER, ["--port", String(port), "--native-port", String(nativePort)], {
    env: { ...process.env, POSTWERK_DATA_DIR: dataDir, ...env },
    stdio: ["ignore", "ignore", "inherit"],
  });
  await waitForDriver(port, driverProcess);
  const caps = new Capabilities();
  caps.setBrowserName("wry");
  caps.set("tauri:options", { application: APP, args });
  const driver = await new Builder().withCapabilities(caps).usingServer(`http://127.0.0.1:${port}/`).build();
  await driver.wait(until.elementLocated(By.css("body[data-ready='1']")), 20_000, "the UI never became ready");
  let closed = false;
  const quit = async () => {
    if (closed) return;
    closed = true;
    try {
      await driver.quit();
      // Let the driver finish closing the window before the driver itself is stopped.
      await waitUntilGone(dataDir, 8_000);
    } finally {
      driverProcess.kill();
      await new Promise((r) => (driverProcess.exitCode !== null ? r() : driverProcess.once("exit", r)));
    }
    await waitForAppExit(dataDir);
  };
  /** Kills the app with SIGKILL (no clean shutdown), then ends the session. */
  const kill = async () => {
    for (const pid of appPids(dataDir)) process.kill(pid, "SIGKILL");
    await quit().catch(() => {});
  };
  return { driver, quit, kill };
}

/** Pids of app processes started on `dataDir` (Linux: read from /proc). */
export function appPids(dataDir) {
  const pids = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const exe = readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0")[0];
      if (!exe.endsWith("postwerk-app")) continue;
      const env = readFileSync(`/proc/${entry}/environ`, "utf8").split("\0");
      if (env.includes(`POSTWERK_DATA_DIR=${dataDir}`)) pids.push(Number(entry));
    } catch {
      // the process went away while we looked
    }
  }
  return pids;
}

async function waitUntilGone(dataDir, ms) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (appPids(dataDir).length === 0) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

/**
 * Waits for the app to exit after the WebDriver session ended. WebKitWebDriver now and then
 * ends a session without the app's window being closed (seen under load on two cores); then
 * the app gets SIGTERM, as a session manager would send, so the next launch on the same data
 * folder is not handed to a leftover instance.
 */
async function waitForAppExit(dataDir) {
  if (await waitUntilGone(dataDir, 4_000)) return;
  console.error(`note: the app on ${dataDir} was still running 12 s after the session ended; sending SIGTERM`);
  for (const pid of appPids(dataDir)) process.kill(pid, "SIGTERM");
  if (await waitUntilGone(dataDir, 10_000)) return;
  for (const pid of appPids(dataDir)) process.kill(pid, "SIGKILL");
  throw new Error(`the app on ${dataDir} did not exit, even after SIGTERM`);
}

export const byTestId = (id) => By.css(`[data-testid="${id}"]`);

export async function find(driver, id, timeout = 10_000) {
  return driver.wait(until.elementLocated(byTestId(id)), timeout, `no element ${id}`);
}

/** Waits until the element's visible text equals `text`. */
export async function waitForText(driver, id, text, timeout = 10_000) {
  const el = await find(driver, id, timeout);
  await driver.wait(async () => (await el.getText()).trim() === text, timeout, `${id} never showed "${text}"`);
  return el;
}

export async function screenshot(driver, name) {
  mkdirSync(ARTIFACTS, { recursive: true });
  // Let transitions finish and the compositor paint, or the capture shows the previous frame.
  await driver.executeAsyncScript(
    "const done = arguments[arguments.length - 1]; requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(done, 600)));",
  );
  const png = await driver.takeScreenshot();
  const path = join(ARTIFACTS, `${name}.png`);
  writeFileSync(path, Buffer.from(png, "base64"));
  return path;
}

export const FAKES = process.env.POSTWERK_FAKES_BINARY ?? join(ROOT, "target/debug/postwerk-fakes");

/**
 * Starts the fake Mastodon and Bluesky servers (127.0.0.1) and returns their URLs, an
 * environment for the app that points Postwerk at them, and helpers for their control API.
 */
export async function startFakes() {
  const child = spawn(FAKES, [], { stdio: ["pipe", "pipe", "inherit"] });
  const line = await new Promise((resolve, reject) => {
    let buf = "";
    child.stdout.on("data", (chunk) => {
      buf += chunk;
      const nl = buf.indexOf("\n");
      if (nl >= 0) resolve(buf.slice(0, nl));
    });
    child.once("exit", (code) => reject(new Error(`postwerk-fakes exited with ${code}`)));
  });
  const urls = JSON.parse(line);
  const control = async (base, method, path, body) => {
    const res = await fetch(new URL(path, base), {
      method,
      headers: body ? { "content-type": "application/json" } : {},
      body: body ? JSON.stringify(body) : undefined,
    });
    if (!res.ok) throw new Error(`${method} ${path} -> ${res.status} ${await res.text()}`);
    return res.json();
  };
  return {
    mastodon: urls.mastodon,
    bluesky: urls.bluesky,
    env: { POSTWERK_BLUESKY_ENTRYWAY: urls.bluesky, POSTWERK_PLC_DIRECTORY: urls.bluesky },
    mastodonControl: (method, path, body) => control(urls.mastodon, method, path, body),
    blueskyControl: (method, path, body) => control(urls.bluesky, method, path, body),
    async secrets() {
      return [...(await control(urls.mastodon, "GET", "/_fake/secrets")), ...(await control(urls.bluesky, "GET", "/_fake/secrets"))];
    },
    stop() {
      child.stdin.end();
      child.kill();
    },
  };
}

function htmlUnescape(s) {
  return s
    .replaceAll("&quot;", '"')
    .replaceAll("&#39;", "'")
    .replaceAll("&lt;", "<")
    .replaceAll("&gt;", ">")
    .replaceAll("&amp;", "&");
}

/**
 * Plays the user's browser for a Mastodon sign-in: opens the authorize page, submits the
 * consent form with `decision`, follows the redirect to Postwerk's loopback listener and
 * returns that page's text.
 */
export async function playBrowser(authorizeUrl, decision = "approve") {
  const page = await fetch(authorizeUrl);
  if (page.status !== 200) throw new Error(`authorize page: ${page.status} ${await page.text()}`);
  const html = await page.text();
  const form = new URLSearchParams();
  for (const m of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) {
    form.append(m[1], htmlUnescape(m[2]));
  }
  form.append("decision", decision);
  const answer = await fetch(new URL("/oauth/authorize", authorizeUrl), { method: "POST", body: form, redirect: "manual" });
  if (answer.status !== 302) throw new Error(`consent: ${answer.status} ${await answer.text()}`);
  const back = await fetch(answer.headers.get("location"));
  return back.text();
}

/** Every file below `dir`, recursively. */
export function filesBelow(dir) {
  const out = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...filesBelow(p));
    else out.push(p);
  }
  return out;
}
