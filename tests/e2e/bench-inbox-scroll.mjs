// Scroll bench for the inbox in the real window (not part of the test run): stores 100,000
// items with the inbox bench, opens them in the app under WebDriver, flings the list from the
// top to the end of what it loads (fetching pages as it goes) and prints frame times.
//
//   (cd ui && npm run build) && cargo build -p postwerk-app --features custom-protocol
//   scripts/with-session node tests/e2e/bench-inbox-scroll.mjs
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { By, until } from "selenium-webdriver";
import { find, launch, newDataDir } from "./harness.mjs";

const ITEMS = Number(process.env.POSTWERK_BENCH_ITEMS ?? 100_000);
const SECONDS = Number(process.env.POSTWERK_SCROLL_SECONDS ?? 30);
/** Pixels per frame: about 90 rows, a hard fling. */
const STEP = 6000;

const data = join(newDataDir(), "data");
const seeded = spawnSync("cargo", ["bench", "-q", "-p", "postwerk-core", "--bench", "inbox"], {
  env: { ...process.env, POSTWERK_BENCH_ITEMS: String(ITEMS), POSTWERK_BENCH_DATA_DIR: data },
  stdio: ["ignore", "inherit", "inherit"],
});
if (seeded.status !== 0) throw new Error("seeding the inbox failed");

const app = await launch(data, { LANG: "en_US.UTF-8" });
try {
  const { driver } = app;
  await driver.manage().setTimeouts({ script: (SECONDS + 30) * 1000 });
  await (await find(driver, "nav-inbox")).click();
  await driver.wait(until.elementLocated(By.css('[data-testid="inbox-row"]')), 30_000, "no rows");
  // A run of frames: each frame scrolls by `step` px (0: idle), until `seconds` passed or the
  // end of all items is shown.
  const run = (step, seconds) =>
    driver.executeAsyncScript(
      `const [items, seconds, step, done] = arguments;
       const viewport = document.querySelector('[data-testid="inbox-viewport"]');
       const list = document.querySelector('[data-testid="inbox-list"]');
       const frames = [];
       const work = [];
       let maxRows = 0;
       let last = performance.now();
       const start = last;
       function frame(now) {
         frames.push(now - last);
         last = now;
         maxRows = Math.max(maxRows, list.querySelectorAll('[data-testid="inbox-row"]').length);
         const loaded = Number(list.dataset.count);
         const atEnd = viewport.scrollTop + viewport.clientHeight >= viewport.scrollHeight - 2;
         if ((step > 0 && loaded >= items && atEnd) || now - start > seconds * 1000) {
           done({ frames: frames.slice(1), work, maxRows, loaded, ms: now - start });
           return;
         }
         const t0 = performance.now();
         viewport.scrollTop += step;
         if (step > 0) {
           // The list's own work for the new position (Svelte updates in a microtask), then
           // style and layout; painting is what remains of a frame.
           viewport.dispatchEvent(new Event("scroll"));
           queueMicrotask(() => queueMicrotask(() => {
             list.getBoundingClientRect();
             work.push(performance.now() - t0);
           }));
         }
         requestAnimationFrame(frame);
       }
       requestAnimationFrame(frame);`,
      ITEMS,
      seconds,
      step,
    );
  const report = (name, result) => {
    const frames = [...result.frames].sort((a, b) => a - b);
    const pct = (p, list = frames) => list[Math.min(list.length - 1, Math.ceil((p / 100) * list.length) - 1)];
    const work = [...result.work].sort((a, b) => a - b);
    console.log(
      `  ${name}: ${frames.length} frames in ${(result.ms / 1000).toFixed(1)} s; frame time p50 ${pct(50).toFixed(1)} ms, p95 ${pct(95).toFixed(1)} ms, ` +
        `max ${frames[frames.length - 1].toFixed(1)} ms; ${result.loaded} items loaded, at most ${result.maxRows} rows in the DOM` +
        (work.length > 0 ? `; the list's script, style and layout per frame p50 ${pct(50, work).toFixed(1)} ms, p95 ${pct(95, work).toFixed(1)} ms` : ""),
    );
  };
  console.log(`inbox scroll bench (real window, WebKitGTK under Xvfb): ${ITEMS} items stored`);
  report("idle (no scrolling, the baseline)", await run(0, 3));
  report("steady scroll (one row per frame)", await run(68, 5));
  report(`fling (${STEP / 68 | 0} rows per frame, to the end)`, await run(STEP, SECONDS));
} finally {
  await app.quit();
}
