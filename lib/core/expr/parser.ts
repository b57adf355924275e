import { suggest } from "../suggest.ts";
import type {
  BinaryOperator,
  Expression,
  FilterNode,
  LiteralNode,
  Segment,
  Span,
  UnaryNode,
} from "./ast.ts";
import { ExpressionError, type ExpressionErrorCode, withSuggestion } from "./errors.ts";
import { FILTER_NAMES, getFilter } from "./filters.ts";
import { isForbiddenKey, type JsonValue } from "./json.ts";
import { Lexer, type Token } from "./lexer.ts";
import { MAX_NESTING_DEPTH } from "./limits.ts";
import { constantValue, plural, quoteToken, spanOf } from "./parser-helpers.ts";
import { isContextRoot, qualifiedField, ROOT_FIELDS, ROOT_NAMES } from "./roots.ts";

/** An expression parsed out of a template, and the offset just after its closing `}}`. */
export interface ParsedExpression {
  readonly expression: Expression;
  readonly end: number;
}

const COMPARISON_OPERATORS: ReadonlySet<string> = new Set(["==", "!=", "<", "<=", ">", ">="]);
const KEYWORDS: ReadonlySet<string> = new Set(["and", "or", "not", "in"]);
const LITERAL_WORDS: ReadonlyMap<string, null | boolean> = new Map([
  ["true", true],
  ["false", false],
  ["null", null],
]);
class Parser {
  private readonly source: string;
  private readonly openOffset: number;
  private readonly lexer: Lexer;
  private readonly depths = new WeakMap<Expression, number>();
  private current: Token;
  private lookahead: Token | undefined;
  private nesting = 0;

  constructor(source: string, openOffset: number) {
    this.source = source;
    this.openOffset = openOffset;
    this.lexer = new Lexer(source, openOffset + 2, openOffset);
    this.current = this.lexer.next();
  }

  parseTemplateExpression(): ParsedExpression {
    if (this.current.type === "close") {
      this.fail(
        "EXPR_SYNTAX",
        "empty expression",
        spanOf({ offset: this.openOffset, length: 2 }, this.current),
      );
    }
    const expression = this.parseExpression();
    const close = this.current as Token;
    if (close.type !== "close") this.expected("an operator or '}}'");
    return { expression, end: close.offset + 2 };
  }

  private fail(code: ExpressionErrorCode, reason: string, span: Span, suggestion?: string): never {
    throw new ExpressionError(code, withSuggestion(reason, suggestion), {
      source: this.source,
      offset: span.offset,
      length: span.length,
      suggestion,
    });
  }

  private expected(what: string): never {
    if (this.current.type === "end") {
      this.fail("EXPR_SYNTAX", "unclosed '{{': expected '}}'", {
        offset: this.openOffset,
        length: 2,
      });
    }
    return this.fail(
      "EXPR_SYNTAX",
      `expected ${what}, found ${quoteToken(this.current)}`,
      this.current,
    );
  }

  private peekSecond(): Token {
    this.lookahead ??= this.lexer.next();
    return this.lookahead;
  }

  /** Consumes the current token. Never called on `}}`, so the lexer never reads past it. */
  private advance(): Token {
    const token = this.current;
    this.current = this.lookahead ?? this.lexer.next();
    this.lookahead = undefined;
    return token;
  }

  private isOperator(text: string, token: Token = this.current): boolean {
    return token.type === "operator" && token.text === text;
  }

  private isWord(text: string, token: Token = this.current): boolean {
    return token.type === "identifier" && token.text === text;
  }

  private expectOperator(text: string): Token {
    if (!this.isOperator(text)) this.expected(`'${text}'`);
    return this.advance();
  }

  /** Guards the parser's own recursion; `leave` undoes it. */
  private enter(at: Span): void {
    this.nesting++;
    if (this.nesting > MAX_NESTING_DEPTH) this.tooDeep(at);
  }

  private leave(): void {
    this.nesting--;
  }

