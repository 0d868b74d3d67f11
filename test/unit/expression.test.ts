import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileExpression, compileTarget, findNonFinite, parseExpression } from '../../extension/police/spec/expression';

const firstError = (text: string, dim = 2) => {
  const result = parseExpression(text, dim);
  assert.equal(result.expr, undefined, `'${text}' must be rejected`);
  const error = result.errors[0];
  assert.ok(error, `'${text}' must give an error`);
  return { ...error, text: text.slice(error.offset, error.offset + error.length) };
};

describe('expressions', () => {
  it('evaluates arithmetic, functions and constants like Math', () => {
    const f = compileTarget(
      'cos(3*x0)*cos(x1) + atan2(x1, x0) - 2^x0 + max(x0, x1, 0.5) + sqrt(abs(x1)) * pi / e - sigmoid(x0) + tanh(-x1)',
      2,
    );
    const [a, b] = [0.3, -1.7];
    const expected =
      Math.cos(3 * a) * Math.cos(b) +
      Math.atan2(b, a) -
      2 ** a +
      Math.max(a, b, 0.5) +
      (Math.sqrt(Math.abs(b)) * Math.PI) / Math.E -
      1 / (1 + Math.exp(-a)) +
      Math.tanh(-b);
    assert.ok(Math.abs(f([a, b]) - expected) < 1e-12);
  });

  it('respects precedence: unary minus, power and implicit multiplication', () => {
    assert.equal(compileTarget('-x0^2', 1)([3]), -9);
    assert.equal(compileTarget('2x0 + 1', 1)([3]), 7);
    assert.equal(compileTarget('x0 % 3', 1)([-1]), 2);
    assert.equal(compileTarget('pow(x0, 3) / 2', 1)([2]), 4);
  });

  it('lists the variables it reads', () => {
    assert.deepEqual([...parseExpression('x2 * sin(x0)', 3).variables].sort(), [0, 2]);
  });

  it("rejects 'constructor' as an unknown variable", () => {
    const e = firstError('constructor');
    assert.match(e.message, /unknown variable 'constructor'/);
    assert.equal(e.text, 'constructor');
  });

  it('rejects process.exit() and names it', () => {
    const e = firstError('1 + process.exit()');
    assert.match(e.message, /process\.exit/);
    assert.equal(e.offset, 4);
  });

  it('rejects property access such as x0.constructor', () => {
    const e = firstError('sin(x0.constructor)');
    assert.match(e.message, /property access/);
    assert.equal(e.text, '.constructor');
    assert.equal(e.offset, 6);
  });

  it('rejects import(...) and other unknown functions', () => {
    const e = firstError('import("fs")');
    assert.match(e.message, /unknown function 'import'/);
    assert.equal(e.offset, 0);
    assert.match(firstError('x0 + eval(x1)').message, /unknown function 'eval'/);
    assert.equal(firstError('x0 + eval(x1)').code, 'unknown-function');
  });

  it('rejects an unknown variable x7 in 2-D at its offset', () => {
    const e = firstError('x0 + 2*x7');
    assert.equal(e.code, 'unknown-variable');
    assert.match(e.message, /x7.*2 dimensions.*x0\.\.x1/);
    assert.equal(e.offset, 7);
    assert.equal(e.length, 2);
  });

  it('points at the second occurrence when only that one is bad', () => {
    const result = parseExpression('a + x0 + a', 1);
    assert.deepEqual(
      result.errors.map((e) => e.offset),
      [0, 9],
    );
  });

  it('rejects strings, assignments, function definitions, matrices, objects, comparisons and blocks', () => {
    for (const text of ['"abc"', 'y = 1', 'f(x) = x', '[1, 2]', '{a: 1}', 'x0 > 1', 'x0; x1', 'x0 ? 1 : 2', 'x0:x1']) {
      firstError(text);
    }
  });

  it('reports syntax errors with a position', () => {
    const e = firstError('sin(x0');
    assert.equal(e.code, 'expression-syntax');
    assert.ok(e.offset >= 0 && e.offset <= 6);
    assert.equal(firstError('').code, 'expression-syntax');
  });

  it('huge exponents do not slip through: 10^1000 is Infinity and is reported', () => {
    const parsed = parseExpression('x0 + 10^1000', 2);
    assert.ok(parsed.expr);
    const bad = findNonFinite(compileExpression(parsed.expr), [[0, 0]]);
    assert.equal(bad?.value, Infinity);
    assert.deepEqual(bad?.x, [0, 0]);
    assert.match(firstError('1e400').message, /not finite/);
  });

  it('compileTarget throws an error naming the expression', () => {
    assert.throws(() => compileTarget('x0 + x9', 2), /target 'x0 \+ x9': unknown variable 'x9'/);
  });
});
