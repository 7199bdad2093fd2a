/**
 * Replication positions as users write them: MySQL `file.000123:456` (+ GTID set), PostgreSQL
 * LSN `0/16B3748`. Used by start-position, db-position and monitor-data.
 */
import type { CdcPosition } from '../engines/engine.js';
import { InvalidParameterError } from '../errors.js';

export function formatPosition(p: CdcPosition | undefined): string {
  if (!p) return '';
  return p.kind === 'mysql' ? `${p.file}:${p.pos}` : p.lsn;
}

export function parseMySqlPosition(fileAndPosition: string | undefined, gtidSet: string | undefined): CdcPosition {
  let file = '';
  let pos = 4;
  if (fileAndPosition) {
    const m = /^([A-Za-z0-9._-]{1,90})[.:](\d{1,12})$/.exec(fileAndPosition.trim());
    const m2 = /^(.+\.\d+):(\d+)$/.exec(fileAndPosition.trim());
    const hit = m2 ?? m;
    if (!hit) throw new InvalidParameterError('file_and_position', 'must be "<binlog file>:<position>", e.g. mysql-bin.000277:805');
    file = hit[1];
    pos = Number(hit[2]);
  }
  if (gtidSet !== undefined && gtidSet !== '' && !/^[0-9A-Fa-f:,\s-]+$/.test(gtidSet)) throw new InvalidParameterError('gtid_set', 'is not a GTID set');
  if (!file && !gtidSet) throw new InvalidParameterError('file_and_position', 'give a binlog file and position or a GTID set');
  return { kind: 'mysql', file, pos, ...(gtidSet ? { gtid: gtidSet.replace(/\s+/g, '') } : {}) };
}

export function parseLsn(lsn: string): CdcPosition {
  if (!/^[0-9A-Fa-f]{1,8}\/[0-9A-Fa-f]{1,8}$/.test(lsn.trim())) throw new InvalidParameterError('file_and_position', 'must be a PostgreSQL LSN such as 0/16B3748');
  return { kind: 'postgresql', lsn: lsn.trim().toUpperCase() };
}

/** LSN as a comparable bigint. */
export function lsnValue(lsn: string): bigint {
  const [hi, lo] = lsn.split('/');
  return (BigInt(`0x${hi}`) << 32n) + BigInt(`0x${lo}`);
}