  private tooDeep(at: Span): never {
    return this.fail(
      "EXPR_BUDGET",
      `expression is nested more than ${MAX_NESTING_DEPTH} levels deep`,
      at,
    );
  }

  /** Records a new node's tree depth, which bounds the evaluator's recursion. */
  private node<T extends Expression>(node: T, children: readonly Expression[]): T {
    let depth = 1;
    for (const child of children) depth = Math.max(depth, (this.depths.get(child) ?? 1) + 1);
    if (depth > MAX_NESTING_DEPTH) this.tooDeep(node);
    this.depths.set(node, depth);
    return node;
  }

  private binary(operator: BinaryOperator, left: Expression, right: Expression): Expression {
    return this.node({ type: "binary", operator, left, right, ...spanOf(left, right) }, [
      left,
      right,
    ]);
  }

  private parseExpression(): Expression {
    this.enter(this.current);
    const expression = this.parseOr();
    this.leave();
    return expression;
  }

  private parseOr(): Expression {
    let left = this.parseAnd();
    while (this.isWord("or") || this.isOperator("||")) {
      this.advance();
      left = this.binary("or", left, this.parseAnd());
    }
    return left;
  }

  private parseAnd(): Expression {
    let left = this.parseNot();
    while (this.isWord("and") || this.isOperator("&&")) {
      this.advance();
      left = this.binary("and", left, this.parseNot());
    }
    return left;
  }

  private parseNot(): Expression {
    if (!this.isWord("not") && !this.isOperator("!")) return this.parseComparison();
    const token = this.advance();
    this.enter(token);
    const operand = this.parseNot();
    this.leave();
    const node: UnaryNode = { type: "unary", operator: "not", operand, ...spanOf(token, operand) };
    return this.node(node, [operand]);
  }

  private comparisonOperator(): BinaryOperator | undefined {
    const token = this.current;
    if (token.type === "operator" && COMPARISON_OPERATORS.has(token.text)) {
      return token.text as BinaryOperator;
    }
    if (this.isWord("in")) return "in";
    if (this.isWord("not") && this.isWord("in", this.peekSecond())) return "not in";
    return undefined;
  }

  private parseComparison(): Expression {
    const left = this.parseAdditive();
    const operator = this.comparisonOperator();
    if (operator === undefined) return left;
    this.advance();
    if (operator === "not in") this.advance();
    const result = this.binary(operator, left, this.parseAdditive());
    if (this.comparisonOperator() !== undefined) {
      this.fail(
        "EXPR_SYNTAX",
        "comparisons cannot be chained; combine them with 'and'",
        this.current,
      );
    }
    return result;
  }

  private parseAdditive(): Expression {
    let left = this.parseMultiplicative();
    while (this.isOperator("+") || this.isOperator("-")) {
      const operator = this.advance().text as "+" | "-";
      left = this.binary(operator, left, this.parseMultiplicative());
    }
    return left;
  }

  private parseMultiplicative(): Expression {
    let left = this.parseUnary();
    while (this.isOperator("*") || this.isOperator("/") || this.isOperator("%")) {
      const operator = this.advance().text as "*" | "/" | "%";
      left = this.binary(operator, left, this.parseUnary());
    }
    return left;
  }

  private parseUnary(): Expression {
    if (!this.isOperator("-")) return this.parseFiltered();
    const token = this.advance();
    this.enter(token);
    const operand = this.parseUnary();
    this.leave();
    const node: UnaryNode = { type: "unary", operator: "-", operand, ...spanOf(token, operand) };
    return this.node(node, [operand]);
  }

  private parseFiltered(): Expression {
    let input = this.parsePostfix();
    while (this.isOperator("|")) {
      this.advance();
      input = this.parseFilter(input);
    }
    return input;
  }

