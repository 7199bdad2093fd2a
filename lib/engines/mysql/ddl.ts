/**
 * MySQL/MariaDB DDL from the binlog: classify a statement, find the tables it names, and print it
 * back with those names replaced by the target's, token by token.
 *
 * A string replace cannot do this: names may be backtick-quoted (with doubled backticks and any
 * character inside), qualified or not, spread over whitespace and comments, and the same word may
 * also be a column, an index or a string literal. So the statement is tokenized (whitespace,
 * `--`/`#`/`/* *\/` comments, executable `/*! *\/` comments whose body is code, quoted identifiers,
 * strings with backslash escapes, numbers, words, punctuation), the grammar of the few statements
 * that change tables is walked over the significant tokens, and the rewrite replaces exactly the
 * token spans of table names; every other token is printed as it came.
 *
 * Recognised: CREATE TABLE (with LIKE and REFERENCES), ALTER TABLE (with RENAME TO and
 * REFERENCES), RENAME TABLE, TRUNCATE, DROP TABLE, CREATE INDEX, DROP INDEX. ALTER TABLE ...
 * EXCHANGE PARTITION / DISCARD or IMPORT TABLESPACE move rows without row events: `unknown`.
 * Statements that do not touch table rows or structure (views, routines, triggers, users, grants,
 * ANALYZE/OPTIMIZE, CREATE DATABASE, ...) are `ignore`; statement-based DML is `dml` (rows that
 * ROW format would have carried); anything else is `unknown` and the applier refuses it.
 *
 * Not handled: ANSI_QUOTES (a double-quoted name is read as a string literal).
 */
import type { TableRef } from '../engine.js';
import { qid } from './connection.js';

export type TokenKind = 'ws' | 'comment' | 'xopen' | 'xclose' | 'qident' | 'string' | 'number' | 'word' | 'punct';

export interface Token {
  kind: TokenKind;
  /** The token's source text, printed back unchanged unless rewritten. */
  text: string;
  /** Identifier value: the unquoted name of a `qident`, the text of a `word`. */
  value: string;
}

export class DdlSyntaxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DdlSyntaxError';
  }
}

const WORD = /[0-9A-Za-z_$\u0080-\uffff]/;

/** Split a statement into tokens; concatenating every token's text gives the statement back. */
export function tokenize(sql: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  let execDepth = 0;
  const push = (kind: TokenKind, end: number, value?: string) => {
    const text = sql.slice(i, end);
    out.push({ kind, text, value: value ?? text });
    i = end;
  };
  while (i < sql.length) {
    const c = sql[i]!;
    const n = sql[i + 1];
    if (/\s/.test(c)) {
      let j = i + 1;
      while (j < sql.length && /\s/.test(sql[j]!)) j++;
      push('ws', j);
    } else if (c === '#' || (c === '-' && n === '-' && (i + 2 >= sql.length || /\s/.test(sql[i + 2]!)))) {
      const j = sql.indexOf('\n', i);
      push('comment', j < 0 ? sql.length : j);
    } else if (c === '/' && n === '*') {
      const exec = /^\/\*M?!\d*/.exec(sql.slice(i, i + 10));
      if (exec) {
        execDepth++;
        push('xopen', i + exec[0].length);
      } else {
        const j = sql.indexOf('*/', i + 2);
        if (j < 0) throw new DdlSyntaxError('unterminated comment');
        push('comment', j + 2);
      }
    } else if (c === '*' && n === '/' && execDepth > 0) {
      execDepth--;
      push('xclose', i + 2);
    } else if (c === '`') {
      let j = i + 1;
      let value = '';
      for (;;) {
        if (j >= sql.length) throw new DdlSyntaxError('unterminated quoted identifier');
        if (sql[j] === '`') {
          if (sql[j + 1] === '`') {
            value += '`';
            j += 2;
            continue;
          }
          break;
        }
        value += sql[j];
        j++;
      }
      push('qident', j + 1, value);
    } else if (c === "'" || c === '"') {
      let j = i + 1;
      for (;;) {
        if (j >= sql.length) throw new DdlSyntaxError('unterminated string');
        if (sql[j] === '\\') {
          j += 2;
          continue;
        }
        if (sql[j] === c) {
          if (sql[j + 1] === c) {
            j += 2;
            continue;
          }
          break;
        }
        j++;
      }
      push('string', j + 1);
    } else if (WORD.test(c)) {
      let j = i + 1;
      while (j < sql.length && WORD.test(sql[j]!)) j++;
      // 1.5, 1e3, 1.5e-3 are numbers; 1abc is a name (MySQL allows names to start with a digit)
      const num = /^(\d+(\.\d*)?([eE][+-]?\d+)?|0x[0-9a-fA-F]+)(?![0-9A-Za-z_$\u0080-\uffff])/.exec(sql.slice(i, Math.max(j, i + 1) + 32));
      if (num && /^\d/.test(c)) push('number', i + num[0].length);
      else push('word', j);
    } else {
      push('punct', i + 1);
    }
  }
  return out;
}

