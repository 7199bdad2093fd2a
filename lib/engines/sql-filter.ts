/**
 * Row filters: a user-supplied boolean SQL expression over one table's columns (the seed's
 * "SQL row filter"), accepted only when it is provably nothing more than that.
 *
 * A small tokenizer and a recursive-descent parser build a tree out of a deliberately tiny
 * grammar (comparisons, AND/OR/NOT, IN lists, BETWEEN, LIKE, IS [NOT] NULL, arithmetic, literals,
 * column names, parentheses, and a few pure functions), and the tree is printed back as
 * canonical SQL for one dialect: every column name quoted, every string literal re-quoted, every
 * operator parenthesised. Nothing of the input text reaches the database unparsed, so
 * statements (`;`), comments (`--`, `#`, `/* *\/`, MySQL `/*! *\/`), subqueries, `UNION`, `INTO`,
 * variables (`@x`, `@@x`), placeholders, casts, dollar quoting and backslash escapes cannot get
 * through. Any bare word that is not one of the grammar's keywords becomes a quoted column name,
 * so `current_user` or `sleep` without parentheses can only ever name a column.
 */
import { InvalidParameterError } from '../errors.js';

export type FilterDialect = 'mysql' | 'postgresql';

/** Longest filter accepted, in characters. */
const MAX_LENGTH = 8000;
/** Deepest nesting accepted (parentheses, NOT chains), so a hostile input cannot blow the stack. */
const MAX_DEPTH = 64;

/** Pure functions a filter may call; they exist with the same meaning in MySQL and PostgreSQL. */
const FUNCTIONS = new Set(['LOWER', 'UPPER', 'COALESCE', 'ABS', 'CHAR_LENGTH', 'LENGTH', 'ROUND', 'FLOOR', 'CEIL']);

/** Words of the grammar. */
const KEYWORDS = new Set(['AND', 'OR', 'NOT', 'IN', 'BETWEEN', 'LIKE', 'IS', 'NULL', 'TRUE', 'FALSE']);

/** Bare words rejected outright with a clear message (they could only be an attempt at more than a filter). */
const FORBIDDEN = new Set([
  'SELECT', 'UNION', 'INTO', 'FROM', 'WHERE', 'INSERT', 'UPDATE', 'DELETE', 'REPLACE', 'DROP', 'CREATE', 'ALTER', 'TRUNCATE',
  'RENAME', 'GRANT', 'REVOKE', 'EXEC', 'EXECUTE', 'CALL', 'DO', 'HANDLER', 'LOAD', 'OUTFILE', 'DUMPFILE', 'SET', 'EXISTS',
  'ALL', 'ANY', 'SOME', 'LIMIT', 'OFFSET', 'ORDER', 'GROUP', 'HAVING', 'WITH', 'RETURNING', 'COPY', 'VALUES', 'TABLE',
  'PROCEDURE', 'LOCK', 'UNLOCK', 'SHUTDOWN', 'KILL', 'PREPARE', 'DEALLOCATE', 'DECLARE', 'BEGIN', 'COMMIT', 'ROLLBACK',
  'SAVEPOINT', 'ESCAPE', 'CASE', 'WHEN', 'THEN', 'ELSE', 'END', 'SLEEP', 'BENCHMARK', 'PG_SLEEP', 'WAITFOR', 'DELAY',
]);

type Token =
  | { t: 'num'; v: string; at: number }
  | { t: 'str'; v: string; at: number }
  | { t: 'word'; v: string; at: number }
  | { t: 'qid'; v: string; at: number }
  | { t: 'op'; v: string; at: number }
  | { t: 'end'; at: number };

type Node =
  | { k: 'lit'; sql: string }
  | { k: 'str'; v: string }
  | { k: 'col'; name: string; quoted: boolean }
  | { k: 'fn'; name: string; args: Node[] }
  | { k: 'neg'; e: Node }
  | { k: 'bin'; op: string; l: Node; r: Node }
  | { k: 'not'; e: Node }
  | { k: 'is'; e: Node; not: boolean; what: 'NULL' | 'TRUE' | 'FALSE' }
  | { k: 'in'; e: Node; not: boolean; list: Node[] }
  | { k: 'between'; e: Node; not: boolean; lo: Node; hi: Node }
  | { k: 'like'; e: Node; not: boolean; pattern: Node };

