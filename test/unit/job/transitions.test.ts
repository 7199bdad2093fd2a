import { describe, expect, it } from 'vitest';
import { ACTIVE_STATUSES, canTransition, FOREIGN_STATUSES, JOB_STATUSES, TRANSITIONS, type JobStatus } from '../../../lib/job/transitions.js';

describe('the job transition table', () => {
  it('has a row for every status of the seed', () => {
    expect(Object.keys(TRANSITIONS).sort()).toEqual([...JOB_STATUSES].sort());
  });

  it('reaches every status this deployment uses from CREATING', () => {
    const seen = new Set<JobStatus>(['CREATING']);
    const queue: JobStatus[] = ['CREATING'];
    while (queue.length) for (const next of TRANSITIONS[queue.shift()!]) if (!seen.has(next)) queue.push(next), seen.add(next);
    const used = JOB_STATUSES.filter((s) => !FOREIGN_STATUSES.includes(s));
    expect([...seen].sort()).toEqual([...used].sort());
  });

  it('gives terminal and foreign statuses no exits', () => {
    expect(TRANSITIONS.DELETED).toEqual([]);
    for (const s of FOREIGN_STATUSES) expect(TRANSITIONS[s]).toEqual([]);
  });

  it('lets every running status be paused or terminated, and every paused or failed one resumed or terminated', () => {
    for (const s of ['FULL_TRANSFER_STARTED', 'INCRE_TRANSFER_STARTED'] as const) {
      expect(canTransition(s, 'PAUSING')).toBe(true);
      expect(canTransition(s, 'RELEASE_RESOURCE_STARTED')).toBe(true);
    }
    for (const s of ['PAUSING', 'FULL_TRANSFER_FAILED', 'INCRE_TRANSFER_FAILED', 'START_JOB_FAILED'] as const) {
      expect(canTransition(s, 'STARTJOBING')).toBe(true);
      expect(canTransition(s, 'RELEASE_RESOURCE_STARTED')).toBe(true);
    }
  });

  it('only deletes jobs that hold nothing', () => {
    const deletable = JOB_STATUSES.filter((s) => canTransition(s, 'DELETED'));
    expect(deletable.sort()).toEqual(['CONFIGURATION', 'CREATE_FAILED', 'RELEASE_RESOURCE_COMPLETE']);
  });

  it('marks as active exactly the statuses in which a workflow does work', () => {
    for (const s of ACTIVE_STATUSES) expect(TRANSITIONS[s].length).toBeGreaterThan(0);
  });
});
