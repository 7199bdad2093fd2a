/**
 * What this deployment offers (seed 5.2.1 available-zone, 6.1.23 node-type), answered from the
 * deployment itself: one zone (the region the service runs in; locally `local`), and node sizes
 * that are degrees of parallelism (lib/steps/context.ts), none ever sold out. The engine type and
 * scenario are checked against what the service replicates, with the same error job creation
 * gives.
 */
import { z } from 'zod';
import { config } from '../../config.js';
import { enginesFor } from '../../job/spec.js';
import { Bool, SafeText, Single } from '../../validation.js';
import { NODE_TYPES } from './schemas.js';

const DbUseType = z.enum(['migration', 'sync', 'cloudDataGuard']);
const Direction = z.enum(['up', 'down', 'non-dbs'], { message: 'The value of job_direction is invalid.' });

export const AvailableZoneBodyV3 = z
  .object({
    engine_type: SafeText(64),
    db_use_type: DbUseType,
    job_direction: Direction,
    node_type: z.enum(NODE_TYPES, { message: `must be one of ${NODE_TYPES.join(', ')}` }),
    multi_write: z.union([Bool, z.literal('')]).optional(),
  })
  .strict()
  .refine((b) => b.multi_write !== true, { message: 'dual-active (multi-write) disaster recovery is not supported by this deployment', path: ['multi_write'] });

export function availableZonesV3(b: z.infer<typeof AvailableZoneBodyV3>) {
  enginesFor({ engineType: b.engine_type, jobType: b.db_use_type });
  const c = config();
  const code = c.DRS_RUNTIME === 'local' ? 'local' : c.AWS_REGION;
  return { az_infos: [{ code, name: c.DRS_RUNTIME === 'local' ? 'local (this machine)' : `${c.AWS_REGION} (AWS Lambda, all zones of the region)`, status: 'ENABLED' }] };
}

export const NodeTypeQueryV3 = z
  .object({
    engine_type: Single(SafeText(64)),
    db_use_type: Single(DbUseType),
    job_direction: Single(Direction),
    is_use_sellout_info: Single(Bool).optional(),
    is_multi_write: Single(Bool).optional(),
  })
  .strict()
  .refine((q) => q.is_multi_write !== true, { message: 'dual-active (multi-write) disaster recovery is not supported by this deployment', path: ['is_multi_write'] });

export function nodeTypesV3(q: z.infer<typeof NodeTypeQueryV3>) {
  enginesFor({ engineType: q.engine_type, jobType: q.db_use_type });
  return { node_types: NODE_TYPES.map((node_type) => ({ node_type, is_sellout: false })) };
}
