/** Runs: the executions, newest first, filtered by workflow, status and start time; paged; live. */
import { useState } from "preact/hooks";
import { api, appPath, query } from "./api.ts";
import { go, href } from "./route.ts";
import type { Summary } from "./types.ts";
import { Badge, duration, ErrorBox, time, usePoll } from "./ui.tsx";

/** How often the first page is read again. */
const LIVE_EVERY_MS = 2_000;
/** Rows per page (the URL's `limit` may say otherwise, 1-100). */
const PAGE_SIZE = 25;
const SINCE: readonly [string, number][] = [
  ["last 15 minutes", 15 * 60_000],
  ["last hour", 3_600_000],
  ["last 24 hours", 86_400_000],
  ["last 7 days", 7 * 86_400_000],
];
const STATUSES = ["running", "succeeded", "failed", "cancelled"];

export function RunsPage(props: {
  app: string;
  workflows: readonly string[];
  params: URLSearchParams;
}) {
  const workflow = props.params.get("workflow") ?? undefined;
  const status = props.params.get("status") ?? undefined;
  const startedAfter = props.params.get("startedAfter") ?? undefined;
  const limit = props.params.get("limit") ?? undefined;
  // Cursors of the pages before this one (the first page has none).
  const [pages, setPages] = useState<(string | undefined)[]>([undefined]);
  const cursor = pages.at(-1);
  const filters = { workflow, status, startedAfter, limit };
  const { data, error } = usePoll(
    () =>
      api<{ items: Summary[]; cursor?: string }>(
        appPath(
          props.app,
          `/executions${query({ ...filters, limit: limit ?? PAGE_SIZE, cursor })}`,
        ),
      ),
    [props.app, workflow, status, startedAfter, limit, cursor],
    LIVE_EVERY_MS,
    cursor === undefined,
  );
  const set = (changes: Record<string, string | undefined>) => {
    setPages([undefined]);
    go(href("runs", { ...filters, ...changes }));
  };
  return (
    <div class="page runs">
      <div class="toolbar">
        <h2>Runs</h2>
        <label>
          workflow{" "}
          <select
            data-testid="filter-workflow"
            value={workflow ?? ""}
            onChange={(e) => set({ workflow: (e.currentTarget as HTMLSelectElement).value })}
          >
            <option value="">all</option>
            {props.workflows.map((w) => (
              <option key={w} value={w}>
                {w}
              </option>
            ))}
          </select>
        </label>
        <label>
          status{" "}
          <select
            data-testid="filter-status"
            value={status ?? ""}
            onChange={(e) => set({ status: (e.currentTarget as HTMLSelectElement).value })}
          >
            <option value="">any</option>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <label>
          started{" "}
          <select
            data-testid="filter-since"
            value={startedAfter ? "set" : ""}
            onChange={(e) => {
              const ms = Number((e.currentTarget as HTMLSelectElement).value);
              set({ startedAfter: ms > 0 ? String(Date.now() - ms) : undefined });
            }}
          >
            <option value="">any time</option>
            {startedAfter && <option value="set">after {time(Number(startedAfter))}</option>}
            {SINCE.map(([label, ms]) => (
              <option key={label} value={String(ms)}>
                {label}
              </option>
            ))}
          </select>
        </label>
        <span class="muted live">{cursor === undefined ? "● live" : "paused (older page)"}</span>
      </div>
      <ErrorBox error={error} />
      <table class="list" data-testid="runs">
        <thead>
          <tr>
            <th>execution</th>
            <th>workflow</th>
            <th>status</th>
            <th>started</th>
            <th>duration</th>
            <th>error</th>
          </tr>
        </thead>
        <tbody>
          {(data?.items ?? []).map((run) => (
            <tr key={run.id} data-testid="run" data-id={run.id} data-status={run.status}>
              <td>
                <a href={href("executions", run.id)}>{run.id}</a>
              </td>
              <td>{run.workflow}</td>
              <td>
                <Badge status={run.status} />
              </td>
              <td>{time(run.startedAt)}</td>
              <td>
                {run.endedAt
                  ? duration(Date.parse(run.endedAt) - Date.parse(run.startedAt))
                  : duration(Date.now() - Date.parse(run.startedAt))}
              </td>
              <td class="muted">{run.error ? `${run.error.name}: ${run.error.message}` : ""}</td>
            </tr>
          ))}
          {data && data.items.length === 0 && (
            <tr>
              <td colSpan={6} class="muted">
                no executions
                {workflow || status || startedAfter
                  ? " match these filters"
                  : " yet: start one from Workflows"}
              </td>
            </tr>
          )}
        </tbody>
      </table>
      <div class="pager">
        <button type="button" disabled={pages.length < 2} onClick={() => setPages([undefined])}>
          newest
        </button>
        <button
          type="button"
          disabled={pages.length < 2}
          onClick={() => setPages(pages.slice(0, -1))}
        >
          ← newer
        </button>
        <button
          type="button"
          data-testid="older"
          disabled={!data?.cursor}
          onClick={() => data?.cursor && setPages([...pages, data.cursor])}
        >
          older →
        </button>
      </div>
    </div>
  );
}
