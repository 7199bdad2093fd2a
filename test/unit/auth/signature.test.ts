import { describe, expect, it } from 'vitest';
import { canonicalQuery, canonicalRequest, canonicalUri, parseAuthorization, parseSdkDate, sign, stringToSign, verifySignature } from '../../../lib/auth/signature.js';
import { huaweiSign } from '../../helpers/huawei.js';

const PROJECT = '0123456789abcdef0123456789abcdef';
const headers = { 'content-type': 'application/json', host: '127.0.0.1:18080', 'x-project-id': PROJECT, 'x-sdk-date': '20240101T000000Z' };
const signed = ['content-type', 'host', 'x-project-id', 'x-sdk-date'];
const at = new Date('2024-01-01T00:05:00Z');
const secrets = async (ak: string) => (ak === 'TESTAK' ? 'TESTSK' : undefined);

describe('SDK-HMAC-SHA256 test vectors (spec/auth-signing.md 5.6)', () => {
  it('vector 1: POST batch-status with a JSON body', async () => {
    // Prepare
    const req = { method: 'POST', rawPath: `/v3/${PROJECT}/jobs/batch-status`, rawQuery: '', headers, body: Buffer.from('{"jobs":["job-1"]}') };

    // Act
    const canonical = canonicalRequest(req, signed);

    // Assess
    expect(canonical).toBe(
      ['POST', `/v3/${PROJECT}/jobs/batch-status/`, '', ...signed.map((h) => `${h}:${headers[h as keyof typeof headers]}`), '', signed.join(';'), '79c8bc26b6fa0c656a68e55307a5906c0a498dff6b3b9aeffcbb50fdd8388fd1'].join('\n'),
    );
    expect(sign('TESTSK', stringToSign('20240101T000000Z', canonical))).toBe('ed23224e4f778a1ded4de6fa2efd8a2633352a2bcde936c2ec234b0ad548bf7f');
    const authorization = `SDK-HMAC-SHA256 Access=TESTAK, SignedHeaders=${signed.join(';')}, Signature=ed23224e4f778a1ded4de6fa2efd8a2633352a2bcde936c2ec234b0ad548bf7f`;
    await expect(verifySignature({ ...req, headers: { ...headers, authorization } }, secrets, at)).resolves.toBe('TESTAK');
  });

  it('vector 2: GET with an unordered, encoded query and no body', async () => {
    const req = { method: 'GET', rawPath: `/v5/${PROJECT}/jobs`, rawQuery: 'job_type=migration&name=a%20b&limit=10', headers, body: Buffer.alloc(0) };
    expect(canonicalQuery(req.rawQuery)).toBe('job_type=migration&limit=10&name=a%20b');
    const signature = sign('TESTSK', stringToSign('20240101T000000Z', canonicalRequest(req, signed)));
    expect(signature).toBe('b22b0632141e5523eb77fed5046462a64d86870be8b6d05e99f492ab2488a193');
  });
});

describe('canonical form', () => {
  it('appends a trailing slash and re-encodes each decoded path segment', () => {
    expect(canonicalUri('/v5/p/jobs')).toBe('/v5/p/jobs/');
    expect(canonicalUri('/v5/p/jobs/')).toBe('/v5/p/jobs/');
    expect(canonicalUri('/v5/p/a%20b/%7Ex')).toBe('/v5/p/a%20b/~x/');
  });

  it('sorts repeated query keys by value and encodes * as %2A even when sent raw', () => {
    expect(canonicalQuery('b=2&a=z&a=y')).toBe('a=y&a=z&b=2');
    expect(canonicalQuery('name=a%20b%2F%C3%BC*~')).toBe('name=a%20b%2F%C3%BC%2A~');
    expect(canonicalQuery('q=a+b')).toBe('q=a%20b');
  });

  it('accepts only well-formed X-Sdk-Date values', () => {
    expect(parseSdkDate('20240101T000000Z')?.toISOString()).toBe('2024-01-01T00:00:00.000Z');
    expect(parseSdkDate('20240231T000000Z')).toBeUndefined();
    expect(parseSdkDate('2024-01-01T00:00:00Z')).toBeUndefined();
    expect(parseSdkDate(undefined)).toBeUndefined();
  });
});

