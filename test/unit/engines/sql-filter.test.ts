import { describe, expect, it } from 'vitest';
import { validateRowFilter } from '../../../lib/engines/sql-filter.js';
import { InvalidParameterError } from '../../../lib/errors.js';

describe('validateRowFilter', () => {
  it('accepts comparisons, boolean operators, IN, BETWEEN, LIKE and IS NULL and prints them canonically', () => {
    // Act
    const sql = validateRowFilter("id > 10 AND (name LIKE 'a%' OR `Status` IN ('new', 'old')) AND NOT deleted IS NULL AND amount BETWEEN 1.5 AND 2e3", 'mysql');

    // Assess
    expect(sql).toBe("((((`id` > 10) AND ((`name` LIKE 'a%') OR (`Status` IN ('new', 'old')))) AND (NOT (`deleted` IS NULL))) AND (`amount` BETWEEN 1.5 AND 2e3))");
  });

  it('quotes columns the PostgreSQL way and folds unquoted names to lower case', () => {
    expect(validateRowFilter('"Mixed Case" <> \'x\' and ID is not null', 'postgresql')).toBe(`(("Mixed Case" <> 'x') AND ("id" IS NOT NULL))`);
  });

  it('reads "..." as a string in MySQL and re-quotes it with single quotes', () => {
    expect(validateRowFilter(`name = "it's"`, 'mysql')).toBe("(`name` = 'it''s')");
  });

  it('keeps quote characters inside strings and names harmless', () => {
    expect(validateRowFilter("`a``b` = 'x''; DROP TABLE t; --'", 'mysql')).toBe("(`a``b` = 'x''; DROP TABLE t; --')");
    expect(validateRowFilter('"a""b" = \'?\'', 'postgresql')).toBe(`("a""b" = '?')`);
  });

  it('allows a few pure functions, NOT IN, NOT LIKE, NOT BETWEEN, arithmetic and negatives', () => {
    expect(validateRowFilter("lower(name) NOT LIKE 'x%' AND a NOT IN (1, -2) AND b NOT BETWEEN 1 AND 2 AND c * 2 + 1 >= 3 AND d IS TRUE", 'postgresql')).toBe(
      `(((((LOWER("name") NOT LIKE 'x%') AND ("a" NOT IN (1, (- 2)))) AND ("b" NOT BETWEEN 1 AND 2)) AND ((("c" * 2) + 1) >= 3)) AND ("d" IS TRUE))`,
    );
  });

  it('turns a bare word that is not a keyword into a column name, never a call', () => {
    expect(validateRowFilter('current_user = version', 'postgresql')).toBe(`("current_user" = "version")`);
  });

  const hostile: [string, string][] = [
    ['1=1; DROP TABLE x', ';'],
    ['id IN (SELECT id FROM other)', 'SELECT'],
    ['1=1 -- x', 'comment'],
    ['/*!50000 DROP*/ 1=1', 'comment'],
    ['1=1 /* x */', 'comment'],
    ['1=1 # x', 'comment'],
    ['sleep(5)', 'sleep'],
    ['SLEEP (5) = 0', 'SLEEP'],
    ['benchmark(1000000, md5(1))', 'BENCHMARK'],
    ['pg_sleep(5) IS NULL', 'PG_SLEEP'],
    ['1=1 UNION SELECT password FROM mysql.user', 'UNION'],
    ['id = 1 INTO OUTFILE \'/tmp/x\'', 'INTO'],
    ['@@version = 1', 'variables'],
    ['@x := 1', 'variables'],
    ["name = 'a\\' OR 1=1 -- '", 'backslash'],
    ["name = E'\\x41'", 'backslash'],
    ['id = $1', 'character'],
    ['id = ?', 'character'],
    ['id::text = \'1\'', 'character'],
    ['$$x$$ = 1', 'character'],
    ['version() = 1', 'version'],
    ['load_file(\'/etc/passwd\') IS NOT NULL', 'load_file'],
    ['"x"(1) = 1', '('],
    ['id = 1 OR', 'value'],
    ['id = = 1', '='],
    ["name = 'unterminated", 'unterminated'],
    ['id = 0x41', 'malformed'],
    ['EXISTS (1)', 'EXISTS'],
    ['a = 1 || b = 2', 'character'],
    ['a <=> b', '<=>'],
    ['(((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((1)))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))', 'nested'],
    ['', 'empty'],
    ["_utf8'x' = name", 'unexpected'],
    ['a = 1 2', 'unexpected'],
  ];
  for (const [expr, why] of hostile) {
    it(`rejects ${JSON.stringify(expr.slice(0, 60))}`, () => {
      // Act
      let err: unknown;
      try {
        validateRowFilter(expr, 'mysql');
      } catch (e) {
        err = e;
      }

      // Assess
      expect(err).toBeInstanceOf(InvalidParameterError);
      expect((err as Error).message.toLowerCase()).toContain(why.toLowerCase());
      expect(() => validateRowFilter(expr, 'postgresql')).toThrow(InvalidParameterError);
    });
  }

  it('reads backticks as column quotes in PostgreSQL too, so a filter printed for MySQL reads the same there', () => {
    const mysql = validateRowFilter("`Mixed` = 'x' AND `a``b` > 1", 'mysql');
    expect(validateRowFilter(mysql, 'postgresql')).toBe(`(("Mixed" = 'x') AND ("a\`b" > 1))`);
  });
});
