/**
 * A small evaluator of CloudWatch metric math over aligned periods: enough for alarms and `GetMetricData`
 * queries built by CDK (`FILL(failed, 0) + FILL(timedOut, 0)`). A series is one value per period, oldest
 * first, `undefined` where the period has no data. Supported: numbers, metric ids, `+ - * / ^`, comparisons
 * (`== != < <= > >=`, giving 1 or 0), `AND`/`&&`, `OR`/`||`, parentheses, lists `[a, b]`, and `FILL`,
 * `ABS`, `CEIL`, `FLOOR`, `IF`, `SUM`, `AVG`, `MIN`, `MAX` (over a list: per period; over one series: its
 * value over all periods). Anything else (SEARCH, METRICS(), ANOMALY_DETECTION_BAND, ...) is a
 * {@link MetricMathError}.
 */
import { MetricMathError } from './errors.ts';

export type Series = (number | undefined)[];

type Value =
  | { kind: 'series'; data: Series }
  | { kind: 'scalar'; value: number }
  | { kind: 'list'; items: Value[] };

type Token =
  | { kind: 'number'; value: number }
  | { kind: 'name'; value: string }
  | { kind: 'symbol'; value: string };

function tokenize(expression: string): Token[] {
  const tokens: Token[] = [];
  const pattern =
    /\s*(?:(\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+)|([A-Za-z_][A-Za-z0-9_]*)|(==|!=|<=|>=|&&|\|\||[-+*/^()<>,[\]]))/y;
  let index = 0;
  while (index < expression.length) {
    if (/^\s*$/.test(expression.slice(index))) break;
    pattern.lastIndex = index;
    const match = pattern.exec(expression);
    if (!match)
      throw new MetricMathError(expression, `unexpected text at ${JSON.stringify(expression.slice(index))}`);
    index = pattern.lastIndex;
    if (match[1] !== undefined) tokens.push({ kind: 'number', value: Number(match[1]) });
    else if (match[2] !== undefined) tokens.push({ kind: 'name', value: match[2] });
    else tokens.push({ kind: 'symbol', value: match[3]! });
  }
  return tokens;
}

const BINARY: Record<string, { precedence: number; right?: boolean }> = {
  '||': { precedence: 1 },
  OR: { precedence: 1 },
  '&&': { precedence: 2 },
  AND: { precedence: 2 },
  '==': { precedence: 3 },
  '!=': { precedence: 3 },
  '<': { precedence: 4 },
  '<=': { precedence: 4 },
  '>': { precedence: 4 },
  '>=': { precedence: 4 },
  '+': { precedence: 5 },
  '-': { precedence: 5 },
  '*': { precedence: 6 },
  '/': { precedence: 6 },
  '^': { precedence: 7, right: true },
};

/**
 * Evaluates `expression` with the series of the metric ids it names; every series has `periods` values.
 *
 * @throws MetricMathError for syntax it cannot read, unknown ids and unsupported functions
 *
 * @example
 * ```ts
 * evaluateMetricMath('FILL(a, 0) + b', { a: [undefined, 1], b: [2, 3] }, 2); // [2, 4]
 * ```
 */
