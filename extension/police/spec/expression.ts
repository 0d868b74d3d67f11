// Target expressions in x0..x{D-1}: parsed by mathjs, checked against a whitelist, evaluated by our own tree walker (never eval).
import { create, parseDependencies } from 'mathjs/number';
import type { MathNode } from 'mathjs/number';

// Only the number-only parser is instantiated, so the bundle carries neither mathjs's evaluator nor its bignumber/complex types.
const math = create({ parseDependencies });

/** The checked expression tree: every node is one the evaluator knows. */
export type Expr =
  | { kind: 'constant'; value: number }
  | { kind: 'variable'; index: number }
  | { kind: 'unary'; op: '-' | '+'; arg: Expr }
  | { kind: 'binary'; op: '+' | '-' | '*' | '/' | '^' | '%'; left: Expr; right: Expr }
  | { kind: 'call'; fn: FunctionName; args: Expr[] };

export interface ExpressionError {
  message: string;
  /** 'expression-syntax', 'unknown-variable', 'unknown-function' or 'forbidden-expression'. */
  code: string;
  /** 0-based offset of the offending text within the expression string. */
  offset: number;
  length: number;
}

const sigmoid = (v: number): number => 1 / (1 + Math.exp(-v));

/** Whitelisted functions: name → [min args, max args, implementation]. */
const FUNCTIONS = {
  sin: [1, 1, Math.sin],
  cos: [1, 1, Math.cos],
  tan: [1, 1, Math.tan],
  asin: [1, 1, Math.asin],
  acos: [1, 1, Math.acos],
  atan: [1, 1, Math.atan],
  atan2: [2, 2, Math.atan2],
  sinh: [1, 1, Math.sinh],
  cosh: [1, 1, Math.cosh],
  tanh: [1, 1, Math.tanh],
  exp: [1, 1, Math.exp],
  log: [1, 1, Math.log],
  sqrt: [1, 1, Math.sqrt],
  abs: [1, 1, Math.abs],
  pow: [2, 2, Math.pow],
  min: [1, Infinity, Math.min],
  max: [1, Infinity, Math.max],
  sigmoid: [1, 1, sigmoid],
  floor: [1, 1, Math.floor],
  ceil: [1, 1, Math.ceil],
  round: [1, 1, Math.round],
  sign: [1, 1, Math.sign],
} as const satisfies Record<string, readonly [number, number, (...args: number[]) => number]>;

export type FunctionName = keyof typeof FUNCTIONS;
export const FUNCTION_NAMES = Object.keys(FUNCTIONS) as FunctionName[];
export const CONSTANTS: Record<string, number> = { pi: Math.PI, e: Math.E };

const BINARY_OPERATORS: Record<string, '+' | '-' | '*' | '/' | '^' | '%'> = {
  add: '+',
  subtract: '-',
  multiply: '*',
  divide: '/',
  pow: '^',
  mod: '%',
};

function isFunctionName(name: string): name is FunctionName {
  return Object.prototype.hasOwnProperty.call(FUNCTIONS, name);
}

/** Finds the n-th whole-word occurrence of `needle` in `text` (falls back to the first plain occurrence, then 0). */
function locate(text: string, needle: string, occurrence: number): { offset: number; length: number } {
  if (needle.length === 0) return { offset: 0, length: Math.max(1, text.length) };
  const escaped = needle.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const wordy = /^\w/.test(needle) && /\w$/.test(needle);
  const pattern = new RegExp(wordy ? `(?<![\\w.])${escaped}(?!\\w)` : escaped, 'g');
  const hits: number[] = [];
  for (let m = pattern.exec(text); m; m = pattern.exec(text)) hits.push(m.index);
  if (hits.length === 0) {
    const plain = text.indexOf(needle);
    return plain >= 0 ? { offset: plain, length: needle.length } : { offset: 0, length: Math.max(1, text.length) };
  }
  return { offset: hits[Math.min(occurrence, hits.length - 1)], length: needle.length };
}

export interface ParseResult {
  expr?: Expr;
  errors: ExpressionError[];
  /** Input indices the expression reads. */
  variables: Set<number>;
}

/** Longest target expression: far above any formula a person writes, small enough to parse and check at once. */
export const MAX_EXPRESSION_LENGTH = 10_000;
/** Deepest nesting of brackets: the parser and the checks recurse once per level. */
export const MAX_EXPRESSION_NESTING = 100;

function expressionSizeError(text: string): ExpressionError | undefined {
  if (text.length > MAX_EXPRESSION_LENGTH) {
    return {
      message: `the expression is ${text.length} characters long, more than the ${MAX_EXPRESSION_LENGTH} a target may have`,
      code: 'expression-too-long',
      offset: 0,
      length: text.length,
    };
  }
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '(' || ch === '[') depth++;
    else if (ch === ')' || ch === ']') depth--;
    if (depth > MAX_EXPRESSION_NESTING) {
      return {
        message: `the expression nests brackets more than ${MAX_EXPRESSION_NESTING} deep; write it with fewer levels`,
        code: 'expression-too-deep',
        offset: i,
        length: 1,
      };
    }
  }
  return undefined;
}