export type DdlKind =
  | 'create_table'
  | 'alter_table'
  | 'rename_table'
  | 'truncate'
  | 'drop_table'
  | 'create_index'
  | 'drop_index'
  /** DROP DATABASE / SCHEMA. */
  | 'drop_database'
  /** BEGIN, COMMIT, ROLLBACK, XA, SAVEPOINT: transaction control, not DDL. */
  | 'tx'
  /** Statement-based INSERT/UPDATE/DELETE/REPLACE/LOAD: rows that ROW format would have carried. */
  | 'dml'
  /** Changes nothing a table copy carries (views, routines, triggers, users, grants, maintenance...). */
  | 'ignore'
  | 'unknown';

/** What a name is in the statement. */
export type NameRole =
  /** The table the statement changes (CREATE/ALTER/TRUNCATE/DROP/INDEX subject, RENAME source). */
  | 'subject'
  /** RENAME TABLE a TO b / ALTER TABLE a RENAME TO b: b. */
  | 'new_name'
  /** REFERENCES b, LIKE b: a table it reads or points to. */
  | 'referenced';

export interface NameSpan {
  ref: TableRef;
  role: NameRole;
  /** Index of the first and last token of the (possibly qualified) name. */
  from: number;
  to: number;
}

export interface ParsedDdl {
  kind: DdlKind;
  /** Every table name in the statement, in order (RENAME pairs alternate subject/new_name). */
  names: NameSpan[];
  /** For `drop_database`: the database. */
  database?: string;
  tokens: Token[];
  /** DROP ... TEMPORARY / CREATE TEMPORARY: ROW format never logs rows of temporary tables. */
  temporary?: boolean;
}

const SIGNIFICANT = new Set<TokenKind>(['qident', 'string', 'number', 'word', 'punct']);

const IGNORED_OBJECTS = new Set([
  'VIEW', 'TRIGGER', 'PROCEDURE', 'FUNCTION', 'EVENT', 'USER', 'ROLE', 'SERVER', 'SEQUENCE', 'PACKAGE', 'LOGFILE', 'TABLESPACE',
  'RESOURCE', 'SPATIAL_REFERENCE_SYSTEM', 'AGGREGATE', 'DEFINER', 'ALGORITHM', 'SQL', 'DATABASE', 'SCHEMA',
]);
const IGNORED_FIRST = new Set([
  'GRANT', 'REVOKE', 'SET', 'FLUSH', 'ANALYZE', 'OPTIMIZE', 'REPAIR', 'CHECK', 'CHECKSUM', 'SAVEPOINT', 'RELEASE', 'INSTALL', 'UNINSTALL',
  'RESET', 'PURGE', 'CHANGE', 'DO', 'USE', 'LOCK', 'UNLOCK', 'KILL', 'SHOW', 'SELECT', 'CALL', 'HELP', 'BINLOG',
]);

/** A cursor over the significant tokens (indexes into `tokens`). */
class Cursor {
  private readonly idx: number[];
  pos = 0;
  constructor(readonly tokens: Token[]) {
    this.idx = tokens.flatMap((t, i) => (SIGNIFICANT.has(t.kind) ? [i] : []));
  }
  get done(): boolean {
    return this.pos >= this.idx.length;
  }
  tokenIndex(at = this.pos): number {
    return this.idx[at] ?? this.tokens.length;
  }
  peek(ahead = 0): Token | undefined {
    const i = this.idx[this.pos + ahead];
    return i === undefined ? undefined : this.tokens[i];
  }
  /** Upper-cased keyword at `ahead`, or '' when that token is not a bare word. */
  kw(ahead = 0): string {
    const t = this.peek(ahead);
    return t?.kind === 'word' ? t.value.toUpperCase() : '';
  }
  isPunct(ch: string, ahead = 0): boolean {
    const t = this.peek(ahead);
    return t?.kind === 'punct' && t.text === ch;
  }
  accept(...words: string[]): boolean {
    if (words.includes(this.kw())) {
      this.pos++;
      return true;
    }
    return false;
  }
  acceptSeq(...words: string[]): boolean {
    for (let k = 0; k < words.length; k++) if (this.kw(k) !== words[k]) return false;
    this.pos += words.length;
    return true;
  }
  expect(...words: string[]): void {
    if (!this.accept(...words)) throw new DdlSyntaxError(`expected ${words.join(' or ')} near ${this.peek()?.text ?? 'end of statement'}`);
  }
  /** An identifier: a quoted name or any bare word. */
  ident(): { value: string; at: number } {
    const t = this.peek();
    if (!t || (t.kind !== 'qident' && t.kind !== 'word' && t.kind !== 'number')) throw new DdlSyntaxError(`expected a name near ${t?.text ?? 'end of statement'}`);
    const at = this.tokenIndex();
    this.pos++;
    return { value: t.value, at };
  }
}

