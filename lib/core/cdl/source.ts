/**
 * YAML text → plain JSON-like value, with the source span of every key and value
 * so later passes can point at line and column.
 */
import { isAlias, isMap, isPair, isScalar, isSeq, type Node, parseDocument } from "yaml";
import { CDL_CODES, type Diagnostic, MAX_DIAGNOSTICS, SourceText } from "./diagnostics.ts";

/** A path into a document: keys and array indexes. */
export type DocPath = readonly (string | number)[];

/** Where a key or a value sits in the source: a 0-based offset and a length. */
export interface Span {
  readonly offset: number;
  readonly length: number;
}

/** Aliases may not expand a document past this many nodes (the "billion laughs" guard). */
export const MAX_DOCUMENT_NODES = 100_000;

/** A parsed YAML document: its value, its source, where each part is, and syntax problems. */
export interface ParsedDocument {
  readonly source: SourceText;
  readonly value: unknown;
  readonly diagnostics: readonly Diagnostic[];
  /** The span of the value at `path` (or of its key, when `part` is "key"), falling back to the nearest ancestor. */
  locate(path: DocPath, part?: "key" | "value"): Span;
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** `states[2].retry[0].errors`; odd keys as `["odd key"]`. */
export function formatDocPath(path: DocPath): string {
  let out = "";
  for (const segment of path) {
    if (typeof segment === "number") out += `[${segment}]`;
    else if (IDENTIFIER.test(segment)) out += out === "" ? segment : `.${segment}`;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out === "" ? "(document)" : out;
}

function pathKey(path: DocPath): string {
  return path
    .map((segment) => (typeof segment === "number" ? `#${segment}` : `.${segment}`))
    .join("");
}

/**
 * Parses one YAML document (the core schema of YAML 1.2: `yes` stays a string).
 * Never throws: syntax problems become diagnostics and the value is `undefined`
 * when nothing usable could be read.
 */
export function parseYamlDocument(fileName: string, text: string): ParsedDocument {
  const source = new SourceText(fileName, text);
  const diagnostics: Diagnostic[] = [];
  const spans = new Map<string, { key?: Span; value: Span }>();

  const at = (offset: number, length: number) => {
    const { line, column } = source.position(offset);
    return { file: fileName, line, column, length: Math.max(1, length) };
  };

  // The yaml library's own duplicate-key check compares every key with every other of
  // its mapping (quadratic: 16,000 keys took seconds); keys are checked below, with a
  // Set per mapping, while the node budget bounds the walk.
  const doc = parseDocument(text, { schema: "core", uniqueKeys: false, prettyErrors: false });
  // One past the cap, so the caller's cut (capDiagnostics) says there were more.
  for (const error of doc.errors.slice(0, MAX_DIAGNOSTICS + 1)) {
    const [start, end] = pointAtText(text, error.pos);
    diagnostics.push({
      code: CDL_CODES.YAML_SYNTAX,
      severity: "error",
      message: firstLine(error.message),
      path: "(document)",
      ...at(start, end - start),
    });
  }

  let nodes = 0;
  let overflow = false;
  const reported = new WeakSet<object>();
  const spanOf = (node: Node | null | undefined): Span => {
    const range = node?.range;
    if (!range) return { offset: 0, length: 1 };
    return { offset: range[0], length: Math.max(1, range[1] - range[0]) };
  };

  const toValue = (node: unknown, path: DocPath, depth: number): unknown => {
    if (++nodes > MAX_DOCUMENT_NODES || depth > 200) {
      overflow = true;
      return null;
    }
    if (isAlias(node)) {
      const target = node.resolve(doc);
      const value = toValue(target, path, depth + 1);
      spans.set(pathKey(path), { ...spans.get(pathKey(path)), value: spanOf(node) });
      return value;
    }
    if (node == null) return null;
    if (isScalar(node)) {
      spans.set(pathKey(path), { ...spans.get(pathKey(path)), value: spanOf(node) });
      const v = node.value;
      if (typeof v === "bigint") return Number(v);
      return v === undefined ? null : v;
    }
    if (isMap(node)) {
      spans.set(pathKey(path), { ...spans.get(pathKey(path)), value: spanOf(node) });
      const out: Record<string, unknown> = {};
      const keys = new Set<string>();
      for (const pair of node.items) {
        if (overflow) break;
        if (!isPair(pair)) continue;
        const keyNode = pair.key;
        let key: string;
        if (
          isScalar(keyNode) &&
          (typeof keyNode.value === "string" ||
            typeof keyNode.value === "number" ||
            typeof keyNode.value === "boolean")
        ) {
          key = String(keyNode.value);
        } else {
          const span = spanOf(keyNode as Node | null);
          diagnostics.push({
            code: CDL_CODES.TYPE,
            severity: "error",
            message: "a mapping key must be a plain string",
            path: formatDocPath(path),
            ...at(span.offset, span.length),
          });
          continue;
        }
        if (keys.has(key)) {
          // An aliased mapping is walked once per alias: report its duplicate once.
          if (reported.has(keyNode) || diagnostics.length > MAX_DIAGNOSTICS) continue;
          reported.add(keyNode);
          const span = spanOf(keyNode as Node);
          diagnostics.push({
            code: CDL_CODES.DUPLICATE_KEY,
            severity: "error",
            message: "this key appears twice in the same mapping",
            path: formatDocPath(path),
            ...at(span.offset, span.length),
          });
          continue;
        }
        keys.add(key);
        const childPath = [...path, key];
        spans.set(pathKey(childPath), {
          key: spanOf(keyNode as Node),
          value: spanOf(keyNode as Node),
        });
        // defineProperty, not assignment: a key named __proto__ must stay a plain key.
        Object.defineProperty(out, key, {
          value: toValue(pair.value, childPath, depth + 1),
          enumerable: true,
          writable: true,
          configurable: true,
        });
        if (pair.value == null) {
          spans.set(pathKey(childPath), {
            key: spanOf(keyNode as Node),
            value: spanOf(keyNode as Node),
          });
        }
      }
      return out;
    }
    if (isSeq(node)) {
      spans.set(pathKey(path), { ...spans.get(pathKey(path)), value: spanOf(node) });
      return node.items.map((item, index) => toValue(item, [...path, index], depth + 1));
    }
    return null;
  };

  /** A document with syntax errors is not converted; its duplicate keys are still reported. */
  const duplicatesOnly = (root: unknown): void => {
    const stack: unknown[] = [root];
    let seen = 0;
    while (stack.length > 0 && seen++ < MAX_DOCUMENT_NODES) {
      const node = stack.pop();
      if (isSeq(node)) stack.push(...node.items);
      if (!isMap(node)) continue;
      const keys = new Set<unknown>();
      for (const pair of node.items) {
        if (!isPair(pair)) continue;
        stack.push(pair.value);
        if (!isScalar(pair.key)) continue;
        const key = String(pair.key.value);
        if (keys.has(key) && diagnostics.length <= MAX_DIAGNOSTICS) {
          const span = spanOf(pair.key);
          diagnostics.push({
            code: CDL_CODES.DUPLICATE_KEY,
            severity: "error",
            message: "this key appears twice in the same mapping",
            path: "(document)",
            ...at(span.offset, span.length),
          });
        }
        keys.add(key);
      }
    }
  };

  let value: unknown;
  if (diagnostics.some((d) => d.code === CDL_CODES.YAML_SYNTAX)) {
    duplicatesOnly(doc.contents);
    diagnostics.sort((a, b) => a.line - b.line || a.column - b.column);
  } else {
    value = toValue(doc.contents, [], 0);
    if (overflow) {
      diagnostics.push({
        code: CDL_CODES.YAML_SYNTAX,
        severity: "error",
        message: `the document expands to more than ${MAX_DOCUMENT_NODES} nodes or nests deeper than 200 levels (aliases?)`,
        path: "(document)",
        ...at(0, 1),
      });
      value = undefined;
    }
  }

  return {
    source,
    value,
    diagnostics,
    locate(path, part = "value") {
      for (let n = path.length; n >= 0; n--) {
        const entry = spans.get(pathKey(path.slice(0, n)));
        if (!entry) continue;
        if (n === path.length && part === "key" && entry.key) return entry.key;
        return entry.value;
      }
      return { offset: 0, length: 1 };
    },
  };
}

/** Errors reported at the very end of the text move back onto its last non-blank character. */
function pointAtText(text: string, [start, end]: [number, number]): [number, number] {
  if (text.slice(start).trim() !== "") return [start, end];
  const last = text.trimEnd().length - 1;
  return last < 0 ? [0, 1] : [last, last + 1];
}

function firstLine(message: string): string {
  const line = message.split("\n")[0] ?? message;
  return line.replace(/ at line \d+, column \d+:?$/, "");
}