/** The parser or checker ran out of stack: say so in words, not as a JavaScript error. */
function tooDeep(text: string): ExpressionError {
  return {
    message: 'the expression is nested too deeply to check (too many operators in a chain or levels of brackets); write it in fewer levels',
    code: 'expression-too-deep',
    offset: 0,
    length: Math.max(1, text.length),
  };
}

/**
 * Parses `text` as a function of x0..x{inputDim-1}. Anything outside arithmetic, the whitelisted
 * functions and the constants pi, e is rejected with the offending text's offset.
 */
export function parseExpression(text: string, inputDim: number): ParseResult {
  const variables = new Set<number>();
  if (text.trim().length === 0) {
    return {
      errors: [{ message: 'the expression is empty', code: 'expression-syntax', offset: 0, length: Math.max(1, text.length) }],
      variables,
    };
  }
  const tooBig = expressionSizeError(text);
  if (tooBig) return { errors: [tooBig], variables };
  let root: MathNode;
  try {
    root = math.parse(text) as MathNode;
  } catch (err) {
    if (err instanceof RangeError) return { errors: [tooDeep(text)], variables };
    const char = (err as { char?: number }).char;
    const offset = typeof char === 'number' ? Math.min(Math.max(0, char - 1), Math.max(0, text.length - 1)) : 0;
    const message = err instanceof Error ? err.message.replace(/\s*\(char \d+\)$/, '') : String(err);
    return { errors: [{ message: `cannot parse expression: ${message}`, code: 'expression-syntax', offset, length: 1 }], variables };
  }

  const errors: ExpressionError[] = [];
  const seen = new Map<string, number>();
  const fail = (message: string, needle: string): undefined => {
    const occurrence = seen.get(needle) ?? 0;
    const code = message.startsWith('unknown variable')
      ? 'unknown-variable'
      : message.startsWith('unknown function')
        ? 'unknown-function'
        : 'forbidden-expression';
    errors.push({ message, code, ...locate(text, needle, occurrence) });
    return undefined;
  };
  const bump = (needle: string): void => {
    seen.set(needle, (seen.get(needle) ?? 0) + 1);
  };
  const validNames = (): string => (inputDim === 1 ? 'x0' : `x0..x${inputDim - 1}`);

  const walk = (node: MathNode): Expr | undefined => {
    const n = node as MathNode & Record<string, unknown>;
    switch (node.type) {
      case 'ConstantNode': {
        const value = n.value;
        if (typeof value !== 'number') {
          return fail(`only numbers are allowed, not ${JSON.stringify(value)}`, typeof value === 'string' ? String(value) : String(value));
        }
        if (!Number.isFinite(value)) return fail(`the number ${String(n.toString())} is not finite`, String(n.toString()));
        return { kind: 'constant', value };
      }
      case 'SymbolNode': {
        const name = String(n.name);
        const match = /^x(0|[1-9]\d*)$/.exec(name);
        if (match) {
          const index = Number(match[1]);
          if (index >= inputDim) {
            const result = fail(
              `unknown variable '${name}': the input has ${inputDim} dimension${inputDim === 1 ? '' : 's'}, use ${validNames()}`,
              name,
            );
            bump(name);
            return result;
          }
          bump(name);
          variables.add(index);
          return { kind: 'variable', index };
        }
        if (Object.prototype.hasOwnProperty.call(CONSTANTS, name)) {
          bump(name);
          return { kind: 'constant', value: CONSTANTS[name] };
        }
        const hint = isFunctionName(name) ? ` ('${name}' is a function: call it as ${name}(...))` : `; use ${validNames()}, pi or e`;
        const result = fail(`unknown variable '${name}'${hint}`, name);
        bump(name);
        return result;
      }
      case 'ParenthesisNode':
        return walk(n.content as MathNode);
      case 'OperatorNode': {
        const fn = String(n.fn);
        const args = n.args as MathNode[];
        if (args.length === 1 && (fn === 'unaryMinus' || fn === 'unaryPlus')) {
          const arg = walk(args[0]);
          return arg && { kind: 'unary', op: fn === 'unaryMinus' ? '-' : '+', arg };
        }
        const op = BINARY_OPERATORS[fn];
        if (!op || args.length !== 2) return fail(`operator '${String(n.op)}' is not allowed (use + - * / ^ %)`, String(n.op));
        const left = walk(args[0]);
        const right = walk(args[1]);
        return left && right && { kind: 'binary', op, left, right };
      }
      case 'FunctionNode': {
        const fnNode = n.fn as MathNode & Record<string, unknown>;
        if (fnNode.type !== 'SymbolNode') {
          const shown = fnNode.toString();
          return fail(`calling '${shown}' is not allowed: only the functions ${FUNCTION_NAMES.join(', ')}`, shown);
        }
        const name = String(fnNode.name);
        if (!isFunctionName(name)) {
          const result = fail(`unknown function '${name}': allowed are ${FUNCTION_NAMES.join(', ')}`, name);
          bump(name);
          return result;
        }
        const [minArgs, maxArgs] = FUNCTIONS[name];
        const args = n.args as MathNode[];
        if (args.length < minArgs || args.length > maxArgs) {
          const expected = minArgs === maxArgs ? `${minArgs}` : `at least ${minArgs}`;
          const result = fail(`${name} takes ${expected} argument${minArgs === 1 && maxArgs === 1 ? '' : 's'}, got ${args.length}`, name);
          bump(name);
          return result;
        }
        bump(name);
        const checked = args.map(walk);
        if (checked.some((a) => a === undefined)) return undefined;
        return { kind: 'call', fn: name, args: checked as Expr[] };
      }
      case 'AccessorNode': {
        const shown = node.toString();
        const property = /\.(\w+)$/.exec(shown)?.[1];
        return fail(`property access '${shown}' is not allowed`, property ? `.${property}` : shown);
      }
      case 'AssignmentNode':
      case 'FunctionAssignmentNode':
        return fail('assignments are not allowed in an expression', '=');
      case 'ArrayNode':
      case 'IndexNode':
        return fail('matrices and indexing are not allowed in an expression', '[');
      case 'ObjectNode':
        return fail('objects are not allowed in an expression', '{');
      case 'BlockNode':
        return fail('only one expression is allowed (no ; or line breaks)', text.includes(';') ? ';' : '\n');
      case 'ConditionalNode':
        return fail('conditionals (a ? b : c) are not allowed; use min, max, abs or sign', '?');
      case 'RangeNode':
        return fail('ranges (a:b) are not allowed', ':');
      case 'RelationalNode':
        return fail('comparisons are not allowed in an expression', node.toString());
      default:
        return fail(`'${node.toString()}' is not allowed in an expression`, node.toString());
    }
  };

  let expr: Expr | undefined;
  try {
    expr = walk(root);
  } catch (err) {
    if (err instanceof RangeError) return { errors: [tooDeep(text)], variables };
    errors.push({
      message: `cannot check expression: ${err instanceof Error ? err.message : String(err)}`,
      code: 'forbidden-expression',
      offset: 0,
      length: Math.max(1, text.length),
    });
  }
  return errors.length === 0 && expr ? { expr, errors, variables } : { errors, variables };
}