export function evaluateMetricMath(
  expression: string,
  series: Readonly<Record<string, Series>>,
  periods: number,
): Series {
  const tokens = tokenize(expression);
  let position = 0;
  const fail = (reason: string): never => {
    throw new MetricMathError(expression, reason);
  };
  const peek = () => tokens[position];
  const take = (symbol: string) => {
    const token = tokens[position];
    if (token?.kind !== 'symbol' || token.value !== symbol) fail(`expected ${symbol}`);
    position += 1;
  };

  const operatorAt = (): string | undefined => {
    const token = peek();
    if (token?.kind === 'symbol' && token.value in BINARY) return token.value;
    if (token?.kind === 'name' && (token.value === 'AND' || token.value === 'OR')) return token.value;
    return undefined;
  };

  const parse = (minimum: number): Value => {
    let left = unary();
    for (;;) {
      const operator = operatorAt();
      if (operator === undefined) return left;
      const { precedence, right } = BINARY[operator]!;
      if (precedence < minimum) return left;
      position += 1;
      const rhs = parse(right ? precedence : precedence + 1);
      left = combine([left, rhs], ([a, b]) => binary(operator, a!, b!));
    }
  };

  const unary = (): Value => {
    const token = peek();
    if (token?.kind === 'symbol' && token.value === '-') {
      position += 1;
      return combine([unary()], ([a]) => -a!);
    }
    return primary();
  };

  const primary = (): Value => {
    const token = peek();
    if (!token) return fail('unexpected end');
    position += 1;
    if (token.kind === 'number') return { kind: 'scalar', value: token.value };
    if (token.kind === 'symbol' && token.value === '(') {
      const value = parse(0);
      take(')');
      return value;
    }
    if (token.kind === 'symbol' && token.value === '[') {
      const items = [parse(0)];
      while (peek()?.kind === 'symbol' && peek()!.value === ',') {
        position += 1;
        items.push(parse(0));
      }
      take(']');
      return { kind: 'list', items };
    }
    if (token.kind !== 'name') return fail(`unexpected ${token.value}`);
    const next = peek();
    if (next?.kind === 'symbol' && next.value === '(') {
      position += 1;
      const args: Value[] = [];
      if (!(peek()?.kind === 'symbol' && peek()!.value === ')')) {
        args.push(parse(0));
        while (peek()?.kind === 'symbol' && peek()!.value === ',') {
          position += 1;
          args.push(parse(0));
        }
      }
      take(')');
      return call(token.value, args);
    }
    const data = series[token.value];
    if (!data) return fail(`unknown metric id ${token.value}`);
    return { kind: 'series', data };
  };

  const asSeries = (value: Value): Series => {
    if (value.kind === 'series') return value.data;
    if (value.kind === 'scalar') return Array.from({ length: periods }, () => value.value);
    return fail('a list is not a series');
  };

  /** Applies `apply` period by period; a missing operand gives a missing value. */
  const combine = (values: Value[], apply: (operands: number[]) => number): Value => {
    if (values.every((value) => value.kind === 'scalar')) {
      return { kind: 'scalar', value: apply(values.map((value) => (value as { value: number }).value)) };
    }
    const columns = values.map(asSeries);
    return {
      kind: 'series',
      data: Array.from({ length: periods }, (_, i) => {
        const operands = columns.map((column) => column[i]);
        if (operands.some((operand) => operand === undefined)) return undefined;
        const result = apply(operands as number[]);
        return Number.isFinite(result) ? result : undefined;
      }),
    };
  };

  const aggregate = (name: string, numbers: number[]): number | undefined => {
    if (numbers.length === 0) return undefined;
    switch (name) {
      case 'SUM':
        return numbers.reduce((a, b) => a + b, 0);
      case 'AVG':
        return numbers.reduce((a, b) => a + b, 0) / numbers.length;
      case 'MIN':
        return Math.min(...numbers);
      default:
        return Math.max(...numbers);
    }
  };

  const call = (name: string, args: Value[]): Value => {
    const arity = (count: number) => {
      if (args.length !== count) fail(`${name} takes ${count} argument${count === 1 ? '' : 's'}`);
    };
    switch (name) {
      case 'FILL': {
        arity(2);
        const fill = args[1]!;
        if (fill.kind !== 'scalar') return fail('FILL takes a number as its second argument');
        return { kind: 'series', data: asSeries(args[0]!).map((value) => value ?? fill.value) };
      }
      case 'ABS':
      case 'CEIL':
      case 'FLOOR': {
        arity(1);
        const apply = name === 'ABS' ? Math.abs : name === 'CEIL' ? Math.ceil : Math.floor;
        return combine([args[0]!], ([a]) => apply(a!));
      }
      case 'IF': {
        if (args.length !== 2 && args.length !== 3) fail('IF takes 2 or 3 arguments');
        const condition = asSeries(args[0]!);
        const whenTrue = asSeries(args[1]!);
        const whenFalse = args[2] ? asSeries(args[2]) : undefined;
        return {
          kind: 'series',
          data: condition.map((value, i) =>
            value === undefined ? undefined : value !== 0 ? whenTrue[i] : whenFalse?.[i],
          ),
        };
      }
      case 'SUM':
      case 'AVG':
      case 'MIN':
      case 'MAX': {
        arity(1);
        const argument = args[0]!;
        if (argument.kind === 'list') {
          const columns = argument.items.map(asSeries);
          return {
            kind: 'series',
            data: Array.from({ length: periods }, (_, i) =>
              aggregate(
                name,
                columns.map((column) => column[i]).filter((v): v is number => v !== undefined),
              ),
            ),
          };
        }
        const value = aggregate(
          name,
          asSeries(argument).filter((v): v is number => v !== undefined),
        );
        return value === undefined
          ? { kind: 'series', data: Array(periods).fill(undefined) }
          : { kind: 'scalar', value };
      }
    }
    return fail(`the function ${name} is not supported locally`);
  };

  const result = parse(0);
  if (position !== tokens.length) fail(`unexpected ${JSON.stringify(tokens[position]?.value)}`);
  return asSeries(result);
}

function binary(operator: string, a: number, b: number): number {
  switch (operator) {
    case '+':
      return a + b;
    case '-':
      return a - b;
    case '*':
      return a * b;
    case '/':
      return a / b;
    case '^':
      return a ** b;
    case '==':
      return a === b ? 1 : 0;
    case '!=':
      return a !== b ? 1 : 0;
    case '<':
      return a < b ? 1 : 0;
    case '<=':
      return a <= b ? 1 : 0;
    case '>':
      return a > b ? 1 : 0;
    case '>=':
      return a >= b ? 1 : 0;
    case '&&':
    case 'AND':
      return a !== 0 && b !== 0 ? 1 : 0;
    default:
      return a !== 0 || b !== 0 ? 1 : 0;
  }
}