/** `name` or `db.name`; unqualified names resolve to `defaultDb`. */
function tableName(cur: Cursor, defaultDb: string, role: NameRole): NameSpan {
  const first = cur.ident();
  if (cur.isPunct('.')) {
    cur.pos++;
    const second = cur.ident();
    return { ref: { db: first.value, table: second.value }, role, from: first.at, to: second.at };
  }
  if (!defaultDb) throw new DdlSyntaxError(`the table name ${first.value} is not qualified and the statement has no default database`);
  return { ref: { db: defaultDb, table: first.value }, role, from: first.at, to: first.at };
}

/** Names after REFERENCES (foreign keys), anywhere from here to the end. */
function scanReferences(cur: Cursor, defaultDb: string, names: NameSpan[], extra?: (cur: Cursor) => boolean): void {
  while (!cur.done) {
    if (extra?.(cur)) continue;
    if (cur.kw() === 'REFERENCES') {
      cur.pos++;
      names.push(tableName(cur, defaultDb, 'referenced'));
      continue;
    }
    cur.pos++;
  }
}

/**
 * Classify a statement from a binlog QUERY event and find its table names. `defaultDb` is the
 * event's default database (the session's `USE`). Throws DdlSyntaxError when a recognised
 * statement does not parse.
 */
export function parseDdl(statement: string, defaultDb: string): ParsedDdl {
  const tokens = tokenize(statement);
  const cur = new Cursor(tokens);
  const names: NameSpan[] = [];
  const result = (kind: DdlKind, extra: Partial<ParsedDdl> = {}): ParsedDdl => ({ kind, names, tokens, ...extra });
  const first = cur.kw();
  if (first === '') return result(cur.done ? 'ignore' : 'unknown');
  cur.pos++;

  switch (first) {
    case 'BEGIN':
    case 'COMMIT':
    case 'ROLLBACK':
    case 'XA':
    case 'START':
      return result('tx');
    case 'INSERT':
    case 'UPDATE':
    case 'DELETE':
    case 'REPLACE':
    case 'LOAD':
      return result('dml');
    case 'TRUNCATE': {
      cur.accept('TABLE');
      names.push(tableName(cur, defaultDb, 'subject'));
      return result('truncate');
    }
    case 'RENAME': {
      if (!cur.accept('TABLE', 'TABLES')) return result(IGNORED_OBJECTS.has(cur.kw()) ? 'ignore' : 'unknown');
      cur.acceptSeq('IF', 'EXISTS');
      for (;;) {
        names.push(tableName(cur, defaultDb, 'subject'));
        if (cur.accept('WAIT')) cur.pos++;
        cur.accept('NOWAIT');
        cur.expect('TO');
        names.push(tableName(cur, defaultDb, 'new_name'));
        if (!cur.isPunct(',')) break;
        cur.pos++;
      }
      return result('rename_table');
    }
    case 'DROP': {
      const temporary = cur.accept('TEMPORARY');
      if (cur.accept('TABLE', 'TABLES')) {
        cur.acceptSeq('IF', 'EXISTS');
        for (;;) {
          names.push(tableName(cur, defaultDb, 'subject'));
          if (!cur.isPunct(',')) break;
          cur.pos++;
        }
        return result('drop_table', { temporary });
      }
      if (cur.accept('INDEX', 'KEY')) {
        cur.accept('ONLINE', 'OFFLINE');
        cur.acceptSeq('IF', 'EXISTS');
        cur.ident();
        cur.expect('ON');
        names.push(tableName(cur, defaultDb, 'subject'));
        return result('drop_index');
      }
      if (cur.accept('DATABASE', 'SCHEMA')) {
        cur.acceptSeq('IF', 'EXISTS');
        return result('drop_database', { database: cur.ident().value });
      }
      return result(IGNORED_OBJECTS.has(cur.kw()) ? 'ignore' : 'unknown');
    }
    case 'CREATE': {
      cur.acceptSeq('OR', 'REPLACE');
      const temporary = cur.accept('TEMPORARY');
      if (cur.accept('TABLE')) {
        cur.acceptSeq('IF', 'NOT', 'EXISTS');
        names.push(tableName(cur, defaultDb, 'subject'));
        // CREATE TABLE t LIKE s / CREATE TABLE t (LIKE s)
        const like = cur.kw() === 'LIKE' ? 0 : cur.isPunct('(') && cur.kw(1) === 'LIKE' ? 1 : -1;
        if (like >= 0) {
          cur.pos += like + 1;
          names.push(tableName(cur, defaultDb, 'referenced'));
          return result('create_table', { temporary });
        }
        let select = false;
        scanReferences(cur, defaultDb, names, (c) => {
          if (c.kw() === 'SELECT') select = true;
          return false;
        });
        // CREATE TABLE ... SELECT is logged as a plain CREATE TABLE plus row events in ROW format;
        // a SELECT here reads tables we would have to map too.
        if (select) return result('unknown');
        return result('create_table', { temporary });
      }
      cur.accept('ONLINE', 'OFFLINE');
      cur.accept('UNIQUE', 'FULLTEXT', 'SPATIAL');
      if (cur.accept('INDEX', 'KEY')) {
        cur.acceptSeq('IF', 'NOT', 'EXISTS');
        cur.ident();
        if (cur.accept('USING')) cur.pos++;
        cur.expect('ON');
        names.push(tableName(cur, defaultDb, 'subject'));
        return result('create_index');
      }
      if (IGNORED_OBJECTS.has(cur.kw()) || (cur.kw() === 'DEFINER' && cur.isPunct('=', 1))) return result('ignore');
      return result('unknown');
    }
    case 'ALTER': {
      cur.accept('ONLINE', 'OFFLINE');
      cur.accept('IGNORE');
      if (!cur.accept('TABLE')) return result(IGNORED_OBJECTS.has(cur.kw()) ? 'ignore' : 'unknown');
      cur.acceptSeq('IF', 'EXISTS');
      names.push(tableName(cur, defaultDb, 'subject'));
      let depth = 0;
      let opaque = false;
      scanReferences(cur, defaultDb, names, (c) => {
        if (c.isPunct('(')) {
          depth++;
          c.pos++;
          return true;
        }
        if (c.isPunct(')')) {
          depth--;
          c.pos++;
          return true;
        }
        if (depth > 0) return false;
        // RENAME [TO|AS] name, but not RENAME COLUMN/INDEX/KEY
        if (c.kw() === 'RENAME' && !['COLUMN', 'INDEX', 'KEY'].includes(c.kw(1))) {
          c.pos++;
          c.accept('TO', 'AS');
          names.push(tableName(c, defaultDb, 'new_name'));
          return true;
        }
        // EXCHANGE PARTITION, DISCARD/IMPORT TABLESPACE move rows without row events
        if (c.kw() === 'EXCHANGE' || c.kw() === 'DISCARD' || c.kw() === 'IMPORT') opaque = true;
        return false;
      });
      return result(opaque ? 'unknown' : 'alter_table');
    }
    default:
      if (IGNORED_FIRST.has(first)) return result('ignore');
      return result('unknown');
  }
}

