/** `POST /v1/validate`: a workflow's diagnostics, without deploying it. */
import { validateWorkflow } from "../../core/cdl/index.ts";
import { MAX_VALIDATE_BODY_BYTES } from "../deps.ts";
import type { RouteGroup } from "../env.ts";
import { bodyObject, YAML_TYPE } from "../request.ts";

export const validateRoutes: RouteGroup = () => [
  {
    method: "POST",
    path: "/v1/validate",
    operationId: "validateWorkflow",
    query: [],
    yaml: true,
    maxBodyBytes: MAX_VALIDATE_BODY_BYTES,
    run: async (ctx) => {
      let source: string;
      let file = "workflow.yaml";
      if (YAML_TYPE.test(ctx.mediaType)) {
        source = ctx.text;
      } else {
        const body = bodyObject(ctx, { source: "string", file: "string" }, ["source"]);
        source = body.source as string;
        if (typeof body.file === "string") file = body.file.slice(0, 256);
      }
      const result = validateWorkflow(file, source);
      return {
        status: 200,
        body: {
          valid: result.definition !== undefined,
          ...(result.definition ? { name: result.definition.name } : {}),
          diagnostics: result.diagnostics,
        },
      };
    },
  },
];