function reject(reason: string): never {
  throw new InvalidParameterError('where', `the row filter ${reason}. Use a boolean expression over the table's columns (comparisons, AND/OR/NOT, IN, BETWEEN, LIKE, IS NULL).`);
}

function tokenize(src: string, dialect: FilterDialect | undefined): Token[] {
  const out: Token[] = [];
  let i = 0;
  const isWordStart = (c: string) => /[\p{L}_]/u.test(c);
  const isWordPart = (c: string) => /[\p{L}\p{N}_]/u.test(c);
  while (i < src.length) {
    const c = src[i]!;
    const at = i;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === '\\') reject(`contains a backslash at position ${at}`);
    if (c === '\0') reject('contains a NUL character');
    if ((c === '-' && src[i + 1] === '-') || c === '#' || (c === '/' && src[i + 1] === '*') || (c === '*' && src[i + 1] === '/')) {
      reject(`contains a comment at position ${at}`);
    }
    if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(src[i + 1] ?? ''))) {
      const m = /^(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?/.exec(src.slice(i))!;
      i += m[0].length;
      if (i < src.length && (isWordPart(src[i]!) || src[i] === '.' || src[i] === '$')) reject(`has a malformed number at position ${at}`);
      out.push({ t: 'num', v: m[0], at });
      continue;
    }
    // String literal: '...' (and "..." in MySQL), quote doubled to escape it. No backslashes.
    if (c === "'" || (c === '"' && dialect === 'mysql')) {
      let v = '';
      i++;
      for (;;) {
        if (i >= src.length) reject(`has an unterminated string starting at position ${at}`);
        const d = src[i]!;
        if (d === '\\') reject(`contains a backslash at position ${i}`);
        if (d === '\0') reject('contains a NUL character');
        if (d === c) {
          if (src[i + 1] === c) {
            v += c;
            i += 2;
            continue;
          }
          i++;
          break;
        }
        v += d;
        i++;
      }
      out.push({ t: 'str', v, at });
      continue;
    }
    // Quoted identifier: `...` (every dialect: PostgreSQL has no other use for backticks, so a filter
    // already printed for MySQL still reads the same) or "..." (PostgreSQL, and the default), quote doubled to escape it.
    if (c === '`' || (c === '"' && dialect !== 'mysql')) {
      let v = '';
      i++;
      for (;;) {
        if (i >= src.length) reject(`has an unterminated quoted name starting at position ${at}`);
        const d = src[i]!;
        if (d === '\0') reject('contains a NUL character');
        if (d === c) {
          if (src[i + 1] === c) {
            v += c;
            i += 2;
            continue;
          }
          i++;
          break;
        }
        v += d;
        i++;
      }
      if (v.length === 0) reject(`has an empty quoted name at position ${at}`);
      out.push({ t: 'qid', v, at });
      continue;
    }
    if (isWordStart(c)) {
      let j = i + 1;
      while (j < src.length && isWordPart(src[j]!)) j++;
      const word = src.slice(i, j);
      if (FORBIDDEN.has(word.toUpperCase())) reject(`uses the keyword ${word.toUpperCase()}, which a row filter cannot contain`);
      out.push({ t: 'word', v: word, at });
      i = j;
      continue;
    }
    const two = src.slice(i, i + 2);
    if (two === '<=' || two === '>=' || two === '<>' || two === '!=') {
      if (two === '<=' && src[i + 2] === '>') reject(`uses the operator <=> at position ${at}`);
      out.push({ t: 'op', v: two, at });
      i += 2;
      continue;
    }
    if ('=<>+-*/%(),'.includes(c)) {
      out.push({ t: 'op', v: c, at });
      i++;
      continue;
    }
    if (c === ';') reject(`contains ";" at position ${at}: only one expression is allowed`);
    if (c === '@') reject(`contains "@" at position ${at}: variables are not allowed`);
    reject(`contains the character ${JSON.stringify(c)} at position ${at}, which is not allowed`);
  }
  out.push({ t: 'end', at: src.length });
  return out;
}

class Parser {
  private i = 0;
  private depth = 0;
  constructor(private readonly toks: Token[]) {}

  parse(): Node {
    const n = this.or();
    const t = this.peek();
    if (t.t !== 'end') reject(`has unexpected ${describe(t)} at position ${t.at}`);
    return n;
  }

