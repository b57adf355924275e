/**
 * Workflow definitions by content hash. An execution is pinned to the hash of the
 * definition it started with, so deploying a changed workflow never changes a
 * running execution: the old source stays readable in the store.
 */
import { createHash } from "node:crypto";
import { type Definition, validateWorkflow } from "../core/cdl/index.ts";
import type { ExecutionStore } from "../core/ports.ts";

/** Raised when a workflow is unknown or its pinned definition cannot be found. */
export class DefinitionError extends Error {
  readonly code: "UNKNOWN_WORKFLOW" | "DEFINITION_MISSING" | "INVALID_DEFINITION";
  constructor(code: DefinitionError["code"], message: string) {
    super(message);
    this.name = "DefinitionError";
    this.code = code;
  }
}

/** The content hash of a workflow source: sha256 of its text, hex. */
export function definitionHash(source: string): string {
  return createHash("sha256").update(source).digest("hex");
}

/** The app's current workflows by name, and every definition ever used by hash. */
export class DefinitionRegistry {
  readonly #store: ExecutionStore;
  readonly #byHash = new Map<string, Definition>();
  readonly #current = new Map<string, { hash: string; source: string; definition: Definition }>();

  constructor(store: ExecutionStore) {
    this.#store = store;
  }

  /**
   * Makes `source` the current version of its workflow (validated; throws on errors).
   * @returns the workflow's name and hash.
   */
  register(source: string, fileName: string, defaultName?: string): { name: string; hash: string } {
    const result = validateWorkflow(
      fileName,
      source,
      defaultName === undefined ? {} : { defaultName },
    );
    if (!result.definition) {
      const first = result.diagnostics.find((d) => d.severity === "error");
      throw new DefinitionError(
        "INVALID_DEFINITION",
        `${fileName}: ${first?.message ?? "invalid"}`,
      );
    }
    const hash = definitionHash(source);
    this.#byHash.set(hash, result.definition);
    this.#current.set(result.definition.name, { hash, source, definition: result.definition });
    return { name: result.definition.name, hash };
  }

  /** The current definition of a workflow. @throws DefinitionError UNKNOWN_WORKFLOW */
  current(name: string): { hash: string; source: string; definition: Definition } {
    const entry = this.#current.get(name);
    if (!entry) throw new DefinitionError("UNKNOWN_WORKFLOW", `no workflow named '${name}'`);
    return entry;
  }

  /** The names of the current workflows. */
  names(): string[] {
    return [...this.#current.keys()].sort();
  }

  /** Saves the current definition of `name` in the store so executions can find it after a redeploy. */
  async persist(name: string): Promise<void> {
    const entry = this.current(name);
    await this.#store.putDefinition(entry.hash, name, entry.source);
  }

  /**
   * A version of a workflow by hash, with its source: the current one, else one an
   * execution was pinned to (from the store); undefined when `name` has no such version.
   */
  async version(
    name: string,
    hash: string,
  ): Promise<{ hash: string; source: string; definition: Definition } | undefined> {
    const current = this.#current.get(name);
    if (current?.hash === hash) return current;
    const stored = await this.#store.getDefinition(hash);
    if (!stored || stored.name !== name) return undefined;
    return { hash, source: stored.source, definition: await this.byHash(hash) };
  }

  /** The definition an execution is pinned to: from memory, else from the store. */
  async byHash(hash: string): Promise<Definition> {
    const known = this.#byHash.get(hash);
    if (known) return known;
    const stored = await this.#store.getDefinition(hash);
    if (!stored) throw new DefinitionError("DEFINITION_MISSING", `no definition with hash ${hash}`);
    const result = validateWorkflow(`${stored.name}.yaml`, stored.source, {
      defaultName: stored.name,
    });
    if (!result.definition)
      throw new DefinitionError(
        "INVALID_DEFINITION",
        `stored definition ${hash} no longer validates`,
      );
    this.#byHash.set(hash, result.definition);
    return result.definition;
  }
}
