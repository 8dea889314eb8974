// Drives the dashboard page in headless Chromium for tests/Mesh.Cluster.Tests/DashboardBrowserTests.cs.
// Usage: node dashboard-check.mjs <url> <expected members up> <node that will go down> <screenshot path>
// Protocol on stdout (one line each): "UP <n>" once the page shows n members up; then it waits for a line "KILLED" on
// stdin, waits for the node's row to turn Down, saves the screenshot and prints "DOWN <node>". Errors: "FAIL <why>", exit 1.
import { chromium } from "playwright-core";
import { createInterface } from "node:readline";

const [url, expectedText, victim, screenshot] = process.argv.slice(2);
const expected = Number(expectedText);
const executablePath = process.env.MESH_CHROMIUM ?? "/usr/bin/chromium";
const timeout = Number(process.env.MESH_BROWSER_TIMEOUT_MS ?? 60000);
const lines = createInterface({ input: process.stdin });
const nextLine = () => new Promise((resolve, reject) => {
  lines.once("line", resolve);
  lines.once("close", () => reject(new Error("stdin closed")));
});

let browser;
try {
  browser = await chromium.launch({ executablePath, headless: true, args: ["--no-sandbox", "--disable-gpu"] });
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  await page.goto(url, { timeout });
  await page.waitForFunction(n => document.getElementById("member-count")?.textContent === String(n), expected, { timeout });
  await page.waitForSelector(`#maps canvas`, { timeout });
  console.log(`UP ${expected}`);
  const line = await nextLine();
  if (line.trim() !== "KILLED") throw new Error(`expected KILLED, got '${line}'`);
  await page.waitForSelector(`tr[data-node="${victim}"][data-status="Down"]`, { timeout });
  await page.waitForFunction(n => document.getElementById("member-count")?.textContent === String(n), expected - 1, { timeout });
  await page.screenshot({ path: screenshot, fullPage: true });
  console.log(`DOWN ${victim}`);
} catch (error) {
  console.log(`FAIL ${String(error?.message ?? error).split("\n")[0]}`);
  process.exitCode = 1;
} finally {
  lines.close();
  await browser?.close();
}
