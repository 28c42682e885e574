import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { turnCredentials } from '../../src/server/turnCredentials';

describe('turnCredentials (coturn REST-API shared secret)', () => {
  it('username is <expiry>:<id>, credential base64(HMAC-SHA1(secret, username))', () => {
    const [server] = turnCredentials({ urls: ['turn:127.0.0.1:3478?transport=udp'], secret: 'north', ttlSeconds: 600 }, 'pe:er', 1_700_000_000_999);
    expect(server.urls).toEqual(['turn:127.0.0.1:3478?transport=udp']);
    expect(server.username).toBe('1700000600:peer');
    // A value computed independently (openssl dgst -sha1 -hmac north -binary | base64) for that username.
    expect(server.credential).toBe('S4f/8bGZZsnmd4N+HVqSTjcmomU=');
    expect(server.credential).toBe(createHmac('sha1', 'north').update('1700000600:peer').digest('base64'));
    expect(server.credential).toMatch(/^[A-Za-z0-9+/]{27}=$/);
  });

  it('defaults to one hour', () => {
    const [server] = turnCredentials({ urls: ['turn:x'], secret: 's' }, 'a', 0);
    expect(server.username).toBe('3600:a');
  });
});
