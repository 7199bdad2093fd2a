/**
 * Names unique per project, case-insensitively, without transactions: a claim item
 * `P#<project> / <KIND>NAME#<lower name>` is written with attribute_not_exists before the
 * resource, so two racing creates with the same name cannot both win.
 */
import { ConditionFailedError, type Item, type Table } from './table.js';

export class NameClaims {
  constructor(
    private readonly t: Table,
    private readonly kind: string,
  ) {}

  private key(projectId: string, name: string) {
    return { pk: `P#${projectId}`, sk: `${this.kind}NAME#${name.toLowerCase()}` };
  }

  /** Claim `name` for `ownerId`. False when another owner holds it. */
  async claim(projectId: string, name: string, ownerId: string): Promise<boolean> {
    const { pk, sk } = this.key(projectId, name);
    try {
      await this.t.put({ pk, sk, ownerId }, { ifNotExists: true });
      return true;
    } catch (e) {
      if (!(e instanceof ConditionFailedError)) throw e;
      return (await this.t.get<Item & { ownerId: string }>(pk, sk))?.ownerId === ownerId;
    }
  }

  async isTaken(projectId: string, name: string): Promise<boolean> {
    const { pk, sk } = this.key(projectId, name);
    return (await this.t.get(pk, sk)) !== undefined;
  }

  async release(projectId: string, name: string, ownerId: string): Promise<void> {
    const { pk, sk } = this.key(projectId, name);
    try {
      await this.t.delete(pk, sk, { when: { ownerId } });
    } catch (e) {
      if (!(e instanceof ConditionFailedError)) throw e;
    }
  }
}
