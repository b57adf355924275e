/**
 * What every route group shares: the deps, the payload codec, and the lookups of an
 * app, a workflow and an execution that answer with coded errors.
 */
import type { ExecutionView } from "../core/ports.ts";
import { PayloadCodec } from "../runtime/codec.ts";
import { DefinitionError } from "../runtime/definitions.ts";
import { EXECUTION_ID_PATTERN } from "../runtime/runtime.ts";
import type { ApiDeps } from "./deps.ts";
import { HttpError } from "./errors.ts";
import type { Context } from "./request.ts";
import type { Route } from "./router.ts";

/** The shared part of the routes. */
export interface RouteEnv {
  readonly deps: ApiDeps;
  readonly codec: PayloadCodec;
  readonly now: () => number;
  /** The `{app}` of the path. @throws HttpError UNKNOWN_APP */
  checkApp(ctx: Context): string;
  /** @throws HttpError UNKNOWN_WORKFLOW */
  currentWorkflow(name: string): ReturnType<ApiDeps["definitions"]["current"]>;
  /** @throws HttpError INVALID_ID */
  checkId(id: string): void;
  /** The `{id}` execution, in the caller's tenant and this app. @throws HttpError INVALID_ID, UNKNOWN_EXECUTION */
  findExecution(ctx: Context): Promise<ExecutionView>;
}

/** A route group: one file under routes/, its routes built from the shared env. */
export type RouteGroup = (env: RouteEnv) => readonly Route[];

const shown = (text: string): string => (text.length > 128 ? `${text.slice(0, 128)}…` : text);

export function createRouteEnv(deps: ApiDeps): RouteEnv {
  const { definitions, store } = deps;
  const clock = deps.clock ?? { now: () => Date.now() };
  const checkId = (id: string): void => {
    if (!EXECUTION_ID_PATTERN.test(id))
      throw new HttpError(
        "INVALID_ID",
        `'${shown(id)}' is not a valid execution id: 1-128 letters, digits, _ . : - (starting with a letter or digit)`,
      );
  };
  return {
    deps,
    codec: new PayloadCodec(deps.payloads),
    now: () => clock.now(),
    checkApp(ctx) {
      const app = ctx.params.app ?? "";
      if (app !== deps.app)
        throw new HttpError(
          "UNKNOWN_APP",
          `no app named '${shown(app)}' here (this API serves '${deps.app}')`,
        );
      return app;
    },
    currentWorkflow(name) {
      try {
        return definitions.current(name);
      } catch (error) {
        if (error instanceof DefinitionError && error.code === "UNKNOWN_WORKFLOW") {
          const names = definitions.names();
          throw new HttpError(
            "UNKNOWN_WORKFLOW",
            `no workflow named '${shown(name)}' in app '${deps.app}'${names.length > 0 ? ` (it has ${names.join(", ")})` : ""}`,
          );
        }
        throw error;
      }
    },
    checkId,
    async findExecution(ctx) {
      const id = ctx.params.id ?? "";
      checkId(id);
      const view = await store.getExecution(ctx.tenant, id);
      if (!view || view.header.app !== deps.app)
        throw new HttpError("UNKNOWN_EXECUTION", `no execution '${id}' in app '${deps.app}'`);
      return view;
    },
  };
}
