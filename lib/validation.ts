/**
 * zod building blocks shared by every API schema: names, ports, ids, paging. One definition
 * each, so the same field is validated the same way in v3, v5 and OMS.
 */
import { z } from 'zod';

/** Resource names: 4–50 letters, digits, `-`, `_` (seed: connection and job names). */
export const ResourceName = z.string().regex(/^[A-Za-z0-9_-]{4,50}$/, 'must be 4 to 50 letters, digits, "-" or "_"');
/** Job names must also start with a letter (seed 7.2.6 / 7.6.8). */
export const JobName = z.string().regex(/^[A-Za-z][A-Za-z0-9_-]{3,49}$/, 'must be 4 to 50 characters, start with a letter, and contain only letters, digits, "-" or "_"');

/** Ids we issue are UUID-shaped: letters, digits and `-` only, so every signer agrees on the path. */
export const Id = z.string().regex(/^[A-Za-z0-9._~-]{1,64}$/, 'is not a valid id');

/** Ports travel as strings in v5 (`db_port` String) and as numbers in v3; accept both. */
export const Port = z
  .union([z.string().regex(/^\d{1,5}$/, 'must be a number from 1 to 65535'), z.number().int()])
  .transform((v) => Number(v))
  .refine((v) => v >= 1 && v <= 65535, 'must be a number from 1 to 65535');

export const Description = z.string().max(255, 'must be at most 255 characters');

/** Free text that ends up in logs and responses: no control characters. */
export const SafeText = (max: number) => z.string().max(max).regex(/^[^\u0000-\u0008\u000b\u000c\u000e-\u001f]*$/, 'contains control characters');

/** Hostnames or IP addresses. */
export const Host = z.string().min(1).max(255).regex(/^[A-Za-z0-9.:_%\[\]-]+$/, 'must be a hostname or IP address');

export const Bool = z.union([z.boolean(), z.enum(['true', 'false']).transform((v) => v === 'true')]);

/** `offset`/`limit` query parameters (strings on the wire). v5 pages are at most 1000. */
export const Offset = z.coerce.number().int().min(0).max(1_000_000).default(0);
export const Limit = (max = 1000, def = 10) => z.coerce.number().int().min(1).max(max).default(def);

/** A query parameter given once; repeated keys are refused rather than silently merged. */
export const Single = <T extends z.ZodType>(s: T) =>
  z.preprocess((v, ctx) => {
    if (!Array.isArray(v)) return v;
    ctx.addIssue({ code: 'custom', message: 'must be given once' });
    return z.NEVER;
  }, s);
