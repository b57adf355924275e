/**
 * The console end to end, in a real browser (Debian's Chromium through playwright-core)
 * against `cascade dev` run as a process on the example app: start an execution from
 * the workflow page, see it in the runs list, open it, see the graph colour its states
 * and the timeline fill, send an event, cancel one, redrive a failed one from a chosen
 * state with an edited input, and read the metrics. Screenshots of each page go to
 * `.artifacts/console/` (not committed).
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { Browser, Page } from "playwright-core";
import { type DevProcess, startDev } from "../cli/dev-process.ts";
import { repoPath } from "../helpers.ts";
import { launchBrowser, shot } from "./browser.ts";

const WAIT_MS = 20_000;
const GOOD_ORDER = {
  customer_id: "cust-7",
  cart_items: [{ id: "book-1", quantity: 1, price: 10 }],
};

let dev: DevProcess | undefined;
let consoleUrl = "";
let browser: Browser | undefined;
let page: Page;
const pageErrors: string[] = [];

before(async () => {
  dev = await startDev(repoPath("examples", "order-processing"), ["--ephemeral"]);
  const ready = JSON.parse(dev.lines.find((l) => l.includes('"kind":"ready"')) ?? "{}") as {
    consoleUrl?: string;
  };
  assert.ok(ready.consoleUrl, "cascade dev says where the console is");
  consoleUrl = ready.consoleUrl;
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  page.on("pageerror", (error) => pageErrors.push(String(error)));
});

after(async () => {
  await browser?.close();
  await dev?.stop();
});

const open = (hash: string) => page.goto(`${consoleUrl}${hash}`);
const executionStatus = (status: string) =>
  page.waitForSelector(`[data-testid=execution][data-status=${status}]`, { timeout: WAIT_MS });
const nodeStatus = (node: string, status: string) =>
  page.waitForSelector(`[data-testid=node][data-node="${node}"][data-status=${status}]`, {
    timeout: WAIT_MS,
  });

/** Polls `check` (no page-side script: the console's CSP forbids eval) until it holds. */
async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Starts `workflow` from its page with `input` as typed JSON; resolves on its execution page. */
async function startFromWorkflowPage(workflow: string, id: string, input: unknown) {
  await open(`#/workflows/${workflow}`);
  await page.waitForSelector(`[data-testid=workflow][data-name=${workflow}]`);
  await page.fill("[data-testid=start-id]", id);
  await page.fill("[data-testid=start-input]", JSON.stringify(input, null, 2));
  await page.click("[data-testid=start-button]");
  await page.waitForURL(`**#/executions/${id}`, { timeout: WAIT_MS });
}