  private parseFilter(input: Expression): Expression {
    if (this.current.type !== "identifier") this.expected("a filter name after '|'");
    const nameToken = this.advance();
    const name = nameToken.text;
    const definition = getFilter(name);
    if (definition === undefined) {
      this.fail(
        "EXPR_UNKNOWN_FILTER",
        `unknown filter '${name}'`,
        nameToken,
        suggest(name, FILTER_NAMES),
      );
    }
    const args: Expression[] = [];
    let last: Span = nameToken;
    if (this.isOperator("(")) {
      const open = this.advance();
      this.enter(open);
      if (!this.isOperator(")")) {
        args.push(this.parseExpression());
        while (this.isOperator(",")) {
          this.advance();
          args.push(this.parseExpression());
        }
      }
      last = this.expectOperator(")");
      this.leave();
    }
    const nameSpan = spanOf(nameToken, last);
    if (args.length < definition.minArgs || args.length > definition.maxArgs) {
      const { minArgs, maxArgs } = definition;
      const expected =
        maxArgs === 0
          ? "no arguments"
          : minArgs === maxArgs
            ? `exactly ${plural(minArgs, "argument")}`
            : minArgs === 0
              ? `at most ${plural(maxArgs, "argument")}`
              : `${minArgs} to ${maxArgs} arguments`;
      this.fail(
        "EXPR_ARGUMENT",
        `filter '${name}' takes ${expected}, got ${args.length}`,
        nameSpan,
      );
    }
    const constants = args.map(constantValue);
    if (definition.checkArgs !== undefined && constants.every((value) => value !== undefined)) {
      const problem = definition.checkArgs(constants as JsonValue[]);
      if (problem !== undefined) this.fail("EXPR_ARGUMENT", problem, nameSpan);
    }
    const node: FilterNode = {
      type: "filter",
      name,
      input,
      args,
      nameSpan,
      ...spanOf(input, last),
    };
    return this.node(node, [input, ...args]);
  }

  private parsePostfix(): Expression {
    const first = this.current;
    const base = this.parsePrimary();
    const segments: Segment[] = [];
    const children: Expression[] = [base];
    while (this.isOperator(".") || this.isOperator("[")) {
      const segment = this.isOperator(".") ? this.parseField() : this.parseBracket();
      if (segment.type === "dynamic") children.push(segment.expression);
      segments.push(segment);
    }
    const lastSegment = segments.at(-1);
    if (lastSegment === undefined) return base;
    if (base.type === "context" && first.type === "identifier") {
      const kind = ROOT_FIELDS.get(base.root)?.get(base.field);
      if (kind !== "json") {
        this.fail(
          "EXPR_TYPE",
          `'${base.root}.${base.field}' is a ${kind ?? "scalar"} and has no fields or elements`,
          segments[0] ?? lastSegment,
        );
      }
    }
    return this.node({ type: "path", base, segments, ...spanOf(base, lastSegment) }, children);
  }

  private checkKey(key: string, span: Span): void {
    if (isForbiddenKey(key)) {
      this.fail("EXPR_FORBIDDEN_KEY", `key '${key}' is not allowed`, span);
    }
  }

  private parseField(): Segment {
    const dot = this.advance();
    if (this.current.type !== "identifier") {
      if (this.current.type === "number") {
        this.fail(
          "EXPR_SYNTAX",
          `expected a field name after '.', found a number; write [${this.current.text}] for an index`,
          this.current,
        );
      }
      this.expected("a field name after '.'");
    }
    const name = this.advance();
    this.checkKey(name.text, name);
    return { type: "key", key: name.text, ...spanOf(dot, name) };
  }

  private parseBracket(): Segment {
    const open = this.advance();
    if (this.isOperator("*") && this.isOperator("]", this.peekSecond())) {
      this.advance();
      return { type: "wildcard", ...spanOf(open, this.advance()) };
    }
    const inner = this.parseExpression();
    const span = spanOf(open, this.expectOperator("]"));
    const constant = constantValue(inner);
    if (typeof constant === "string") {
      this.checkKey(constant, inner);
      return { type: "key", key: constant, ...span };
    }
    if (typeof constant === "number") {
      if (!Number.isSafeInteger(constant)) {
        this.fail("EXPR_TYPE", `an index must be an integer, got ${constant}`, inner);
      }
      return { type: "index", index: constant === 0 ? 0 : constant, ...span };
    }
    if (constant !== undefined || inner.type === "array") {
      const shown = constant === undefined ? "array" : constant === null ? "null" : "boolean";
      this.fail("EXPR_TYPE", `an index must be a string or an integer, got ${shown}`, inner);
    }
    return { type: "dynamic", expression: inner, ...span };
  }

