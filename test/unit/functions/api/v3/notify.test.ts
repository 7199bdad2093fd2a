/**
 * batch-set-smn delivery: a job that fails is reported to the webhook given as topic_urn (a real
 * local HTTP server here) and in the job log; lag over the threshold is reported once per window.
 */
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handler as retry } from '../../../../../functions/api/v3/batch-restore-task.js';
import { handler as setSmn } from '../../../../../functions/api/v3/batch-set-smn.js';
import { LAG_REPEAT_MS, notifyJobEvent } from '../../../../../lib/job/notify.js';
import { jobStore } from '../../../../../lib/store/job-store.js';
import { drain } from '../../../../helpers/jobs.js';
import { startLocal, type LocalService } from '../../../../helpers/local.js';
import { v3 } from './helpers.js';

type H = (e: never, c: never) => Promise<unknown>;
let svc: LocalService;
let api: ReturnType<typeof v3>;
let hook: Server;
let hookUrl = '';
const received: Record<string, unknown>[] = [];

beforeAll(async () => {
  process.env.DRS_LOCAL_FAST_RETRY = '10';
  svc = await startLocal({ http: false });
  api = v3(svc.cred);
  hook = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      received.push(JSON.parse(body));
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => hook.listen(0, '127.0.0.1', () => r()));
  hookUrl = `http://127.0.0.1:${(hook.address() as { port: number }).port}/drs-alarm`;
});
afterAll(async () => {
  await drain();
  await svc.stop();
  await new Promise((r) => hook.close(r));
  delete process.env.DRS_LOCAL_FAST_RETRY;
});

describe('exception notifications', () => {
  it('posts a job failure to the webhook and writes it to the job log', async () => {
    const id = await api.job({ name: 'notify-fails' });
    const set = await api.send(setSmn as H, 'POST', '/jobs/batch-set-smn', { jobs: [{ job_id: id, status: 'CONFIGURATION', engine_type: 'mysql' }], alarm_notify_info: { topic_urn: hookUrl, alarm_to_user: true } });
    expect(set.status).toBe(200);
    // a paused job that is retried against an unreachable database fails
    await api.force(id, 'PAUSING', { run: { runId: 'r0', phase: 'full', startedAt: Date.now() } });
    expect((await api.send(retry as H, 'POST', '/jobs/batch-retry-task', { jobs: [{ job_id: id }] })).status).toBe(200);
    await drain();
    const job = await api.get(id);
    expect(job.status).toMatch(/FAILED$/);
    expect(received.find((r) => r.job_id === id)).toMatchObject({ event: 'job_failed', job_name: 'notify-fails', status: job.status });
    const logs = await jobStore().listLogs(job);
    expect(logs.some((l) => l.level === 'WARN' && l.message.includes('alarm (webhook (HTTP 204))'))).toBe(true);
  });

  it('reports lag over delay_time once per window, and not at all without a threshold or when alarms are off', async () => {
    const id = await api.job();
    await api.send(setSmn as H, 'POST', '/jobs/batch-set-smn', { jobs: [{ job_id: id, status: 'CONFIGURATION', engine_type: 'mysql' }], alarm_notify_info: { topic_urn: 'urn:smn:eu-west-1:0123:drs', delay_time: 5 } });
    const job = await api.get(id);
    const posts: unknown[] = [];
    const deps = { jobs: jobStore(), post: async (_u: string, b: unknown) => (posts.push(b), 200), now: () => 1_000_000 };
    expect(await notifyJobEvent(job, { kind: 'lag', lagMillis: 4_000 }, deps)).toBe(false);
    // an SMN topic has no endpoint here: delivered as a log line (not a webhook)
    expect(await notifyJobEvent(job, { kind: 'lag', lagMillis: 6_000 }, deps)).toBe(false);
    expect((await jobStore().listLogs(job)).filter((l) => l.message.includes('6 s behind its source')).length).toBe(1);
    await notifyJobEvent(job, { kind: 'lag', lagMillis: 7_000 }, { ...deps, now: () => 1_000_000 + LAG_REPEAT_MS - 1 });
    expect((await jobStore().listLogs(job)).filter((l) => l.message.includes('behind its source')).length).toBe(1);
    const hooked = { ...job, alarmNotify: { ...job.alarmNotify, webhook_url: 'http://hook.invalid/x' } };
    expect(await notifyJobEvent(hooked, { kind: 'lag', lagMillis: 9_000 }, { ...deps, now: () => 1_000_000 + LAG_REPEAT_MS + 1 })).toBe(true);
    expect(posts).toHaveLength(1);
    expect(await notifyJobEvent({ ...job, alarmNotify: { ...job.alarmNotify, alarm_to_user: false } }, { kind: 'failed', message: 'x' }, deps)).toBe(false);
  });
  it('publishes to an AWS SNS topic given as topic_urn', async () => {
    const id = await api.job();
    await api.send(setSmn as H, 'POST', '/jobs/batch-set-smn', { jobs: [{ job_id: id, status: 'CONFIGURATION', engine_type: 'mysql' }], alarm_notify_info: { topic_urn: 'arn:aws:sns:eu-west-1:123456789012:drs-alarms', alarm_to_user: true } });
    const job = await api.get(id);
    const published: { topic: string; subject: string; message: string }[] = [];
    const deps = { jobs: jobStore(), publish: async (topic: string, subject: string, message: string) => void published.push({ topic, subject, message }) };
    expect(await notifyJobEvent(job, { kind: 'failed', message: 'boom' }, deps)).toBe(true);
    expect(published).toHaveLength(1);
    expect(published[0].topic).toBe('arn:aws:sns:eu-west-1:123456789012:drs-alarms');
    expect(JSON.parse(published[0].message)).toMatchObject({ event: 'job_failed', job_id: id });
    const failing = { jobs: jobStore(), publish: async () => Promise.reject(new Error('AccessDenied')) };
    expect(await notifyJobEvent(job, { kind: 'failed', message: 'again' }, failing)).toBe(false);
    expect((await jobStore().listLogs(job)).some((l) => l.message.includes('publishing to SNS failed: AccessDenied'))).toBe(true);
  });
});