/** Upper bound on the statement text quoted in an error message. */
export function quoteStatement(statement: string, max = 300): string {
  const flat = statement.replace(/\s+/g, ' ').trim();
  return JSON.stringify(flat.length > max ? flat.slice(0, max) + '…' : flat);
}

/**
 * Print the statement back with every table name replaced by `map(span)`, always qualified with
 * its database (the target connection has no default database).
 */
export function rewriteDdl(parsed: ParsedDdl, map: (span: NameSpan) => TableRef): string {
  const replace = new Map<number, { to: number; text: string }>();
  for (const span of parsed.names) {
    const t = map(span);
    replace.set(span.from, { to: span.to, text: `${qid(t.db)}.${qid(t.table)}` });
  }
  let out = '';
  for (let i = 0; i < parsed.tokens.length; i++) {
    const r = replace.get(i);
    if (r) {
      out += r.text;
      i = r.to;
    } else {
      out += parsed.tokens[i]!.text;
    }
  }
  return out;
}

/** Every table the statement names, resolved (what DdlChange.tables reports). */
export function ddlTables(parsed: ParsedDdl): TableRef[] {
  const seen = new Set<string>();
  const out: TableRef[] = [];
  for (const n of parsed.names) {
    const k = JSON.stringify([n.ref.db, n.ref.table]);
    if (!seen.has(k)) {
      seen.add(k);
      out.push(n.ref);
    }
  }
  return out;
}
