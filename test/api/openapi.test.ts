/**
 * docs/openapi.yaml and the handler agree: every route the handler serves is
 * documented with its query parameters, every documented path is served, and
 * the error codes are the same list.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { parse } from "yaml";
import { API_ERRORS, type ApiDeps, createApiHandler } from "../../lib/api/index.ts";
import { repoPath } from "../helpers.ts";

interface Operation {
  operationId?: string;
  parameters?: ({ $ref: string } | { name: string; in: string })[];
}
interface Document {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components: {
    parameters: Record<string, { name: string; in: string }>;
    schemas: { ErrorCode: { enum: string[] } };
  };
}

const doc = parse(readFileSync(repoPath("docs", "openapi.yaml"), "utf8")) as Document;
// The route table does not touch its dependencies until a request comes.
const { routes } = createApiHandler({ app: "x" } as unknown as ApiDeps);

const METHODS = ["get", "post", "put", "delete", "patch"];

test("the document is OpenAPI 3.1", () => {
  assert.equal(doc.openapi, "3.1.0");
});

test("every route the handler serves is documented, and every documented operation is served", () => {
  const served = routes.map((r) => `${r.method} ${r.path} ${r.operationId}`).sort();
  const documented = Object.entries(doc.paths)
    .flatMap(([path, item]) =>
      Object.entries(item)
        .filter(([method]) => METHODS.includes(method))
        .map(([method, op]) => `${method.toUpperCase()} ${path} ${op.operationId}`),
    )
    .sort();
  assert.deepEqual(documented, served);
  assert.ok(served.length >= 11);
});

test("each route's query parameters are the documented ones", () => {
  for (const route of routes) {
    const op = doc.paths[route.path]?.[route.method.toLowerCase()];
    assert.ok(op, `${route.method} ${route.path}`);
    const params = (op.parameters ?? []).map((p) =>
      "$ref" in p ? doc.components.parameters[p.$ref.split("/").at(-1) ?? ""] : p,
    );
    const query = params
      .filter((p) => p?.in === "query")
      .map((p) => p?.name)
      .sort();
    assert.deepEqual(query, [...route.query].sort(), `${route.operationId}'s query parameters`);
    const pathParams = params
      .filter((p) => p?.in === "path")
      .map((p) => p?.name)
      .sort();
    const inPath = [...route.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
    assert.deepEqual(pathParams, inPath, `${route.operationId}'s path parameters`);
  }
});

test("the documented error codes are exactly the API's", () => {
  assert.deepEqual(
    [...doc.components.schemas.ErrorCode.enum].sort(),
    Object.keys(API_ERRORS).sort(),
  );
  // The shared error response names each code once, beside its status.
  const description = (
    parse(readFileSync(repoPath("docs", "openapi.yaml"), "utf8")) as {
      components: { responses: { Error: { description: string } } };
    }
  ).components.responses.Error.description.replace(/\s+/g, " ");
  for (const [code, status] of Object.entries(API_ERRORS)) {
    const group = description.split(/;|\./).find((part) => part.includes(code));
    assert.ok(group?.includes(String(status)), `${code} is listed under ${status}`);
  }
});
