/**
 * CDL, the Cascade Definition Language: parse, validate and normalise a workflow.
 */
import {
  CDL_CODES,
  capDiagnostics,
  type Diagnostic,
  type SourceText,
  sortDiagnostics,
} from "./diagnostics.ts";
import { CDL_SCHEMA } from "./schema.ts";
import { buildDefinition, checkSemantics, type SemanticOptions } from "./semantics.ts";
import { parseYamlDocument } from "./source.ts";
import { checkStructure, isRecord, reporter } from "./structure.ts";
import type { Definition } from "./types.ts";

export * from "./diagnostics.ts";
export { formatDuration, MAX_DURATION_MS, parseDuration } from "./duration.ts";
export { bucketNameProblem, S3_BUCKET_NAME } from "./map-items.ts";
export {
  CDL_SCHEMA,
  ITEM_FORMATS,
  type ItemFormat,
  type JsonSchema,
  STATE_TYPES,
  type StateType,
} from "./schema.ts";
export { activityNameFor, parseResource, type TaskFunction } from "./semantics.ts";
export {
  type DocPath,
  formatDocPath,
  type ParsedDocument,
  parseYamlDocument,
  type Span,
} from "./source.ts";
export { checkStructure, checkTemplates, isRecord, type Report, reporter } from "./structure.ts";
export type * from "./types.ts";

/** The largest workflow file CDL reads, in bytes of source text. */
export const MAX_WORKFLOW_SOURCE_CHARS = 1_000_000;

export interface ValidateOptions extends SemanticOptions {
  /** Used as the workflow's name when the document has no `name` (a file's stem). */
  readonly defaultName?: string;
}

/** The outcome of validating one workflow source. */
export interface ValidationResult {
  readonly source: SourceText;
  /** Every problem, errors and warnings, sorted by position (at most `MAX_DIAGNOSTICS`). */
  readonly diagnostics: readonly Diagnostic[];
  /** Present exactly when there is no error (warnings allowed). */
  readonly definition?: Definition;
}

/**
 * Validates a workflow's YAML source, reporting every problem at once.
 * Never throws on bad input: problems are diagnostics.
 */
export function validateWorkflow(
  fileName: string,
  text: string,
  options: ValidateOptions = {},
): ValidationResult {
  const doc = parseYamlDocument(fileName, text.length > MAX_WORKFLOW_SOURCE_CHARS ? "" : text);
  const diagnostics: Diagnostic[] = [...doc.diagnostics];
  const report = reporter(doc, diagnostics);
  if (text.length > MAX_WORKFLOW_SOURCE_CHARS) {
    report(
      CDL_CODES.INVALID_VALUE,
      [],
      `the workflow is ${text.length} characters; the limit is ${MAX_WORKFLOW_SOURCE_CHARS}`,
    );
    return { source: doc.source, diagnostics };
  }
  if (diagnostics.some((d) => d.code === CDL_CODES.YAML_SYNTAX)) {
    return { source: doc.source, diagnostics: capDiagnostics(sortDiagnostics(diagnostics)) };
  }

  const root = doc.value;
  if (!isRecord(root)) {
    report(CDL_CODES.TYPE, [], "a workflow is a mapping with `name` and `states`");
    return { source: doc.source, diagnostics: capDiagnostics(sortDiagnostics(diagnostics)) };
  }
  checkStructure(doc, CDL_SCHEMA, report, { rootLabel: "a workflow" });
  checkSemantics(root, report, options);

  const name = typeof root.name === "string" ? root.name : options.defaultName;
  if (name === undefined) {
    report(
      CDL_CODES.MISSING_NAME,
      [],
      "the workflow needs `name` (a file's name stands in when it comes from a file)",
    );
  }
  const sorted = capDiagnostics(sortDiagnostics(diagnostics));
  if (name === undefined || sorted.some((d) => d.severity === "error")) {
    return { source: doc.source, diagnostics: sorted };
  }
  return { source: doc.source, diagnostics: sorted, definition: buildDefinition(root, name) };
}
