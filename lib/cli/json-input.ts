/**
 * JSON given on the command line: a literal (`'{"a":1}'`), `@path/to/file.json`
 * (read from a file, relative to the working directory) or `-` (standard input).
 */
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import type { JsonValue } from "../core/expr/index.ts";
import type { CliIo } from "./io.ts";

/** Raised for JSON that cannot be read (`kind: "missing"`) or parsed (`kind: "invalid"`). */
export class JsonInputError extends Error {
  readonly kind: "missing" | "invalid";
  readonly flag: string;
  constructor(kind: JsonInputError["kind"], flag: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "JsonInputError";
    this.kind = kind;
    this.flag = flag;
  }
}

/**
 * Reads a JSON argument.
 * @param flag the option's name, for messages (`--input`).
 * @throws JsonInputError when the file cannot be read or the text is not JSON.
 */
export async function readJsonArgument(value: string, flag: string, io: CliIo): Promise<JsonValue> {
  let text: string;
  let where: string;
  if (value === "-") {
    if (!io.readStdin)
      throw new JsonInputError("missing", flag, `${flag} -: no standard input here`);
    text = await io.readStdin();
    where = "standard input";
  } else if (value.startsWith("@")) {
    const file = resolve(io.cwd, value.slice(1));
    try {
      text = await readFile(file, "utf8");
    } catch (error) {
      throw new JsonInputError(
        "missing",
        flag,
        `${flag} ${value}: cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
        { cause: error },
      );
    }
    where = value.slice(1);
  } else {
    text = value;
    where = "the command line";
  }
  try {
    return JSON.parse(text) as JsonValue;
  } catch (error) {
    throw new JsonInputError(
      "invalid",
      flag,
      `${flag}: the JSON from ${where} is invalid: ${(error as Error).message}`,
      { cause: error },
    );
  }
}