  private parsePrimary(): Expression {
    const token = this.current;
    switch (token.type) {
      case "number":
      case "string": {
        this.advance();
        const node: LiteralNode = {
          type: "literal",
          value: token.value,
          offset: token.offset,
          length: token.length,
        };
        return this.node(node, []);
      }
      case "identifier":
        return this.parseName();
      case "operator":
        if (token.text === "(") {
          this.advance();
          const inner = this.parseExpression();
          this.expectOperator(")");
          return inner;
        }
        if (token.text === "[") return this.parseArray();
        return this.expected("an expression");
      default:
        return this.expected("an expression");
    }
  }

  private parseArray(): Expression {
    const open = this.advance();
    this.enter(open);
    const items: Expression[] = [];
    if (!this.isOperator("]")) {
      items.push(this.parseExpression());
      while (this.isOperator(",")) {
        this.advance();
        items.push(this.parseExpression());
      }
    }
    const close = this.expectOperator("]");
    this.leave();
    return this.node({ type: "array", items, ...spanOf(open, close) }, items);
  }

  private parseName(): Expression {
    const token = this.advance();
    const name = token.text;
    if (LITERAL_WORDS.has(name)) {
      const value = LITERAL_WORDS.get(name) ?? null;
      return this.node({ type: "literal", value, offset: token.offset, length: token.length }, []);
    }
    if (name === "$")
      return this.node({ type: "data", offset: token.offset, length: token.length }, []);
    if (KEYWORDS.has(name)) {
      this.fail("EXPR_SYNTAX", `expected an expression, found '${name}'`, token);
    }
    if (!isContextRoot(name)) {
      if (getFilter(name) !== undefined) {
        this.fail(
          "EXPR_UNKNOWN_ROOT",
          `unknown root '${name}'; '${name}' is a filter, applied with '|' as in $.x | ${name}`,
          token,
        );
      }
      const suggestion =
        qualifiedField(name) ?? suggest(name, [...ROOT_NAMES, ...LITERAL_WORDS.keys()]);
      const reason =
        suggestion === undefined
          ? `unknown root ${quoteToken(token)}; an expression starts with one of ${ROOT_NAMES.join(", ")}`
          : `unknown root ${quoteToken(token)}`;
      return this.fail("EXPR_UNKNOWN_ROOT", reason, token, suggestion);
    }
    const fields = ROOT_FIELDS.get(name) ?? new Map<string, never>();
    const fieldList = [...fields.keys()].join(", ");
    if (!this.isOperator(".")) {
      this.fail("EXPR_SYNTAX", `'${name}' must be followed by a field: ${fieldList}`, token);
    }
    this.advance();
    if (this.current.type !== "identifier") this.expected(`a field of '${name}' (${fieldList})`);
    const field = this.advance();
    if (!fields.has(field.text)) {
      this.checkKey(field.text, field);
      const suggestion = suggest(field.text, fields.keys());
      const reason =
        suggestion === undefined
          ? `unknown field ${quoteToken(field)} of '${name}'; it has ${fieldList}`
          : `unknown field ${quoteToken(field)} of '${name}'`;
      this.fail("EXPR_UNKNOWN_FIELD", reason, field, suggestion);
    }
    return this.node(
      { type: "context", root: name, field: field.text, ...spanOf(token, field) },
      [],
    );
  }
}

/**
 * Parses the expression of a template whose `{{` is at `openOffset` of `source`.
 * Throws `ExpressionError` (offsets relative to `source`).
 */
export function parseTemplateExpression(source: string, openOffset: number): ParsedExpression {
  return new Parser(source, openOffset).parseTemplateExpression();
}