  private peek(): Token {
    return this.toks[this.i]!;
  }
  private next(): Token {
    return this.toks[this.i++]!;
  }
  private isKw(word: string, t: Token = this.peek()): boolean {
    return t.t === 'word' && t.v.toUpperCase() === word;
  }
  private isOp(op: string, t: Token = this.peek()): boolean {
    return t.t === 'op' && t.v === op;
  }
  private expectOp(op: string): void {
    const t = this.next();
    if (!this.isOp(op, t)) reject(`expects "${op}" at position ${t.at} but has ${describe(t)}`);
  }
  private enter(): void {
    if (++this.depth > MAX_DEPTH) reject(`is nested more than ${MAX_DEPTH} levels deep`);
  }
  private leave(): void {
    this.depth--;
  }

  private or(): Node {
    this.enter();
    let l = this.and();
    while (this.isKw('OR')) {
      this.next();
      l = { k: 'bin', op: 'OR', l, r: this.and() };
    }
    this.leave();
    return l;
  }
  private and(): Node {
    let l = this.not();
    while (this.isKw('AND')) {
      this.next();
      l = { k: 'bin', op: 'AND', l, r: this.not() };
    }
    return l;
  }
  private not(): Node {
    if (this.isKw('NOT')) {
      this.next();
      this.enter();
      const e = this.not();
      this.leave();
      return { k: 'not', e };
    }
    return this.predicate();
  }
  private predicate(): Node {
    const e = this.additive();
    const t = this.peek();
    if (t.t === 'op' && ['=', '<>', '!=', '<', '<=', '>', '>='].includes(t.v)) {
      this.next();
      return { k: 'bin', op: t.v === '!=' ? '<>' : t.v, l: e, r: this.additive() };
    }
    if (this.isKw('IS')) {
      this.next();
      let not = false;
      if (this.isKw('NOT')) {
        this.next();
        not = true;
      }
      const w = this.next();
      const what = w.t === 'word' ? w.v.toUpperCase() : '';
      if (what !== 'NULL' && what !== 'TRUE' && what !== 'FALSE') reject(`expects NULL, TRUE or FALSE after IS at position ${w.at}`);
      return { k: 'is', e, not, what: what as 'NULL' | 'TRUE' | 'FALSE' };
    }
    let not = false;
    if (this.isKw('NOT')) {
      const after = this.toks[this.i + 1]!;
      if (!this.isKw('IN', after) && !this.isKw('BETWEEN', after) && !this.isKw('LIKE', after)) reject(`has NOT at position ${t.at} where IN, BETWEEN or LIKE must follow`);
      this.next();
      not = true;
    }
    if (this.isKw('IN')) {
      this.next();
      this.expectOp('(');
      const list = [this.additive()];
      while (this.isOp(',')) {
        this.next();
        list.push(this.additive());
      }
      this.expectOp(')');
      return { k: 'in', e, not, list };
    }
    if (this.isKw('BETWEEN')) {
      this.next();
      const lo = this.additive();
      const and = this.next();
      if (!this.isKw('AND', and)) reject(`expects AND in BETWEEN at position ${and.at}`);
      return { k: 'between', e, not, lo, hi: this.additive() };
    }
    if (this.isKw('LIKE')) {
      this.next();
      return { k: 'like', e, not, pattern: this.additive() };
    }
    return e;
  }
  private additive(): Node {
    let l = this.term();
    while (this.isOp('+') || this.isOp('-')) {
      const op = this.next() as { v: string };
      l = { k: 'bin', op: op.v, l, r: this.term() };
    }
    return l;
  }
  private term(): Node {
    let l = this.unary();
    while (this.isOp('*') || this.isOp('/') || this.isOp('%')) {
      const op = this.next() as { v: string };
      l = { k: 'bin', op: op.v, l, r: this.unary() };
    }
    return l;
  }
  private unary(): Node {
    if (this.isOp('-') || this.isOp('+')) {
      const neg = this.next() as { v: string };
      this.enter();
      const e = this.unary();
      this.leave();
      return neg.v === '-' ? { k: 'neg', e } : e;
    }
    return this.primary();
  }
  private primary(): Node {
    const t = this.next();
    switch (t.t) {
      case 'num':
        return { k: 'lit', sql: t.v };
      case 'str':
        return { k: 'str', v: t.v };
      case 'qid':
        if (this.isOp('(')) reject(`calls a function at position ${t.at}`);
        return { k: 'col', name: t.v, quoted: true };
      case 'word': {
        const upper = t.v.toUpperCase();
        if (upper === 'NULL' || upper === 'TRUE' || upper === 'FALSE') return { k: 'lit', sql: upper };
        if (KEYWORDS.has(upper)) reject(`has ${upper} at position ${t.at} where a value is expected`);
        if (this.isOp('(')) {
          if (!FUNCTIONS.has(upper)) reject(`calls the function ${t.v}(), which is not allowed (allowed: ${[...FUNCTIONS].join(', ')})`);
          this.next();
          this.enter();
          const args = [this.additive()];
          while (this.isOp(',')) {
            this.next();
            args.push(this.additive());
          }
          this.expectOp(')');
          this.leave();
          return { k: 'fn', name: upper, args };
        }
        return { k: 'col', name: t.v, quoted: false };
      }
      case 'op':
        if (t.v === '(') {
          this.enter();
          const e = this.or();
          this.expectOp(')');
          this.leave();
          return e;
        }
        return reject(`has unexpected "${t.v}" at position ${t.at}`);
      default:
        return reject('ends where a value is expected');
    }
  }
}