type Compiled = (x: ArrayLike<number>) => number;

function compileBinary(op: '+' | '-' | '*' | '/' | '^' | '%', left: Compiled, right: Compiled): Compiled {
  switch (op) {
    case '+':
      return (x) => left(x) + right(x);
    case '-':
      return (x) => left(x) - right(x);
    case '*':
      return (x) => left(x) * right(x);
    case '/':
      return (x) => left(x) / right(x);
    case '^':
      return (x) => Math.pow(left(x), right(x));
    case '%':
      // mathjs's mod: the result takes the sign of the divisor.
      return (x) => {
        const b = right(x);
        const a = left(x);
        return b === 0 ? a : a - b * Math.floor(a / b);
      };
  }
}

/** Builds a plain JS closure over the checked tree. */
export function compileExpression(expr: Expr): (x: ArrayLike<number>) => number {
  switch (expr.kind) {
    case 'constant': {
      const value = expr.value;
      return () => value;
    }
    case 'variable': {
      const index = expr.index;
      return (x) => x[index];
    }
    case 'unary': {
      const arg = compileExpression(expr.arg);
      return expr.op === '-' ? (x) => -arg(x) : arg;
    }
    case 'binary':
      return compileBinary(expr.op, compileExpression(expr.left), compileExpression(expr.right));
    case 'call': {
      const impl = FUNCTIONS[expr.fn][2] as (...args: number[]) => number;
      const args = expr.args.map(compileExpression);
      if (args.length === 1) {
        const a = args[0];
        return (x) => impl(a(x));
      }
      if (args.length === 2) {
        const [a, b] = args;
        return (x) => impl(a(x), b(x));
      }
      return (x) => impl(...args.map((a) => a(x)));
    }
  }
}

/** Parses and compiles in one go; throws an Error naming the expression when it is invalid. */
export function compileTarget(text: string, inputDim: number): (x: ArrayLike<number>) => number {
  const parsed = parseExpression(text, inputDim);
  if (!parsed.expr) {
    const first = parsed.errors[0];
    throw new Error(`target '${text}': ${first ? `${first.message} (at character ${first.offset + 1})` : 'invalid expression'}`);
  }
  return compileExpression(parsed.expr);
}

/** Describes the first point where `fn` is not finite, or undefined when all points give finite values. */
export function findNonFinite(
  fn: (x: ArrayLike<number>) => number,
  points: ArrayLike<number>[],
): { x: number[]; value: number } | undefined {
  for (const point of points) {
    const value = fn(point);
    if (!Number.isFinite(value)) return { x: Array.from(point), value };
  }
  return undefined;
}

export function formatPoint(x: ArrayLike<number>): string {
  return `[${Array.from(x, (v) => Number(v.toPrecision(6))).join(', ')}]`;
}
