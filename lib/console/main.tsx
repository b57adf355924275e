/** The Cascade console: runs, an execution, workflows and metrics, over the HTTP API. */
import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { api, appPath, chooseTenant, currentTenant } from "./api.ts";
import { ExecutionPage } from "./execution.tsx";
import { MetricsPage } from "./metrics.tsx";
import { href, useRoute } from "./route.ts";
import { RunsPage } from "./runs.tsx";
import { ErrorBox } from "./ui.tsx";
import { WorkflowsPage } from "./workflows.tsx";

interface Apps {
  readonly apps: readonly { readonly name: string; readonly workflows: readonly string[] }[];
}

/** What `GET /v1/apps/{app}` says of the caller: its tenant, and locally the app's tenants. */
interface AppInfo {
  readonly tenant?: string;
  readonly tenants?: readonly string[];
}

function App() {
  const route = useRoute();
  const [app, setApp] = useState<{ name: string; workflows: readonly string[] }>();
  const [error, setError] = useState<unknown>();
  const [info, setInfo] = useState<AppInfo>({});
  const [tenant, setTenant] = useState(currentTenant());
  useEffect(() => {
    api<Apps>("/v1/apps").then((answer) => setApp(answer.apps[0]), setError);
  }, []);
  useEffect(() => {
    if (!app) return;
    api<AppInfo>(appPath(app.name, "")).then(setInfo, () => {
      // A tenant this app no longer has: back to the API's default.
      if (currentTenant() !== undefined) {
        chooseTenant(undefined);
        setTenant(undefined);
      }
    });
  }, [app?.name, tenant]);
  const page = route.parts[0];
  const nav = (name: string, label: string) => (
    <a
      href={href(name)}
      class={page === name || (name === "runs" && page === "executions") ? "active" : ""}
    >
      {label}
    </a>
  );
  return (
    <>
      <header class="top">
        <span class="logo">Cascade</span>
        {app && <span class="app">{app.name}</span>}
        {info.tenants && info.tenants.length > 1 ? (
          <label class="tenant">
            tenant{" "}
            <select
              data-testid="tenant"
              value={info.tenant}
              onChange={(e) => {
                const name = (e.currentTarget as HTMLSelectElement).value;
                chooseTenant(name);
                setTenant(name);
              }}
            >
              {info.tenants.map((t) => (
                <option key={t} value={t}>
                  {t}
                </option>
              ))}
            </select>
          </label>
        ) : (
          info.tenant && (
            <span class="tenant" data-testid="tenant-name">
              tenant {info.tenant}
            </span>
          )
        )}
        <nav>
          {nav("runs", "Runs")}
          {nav("workflows", "Workflows")}
          {nav("metrics", "Metrics")}
        </nav>
      </header>
      <main key={tenant ?? ""}>
        <ErrorBox error={error} />
        {app &&
          (page === "executions" && route.parts[1] ? (
            <ExecutionPage app={app.name} id={route.parts[1]} />
          ) : page === "workflows" ? (
            <WorkflowsPage app={app.name} workflows={app.workflows} selected={route.parts[1]} />
          ) : page === "metrics" ? (
            <MetricsPage app={app.name} workflows={app.workflows} />
          ) : (
            <RunsPage app={app.name} workflows={app.workflows} params={route.params} />
          ))}
      </main>
    </>
  );
}

const root = document.getElementById("app");
if (root) render(<App />, root);