function describe(t: Token): string {
  return t.t === 'end' ? 'the end of the expression' : `"${t.v}"`;
}

/** Column names as printed; `rename` maps them (undefined: the column is gone, DroppedColumn is thrown). */
type Rename = (name: string) => string | undefined;
class DroppedColumn extends Error {}

function print(n: Node, d: FilterDialect, rename?: Rename): string {
  const p = (x: Node) => print(x, d, rename);
  switch (n.k) {
    case 'lit':
      return n.sql;
    case 'str':
      return `'${n.v.replace(/'/g, "''")}'`;
    case 'col': {
      // PostgreSQL folds unquoted names to lower case; MySQL column names are case-insensitive.
      let name: string | undefined = d === 'postgresql' && !n.quoted ? n.name.toLowerCase() : n.name;
      if (rename) name = rename(name);
      if (name === undefined) throw new DroppedColumn();
      return d === 'mysql' ? '`' + name.replace(/`/g, '``') + '`' : '"' + name.replace(/"/g, '""') + '"';
    }
    case 'fn':
      return `${n.name}(${n.args.map(p).join(', ')})`;
    case 'neg':
      return `(- ${p(n.e)})`;
    case 'bin':
      return `(${p(n.l)} ${n.op} ${p(n.r)})`;
    case 'not':
      return `(NOT ${p(n.e)})`;
    case 'is':
      return `(${p(n.e)} IS ${n.not ? 'NOT ' : ''}${n.what})`;
    case 'in':
      return `(${p(n.e)} ${n.not ? 'NOT ' : ''}IN (${n.list.map(p).join(', ')}))`;
    case 'between':
      return `(${p(n.e)} ${n.not ? 'NOT ' : ''}BETWEEN ${p(n.lo)} AND ${p(n.hi)})`;
    case 'like':
      return `(${p(n.e)} ${n.not ? 'NOT ' : ''}LIKE ${p(n.pattern)})`;
  }
}

/**
 * A row filter over the source's columns, for a table whose columns the job renames: canonical SQL
 * of `dialect` with each column name passed through `rename`. Undefined when it names a column
 * `rename` drops (returns undefined for).
 */
export function renameFilterColumns(expr: string, dialect: FilterDialect, rename: Rename): string | undefined {
  validateRowFilter(expr, dialect);
  try {
    return print(new Parser(tokenize(expr, dialect)).parse(), dialect, rename);
  } catch (e) {
    if (e instanceof DroppedColumn) return undefined;
    throw e;
  }
}

/**
 * Validate a row filter and return it as canonical SQL for `dialect` (default MySQL), safe to
 * embed in a WHERE clause. Throws InvalidParameterError (field `where`) naming what is wrong.
 *
 * Quoting follows the dialect: in MySQL `"..."` is a string and `` `...` `` a column; in
 * PostgreSQL `"..."` is a column. Without a dialect both quote styles are read as column names,
 * which accepts and rejects exactly the same inputs.
 */
export function validateRowFilter(expr: string, dialect?: FilterDialect): string {
  if (typeof expr !== 'string' || expr.trim() === '') reject('is empty');
  if (expr.length > MAX_LENGTH) reject(`is longer than ${MAX_LENGTH} characters`);
  const tree = new Parser(tokenize(expr, dialect)).parse();
  return print(tree, dialect ?? 'mysql');
}