describe('verifySignature against the official Node SDK signer', () => {
  const cred = { accessKey: 'TESTAK', secretKey: 'TESTSK', projectId: PROJECT };
  const host = '127.0.0.1:18080';
  const lower = (h: Record<string, string>) => Object.fromEntries(Object.entries(h).map(([k, v]) => [k.toLowerCase(), v]));

  function signedReq(over: { query?: Record<string, string | string[]>; rawQuery?: string; body?: unknown; date?: string } = {}) {
    const h = lower(huaweiSign({ method: 'POST', host, path: `/v5/${PROJECT}/jobs`, query: over.query, body: over.body, cred, date: over.date ?? '20240101T000000Z' }));
    return { method: 'POST', rawPath: `/v5/${PROJECT}/jobs`, rawQuery: over.rawQuery ?? '', headers: h, body: Buffer.from(over.body === undefined ? '' : JSON.stringify(over.body)) };
  }

  it('accepts what the SDK signs, including unicode and reserved characters in the query', async () => {
    const req = signedReq({ query: { name: 'a b/ü*~', limit: '10' }, rawQuery: 'name=a%20b%2F%C3%BC*~&limit=10', body: { job: { name: 'x' } } });
    await expect(verifySignature(req, secrets, at)).resolves.toBe('TESTAK');
  });

  it('refuses a body changed after signing', async () => {
    const req = signedReq({ body: { a: 1 } });
    await expect(verifySignature({ ...req, body: Buffer.from('{"a":2}') }, secrets, at)).rejects.toMatchObject({ status: 401, message: /does not match/ });
  });

  it('refuses a path or query changed after signing', async () => {
    const req = signedReq({ query: { limit: '10' }, rawQuery: 'limit=10' });
    await expect(verifySignature({ ...req, rawQuery: 'limit=11' }, secrets, at)).rejects.toMatchObject({ status: 401 });
    await expect(verifySignature({ ...req, rawQuery: 'limit=10&limit=10' }, secrets, at)).rejects.toMatchObject({ status: 401 });
    await expect(verifySignature({ ...req, rawPath: req.rawPath + 'x' }, secrets, at)).rejects.toMatchObject({ status: 401 });
  });

  it('refuses requests outside the 15-minute window, in the past and in the future', async () => {
    const req = signedReq();
    await expect(verifySignature(req, secrets, new Date('2024-01-01T00:15:01Z'))).rejects.toMatchObject({ message: /window/ });
    await expect(verifySignature(req, secrets, new Date('2023-12-31T23:44:59Z'))).rejects.toMatchObject({ message: /window/ });
  });

  it('refuses an unknown access key and a wrong secret without telling them apart', async () => {
    const req = signedReq();
    const unknown = await verifySignature(req, async () => undefined, at).catch((e) => e.message);
    const wrong = await verifySignature(req, async () => 'OTHER', at).catch((e) => e.message);
    expect(unknown).toBe(wrong);
  });

  it('refuses UNSIGNED-PAYLOAD on a request with a body, so a JSON body is always covered', async () => {
    const h = lower(huaweiSign({ method: 'POST', host, path: `/v5/${PROJECT}/jobs`, contentSha256: 'UNSIGNED-PAYLOAD', cred, date: '20240101T000000Z' }));
    const req = { method: 'POST', rawPath: `/v5/${PROJECT}/jobs`, rawQuery: '', headers: h, body: Buffer.alloc(0) };
    await expect(verifySignature(req, secrets, at)).resolves.toBe('TESTAK');
    await expect(verifySignature({ ...req, body: Buffer.from('{"a":1}') }, secrets, at)).rejects.toMatchObject({ status: 401 });
  });

  it('refuses malformed Authorization headers and unsigned host', async () => {
    const req = signedReq();
    for (const authorization of ['Basic abc', 'SDK-HMAC-SHA256 Access=TESTAK', `SDK-HMAC-SHA256 Access=TESTAK, SignedHeaders=x-sdk-date, Signature=${'0'.repeat(64)}`]) {
      await expect(verifySignature({ ...req, headers: { ...req.headers, authorization } }, secrets, at)).rejects.toMatchObject({ status: 401 });
    }
  });
});

describe('strict parsing (hardening)', () => {
  it('refuses dates that only exist by rolling over', () => {
    for (const d of ['20241301T000000Z', '20240101T250000Z', '20240101T006000Z', '20240101T000060Z', '00990101T000000Z']) expect(parseSdkDate(d), d).toBeUndefined();
    expect(parseSdkDate('20241231T235959Z')?.toISOString()).toBe('2024-12-31T23:59:59.000Z');
  });

  it('refuses an Authorization header with a repeated or unknown field, or two headers joined', async () => {
    const good = `SDK-HMAC-SHA256 Access=TESTAK, SignedHeaders=${signed.join(';')}, Signature=${'a'.repeat(64)}`;
    for (const h of [`${good}, Signature=${'b'.repeat(64)}`, `${good}, Extra=1`, `${good},${good}`, `${good}, `]) {
      expect(() => parseAuthorization(h), h).toThrow(/malformed/);
    }
    expect(parseAuthorization(good).accessKey).toBe('TESTAK');
  });

  it('refuses CR/LF in a signed header value instead of canonicalizing it', () => {
    const req = { method: 'GET', rawPath: '/v5/p/jobs', rawQuery: '', headers: { ...headers, 'x-project-id': 'p\r\nx-sdk-date:20240101T000000Z' }, body: Buffer.alloc(0) };
    expect(() => canonicalRequest(req, signed)).toThrow(/control character/);
  });
});