test("the console's page is served on its own port, with the API beside it on that origin", async () => {
  const html = await (await fetch(consoleUrl)).text();
  assert.match(html, /<script type="module" src="\/console\/app.js">/);
  const js = await fetch(new URL("/console/app.js", consoleUrl));
  assert.equal(js.status, 200);
  assert.match(js.headers.get("content-security-policy") ?? "", /default-src 'none'/);
  // Nothing from the network: no http(s) URL is loaded by the page or its bundle.
  assert.doesNotMatch(html, /https?:\/\//);
  const apps = await fetch(new URL("/v1/apps", consoleUrl));
  assert.equal(apps.status, 200);
});

test("start an execution from the workflow page, checked against its input schema", async () => {
  await open("#/workflows/OrderFulfillment");
  await page.waitForSelector("[data-testid=source]");
  assert.match((await page.textContent("[data-testid=source]")) ?? "", /name: OrderFulfillment/);
  await page.waitForSelector("[data-testid=graph] [data-testid=node][data-node=ValidateOrder]");
  // An input the schema refuses: the problem is shown and Start is off.
  await page.fill("[data-testid=start-input]", '{"cart_items": []}');
  const problems = await page.textContent("[data-testid=start-input-problems]");
  assert.match(problems ?? "", /customer_id/);
  assert.equal(await page.isDisabled("[data-testid=start-button]"), true);
  await shot(page, "workflow");

  await startFromWorkflowPage("OrderFulfillment", "console-good", GOOD_ORDER);
  await executionStatus("succeeded");
  for (const node of [
    "ValidateOrder",
    "CheckValidation",
    "ParallelVerification",
    "ParallelVerification/CheckCredit/CheckCredit",
    "CombineResults",
  ])
    await nodeStatus(node, "succeeded");
  await nodeStatus("RejectOrder", "idle");
  // One lane for the root and one per Parallel branch, each with its bars.
  const lanes = await page.$$("[data-testid=timeline] [data-testid=lane]");
  assert.ok(lanes.length >= 4, `${lanes.length} lanes`);
  assert.ok((await page.$$("[data-testid=timeline] [data-testid=bar]")).length >= 6);
  // The inspector shows a step's input and output.
  await page.click("[data-testid=node][data-node=ValidateOrder]");
  const inspector = await page.textContent("[data-testid=inspector-body]");
  assert.match(inspector ?? "", /validate_order/);
  assert.match(inspector ?? "", /cust-7/);
  // Its attempt, with the keys the activity received.
  assert.match((await page.textContent("[data-testid=step-key]")) ?? "", /^s_[\w-]{43}$/);
  await shot(page, "execution");
});

test("the runs list shows it, filters by status and workflow, and pages", async () => {
  await open("#/runs");
  await page.waitForSelector("[data-testid=run][data-id=console-good][data-status=succeeded]", {
    timeout: WAIT_MS,
  });
  await page.selectOption("[data-testid=filter-status]", "failed");
  await until(async () => {
    const statuses = await page.$$eval("[data-testid=run]", (rows) =>
      rows.map((r) => r.getAttribute("data-status")),
    );
    return statuses.every((s) => s === "failed");
  }, "only failed runs are listed");
  await page.waitForSelector("[data-testid=run][data-id=console-good]", {
    state: "detached",
    timeout: WAIT_MS,
  });
  assert.match(page.url(), /status=failed/);
  await page.selectOption("[data-testid=filter-status]", "");
  await page.selectOption("[data-testid=filter-workflow]", "OrderFulfillment");
  await page.waitForSelector("[data-testid=run][data-id=console-good]", { timeout: WAIT_MS });
  await shot(page, "runs");
  // Paged through the API's cursor: one run per page, the older page shows another.
  await startFromWorkflowPage("OrderFulfillment", "console-good-2", GOOD_ORDER);
  await executionStatus("succeeded");
  await open("#/runs?limit=1");
  await page.waitForSelector("[data-testid=run][data-id=console-good-2]", { timeout: WAIT_MS });
  await page.click("[data-testid=older]");
  await page.waitForSelector("[data-testid=run][data-id=console-good]", { timeout: WAIT_MS });
  assert.equal((await page.$$("[data-testid=run]")).length, 1);
});

test("a running execution waits for its event, and the event sent from the console ends it", async () => {
  await startFromWorkflowPage("AsyncOrderQueue", "console-ship", GOOD_ORDER);
  await nodeStatus("AwaitShipment", "running");
  await nodeStatus("ReserveItems/ReserveItem", "succeeded");
  // The form names the awaited event once the page has read what the thread waits for.
  await until(
    async () => (await page.inputValue("[data-testid=event-name]")) === "shipped",
    "the event form names the awaited event 'shipped'",
  );
  await page.fill("[data-testid=event-payload]", '{"carrier": "ACME"}');
  await page.click("[data-testid=send-event]");
  await executionStatus("succeeded");
  await nodeStatus("Done", "succeeded");
});

test("cancel a running execution from the console", async () => {
  await startFromWorkflowPage("AsyncOrderQueue", "console-cancel", GOOD_ORDER);
  await nodeStatus("AwaitShipment", "running");
  await shot(page, "execution-running");
  await page.click("[data-testid=cancel]");
  await executionStatus("cancelled");
  await nodeStatus("AwaitShipment", "cancelled");
  await shot(page, "execution-cancelled");
});

test("redrive a failed execution from a chosen state with an edited input, and see it succeed", async () => {
  await startFromWorkflowPage("OrderFulfillment", "console-empty", {
    customer_id: "cust-8",
    cart_items: [],
  });
  await executionStatus("failed");
  await nodeStatus("RejectOrder", "failed");
  await nodeStatus("ParallelVerification", "idle");
  // Pick the state in the inspector, then edit the data it gets.
  await page.click("[data-testid=node][data-node=ValidateOrder]");
  await page.click("[data-testid=redrive-here]");
  await page.waitForSelector("[data-testid=redrive-form]");
  assert.equal(await selectedTarget(), "ValidateOrder");
  await page.check("[data-testid=redrive-edit]");
  await page.fill("[data-testid=redrive-input]", JSON.stringify(GOOD_ORDER, null, 2));
  await shot(page, "redrive");
  await page.click("[data-testid=redrive]");
  await page.waitForURL((url) => !url.hash.endsWith("/console-empty"), { timeout: WAIT_MS });
  await executionStatus("succeeded");
  await nodeStatus("CombineResults", "succeeded");
  assert.equal(await page.textContent("[data-testid=redrive-of]"), "console-empty");
  await shot(page, "execution-redriven");
});

test("redrive from a state inside a Parallel branch: the other branches keep their results", async () => {
  await startFromWorkflowPage("OrderFulfillment", "console-branch", GOOD_ORDER);
  await executionStatus("succeeded");
  // A branch's states are nested in the graph: their ids end with the state's name.
  await page.click('[data-testid=node][data-node$="/CheckCredit"]');
  await page.click("[data-testid=redrive-here]");
  await page.waitForSelector("[data-testid=redrive-form]");
  assert.match(await selectedTarget(), /^CheckCredit — root\/ParallelVerification@\d+\[1\]$/);
  await page.click("[data-testid=redrive]");
  await page.waitForURL((url) => !url.hash.endsWith("/console-branch"), { timeout: WAIT_MS });
  await executionStatus("succeeded");
  await page.waitForSelector(
    '[data-testid=node][data-node$="/CheckCredit"][data-status=succeeded]',
    {
      timeout: WAIT_MS,
    },
  );
  await nodeStatus("CombineResults", "succeeded");
  // The state before the Parallel was not run again.
  await nodeStatus("ValidateOrder", "idle");
  // The other branches were kept from the original: shown succeeded, and where from.
  const kept = '[data-testid=node][data-node$="/VerifyIdentity"][data-status=succeeded]';
  await page.waitForSelector(kept, { timeout: WAIT_MS });
  await page.click(kept);
  assert.match(
    (await page.textContent("[data-testid=kept-from]")) ?? "",
    /kept from root\/ParallelVerification@\d+\[0\]/,
  );
  assert.equal(await page.textContent("[data-testid=redrive-of]"), "console-branch");
  await shot(page, "execution-redriven-branch");
});

/** The redrive form's chosen state, as its option reads. */
function selectedTarget(): Promise<string> {
  return page.$eval(
    "[data-testid=redrive-from]",
    (select) =>
      (select as unknown as { selectedOptions: { textContent: string | null }[] })
        .selectedOptions[0]?.textContent ?? "",
  );
}

test("the tenant selector acts as another of the app's tenants: its runs only", async () => {
  await open("#/runs");
  await page.waitForSelector("[data-testid=tenant]");
  assert.deepEqual(
    await page.$$eval("[data-testid=tenant] option", (options) =>
      options.map((o) => o.textContent),
    ),
    ["default", "acme"],
  );
  assert.equal(await page.inputValue("[data-testid=tenant]"), "default");
  await page.waitForSelector("[data-testid=run]");
  await page.selectOption("[data-testid=tenant]", "acme");
  await page.waitForSelector("[data-testid=runs]");
  // acme has run nothing: the default tenant's executions are not its to see.
  await until(
    async () => (await page.$$("[data-testid=run]")).length === 0,
    "acme's list is empty",
  );
  await startFromWorkflowPage("OrderFulfillment", "acme-order", GOOD_ORDER);
  await executionStatus("succeeded");
  const asAcme = await fetch(
    new URL("/v1/apps/order-processing/executions/acme-order", consoleUrl),
    {
      headers: { "x-cascade-tenant": "acme" },
    },
  );
  assert.equal(asAcme.status, 200);
  const asDefault = await fetch(
    new URL("/v1/apps/order-processing/executions/acme-order", consoleUrl),
  );
  assert.equal(asDefault.status, 404);
  await page.selectOption("[data-testid=tenant]", "default");
  await open("#/runs");
  await page.waitForSelector("[data-testid=run]");
});

test("an execution's cost at list prices", async () => {
  await open("#/executions/console-good");
  await executionStatus("succeeded");
  const usd = await page.waitForSelector("[data-testid=cost-usd]", { timeout: WAIT_MS });
  assert.match((await usd.textContent()) ?? "", /^\$\d+\.\d+/);
  assert.match((await page.textContent("[data-testid=cost]")) ?? "", /write units/);
});

test("the metrics page charts what cascade metrics prints", async () => {
  await open("#/metrics");
  await page.waitForSelector("[data-testid=workflow-metrics] tbody tr", { timeout: WAIT_MS });
  const rows = await page.textContent("[data-testid=workflow-metrics] tbody");
  assert.match(rows ?? "", /OrderFulfillment/);
  await page.waitForSelector("[data-testid=chart-outcomes] rect.c-succeeded", { timeout: WAIT_MS });
  await page.waitForSelector("[data-testid=activity-metrics] tbody tr", { timeout: WAIT_MS });
  await shot(page, "metrics");
  assert.deepEqual(pageErrors, [], "no script errors in the page");
});
