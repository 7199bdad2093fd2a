/**
 * Connections in the single table. Item keys:
 *   P#<project>  CONN#<id>             the connection (secrets as ciphertexts)
 *   P#<project>  CONNNAME#<lower name> name claim (lib/store/name-claims.ts)
 */
import type { StoredConnection } from '../connections/connection.js';
import { ConcurrentUpdateError } from '../errors.js';
import { NameClaims } from './name-claims.js';
import { ConditionFailedError, perTable, type Item, type Table } from './table.js';

const projectPk = (projectId: string) => `P#${projectId}`;
const connSk = (id: string) => `CONN#${id}`;

type ConnItem = Item & { data: StoredConnection; version: number };

export class ConnectionStore {
  constructor(private readonly t: Table) {
    this.names = new NameClaims(t, 'CONN');
  }

  private readonly names: NameClaims;
  /** Claim a name for a connection id. False when another connection holds it. */
  claimName(projectId: string, name: string, connectionId: string): Promise<boolean> {
    return this.names.claim(projectId, name, connectionId);
  }
  releaseName(projectId: string, name: string, connectionId: string): Promise<void> {
    return this.names.release(projectId, name, connectionId);
  }

  async create(c: StoredConnection): Promise<void> {
    await this.t.put({ pk: projectPk(c.project_id), sk: connSk(c.connection_id), data: c, version: c.version }, { ifNotExists: true });
  }

  /** Optimistic write: fails with ConcurrentUpdateError when someone changed it since it was read. */
  async update(c: StoredConnection, expectedVersion: number): Promise<void> {
    try {
      await this.t.put({ pk: projectPk(c.project_id), sk: connSk(c.connection_id), data: c, version: c.version }, { expectedVersion });
    } catch (e) {
      if (e instanceof ConditionFailedError) throw new ConcurrentUpdateError(`connection ${c.connection_id}`, { cause: e });
      throw e;
    }
  }

  async get(projectId: string, id: string): Promise<StoredConnection | undefined> {
    return (await this.t.get<ConnItem>(projectPk(projectId), connSk(id)))?.data;
  }

  async list(projectId: string): Promise<StoredConnection[]> {
    return (await this.t.query<ConnItem>(projectPk(projectId), { skPrefix: 'CONN#' })).map((i) => i.data);
  }

  /** Delete; false when it was already gone. */
  async delete(projectId: string, id: string): Promise<boolean> {
    try {
      await this.t.delete(projectPk(projectId), connSk(id), { mustExist: true });
      return true;
    } catch (e) {
      if (e instanceof ConditionFailedError) return false;
      throw e;
    }
  }
}

export const connectionStore = perTable((t) => new ConnectionStore(t));
